// The full browser scenario against the in-memory contract mock (tests/lib/contract-mock.mjs),
// plus what the real backend cannot produce on demand: a 422 on a named definition field, a
// dropped event stream (RECONNECTING… and no duplicates after a resume that replays events),
// ARM with a wrong then right password, and an expired session sending the app back to login.
// Screenshots are saved with the prefix "mock-"; the real-backend run (tests/e2e) saves its own.
import test from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, collectConsoleErrors } from '../lib/browser.mjs';
import { startContractMock } from '../lib/contract-mock.mjs';
import { requireDist } from '../lib/paths.mjs';
import { assertDashboardItems, assertLogOrderedAndUnique, assertNav, byTestId, confirm, fullFlow, go, openAndLogin, shot, traderRow, waitUntil } from '../lib/scenarios.mjs';

requireDist();
const PASSWORD = 'mock-admin-pw';
const browser = await launchBrowser();
const mock = await startContractMock({ password: PASSWORD });
test.after(async () => {
  await browser.close();
  await mock.close();
});

const env = {
  baseUrl: mock.url,
  username: 'admin',
  password: PASSWORD,
  prefix: 'mock-',
  minLiveEvents: 2,
  makeKeys: async () => ({ access_key: `mockaccess${Date.now()}`, secret_key: `mocksecret${Date.now()}` }),
  timeouts: { alive: 5000, live: 5000, profit: 10_000 },
};

test('full flow against the contract mock', async (t) => {
  const facts = await fullFlow(t, browser, env);
  console.log(`# app shell loaded in ${facts.shellMs} ms; ${facts.liveEvents} live events seen`);
});

