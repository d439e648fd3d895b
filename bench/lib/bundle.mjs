// Browser bundles for the benchmark pages (esbuild, in memory) and the transfer size of what a
// page must load for each tool (minified, gzip -9).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../tests/e2e/support/server.mjs';

const PAGE_DIR = path.join(REPO_ROOT, 'bench', 'page');

/** The in-page harness with every peer, as one classic script. */
export async function harnessBundle() {
  const out = await build({
    entryPoints: [path.join(PAGE_DIR, 'harness.mjs')],
    bundle: true, format: 'iife', platform: 'browser', target: 'chrome120', write: false,
    absWorkingDir: REPO_ROOT, logLevel: 'error', legalComments: 'none',
  });
  return out.outputFiles[0].text;
}

export const RECOGITO_UMD = path.join(REPO_ROOT, 'node_modules/@recogito/text-annotator/dist/text-annotator.umd.js');
export const RECOGITO_CSS = path.join(REPO_ROOT, 'node_modules/@recogito/text-annotator/dist/text-annotator.css');

/** gzip -9 size of a buffer: the gzip tool when present (as `cargo xtask build` reports), else zlib. */
export function gzip9(buf) {
  const res = spawnSync('gzip', ['-9', '-c'], { input: buf, maxBuffer: 64 << 20 });
  if (res.status === 0) return res.stdout.length;
  return zlib.gzipSync(buf, { level: 9 }).length;
}

async function minified(contents, resolveDir = PAGE_DIR) {
  const out = await build({
    stdin: { contents, resolveDir, loader: 'js' },
    bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', minify: true,
    write: false, absWorkingDir: REPO_ROOT, logLevel: 'error', legalComments: 'none',
  });
  return Buffer.from(out.outputFiles[0].contents);
}

/**
 * What a page must load for each tool to anchor (and, for the widgets, to show) annotations.
 * Libraries are measured as the minified bundle of just the functions the benchmark uses.
 */
export async function transferSizes() {
  const dist = process.env.FACTMARK_DIST || path.join(REPO_ROOT, 'dist');
  const rows = [];
  // What each kind of page loads (xtask's page_files): the loader, then one build's glue and wasm.
  const pages = [
    ['factmark', 'reader page (local storage): factmark.js + factmark_bg.js + factmark_bg.wasm (whole widget: UI, storage, anchoring)'],
    ['factmark-sync', 'endpoint page (or mounted by hand): factmark.js + factmark-sync_bg.js + factmark-sync_bg.wasm (adds the sync engine)'],
  ];
  for (const [build, what] of pages) {
    const files = ['factmark.js', `${build}_bg.js`, `${build}_bg.wasm`];
    if (!files.every((f) => fs.existsSync(path.join(dist, f)))) continue;
    const bufs = files.map((f) => fs.readFileSync(path.join(dist, f)));
    rows.push({
      tool: build, what,
      raw: bufs.reduce((n, b) => n + b.length, 0), gzip9: bufs.reduce((n, b) => n + gzip9(b), 0),
      files: Object.fromEntries(files.map((f, i) => [f, { raw: bufs[i].length, gzip9: gzip9(bufs[i]) }])),
    });
  }
  const libs = [
    ['plain-js-floor', 'TreeWalker index + indexOf (bench/page/floor.mjs)', "export { anchorAll } from './floor.mjs';"],
    ['hypothesis-style', 'approx-string-match + the scoring (anchoring only; the Hypothesis client itself loads ~73 KB + 266 KB sidebar)', "export { anchor } from './hypothesis-style.mjs';"],
    ['dom-anchor-text-quote', 'toRange (+ dom-anchor-text-position, diff-match-patch)', "export { toRange } from 'dom-anchor-text-quote';"],
    ['dom-anchor-text-position', 'toRange (+ dom-seek)', "export { toRange } from 'dom-anchor-text-position';"],
    ['@apache-annotator/dom', 'quote + position matchers, highlightText (+ babel runtime)', "export { createTextQuoteSelectorMatcher, createTextPositionSelectorMatcher, highlightText } from '@apache-annotator/dom';"],
  ];
  for (const [tool, what, entry] of libs) {
    const buf = await minified(entry);
    rows.push({ tool, what, raw: buf.length, gzip9: gzip9(buf) });
  }
  const umd = fs.readFileSync(RECOGITO_UMD);
  const css = fs.readFileSync(RECOGITO_CSS);
  rows.push({
    tool: '@recogito/text-annotator', what: 'text-annotator.umd.js + text-annotator.css as published (whole annotator)',
    raw: umd.length + css.length, gzip9: gzip9(umd) + gzip9(css),
  });
  return rows;
}
