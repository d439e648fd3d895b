//! A few browser calls bound directly, where web-sys's signatures would copy strings across the
//! wasm boundary one JS call at a time (the page text is a megabyte; reading it must be fast).

use js_sys::{JsString, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{Element, Node, Range, Storage};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = TextEncoder)]
    type Utf8Encoder;
    #[wasm_bindgen(constructor, js_class = TextEncoder)]
    fn new() -> Utf8Encoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &Utf8Encoder, source: &JsString, destination: &Uint8Array)
        -> EncodeResult;

    type EncodeResult;
    #[wasm_bindgen(method, getter)]
    fn written(this: &EncodeResult) -> u32;

    /// A DOM text node (or any `CharacterData`).
    #[wasm_bindgen(extends = Node)]
    pub type TextNode;
    /// `data`, kept as a JS string.
    #[wasm_bindgen(method, getter)]
    pub fn data(this: &TextNode) -> JsString;
    /// `length`, in UTF-16 code units.
    #[wasm_bindgen(method, getter)]
    pub fn length(this: &TextNode) -> u32;

    #[wasm_bindgen(extends = Element)]
    pub type Elem;
    /// `matches()` with a selector kept as a JS string (no conversion per call).
    #[wasm_bindgen(method)]
    pub fn matches(this: &Elem, selector: &JsString) -> bool;
    #[wasm_bindgen(method, js_name = checkVisibility)]
    pub fn check_visibility(this: &Elem) -> bool;

    /// The CSS Custom Highlight API, bound here so the widget needs no unstable web-sys API.
    #[wasm_bindgen(js_name = Highlight)]
    pub type CssHighlight;
    #[wasm_bindgen(constructor, catch, js_class = Highlight)]
    pub fn new() -> Result<CssHighlight, JsValue>;
    #[wasm_bindgen(method, js_class = Highlight)]
    pub fn add(this: &CssHighlight, range: &Range);
    #[wasm_bindgen(method, js_class = Highlight)]
    pub fn clear(this: &CssHighlight);
    #[wasm_bindgen(method, setter, js_class = Highlight)]
    pub fn set_priority(this: &CssHighlight, priority: i32);

    #[wasm_bindgen(js_name = HighlightRegistry)]
    pub type CssHighlightRegistry;
    #[wasm_bindgen(method, js_class = HighlightRegistry)]
    pub fn set(this: &CssHighlightRegistry, name: &str, highlight: &CssHighlight);
    #[wasm_bindgen(method, js_class = HighlightRegistry)]
    pub fn get(this: &CssHighlightRegistry, name: &str) -> JsValue;
    #[wasm_bindgen(method, js_class = HighlightRegistry)]
    pub fn delete(this: &CssHighlightRegistry, name: &str) -> bool;

    /// `performance.measure(name, startMark, endMark)`.
    #[wasm_bindgen(extends = web_sys::Performance)]
    pub type Timing;
    #[wasm_bindgen(method, catch, js_name = measure)]
    pub fn measure_between(
        this: &Timing,
        name: &str,
        start: &str,
        end: &str,
    ) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(extends = Storage)]
    pub type JsStorage;
    /// `getItem()`, the value kept as a JS string.
    #[wasm_bindgen(method, catch, js_name = getItem)]
    pub fn get_item(this: &JsStorage, key: &str) -> Result<Option<JsString>, JsValue>;
}

thread_local! {
    static ENCODER: Utf8Encoder = Utf8Encoder::new();
}

/// A JS string as a Rust string in one native `encodeInto` (lone surrogates become U+FFFD,
/// one UTF-16 unit each, so UTF-16 lengths still match).
pub fn to_string(s: &JsString) -> String {
    let units = s.length() as usize;
    let capacity = units * 3;
    let mut buffer: Vec<u8> = Vec::with_capacity(capacity);
    // SAFETY: the view covers the vector's allocation and is used before any other allocation
    // could move wasm memory; encodeInto writes at most `capacity` bytes of valid UTF-8.
    let written = unsafe {
        let view = Uint8Array::view_mut_raw(buffer.as_mut_ptr(), capacity);
        let written = ENCODER.with(|e| e.encode_into(s, &view).written()) as usize;
        buffer.set_len(written.min(capacity));
        written
    };
    debug_assert!(written <= capacity);
    String::from_utf8(buffer).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Whether this browser has `Element.checkVisibility()`.
pub fn has_check_visibility() -> bool {
    let prototype = js_sys::Reflect::get(&js_sys::global(), &"Element".into())
        .and_then(|element| js_sys::Reflect::get(&element, &"prototype".into()));
    prototype.is_ok_and(|p| js_sys::Reflect::has(&p, &"checkVisibility".into()).unwrap_or(false))
}
