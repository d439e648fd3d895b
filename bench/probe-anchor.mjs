#!/usr/bin/env node
// Where factmark's benchmark anchoring time goes on the 1 MB article: the hook with no
// selectors (text read only), with 1,000 selectors with and without positions, next to the
// plain-JS floor; medians of --runs (default 7) calls in one page.
//
//   node bench/probe-anchor.mjs [--runs=N]

import { parseArgs } from 'node:util';
import { launch } from '../tests/e2e/support/browser.mjs';
import { startServer } from '../tests/e2e/support/server.mjs';
import { variedArticle, quotes } from './lib/article.mjs';
import { registerAssets, registerArticle } from './lib/pages.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const article = variedArticle(1_000_000, 3);
const sels = quotes(article, 1000, { seed: 102 });
const server = await startServer();
await registerAssets(server);
const urls = registerArticle(server, article);
const browser = await launch(['--js-flags=--expose-gc']);
const page = await browser.newPage();
await page.goto(urls.factmarkManual); // data-manual: the build with window.factmark.bench
await page.waitForFunction(() => typeof window.factmark?.bench?.anchor === 'function', null, { timeout: 60_000 });
const out = await page.evaluate(async ([sels, runs]) => {
  const root = document.querySelector('article');
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const withPos = sels.map((s) => ({ exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end }));
  const noPos = sels.map((s) => ({ exact: s.exact, prefix: s.prefix, suffix: s.suffix }));
  const time = async (f) => {
    const xs = [];
    for (let i = 0; i < runs; i += 1) {
      if (typeof gc === 'function') gc();
      await window.bench.nextFrame();
      const t0 = performance.now();
      f();
      xs.push(performance.now() - t0);
    }
    return Math.round(med(xs) * 10) / 10;
  };
  return {
    textOnly: await time(() => window.factmark.bench.anchor([], root)),
    positions1000: await time(() => window.factmark.bench.anchor(withPos, root)),
    noPositions1000: await time(() => window.factmark.bench.anchor(noPos, root)),
    floorPositions1000: await time(() => window.bench.anchor('plain-js-floor', sels, { usePosition: true })),
    floorNoPositions1000: await time(() => window.bench.anchor('plain-js-floor', sels, { usePosition: false })),
  };
}, [sels, Number(args.runs)]);
console.log(JSON.stringify(out));
await browser.close();
await server.close();
