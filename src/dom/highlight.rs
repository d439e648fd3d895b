//! Highlights without touching the article: the CSS Custom Highlight API, one `Highlight` per
//! flag kind, registered as `factmark-unverified` / `factmark-fabricated` in `CSS.highlights`.
//! Where the API is missing, boxes drawn in the widget's own shadow root stand in.

use factmark_core::model::Flag;

use super::js::{CssHighlight, CssHighlightRegistry};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CssStyleSheet, Document, Element, HtmlElement, Range};

const PAGE_CSS: &str = include_str!("../../style/highlights.css");

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
            Painter::Registry { .. } => adopt_page_sheet(document),
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
        match &mut self.painter {
            Painter::Registry {
                unverified,
                fabricated,
                ..
            } => {
                unverified.clear();
                fabricated.clear();
                for (flag, range) in ranges {
                    let target = if flag == Flag::Fabricated {
                        &*fabricated
                    } else {
                        &*unverified
                    };
                    target.add(range);
                }
            }
            Painter::Overlay { ranges: kept, .. } => {
                *kept = ranges
                    .into_iter()
                    .map(|(flag, range)| (flag, range.clone()))
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
