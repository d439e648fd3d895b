// The widget against the real factmark-server: a flag reaches the database; with the server
// stopped, two more wait in the outbox and the reader sees that; a reload keeps them; when the
// server is back (same port, same SQLite file) both arrive, exactly once.
//
// Two factmark-server processes: one serves the page and dist/ with --static (it stays up, so
// the page can be reloaded while the endpoint is down); the other is the annotation endpoint
// (another origin, so CORS is exercised), stopped and restarted during the test.
//
// Needs: the server binary (`cargo build -p factmark-server`; found through
// $FACTMARK_SERVER_BIN, else $CARGO_TARGET_DIR/debug or target/debug) and dist/
// (`cargo xtask build`; or $FACTMARK_DIST_DIR).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { launch } from './support/browser.mjs';
import { REPO_ROOT, sharedDir, injectBeforeBodyEnd, widgetTag } from './support/server.mjs';
import {
  FIXTURE_SOURCE, storageKey, newPage, waitReady, selectByDrag, inWidget, waitForHighlights,
} from './support/page.mjs';
import { validateW3C } from './support/setup.mjs';

const PASSAGES = [
  'the mobilization of Algerian air defense',
  'a strong distrust, witness to a significantly deteriorated relationship',
  'Fabricated images and sensational information circulate widely',
];
const OUTBOX_KEY = 'factmark:v1:outbox';
const ANNO = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"';

function serverBinary() {
  const candidates = [
    process.env.FACTMARK_SERVER_BIN,
    process.env.CARGO_TARGET_DIR && path.join(process.env.CARGO_TARGET_DIR, 'debug', 'factmark-server'),
    path.join(REPO_ROOT, 'target', 'debug', 'factmark-server'),
  ].filter(Boolean);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(`factmark-server binary not found (tried ${candidates.join(', ')}): `
      + 'run `cargo build -p factmark-server` or set FACTMARK_SERVER_BIN');
  }
  return found;
}

function distDir() {
  const dir = process.env.FACTMARK_DIST ? path.resolve(process.env.FACTMARK_DIST) : path.join(REPO_ROOT, 'dist');
  for (const f of ['factmark.js', 'factmark_bg.js', 'factmark_bg.wasm', 'factmark-sync_bg.js', 'factmark-sync_bg.wasm']) {
    if (!fs.existsSync(path.join(dir, f))) throw new Error(`${dir}/${f} missing: run \`cargo xtask build\` first`);
  }
  return dir;
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts factmark-server; resolves once it prints the address it listens on. */
async function startServer(args) {
  const child = spawn(serverBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  let output = '';
  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`factmark-server did not start in 30 s:\n${output}`)), 30_000);
    const look = (chunk) => {
      output += chunk;
      const m = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`factmark-server exited (${code}):\n${output}`)); });
  });
  child.removeAllListeners('exit');
  return {
    origin,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** The page's annotations as the endpoint lists them (all pages of the listing). */
async function listed(endpoint) {
  const items = [];
  let url = `${endpoint}?target=${encodeURIComponent(FIXTURE_SOURCE)}`;
  while (url) {
    const res = await fetch(url, { headers: { accept: ANNO } });
    assert.equal(res.status, 200, `GET ${url}`);
    const page = await res.json();
    items.push(...page.items);
    url = page.next;
  }
  return items;
}

/** Client ids of the annotations stored for the fixture page, read from the SQLite file. */
function rowsInDatabase(file) {
  const script = 'import json,sqlite3,sys\n'
    + 'db=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro",uri=True)\n'
    + 'print(json.dumps([r[0] for r in db.execute("select via from annotations where target=? order by seq",(sys.argv[2],))]))';
  const res = spawnSync('python3', ['-c', script, file, FIXTURE_SOURCE], { encoding: 'utf8' });
  assert.equal(res.status, 0, `reading ${file}: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

async function waitFor(what, check, timeout = 60_000) {
  const start = Date.now();
  let last;
  while (Date.now() - start < timeout) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
}

const env = {};

before(async () => {
  env.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factmark-endpoint-'));
  env.db = path.join(env.tmp, 'annotations.sqlite3');
  env.port = await freePort();
  env.endpointOrigin = `http://127.0.0.1:${env.port}`;
  env.endpoint = `${env.endpointOrigin}/annotations/`;

  // The site: the shared fixture with the widget pointed at the endpoint, and dist/.
  const site = path.join(env.tmp, 'site');
  fs.cpSync(distDir(), path.join(site, 'dist'), { recursive: true }); // with any snippets/
  const fixture = fs.readFileSync(path.join(sharedDir(), 'fixtures', 'escalation.html'), 'utf8');
  fs.writeFileSync(path.join(site, 'index.html'),
    injectBeforeBodyEnd(fixture, widgetTag({ root: 'article', endpoint: env.endpoint })));
  // A second page whose endpoint accepts small bodies only (for refused changes).
  env.strictPort = await freePort();
  env.strictEndpoint = `http://127.0.0.1:${env.strictPort}/annotations/`;
  fs.writeFileSync(path.join(site, 'strict.html'),
    injectBeforeBodyEnd(fixture, widgetTag({ root: 'article', endpoint: env.strictEndpoint })));
  env.site = await startServer(['--listen', '127.0.0.1:0', '--static', site,
    '--database', path.join(env.tmp, 'site.sqlite3'), '--rate-limit', '0']);
  env.endpointArgs = ['--listen', `127.0.0.1:${env.port}`, '--database', env.db,
    '--allow-origin', env.site.origin, '--rate-limit', '0'];
  env.browser = await launch();
});

after(async () => {
  await env.browser?.close();
  await env.api?.stop();
  await env.strict?.stop();
  await env.site?.stop();
  if (env.tmp) fs.rmSync(env.tmp, { recursive: true, force: true });
});

/** A page in a browser context of its own (no storage shared with other tests), closed after `t`. */
async function freshPage(t) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  t.after(() => context.close());
  return { context, page: await newPage(context) };
}

