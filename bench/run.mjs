#!/usr/bin/env node
// Browser benchmarks for factmark (issue 3) and the peer comparison (issue 5), in one headless
// Chromium run. Every time is measured in the page (performance.now()); figures are medians.
//
//   node bench/run.mjs [--quick] [--only=size,startup,load,exact,fuzzy,highlight,peerload]
//                      [--runs=N] [--sizes=10KB,100KB,1MB] [--out=bench-results.json]
//
// Writes the sections "browser" (issue 3) and "peers" (issue 5) of bench-results.json at the
// repo root (other sections in that file are kept) and prints readable tables.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from '../tests/e2e/support/browser.mjs';
import { startServer, REPO_ROOT } from '../tests/e2e/support/server.mjs';
const DIST_DIR = process.env.FACTMARK_DIST || path.join(REPO_ROOT, 'dist');
import { variedArticle, nearDuplicateArticle, quotes, editPassages } from './lib/article.mjs';
import { factmarkAnnotations, recogitoAnnotations } from './lib/annotations.mjs';
import { registerAssets, registerArticle, sourceOf } from './lib/pages.mjs';
import { transferSizes } from './lib/bundle.mjs';
import * as report from './lib/report.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    sizes: { type: 'string' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'bench-results.json') },
  },
});
const SECTIONS = ['size', 'startup', 'load', 'exact', 'fuzzy', 'highlight', 'peerload'];
const only = new Set(args.only ? args.only.split(',') : SECTIONS);
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; known: ${SECTIONS.join(', ')}`);
const RUNS = Number(args.runs ?? (args.quick ? 2 : 5));
const STARTUP_RUNS = args.quick ? 3 : 11;
/** Per-annotation peers stop a run after this long and extrapolate (marked "est."). */
const CAP_MS = args.quick ? 4_000 : 6_000;
/** A cell stops repeating once its runs have taken this long (at least one run is kept). */
const CELL_BUDGET_MS = args.quick ? 3_000 : 6_000;
/** RecogitoJS on 1 MB / 1,000 annotations takes tens of seconds here; beyond this, give up. */
const RECOGITO_LIMIT_MS = 120_000;
const started = Date.now();
const log = (...m) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s]`, ...m);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 2) => (x == null ? x : Math.round(x * 10 ** d) / 10 ** d);

const distReady = ['factmark.js', 'factmark_bg.js', 'factmark_bg.wasm', 'factmark-sync_bg.js', 'factmark-sync_bg.wasm'].every((f) => fs.existsSync(path.join(DIST_DIR, f)));

// ---------------------------------------------------------------------------------------------
// Data: generated articles and quotes (deterministic).

log('generating articles');
const ARTICLES = {
  '10KB': variedArticle(10_000, 1),
  '100KB': variedArticle(100_000, 2),
  '1MB': variedArticle(1_000_000, 3),
};
const NEAR_DUP = nearDuplicateArticle(100_000, 7);
const QUOTES = Object.fromEntries(Object.entries(ARTICLES).map(([k, a], i) => [k, quotes(a, 1000, { seed: 100 + i })]));

const server = await startServer();
await registerAssets(server);
const browser = await launch(['--js-flags=--expose-gc']);
const chromium = browser.version();
const results = {
  browser: { chromium, generated: new Date().toISOString(), notes: [] },
  peers: { chromium, generated: new Date().toISOString(), articles: {}, notes: [] },
};
for (const [k, a] of [...Object.entries(ARTICLES), ['near-duplicate 100KB', NEAR_DUP]]) {
  results.peers.articles[k] = { name: a.name, utf16Units: a.text.length, paragraphs: a.paragraphs.length };
}

async function openPage(url, { storage } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    window.__fmReady = new Promise((resolve) => {
      document.addEventListener('factmark:ready', (e) => resolve({ t: performance.now(), detail: e.detail ?? null }), { once: true });
    });
  });
  if (storage) {
    await page.goto(server.url('/blank.html'));
    await page.evaluate((kv) => { localStorage.clear(); for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v); }, storage);
  }
  await page.goto(url, { timeout: 60_000 });
  page.errors = errors;
  return { context, page };
}

