// In-page side of the browser benchmarks (bundled with esbuild, served to the benchmark pages).
// Every time is measured here, in the page, with performance.now().
//
// window.bench:
//   anchor(tool, selectors, {usePosition, capMs}) → {ms, done, estimated, ranges}
//   grade(ranges, truths) → {right, exactExtent, orphan, wrong}
//   highlight(tool, ranges) → ms until the next frame has been produced
//   recogitoLoad(annotations) → ms until the next frame
//   factmarkLoad(...) see below

import * as textQuote from 'dom-anchor-text-quote';
import * as textPosition from 'dom-anchor-text-position';
import {
  createTextQuoteSelectorMatcher, createTextPositionSelectorMatcher, highlightText,
} from '@apache-annotator/dom';
import * as hypothesis from './hypothesis-style.mjs';
import * as floor from './floor.mjs';

const root = () => document.querySelector('article');

/** Resolves after the next frame has been rendered (rAF, then a task after it). */
export function nextFrame() {
  return new Promise((resolve) => {
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve();
      ch.port2.postMessage(null);
    });
  });
}

async function firstMatch(matches) {
  const { value, done } = await matches.next();
  return done ? null : value;
}

/**
 * Per-annotation tools: (root, selector, usePosition) → Range | null (or a promise of one).
 * Each gets offsets in its own unit: UTF-16 for the DOM-offset libraries, code points for
 * Apache Annotator (whose TextPositionSelector counts code points, as the W3C model says).
 */
const perSelector = {
  'hypothesis-style': (r, s, usePosition) => hypothesis.anchor(r, s, usePosition),
  'dom-anchor-text-quote': (r, s, usePosition) => textQuote.toRange(
    r, { exact: s.exact, prefix: s.prefix, suffix: s.suffix }, usePosition ? { hint: s.startU16 } : {}),
  // Position only, the quote checked afterwards (a position alone can land on other words).
  'dom-anchor-text-position': (r, s) => {
    const range = textPosition.toRange(r, { start: s.startU16, end: s.endU16 });
    return range && range.toString() === s.exact ? range : null;
  },
  '@apache-annotator/dom': async (r, s, usePosition) => {
    if (usePosition) {
      const range = await firstMatch(createTextPositionSelectorMatcher({ type: 'TextPositionSelector', start: s.start, end: s.end })(r));
      if (range && range.toString() === s.exact) return range;
    }
    return firstMatch(createTextQuoteSelectorMatcher({ type: 'TextQuoteSelector', exact: s.exact, prefix: s.prefix, suffix: s.suffix })(r));
  },
};

/** Batch tools: (root, selectors, usePosition) → (Range | null)[]. */
const batch = {
  'plain-js-floor': (r, sels, usePosition) => floor.anchorAll(r, sels, usePosition),
  factmark: (r, sels, usePosition) => factmarkAnchor(r, sels, usePosition),
};

/**
 * factmark's anchoring of a batch of selectors to DOM Ranges, through its benchmark hook
 * window.factmark.bench.anchor(selectors, root) → (Range | null)[], which reads the root's text
 * per call as the floor does. Positions are code points.
 */
function factmarkAnchor(root, sels, usePosition) {
  const hook = window.factmark?.bench?.anchor;
  if (!hook) return factmarkImport(sels, usePosition);
  const selectors = sels.map((s) => (usePosition
    ? { exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end }
    : { exact: s.exact, prefix: s.prefix, suffix: s.suffix }));
  return hook(selectors, root);
}

/** How the last factmark run was measured: 'hook' or 'import'. */
export let factmarkMethod = null;

