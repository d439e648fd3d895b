//! How pages start and drive the widget: the script tag's `data-` attributes, and the
//! `window.factmark` API with its `factmark:*` events on `document`.

use factmark_core::model::Flag;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::config::Config;
use crate::widget::{self, act, dispatch, stats_object, to_js};

const ATTRIBUTES: [&str; 5] = ["root", "source", "endpoint", "locale", "manual"];

/// Entry point called by `dist/factmark.js` with its own URL: installs `window.factmark`, then
/// mounts if the page embedded the script with a tag (unless it says `data-manual`).
#[wasm_bindgen]
pub fn boot(script_url: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(document) = window.document() else {
        return;
    };
    install_api(&window);
    crate::dom::highlight::prepare_page(&document);
    let Some(script) = find_script(&document, script_url) else {
        return;
    };
    let config = Config::from_pairs(
        ATTRIBUTES
            .iter()
            .filter_map(|name| Some((*name, script.get_attribute(&format!("data-{name}"))?))),
    );
    if config.manual {
        return;
    }
    if document.ready_state() == "loading" {
        let once = web_sys::AddEventListenerOptions::new();
        once.set_once(true);
        let start = Closure::once_into_js(move || mount_or_report(config));
        let _ = document.add_event_listener_with_callback_and_add_event_listener_options(
            "DOMContentLoaded",
            start.unchecked_ref(),
            &once,
        );
    } else {
        mount_or_report(config);
    }
}

fn find_script(document: &Document, script_url: &str) -> Option<Element> {
    let scripts = document.query_selector_all("script[src]").ok()?;
    (0..scripts.length())
        .filter_map(|i| scripts.get(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlScriptElement>().ok())
        .find(|s| s.src() == script_url)
        .map(Into::into)
}

fn mount_or_report(config: Config) {
    if let Err(message) = mount(config) {
        web_sys::console::error_1(&format!("factmark: {message}").into());
    }
}

fn mount(config: Config) -> Result<(), String> {
    widget::mount(config).map(|_| ()).inspect_err(|message| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            let detail = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&detail, &"message".into(), &message.as_str().into());
            dispatch(&document, "factmark:error", &detail);
        }
    })
}

fn error(message: impl AsRef<str>) -> JsValue {
    js_sys::Error::new(message.as_ref()).into()
}

fn not_mounted() -> JsValue {
    error(
        "factmark is not mounted: call factmark.mount() or embed the script with data- attributes",
    )
}

fn text_of(value: &JsValue) -> Option<String> {
    if let Some(s) = value.as_string() {
        return Some(s);
    }
    if value.is_undefined() || value.is_null() {
        return None;
    }
    js_sys::JSON::stringify(value).ok().map(String::from)
}

fn method(
    object: &js_sys::Object,
    name: &str,
    f: impl Fn(JsValue, JsValue) -> Result<JsValue, JsValue> + 'static,
) {
    let closure = Closure::<dyn Fn(JsValue, JsValue) -> Result<JsValue, JsValue>>::new(f);
    let _ = js_sys::Reflect::set(object, &name.into(), &closure.into_js_value());
}

fn install_api(window: &web_sys::Window) {
    let api = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&api, &"version".into(), &env!("CARGO_PKG_VERSION").into());

    method(&api, "mount", |options, _| {
        let keys = ["root", "source", "endpoint", "locale"];
        let pairs = keys.iter().filter_map(|key| {
            let value = js_sys::Reflect::get(&options, &(*key).into()).ok()?;
            Some((*key, value.as_string()?))
        });
        let config = Config::from_pairs(pairs.collect::<Vec<_>>());
        mount(config).map(|_| JsValue::UNDEFINED).map_err(error)
    });
    method(&api, "unmount", |_, _| Ok(widget::unmount().into()));
    method(&api, "annotations", |_, _| {
        act(|w| w.annotations_js()).ok_or_else(not_mounted)
    });
    method(&api, "anchors", |_, _| {
        act(|w| w.anchors_js()).ok_or_else(not_mounted)
    });
    method(&api, "stats", |_, _| {
        act(|w| stats_object(w.stats())).ok_or_else(not_mounted)
    });
    method(&api, "flagSelection", |flag, note| {
        let flag: Flag = flag
            .as_string()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| error("flagSelection: flag must be \"unverified\" or \"fabricated\""))?;
        let note = note.as_string();
        act(|w| w.flag_selection(flag, note.as_deref()))
            .ok_or_else(not_mounted)?
            .map(|annotation| to_js(&annotation))
            .map_err(error)
    });
    method(&api, "remove", |id, _| {
        let id = id
            .as_string()
            .ok_or_else(|| error("remove: give an annotation id"))?;
        act(|w| w.delete(&id).into()).ok_or_else(not_mounted)
    });
    method(&api, "import", |json, _| {
        let json = text_of(&json)
            .ok_or_else(|| error("import: give W3C annotation JSON (a string or an object)"))?;
        let report = act(|w| w.import(&json)).ok_or_else(not_mounted)?;
        let result = js_sys::Object::new();
        let refused = js_sys::Array::new();
        for (index, id, reason) in report.refused {
            let r = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&r, &"index".into(), &(index as u32).into());
            let _ = js_sys::Reflect::set(&r, &"id".into(), &id.map_or(JsValue::NULL, Into::into));
            let _ = js_sys::Reflect::set(&r, &"reason".into(), &reason.into());
            refused.push(&r);
        }
        let _ = js_sys::Reflect::set(&result, &"added".into(), &(report.added as u32).into());
        let _ = js_sys::Reflect::set(&result, &"updated".into(), &(report.updated as u32).into());
        let _ = js_sys::Reflect::set(&result, &"refused".into(), &refused);
        Ok(result.into())
    });
    method(&api, "export", |format, _| {
        let format = format.as_string().unwrap_or_else(|| "jsonld".into());
        act(|w| w.export(&format))
            .ok_or_else(not_mounted)?
            .map(Into::into)
            .map_err(error)
    });
    #[cfg(feature = "bench-hook")]
    crate::bench::install(&api);
    let _ = js_sys::Reflect::set(window, &"factmark".into(), &api);
}