/** The page shows exactly the generated text (so offsets and truths mean what they say). */
async function assertArticleText(page, article) {
  const same = await page.evaluate((t) => document.querySelector('#bench-article').textContent === t, article.text);
  if (!same) throw new Error(`${article.name}: the page's text differs from the generated text`);
}

async function factmarkReady(page, timeout = 30_000) {
  return page.evaluate((ms) => Promise.race([
    window.__fmReady,
    new Promise((_, reject) => setTimeout(() => reject(new Error('factmark:ready did not fire')), ms)),
  ]), timeout);
}

async function hasHook(page, name) {
  return page.evaluate((n) => typeof window.factmark?.bench?.[n] === 'function', name);
}

/** page.evaluate that gives up after `ms` (a peer can take minutes on the largest inputs). */
async function evaluateWithin(page, ms, fn, arg) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([page.evaluate(fn, arg), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Repeats `once()` (→ {ms, ...}) up to `runs` times within the cell budget; median of ms. */
async function repeat(runs, once) {
  const samples = [];
  let last;
  let spent = 0;
  for (let i = 0; i < runs; i += 1) {
    last = await once(i);
    samples.push(last.ms);
    spent += last.ms;
    if (spent > CELL_BUDGET_MS || last.estimated) break;
  }
  return { ...last, ms: round(median(samples)), samples: samples.map((x) => round(x)), runs: samples.length };
}

// ---------------------------------------------------------------------------------------------
// Issue 3: transfer size, start-up, loading 1,000 stored annotations.

if (only.has('size')) {
  log('transfer sizes');
  const sizes = await transferSizes();
  results.peers.size = sizes;
  const fm = sizes.find((s) => s.tool === 'factmark');
  const sync = sizes.find((s) => s.tool === 'factmark-sync');
  // The target is read on a reader page (the default embed); pages with an endpoint load the
  // larger build, reported beside it.
  results.browser.transfer = fm
    ? {
      page: 'reader page', bytesRaw: fm.raw, bytesGzip9: fm.gzip9, files: fm.files, limitBytes: 150_000, met: fm.gzip9 <= 150_000,
      endpointPage: sync ? { bytesRaw: sync.raw, bytesGzip9: sync.gzip9, files: sync.files, met: sync.gzip9 <= 150_000 } : null,
    }
    : { error: 'dist/ not built' };
}

/**
 * One start-up on a page in a fresh context (no HTTP cache): `factmark:ready` and the page's own
 * first paint, both in ms after the start of the request for `script`. A widget must not hold the
 * page's first paint back, so the main thread paints the page before the widget's last steps run.
 */
async function startupOnce(url, script) {
  const { context, page } = await openPage(url);
  try {
    const ready = await factmarkReady(page);
    const t = await page.evaluate(async (p) => {
      const e = performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname === p);
      const paint = await new Promise((resolve) => {
        new PerformanceObserver((list, observer) => {
          const fp = list.getEntries().find((x) => x.name === 'first-paint');
          if (fp) { observer.disconnect(); resolve(fp.startTime); }
        }).observe({ type: 'paint', buffered: true });
        setTimeout(() => resolve(null), 2000);
      });
      return { start: e ? e.startTime : null, paint };
    }, script);
    if (t.start == null) throw new Error(`${url} did not load ${script}`);
    return { ms: ready.t - t.start, fromNavigation: ready.t, firstPaint: t.paint == null ? null : t.paint - t.start };
  } finally {
    await context.close();
  }
}

function startupSummary(runs) {
  const paints = runs.map((r) => r.firstPaint).filter((x) => x != null);
  return {
    ms: round(median(runs.map((r) => r.ms))), samples: runs.map((r) => round(r.ms)),
    fromNavigationMs: round(median(runs.map((r) => r.fromNavigation))), runs: runs.length,
    firstPaintMs: paints.length ? round(median(paints)) : null,
  };
}

if (only.has('startup')) {
  if (!distReady || !fs.existsSync(path.join(REPO_ROOT, 'index.html'))) {
    results.browser.startup = { error: 'dist/ or index.html missing' };
  } else {
    log('start-up on the demo page, and its floors');
    const demo = fs.readFileSync(path.join(REPO_ROOT, 'index.html'), 'utf8');
    const pages = { widget: [server.url('/'), '/dist/factmark.js'] };
    // The same page as a reader page (no data-endpoint), which loads the smaller build.
    const readerDemo = demo.replace(/ data-endpoint="[^"]*"/, '');
    if (readerDemo === demo) throw new Error('the demo page no longer has data-endpoint');
    pages.reader = [server.page('/bench/startup-reader.html', readerDemo, { type: 'text/html; charset=utf-8' }), '/dist/factmark.js'];
    // Each floor is a page whose script does part of what the widget does, then fires
    // factmark:ready: on the demo page (it gives an endpoint, so the sync build), or on the reader
    // page (the reader build). What a floor costs, the widget cannot avoid.
    const compileOnly = (wasm) => `await WebAssembly.compileStreaming(fetch('${wasm}'));\n`;
    const glueInit = (name) => `const wasm = fetch('/dist/${name}_bg.wasm');\nconst glue = await import('/dist/${name}_bg.js');\nawait glue.default({ module_or_path: wasm });\n`;
    // The smallest valid wasm module (its 8-byte header): what waiting for any wasm costs.
    server.page('/bench/startup-floor/empty.wasm', Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), { type: 'application/wasm' });
    const floors = {
      compile: [demo, compileOnly('/dist/factmark-sync_bg.wasm')],
      instantiate: [demo, glueInit('factmark-sync')],
      readerCompile: [readerDemo, compileOnly('/dist/factmark_bg.wasm')],
      readerInstantiate: [readerDemo, glueInit('factmark')],
      emptyWasm: [demo, compileOnly('/bench/startup-floor/empty.wasm')],
      empty: [demo, ''],
    };
    for (const [name, [html, body]] of Object.entries(floors)) {
      const script = `/bench/startup-floor/${name}.js`;
      server.page(script, `${body}document.dispatchEvent(new Event('factmark:ready'));\n`, { type: 'text/javascript; charset=utf-8' });
      pages[name] = [server.page(`/bench/startup-floor/${name}.html`, html.replace('/dist/factmark.js', script), { type: 'text/html; charset=utf-8' }), script];
    }
    // The first page a fresh browser opens pays the browser's own set-up: one load not counted.
    await startupOnce(...pages.widget);
    // Interleaved, so a busy moment on the machine falls on all of them alike.
    const runs = Object.fromEntries(Object.keys(pages).map((k) => [k, []]));
    for (let i = 0; i < STARTUP_RUNS; i += 1) {
      for (const [name, [url, script]] of Object.entries(pages)) runs[name].push(await startupOnce(url, script));
    }
    const r = startupSummary(runs.widget);
    results.browser.startup = {
      page: 'index.html (demo)', measure: 'factmark:ready − start of the /dist/factmark.js request, fresh context, no HTTP cache; one warm-up load not counted; runs interleaved with the floors',
      ...r, targetMs: 100, met: r.ms <= 100,
    };
    results.browser.startupReader = { page: 'index.html without data-endpoint (reader build)', ...startupSummary(runs.reader) };
    results.browser.startupFloor = Object.fromEntries(Object.keys(floors).map((k) => [k, startupSummary(runs[k])]));
  }
}

