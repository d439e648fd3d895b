//! Highlights without touching the article: the CSS Custom Highlight API, one `Highlight` per
//! flag kind, registered as `factmark-unverified` / `factmark-fabricated` in `CSS.highlights`.
//! Where the API is missing, boxes drawn in the widget's own shadow root stand in.

use factmark_core::model::Flag;
use factmark_core::order::SortedMap;

use super::js::{CssHighlight, CssHighlightRegistry};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CssStyleSheet, Document, Element, HtmlElement, Range};

const PAGE_CSS: &str = crate::minified_css!(include_str!("../../style/highlights.css"));

pub fn highlight_name(flag: Flag) -> &'static str {
    match flag {
        Flag::Unverified => "factmark-unverified",
        Flag::Fabricated => "factmark-fabricated",
    }
}

fn flag_class(flag: Flag) -> &'static str {
    match flag {
        Flag::Unverified => "fm-mark fm-mark--unverified",
        Flag::Fabricated => "fm-mark fm-mark--fabricated",
    }
}

enum Painter {
    Registry {
        registry: CssHighlightRegistry,
        unverified: CssHighlight,
        fabricated: CssHighlight,
    },
    /// Fallback: positioned boxes inside `layer` (in the shadow root), redrawn on scroll.
    Overlay {
        layer: Element,
        ranges: Vec<(Flag, Range)>,
    },
}

pub struct Highlights {
    painter: Painter,
    document: Document,
    page_sheet: Option<CssStyleSheet>,
}

impl Highlights {
    /// Registers the two highlights, or prepares the overlay in `overlay_layer` when the page's
    /// browser has no `CSS.highlights`.
    pub fn install(document: &Document, overlay_layer: Element) -> Highlights {
        let painter = match registry() {
            Some(registry) => {
                let make = |flag: Flag, priority: i32| {
                    let highlight = CssHighlight::new().ok()?;
                    highlight.set_priority(priority);
                    registry.set(highlight_name(flag), &highlight);
                    Some(highlight)
                };
                // Fabricated paints over unverified where flags overlap.
                match (make(Flag::Unverified, 0), make(Flag::Fabricated, 1)) {
                    (Some(unverified), Some(fabricated)) => Painter::Registry {
                        registry,
                        unverified,
                        fabricated,
                    },
                    _ => Painter::Overlay {
                        layer: overlay_layer,
                        ranges: Vec::new(),
                    },
                }
            }
            None => Painter::Overlay {
                layer: overlay_layer,
                ranges: Vec::new(),
            },
        };
        let page_sheet = match painter {
            Painter::Registry { .. } => page_sheet(document),
            Painter::Overlay { .. } => None,
        };
        Highlights {
            painter,
            document: document.clone(),
            page_sheet,
        }
    }

    pub fn uses_registry(&self) -> bool {
        matches!(self.painter, Painter::Registry { .. })
    }

    /// Shows exactly these ranges.
    pub fn replace<'r>(&mut self, ranges: impl IntoIterator<Item = (Flag, &'r Range)>) {
        let list = js_sys::Array::new();
        let mut flags = Vec::new();
        for (flag, range) in ranges {
            list.push(range);
            flags.push(flag);
        }
        self.show(
            &list,
            flags.into_iter().enumerate().map(|(i, f)| (f, i as u32)),
        );
    }

    /// Shows exactly the ranges of a set picked by id, each with its flag.
    pub fn replace_from<'a>(
        &mut self,
        set: &RangeSet,
        picked: impl IntoIterator<Item = (Flag, &'a str)>,
    ) {
        let picks = picked
            .into_iter()
            .filter_map(|(flag, id)| Some((flag, set.index(id)?)));
        self.show(&set.list, picks);
    }

    /// Shows `(flag, index into list)`; the registry gets them all in one JS call.
    fn show(&mut self, list: &js_sys::Array, picks: impl IntoIterator<Item = (Flag, u32)>) {
        match &mut self.painter {
            Painter::Registry {
                unverified,
                fabricated,
                ..
            } => {
                let (mut indices, mut kinds) = (Vec::new(), Vec::new());
                for (flag, i) in picks {
                    indices.push(i);
                    kinds.push(u8::from(flag == Flag::Fabricated));
                }
                let both = js_sys::Array::of2(unverified, fabricated);
                super::js::paint(&both, list, &indices, &kinds);
            }
            Painter::Overlay { ranges: kept, .. } => {
                *kept = picks
                    .into_iter()
                    .filter_map(|(flag, i)| {
                        let range = list.get(i);
                        (!range.is_null() && !range.is_undefined())
                            .then(|| (flag, range.unchecked_into()))
                    })
                    .collect();
                self.redraw();
            }
        }
    }

    /// The overlay follows scrolling and reflow; registered highlights need nothing.
    pub fn redraw(&self) {
        let Painter::Overlay { layer, ranges } = &self.painter else {
            return;
        };
        layer.set_text_content(None);
        for (flag, range) in ranges {
            let Some(rects) = range.get_client_rects() else {
                continue;
            };
            for i in 0..rects.length() {
                let Some(rect) = rects.get(i) else { continue };
                if rect.width() <= 0.0 || rect.height() <= 0.0 {
                    continue;
                }
                let Ok(mark) = self.document.create_element("div") else {
                    continue;
                };
                mark.set_class_name(flag_class(*flag));
                let style = mark.unchecked_ref::<HtmlElement>().style();
                let _ = style.set_property("left", &px(rect.left()));
                let _ = style.set_property("top", &px(rect.top()));
                let _ = style.set_property("width", &px(rect.width()));
                let _ = style.set_property("height", &px(rect.height()));
                let _ = layer.append_child(&mark);
            }
        }
    }

    pub fn uninstall(&mut self) {
        match &self.painter {
            Painter::Registry {
                registry,
                unverified,
                fabricated,
            } => {
                // Only remove what is still ours (a second instance may have replaced it).
                for (flag, ours) in [
                    (Flag::Unverified, unverified),
                    (Flag::Fabricated, fabricated),
                ] {
                    let ours: &JsValue = ours.as_ref();
                    if registry.get(highlight_name(flag)) == *ours {
                        registry.delete(highlight_name(flag));
                    }
                }
            }
            Painter::Overlay { layer, .. } => layer.set_text_content(None),
        }
        if let Some(sheet) = self.page_sheet.take() {
            PAGE_SHEET.with(|s| s.borrow_mut().take());
            let kept = js_sys::Array::new();
            for existing in self.document.adopted_style_sheets().iter() {
                if existing != JsValue::from(sheet.clone()) {
                    kept.push(&existing);
                }
            }
            self.document.set_adopted_style_sheets(&kept);
        }
    }
}