const uuidOf = (i) => `urn:uuid:00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/** Code point → UTF-16 offset converter for one text. */
function cpToUtf16(text) {
  const astral = [];
  let cp = 0;
  for (let i = 0; i < text.length; i += 1, cp += 1) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) { astral.push(cp); i += 1; }
  }
  return (x) => {
    let lo = 0;
    let hi = astral.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (astral[mid] < x) lo = mid + 1; else hi = mid; }
    return x + lo;
  };
}

/**
 * Without the hook: the public API. import() of W3C annotations carrying the selectors parses,
 * validates, anchors, stores in localStorage and highlights them; timed to the next frame. An
 * upper bound for anchoring alone. Ranges for grading are rebuilt afterwards from anchors().
 */
function factmarkImport(sels, usePosition) {
  factmarkMethod = 'import';
  const source = document.querySelector('link[rel=canonical]').href;
  const json = JSON.stringify(sels.map((s, i) => ({
    '@context': 'http://www.w3.org/ns/anno.jsonld', id: uuidOf(i), type: 'Annotation', motivation: 'assessing',
    body: [{ type: 'TextualBody', purpose: 'assessing', value: 'unverified' }],
    target: {
      type: 'SpecificResource', source,
      selector: [{ type: 'TextQuoteSelector', exact: s.exact, prefix: s.prefix, suffix: s.suffix },
        ...(usePosition ? [{ type: 'TextPositionSelector', start: s.start, end: s.end }] : [])],
    },
  })));
  // Start from an empty widget each time.
  window.factmark.unmount();
  localStorage.clear();
  window.factmark.mount({ root: '#bench-article', source });
  return (async () => {
    const t0 = performance.now();
    const outcome = window.factmark.import(json);
    await nextFrame();
    const ms = performance.now() - t0;
    if (outcome.added !== sels.length) throw new Error(`factmark imported ${outcome.added} of ${sels.length}: ${JSON.stringify(outcome.refused.slice(0, 3))}`);
    const index = floor.textIndex(root());
    const toU16 = cpToUtf16(index.text);
    const byId = new Map(window.factmark.anchors().map((a) => [a.id, a]));
    const ranges = sels.map((_, i) => {
      const a = byId.get(uuidOf(i));
      return !a || a.status === 'orphan' ? null : floor.rangeAt(index, document, toU16(a.start), toU16(a.end));
    });
    ranges.measuredMs = ms;
    return ranges;
  })();
}

export const tools = [...Object.keys(batch), ...Object.keys(perSelector)];

/**
 * Anchors `selectors` with `tool`. Per-annotation tools stop after `capMs` and report the time
 * extrapolated to all selectors (estimated: true).
 */
export async function anchor(tool, selectors, { usePosition = false, capMs = 20_000 } = {}) {
  const r = root();
  if (batch[tool]) {
    factmarkMethod = tool === 'factmark' ? 'hook' : null;
    const t0 = performance.now();
    const ranges = await batch[tool](r, selectors, usePosition);
    const ms = ranges.measuredMs ?? performance.now() - t0;
    return { ms, done: selectors.length, estimated: false, ranges, method: factmarkMethod };
  }
  const one = perSelector[tool];
  if (!one) throw new Error(`unknown tool ${tool}`);
  const ranges = [];
  const t0 = performance.now();
  let ms = 0;
  for (const s of selectors) {
    let range = null;
    try { range = await one(r, s, usePosition); } catch { range = null; }
    ranges.push(range);
    ms = performance.now() - t0;
    if (ms > capMs) break;
  }
  const done = ranges.length;
  return { ms: done < selectors.length ? (ms * selectors.length) / done : ms, done, estimated: done < selectors.length, ranges };
}

/** UTF-16 offset in the root's text of a range boundary. */
function offsetOf(index, nodeStart, container, offset) {
  if (container.nodeType === Node.TEXT_NODE && nodeStart.has(container)) return nodeStart.get(container) + offset;
  const before = document.createRange();
  before.setStart(root(), 0);
  before.setEnd(container, offset);
  return before.toString().length;
}

/**
 * Grades ranges against where the passages really are (UTF-16 {startU16, endU16}): right when
 * the range overlaps the truth by at least half of their union; orphan when there is no range;
 * wrong otherwise. exactExtent counts the right ones that match the truth exactly;
 * wrongOntoVerbatimCopy the wrong ones that sit on an exact copy of quote + prefix + suffix.
 */
export function grade(ranges, truths, selectors = null) {
  const index = floor.textIndex(root());
  const nodeStart = new Map(index.nodes.map((n, i) => [n, index.starts[i]]));
  const out = { right: 0, exactExtent: 0, orphan: 0, wrong: 0, wrongOntoVerbatimCopy: 0, graded: ranges.length };
  const text = index.text;
  ranges.forEach((range, i) => {
    if (!range) { out.orphan += 1; return; }
    const s = offsetOf(index, nodeStart, range.startContainer, range.startOffset);
    const e = offsetOf(index, nodeStart, range.endContainer, range.endOffset);
    const t = truths[i];
    const inter = Math.max(0, Math.min(e, t.endU16) - Math.max(s, t.startU16));
    const union = Math.max(e, t.endU16) - Math.min(s, t.startU16);
    if (union > 0 && inter / union >= 0.5) {
      out.right += 1;
      if (s === t.startU16 && e === t.endU16) out.exactExtent += 1;
    } else {
      out.wrong += 1;
      // Did it land on a verbatim copy of the stored quote and its context (so that no text
      // matcher could tell it from the original without trusting the position)?
      const sel = selectors?.[i];
      if (sel && text.slice(s, e) === sel.exact && text.slice(s - sel.prefix.length, s) === sel.prefix
        && text.slice(e, e + sel.suffix.length) === sel.suffix) out.wrongOntoVerbatimCopy += 1;
    }
  });
  return out;
}

/** Fresh Ranges for the truths (what the highlighters are given). */
export function rangesFor(truths) {
  const index = floor.textIndex(root());
  return truths.map((t) => floor.rangeAt(index, document, t.startU16, t.endU16));
}

/**
 * Highlights `ranges` and waits for the next frame: 'mark' wraps each in <mark> elements with
 * Apache Annotator's highlightText (the DOM-wrapping approach); 'factmark' uses factmark's
 * highlighter through its benchmark hook.
 */
export async function highlight(tool, ranges) {
  const t0 = performance.now();
  if (tool === 'mark') {
    // Wrapping changes the DOM under later ranges; live Ranges follow the splits.
    for (const r of ranges) highlightText(r, 'mark');
  } else if (tool === 'factmark') {
    const hook = window.factmark?.bench?.highlight;
    if (!hook) throw new Error('window.factmark.bench.highlight is missing');
    hook(ranges);
  } else {
    throw new Error(`unknown highlighter ${tool}`);
  }
  const work = performance.now() - t0;
  await nextFrame();
  return { ms: performance.now() - t0, work };
}

/** RecogitoJS text-annotator: setAnnotations(W3C annotations) until the next frame ('SPANS', its default renderer, or 'CSS_HIGHLIGHTS'). */
export async function recogitoLoad(annotations, source, renderer = 'SPANS') {
  const { createTextAnnotator, W3CTextFormat } = window.RecogitoJS;
  const container = root();
  const anno = createTextAnnotator(container, { adapter: W3CTextFormat(source, container), renderer });
  await nextFrame();
  const t0 = performance.now();
  anno.setAnnotations(annotations);
  const work = performance.now() - t0;
  await nextFrame();
  const ms = performance.now() - t0;
  const internal = anno.state.store.all();
  const loaded = internal.length;
  // Which ones Recogito placed on the right words: a revived selector has a Range with the quote.
  const placed = internal.filter((a) => a.target.selector.some((s) => s.range && !s.range.collapsed && s.range.toString() === s.quote)).length;
  return { ms, work, loaded, placed };
}

/**
 * The plain-JavaScript floor of factmark's load: the least any script can do to show N stored
 * annotations. JSON.parse of the stored list, one text index of the root, each quote found from
 * its stored position (indexOf from there: no check of prefix or suffix, no fuzzy search, no
 * validation), a Range each, two Highlights registered, next frame. `pageCss` (factmark's
 * highlight style) is adopted first, as factmark does when its script loads.
 */
export async function loadFloor(key, pageCss) {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(pageCss);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  await nextFrame();
  await nextFrame();
  const t0 = performance.now();
  const list = JSON.parse(localStorage.getItem(key));
  const parsed = performance.now() - t0;
  const index = floor.textIndex(root());
  const indexed = performance.now() - t0;
  const kinds = { unverified: new Highlight(), fabricated: new Highlight() };
  let found = 0;
  for (const a of list) {
    const [quote, position] = a.target.selector;
    const at = index.text.indexOf(quote.exact, position ? position.start : 0);
    if (at < 0) continue;
    kinds[a.body[0].value].add(floor.rangeAt(index, document, at, at + quote.exact.length));
    found += 1;
  }
  CSS.highlights.set('factmark-unverified', kinds.unverified);
  CSS.highlights.set('factmark-fabricated', kinds.fabricated);
  const sync = performance.now() - t0;
  await nextFrame();
  return { ms: performance.now() - t0, sync, parsed, indexed, found };
}

window.bench = { anchor, grade, rangesFor, highlight, recogitoLoad, loadFloor, nextFrame, tools, textIndex: floor.textIndex };
