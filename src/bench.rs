//! `window.factmark.bench`: the widget's anchoring and highlighting alone, for the browser
//! benchmarks (bench/run.mjs), doing the same per-call work as the plain-JavaScript floor: read
//! the root's text, anchor every selector, end in DOM Ranges. Only in the sync build (the
//! `bench-hook` feature), which pages with `data-manual` load: reader pages do not carry it.
//!
//! - `anchor(selectors, root?)`: `selectors` is an array of `{exact, prefix?, suffix?, start?,
//!   end?}` (positions in code points); `root` defaults to the first `<article>`. Returns one
//!   `Range` or `null` (orphan) per selector.
//! - `highlight(ranges)`: shows exactly these ranges in the `factmark-unverified` highlight, as
//!   the widget's highlighter does, registering it if no widget did.

use factmark_core::anchor::{Anchorer, Span};
use factmark_core::model::{Selectors, TextPositionSelector, TextQuoteSelector};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::dom::highlight::highlight_name;
use crate::dom::js::{CssHighlight, CssHighlightRegistry};
use crate::dom::text::PageText;
use factmark_core::model::Flag;

/// Adds `bench` to the `window.factmark` object.
pub fn install(api: &Object) {
    let bench = Object::new();
    let anchor = Closure::<dyn Fn(JsValue, JsValue) -> Result<JsValue, JsValue>>::new(anchor);
    let highlight = Closure::<dyn Fn(JsValue) -> Result<JsValue, JsValue>>::new(highlight);
    let _ = Reflect::set(&bench, &"anchor".into(), &anchor.into_js_value());
    let _ = Reflect::set(&bench, &"highlight".into(), &highlight.into_js_value());
    let _ = Reflect::set(api, &"bench".into(), &bench);
}

fn anchor(selectors: JsValue, root: JsValue) -> Result<JsValue, JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let root = match root.dyn_into::<web_sys::Element>() {
        Ok(root) => root,
        Err(_) => document.query_selector("article")?.ok_or("no <article>")?,
    };
    let page = PageText::read(&root)?;
    let list: Array = selectors.dyn_into()?;
    let keys: [JsValue; 5] = ["exact", "prefix", "suffix", "start", "end"].map(JsValue::from);
    let get = |o: &JsValue, k: usize| Reflect::get(o, &keys[k]).unwrap_or(JsValue::UNDEFINED);
    let selectors: Vec<Selectors> = list
        .iter()
        .map(|s| {
            let (start, end) = (get(&s, 3).as_f64(), get(&s, 4).as_f64());
            Selectors {
                quote: TextQuoteSelector {
                    exact: get(&s, 0).as_string().unwrap_or_default(),
                    prefix: get(&s, 1).as_string(),
                    suffix: get(&s, 2).as_string(),
                },
                position: start.zip(end).map(|(start, end)| TextPositionSelector {
                    start: start as usize,
                    end: end as usize,
                }),
            }
        })
        .collect();
    let ranges = Array::new_with_length(selectors.len() as u32);
    for (i, resolution) in Anchorer::new(page.text())
        .resolve_all(&selectors)
        .iter()
        .enumerate()
    {
        let range = resolution.anchor().and_then(|a| {
            page.range(Span {
                start: a.start,
                end: a.end,
            })
        });
        ranges.set(i as u32, range.map_or(JsValue::NULL, Into::into));
    }
    Ok(ranges.into())
}

fn highlight(ranges: JsValue) -> Result<JsValue, JsValue> {
    let css = Reflect::get(&js_sys::global(), &"CSS".into())?;
    let registry: CssHighlightRegistry = Reflect::get(&css, &"highlights".into())?.unchecked_into();
    let name = highlight_name(Flag::Unverified);
    let shown = registry.get(name);
    let shown: CssHighlight = if shown.is_undefined() {
        let fresh = CssHighlight::new()?;
        registry.set(name, &fresh);
        fresh
    } else {
        shown.unchecked_into()
    };
    shown.clear();
    for range in ranges.dyn_into::<Array>()?.iter() {
        shown.add(range.unchecked_ref());
    }
    Ok(JsValue::UNDEFINED)
}
