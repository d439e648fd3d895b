// Headless Chromium through playwright-core, with the system's Chromium (playwright's own browser
// download is not available here).

import fs from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.FACTMARK_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium; playwright gives every launch a fresh --user-data-dir. */
export async function launch(extraArgs = []) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM} (set FACTMARK_CHROMIUM)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}