async function flag(page, passage, note) {
  await selectByDrag(page, 'article', passage);
  const unverified = inWidget(page, '[data-action="flag-unverified"]');
  await unverified.waitFor({ state: 'visible', timeout: 5_000 });
  await unverified.click();
  await fillNoteAndSave(page, note);
}

/** Types the note into the open form, saves, and waits for the form to close. */
async function fillNoteAndSave(page, note) {
  const field = inWidget(page, '[data-field="note"]');
  await field.waitFor({ state: 'visible' });
  await field.fill(note);
  await inWidget(page, '[data-action="save"]').click();
  await field.waitFor({ state: 'detached', timeout: 5_000 });
}

async function localIds(page) {
  return page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? '[]').map((a) => a.id), storageKey(FIXTURE_SOURCE));
}

async function outboxItems(page) {
  return page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? '{"items":[]}').items, OUTBOX_KEY);
}

async function openPanel(page) {
  const toggle = inWidget(page, '.fm-toggle[data-action="toggle-panel"]');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await inWidget(page, '#fm-panel').waitFor({ state: 'visible' });
}

async function closePanel(page) {
  const toggle = inWidget(page, '.fm-toggle[data-action="toggle-panel"]');
  if ((await toggle.getAttribute('aria-expanded')) === 'true') await toggle.click();
}

/** The sync badge the panel shows for each annotation id, and the connection line. */
async function panelState(page) {
  return page.locator('factmark-widget').evaluate((host) => {
    const root = host.shadowRoot;
    const line = root.querySelector('.fm-sync');
    const badges = {};
    for (const item of root.querySelectorAll('.fm-item')) {
      const id = item.querySelector('[data-id]')?.getAttribute('data-id');
      const badge = item.querySelector('.fm-sync-badge');
      if (id) badges[id] = { state: badge?.getAttribute('data-sync'), text: badge?.textContent };
    }
    return {
      connection: line?.getAttribute('data-connection'),
      unsent: line?.getAttribute('data-unsent'),
      text: line?.textContent,
      badges,
    };
  });
}

async function waitForPanel(page, what, predicate, timeout = 30_000) {
  let last;
  try {
    await waitFor(what, async () => { last = await panelState(page); return predicate(last); }, timeout);
  } catch (err) {
    const held = await page.evaluate(() => ({
      annotations: window.factmark.annotations().map((a) => a.id),
      anchors: window.factmark.anchors().map((a) => `${a.id} ${a.status}`),
    })).catch((e) => String(e));
    throw new Error(`${err.message}; panel: ${JSON.stringify(last)}; widget: ${JSON.stringify(held)}`);
  }
  return last;
}

