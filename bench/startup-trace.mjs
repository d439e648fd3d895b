#!/usr/bin/env node
// Where start-up time goes on the demo page: resource timing of factmark.js and the wasm, and
// the widget's User Timing marks, in ms after navigation, for a few fresh page loads.
//
//   node bench/startup-trace.mjs [--runs N]      (FACTMARK_DIST picks the dist/ to serve)
import { parseArgs } from 'node:util';
import { launch } from '../tests/e2e/support/browser.mjs';
import { startServer } from '../tests/e2e/support/server.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const server = await startServer();
const browser = await launch();
try {
  for (let i = 0; i < Number(args.runs); i += 1) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      window.__ready = new Promise((resolve) => {
        document.addEventListener('factmark:ready', () => resolve(performance.now()), { once: true });
      });
    });
    await page.goto(server.url('/'));
    const t = await page.evaluate(async () => {
      const ready = await window.__ready;
      const r = (p) => performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname.endsWith(p));
      const row = (e) => e && [e.startTime, e.responseStart, e.responseEnd].map((x) => Math.round(x));
      const nav = performance.getEntriesByType('navigation')[0];
      const marks = Object.fromEntries(performance.getEntriesByType('mark')
        .filter((m) => m.name.startsWith('factmark')).map((m) => [m.name, Math.round(m.startTime)]));
      return { domInteractive: Math.round(nav.domInteractive), dcl: Math.round(nav.domContentLoadedEventStart),
        js: row(r('/factmark.js')), wasm: row(r('_bg.wasm')), marks, ready: Math.round(ready) };
    });
    console.log(JSON.stringify(t));
    await context.close();
  }
} finally {
  await browser.close();
  await server.close?.();
}
