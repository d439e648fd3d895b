// W3C Web Annotations in factmark's vocabulary (see core/src/model.rs), built in node for the
// benchmarks: selectors describe generated quotes, positions in code points.

import { rng } from './article.mjs';

const CONTEXT = 'http://www.w3.org/ns/anno.jsonld';

/** A deterministic v4-shaped UUID from a seeded generator. */
function uuid(r) {
  const hex = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(r() * 4)];
  const h = hex.join('');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * One factmark annotation per selector: alternating flags, a short note, every fifth with an
 * evidence link; TextQuoteSelector + TextPositionSelector (code points) on `source`.
 */
export function factmarkAnnotations(selectors, source, { seed = 5, positions = true } = {}) {
  const r = rng(seed);
  const base = Date.UTC(2026, 10, 20, 9, 0, 0);
  return selectors.map((s, i) => {
    const created = new Date(base + i * 61_000).toISOString();
    const body = [
      { type: 'TextualBody', purpose: 'assessing', value: i % 2 ? 'fabricated' : 'unverified' },
      { type: 'TextualBody', purpose: 'commenting', value: `Benchmark note ${i}: source not found.`, format: 'text/plain' },
    ];
    if (i % 5 === 0) body.push({ type: 'SpecificResource', purpose: 'linking', source: `https://factcheck.example/claims/${i}` });
    const selector = [{ type: 'TextQuoteSelector', exact: s.exact, prefix: s.prefix, suffix: s.suffix }];
    if (positions) selector.push({ type: 'TextPositionSelector', start: s.start, end: s.end });
    return {
      '@context': CONTEXT,
      id: uuid(r),
      type: 'Annotation',
      motivation: 'assessing',
      created,
      body,
      target: {
        type: 'SpecificResource',
        source,
        selector,
        state: { type: 'TimeState', sourceDate: created },
      },
    };
  });
}

/**
 * The same passages as RecogitoJS's W3C adapter reads them: TextQuoteSelector + a
 * TextPositionSelector in UTF-16 units relative to the container's text.
 */
export function recogitoAnnotations(selectors, source, { seed = 5 } = {}) {
  const r = rng(seed);
  return selectors.map((s, i) => ({
    '@context': CONTEXT,
    id: uuid(r),
    type: 'Annotation',
    body: [{ type: 'TextualBody', purpose: 'commenting', value: `Benchmark note ${i}: source not found.` }],
    target: {
      source,
      selector: [
        { type: 'TextQuoteSelector', exact: s.exact },
        { type: 'TextPositionSelector', start: s.startU16, end: s.endU16 },
      ],
    },
  }));
}