/**
 * factmark loading N stored annotations on `article`. The page opens with them in localStorage
 * and the widget loaded but not started (data-manual); timed in the page from the
 * factmark.mount() call (which reads storage, parses, anchors and registers highlights) to the
 * next frame. A fresh page per run, so each run is a reader's first load. Also reported: a
 * second mount in the same page (warm code).
 */
async function factmarkLoad(article, annotations, runs) {
  const urls = registerArticle(server, article);
  const key = `factmark:v1:${sourceOf(article)}`;
  const source = sourceOf(article);
  const once = async () => {
    const { context, page } = await openPage(urls.factmarkManual, { storage: { [key]: JSON.stringify(annotations) } });
    await page.waitForFunction(() => typeof window.factmark?.mount === 'function', null, { timeout: 60_000 });
    const m = await page.evaluate(async ([src, want]) => {
      const highlighted = () => ['factmark-unverified', 'factmark-fabricated'].reduce((n, k) => n + (CSS.highlights.get(k)?.size ?? 0), 0);
      await window.bench.nextFrame();
      await window.bench.nextFrame();
      const t0 = performance.now();
      window.factmark.mount({ root: '#bench-article', source: src });
      const sync = performance.now() - t0;
      await window.bench.nextFrame();
      const ms = performance.now() - t0;
      const out = { ms, sync, highlighted: highlighted(), stats: window.factmark.stats() };
      window.factmark.unmount();
      await window.bench.nextFrame();
      const t1 = performance.now();
      window.factmark.mount({ root: '#bench-article', source: src });
      await window.bench.nextFrame();
      out.warm = performance.now() - t1;
      out.complete = out.highlighted === want;
      return out;
    }, [source, annotations.length]);
    await context.close();
    if (!m.complete) throw new Error(`only ${m.highlighted} of ${annotations.length} annotations highlighted: ${JSON.stringify(m.stats)}`);
    return m;
  };
  const samples = [];
  for (let i = 0; i < runs; i += 1) samples.push(await once());
  const med = (f) => round(median(samples.map(f)));
  return {
    ms: med((m) => m.ms),
    method: 'factmark.mount() with the annotations in localStorage → next frame, fresh page',
    synchronousMs: med((m) => m.sync),
    warmMountMs: med((m) => m.warm),
    samples: samples.map((m) => round(m.ms)),
    highlighted: samples.at(-1).highlighted,
    stats: samples.at(-1).stats,
    runs,
  };
}