test('more cases against the contract mock', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  try {
    await openAndLogin(page, env);

    await t.test('a LIVE trader past protection can be ARMED; a wrong password stays in the popup', async () => {
      await go(page, 'config');
      await byTestId(page, 'credential-add').click();
      await byTestId(page, 'cred-name').fill('main');
      await byTestId(page, 'cred-access').fill('bad-key');
      await byTestId(page, 'cred-secret').fill('s3cret');
      await byTestId(page, 'modal-apply').click();
      await byTestId(page, 'cred-access-error').waitFor();
      assert.match(await byTestId(page, 'cred-access-error').innerText(), /rejected/);
      await byTestId(page, 'cred-access').fill('upbit-access-1234');
      await byTestId(page, 'modal-apply').click();
      await byTestId(page, 'credential-add-modal').waitFor({ state: 'detached' });
      assert.match(await byTestId(page, 'config-notice').innerText(), /accepted/);

      await go(page, 'traders');
      for (const [name, strategy, seed, cred] of [
        ['alpha', 'CRAZY', '5000000', true],
        ['beta', 'STANDARD', '2,500,000', false],
      ]) {
        await byTestId(page, 'trader-add').click();
        await byTestId(page, 'add-name').fill(name);
        const opts = await byTestId(page, 'add-strategy').locator('option').evaluateAll((os) => os.map((o) => ({ v: o.value, t: o.textContent })));
        await byTestId(page, 'add-strategy').selectOption(opts.find((o) => o.t.startsWith(strategy)).v);
        await byTestId(page, 'add-seed').fill(seed);
        if (cred) {
          const c = await byTestId(page, 'add-credential').locator('option').evaluateAll((os) => os.map((o) => ({ v: o.value, t: o.textContent })));
          await byTestId(page, 'add-credential').selectOption(c.find((o) => o.t.startsWith('main')).v);
        }
        await byTestId(page, 'modal-apply').click();
        await traderRow(page, name).waitFor();
      }
      // client-side validation in the popup
      await byTestId(page, 'trader-add').click();
      await byTestId(page, 'add-seed').fill('0');
      await byTestId(page, 'modal-apply').click();
      assert.equal(await byTestId(page, 'add-name-error').innerText(), 'Enter a name.');
      assert.equal(await byTestId(page, 'add-seed-error').innerText(), 'Must be greater than zero.');
      await byTestId(page, 'add-name').fill('alpha');
      await byTestId(page, 'add-seed').fill('1000');
      await byTestId(page, 'modal-apply').click();
      await byTestId(page, 'add-name-error').waitFor();
      assert.match(await byTestId(page, 'add-name-error').innerText(), /already exists/);
      await shot(page, 'mock-', 'trader-add-popup');
      await byTestId(page, 'modal-cancel').click();

      const row = traderRow(page, 'alpha');
      assert.equal(await row.locator('[data-testid="protection-left"]').count(), 0);
      await row.locator('[data-testid="mode-select"]').selectOption('LIVE');
      await row.locator('[data-testid="mode-apply"]').click();
      await confirm(page);
      await waitUntil(async () => (await row.locator('[data-testid="mode"]').innerText()).trim() === 'LIVE', 5000, 'LIVE');
      assert.equal((await row.locator('[data-testid="arm-state"]').innerText()).trim(), 'NOT ARMED');
      await row.locator('[data-testid="arm"]').click();
      const shown = await confirm(page, { expectError: true, password: 'wrong' });
      assert.match(shown, /wrong admin password/);
      assert.ok(await byTestId(page, 'nav').isVisible(), 'a wrong ARM password must not log out');
      await byTestId(page, 'confirm-password').fill(PASSWORD);
      await byTestId(page, 'modal-apply').click();
      await byTestId(page, 'confirm-modal').waitFor({ state: 'detached' });
      await waitUntil(async () => (await row.locator('[data-testid="arm-state"]').innerText()).trim() === 'ARMED', 5000, 'ARMED');
      // Kill switch (RUN-4): behind a popup with the password and the liquidation choice.
      await row.locator('[data-testid="kill-trip"]').click();
      await byTestId(page, 'kill-liquidate').check();
      assert.match(await confirm(page, { expectError: true, password: 'wrong' }), /wrong admin password/);
      await byTestId(page, 'confirm-password').fill(PASSWORD);
      await byTestId(page, 'modal-apply').click();
      await byTestId(page, 'confirm-modal').waitFor({ state: 'detached' });
      const killState = row.locator('[data-testid="kill-switch-state"]');
      await killState.waitFor();
      assert.equal((await killState.innerText()).trim(), 'KILL SWITCH ON · LIQUIDATING');
      await shot(page, 'mock-', 'traders-kill-switch');
      await row.locator('[data-testid="kill-resume"]').click();
      await confirm(page, { password: PASSWORD });
      await row.locator('[data-testid="kill-trip"]').waitFor();
      assert.equal(await killState.count(), 0);
      await row.locator('[data-testid="trader-run"]').click();
      await confirm(page);
      await traderRow(page, 'beta').locator('[data-testid="trader-run"]').click();
      await confirm(page);
      await page.waitForTimeout(4000);
      await shot(page, 'mock-', 'traders-live-armed');
    });

    await t.test('STRATEGY: a 422 is shown beside the named field; a valid change saves a new version', async () => {
      await go(page, 'strategy');
      await page.locator('[data-testid="strategy-item"][data-strategy-name="STANDARD"]').click();
      await byTestId(page, 'definition-form').waitFor();
      // A KRW amount in the definition is shown with thousands separators beside its input.
      assert.equal((await byTestId(page, 'def-krw-universe.min_value_krw_24h').innerText()).trim(), '₩1,000,000,000');
      const field = byTestId(page, 'def-entry_threshold');
      await field.fill('');
      await byTestId(page, 'strategy-apply').click();
      assert.match(await byTestId(page, 'def-error-entry_threshold').innerText(), /Required/);
      await field.fill('150');
      await byTestId(page, 'strategy-apply').click();
      await confirm(page);
      await byTestId(page, 'def-error-entry_threshold').waitFor();
      assert.match(await byTestId(page, 'def-error-entry_threshold').innerText(), /between 0 and 100/);
      await shot(page, 'mock-', 'strategy-422');
      await field.fill('75');
      await byTestId(page, 'def-weights.tp').fill('0.35');
      await byTestId(page, 'def-bandit_enabled').check();
      assert.equal((await byTestId(page, 'changed-count').innerText()).trim(), '3 changed');
      await byTestId(page, 'strategy-apply').click();
      await confirm(page);
      await byTestId(page, 'strategy-notice').waitFor();
      assert.equal((await byTestId(page, 'strategy-version').innerText()).trim(), '2');
      await waitUntil(async () => (await byTestId(page, 'version-row').count()) === 2, 5000, 'two versions');
      const saved = mock.state.strategies.find((s) => s.name === 'STANDARD').definition;
      assert.equal(saved.entry_threshold, 75);
      assert.equal(saved.weights.tp, 0.35);
      assert.equal(saved.bandit_enabled, true);
      assert.deepEqual(saved.universe.exclude, ['KRW-USDT'], 'untouched fields are kept');
      await shot(page, 'mock-', 'strategy-saved');
    });

    await t.test('a dropped event stream shows RECONNECTING… and resumes without duplicates', async () => {
      await go(page, 'dashboard');
      await waitUntil(async () => (await byTestId(page, 'action-log-status').innerText()).trim() === 'LIVE', 5000, 'LIVE');
      mock.state.replayOverlap = 3;
      mock.dropStreams();
      await page.waitForFunction(() => document.querySelector('[data-testid="action-log-status"]')?.textContent?.includes('RECONNECTING'), null, { timeout: 3000, polling: 20 });
      const ev = mock.emit('CRITICAL', 'test_alert', 'emitted while the stream was down');
      await page.locator(`[data-testid="log-entry"][data-event-id="${ev.id}"]`).waitFor({ timeout: 8000 });
      await waitUntil(async () => (await byTestId(page, 'action-log-status').innerText()).trim() === 'LIVE', 5000, 'LIVE again');
      await assertLogOrderedAndUnique(page);
      // Chromium logs the stream this test cut on purpose; that one line is expected.
      for (let i = errors.length - 1; i >= 0; i -= 1) if (errors[i].includes('ERR_INCOMPLETE_CHUNKED_ENCODING')) errors.splice(i, 1);
      assert.equal(await page.locator(`[data-testid="log-entry"][data-level="CRITICAL"]`).first().getAttribute('data-event-id'), String(ev.id));
      mock.emit('WARN', 'test_warn', 'a warning for the screenshot');
      await page.waitForTimeout(1500);
      await shot(page, 'mock-', 'dashboard-busy');
    });

    await t.test('profit chart: one line per trader, values under the cursor, range selector', async () => {
      const chart = byTestId(page, 'profit-chart');
      await waitUntil(async () => Number(await chart.getAttribute('data-series')) === 2, 20_000, 'two series');
      const legend = chart.locator('.u-legend .u-series');
      const labels = (await legend.locator('.u-label').allInnerTexts()).map((s) => s.trim());
      assert.deepEqual(labels.slice(1).sort(), ['alpha', 'beta']);
      const plot = chart.locator('.u-over');
      const box = await plot.boundingBox();
      // Near the right edge, where both traders have returns.
      await page.mouse.move(box.x + box.width - 3, box.y + box.height / 2);
      await waitUntil(async () => /\d/.test(await legend.nth(0).locator('.u-value').innerText()), 3000, 'a time under the cursor');
      const values = await legend.locator('.u-value').allInnerTexts();
      assert.ok(values.slice(1).every((v) => /^[+-]?\d+\.\d\d%$/.test(v.trim())), `legend values under the cursor: ${values}`);
      await byTestId(page, 'range-7d').click();
      await waitUntil(async () => (await chart.getAttribute('data-range')) === '7d', 3000, 'range 7d');
      assert.equal(await byTestId(page, 'range-7d').getAttribute('aria-pressed'), 'true');
      await byTestId(page, 'range-24h').click();
      await page.mouse.move(0, 0);
    });

    await t.test('the regime card warns when the regime is stale', async () => {
      mock.state.regime.computedAt = Date.now() - 3600_000;
      await page.reload();
      await byTestId(page, 'regime-warning').waitFor({ timeout: 8000 });
      assert.match(await byTestId(page, 'regime-warning').innerText(), /STALE/);
      const saved = mock.state.regime;
      mock.state.regime = null;
      await page.reload();
      await waitUntil(async () => /No regime/.test(await byTestId(page, 'regime-warning').innerText()), 8000, 'missing-regime warning');
      mock.state.regime = { ...saved, computedAt: Date.now() - 20_000 };
    });

    await t.test('phone width with data: trader and credential cards, no overflow', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const id of ['traders', 'config', 'dashboard']) {
        await go(page, id);
        await page.waitForTimeout(400);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${id} overflows the phone width by ${overflow}px`);
        await shot(page, 'mock-', `phone-${id}-data`);
      }
      const row = traderRow(page, 'alpha');
      await go(page, 'traders');
      const box = await row.boundingBox();
      assert.ok(box.width <= 390, 'a trader row fits the phone width as a card');
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await t.test('the NAV and dashboard checks fail when an item is renamed, missing or moved', async () => {
      await go(page, 'dashboard');
      await assertNav(page);
      await assertDashboardItems(page);
      const mutations = [
        ['NAV item renamed', () => { document.querySelector('[data-testid="nav-strategy"]').textContent = 'STRATEGIES'; }, assertNav],
        ['NAV item missing', () => { document.querySelector('[data-testid="nav-config"]').remove(); }, assertNav],
        ['NAV items swapped', () => { const n = document.querySelector('[data-testid="nav"]'); n.insertBefore(n.children[1], n.children[0]); }, assertNav],
        ['NAV item added', () => { const n = document.querySelector('[data-testid="nav"]'); n.append(n.children[0].cloneNode(true)); }, assertNav],
        ['dashboard item renamed', () => { document.querySelector('[data-testid="card-paper-trader"] h2').textContent = 'PAPER TRADERS'; }, assertDashboardItems],
        ['dashboard item missing', () => { document.querySelector('[data-testid="action-log"]').remove(); }, assertDashboardItems],
      ];
      for (const [what, mutate, check] of mutations) {
        await page.evaluate(mutate);
        await assert.rejects(check(page), assert.AssertionError, `${what} must fail the check`);
        await page.reload();
        await byTestId(page, 'card-current-regime').waitFor();
        await assertNav(page);
        await assertDashboardItems(page);
      }
    });

    await t.test('an expired session goes back to the login screen', async () => {
      await go(page, 'traders');
      mock.state.sessions.clear();
      await byTestId(page, 'login-form').waitFor({ timeout: 8000 });
      assert.match(await byTestId(page, 'login-notice').innerText(), /session has ended/);
    });

    await t.test('no console errors', async () => {
      assert.deepEqual(errors, []);
    });
  } finally {
    await context.close();
  }
});
