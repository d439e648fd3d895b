#!/usr/bin/env node
// Lists the fuzzy-workload cases a tool gets wrong (the same articles, edits and selectors as
// bench/run.mjs), with what it found, what was there, and the context at the landing spot:
//
//   node bench/inspect-fuzzy.mjs [--article varied|near-duplicate] [--tool factmark|hypothesis-style|…]

import { parseArgs } from 'node:util';
import { launch } from '../tests/e2e/support/browser.mjs';
import { startServer } from '../tests/e2e/support/server.mjs';
import { variedArticle, nearDuplicateArticle, quotes, editPassages } from './lib/article.mjs';
import { registerAssets, registerArticle } from './lib/pages.mjs';

const { values: args } = parseArgs({
  options: { article: { type: 'string', default: 'near-duplicate' }, tool: { type: 'string', default: 'factmark' } },
});
// Same seeds as bench/run.mjs.
const original = args.article === 'varied' ? variedArticle(100_000, 2) : nearDuplicateArticle(100_000, 7);
const pool = args.article === 'varied'
  ? quotes(original, 1000, { seed: 101 }).slice(0, 300)
  : quotes(original, 300, { seed: 31, unique: false });
const { article, cases } = editPassages(original, pool);
const used = cases.slice(0, 100);

const server = await startServer();
await registerAssets(server);
const urls = registerArticle(server, article);
const browser = await launch();
const page = await browser.newPage();
// data-manual: the build with window.factmark.bench.
await page.goto(args.tool === 'factmark' ? urls.factmarkManual : urls.peers);
if (args.tool === 'factmark') await page.waitForFunction(() => typeof window.factmark?.bench?.anchor === 'function');
const found = await page.evaluate(async ([sels, tool]) => {
  const res = await window.bench.anchor(tool, sels, { usePosition: true });
  const index = window.bench.textIndex(document.querySelector('article'));
  const start = new Map(index.nodes.map((n, i) => [n, index.starts[i]]));
  return res.ranges.map((r) => (r ? [start.get(r.startContainer) + r.startOffset, start.get(r.endContainer) + r.endOffset] : null));
}, [used.map((c) => c.selector), args.tool]);
await browser.close();
await server.close();

const T = article.text;
let wrong = 0;
used.forEach((c, i) => {
  const got = found[i];
  if (!got) return;
  const [s, e] = got;
  const { startU16: ts, endU16: te } = c.truth;
  const inter = Math.max(0, Math.min(e, te) - Math.max(s, ts));
  if (inter / (Math.max(e, te) - Math.min(s, ts)) >= 0.5) return;
  wrong += 1;
  const sel = c.selector;
  console.log(`#${i} ${c.kind}: stored at ${sel.startU16}, edited passage now at ${ts}, ${args.tool} chose ${s} (${s - ts > 0 ? '+' : ''}${s - ts})`);
  console.log(`  stored quote:  ${JSON.stringify(sel.exact)}`);
  console.log(`  edited text:   ${JSON.stringify(T.slice(ts, te))}`);
  console.log(`  chosen text:   ${JSON.stringify(T.slice(s, e))}`);
  console.log(`  prefix  stored ${JSON.stringify(sel.prefix)} | at choice ${JSON.stringify(T.slice(s - sel.prefix.length, s))}`);
  console.log(`  suffix  stored ${JSON.stringify(sel.suffix)} | at choice ${JSON.stringify(T.slice(e, e + sel.suffix.length))}`);
});
console.log(`${wrong} wrong of ${used.length} (${found.filter((f) => !f).length} orphans)`);