/** The plain-JavaScript floor of the same load (bench/page/harness.mjs loadFloor), fresh page per run. */
async function loadFloor(article, annotations, runs) {
  const urls = registerArticle(server, article);
  const key = `factmark:v1:${sourceOf(article)}`;
  const css = fs.readFileSync(path.join(REPO_ROOT, 'style', 'highlights.css'), 'utf8');
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const { context, page } = await openPage(urls.peers, { storage: { [key]: JSON.stringify(annotations) } });
    samples.push(await page.evaluate(([k, c]) => window.bench.loadFloor(k, c), [key, css]));
    await context.close();
  }
  if (samples.some((m) => m.found !== annotations.length)) throw new Error('the floor did not find every quote');
  const med = (f) => round(median(samples.map(f)));
  return {
    ms: med((m) => m.ms), synchronousMs: med((m) => m.sync), parseMs: med((m) => m.parsed),
    textIndexMs: med((m) => m.indexed - m.parsed), samples: samples.map((m) => round(m.ms)), runs,
    method: 'plain JavaScript: JSON.parse, TreeWalker text index, indexOf from the stored position, Range + Highlight each, next frame (no validation, no disambiguation, no UI)',
  };
}

if (only.has('load')) {
  log('plain-JavaScript floor of the same load');
  let floorResult;
  try {
    floorResult = await loadFloor(ARTICLES['1MB'], factmarkAnnotations(QUOTES['1MB'], sourceOf(ARTICLES['1MB'])), args.quick ? 2 : 5);
  } catch (err) {
    floorResult = { error: String(err.message ?? err) };
  }
  results.browser.load1000Floor = floorResult;
  if (!distReady) {
    results.browser.load1000 = { error: 'dist/ not built' };
  } else {
    log('factmark: loading 1,000 stored annotations on the 1 MB article');
    const anns = factmarkAnnotations(QUOTES['1MB'], sourceOf(ARTICLES['1MB']));
    try {
      const r = await factmarkLoad(ARTICLES['1MB'], anns, args.quick ? 2 : 5);
      results.browser.load1000 = { article: ARTICLES['1MB'].name, annotations: anns.length, ...r, targetMs: 50, met: r.ms <= 50 };
    } catch (err) {
      results.browser.load1000 = { error: String(err.message ?? err) };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Issue 5, workload 1: exact anchoring.

const PEER_TOOLS = ['plain-js-floor', 'hypothesis-style', 'dom-anchor-text-quote', 'dom-anchor-text-position', '@apache-annotator/dom'];

const warmed = new WeakMap();

async function anchorCell(page, tool, dataKey, truthKey, { usePosition, n }) {
  // One warm-up per page and tool, so that timed runs measure compiled code, not the first call.
  const seen = warmed.get(page) ?? new Set();
  warmed.set(page, seen);
  if (!seen.has(tool)) {
    seen.add(tool);
    await page.evaluate(async ([t, k, p, cap]) => {
      await window.bench.anchor(t, window.__data[k].slice(0, 3), { usePosition: p, capMs: cap });
    }, [tool, dataKey, usePosition, CAP_MS / 5]);
  }
  const cell = await repeat(RUNS, async () => page.evaluate(async ([t, k, p, count, cap, tk]) => {
    if (typeof gc === 'function') gc();
    const sels = window.__data[k].slice(0, count);
    const res = await window.bench.anchor(t, sels, { usePosition: p, capMs: cap });
    const truths = window.__data[tk].slice(0, res.ranges.length);
    const g = window.bench.grade(res.ranges, truths, sels.slice(0, res.ranges.length));
    return { ms: res.ms, done: res.done, estimated: res.estimated, method: res.method ?? undefined, ...g };
  }, [tool, dataKey, usePosition, n, CAP_MS, truthKey]));
  return cell;
}

const skip = (why) => ({ skipped: why });

async function factmarkPage(article) {
  if (!distReady) return { error: 'dist/ not built' };
  const urls = registerArticle(server, article);
  // data-manual: the build with window.factmark.bench (reader pages do not carry the hook).
  const { context, page } = await openPage(urls.factmarkManual);
  try {
    await page.waitForFunction(() => typeof window.factmark?.mount === 'function', null, { timeout: 60_000 });
    await page.evaluate((source) => window.factmark.mount({ root: '#bench-article', source }), sourceOf(article));
    await factmarkReady(page, 60_000);
  } catch (err) {
    await context.close();
    return { error: String(err.message ?? err) };
  }
  return { context, page };
}

if (only.has('exact')) {
  results.peers.exact = [];
  const sizes = args.sizes ? args.sizes.split(',') : Object.keys(ARTICLES);
  for (const [size, article] of Object.entries(ARTICLES).filter(([k]) => sizes.includes(k))) {
    const urls = registerArticle(server, article);
    const sels = QUOTES[size];
    const pages = {};
    const peers = await openPage(urls.peers);
    await assertArticleText(peers.page, article);
    await peers.page.evaluate((d) => { window.__data = { sels: d, truths: d }; }, sels);
    pages.peer = peers.page;
    const fm = await factmarkPage(article);
    if (fm.page) {
      await fm.page.evaluate((d) => { window.__data = { sels: d, truths: d }; }, sels);
    }
    for (const n of [100, 1000]) {
      for (const usePosition of [false, true]) {
        const row = { article: size, quotes: n, positions: usePosition, tools: {} };
        log(`exact: ${size}, ${n} quotes, ${usePosition ? 'with' : 'without'} positions`);
        row.tools.factmark = fm.error ? { error: fm.error } : await anchorCell(fm.page, 'factmark', 'sels', 'truths', { usePosition, n });
        for (const tool of PEER_TOOLS) {
          if (tool === 'dom-anchor-text-position' && !usePosition) { row.tools[tool] = skip('needs positions'); continue; }
          // A tool whose 100 quotes already took most of the cap costs the same per quote on
          // 1,000: extrapolate rather than spend minutes on it.
          const small = n === 1000 && results.peers.exact.find((r) => r.article === size && r.quotes === 100 && r.positions === usePosition)?.tools[tool];
          if (small && typeof small.ms === 'number' && small.ms * 10 > CAP_MS) {
            row.tools[tool] = { ...small, ms: small.ms * 10, estimated: true, done: 0, extrapolatedFrom: '100 quotes ×10', samples: undefined, right: undefined, orphan: undefined, wrong: undefined, exactExtent: undefined, graded: undefined };
            continue;
          }
          row.tools[tool] = await anchorCell(pages.peer, tool, 'sels', 'truths', { usePosition, n });
        }
        results.peers.exact.push(row);
      }
    }
    await peers.context.close();
    await fm.context?.close();
  }
}

// Workload 2: fuzzy re-anchoring after edits (100 quotes, 100 KB varied and near-duplicate).

if (only.has('fuzzy')) {
  results.peers.fuzzy = [];
  const sets = [
    ['varied 100KB', ARTICLES['100KB'], QUOTES['100KB'].slice(0, 300)],
    ['near-duplicate 100KB', NEAR_DUP, quotes(NEAR_DUP, 300, { seed: 31, unique: false })],
  ];
  for (const [label, original, pool] of sets) {
    const { article, cases } = editPassages(original, pool);
    const used = cases.slice(0, 100);
    if (used.length < 100) throw new Error(`only ${used.length} separable quotes for ${label}`);
    const sels = used.map((c) => c.selector);
    const truths = used.map((c) => c.truth);
    const ambiguous = sels.filter((s) => original.text.indexOf(s.exact) !== original.text.lastIndexOf(s.exact)).length;
    // After the edit, how many stored quotes (with their whole context) still occur verbatim
    // somewhere else: there, only the position tells the edited passage from the copy.
    const verbatimElsewhere = sels.filter((s) => article.text.includes(s.prefix + s.exact + s.suffix)).length;
    const row = {
      article: label, quotes: used.length, quoteNotUniqueBeforeEdit: ambiguous, verbatimCopyAfterEdit: verbatimElsewhere,
      edits: countBy(used.map((c) => c.kind)), tools: {},
    };
    log(`fuzzy: ${label}`);
    const urls = registerArticle(server, article);
    const peers = await openPage(urls.peers);
    await assertArticleText(peers.page, article);
    await peers.page.evaluate(([s, t]) => { window.__data = { sels: s, truths: t }; }, [sels, truths]);
    const fm = await factmarkPage(article);
    if (fm.page) {
      await fm.page.evaluate(([s, t]) => { window.__data = { sels: s, truths: t }; }, [sels, truths]);
    }
    row.tools.factmark = fm.error ? { error: fm.error } : await anchorCell(fm.page, 'factmark', 'sels', 'truths', { usePosition: true, n: 100 });
    for (const tool of PEER_TOOLS) row.tools[tool] = await anchorCell(peers.page, tool, 'sels', 'truths', { usePosition: true, n: 100 });
    results.peers.fuzzy.push(row);
    await peers.context.close();
    await fm.context?.close();
  }
}

function countBy(xs) {
  const out = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

// Workload 3: highlighting 1,000 ranges until the next frame (1 MB article).

if (only.has('highlight')) {
  log('highlight: 1,000 ranges on the 1 MB article');
  const article = ARTICLES['1MB'];
  const urls = registerArticle(server, article);
  const truths = QUOTES['1MB'];
  const row = { article: '1MB', ranges: truths.length, tools: {} };
  const mark = await repeat(RUNS, async () => {
    const { context, page } = await openPage(urls.peers); // wrapping changes the DOM: a fresh page per run
    const r = await page.evaluate(async (t) => {
      const ranges = window.bench.rangesFor(t);
      await window.bench.nextFrame();
      const m = await window.bench.highlight('mark', ranges);
      return { ...m, marks: document.querySelectorAll('article mark').length };
    }, truths);
    await context.close();
    return r;
  });
  row.tools['<mark> wrapping (@apache-annotator/dom highlightText)'] = mark;
  const fm = await factmarkPage(article);
  if (fm.error || !(await hasHook(fm.page, 'highlight'))) {
    row.tools.factmark = { error: fm.error ?? 'window.factmark.bench.highlight is missing' };
  } else {
    row.tools.factmark = await repeat(RUNS, async () => fm.page.evaluate(async (t) => {
      const ranges = window.bench.rangesFor(t);
      window.factmark.bench.highlight([]);
      await window.bench.nextFrame();
      const m = await window.bench.highlight('factmark', ranges);
      const registered = ['factmark-unverified', 'factmark-fabricated'].reduce((n, k) => n + (CSS.highlights.get(k)?.size ?? 0), 0);
      return { ...m, registered };
    }, truths));
  }
  await fm.context?.close();
  results.peers.highlight = [row];
}

// Workload 4: loading 1,000 stored annotations end to end (factmark vs Recogito).

if (only.has('peerload')) {
  log('load: 1,000 annotations on the 1 MB article (factmark vs RecogitoJS)');
  const article = ARTICLES['1MB'];
  const urls = registerArticle(server, article);
  const row = { article: '1MB', annotations: 1000, tools: {} };
  const recogito = recogitoAnnotations(QUOTES['1MB'], sourceOf(article));
  for (const renderer of ['SPANS', 'CSS_HIGHLIGHTS']) {
    const label = `@recogito/text-annotator (${renderer === 'SPANS' ? 'default SPANS renderer' : 'CSS_HIGHLIGHTS renderer'})`;
    try {
      row.tools[label] = await repeat(Math.min(RUNS, 3), async () => {
        const { context, page } = await openPage(urls.peers);
        try {
          return await evaluateWithin(page, RECOGITO_LIMIT_MS, async ([a, s, r]) => window.bench.recogitoLoad(a, s, r), [recogito, sourceOf(article), renderer]);
        } finally {
          await context.close();
        }
      });
    } catch (err) {
      row.tools[label] = { error: String(err.message ?? err) };
    }
  }
  if (results.browser.load1000 && !results.browser.load1000.error) {
    row.tools.factmark = { ...results.browser.load1000 };
  } else if (distReady) {
    try {
      row.tools.factmark = await factmarkLoad(article, factmarkAnnotations(QUOTES['1MB'], sourceOf(article)), args.quick ? 2 : 5);
    } catch (err) {
      row.tools.factmark = { error: String(err.message ?? err) };
    }
  } else {
    row.tools.factmark = { error: 'dist/ not built' };
  }
  results.peers.load = [row];
}

await browser.close();
await server.close();

// ---------------------------------------------------------------------------------------------
// Output: JSON sections merged into bench-results.json, and tables.

results.browser.elapsedSeconds = round((Date.now() - started) / 1000, 1);
results.peers.goals = report.goals(results);
const markdown = report.markdown(results);
results.browser.markdown = markdown.browser;
results.peers.markdown = markdown.peers;

let merged = {};
try { merged = JSON.parse(fs.readFileSync(args.out, 'utf8')); } catch { merged = {}; }
if (typeof merged !== 'object' || merged === null || Array.isArray(merged)) merged = {};
for (const key of ['browser', 'peers']) {
  const touched = key === 'browser' ? ['size', 'startup', 'load'].some((s) => only.has(s)) : true;
  if (touched) merged[key] = { ...(args.only ? merged[key] ?? {} : {}), ...results[key] };
}
const tmp = `${args.out}.tmp`;
fs.writeFileSync(tmp, JSON.stringify(merged, null, 2) + '\n');
fs.renameSync(tmp, args.out);

console.log(markdown.browser);
console.log(markdown.peers);
log(`done; results in ${path.relative(process.cwd(), args.out) || args.out}`);
