// window.factmark.bench, the hook the browser benchmarks time (bench/run.mjs): it must anchor the
// way the widget does — quotes found, moved passages found by quote, missing ones null — and
// highlight exactly the ranges given, without touching the article. The hook is in the build
// that pages with data-manual (or data-endpoint) load; reader pages do not carry it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite } from './support/setup.mjs';
import { waitReady, highlightTexts, takeMutations, assertNoHostMutation } from './support/page.mjs';

const env = suite();

test('bench.anchor ends in DOM Ranges of the quoted words; bench.highlight shows them', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl({ attrs: JSON.stringify({ root: 'article', manual: '' }) }));
  await page.waitForFunction(() => typeof window.factmark?.mount === 'function');
  await page.evaluate(() => window.factmark.mount({ root: 'article' }));
  await waitReady(page);
  const result = await page.evaluate(() => {
    const root = document.querySelector('article');
    const paragraphs = [...root.querySelectorAll('p')].filter((p) => p.textContent.length > 120);
    const quotes = paragraphs.slice(0, 3).map((p) => p.textContent.slice(10, 70));
    // Code-point position of each quote in the root's text (the article has no hidden text
    // before these paragraphs, so textContent counts as the widget does).
    const cpIndex = (s) => [...root.textContent.slice(0, root.textContent.indexOf(s))].length;
    const selectors = [
      { exact: quotes[0] },
      { exact: quotes[1], start: cpIndex(quotes[1]), end: cpIndex(quotes[1]) + [...quotes[1]].length },
      // A stale position: the quote is still found, by its words.
      { exact: quotes[2], start: 0, end: [...quotes[2]].length },
      { exact: 'words that appear nowhere in this article at all, surely not' },
    ];
    const ranges = window.factmark.bench.anchor(selectors, root);
    window.factmark.bench.highlight(ranges.filter(Boolean));
    return { quotes, texts: ranges.map((r) => (r ? r.toString() : null)) };
  });
  assert.equal(new Set(result.quotes).size, 3);
  assert.deepEqual(result.texts, [result.quotes[0], result.quotes[1], result.quotes[2], null]);
  assert.deepEqual((await highlightTexts(page, 'factmark-unverified')).sort(), [...result.quotes].sort());
  assertNoHostMutation(await takeMutations(page), 'bench hook');
});
