// A reader flags a passage of the fixture article with the mouse, the flag is stored as a valid
// W3C annotation, survives a reload and goes away when deleted; the host page's DOM is never
// touched along the way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, validateW3C } from './support/setup.mjs';
import {
  FIXTURE_SOURCE, storageKey, waitReady, selectByDrag, inWidget, waitForHighlights, highlightTexts,
  storedAnnotations, takeMutations, assertNoHostMutation, passagePoints, anchors, events,
} from './support/page.mjs';

const env = suite();
const PASSAGE = 'Fabricated images and sensational information circulate widely';
const NOTE = 'The images were traced to a 2019 video game; no such convoy footage exists.';

function codePoints(s) {
  return [...s].length;
}

test('mouse flag → highlight → valid W3C storage → reload → delete, host DOM untouched', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  assert.equal(await highlightTexts(page, 'factmark-fabricated').then((h) => h.length), 0, 'nothing flagged yet');
  const atStart = await takeMutations(page);
  assert.ok(atStart.some((m) => m.target === 'BODY' && m.added.includes('FACTMARK-WIDGET')),
    'the observer saw the widget append its host, so it was watching before the widget ran');
  assertNoHostMutation(atStart, 'while starting');

  await selectByDrag(page, 'article', PASSAGE);
  const fabricated = inWidget(page, '[data-action="flag-fabricated"]');
  await fabricated.waitFor({ state: 'visible', timeout: 5_000 });
  assert.ok(await inWidget(page, '[data-action="flag-unverified"]').isVisible(), 'toolbar offers Unverified too');
  await fabricated.click();
  const note = inWidget(page, '[data-field="note"]');
  await note.waitFor({ state: 'visible' });
  await note.pressSequentially(NOTE);
  await inWidget(page, '[data-action="save"]').click();

  assert.deepEqual(await waitForHighlights(page, 'factmark-fabricated', 1), [PASSAGE],
    'exactly one range in factmark-fabricated, covering the selection');
  assert.deepEqual(await highlightTexts(page, 'factmark-unverified'), []);

  // Stored: one W3C annotation that passes the MUST assertions and says what the reader did.
  await page.waitForFunction((k) => JSON.parse(localStorage.getItem(k) ?? '[]').length === 1, storageKey(FIXTURE_SOURCE));
  const stored = await storedAnnotations(page);
  assert.equal(stored.length, 1);
  const annotation = stored[0];
  const verdict = validateW3C(annotation);
  assert.equal(verdict.status, 0, `W3C validator: ${verdict.output}`);
  assert.match(verdict.output, /\b\d+ passed, 0 failed/);
  // factmark's vocabulary (core/src/model.rs): the flag is an "assessing" body, the note a
  // "commenting" one.
  const bodies = [annotation.body].flat();
  const purposes = (b) => [b.purpose].flat();
  assert.ok(bodies.some((b) => purposes(b).includes('assessing') && b.value === 'fabricated'), 'the flag is stored');
  assert.ok(bodies.some((b) => purposes(b).includes('commenting') && b.value === NOTE), 'the note is stored');
  const targets = [annotation.target].flat();
  assert.equal(targets.length, 1);
  assert.equal(targets[0].source, FIXTURE_SOURCE, 'target source is the canonical URL');
  const selectors = [targets[0].selector].flat();
  const quote = selectors.find((s) => s.type === 'TextQuoteSelector');
  const position = selectors.find((s) => s.type === 'TextPositionSelector');
  assert.equal(quote?.exact, PASSAGE);
  assert.ok(quote.prefix?.length > 0 && quote.suffix?.length > 0, 'quote has context');
  assert.ok(position, 'a TextPositionSelector is stored');
  assert.equal(position.end - position.start, codePoints(PASSAGE), 'position is in code points');

  const [anchor] = await anchors(page);
  assert.equal(anchor.id, annotation.id);
  assert.equal(anchor.status, 'anchored');
  assert.equal(anchor.text, PASSAGE);
  assert.deepEqual([anchor.start, anchor.end], [position.start, position.end]);
  assert.deepEqual((await page.evaluate(() => window.factmark.annotations())).map((a) => a.id), [annotation.id]);
  assert.equal((await events(page, 'created')).length, 1, 'factmark:created fired once');
  assert.deepEqual(await page.evaluate(() => window.factmark.stats()), { total: 1, anchored: 1, fuzzy: 0, orphan: 0 });
  assertNoHostMutation(await takeMutations(page), 'while flagging');

  // Reload: restored from storage, highlighted again.
  await page.reload();
  await waitReady(page);
  assert.deepEqual(await waitForHighlights(page, 'factmark-fabricated', 1), [PASSAGE], 'restored after reload');
  const [restored] = await anchors(page);
  assert.equal(restored.id, annotation.id);
  assert.equal(restored.status, 'anchored');
  assert.equal(restored.text, PASSAGE);

  // Delete from the passage's popover.
  const { middle } = await passagePoints(page, 'article', PASSAGE);
  await page.mouse.click(middle.x, middle.y);
  const del = inWidget(page, '[data-action="delete"]');
  await del.waitFor({ state: 'visible', timeout: 5_000 });
  assert.ok((await page.locator('factmark-widget').evaluate((h) => h.shadowRoot.textContent)).includes(NOTE),
    'the popover shows the note');
  await del.click();
  await waitForHighlights(page, 'factmark-fabricated', 0);
  await page.waitForFunction((k) => JSON.parse(localStorage.getItem(k) ?? '[]').length === 0, storageKey(FIXTURE_SOURCE));
  assert.deepEqual(await page.evaluate(() => window.factmark.annotations()), []);
  assert.equal((await events(page, 'deleted')).length, 1, 'factmark:deleted fired once');

  assertNoHostMutation(await takeMutations(page), 'while restoring and deleting');
  assert.deepEqual(page.errors, [], 'no uncaught page errors');
});

