// Helpers that drive and observe the widget in a page the way a reader (and a host site) would.

import assert from 'node:assert/strict';

export const FIXTURE_SOURCE = 'https://news.example/africa/mali-algeria-escalation';
export const storageKey = (source) => `factmark:v1:${source}`;
export const quarantineKey = (source) => `factmark:v1:quarantine:${source}`;

/**
 * Installed before any page script runs (page.addInitScript): records factmark:* events,
 * CSP violations, page errors and every DOM mutation made after the parser finished, i.e.
 * from just before deferred/module scripts (the widget) run. Runs again on every navigation.
 */
function instrumentPage() {
  const fm = { events: [], csp: [], mutations: [], ready: 0 };
  Object.defineProperty(window, '__fm', { value: fm });
  for (const type of ['ready', 'created', 'updated', 'deleted', 'anchored', 'error']) {
    document.addEventListener(`factmark:${type}`, (e) => {
      let detail = null;
      try { detail = JSON.parse(JSON.stringify(e.detail ?? null)); } catch { detail = String(e.detail); }
      fm.events.push({ type, detail, t: performance.now() });
      if (type === 'ready') fm.ready += 1;
    }, true);
  }
  document.addEventListener('securitypolicyviolation', (e) => {
    fm.csp.push({
      blockedURI: e.blockedURI, sourceFile: e.sourceFile, lineNumber: e.lineNumber,
      violatedDirective: e.violatedDirective, sample: e.sample, disposition: e.disposition,
    });
  }, true);

  const describe = (n) => n.nodeType === 1
    ? n.nodeName + (n.id ? '#' + n.id : '')
    : n.nodeName;
  const record = (records) => {
    const article = document.querySelector('article');
    for (const r of records) {
      fm.mutations.push({
        type: r.type,
        target: describe(r.target),
        inArticle: !!article && (article === r.target || article.contains(r.target)),
        attributeName: r.attributeName,
        added: [...r.addedNodes].map(describe),
        removed: [...r.removedNodes].map(describe),
      });
    }
  };
  const observer = new MutationObserver(record);
  // "interactive" is set after parsing and before deferred and module scripts run.
  document.addEventListener('readystatechange', () => {
    if (document.readyState === 'interactive') {
      observer.observe(document.documentElement, {
        subtree: true, childList: true, attributes: true, characterData: true,
      });
    }
  });
  Object.defineProperty(window, '__fmTakeMutations', {
    value: () => { record(observer.takeRecords()); return fm.mutations.splice(0); },
  });
}

/** A new page with the instrumentation and page errors collected in `page.errors`. */
export async function newPage(context) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(String(err)));
  page.on('dialog', (d) => d.accept());
  await page.addInitScript(instrumentPage);
  return page;
}

/** Waits for the page's factmark:ready (count = how many page loads, default this one). */
export async function waitReady(page, timeout = 15_000) {
  try {
    await page.waitForFunction(() => window.__fm.ready > 0 && window.factmark, null, { timeout });
  } catch (err) {
    const diag = await page.evaluate(() => ({ events: window.__fm?.events, csp: window.__fm?.csp })).catch(() => null);
    throw new Error(`factmark:ready never fired: ${err.message}\npage errors: ${JSON.stringify(page.errors)}\n${JSON.stringify(diag)}`);
  }
}

export async function events(page, type) {
  return page.evaluate((t) => window.__fm.events.filter((e) => !t || e.type === t), type);
}

/** Mutations recorded since the last call (see instrumentPage). */
export async function takeMutations(page) {
  return page.evaluate(() => window.__fmTakeMutations());
}

/**
 * Asserts that no recorded mutation touched the host page, except the widget's own host element
 * being appended to <body> (and attributes on that element).
 */
