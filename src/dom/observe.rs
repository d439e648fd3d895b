//! Pages change after load (late content, live edits): watch the root and re-anchor, debounced.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use web_sys::{Element, MutationObserver, MutationObserverInit, MutationRecord, Node};

/// Quiet time before re-anchoring, and the longest a steady stream of changes may delay it.
const QUIET_MS: u32 = 150;
const MAX_DELAY_MS: f64 = 1000.0;

pub struct Observer {
    observer: MutationObserver,
    _callback: Closure<dyn FnMut(js_sys::Array, MutationObserver)>,
    pending: Rc<RefCell<Option<Timeout>>>,
}

impl Observer {
    /// Calls `on_change` once the root's text may have changed and the changes have settled.
    /// Changes to the widget's own host (`ignore`) are not the page's.
    pub fn watch(
        root: &Element,
        ignore: &Element,
        on_change: impl Fn() + 'static,
    ) -> Result<Observer, JsValue> {
        let pending: Rc<RefCell<Option<Timeout>>> = Rc::default();
        let first_change_at: Rc<Cell<Option<f64>>> = Rc::default();
        let on_change = Rc::new(on_change);
        let ignore = ignore.clone();
        let timer = pending.clone();
        let callback = Closure::<dyn FnMut(js_sys::Array, MutationObserver)>::new(
            move |records: js_sys::Array, _| {
                let relevant = records.iter().any(|r| !is_own(r.unchecked_ref(), &ignore));
                if !relevant {
                    return;
                }
                let now = js_sys::Date::now();
                let first = first_change_at.get().unwrap_or(now);
                first_change_at.set(Some(first));
                let delay = if now - first >= MAX_DELAY_MS {
                    0
                } else {
                    QUIET_MS
                };
                let on_change = on_change.clone();
                let first_change_at = first_change_at.clone();
                // Replacing the timeout cancels the previous one.
                *timer.borrow_mut() = Some(Timeout::new(delay, move || {
                    first_change_at.set(None);
                    on_change();
                }));
            },
        );
        let observer = MutationObserver::new(callback.as_ref().unchecked_ref())?;
        let init = MutationObserverInit::new();
        init.set_child_list(true);
        init.set_subtree(true);
        init.set_character_data(true);
        init.set_attribute_filter(&js_sys::Array::of1(&"hidden".into()));
        observer.observe_with_options(root, &init)?;
        Ok(Observer {
            observer,
            _callback: callback,
            pending,
        })
    }

    pub fn disconnect(&self) {
        self.observer.disconnect();
        self.pending.borrow_mut().take();
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// A mutation of the widget host itself: appending it to `<body>`, or anything inside it.
fn is_own(record: &MutationRecord, host: &Element) -> bool {
    let host_node: &Node = host.as_ref();
    if record
        .target()
        .is_some_and(|t| host_node.contains(Some(&t)))
    {
        return true;
    }
    if record.type_() != "childList" {
        return false;
    }
    let only_host = |list: web_sys::NodeList| {
        (0..list.length()).all(|i| list.get(i).is_some_and(|n| n.is_same_node(Some(host_node))))
    };
    let added = record.added_nodes();
    let removed = record.removed_nodes();
    added.length() + removed.length() > 0 && only_host(added) && only_host(removed)
}
