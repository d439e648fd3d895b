//! The root's visible text as one core [`Text`], with a map back to the DOM's text nodes.
//!
//! The text is the concatenation of the text nodes a reader can see and select, in document
//! order, nothing inserted between them: every code point of the [`Text`] is a character of one
//! DOM text node, so offsets convert both ways exactly.

use factmark_core::anchor::Span;
use factmark_core::text::Text;
use wasm_bindgen::{JsCast, JsValue};

use super::js;
use web_sys::{Document, Element, Node, Range};

/// The host element of the widget's shadow root; never part of the page text.
pub const HOST_TAG: &str = "factmark-widget";

/// Elements whose text is not page content a reader selects (local names): scripts, styles,
/// form controls' contents, embedded content and the widget's host.
const SKIPPED: &str = "script,style,noscript,template,textarea,select,iframe,object,embed,canvas,\
                       video,audio,factmark-widget";

/// UTF-16 start offsets of consecutive text nodes (DOM offsets are UTF-16 code units).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeOffsets {
    /// `starts[i]` is where node `i` begins; one more entry holds the total length.
    starts: Vec<usize>,
}

impl NodeOffsets {
    pub fn from_lengths(lengths: impl IntoIterator<Item = usize>) -> NodeOffsets {
        let mut starts = vec![0];
        let mut at = 0;
        for len in lengths {
            at += len;
            starts.push(at);
        }
        NodeOffsets { starts }
    }

    pub fn node_count(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn total(&self) -> usize {
        *self.starts.last().unwrap_or(&0)
    }

    pub fn start_of(&self, node: usize) -> usize {
        self.starts[node]
    }

    pub fn len_of(&self, node: usize) -> usize {
        self.starts[node + 1] - self.starts[node]
    }

    /// The node and in-node offset where a range starting at `offset` begins: the node holding
    /// the character at `offset` (so a start never sits at the end of the previous node).
    pub fn locate_start(&self, offset: usize) -> Option<(usize, usize)> {
        if self.node_count() == 0 || offset > self.total() {
            return None;
        }
        if offset == self.total() {
            return self.locate_end(offset);
        }
        // Last node starting at or before offset that is not empty.
        let i = self.starts.partition_point(|&s| s <= offset) - 1;
        Some((i, offset - self.starts[i]))
    }

    /// The node and in-node offset where a range ending at `offset` ends: the node holding the
    /// character before `offset`.
    pub fn locate_end(&self, offset: usize) -> Option<(usize, usize)> {
        if self.node_count() == 0 || offset > self.total() {
            return None;
        }
        if offset == 0 {
            return Some((0, 0));
        }
        // First node ending at or after offset.
        let i = self.starts[1..].partition_point(|&end| end < offset);
        Some((i, offset - self.starts[i]))
    }
}

/// Narrows a span to exclude whitespace at its ends; `None` when nothing but whitespace is left.
pub fn trim_span(text: &Text, span: Span) -> Option<Span> {
    if span.start >= span.end || span.end > text.len() {
        return None;
    }
    let slice = text.slice(span.start, span.end);
    let leading = slice.chars().take_while(|c| c.is_whitespace()).count();
    let total = slice.chars().count();
    if leading == total {
        return None;
    }
    let trailing = slice
        .chars()
        .rev()
        .take_while(|c| c.is_whitespace())
        .count();
    Some(Span {
        start: span.start + leading,
        end: span.end - trailing,
    })
}

/// The root's text and the text nodes it came from.
pub struct PageText {
    text: Text,
    /// The text nodes, in document order, as one JS array (not one wasm reference per node).
    nodes: js_sys::Array,
    offsets: NodeOffsets,
    document: Document,
}

/// What [`PageText::ranges`] gets for a span it cannot map.
const NO_NODE: u32 = u32::MAX;

impl PageText {
    /// Walks the root once, in one JS call. Skips what a reader cannot see or select: scripts,
    /// styles, form controls' contents, `hidden` (but not `until-found`) and `display: none`
    /// subtrees, and the widget's host. `aria-hidden` content is kept: it is visible, and readers
    /// select and quote it. Visibility: `checkVisibility()`, and only elements it reports
    /// invisible get their computed `display` read (it is also false for `display: contents`,
    /// which stays). Not asked: bare inline phrasing elements (`<em>`, `<b>`, `<a href>`, …
    /// with no other attribute) inside a visible parent, which a page hides with a class, an
    /// id, `style` or `hidden`; asking about each costs more than the rest of the walk.
    pub fn read(root: &Element) -> Result<PageText, JsValue> {
        let document = root
            .owner_document()
            .ok_or("the root is not in a document")?;
        let scan = js::read_text(root, SKIPPED);
        crate::widget::mark("factmark:text-walked");
        let content = js::to_string(&scan.text());
        let lengths = scan.lengths().to_vec();
        Ok(PageText {
            text: Text::from_string(content),
            nodes: scan.nodes(),
            offsets: NodeOffsets::from_lengths(lengths.into_iter().map(|l| l as usize)),
            document,
        })
    }

    pub fn text(&self) -> &Text {
        &self.text
    }

    pub fn node_count(&self) -> usize {
        self.offsets.node_count()
    }

    fn node(&self, i: usize) -> Node {
        self.nodes.get(i as u32).unchecked_into()
    }

    /// Start node, start offset, end node, end offset of a span of code points.
    fn bounds(&self, span: Span) -> Option<[u32; 4]> {
        if span.start > span.end || span.end > self.text.len() {
            return None;
        }
        let (si, so) = self
            .offsets
            .locate_start(self.text.cp_to_utf16(span.start))?;
        let (ei, eo) = self.offsets.locate_end(self.text.cp_to_utf16(span.end))?;
        Some([si as u32, so as u32, ei as u32, eo as u32])
    }

