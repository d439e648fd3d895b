// Host-page safety beyond the DOM: the host's CSS does not restyle the widget, the widget's CSS
// does not restyle the page, and without the CSS Custom Highlight API the overlay fallback marks
// the passage from outside the article.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite } from './support/setup.mjs';
import {
  waitReady, selectByDrag, inWidget, passagePoints, takeMutations, assertNoHostMutation, events,
  storedAnnotations,
} from './support/page.mjs';

const env = suite();
const PASSAGE = 'the famous convoy of the Malian Armed Forces';

// Rules real sites ship (global resets, big body type, button styles), none naming the widget.
const HOSTILE_CSS = `
html, body { font: 21px/1.9 "Comic Sans MS", cursive !important; color: rgb(255, 0, 0) !important;
  letter-spacing: 2px !important; text-transform: uppercase !important; word-spacing: 5px !important; }
* { box-sizing: content-box !important; }
*, *::before, *::after { font-style: italic; }
button, input, textarea { all: unset; background: rgb(255, 0, 0) !important; border: 5px dotted lime !important; }
div, section, span { margin: 3px !important; padding: 7px !important; }
`;

const STYLE_PROPS = ['font-size', 'font-family', 'font-style', 'color', 'background-color', 'letter-spacing',
  'text-transform', 'word-spacing', 'line-height', 'display', 'visibility', 'box-sizing', 'border-top-width',
  'border-top-style', 'padding-top', 'margin-top', 'width', 'height'];

/** Computed styles of the widget's visible controls (toolbar, then form). */
async function widgetStyles(page) {
  return page.locator('factmark-widget').evaluate((host, props) => {
    const out = [];
    for (const el of host.shadowRoot.querySelectorAll('button, textarea, input, [data-action], [data-field]')) {
      if (!el.getClientRects().length) continue;
      const cs = getComputedStyle(el);
      out.push({ what: el.dataset.action ?? el.dataset.field ?? el.localName, ...Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)])) });
    }
    return out;
  }, STYLE_PROPS);
}

async function toolbarAndFormStyles(t, css) {
  const { page } = await env.open(t);
  env.server.page('/hostile.css', HOSTILE_CSS, { type: 'text/css; charset=utf-8' });
  await page.goto(env.fixtureUrl(css ? { css: '/hostile.css' } : {}));
  await waitReady(page);
  await selectByDrag(page, 'article', PASSAGE);
  await inWidget(page, '[data-action="flag-fabricated"]').waitFor({ state: 'visible', timeout: 5_000 });
  const toolbar = await widgetStyles(page);
  await inWidget(page, '[data-action="flag-fabricated"]').click();
  await inWidget(page, '[data-field="note"]').waitFor({ state: 'visible' });
  const form = await widgetStyles(page);
  return { toolbar, form, page };
}

test('host CSS does not restyle the widget', async (t) => {
  const plain = await toolbarAndFormStyles(t, false);
  const hostile = await toolbarAndFormStyles(t, true);
  // The hostile sheet did apply to the page (sanity check of the setup).
  assert.equal(await hostile.page.evaluate(() => getComputedStyle(document.body).color), 'rgb(255, 0, 0)');
  assert.ok(plain.toolbar.length >= 2 && plain.form.length >= 3, 'controls were found');
  assert.deepEqual(hostile.toolbar, plain.toolbar, 'toolbar styles under the host CSS');
  assert.deepEqual(hostile.form, plain.form, 'form styles under the host CSS');
});

/** Computed styles and boxes of every element of the page outside the widget. */
function pageStyles(page) {
  return page.evaluate((props) => [...document.querySelectorAll('body *')]
    .filter((el) => !el.closest('factmark-widget') && el.localName !== 'script')
    .map((el) => {
      const cs = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return [el.localName, Math.round(r.x), Math.round(r.y), Math.round(r.width), Math.round(r.height),
        ...props.map((p) => cs.getPropertyValue(p))];
    }), STYLE_PROPS.filter((p) => p !== 'width' && p !== 'height'));
}

