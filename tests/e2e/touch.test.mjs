// Touch: a long press selects a word and the reader drags the handles; the browser then cancels
// the pointer (pointercancel, no pointerup) because it took the gesture over for selecting. The
// toolbar must still come up, and tapping it flags the passage.
//
// Headless Chromium has no long-press selection of its own, so the test plays the browser's
// part: real touch events through the DevTools protocol, with the selection made in between,
// as the browser would.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite } from './support/setup.mjs';
import { waitReady, waitForHighlights, storedAnnotations, inWidget, passagePoints } from './support/page.mjs';

const env = suite();
const PASSAGE = 'Malian officials persist';

test('a long-press selection that ends in pointercancel shows the toolbar; tapping flags it', async (t) => {
  const { context, page } = await env.open(t, { hasTouch: true });
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  const { start } = await passagePoints(page, 'article', PASSAGE);
  await page.evaluate(() => {
    window.__pointer = [];
    for (const type of ['pointerdown', 'pointerup', 'pointercancel']) {
      document.addEventListener(type, (e) => window.__pointer.push(`${type}:${e.pointerType}`), true);
    }
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: start.x, y: start.y }] });
  // What the browser's long press and handle drags do: select the passage.
  await page.evaluate((needle) => {
    const walker = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = n.data.indexOf(needle);
      if (at >= 0) return window.getSelection().setBaseAndExtent(n, at, n, at + needle.length);
    }
    throw new Error('passage not found');
  }, PASSAGE);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchCancel', touchPoints: [] });
  assert.deepEqual(await page.evaluate(() => window.__pointer), ['pointerdown:touch', 'pointercancel:touch'],
    'the gesture ended the way a taken-over touch does');

  const flag = inWidget(page, '[data-action="flag-fabricated"]');
  await flag.waitFor({ state: 'visible', timeout: 5_000 });
  await flag.tap();
  await inWidget(page, '[data-field="note"]').fill('No such statement on record.');
  await inWidget(page, '[data-action="save"]').tap();
  await waitForHighlights(page, 'factmark-fabricated', 1);
  const stored = await storedAnnotations(page);
  assert.equal(stored.length, 1);
  const quote = [stored[0].target.selector].flat().find((s) => s.type === 'TextQuoteSelector');
  assert.equal(quote.exact, PASSAGE);
});
