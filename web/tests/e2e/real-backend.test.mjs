// The browser scenario against the REAL backend (upbit-sim + dashboard-api + trader processes,
// started by tests/harness.mjs). Screenshots go to <repo>/artifacts/screenshots/ without a
// prefix. Fails (does not skip) when the binaries are missing.
import test from 'node:test';
import crypto from 'node:crypto';
import { launchBrowser } from '../lib/browser.mjs';
import { fullFlow } from '../lib/scenarios.mjs';
import { startBackend } from '../harness.mjs';

test('full flow against the real backend', { timeout: 300_000 }, async (t) => {
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
