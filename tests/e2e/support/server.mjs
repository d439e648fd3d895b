// A tiny static server for the browser tests and benchmarks: the repo's dist/, the demo page,
// the shared fixture with the widget's script tag injected, and pages registered in memory.
// Listens on 127.0.0.1 on an ephemeral port; nothing here is shipped.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** shared/ (fixtures, the W3C validator): $FACTMARK_SHARED_DIR, else beside the repo. */
export function sharedDir() {
  const dir = process.env.FACTMARK_SHARED_DIR
    ? path.resolve(process.env.FACTMARK_SHARED_DIR)
    : path.resolve(REPO_ROOT, '..', 'shared');
  if (!fs.existsSync(path.join(dir, 'fixtures', 'escalation.html'))) {
    throw new Error(`shared/ not found at ${dir} (set FACTMARK_SHARED_DIR)`);
  }
  return dir;
}

export const WIDGET_SRC = '/dist/factmark.js';
export const STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function typeOf(file) {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The widget's one-line embed, with extra data- attributes (root, source, endpoint, locale). */
export function widgetTag(attrs = { root: 'article' }) {
  const data = Object.entries(attrs)
    .map(([k, v]) => ` data-${k}="${String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`)
    .join('');
  return `<script type="module" src="${WIDGET_SRC}"${data}></script>`;
}

/** Puts `html` just before </body>. */
export function injectBeforeBodyEnd(page, html) {
  const at = page.lastIndexOf('</body>');
  if (at < 0) throw new Error('page has no </body>');
  return page.slice(0, at) + html + '\n' + page.slice(at);
}

/**
 * The fixture made CSP-clean without changing what the reader sees: its inline <style> becomes a
 * stylesheet and its inline <script> a script file, both served from the same origin. Under the
 * strict CSP any remaining violation can then only come from the widget.
 */
export function cspCleanFixture(fixture) {
  const style = /<style>([\s\S]*?)<\/style>/.exec(fixture);
  const script = /<script>([\s\S]*?)<\/script>/.exec(fixture);
  if (!style || !script) throw new Error('fixture no longer has the inline <style>/<script> expected');
  const page = fixture
    .replace(style[0], '<link rel="stylesheet" href="/fixtures/escalation.css">')
    .replace(script[0], '<script src="/fixtures/escalation-page.js"></script>');
  return { page, css: style[1], js: script[1] };
}

/**
 * Starts the server. Routes:
 *   /dist/*                         the repo's dist/ (the built widget), or `distDir`
 *   /  and /index.html              the demo page (repo's index.html), /style/* beside it
 *   /fixtures/escalation.html       the shared fixture + the widget's script tag
 *       ?csp=strict                 ... served with the strict CSP header
 *       ?clean=1                    ... with its inline <style>/<script> moved to files
 *       ?widget=0                   ... without the widget
 *       ?attrs=<json>               ... data- attributes for the tag (default {"root":"article"})
 *       ?css=<href> (repeatable)    ... extra stylesheets linked in <head>
 *   anything registered with server.page(path, body, {type, headers})
 */
export async function startServer({ repoRoot = REPO_ROOT, distDir = process.env.FACTMARK_DIST || path.join(repoRoot, 'dist') } = {}) {
  const shared = sharedDir();
  const fixture = fs.readFileSync(path.join(shared, 'fixtures', 'escalation.html'), 'utf8');
  const clean = cspCleanFixture(fixture);
  /** The fixture page: CSP-clean or not, with or without the widget, extra <head> content. */
  function fixturePage({ clean: isClean = false, widget = true, attrs = { root: 'article' }, head = '' } = {}) {
    let page = isClean ? clean.page : fixture;
    if (head) page = page.replace('</head>', `${head}\n</head>`);
    if (widget) page = injectBeforeBodyEnd(page, widgetTag(attrs));
    return page;
  }
  const pages = new Map();
  const log = [];

  pages.set('/fixtures/escalation.css', { body: clean.css, type: TYPES['.css'] });
  pages.set('/fixtures/escalation-page.js', { body: clean.js, type: TYPES['.js'] });

  function serveFile(res, root, rel, headers = {}) {
    const file = path.resolve(root, '.' + path.posix.normalize('/' + rel));
    if (!file.startsWith(path.resolve(root) + path.sep)) return notFound(res);
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return notFound(res);
      res.writeHead(200, { 'content-type': typeOf(file), 'content-length': st.size, 'cache-control': 'no-store', ...headers });
      fs.createReadStream(file).pipe(res);
    });
  }

  function notFound(res) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  function send(res, body, type, headers = {}) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    res.writeHead(200, { 'content-type': type, 'content-length': buf.length, 'cache-control': 'no-store', ...headers });
    res.end(buf);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const p = decodeURIComponent(url.pathname);
    log.push(p);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' });
      return res.end('method not allowed');
    }
    if (pages.has(p)) {
      const { body, type, headers } = pages.get(p);
      return send(res, typeof body === 'function' ? body(url) : body, type ?? typeOf(p), headers);
    }
    if (p.startsWith('/dist/')) return serveFile(res, distDir, p.slice('/dist/'.length));
    if (p.startsWith('/style/')) return serveFile(res, path.join(repoRoot, 'style'), p.slice('/style/'.length));
    if (p === '/' || p === '/index.html') return serveFile(res, repoRoot, 'index.html');
    if (p === '/fixtures/escalation.html') {
      const q = url.searchParams;
      const page = fixturePage({
        clean: q.get('clean') === '1',
        widget: q.get('widget') !== '0',
        attrs: q.has('attrs') ? JSON.parse(q.get('attrs')) : undefined,
        head: q.has('css') ? q.getAll('css').map((href) => `<link rel="stylesheet" href="${href.replace(/"/g, '')}">`).join('') : '',
      });
      const headers = q.get('csp') === 'strict' ? { 'content-security-policy': STRICT_CSP } : {};
      return send(res, page, TYPES['.html'], headers);
    }
    if (p === '/favicon.ico') { res.writeHead(204); return res.end(); }
    if (p === '/blank.html') return send(res, '<!doctype html><title>blank</title>', TYPES['.html']);
    notFound(res);
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: (p) => origin + p,
    /** Registers an in-memory page or asset. */
    page(p, body, { type, headers } = {}) {
      pages.set(p, { body, type, headers });
      return origin + p;
    },
    requests: log,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
