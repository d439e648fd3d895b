// Benchmark pages, served from memory: one generated article, either with the peers' harness
// (no widget, so DOM-changing peers do not wake factmark's observer) or with the widget.

import fs from 'node:fs';
import { widgetTag } from '../../tests/e2e/support/server.mjs';
import { articleHtml } from './article.mjs';
import { harnessBundle, RECOGITO_UMD, RECOGITO_CSS } from './bundle.mjs';

const STYLE = 'body{font:16px/1.5 Georgia,serif;max-width:44rem;margin:1rem auto;padding:0 1rem}';

export async function registerAssets(server) {
  server.page('/bench/harness.js', await harnessBundle(), { type: 'text/javascript; charset=utf-8' });
  server.page('/bench/process-shim.js', 'window.process = { env: { NODE_ENV: "production" } };', { type: 'text/javascript; charset=utf-8' });
  server.page('/bench/recogito.umd.js', fs.readFileSync(RECOGITO_UMD), { type: 'text/javascript; charset=utf-8' });
  server.page('/bench/recogito.css', fs.readFileSync(RECOGITO_CSS), { type: 'text/css; charset=utf-8' });
  server.page('/bench/page.css', STYLE, { type: 'text/css; charset=utf-8' });
}

function page(title, head, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>`
    + `<link rel="stylesheet" href="/bench/page.css">${head}</head><body>${body}</body></html>`;
}

export const sourceOf = (article) => `https://bench.example/articles/${article.name}`;

/** Registers /bench/<name>/peers.html and /bench/<name>/factmark.html; returns their URLs. */
export function registerArticle(server, article) {
  const html = articleHtml(article);
  const canonical = `<link rel="canonical" href="${sourceOf(article)}">`;
  const peers = page(article.name,
    `${canonical}<link rel="stylesheet" href="/bench/recogito.css"><script src="/bench/process-shim.js"></script>`
    + '<script src="/bench/recogito.umd.js"></script><script src="/bench/harness.js"></script>',
    html);
  const widget = page(article.name, `${canonical}<script src="/bench/harness.js"></script>`,
    html + widgetTag({ root: '#bench-article', source: sourceOf(article) }));
  // The same page where the widget waits for factmark.mount() (data-manual), to time a mount.
  const manual = page(article.name, `${canonical}<script src="/bench/harness.js"></script>`,
    html + widgetTag({ root: '#bench-article', source: sourceOf(article), manual: '' }));
  return {
    peers: server.page(`/bench/${article.name}/peers.html`, peers, { type: 'text/html; charset=utf-8' }),
    factmark: server.page(`/bench/${article.name}/factmark.html`, widget, { type: 'text/html; charset=utf-8' }),
    factmarkManual: server.page(`/bench/${article.name}/factmark-manual.html`, manual, { type: 'text/html; charset=utf-8' }),
  };
}
