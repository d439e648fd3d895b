//! Event listeners that remove themselves when dropped, so unmounting leaves nothing behind.

use wasm_bindgen::prelude::*;
use web_sys::{AddEventListenerOptions, EventTarget};

pub struct Listener {
    target: EventTarget,
    event: &'static str,
    capture: bool,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    pub fn new(
        target: &EventTarget,
        event: &'static str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Listener {
        Listener::with_capture(target, event, false, f)
    }

    /// A listener that may call `preventDefault` (keyboard shortcuts).
    pub fn active(
        target: &EventTarget,
        event: &'static str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Listener {
        Listener::build(target, event, false, false, f)
    }

    /// Passive: these listeners never cancel the page's scrolling or input.
    pub fn with_capture(
        target: &EventTarget,
        event: &'static str,
        capture: bool,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Listener {
        Listener::build(target, event, capture, true, f)
    }

    fn build(
        target: &EventTarget,
        event: &'static str,
        capture: bool,
        passive: bool,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Listener {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        let options = AddEventListenerOptions::new();
        options.set_capture(capture);
        options.set_passive(passive);
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
            event,
            callback.as_ref().unchecked_ref(),
            &options,
        );
        Listener {
            target: target.clone(),
            event,
            capture,
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback_and_bool(
            self.event,
            self.callback.as_ref().unchecked_ref(),
            self.capture,
        );
    }
}