test('find a flag in the panel, open it, delete it', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await selectByDrag(page, 'article', PASSAGE);
  await inWidget(page, '[data-action="flag-unverified"]').click();
  await inWidget(page, '[data-field="note"]').fill('check the source');
  await inWidget(page, '[data-action="save"]').click();
  await waitForHighlights(page, 'factmark-unverified', 1);
  const [{ id }] = await storedAnnotations(page);

  // Scroll away, then reach the passage from the panel's list.
  await page.evaluate(() => window.scrollTo(0, 0));
  await inWidget(page, '[data-action="toggle-panel"]').click();
  const item = inWidget(page, `[data-action="show"][data-id="${id}"]`);
  await item.waitFor({ state: 'visible', timeout: 5_000 });
  assert.ok((await item.textContent()).includes(PASSAGE.slice(0, 40)), 'the list shows the quote');
  await item.click();
  const del = inWidget(page, '[data-action="delete"]');
  await del.waitFor({ state: 'visible', timeout: 5_000 });
  const inView = await page.evaluate((needle) => {
    const walker = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = n.data.indexOf(needle);
      if (at < 0) continue;
      const r = document.createRange();
      r.setStart(n, at);
      r.setEnd(n, at + needle.length);
      const box = r.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight;
    }
    return false;
  }, PASSAGE);
  assert.ok(inView, 'the panel scrolled the passage into view');
  await del.click();
  await waitForHighlights(page, 'factmark-unverified', 0);
  await page.waitForFunction((k) => JSON.parse(localStorage.getItem(k) ?? '[]').length === 0, storageKey(FIXTURE_SOURCE));
  assertNoHostMutation(await takeMutations(page), 'panel delete');
  assert.deepEqual(page.errors, []);
});

test('a hostile note runs nothing and shows as text', async (t) => {
  const { page } = await env.open(t);
  const hostile = '<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>';
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await selectByDrag(page, 'article', PASSAGE);
  await inWidget(page, '[data-action="flag-fabricated"]').click();
  await inWidget(page, '[data-field="note"]').fill(hostile);
  await inWidget(page, '[data-action="save"]').click();
  await waitForHighlights(page, 'factmark-fabricated', 1);

  const shows = async () => {
    const { middle } = await passagePoints(page, 'article', PASSAGE);
    await page.mouse.click(middle.x, middle.y);
    await inWidget(page, '[data-action="delete"]').waitFor({ state: 'visible', timeout: 5_000 });
    await inWidget(page, '[data-action="toggle-panel"]').click();
    await page.waitForTimeout(300); // give an injected <img> time to fail and fire onerror
    return page.locator('factmark-widget').evaluate((host) => ({
      text: host.shadowRoot.textContent,
      imgs: host.shadowRoot.querySelectorAll('img').length,
      scripts: host.shadowRoot.querySelectorAll('script').length,
      pwned: window.__pwned ?? null,
    }));
  };
  let seen = await shows();
  assert.equal(seen.pwned, null, 'no handler ran');
  assert.equal(seen.imgs, 0);
  assert.equal(seen.scripts, 0);
  assert.ok(seen.text.includes(hostile), 'the note is shown literally, as text');

  await page.reload();
  await waitReady(page);
  await waitForHighlights(page, 'factmark-fabricated', 1);
  seen = await shows();
  assert.equal(seen.pwned, null, 'no handler ran after restoring from storage');
  assert.equal(seen.imgs, 0);
  assert.ok(seen.text.includes(hostile));
  assert.deepEqual(page.errors, []);
});

test('evidence must be an http(s) URL', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await selectByDrag(page, 'article', PASSAGE);
  await inWidget(page, '[data-action="flag-unverified"]').click();
  await inWidget(page, '[data-field="note"]').fill('see evidence');
  await inWidget(page, '[data-field="evidence"]').fill('javascript:window.__pwned=1');
  await inWidget(page, '[data-action="save"]').click();
  // Refused with a message; nothing stored.
  await page.waitForTimeout(300);
  assert.deepEqual(await storedAnnotations(page), [], 'refused evidence is not saved');
  const text = await page.locator('factmark-widget').evaluate((h) => h.shadowRoot.textContent);
  assert.match(text, /http/i, 'the reader is told that evidence must be an http(s) URL');

  await inWidget(page, '[data-field="evidence"]').fill('https://factcheck.example/convoy-images');
  await inWidget(page, '[data-action="save"]').click();
  await waitForHighlights(page, 'factmark-unverified', 1);
  const [stored] = await storedAnnotations(page);
  assert.ok([stored.body].flat().some((b) => [b.purpose].flat().includes('linking') && b.source === 'https://factcheck.example/convoy-images'),
    'the evidence is a linking body');
  assert.equal(validateW3C(stored).status, 0, 'annotation with evidence is valid W3C');
  assert.equal(await page.evaluate(() => window.__pwned ?? null), null);
});
