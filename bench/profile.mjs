#!/usr/bin/env node
// Where does factmark's time go when it loads 1,000 stored annotations on the 1 MB article?
// Samples the page's CPU (Chrome DevTools Protocol profiler) around factmark.mount() and prints
// self time per function. Wasm functions have names only if the build kept its name section:
//
//   node bench/profile.mjs [--dist DIR] [--annotations N] [--top K] [--mode load|import|exact]
//
// e.g. a names build: cargo build --release --target wasm32-unknown-unknown -p factmark with
// CARGO_PROFILE_RELEASE_STRIP=false, then wasm-bindgen --target web --out-name factmark-sync into
// DIR, rename its factmark-sync.js to factmark-sync_bg.js and copy dist/factmark.js (the loader)
// beside it: the page mounts by hand, so the loader picks the sync build.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from '../tests/e2e/support/browser.mjs';
import { startServer, REPO_ROOT } from '../tests/e2e/support/server.mjs';
import { variedArticle, quotes } from './lib/article.mjs';
import { factmarkAnnotations } from './lib/annotations.mjs';
import { registerAssets, registerArticle, sourceOf } from './lib/pages.mjs';

const { values: args } = parseArgs({
  options: {
    dist: { type: 'string', default: process.env.FACTMARK_DIST || path.join(REPO_ROOT, 'dist') },
    annotations: { type: 'string', default: '1000' },
    top: { type: 'string', default: '30' },
    mode: { type: 'string', default: 'load' },
  },
});
const n = Number(args.annotations);
const article = variedArticle(1_000_000, 3);
const sels = quotes(article, n, { seed: 102 });
const anns = factmarkAnnotations(sels, sourceOf(article));

const server = await startServer({ distDir: path.resolve(args.dist) });
await registerAssets(server);
const urls = registerArticle(server, article);
const browser = await launch();
const page = await browser.newPage();
await page.goto(server.url('/blank.html'));
await page.evaluate(([k, v]) => localStorage.setItem(k, v), [`factmark:v1:${sourceOf(article)}`, args.mode === 'load' ? JSON.stringify(anns) : '[]']);
await page.goto(urls.factmarkManual);
await page.waitForFunction(() => typeof window.factmark?.mount === 'function');
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
await page.evaluate(() => window.bench.nextFrame());
await cdp.send('Profiler.start');
const ms = await page.evaluate(async ([src, mode, s]) => {
  const t0 = performance.now();
  if (mode === 'load') {
    window.factmark.mount({ root: '#bench-article', source: src });
    await window.bench.nextFrame();
  } else {
    window.factmark.mount({ root: '#bench-article', source: src });
    const t1 = performance.now();
    await window.bench.anchor('factmark', s, { usePosition: mode !== 'exact-nopos' });
    return performance.now() - t1;
  }
  return performance.now() - t0;
}, [sourceOf(article), args.mode, sels]);
const { profile } = await cdp.send('Profiler.stop');
// The widget's own phases, from its User Timing marks (src/widget.rs), to set against the samples.
const PHASES = [
  ['read page text', 'mount', 'text-read'], ['walk the DOM', 'mount', 'text-walked'],
  ['load stored', 'text-read', 'loaded'], ['anchor', 'loaded', 'anchored'],
  ['ranges and highlights', 'anchored', 'painted'], ['ui', 'painted', 'ui'], ['mount', 'mount', 'ui'],
];
const phases = await page.evaluate((spans) => {
  const at = (name) => performance.getEntriesByName(`factmark:${name}`, 'mark').at(-1)?.startTime;
  return spans.filter(([, a, b]) => at(a) != null && at(b) != null)
    .map(([name, a, b]) => [`factmark: ${name}`, at(b) - at(a)]);
}, PHASES);
await browser.close();
await server.close();

// Self time per function from the sampled profile.
const byId = new Map(profile.nodes.map((nd) => [nd.id, nd]));
const dt = new Map();
profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
const self = new Map();
let total = 0;
for (const [id, us] of dt) {
  const { callFrame: f } = byId.get(id);
  if (f.functionName === '(idle)' || f.functionName === '(program)') continue;
  const key = `${f.functionName || '(anonymous)'}  ${f.url ? path.basename(f.url) : ''}`;
  self.set(key, (self.get(key) ?? 0) + us);
  total += us;
}
// Inclusive time: each sample counts once for every distinct function on its stack.
const parent = new Map();
for (const nd of profile.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
const inclusive = new Map();
for (const [id, us] of dt) {
  const seen = new Set();
  for (let at = id; at != null; at = parent.get(at)) {
    const { callFrame: f } = byId.get(at);
    if (!f.functionName || f.functionName.startsWith('(')) continue;
    const key = `${f.functionName}  ${f.url ? path.basename(f.url) : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
const show = (title, map) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) {
    console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
console.log(`${args.mode}: ${n} annotations, 1 MB article: ${ms.toFixed(1)} ms in the page; ${(total / 1000).toFixed(1)} ms sampled`);
console.log('\nphases (User Timing, profiler running)');
for (const [name, d] of phases) console.log(`${d.toFixed(1).padStart(8)} ms  ${name}`);
show('self time', self);
show('inclusive time', inclusive);