test('the widget\'s CSS does not restyle the page; its page-level rules only style its highlights', async (t) => {
  const { page } = await env.open(t);
  await page.goto(env.fixtureUrl({ widget: '0' }));
  const before = await pageStyles(page);
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  await selectByDrag(page, 'article', PASSAGE);
  await inWidget(page, '[data-action="flag-unverified"]').click();
  await inWidget(page, '[data-field="note"]').fill('styles?');
  await inWidget(page, '[data-action="save"]').click();
  await page.waitForFunction(() => (CSS.highlights.get('factmark-unverified')?.size ?? 0) === 1);
  await page.evaluate(() => { window.getSelection().removeAllRanges(); window.scrollTo(0, 0); });
  await page.keyboard.press('Escape');
  const after = await pageStyles(page);
  assert.deepEqual(after, before, 'every element of the page keeps its computed style and box');
  const added = await page.evaluate(() => {
    // Style rules inside grouping rules (@layer, @media) count, the grouping rules themselves not.
    const leaves = (rules) => [...rules].flatMap((r) => (r.cssRules && !r.selectorText ? leaves(r.cssRules) : [r]));
    return document.adoptedStyleSheets.flatMap((sheet) => leaves(sheet.cssRules))
      .map((r) => ({ selector: r.selectorText ?? null, text: r.cssText }));
  });
  assert.ok(added.length > 0, 'the widget styles its highlights with a page-level sheet');
  const foreign = added.filter((r) => !/^::highlight\(factmark-(unverified|fabricated)\)$/.test(r.selector ?? ''));
  assert.deepEqual(foreign, [], 'page-level rules added by the widget other than ::highlight(factmark-*)');
});

test('without the CSS Custom Highlight API: overlay marks outside the article', async (t) => {
  const { page } = await env.open(t);
  await page.addInitScript(() => {
    // A browser without the API: no CSS.highlights, no Highlight.
    Object.defineProperty(CSS, 'highlights', { value: undefined, configurable: true });
    delete window.Highlight;
  });
  await page.goto(env.fixtureUrl());
  await waitReady(page);
  const [ready] = await events(page, 'ready');
  assert.equal(ready.detail?.highlightApi, false, 'factmark:ready says the highlight API is not used');
  await selectByDrag(page, 'article', PASSAGE);
  await inWidget(page, '[data-action="flag-fabricated"]').click();
  await inWidget(page, '[data-field="note"]').fill('overlay');
  await inWidget(page, '[data-action="save"]').click();
  await page.waitForFunction((k) => (JSON.parse(localStorage.getItem(k) ?? '[]')).length === 1,
    'factmark:v1:https://news.example/africa/mali-algeria-escalation');
  assert.equal((await storedAnnotations(page)).length, 1);

  const overlap = async () => {
    const { rects } = await passagePoints(page, 'article', PASSAGE, { scroll: false });
    return page.locator('factmark-widget').evaluate((host, passageRects) => {
      const marks = [...host.shadowRoot.querySelectorAll('[class*="mark"][class*="fabricated"]')]
        .map((m) => m.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0);
      const hits = (a, b) => a.x < b.x + b.w && b.x < a.x + a.width && a.y < b.y + b.h && b.y < a.y + a.height;
      return { marks: marks.length, covered: passageRects.filter((p) => marks.some((m) => hits(m, p))).length, lines: passageRects.length };
    }, rects);
  };
  await page.waitForTimeout(100);
  let o = await overlap();
  assert.ok(o.marks >= 1, 'overlay marks drawn in the shadow root');
  assert.equal(o.covered, o.lines, 'every line of the passage is covered by a mark');
  await page.mouse.wheel(0, 150);
  await page.waitForTimeout(300);
  o = await overlap();
  assert.equal(o.covered, o.lines, 'marks follow the passage after scrolling');
  assertNoHostMutation(await takeMutations(page), 'overlay fallback');
  assert.deepEqual(page.errors, []);
});
