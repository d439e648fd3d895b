// Local storage that never loses an annotation: corrupt values and invalid entries are moved to
// the quarantine key, the valid entries load, factmark:error says what happened; two tabs stay
// in sync; import/export round-trip through the public API.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, validateW3C } from './support/setup.mjs';
import {
  FIXTURE_SOURCE, storageKey, quarantineKey, newPage, waitReady, waitForHighlights, storedAnnotations,
  readStorage, anchors, events, takeMutations, assertNoHostMutation,
} from './support/page.mjs';

const env = suite();
const KEY = storageKey(FIXTURE_SOURCE);
const QUARANTINE = quarantineKey(FIXTURE_SOURCE);
const PASSAGE = 'a strong distrust, witness to a significantly deteriorated relationship';

/** Selects PASSAGE programmatically and flags it through the public API. */
async function flagByApi(page, flag = 'unverified', note = 'flagged by the API') {
  await page.evaluate(async ([needle, f, n]) => {
    const walker = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf(needle);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + needle.length);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      await window.factmark.flagSelection(f, n);
      sel.removeAllRanges();
      return;
    }
    throw new Error('passage not found');
  }, [PASSAGE, flag, note]);
  await page.waitForFunction((k) => JSON.parse(localStorage.getItem(k) ?? '[]').length > 0, KEY);
}

/** A valid annotation as the widget itself stores it. */
async function widgetMadeAnnotation(t) {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await flagByApi(page);
  const [a] = await storedAnnotations(page);
  assert.ok(a?.id);
  return a;
}

/** Does the (JSON) quarantine hold `needle` (a string or object), whatever its exact shape? */
function quarantineHolds(raw, needle) {
  if (raw == null) return false;
  const wanted = typeof needle === 'string' ? needle : JSON.stringify(needle);
  if (raw.includes(wanted)) return true;
  let parsed;
  try { parsed = JSON.parse(raw); } catch { return false; }
  const seen = (v) => {
    if (typeof v === 'string') return v === wanted || v.includes(wanted);
    if (v && typeof v === 'object') {
      if (typeof needle === 'object' && JSON.stringify(v) === JSON.stringify(needle)) return true;
      try { assert.deepEqual(v, needle); return true; } catch { /* keep looking */ }
      return Object.values(v).some(seen);
    }
    return false;
  };
  return seen(parsed);
}

/** Opens the fixture with localStorage prefilled (set on the same origin before the page loads). */
async function openWithStorage(t, entries) {
  const { context, page } = await env.open(t);
  await page.goto(env.server.url('/blank.html'));
  await page.evaluate((kv) => { for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v); }, entries);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  return { context, page };
}

test('a corrupt stored value is quarantined, reported, and the widget keeps working', async (t) => {
  const corrupt = '[{"type":"Annotation","id":"urn:uuid:1", "target": {"source": "https://news.ex';
  const { page } = await openWithStorage(t, { [KEY]: corrupt });
  await page.waitForFunction(() => window.__fm.events.some((e) => e.type === 'error'), null, { timeout: 5_000 });
  const [err] = await events(page, 'error');
  assert.ok(typeof err.detail?.message === 'string' && err.detail.message.length > 0, 'factmark:error has a message');
  assert.ok(quarantineHolds(await readStorage(page, QUARANTINE), corrupt), 'the corrupt value is kept in quarantine');
  assert.deepEqual(await page.evaluate(() => window.factmark.annotations()), []);

  // Still works, and flagging does not overwrite what was quarantined.
  await flagByApi(page, 'fabricated');
  await waitForHighlights(page, 'factmark-fabricated', 1);
  assert.equal((await storedAnnotations(page)).length, 1);
  assert.ok(quarantineHolds(await readStorage(page, QUARANTINE), corrupt), 'quarantine survives new saves');
  assertNoHostMutation(await takeMutations(page));
  assert.deepEqual(page.errors, []);
});

