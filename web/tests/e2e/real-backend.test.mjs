// The browser scenario against the REAL backend (upbit-sim + dashboard-api + trader processes,
// started by tests/harness.mjs). Screenshots go to <repo>/artifacts/screenshots/ without a
// prefix. When a binary is missing it FAILS under CI=true (or E2E_REQUIRED=1); elsewhere it is
// skipped with a loud message on stderr.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { collectConsoleErrors, launchBrowser } from '../lib/browser.mjs';
import { REPO_DIR } from '../lib/paths.mjs';
import { byTestId, confirm, fullFlow, go, openAndLogin, shot, waitUntil } from '../lib/scenarios.mjs';
import { missingBinaries, startBackend } from '../harness.mjs';

/** The backend's logs of the last run are kept here for a failing run to be read. */
const LOG_DIR = path.join(REPO_DIR, 'artifacts', 'e2e-logs');

const truthy = (v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
const required = truthy(process.env.CI) || truthy(process.env.E2E_REQUIRED);
const missing = missingBinaries();
let skip = false;
if (missing.length > 0 && !required) {
  skip = `backend binaries missing: ${missing.join(', ')}`;
  const bar = '!'.repeat(100);
  console.error(`${bar}\n!! SKIPPING the real-backend end-to-end test: ${skip}.\n!! Build them (cargo build --workspace --bins) or point the variables at them; under CI=true this FAILS.\n${bar}`);
}

test('full flow against the real backend', { timeout: 300_000, skip }, async (t) => {
  const backend = await startBackend();
  const browser = await launchBrowser();
  try {
    const facts = await fullFlow(t, browser, {
      baseUrl: backend.baseUrl,
      username: backend.username,
      password: backend.adminPassword,
      prefix: '',
      minLiveEvents: 1,
      makeKeys: async () => {
        const keys = { access_key: `e2e${crypto.randomBytes(12).toString('hex')}`, secret_key: crypto.randomBytes(24).toString('hex') };
        await backend.createSimAccount(keys.access_key, keys.secret_key);
        return keys;
      },
      timeouts: { alive: 45_000, live: 20_000, profit: 60_000 },
    });
    console.log(`# app shell loaded in ${facts.shellMs} ms; ${facts.liveEvents} live events seen`);
    await moreCases(t, browser, backend);
  } finally {
    await browser.close();
    fs.mkdirSync(LOG_DIR, { recursive: true });
    for (const [name, file] of Object.entries(backend.logs)) {
      try {
        fs.copyFileSync(file, path.join(LOG_DIR, `${name}.log`));
      } catch {
        // no log written
      }
    }
    console.log(`# backend logs: ${LOG_DIR}`);
    await backend.stop();
  }
});

/** What the real backend decides by itself: exchange-checked keys, strategy validation, versions. */
async function moreCases(t, browser, backend) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  try {
    await openAndLogin(page, { baseUrl: backend.baseUrl, username: backend.username, password: backend.adminPassword });

    await t.test('keys the exchange does not know are refused beside the field', async () => {
      await go(page, 'config');
      await byTestId(page, 'credential-add').click();
      await byTestId(page, 'cred-name').fill(`unknown-${crypto.randomBytes(3).toString('hex')}`);
      await byTestId(page, 'cred-access').fill(`nosuch${crypto.randomBytes(8).toString('hex')}`);
      await byTestId(page, 'cred-secret').fill(crypto.randomBytes(16).toString('hex'));
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/credentials') && r.request().method() === 'POST');
      await byTestId(page, 'modal-apply').click();
      const res = await answer;
      assert.equal(res.status(), 422, `POST /credentials with unknown keys answered ${res.status()}`);
      const body = await res.json();
      const where = body.error.field === 'secret_key' ? 'cred-secret-error' : body.error.field === 'name' ? 'cred-name-error' : body.error.field === 'access_key' ? 'cred-access-error' : 'modal-error';
      await byTestId(page, where).waitFor();
      assert.ok((await byTestId(page, where).innerText()).length > 0);
      await shot(page, '', 'config-keys-refused');
      await byTestId(page, 'modal-cancel').click();
      await byTestId(page, 'credential-add-modal').waitFor({ state: 'detached' });
    });

    await t.test('STRATEGY: the API refusal is shown beside the field; a valid change makes a new version', async () => {
      await go(page, 'strategy');
      await page.locator('[data-testid="strategy-item"][data-strategy-name="PROFIT FIRST"]').click();
      await byTestId(page, 'definition-form').waitFor();
      const versionBefore = Number((await byTestId(page, 'strategy-version').innerText()).trim());
      const entry = Number(await byTestId(page, 'def-thresholds.entry').inputValue());
      const exit = byTestId(page, 'def-thresholds.exit');
      const exitBefore = await exit.inputValue();
      await exit.fill(String(entry + 1)); // a number, so only the server can say it is wrong
      await byTestId(page, 'strategy-apply').click();
      const answer = page.waitForResponse((r) => /\/api\/v1\/strategies\/\d+$/.test(r.url()) && r.request().method() === 'PUT');
      await confirm(page);
      const res = await answer;
      assert.equal(res.status(), 422);
      const body = await res.json();
      const err = byTestId(page, 'def-error-thresholds.exit');
      await err.waitFor();
      assert.match(await err.innerText(), /below the entry threshold/i, `the field says "${await err.innerText()}"; the API said ${JSON.stringify(body.error)}`);
      await shot(page, '', 'strategy-refused');

      const newExit = String(Number(exitBefore) - 1);
      await exit.fill(newExit);
      await byTestId(page, 'strategy-apply').click();
      await confirm(page);
      await byTestId(page, 'strategy-notice').waitFor();
      await waitUntil(async () => Number((await byTestId(page, 'strategy-version').innerText()).trim()) === versionBefore + 1, 5000, 'the new version number');
      await waitUntil(async () => (await byTestId(page, 'version-row').count()) === versionBefore + 1, 5000, 'the version history row');
      assert.equal(await exit.inputValue(), newExit);
      await shot(page, '', 'strategy-saved');
    });

    await t.test('no console errors (more cases)', () => {
      assert.deepEqual(errors, []);
    });
  } finally {
    await context.close();
  }
}
