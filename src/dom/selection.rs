//! The reader's selection, as a span of the page text.

use factmark_core::anchor::Span;
use web_sys::{Element, Range};

use super::text::{trim_span, PageText};
use crate::state::Rect;

/// The current selection's part inside the root, without surrounding whitespace, with the
/// range it covers there. `None` when nothing of the root's text is selected.
pub fn selected(page: &PageText, root: &Element) -> Option<(Span, Range)> {
    let selection = web_sys::window()?.get_selection().ok()??;
    if selection.is_collapsed() || selection.range_count() == 0 {
        return None;
    }
    let range = selection.get_range_at(0).ok()?;
    if !range.intersects_node(root).unwrap_or(false) {
        return None;
    }
    let span = trim_span(page.text(), page.span_of(&range)?)?;
    let covered = page.range(span)?;
    Some((span, covered))
}

pub fn clear() {
    if let Some(Ok(Some(selection))) = web_sys::window().map(|w| w.get_selection()) {
        let _ = selection.remove_all_ranges();
    }
}

pub fn bounding_rect(range: &Range) -> Rect {
    let r = range.get_bounding_client_rect();
    Rect {
        left: r.left(),
        top: r.top(),
        right: r.right(),
        bottom: r.bottom(),
    }
}

/// Client rects of a range (one per line box).
pub fn line_rects(range: &Range) -> Vec<Rect> {
    let Some(list) = range.get_client_rects() else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|r| Rect {
            left: r.left(),
            top: r.top(),
            right: r.right(),
            bottom: r.bottom(),
        })
        .collect()
}