export function assertNoHostMutation(mutations, label = '') {
  const foreign = mutations.filter((m) => {
    if (m.inArticle) return true;
    if (m.target === 'FACTMARK-WIDGET') return false;
    if (m.type === 'childList' && m.target === 'BODY'
      && m.removed.length === 0 && m.added.every((n) => n === 'FACTMARK-WIDGET')) return false;
    return true;
  });
  assert.deepEqual(foreign, [], `host page DOM was mutated ${label}`);
  assert.ok(!mutations.some((m) => m.inArticle), `article mutated ${label}`);
}

/** The text of every range in CSS.highlights.get(name), in registration order. */
export async function highlightTexts(page, name) {
  return page.evaluate((n) => {
    const h = CSS.highlights.get(n);
    if (!h) return [];
    return [...h].map((r) => {
      const live = document.createRange();
      live.setStart(r.startContainer, r.startOffset);
      live.setEnd(r.endContainer, r.endOffset);
      return live.toString();
    });
  }, name);
}

export async function waitForHighlights(page, name, count, timeout = 5_000) {
  await page.waitForFunction(([n, c]) => (CSS.highlights.get(n)?.size ?? 0) === c, [name, count], { timeout })
    .catch(async (err) => {
      const now = await highlightTexts(page, name);
      throw new Error(`expected ${count} range(s) in highlight ${name}, have ${JSON.stringify(now)}: ${err.message}`);
    });
  return highlightTexts(page, name);
}

export async function readStorage(page, key) {
  return page.evaluate((k) => localStorage.getItem(k), key);
}

export async function storedAnnotations(page, source = FIXTURE_SOURCE) {
  const raw = await readStorage(page, storageKey(source));
  return raw == null ? [] : JSON.parse(raw);
}

/**
 * Client coordinates of the first and last characters of `text` inside `container`, with the
 * passage scrolled to the middle of the viewport (unless `scroll` is false). The text must sit in
 * one text node.
 */
export async function passagePoints(page, container, text, { scroll = true } = {}) {
  return page.evaluate(([sel, needle, scrollTo]) => {
    const root = document.querySelector(sel);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = n.data.indexOf(needle);
      if (at < 0) continue;
      const char = (i) => {
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + 1);
        return r;
      };
      if (scrollTo) n.parentElement.scrollIntoView({ block: 'center' });
      const first = char(at).getClientRects()[0];
      const lastRects = char(at + needle.length - 1).getClientRects();
      const last = lastRects[lastRects.length - 1];
      const whole = document.createRange();
      whole.setStart(n, at);
      whole.setEnd(n, at + needle.length);
      const rects = [...whole.getClientRects()].map((r) => ({ x: r.x, y: r.y, w: r.width, h: r.height }));
      return {
        start: { x: first.left + first.width * 0.25, y: first.top + first.height / 2 },
        end: { x: last.right - last.width * 0.25, y: last.top + last.height / 2 },
        middle: { x: rects[0].x + rects[0].w / 2, y: rects[0].y + rects[0].h / 2 },
        rects,
      };
    }
    throw new Error(`passage not found: ${needle}`);
  }, [container, text, scroll]);
}

/** Selects `text` with a real mouse drag from its first to its last character. */
export async function selectByDrag(page, container, text) {
  const { start, end } = await passagePoints(page, container, text);
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move((start.x + end.x) / 2, (start.y + end.y) / 2, { steps: 5 });
  await page.mouse.move(end.x, end.y, { steps: 5 });
  await page.mouse.up();
  // The range's text, not Selection.toString(), which applies the page's text-transform.
  const selected = await page.evaluate(() => {
    const sel = window.getSelection();
    return sel.rangeCount ? sel.getRangeAt(0).toString() : '';
  });
  assert.equal(selected, text, 'the mouse drag selected the passage');
}

/** A locator inside the widget's (open) shadow root. */
export function inWidget(page, selector) {
  return page.locator('factmark-widget').locator(selector);
}

export async function anchors(page) {
  return page.evaluate(() => window.factmark.anchors());
}