/// Live DOM ranges by annotation id, held in one JS array (a wasm reference per range would
/// cost a JS call each to create and to drop).
pub struct RangeSet {
    list: js_sys::Array,
    /// A sorted vector, not a hash table (no hash table code in the wasm).
    by_id: SortedMap<String, u32>,
}

impl Default for RangeSet {
    fn default() -> RangeSet {
        RangeSet {
            list: js_sys::Array::new(),
            by_id: SortedMap::new(),
        }
    }
}

impl RangeSet {
    /// From a JS array of ranges (or `null`s) and the index in it of each id that holds a
    /// range, in id order.
    pub fn from_sorted(list: js_sys::Array, by_id: Vec<(String, u32)>) -> RangeSet {
        RangeSet {
            list,
            by_id: SortedMap::from_sorted(by_id),
        }
    }

    fn index(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    pub fn get(&self, id: &str) -> Option<Range> {
        self.index(id).map(|i| self.list.get(i).unchecked_into())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn insert(&mut self, id: String, range: &Range) {
        match self.by_id.get(&id) {
            Some(&i) => self.list.set(i, range.into()),
            None => {
                let i = self.list.push(range) - 1;
                self.by_id.insert(id, i);
            }
        }
    }

    pub fn remove(&mut self, id: &str) {
        if let Some(i) = self.by_id.remove(id) {
            self.list.set(i, JsValue::NULL);
        }
    }
}

/// Whole CSS pixels, formatted as an integer (float formatting costs kilobytes of wasm).
pub fn px(v: f64) -> String {
    let mut s = (v.round() as i64).to_string();
    s.push_str("px");
    s
}

/// `CSS.highlights`, if this browser has it.
fn registry() -> Option<CssHighlightRegistry> {
    let global = js_sys::global();
    let css = js_sys::Reflect::get(&global, &"CSS".into()).ok()?;
    let highlights = js_sys::Reflect::get(&css, &"highlights".into()).ok()?;
    (!highlights.is_undefined() && !highlights.is_null()).then(|| highlights.unchecked_into())
}

thread_local! {
    static PAGE_SHEET: std::cell::RefCell<Option<CssStyleSheet>> = const { std::cell::RefCell::new(None) };
}

/// Adds the highlights' page sheet now (when the browser has the highlight API), ahead of any
/// mount. A `::highlight()` rule makes the browser recompute the style of every element of the
/// page (about 130 ms on a 1 MB article in Chromium, whatever the rule scopes), so it belongs
/// with loading the script, not in the first frame of a mount; the rules do nothing until
/// highlights are registered.
pub fn prepare_page(document: &Document) {
    if registry().is_some() {
        page_sheet(document);
    }
}

/// The page sheet, adopted once per page (again only if something took it away).
fn page_sheet(document: &Document) -> Option<CssStyleSheet> {
    PAGE_SHEET.with(|kept| {
        if let Some(sheet) = kept.borrow().as_ref() {
            let mine: &JsValue = sheet.as_ref();
            if document.adopted_style_sheets().iter().any(|s| s == *mine) {
                return Some(sheet.clone());
            }
        }
        let sheet = adopt_page_sheet(document)?;
        *kept.borrow_mut() = Some(sheet.clone());
        Some(sheet)
    })
}

/// The default look of the two highlights, added to the page's adopted style sheets.
fn adopt_page_sheet(document: &Document) -> Option<CssStyleSheet> {
    let sheet = CssStyleSheet::new().ok()?;
    sheet.replace_sync(PAGE_CSS).ok()?;
    // A copy: older browsers expose a frozen array.
    let sheets = js_sys::Array::from(&document.adopted_style_sheets());
    sheets.push(&sheet);
    document.set_adopted_style_sheets(&sheets);
    Some(sheet)
}
