// dist/factmark.js loads one of two builds: reader pages (local storage) get factmark_bg.wasm,
// pages with data-endpoint or data-manual get factmark-sync_bg.wasm with the sync engine. What a
// page downloads, what happens when the reader build is asked for an endpoint later, and what a
// page hears when the widget cannot load at all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from './support/setup.mjs';
import { REPO_ROOT } from './support/server.mjs';
import { FIXTURE_SOURCE, storageKey, waitReady, events, storedAnnotations } from './support/page.mjs';

const env = suite();

/** The dist/ files a page requests, by name. */
function watchDist(page) {
  const seen = [];
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.startsWith('/dist/')) seen.push(p.slice('/dist/'.length));
  });
  return seen;
}

const READER = ['factmark.js', 'factmark_bg.wasm', 'factmark_bg.js'];
const SYNC = ['factmark.js', 'factmark-sync_bg.wasm', 'factmark-sync_bg.js'];

test('a reader page downloads the reader build only; data-endpoint and data-manual pages the sync build only', async (t) => {
  const cases = [
    ['reader page', {}, READER],
    ['data-endpoint', { root: 'article', endpoint: '/annotations/' }, SYNC],
    ['data-manual', { root: 'article', manual: '' }, SYNC],
  ];
  for (const [label, attrs, want] of cases) {
    const { page } = await env.open(t);
    const seen = watchDist(page);
    await page.goto(Object.keys(attrs).length ? env.fixtureUrl({ attrs: JSON.stringify(attrs) }) : env.fixtureUrl());
    if ('manual' in attrs) {
      await page.waitForFunction(() => typeof window.factmark?.mount === 'function');
      await page.evaluate(() => window.factmark.mount({ root: 'article' }));
    }
    await waitReady(page);
    assert.deepEqual([...seen].sort(), [...want].sort(), label);
    assert.deepEqual(page.errors, [], label);
    // The benchmark hook is only in the sync build.
    assert.equal(await page.evaluate(() => typeof window.factmark.bench), want === SYNC ? 'object' : 'undefined', label);
  }
});

test('the reader build asked for an endpoint later says it has no sync engine and keeps flags in this browser', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await page.evaluate(() => {
    window.factmark.unmount();
    window.factmark.mount({ root: 'article', endpoint: '/annotations/' });
  });
  await page.waitForFunction(() => window.__fm.ready === 2);
  const errors = await events(page, 'error');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0].detail.message, /endpoint not used: .*without endpoint support.*data-endpoint/);

  const id = await page.evaluate(async () => {
    const text = [...document.querySelectorAll('article p')].find((p) => p.textContent.length > 80).firstChild;
    const range = document.createRange();
    range.setStart(text, 0);
    range.setEnd(text, 40);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    const a = await window.factmark.flagSelection('unverified', 'kept locally');
    return a.id;
  });
  const stored = await storedAnnotations(page, FIXTURE_SOURCE);
  assert.deepEqual(stored.map((a) => a.id), [id], `stored under ${storageKey(FIXTURE_SOURCE)}`);
});

test('when the widget cannot load, the page gets factmark:error and nothing else changes', async (t) => {
  // The loader alone, with no build beside it: both the glue and the wasm answer 404.
  const loader = fs.readFileSync(path.join(process.env.FACTMARK_DIST || path.join(REPO_ROOT, 'dist'), 'factmark.js'));
  env.server.page('/lonely/factmark.js', loader, { type: 'text/javascript; charset=utf-8' });
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>no build</title></head>'
    + '<body><article><p>An article whose widget cannot load.</p></article>'
    + '<script type="module" src="/lonely/factmark.js"></script></body></html>';
  const url = env.server.page('/lonely/page.html', html, { type: 'text/html; charset=utf-8' });
  const { page } = await env.open(t);
  await page.goto(url);
  await page.waitForFunction(() => window.__fm.events.some((e) => e.type === 'error'));
  const [error] = await events(page, 'error');
  assert.match(error.detail.message, /^factmark could not start: /);
  assert.equal(await page.evaluate(() => window.__fm.ready), 0);
  assert.equal(await page.evaluate(() => document.querySelector('factmark-widget')), null);
  assert.equal(await page.evaluate(() => document.querySelector('article').innerHTML), '<p>An article whose widget cannot load.</p>');
});
