// The plain-JavaScript floor: one text index of the root built with a TreeWalker, then indexOf
// per quote and a Range from the index by binary search. No JavaScript tool can anchor exact
// quotes much faster than this; it does no disambiguation and no fuzzy matching.

export function textIndex(root) {
  const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  const starts = [];
  const parts = [];
  let length = 0;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    nodes.push(n);
    starts.push(length);
    parts.push(n.data);
    length += n.data.length;
  }
  return { text: parts.join(''), nodes, starts, length };
}

/** The text node holding UTF-16 offset `at`; an end boundary stays in the node it ends. */
function locate(index, at, isEnd) {
  const { starts, nodes } = index;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] < at || (!isEnd && starts[mid] === at)) lo = mid;
    else hi = mid - 1;
  }
  return [nodes[lo], at - starts[lo]];
}

export function rangeAt(index, doc, start, end) {
  const range = doc.createRange();
  range.setStart(...locate(index, start, false));
  range.setEnd(...locate(index, end, true));
  return range;
}

/** Ranges for each selector (null when the quote is not in the text). */
export function anchorAll(root, selectors, usePosition) {
  const index = textIndex(root);
  const doc = root.ownerDocument;
  return selectors.map((s) => {
    const at = usePosition && index.text.startsWith(s.exact, s.startU16) ? s.startU16 : index.text.indexOf(s.exact);
    return at < 0 ? null : rangeAt(index, doc, at, at + s.exact.length);
  });
}