    /// A DOM range over a span of code points.
    pub fn range(&self, span: Span) -> Option<Range> {
        let [si, so, ei, eo] = self.bounds(span)?;
        let range = self.document.create_range().ok()?;
        range.set_start(&self.node(si as usize), so).ok()?;
        range.set_end(&self.node(ei as usize), eo).ok()?;
        Some(range)
    }

    /// DOM ranges over many spans, created in one JS call: one entry per span, `null` where
    /// the span is absent or outside the text; with, for each, whether it holds a range.
    pub fn ranges(
        &self,
        spans: impl IntoIterator<Item = Option<Span>>,
    ) -> (js_sys::Array, Vec<bool>) {
        let mut bounds = Vec::new();
        let mut made = Vec::new();
        for span in spans {
            let b = span.and_then(|s| self.bounds(s));
            made.push(b.is_some());
            bounds.extend_from_slice(&b.unwrap_or([NO_NODE, 0, 0, 0]));
        }
        (js::make_ranges(&self.document, &self.nodes, &bounds), made)
    }

    /// The span of code points a DOM range covers, clamped to the root's text; `None` when it
    /// covers none of it.
    pub fn span_of(&self, range: &Range) -> Option<Span> {
        let start = self.boundary(&range.start_container().ok()?, range.start_offset().ok()?)?;
        let end = self.boundary(&range.end_container().ok()?, range.end_offset().ok()?)?;
        (start < end).then(|| Span {
            start: self.text.utf16_to_cp(start),
            end: self.text.utf16_to_cp(end),
        })
    }

    /// The code-point offset in the page text of a DOM boundary point (a caret position).
    pub fn offset_at(&self, container: &Node, offset: u32) -> Option<usize> {
        self.boundary(container, offset)
            .map(|u| self.text.utf16_to_cp(u))
    }

    /// The UTF-16 offset in the page text of a DOM boundary point. A point inside skipped
    /// content or between nodes maps to where the next visible text begins.
    fn boundary(&self, container: &Node, offset: u32) -> Option<usize> {
        let count = self.node_count();
        if count == 0 {
            return None;
        }
        if container.node_type() == Node::TEXT_NODE {
            if let Some(i) = self.index_of(container) {
                let within = (offset as usize).min(self.offsets.len_of(i));
                return Some(self.offsets.start_of(i) + within);
            }
        }
        let probe = self.document.create_range().ok()?;
        probe.set_start(container, offset).ok()?;
        probe.collapse_with_to_start(true);
        // compare_point: -1 when the node's start is before the boundary point.
        let mut lo = 0;
        let mut hi = count;
        while lo < hi {
            let mid = (lo + hi) / 2;
            if probe.compare_point(&self.node(mid), 0).ok()? < 0 {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Some(if lo < count {
            self.offsets.start_of(lo)
        } else {
            self.offsets.total()
        })
    }

    /// Index of a text node in document order, by binary search on document position.
    fn index_of(&self, target: &Node) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.node_count());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let node = self.node(mid);
            if node.is_same_node(Some(target)) {
                return Some(mid);
            }
            if node.compare_document_position(target) & Node::DOCUMENT_POSITION_FOLLOWING != 0 {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets() -> NodeOffsets {
        // "ab" "" "cde" "f"
        NodeOffsets::from_lengths([2, 0, 3, 1])
    }

    #[test]
    fn starts_sit_in_the_node_holding_the_character() {
        let o = offsets();
        assert_eq!(o.locate_start(0), Some((0, 0)));
        assert_eq!(o.locate_start(1), Some((0, 1)));
        assert_eq!(
            o.locate_start(2),
            Some((2, 0)),
            "not at the end of node 0 nor in the empty node"
        );
        assert_eq!(o.locate_start(5), Some((3, 0)));
        assert_eq!(
            o.locate_start(6),
            Some((3, 1)),
            "the very end is the end of the last node"
        );
        assert_eq!(o.locate_start(7), None);
    }

    #[test]
    fn ends_sit_in_the_node_holding_the_previous_character() {
        let o = offsets();
        assert_eq!(o.locate_end(0), Some((0, 0)));
        assert_eq!(
            o.locate_end(2),
            Some((0, 2)),
            "end of node 0, not start of node 2"
        );
        assert_eq!(o.locate_end(3), Some((2, 1)));
        assert_eq!(o.locate_end(5), Some((2, 3)));
        assert_eq!(o.locate_end(6), Some((3, 1)));
        assert_eq!(o.locate_end(7), None);
    }

    #[test]
    fn no_nodes_no_positions() {
        let o = NodeOffsets::from_lengths([]);
        assert_eq!(o.locate_start(0), None);
        assert_eq!(o.locate_end(0), None);
    }

    #[test]
    fn trimming_drops_whitespace_at_both_ends_only() {
        let text = Text::new("a  b c \n");
        assert_eq!(
            trim_span(&text, Span { start: 1, end: 8 }),
            Some(Span { start: 3, end: 6 })
        );
        assert_eq!(trim_span(&text, Span { start: 1, end: 3 }), None);
        assert_eq!(
            trim_span(&text, Span { start: 0, end: 1 }),
            Some(Span { start: 0, end: 1 })
        );
        let emoji = Text::new(" 🦀x ");
        assert_eq!(
            trim_span(&emoji, Span { start: 0, end: 4 }),
            Some(Span { start: 1, end: 3 })
        );
    }
}
