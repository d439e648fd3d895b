// Keyboard-only flagging: extend a selection with Shift+Arrow, reach the toolbar with Tab, act
// with Enter; Escape closes the form; every control has an accessible name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite } from './support/setup.mjs';
import { waitReady, waitForHighlights, storedAnnotations, inWidget } from './support/page.mjs';

// Caret browsing (F7 in Chrome; a flag here) is how a keyboard user selects text in a page.
const env = suite({ browserArgs: ['--enable-caret-browsing'] });
const PASSAGE = 'Malian officials persist';

/** A collapsed caret just before PASSAGE, as caret browsing (F7) would leave it. */
async function caretBefore(page, needle) {
  await page.evaluate((n) => {
    const walker = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf(n);
      if (at < 0) continue;
      node.parentElement.scrollIntoView({ block: 'center' });
      window.getSelection().collapse(node, at);
      return;
    }
    throw new Error('passage not found');
  }, needle);
}

/** What has focus, looking into the widget's shadow root. */
function focused(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    const inner = a?.shadowRoot?.activeElement;
    const el = inner ?? a;
    return { host: a?.localName, action: el?.dataset?.action ?? null, field: el?.dataset?.field ?? null, tag: el?.localName };
  });
}

async function tabTo(page, want, limit = 60) {
  for (let i = 0; i < limit; i += 1) {
    const f = await focused(page);
    if (f.host === 'factmark-widget' && (f.action === want || f.field === want)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${want}; focus is on ${JSON.stringify(await focused(page))}`);
}

test('select with Shift+Arrow, Tab to the toolbar, Enter, type, save', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await caretBefore(page, PASSAGE);
  for (let i = 0; i < PASSAGE.length; i += 1) await page.keyboard.press('Shift+ArrowRight');
  assert.equal(await page.evaluate(() => window.getSelection().toString()), PASSAGE, 'keyboard selection');

  await inWidget(page, '[data-action="flag-unverified"]').waitFor({ state: 'visible', timeout: 5_000 });
  await tabTo(page, 'flag-unverified');
  await page.keyboard.press('Enter');
  await tabTo(page, 'note');
  await page.keyboard.type('Which officials? No one is named.');
  await tabTo(page, 'save');
  await page.keyboard.press('Enter');

  assert.deepEqual(await waitForHighlights(page, 'factmark-unverified', 1), [PASSAGE]);
  const [a] = await storedAnnotations(page);
  assert.ok(JSON.stringify(a).includes('Which officials? No one is named.'));
  assert.deepEqual(page.errors, []);
});

test('Escape closes the form without saving; every control has an accessible name', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await caretBefore(page, PASSAGE);
  for (let i = 0; i < PASSAGE.length; i += 1) await page.keyboard.press('Shift+ArrowRight');
  await inWidget(page, '[data-action="flag-fabricated"]').click();
  const note = inWidget(page, '[data-field="note"]');
  await note.waitFor({ state: 'visible' });
  await note.fill('never saved');

  const unnamed = await page.locator('factmark-widget').evaluate((host) => {
    const root = host.shadowRoot;
    const nameOf = (el) => {
      const ids = el.getAttribute('aria-labelledby');
      if (ids) return ids.split(/\s+/).map((id) => root.getElementById(id)?.textContent ?? '').join(' ').trim();
      if (el.getAttribute('aria-label')) return el.getAttribute('aria-label').trim();
      if (el.id) {
        const label = root.querySelector(`label[for="${CSS.escape(el.id)}"]`);
        if (label) return label.textContent.trim();
      }
      const wrapping = el.closest('label');
      if (wrapping) return wrapping.textContent.trim();
      if (el.localName === 'button') return el.textContent.trim() || (el.title ?? '').trim();
      return (el.title ?? '').trim() || (el.placeholder ?? '').trim();
    };
    const visible = (el) => el.getClientRects().length > 0;
    return [...root.querySelectorAll('button, input, textarea, select, a[href], [role=button], [tabindex]')]
      .filter(visible)
      .filter((el) => !nameOf(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
  assert.deepEqual(unnamed, [], 'controls without an accessible name');

  await note.press('Escape');
  await note.waitFor({ state: 'hidden', timeout: 5_000 });
  await page.waitForTimeout(200);
  assert.deepEqual(await storedAnnotations(page), []);
  assert.equal(await page.evaluate(() => CSS.highlights.get('factmark-fabricated')?.size ?? 0), 0);
});
