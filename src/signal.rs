//! Shared state for the UI: a value that tells the UI when it changed.
//!
//! A [`Signal`] is a copyable handle to a value in a per-thread arena. Every change bumps the
//! value's version and schedules one render for the end of the current task; each UI region
//! re-renders only if the versions it reads moved. This is all the reactivity the widget
//! needs, for a fraction of the code a general reactive runtime adds to the wasm.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

struct Slot {
    value: Box<dyn Any>,
    version: u64,
}

thread_local! {
    static SLOTS: RefCell<Vec<Option<Slot>>> = const { RefCell::new(Vec::new()) };
    static RENDER: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

pub struct Signal<T: 'static> {
    slot: usize,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for Signal<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Signal<T> {}

impl<T: 'static> Signal<T> {
    pub fn new(value: T) -> Signal<T> {
        let slot = SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            slots.push(Some(Slot {
                value: Box::new(value),
                version: 0,
            }));
            slots.len() - 1
        });
        Signal {
            slot,
            _value: PhantomData,
        }
    }

    /// Reads the value; `None` once the signal is disposed (the widget was unmounted).
    pub fn try_with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        SLOTS.with(|slots| {
            let slots = slots.borrow();
            let value = slots.get(self.slot)?.as_ref()?.value.downcast_ref::<T>()?;
            Some(f(value))
        })
    }

    /// Reads the value. Panics if the signal was disposed: only the mounted widget reads.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.try_with(f).expect("signal read after unmount")
    }

    pub fn with_untracked<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.with(f)
    }

    pub fn try_with_untracked<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.try_with(f)
    }

    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    pub fn get_untracked(&self) -> T
    where
        T: Clone,
    {
        self.get()
    }

    /// Changes the value and schedules a render; does nothing once disposed.
    pub fn update(&self, f: impl FnOnce(&mut T)) {
        let changed = SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            let Some(Some(slot)) = slots.get_mut(self.slot) else {
                return false;
            };
            let Some(value) = slot.value.downcast_mut::<T>() else {
                return false;
            };
            f(value);
            slot.version += 1;
            true
        });
        if changed {
            schedule_render();
        }
    }

    pub fn set(&self, value: T) {
        self.update(|v| *v = value);
    }

    /// Sets the value; gives it back if the signal was disposed.
    pub fn try_set(&self, value: T) -> Option<T> {
        if self.try_with(|_| ()).is_none() {
            return Some(value);
        }
        self.set(value);
        None
    }

    /// Counts changes: a region re-renders when the versions it depends on moved.
    pub fn version(&self) -> u64 {
        SLOTS.with(|slots| {
            slots
                .borrow()
                .get(self.slot)
                .and_then(|s| s.as_ref())
                .map_or(0, |s| s.version)
        })
    }

    /// Frees the value; later reads get `None`, later writes are ignored.
    pub fn dispose(&self) {
        let value =
            SLOTS.with(|slots| slots.borrow_mut().get_mut(self.slot).and_then(Option::take));
        // Dropped outside the borrow: a value's destructor may touch other signals.
        drop(value);
    }
}

/// What runs after changes: the UI's render. `None` stops rendering (unmount).
pub fn set_renderer(render: Option<Rc<dyn Fn()>>) {
    RENDER.with(|r| *r.borrow_mut() = render);
}

/// One render per task, however many signals changed in it.
fn schedule_render() {
    if SCHEDULED.with(|s| s.replace(true)) {
        return;
    }
    let run = Closure::once_into_js(|| {
        SCHEDULED.with(|s| s.set(false));
        if let Some(render) = RENDER.with(|r| r.borrow().clone()) {
            render();
        }
    });
    if let Some(window) = web_sys::window() {
        window.queue_microtask(run.unchecked_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_changes_and_disposed_signals_refuse_politely() {
        let s = Signal::new(1);
        let v0 = s.version();
        // Rendering is scheduled through a JS promise, so only read paths are exercised here.
        assert_eq!(s.get(), 1);
        assert_eq!(s.try_with(|v| *v + 1), Some(2));
        s.dispose();
        assert_eq!(s.try_with(|v| *v), None);
        assert_eq!(s.try_set(5), Some(5));
        assert_eq!(s.version(), 0);
        let _ = v0;
    }
}
