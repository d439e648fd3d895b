// The widget under the strict page CSP `script-src 'self' 'wasm-unsafe-eval'; style-src 'self'`:
// it starts, flags, highlights, and causes no CSP violation of its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from './support/setup.mjs';
import { sharedDir } from './support/server.mjs';
import {
  waitReady, selectByDrag, inWidget, waitForHighlights, storedAnnotations, passagePoints,
  takeMutations, assertNoHostMutation,
} from './support/page.mjs';

const env = suite();
const PASSAGE = 'the mobilization of Algerian air defense';

async function flagAndOpen(page) {
  await selectByDrag(page, 'article', PASSAGE);
  await inWidget(page, '[data-action="flag-unverified"]').click();
  await inWidget(page, '[data-field="note"]').fill('No source is given for the mobilization.');
  await inWidget(page, '[data-action="save"]').click();
  assert.deepEqual(await waitForHighlights(page, 'factmark-unverified', 1), [PASSAGE]);
  assert.equal((await storedAnnotations(page)).length, 1);
  // Open the popover and the panel so that their styles are exercised under the CSP too.
  const { middle } = await passagePoints(page, 'article', PASSAGE);
  await page.mouse.click(middle.x, middle.y);
  await inWidget(page, '[data-action="delete"]').waitFor({ state: 'visible', timeout: 5_000 });
  await inWidget(page, '[data-action="toggle-panel"]').click();
  await page.waitForTimeout(200);
}

/** Whether the widget's UI is actually styled (its stylesheet applied inside the shadow root). */
async function widgetStyled(page) {
  return page.locator('factmark-widget').evaluate((host) => {
    const root = host.shadowRoot;
    const sheets = root.adoptedStyleSheets?.length ?? 0;
    const linked = root.querySelectorAll('style, link[rel=stylesheet]').length;
    return sheets + linked > 0;
  });
}

test('strict CSP, CSP-clean host page: works with zero violations', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl({ csp: 'strict', clean: '1' }));
  await waitReady(page);
  await flagAndOpen(page);
  assert.ok(await widgetStyled(page), 'the widget stylesheet is applied');
  await page.reload();
  await waitReady(page);
  await waitForHighlights(page, 'factmark-unverified', 1);
  const csp = await page.evaluate(() => window.__fm.csp);
  assert.deepEqual(csp, [], 'no CSP violation at all');
  assertNoHostMutation(await takeMutations(page));
  assert.deepEqual(page.errors, []);
});

test('strict CSP, original host page: only the host\'s own inline parts are blocked', async (t) => {
  const { page } = await env.open(t);
  const url = env.fixtureUrl({ csp: 'strict' });
  await page.goto(url);
  await waitReady(page);
  await flagAndOpen(page);
  const violations = await page.evaluate(() => window.__fm.csp);

  // The fixture's inline <style> and <script> are the host's; find their lines.
  const lines = fs.readFileSync(path.join(sharedDir(), 'fixtures', 'escalation.html'), 'utf8').split('\n');
  const hostLines = new Set();
  lines.forEach((l, i) => { if (/<style>|<script>/.test(l)) hostLines.add(i + 1); });
  assert.equal(hostLines.size, 2);

  const fromWidget = violations.filter((v) => /\/dist\//.test(`${v.blockedURI} ${v.sourceFile}`)
    || !(v.blockedURI === 'inline' && v.sourceFile.split('?')[0] === url.split('?')[0] && hostLines.has(v.lineNumber)));
  assert.deepEqual(fromWidget, [], 'no violation is attributable to the widget');
  assert.ok(violations.length >= 1, 'the host page\'s inline parts were reported (sanity check of the listener)');
  assert.deepEqual(page.errors, []);
});
