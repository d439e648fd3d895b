//! A few browser calls bound directly, where web-sys's signatures would copy strings across the
//! wasm boundary one JS call at a time (the page text is a megabyte; reading it must be fast),
//! and the loops over every text node or every range, which run in one JS call each: a call
//! from wasm to the DOM costs more than the DOM work it does, and a 1 MB article has tens of
//! thousands of text nodes. (A module snippet, not `eval`: allowed under a strict CSP.)

use js_sys::{JsString, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{Element, Range, Storage};

#[wasm_bindgen(inline_js = r#"
// Inline phrasing elements that, bare (no attribute but a link's href), inside a visible parent,
// are taken as visible without asking the style engine: a page hides such text with a class,
// an id, `style` or `hidden`, which makes the element not bare. Asking about every <em> and
// <a> of a long article costs more than reading its text.
const PHRASING = new Set(['a', 'abbr', 'b', 'bdi', 'bdo', 'cite', 'code', 'data', 'dfn', 'em', 'i',
  'kbd', 'mark', 'q', 's', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'time', 'u', 'var']);

// `hidden` (but not `until-found`, which find-in-page reveals) or `display: none`, itself or
// through an ancestor. checkVisibility() is false for both, and also for `display: contents`,
// which stays: only then is the computed display read.
const hidden = (el, name, view, canCheck) => {
  if (el.hasAttributes()) {
    const attr = el.getAttribute('hidden');
    if (attr !== null) {
      if (attr.toLowerCase() !== 'until-found') return true;
    } else if (name === 'a' && el.attributes.length === 1 && el.hasAttribute('href')) {
      return false;
    }
  } else if (PHRASING.has(name)) {
    return false;
  }
  return !(canCheck && el.checkVisibility()) && view != null && view.getComputedStyle(el).display === 'none';
};

export function fmReadText(root, skip) {
  const skipped = new Set(skip.split(','));
  const view = root.ownerDocument.defaultView;
  const canCheck = typeof root.checkVisibility === 'function';
  const nodes = [];
  const lengths = [];
  // While every text node under the root is kept, the text is root.textContent, which the
  // browser builds without a JS string per node.
  let whole = true;
  let node = root.firstChild;
  while (node !== null) {
    const type = node.nodeType;
    if (type === 3) {
      const length = node.length;
      if (length > 0) {
        lengths.push(length);
        nodes.push(node);
      }
    } else if (type === 1) {
      const first = node.firstChild;
      if (first !== null) {
        const name = node.localName;
        if (!skipped.has(name) && !hidden(node, name, view, canCheck)) {
          node = first;
          continue;
        }
        whole = false;
      }
    } else if (type === 4) {
      whole = false; // CDATA (XML documents): in textContent, not page text
    }
    // The next node after this one and its subtree; null past the root's last descendant.
    let next;
    while ((next = node.nextSibling) === null) {
      node = node.parentNode;
      if (node === root) break;
    }
    node = next;
  }
  const text = whole ? root.textContent : nodes.map((n) => n.data).join('');
  return { text, nodes, lengths: Uint32Array.from(lengths) };
}

export function fmRanges(doc, nodes, bounds) {
  const out = new Array(bounds.length / 4);
  for (let i = 0, j = 0; j < bounds.length; i += 1, j += 4) {
    if (bounds[j] === 0xffffffff) { out[i] = null; continue; }
    const range = doc.createRange();
    range.setStart(nodes[bounds[j]], bounds[j + 1]);
    range.setEnd(nodes[bounds[j + 2]], bounds[j + 3]);
    out[i] = range;
  }
  return out;
}

export function fmPaint(highlights, ranges, picks, kinds) {
  for (const h of highlights) h.clear();
  for (let i = 0; i < picks.length; i += 1) {
    const range = ranges[picks[i]];
    if (range) highlights[kinds[i]].add(range);
  }
}
"#)]
extern "C" {
    /// The root's visible text in one pass; see [`crate::dom::text::PageText::read`]. `skip`:
    /// comma-separated local names of elements whose content is never page text.
    #[wasm_bindgen(js_name = fmReadText)]
    pub fn read_text(root: &Element, skip: &str) -> TextScan;
    pub type TextScan;
    #[wasm_bindgen(method, getter)]
    pub fn text(this: &TextScan) -> JsString;
    #[wasm_bindgen(method, getter)]
    pub fn nodes(this: &TextScan) -> js_sys::Array;
    #[wasm_bindgen(method, getter)]
    pub fn lengths(this: &TextScan) -> js_sys::Uint32Array;

    /// One Range per four numbers of `bounds`: start node index, start offset, end node index,
    /// end offset (UTF-16); `null` where the start node index is `u32::MAX`.
    #[wasm_bindgen(js_name = fmRanges)]
    pub fn make_ranges(
        document: &web_sys::Document,
        nodes: &js_sys::Array,
        bounds: &[u32],
    ) -> js_sys::Array;

    /// Clears `highlights` (an array of Highlight), then adds `ranges[picks[i]]` to
    /// `highlights[kinds[i]]` for every i.
    #[wasm_bindgen(js_name = fmPaint)]
    pub fn paint(highlights: &js_sys::Array, ranges: &js_sys::Array, picks: &[u32], kinds: &[u8]);
}

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
    // SAFETY: encodeInto writes whole characters of valid UTF-8 (the Encoding standard), and
    // `capacity` (3 bytes per UTF-16 unit) always holds all of them.
    unsafe { String::from_utf8_unchecked(buffer) }
}
