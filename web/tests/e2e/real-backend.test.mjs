// The browser scenario against the REAL backend (upbit-sim + dashboard-api + trader processes,
// started by tests/harness.mjs). Screenshots go to <repo>/artifacts/screenshots/ without a
// prefix. When a binary is missing it FAILS under CI=true (or E2E_REQUIRED=1); elsewhere it is
// skipped with a loud message on stderr.
import test from 'node:test';
import crypto from 'node:crypto';
import { launchBrowser } from '../lib/browser.mjs';
import { fullFlow } from '../lib/scenarios.mjs';
import { missingBinaries, startBackend } from '../harness.mjs';

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
  } catch (e) {
    console.log(`# dashboard-api log tail:\n${backend.tail(backend.logs.api)}`);
    throw e;
  } finally {
    await browser.close();
    await backend.stop();
  }
});
