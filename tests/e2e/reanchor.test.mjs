// The article changes after a passage was flagged (late content, edits): the flag re-anchors to
// the same words, or is listed as an orphan with its original quote, never dropped and never
// moved to other words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite } from './support/setup.mjs';
import {
  waitReady, selectByDrag, inWidget, waitForHighlights, highlightTexts, storedAnnotations, anchors,
} from './support/page.mjs';

const env = suite();
const PASSAGE = 'deployment of Pantsir S-1 air defense systems';

async function flagged(t, flag = 'unverified') {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await selectByDrag(page, 'article', PASSAGE);
  await inWidget(page, `[data-action="flag-${flag}"]`).click();
  await inWidget(page, '[data-field="note"]').fill('Which systems, exactly?');
  await inWidget(page, '[data-action="save"]').click();
  assert.deepEqual(await waitForHighlights(page, `factmark-${flag}`, 1), [PASSAGE]);
  const [a] = await anchors(page);
  return { page, before: a };
}

/** Edits the text node holding PASSAGE in the page. */
function editPassageNode(page, edit) {
  return page.evaluate(([needle, how]) => {
    const walker = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = n.data.indexOf(needle);
      if (at < 0) continue;
      if (how.insertBefore) n.insertData(at, how.insertBefore);
      if (how.replace) n.data = n.data.replace(how.replace[0], how.replace[1]);
      if (how.removeParagraph) n.parentElement.closest('p').remove();
      return true;
    }
    throw new Error('passage not found');
  }, [PASSAGE, edit]);
}

async function waitForAnchor(page, predicate, what) {
  try {
    await page.waitForFunction(predicate, null, { timeout: 5_000 });
  } catch {
    assert.fail(`${what}; anchors now: ${JSON.stringify(await anchors(page))}`);
  }
}

test('words inserted before the passage: re-anchors to the same words', async (t) => {
  const { page, before } = await flagged(t);
  const inserted = 'According to a ministry statement issued on Tuesday, ';
  await editPassageNode(page, { insertBefore: inserted });
  await waitForAnchor(page, `window.factmark.anchors()[0]?.start === ${before.start + [...inserted].length}`,
    'the anchor moves by the inserted length');
  const [a] = await anchors(page);
  assert.equal(a.text, PASSAGE);
  assert.equal(a.status, 'anchored');
  assert.deepEqual(await waitForHighlights(page, 'factmark-unverified', 1), [PASSAGE]);

  // Late content: a whole new paragraph at the top of the article.
  await page.evaluate(() => {
    const p = document.createElement('p');
    p.textContent = 'Update: this article has been corrected to reflect new information from the ministry.';
    document.querySelector('article h1').after(p);
  });
  await waitForAnchor(page, `window.factmark.anchors()[0]?.start > ${before.start + [...inserted].length}`,
    'the anchor follows late content');
  assert.deepEqual(await highlightTexts(page, 'factmark-unverified'), [PASSAGE]);
  assert.equal((await anchors(page))[0].text, PASSAGE);
  assert.deepEqual(page.errors, []);
});

test('a letter changed inside the passage: re-anchors fuzzily on the edited words', async (t) => {
  const { page } = await flagged(t);
  await editPassageNode(page, { replace: ['Pantsir S-1', 'Pantsir S-2'] });
  const edited = PASSAGE.replace('S-1', 'S-2');
  await waitForAnchor(page, "window.factmark.anchors()[0]?.status === 'fuzzy'", 'the anchor becomes fuzzy');
  const [a] = await anchors(page);
  assert.equal(a.text, edited, 'the fuzzy anchor covers the edited passage');
  assert.deepEqual(await highlightTexts(page, 'factmark-unverified'), [edited]);
  assert.deepEqual(await page.evaluate(() => window.factmark.stats()), { total: 1, anchored: 0, fuzzy: 1, orphan: 0 });
});

test('the paragraph removed: an orphan listed in the panel with its original quote', async (t) => {
  const { page, before } = await flagged(t, 'fabricated');
  await editPassageNode(page, { removeParagraph: true });
  await waitForAnchor(page, "window.factmark.anchors()[0]?.status === 'orphan'", 'the anchor becomes an orphan');
  assert.deepEqual(await highlightTexts(page, 'factmark-fabricated'), [], 'no highlight for an orphan');
  assert.deepEqual(await page.evaluate(() => window.factmark.stats()), { total: 1, anchored: 0, fuzzy: 0, orphan: 1 });
  const stored = await storedAnnotations(page);
  assert.equal(stored.length, 1, 'an orphan is never dropped from storage');
  assert.equal(stored[0].id, before.id);

  await inWidget(page, '[data-action="toggle-panel"]').click();
  // The orphan's entry (data-id) shows the original quote in full and a delete action; the panel
  // says in words what happened.
  const entry = inWidget(page, `li[data-id="${before.id}"]`);
  await entry.waitFor({ state: 'visible', timeout: 5_000 });
  assert.ok((await entry.textContent()).includes(PASSAGE), 'the orphan shows its original quote');
  assert.equal(await entry.locator('[data-action="delete"]').count(), 1, 'an orphan can be deleted from the panel');
  const panelText = await page.locator('factmark-widget').evaluate((h) => h.shadowRoot.textContent);
  assert.match(panelText, /changed or was removed/i);

  // The paragraph comes back (reload of the unchanged page): anchored again, same annotation.
  await page.reload();
  await waitReady(page);
  assert.deepEqual(await waitForHighlights(page, 'factmark-fabricated', 1), [PASSAGE]);
  assert.equal((await anchors(page))[0].id, before.id);
});