test('flags reach the server; while it is down they wait in the outbox, survive a reload, and arrive exactly once', async (t) => {
  env.api = await startServer(env.endpointArgs);
  const { context, page } = await freshPage(t);
  const pageErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });

  await page.goto(`${env.site.origin}/index.html`);
  await waitReady(page);

  // 1. A flag made with the mouse and the toolbar reaches the server and its database.
  await flag(page, PASSAGES[0], 'no source for this claim');
  const [first] = await localIds(page);
  assert.ok(first?.startsWith('urn:uuid:'), 'the local copy holds the flag at once');
  const onServer = await waitFor('the first flag on the server', async () => {
    const items = await listed(env.endpoint);
    return items.length === 1 ? items : null;
  }, 20_000);
  assert.equal(onServer[0].via, first, 'the server keeps the client id in via');
  assert.ok(onServer[0].id.startsWith(env.endpoint), 'the server assigned its own IRI');
  assert.equal([onServer[0].target].flat()[0].source, FIXTURE_SOURCE);
  const verdict = validateW3C(onServer[0]);
  assert.equal(verdict.status, 0, `W3C validator on what the server returns: ${verdict.output}`);
  await waitFor('the outbox to empty', async () => (await outboxItems(page)).length === 0, 20_000);
  await openPanel(page);
  await waitForPanel(page, 'the first flag saved on the server',
    (s) => s.connection === 'online' && s.badges[first]?.state === 'saved');
  await closePanel(page);

  // 2. The server stops; it acknowledged the flag, so the flag is in the SQLite file.
  await env.api.stop();
  assert.deepEqual(rowsInDatabase(env.db), [first], 'the acknowledged flag is in the database');

  // 3. Two more flags while the server is down: kept locally, queued, and the reader is told.
  await flag(page, PASSAGES[1], 'contradicted by the ministry statement');
  await flag(page, PASSAGES[2], 'images traced to a video game');
  const highlighted = await waitForHighlights(page, 'factmark-unverified', 3);
  assert.deepEqual([...highlighted].sort(), [...PASSAGES].sort(), 'all three passages are highlighted');
  const ids = await localIds(page);
  assert.equal(ids.length, 3);
  const waiting = ids.filter((id) => id !== first);
  const queued = await waitFor('two creates waiting in the outbox', async () => {
    const items = await outboxItems(page);
    const failedOnce = items.filter((i) => i.attempts >= 1);
    return items.length === 2 && failedOnce.length === 2 ? items : null;
  }, 20_000);
  assert.deepEqual(queued.map((i) => i.op), ['create', 'create']);
  assert.deepEqual(queued.map((i) => i.id).sort(), [...waiting].sort());
  assert.ok(queued.every((i) => i.state.kind === 'pending' && i.lastError), 'waiting to retry, with the reason kept');
  await openPanel(page);
  let seen = await waitForPanel(page, 'the panel to show the flags waiting and the server unreachable',
    (s) => ['unreachable', 'offline'].includes(s.connection) && s.unsent === '2'
      && waiting.every((id) => s.badges[id]?.state === 'local') && s.badges[first]?.state === 'saved');
  assert.match(seen.text, /unreachable|offline/i, 'the reader is told the server cannot be reached');
  assert.match(seen.text, /2 waiting/);
  assert.match(seen.badges[waiting[0]].text, /not sent/i);

  // 4. Reload while the server is still down: everything is still shown and still queued.
  await page.reload();
  await waitReady(page);
  await waitForHighlights(page, 'factmark-unverified', 3);
  assert.deepEqual((await localIds(page)).sort(), [...ids].sort());
  assert.deepEqual((await outboxItems(page)).map((i) => i.id).sort(), [...waiting].sort(), 'the outbox survived the reload');
  await openPanel(page);
  seen = await waitForPanel(page, 'the panel after the reload',
    (s) => ['unreachable', 'offline'].includes(s.connection) && s.unsent === '2'
      && waiting.every((id) => s.badges[id]?.state === 'local'));

  // 5. The server comes back on the same port with the same database: both arrive, once.
  env.api = await startServer(env.endpointArgs);
  await waitFor('both queued flags on the server', async () => (await listed(env.endpoint)).length >= 3, 90_000);
  await waitFor('the outbox to empty', async () => (await outboxItems(page)).length === 0, 30_000);
  await waitForPanel(page, 'every flag saved on the server',
    (s) => s.connection === 'online' && s.unsent === '0' && ids.every((id) => s.badges[id]?.state === 'saved'));
  // Give any duplicate request time to land before counting.
  await new Promise((r) => setTimeout(r, 1_500));
  const finalItems = await listed(env.endpoint);
  assert.equal(finalItems.length, 3, 'three annotations on the server, not more');
  assert.deepEqual(finalItems.map((a) => a.via).sort(), [...ids].sort(), 'each flag exactly once');
  for (const passage of PASSAGES) {
    const matching = finalItems.filter((a) => [a.target].flat()[0].selector.some?.((s) => s.exact === passage)
      ?? [a.target].flat()[0].selector.exact === passage);
    assert.equal(matching.length, 1, `one annotation on "${passage}"`);
  }
  const churn = await page.evaluate(() => window.__fm.events.filter((e) => ['created', 'updated', 'deleted'].includes(e.type)));
  assert.deepEqual(churn, [], 'syncing changed nothing the reader sees: no created/updated/deleted events');
  await env.api.stop();
  assert.deepEqual(rowsInDatabase(env.db).sort(), [...ids].sort(), 'exactly the three flags in the database');
  env.api = await startServer(env.endpointArgs);

  // 6. A last reload shows the server's copies, under the same ids, nothing duplicated.
  await page.reload();
  await waitReady(page);
  await waitForHighlights(page, 'factmark-unverified', 3);
  await openPanel(page);
  await waitForPanel(page, 'the panel after the last reload',
    (s) => s.connection === 'online' && ids.every((id) => s.badges[id]?.state === 'saved') && Object.keys(s.badges).length === 3);
  assert.deepEqual((await page.evaluate(() => window.factmark.annotations())).map((a) => a.id).sort(), [...ids].sort());
  assert.deepEqual(page.errors, [], 'no uncaught page errors');
});