test('invalid entries are quarantined, the valid ones load', async (t) => {
  const valid = await widgetMadeAnnotation(t);
  const missingTarget = { '@context': 'http://www.w3.org/ns/anno.jsonld', type: 'Annotation', id: 'urn:uuid:00000000-0000-4000-8000-000000000001' };
  const badEvidence = JSON.parse(JSON.stringify(valid));
  badEvidence.id = 'urn:uuid:00000000-0000-4000-8000-000000000002';
  badEvidence.body = [badEvidence.body ?? []].flat().concat([{ type: 'SpecificResource', source: 'javascript:alert(1)', purpose: 'linking' }]);
  const notAnObject = 42;
  const { page } = await openWithStorage(t, { [KEY]: JSON.stringify([valid, missingTarget, badEvidence, notAnObject]) });

  assert.deepEqual(await waitForHighlights(page, 'factmark-unverified', 1), [PASSAGE], 'the valid entry loads');
  assert.deepEqual((await page.evaluate(() => window.factmark.annotations())).map((a) => a.id), [valid.id]);
  assert.equal((await anchors(page))[0].text, PASSAGE);
  await page.waitForFunction(() => window.__fm.events.some((e) => e.type === 'error'), null, { timeout: 5_000 });
  const quarantine = await readStorage(page, QUARANTINE);
  assert.ok(quarantineHolds(quarantine, missingTarget), `entry without target quarantined: ${quarantine}`);
  assert.ok(quarantineHolds(quarantine, badEvidence.id), 'entry with javascript: evidence quarantined');
  const kept = await storedAnnotations(page).catch(() => null);
  assert.ok(kept === null || kept.some((a) => a.id === valid.id), 'the valid entry is still stored');
  assert.deepEqual(page.errors, []);
});

test('two tabs on the same page stay in sync', async (t) => {
  const { context, page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  const other = await newPage(context);
  await other.goto(env.fixtureUrl());
  await waitReady(other);

  await flagByApi(page, 'fabricated', 'synced?');
  await waitForHighlights(other, 'factmark-fabricated', 1);
  assert.equal((await anchors(other))[0].text, PASSAGE);

  const id = (await storedAnnotations(page))[0].id;
  await other.evaluate((i) => window.factmark.remove(i), id);
  await waitForHighlights(page, 'factmark-fabricated', 0);
  assert.deepEqual(await page.evaluate(() => window.factmark.annotations()), []);
});

test('export → import round trip through the public API; invalid imports refused with reasons', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await flagByApi(page, 'unverified', 'round trip');
  const exported = await page.evaluate(() => window.factmark.export('jsonld'));
  const collection = JSON.parse(exported);
  assert.equal(collection.type, 'AnnotationCollection');
  const verdict = validateW3C(collection);
  assert.equal(verdict.status, 0, verdict.output);
  const [original] = await storedAnnotations(page);
  await page.evaluate((id) => window.factmark.remove(id), original.id);
  await waitForHighlights(page, 'factmark-unverified', 0);

  const bad = { type: 'Annotation', id: 'urn:uuid:00000000-0000-4000-8000-00000000000b', body: [], target: { source: 'https://news.example/x', selector: { type: 'TextQuoteSelector' } } };
  const outcome = await page.evaluate(([json, b]) => window.factmark.import(JSON.stringify([...JSON.parse(json).first.items, b])), [exported, bad]);
  assert.equal(outcome.added ?? outcome.accepted ?? outcome.imported, 1, `import outcome: ${JSON.stringify(outcome)}`);
  const refused = outcome.refused ?? outcome.rejected ?? [];
  assert.equal(refused.length, 1);
  assert.ok(JSON.stringify(refused[0]).length > 10, 'a refusal says why');
  assert.deepEqual(await waitForHighlights(page, 'factmark-unverified', 1), [PASSAGE]);
  assert.deepEqual((await storedAnnotations(page)).map((a) => a.id), [original.id]);
});
