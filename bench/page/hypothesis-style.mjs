// Hypothesis's HTML anchoring, reproduced for the benchmark from its public source
// (hypothesis/client src/annotator/anchoring/{match-quote,html,types,text-range}.ts), on the same
// matcher it uses, approx-string-match. Written anew, same behaviour:
//  - position selector first: its range is kept only if its text equals the stored quote;
//  - else the quote: every exact occurrence if there is one, otherwise approx-string-match's best
//    matches with up to min(256, quote/2) errors; each candidate scored 50·quote + 20·prefix +
//    20·suffix + 2·position (out of 92), where the prefix and suffix scores are 1 − errors/length
//    of the best approximate match of the context against the text just before/after the
//    candidate, and the position score is 1 − distance/text length; the best score wins (the
//    earliest candidate on ties), with no minimum;
//  - the text is root.textContent, read again for every annotation, offsets in UTF-16 units; a
//    range is rebuilt from offsets by walking the root's text nodes from the start.
// Hypothesis runs this through promises (one per annotation); here it is synchronous, which can
// only make it faster.

import approxSearch from 'approx-string-match';

function occurrences(text, pattern, maxErrors) {
  const exact = [];
  for (let at = text.indexOf(pattern); at !== -1; at = text.indexOf(pattern, at + 1)) {
    exact.push({ start: at, end: at + pattern.length, errors: 0 });
  }
  return exact.length > 0 ? exact : approxSearch(text, pattern, maxErrors);
}

function similarity(text, pattern) {
  if (pattern.length === 0 || text.length === 0) return 0;
  const [best] = occurrences(text, pattern, pattern.length);
  return 1 - best.errors / pattern.length;
}

/** Best match for `quote` in `text` given its context, or null. */
export function matchQuote(text, quote, { prefix, suffix, hint } = {}) {
  if (quote.length === 0) return null;
  const found = occurrences(text, quote, Math.min(256, quote.length / 2));
  if (found.length === 0) return null;
  let best = null;
  for (const m of found) {
    const quoteScore = 1 - m.errors / quote.length;
    const prefixScore = prefix ? similarity(text.slice(Math.max(0, m.start - prefix.length), m.start), prefix) : 1;
    const suffixScore = suffix ? similarity(text.slice(m.end, m.end + suffix.length), suffix) : 1;
    const positionScore = typeof hint === 'number' ? 1 - Math.abs(m.start - hint) / text.length : 1;
    const score = (50 * quoteScore + 20 * prefixScore + 20 * suffixScore + 2 * positionScore) / 92;
    if (!best || score > best.score) best = { start: m.start, end: m.end, score };
  }
  return best;
}

/** A Range for [start, end) in the root's text, walking its text nodes from the beginning. */
export function rangeFromOffsets(root, start, end) {
  const it = root.ownerDocument.createNodeIterator(root, NodeFilter.SHOW_TEXT);
  const wanted = [start, end];
  const points = [];
  let node = it.nextNode();
  let last = null;
  let length = 0;
  while (wanted.length && node) {
    last = node;
    if (length + node.data.length > wanted[0]) {
      points.push([node, wanted.shift() - length]);
    } else {
      length += node.data.length;
      node = it.nextNode();
    }
  }
  while (wanted.length && last && length === wanted[0]) { wanted.shift(); points.push([last, last.data.length]); }
  if (wanted.length) throw new RangeError('offset exceeds text length');
  const range = root.ownerDocument.createRange();
  range.setStart(points[0][0], points[0][1]);
  range.setEnd(points[1][0], points[1][1]);
  return range;
}

/**
 * Anchors one annotation's selectors as Hypothesis does. `sel` has exact/prefix/suffix and,
 * when `usePosition`, startU16/endU16. Returns a Range or null.
 */
export function anchor(root, sel, usePosition) {
  if (usePosition) {
    try {
      const range = rangeFromOffsets(root, sel.startU16, sel.endU16);
      if (range.toString() === sel.exact) return range;
    } catch { /* fall through to the quote */ }
  }
  const text = root.textContent;
  const match = matchQuote(text, sel.exact, {
    prefix: sel.prefix, suffix: sel.suffix, hint: usePosition ? sel.startU16 : undefined,
  });
  return match ? rangeFromOffsets(root, match.start, match.end) : null;
}