test('the browser going offline shows "offline"; back online, the queued flag is sent at once', async (t) => {
  env.api ??= await startServer(env.endpointArgs);
  const { context, page } = await freshPage(t);
  await page.goto(`${env.site.origin}/index.html`);
  await waitReady(page);
  const before = (await listed(env.endpoint)).length;
  // This browser has no local copy: the server's flags are loaded and shown.
  await waitForHighlights(page, 'factmark-unverified', before);
  await openPanel(page);
  await waitForPanel(page, 'online', (s) => s.connection === 'online');
  await closePanel(page);

  await context.setOffline(true);
  await openPanel(page);
  await waitForPanel(page, 'offline', (s) => s.connection === 'offline');
  await closePanel(page);
  // The reader deletes one of the server's flags while offline.
  const victim = (await page.evaluate(() => window.factmark.annotations()))[0];
  assert.equal(await page.evaluate((id) => window.factmark.remove(id), victim.id), true);
  await waitForHighlights(page, 'factmark-unverified', before - 1);
  const queued = await waitFor('the delete queued', async () => {
    const items = await outboxItems(page);
    return items.length === 1 && items[0].attempts >= 1 ? items : null;
  }, 15_000);
  assert.equal(queued[0].op, 'delete');
  assert.equal(queued[0].id, victim.id);
  await openPanel(page);
  await waitForPanel(page, 'one change waiting, offline', (s) => s.connection === 'offline' && s.unsent === '1');
  assert.equal((await listed(env.endpoint)).length, before, 'nothing reached the server while offline');

  // Back online: the 'online' event sends it without waiting for the backoff.
  await context.setOffline(false);
  await waitFor('the outbox to empty after going online', async () => (await outboxItems(page)).length === 0, 10_000);
  await waitForPanel(page, 'online again', (s) => s.connection === 'online' && s.unsent === '0');
  const after = await listed(env.endpoint);
  assert.equal(after.length, before - 1, 'the delete reached the server');
  assert.ok(!after.some((a) => a.via === victim.id));
  assert.deepEqual(page.errors, [], 'no uncaught page errors');
});

