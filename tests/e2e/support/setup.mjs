// One browser and one server per test file; a fresh context (fresh storage) per test.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { before, after } from 'node:test';
import { launch } from './browser.mjs';
import { startServer, sharedDir, REPO_ROOT } from './server.mjs';
import { newPage } from './page.mjs';

/** `browserArgs`: extra Chromium flags for this file's browser. */
export function suite({ browserArgs = [] } = {}) {
  const env = {};
  before(async () => {
    for (const f of ['factmark.js', 'factmark_bg.js', 'factmark_bg.wasm', 'factmark-sync_bg.js', 'factmark-sync_bg.wasm']) {
      if (!fs.existsSync(path.join(process.env.FACTMARK_DIST || path.join(REPO_ROOT, 'dist'), f))) {
        throw new Error(`dist/${f} missing: run \`cargo xtask build\` first`);
      }
    }
    env.server = await startServer();
    env.browser = await launch(browserArgs);
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  /** A fresh browser context (own localStorage) and an instrumented page in it. */
  env.open = async (t, options = {}) => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    t.after(() => context.close());
    const page = await newPage(context);
    return { context, page };
  };
  env.fixtureUrl = (params = {}) => {
    const q = new URLSearchParams(params).toString();
    return env.server.url('/fixtures/escalation.html' + (q ? '?' + q : ''));
  };
  return env;
}

/** Runs the shared W3C validator on `value`; returns {status, output}. */
export function validateW3C(value) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factmark-e2e-'));
  const file = path.join(dir, 'annotation.json');
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
  const script = path.join(sharedDir(), 'w3c-annotation-model', 'validate.py');
  const res = spawnSync('python3', [script, file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: res.status, output: (res.stdout ?? '') + (res.stderr ?? '') };
}
