// Launches the system Chromium through playwright-core (no browser download) and collects
// console errors, so every test can assert that the page logged none.
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Records console errors and uncaught page errors of `page` into the returned array. HTTP error
 * answers the test provokes on purpose (statuses in `expectedStatuses`) are logged by Chromium
 * as "Failed to load resource" and are left out.
 */
export function collectConsoleErrors(page, expectedStatuses = [401, 409, 422]) {
  const errors = [];
  const expected = new RegExp(`Failed to load resource: the server responded with a status of (${expectedStatuses.join('|')})\\b`);
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (expected.test(text)) return;
    errors.push(`console.error: ${text}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}