test('an unreadable outbox is set aside, never lost, and its readable items are still sent', async (t) => {
  env.api ??= await startServer(env.endpointArgs);
  const QUARANTINE = 'factmark:v1:quarantine:outbox';
  const { context, page } = await freshPage(t);
  await page.goto(`${env.site.origin}/index.html`);
  await waitReady(page);
  const before = await listed(env.endpoint);
  await waitForHighlights(page, 'factmark-unverified', before.length);

  // A readable create (an annotation no server has seen) next to an item nobody can read.
  const fresh = 'urn:uuid:5e1f0000-0000-4000-8000-00000000e2e0';
  const body = { ...before[0], id: fresh };
  delete body.via;
  const readable = {
    seq: 1, op: 'create', id: fresh, source: FIXTURE_SOURCE, endpoint: env.endpoint, body, state: { kind: 'pending' },
  };
  const unreadable = { seq: 2, op: 'teleport', id: 'urn:uuid:?' };
  await page.evaluate(([k, v]) => localStorage.setItem(k, v), [OUTBOX_KEY,
    JSON.stringify({ version: 1, nextSeq: 3, items: [readable, unreadable], links: {} })]);
  await page.reload();
  await waitReady(page);
  await waitFor('the readable item on the server', async () => (await listed(env.endpoint)).some((a) => a.via === fresh), 20_000);
  await waitForHighlights(page, 'factmark-unverified', before.length + 1);
  const quarantined = JSON.parse(await page.evaluate((k) => localStorage.getItem(k), QUARANTINE));
  assert.equal(quarantined.length, 1);
  assert.deepEqual(quarantined[0].value, unreadable, 'the unreadable item is kept exactly');
  assert.match(quarantined[0].reason, /outbox item/);
  const errors = (await page.evaluate(() => window.__fm.events.filter((e) => e.type === 'error')));
  assert.ok(errors.some((e) => String(e.detail?.message).includes(QUARANTINE)), 'the page is told where it went');

  // A value that is not JSON at all is moved aside whole, and the widget keeps working.
  const garbage = '{"version":1,"items":[{"seq":';
  await page.evaluate(([k, v]) => localStorage.setItem(k, v), [OUTBOX_KEY, garbage]);
  await page.reload();
  await waitReady(page);
  await waitFor('the outbox to be rewritten', async () => {
    const raw = await page.evaluate((k) => localStorage.getItem(k), OUTBOX_KEY);
    return raw !== garbage;
  }, 10_000);
  const all = JSON.parse(await page.evaluate((k) => localStorage.getItem(k), QUARANTINE));
  assert.equal(all.length, 2, 'earlier quarantine records are kept');
  assert.equal(all[1].raw, garbage, 'the unreadable value is kept exactly');
  await openPanel(page);
  await waitForPanel(page, 'online', (s) => s.connection === 'online' && s.badges[fresh]?.state === 'saved');
  assert.deepEqual(page.errors, [], 'no uncaught page errors');
});

/** `annotation` with its commenting body (the note) set to `note`. */
function withNote(annotation, note) {
  const bodies = [annotation.body].flat().map((b) => {
    const purposes = [b.purpose].flat();
    return purposes.includes('commenting') ? { ...b, value: note } : b;
  });
  return { ...annotation, body: bodies };
}

/** Another client changes the annotation on the server (GET for the ETag, PUT with If-Match). */
async function changeOnServer(iri, note) {
  const current = await fetch(iri, { headers: { accept: ANNO } });
  assert.equal(current.status, 200);
  const etag = current.headers.get('etag');
  const res = await fetch(iri, {
    method: 'PUT',
    headers: { 'content-type': ANNO, accept: ANNO, 'if-match': etag },
    body: JSON.stringify(withNote(await current.json(), note)),
  });
  assert.equal(res.status, 200, `PUT ${iri}: ${await res.text()}`);
}

async function editNote(page, id, note) {
  await openPanel(page);
  await inWidget(page, `[data-action="show"][data-id="${id}"]`).click();
  const edit = inWidget(page, '.fm-popover [data-action="edit"]');
  await edit.waitFor({ state: 'visible', timeout: 5_000 });
  await edit.click();
  await fillNoteAndSave(page, note);
}

const noteOf = (a) => [a.body].flat().find((b) => [b.purpose].flat().includes('commenting'))?.value;

test('an edit that crosses a change made elsewhere is a conflict the reader resolves', async (t) => {
  env.api ??= await startServer(env.endpointArgs);
  const { context, page } = await freshPage(t);
  await page.goto(`${env.site.origin}/index.html`);
  await waitReady(page);
  const listedNow = await listed(env.endpoint);
  await waitForHighlights(page, 'factmark-unverified', listedNow.length);
  const target = listedNow.find((a) => a.via?.startsWith('urn:uuid:'));
  const id = target.via;
  const serverNote = async () => noteOf((await listed(env.endpoint)).find((a) => a.via === id));

  // Keep mine: the reader's version overwrites exactly the version they were shown.
  await changeOnServer(target.id, 'their correction');
  await editNote(page, id, 'my correction');
  await openPanel(page);
  let seen = await waitForPanel(page, 'a conflict', (s) => s.badges[id]?.state === 'conflict');
  assert.match(seen.badges[id].text, /changed elsewhere/i);
  const problem = inWidget(page, `#fm-panel .fm-sync-problem[data-id="${id}"]`);
  assert.match(await problem.textContent(), /their correction/, 'the reader sees what the server holds');
  assert.equal(await serverNote(), 'their correction', 'nothing was overwritten behind the reader\'s back');
  await inWidget(page, `#fm-panel [data-action="sync-keep-mine"][data-id="${id}"]`).click();
  await waitFor('my version on the server', async () => (await serverNote()) === 'my correction', 15_000);
  await waitForPanel(page, 'saved after keeping mine', (s) => s.badges[id]?.state === 'saved');

  // Use the server's: the reader's unsent edit is dropped and their version shown.
  await changeOnServer(target.id, 'their second correction');
  await editNote(page, id, 'my second correction');
  await openPanel(page);
  await waitForPanel(page, 'a second conflict', (s) => s.badges[id]?.state === 'conflict');
  await inWidget(page, `#fm-panel [data-action="sync-take-server"][data-id="${id}"]`).click();
  await waitForPanel(page, 'saved after taking theirs', (s) => s.badges[id]?.state === 'saved');
  const shown = (await page.evaluate(() => window.factmark.annotations())).find((a) => a.id === id);
  assert.equal(noteOf(shown), 'their second correction', 'the page shows the server\'s version');
  assert.equal(await serverNote(), 'their second correction');
  assert.deepEqual(await outboxItems(page), []);
  const stored = (await page.evaluate((k) => JSON.parse(localStorage.getItem(k)), storageKey(FIXTURE_SOURCE))).find((a) => a.id === id);
  assert.equal(noteOf(stored), 'their second correction', 'and keeps it');
  assert.deepEqual(page.errors, [], 'no uncaught page errors');
});

test('a change the server refuses is kept, marked failed with its message, and sent again when fixed', async (t) => {
  env.strict = await startServer(['--listen', `127.0.0.1:${env.strictPort}`, '--database', path.join(env.tmp, 'strict.sqlite3'),
    '--allow-origin', env.site.origin, '--rate-limit', '0', '--max-body-bytes', '2048']);
  const { context, page } = await freshPage(t);
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url() === env.strictEndpoint) posts.push(r); });
  await page.goto(`${env.site.origin}/strict.html`);
  await waitReady(page);

  await flag(page, PASSAGES[2], 'x'.repeat(3_000));
  const [id] = await localIds(page);
  await openPanel(page);
  let seen = await waitForPanel(page, 'the flag refused', (s) => s.badges[id]?.state === 'failed');
  assert.match(seen.badges[id].text, /refused/i);
  const problem = inWidget(page, `#fm-panel .fm-sync-problem[data-id="${id}"]`);
  assert.match(await problem.textContent(), /HTTP 413: .*2048/, 'the server\'s own message is shown');
  const [item] = await outboxItems(page);
  assert.equal(item.state.kind, 'failed');
  assert.equal(item.state.status, 413);
  assert.deepEqual(await listed(env.strictEndpoint), []);

  // Sent again as it is: refused again, still kept.
  assert.equal(posts.length, 1, 'a refused change is not retried by itself');
  await inWidget(page, `#fm-panel [data-action="sync-retry"][data-id="${id}"]`).click();
  await waitFor('a second POST', async () => posts.length === 2, 10_000);
  await waitForPanel(page, 'still failed', (s) => s.badges[id]?.state === 'failed');
  assert.equal((await outboxItems(page))[0].state.status, 413);

  // A reload keeps it, still failed (a refused change is never dropped by itself).
  await page.reload();
  await waitReady(page);
  await openPanel(page);
  await waitForPanel(page, 'failed after a reload', (s) => s.badges[id]?.state === 'failed');

  // The reader shortens the note: the edit replaces the refused body and goes out.
  await editNote(page, id, 'much shorter');
  await openPanel(page);
  await waitForPanel(page, 'saved once fixed', (s) => s.badges[id]?.state === 'saved' && s.unsent === '0', 20_000);
  const stored = await listed(env.strictEndpoint);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].via, id);
  assert.equal(noteOf(stored[0]), 'much shorter');
  assert.deepEqual(page.errors, [], 'no uncaught page errors');
});
