// The user-level browser scenario of the brief, written once and run against both the real
// backend (tests/e2e) and the contract mock (tests/ui): log in; the NAV; the named dashboard
// items; add a credential; add a trader; LIVE refused during protection; run; the action log
// live; the profit chart line; credential delete refused while in use; stop; remove; the
// STRATEGY screen; phone width; no console errors.
import assert from 'node:assert/strict';
import path from 'node:path';
import { collectConsoleErrors } from './browser.mjs';
import { ensureScreenshotDir } from './paths.mjs';

export const NAV_ITEMS = ['DASHBOARD', 'TRADERS', 'STRATEGY', 'CONFIG'];
export const DASHBOARD_ITEMS = ['CURRENT REGIME', 'TOTAL TRADER', 'PAPER TRADER', 'LIVE TRADER', 'PROFIT CHART', 'TRADERS ACTION LOG'];
export const PROFILE_NAMES = ['SAFETY FIRST', 'STANDARD', 'PROFIT FIRST', 'CRAZY', 'AI MODE'];
export const TRADER_COLUMNS = ['TRADER NAME', 'TRADER SEED', 'TRADER STRATEGY', 'TRADER PROFIT', 'TRADER RUN', 'TRADER MANAGEMENT'];

export async function waitUntil(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : last})`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export async function shot(page, prefix, name) {
  const file = path.join(ensureScreenshotDir(), `${prefix}${name}.png`);
  // From the top, so the sticky NAV bar sits at the top of a full-page capture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);
export const traderRow = (page, name) => page.locator(`[data-testid="trader-row"][data-trader-name="${name}"]`);

/** Navigates with the NAV bar and waits for the page. */
export async function go(page, id) {
  await page.bringToFront(); // a background tab gets no animation frames, which slows clicks
  await byTestId(page, `nav-${id}`).click();
  await byTestId(page, `page-${id}`).waitFor({ state: 'visible' });
}

/** Clicks APPLY in the open confirmation popup; waits for it to close unless `expectError`. */
export async function confirm(page, { expectError = false, password } = {}) {
  const modal = byTestId(page, 'confirm-modal');
  await modal.waitFor({ state: 'visible' });
  assert.equal((await modal.locator('[data-testid="modal-apply"]').innerText()).trim(), 'APPLY');
  assert.equal((await modal.locator('[data-testid="modal-cancel"]').innerText()).trim(), 'CANCEL');
  if (password !== undefined) await modal.locator('[data-testid="confirm-password"]').fill(password);
  await modal.locator('[data-testid="modal-apply"]').click();
  if (expectError) {
    await modal.locator('[data-testid="modal-error"]').waitFor({ state: 'visible' });
    return (await modal.locator('[data-testid="modal-error"]').innerText()).trim();
  }
  await modal.waitFor({ state: 'detached' });
  return null;
}

/**
 * Milliseconds from navigation start to the app's first real screen, as the browser measured
 * it (the app's "shell-ready" performance mark).
 */
export async function shellReadyMs(page) {
  return page.evaluate(() => {
    const m = performance.getEntriesByName('shell-ready')[0];
    return m === undefined ? null : Math.round(m.startTime);
  });
}

/**
 * Opens the app, logs in. Returns the app shell's load time: navigation start → login screen
 * shown, measured by the browser (the test-driver's own round trips are not part of it).
 */
export async function openAndLogin(page, env) {
  await page.goto(`${env.baseUrl}/`, { waitUntil: 'domcontentloaded' });
  await byTestId(page, 'login-form').waitFor({ state: 'visible', timeout: 5000 });
  const shellMs = await shellReadyMs(page);
  assert.ok(shellMs !== null, 'the app did not mark shell-ready');
  await byTestId(page, 'login-username').fill(env.username);
  await byTestId(page, 'login-password').fill(env.password);
  await byTestId(page, 'login-submit').click();
  await byTestId(page, 'nav').waitFor({ state: 'visible', timeout: 10_000 });
  return shellMs;
}

async function logEntries(page) {
  return page.locator('[data-testid="log-entry"]').evaluateAll((els) =>
    els.map((el) => ({
      id: Number(el.getAttribute('data-event-id')),
      who: el.querySelector('.who')?.textContent?.trim() ?? '',
      level: el.getAttribute('data-level'),
    })),
  );
}

export async function assertLogOrderedAndUnique(page) {
  const entries = await logEntries(page);
  const ids = entries.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, `duplicate events in the action log: ${ids}`);
  for (let i = 1; i < ids.length; i += 1) assert.ok(ids[i - 1] > ids[i], `action log not newest-first: ${ids}`);
  return entries;
}

/** Checks that the NAV is one horizontal row with exactly the four items, in order. */
export async function assertNav(page) {
  const links = page.locator('[data-testid="nav"] a');
  const texts = (await links.allInnerTexts()).map((s) => s.trim());
  assert.deepEqual(texts, NAV_ITEMS, 'NAV items must be exactly DASHBOARD, TRADERS, STRATEGY, CONFIG');
  const boxes = [];
  for (let i = 0; i < (await links.count()); i += 1) boxes.push(await links.nth(i).boundingBox());
  for (let i = 1; i < boxes.length; i += 1) {
    assert.ok(Math.abs(boxes[i].y - boxes[0].y) < 2, 'NAV items must sit on one horizontal row');
    assert.ok(boxes[i].x > boxes[i - 1].x, 'NAV items must run left to right');
  }
}

export async function assertDashboardItems(page) {
  const titles = (await byTestId(page, 'page-dashboard').locator('h2').allInnerTexts()).map((s) => s.trim());
  for (const name of DASHBOARD_ITEMS) assert.ok(titles.includes(name), `dashboard item "${name}" missing (found: ${titles.join(', ')})`);
  for (const id of ['card-current-regime', 'card-total-trader', 'card-paper-trader', 'card-live-trader', 'profit-chart', 'action-log']) {
    assert.equal(await byTestId(page, id).count(), 1, `${id} missing`);
  }
}

/**
 * The whole flow. `env`: { baseUrl, username, password, adminPassword, prefix (screenshot name
 * prefix), makeKeys() → {access_key, secret_key} usable on the exchange, timeouts: {alive, live,
 * profit} in ms }. Returns facts for the caller to print.
 */
export async function fullFlow(t, browser, env) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  const facts = {};
  const suffix = Math.random().toString(36).slice(2, 7);
  const credName = `e2e-key-${suffix}`;
  const traderName = `e2e-${suffix}`;
  let watcher;
  let watcherErrors = [];
  let baselineEventId = 0;

  try {
    await t.test('log in (the app shell loads in under 1 s)', async () => {
      facts.shellMs = await openAndLogin(page, env);
      assert.ok(facts.shellMs < 1000, `app shell took ${facts.shellMs} ms to show the login screen`);
    });

    await t.test('the NAV has exactly DASHBOARD, TRADERS, STRATEGY, CONFIG', async () => {
      await assertNav(page);
    });

    await t.test('the dashboard shows every named item', async () => {
      await go(page, 'dashboard');
      await assertDashboardItems(page);
      await byTestId(page, 'total-trader-count').waitFor();
      await waitUntil(async () => /^\d+$/.test((await byTestId(page, 'total-trader-count').innerText()).trim()), 10_000, 'trader counts');
      // The chart's time axis ends about now (also with no points yet: never at the epoch).
      const chart = byTestId(page, 'profit-chart');
      const xMax = Number(await waitUntil(() => chart.getAttribute('data-x-max'), 10_000, 'the profit chart time axis'));
      assert.ok(Math.abs(xMax - Date.now() / 1000) < 2 * 86_400, `the profit chart's time axis ends at ${new Date(xMax * 1000).toISOString()}`);
    });

    await t.test('add a credential', async () => {
      const keys = await env.makeKeys();
      await go(page, 'config');
      await byTestId(page, 'credential-add').click();
      const modal = byTestId(page, 'credential-add-modal');
      await modal.waitFor();
      await byTestId(page, 'cred-name').fill(credName);
      await byTestId(page, 'cred-access').fill(keys.access_key);
      await byTestId(page, 'cred-secret').fill(keys.secret_key);
      await modal.locator('[data-testid="modal-apply"]').click();
      await modal.waitFor({ state: 'detached', timeout: 15_000 });
      const row = page.locator(`[data-testid="credential-row"][data-credential-name="${credName}"]`);
      await row.waitFor();
      const masked = (await row.locator('[data-testid="credential-key"]').innerText()).trim();
      assert.ok(!masked.includes(keys.access_key) || keys.access_key.length < 8, 'the access key must be masked');
      assert.ok(!(await page.content()).includes(keys.secret_key), 'the secret key must never be shown');
      await shot(page, env.prefix, 'config-added');
    });

    await t.test('a second tab watches the dashboard', async () => {
      watcher = await context.newPage();
      watcherErrors = collectConsoleErrors(watcher);
      await watcher.goto(`${env.baseUrl}/#/dashboard`, { waitUntil: 'domcontentloaded' });
      await byTestId(watcher, 'action-log').waitFor();
      await waitUntil(async () => (await byTestId(watcher, 'action-log-status').innerText()).trim() === 'LIVE', 10_000, 'event stream LIVE');
      const entries = await logEntries(watcher);
      baselineEventId = entries.reduce((m, e) => Math.max(m, e.id), 0);
    });

    await t.test('add a trader through the TRADER ADD popup', async () => {
      await go(page, 'traders');
      const headers = (await byTestId(page, 'traders-table').locator('thead th').allInnerTexts()).map((s) => s.trim());
      assert.deepEqual(headers, TRADER_COLUMNS);
      await byTestId(page, 'trader-add').click();
      const modal = byTestId(page, 'trader-add-modal');
      await modal.waitFor();
      assert.equal((await modal.locator('[data-testid="modal-apply"]').innerText()).trim(), 'CREATE');
      await byTestId(page, 'add-name').fill(traderName);
      const strategyOptions = await byTestId(page, 'add-strategy').locator('option').evaluateAll((os) => os.map((o) => ({ v: o.value, t: o.textContent ?? '' })));
      const chosen = strategyOptions.find((o) => o.t.startsWith('STANDARD')) ?? strategyOptions.find((o) => o.v !== '');
      assert.ok(chosen, 'the STRATEGY select must list the registered strategies');
      await byTestId(page, 'add-strategy').selectOption(chosen.v);
      const credOptions = await byTestId(page, 'add-credential').locator('option').evaluateAll((os) => os.map((o) => ({ v: o.value, t: o.textContent ?? '' })));
      assert.equal(credOptions[0].t.trim(), 'none (PAPER only)');
      const cred = credOptions.find((o) => o.t.startsWith(credName));
      assert.ok(cred, 'the new credential must be offered');
      await byTestId(page, 'add-credential').selectOption(cred.v);
      await byTestId(page, 'add-seed').fill('1,000,000');
      await modal.locator('[data-testid="modal-apply"]').click();
      await modal.waitFor({ state: 'detached', timeout: 15_000 });
      const row = traderRow(page, traderName);
      await row.waitFor();
      assert.equal((await row.locator('[data-testid="trader-seed"]').innerText()).trim(), '₩1,000,000');
      assert.equal((await row.locator('[data-testid="mode"]').innerText()).trim(), 'PAPER');
      facts.traderId = Number(await row.getAttribute('data-trader-id'));
      await shot(page, env.prefix, 'traders-added');
    });

    await t.test('switching to LIVE during the 24 h protection is refused with the API message', async () => {
      const row = traderRow(page, traderName);
      // A fresh strategy version has not run in PAPER: protection pending (LIVE refused, the 24 h
      // not started) — or, if another trader ran it already, counting down.
      const badge = row.locator('[data-testid="protection-left"]');
      await badge.waitFor({ timeout: 5000 });
      assert.match(await badge.innerText(), /PAPER PROTECTION/);
      await row.locator('[data-testid="mode-select"]').selectOption('LIVE');
      await row.locator('[data-testid="mode-apply"]').click();
      const answer = page.waitForResponse((r) => r.url().endsWith(`/api/v1/traders/${facts.traderId}/mode`) && r.request().method() === 'POST');
      const shown = await confirm(page, { expectError: true });
      const res = await answer;
      assert.equal(res.status(), 409);
      const body = await res.json();
      assert.equal(body.error.code, 'protection_active');
      assert.ok(shown.includes(body.error.message), `popup shows "${shown}", API said "${body.error.message}"`);
      await shot(page, env.prefix, 'traders-live-refused');
      await byTestId(page, 'modal-cancel').click();
      await byTestId(page, 'confirm-modal').waitFor({ state: 'detached' });
      assert.equal((await row.locator('[data-testid="mode"]').innerText()).trim(), 'PAPER');
      await row.locator('[data-testid="mode-select"]').selectOption('PAPER');
    });

    await t.test('run the trader', async () => {
      const row = traderRow(page, traderName);
      await row.locator('[data-testid="trader-run"]').click();
      await confirm(page);
      await waitUntil(async () => (await row.locator('[data-testid="run-state"]').innerText()).trim() === 'RUNNING', 15_000, 'RUNNING');
      // Running in PAPER starts the 24 h protection clock: the badge now shows the time left.
      await waitUntil(async () => (await row.locator('[data-testid="protection-left"]').getAttribute('data-state')) === 'running', 10_000, 'the protection countdown');
      const left = (await row.locator('[data-testid="protection-left"]').innerText()).trim();
      assert.match(left, /^PAPER PROTECTION · (2[0-3]h \d+m|1d 0h) left$/, left);
      await waitUntil(async () => (await row.locator('[data-testid="liveness"]').getAttribute('data-alive')) === 'true', env.timeouts.alive, 'a heartbeat (alive)');
    });

    await t.test('the action log receives the trader events live', async () => {
      const fresh = await waitUntil(async () => {
        const entries = await logEntries(watcher);
        const mine = entries.filter((e) => e.who === traderName && e.id > baselineEventId);
        return mine.length >= (env.minLiveEvents ?? 1) ? mine : null;
      }, env.timeouts.live, `live action-log events of ${traderName} in the watching tab`);
      facts.liveEvents = fresh.length;
      await assertLogOrderedAndUnique(watcher);
    });

    await t.test("the trader's line is on the profit chart", async () => {
      const chart = byTestId(watcher, 'profit-chart');
      await waitUntil(async () => {
        const names = ((await chart.getAttribute('data-names')) ?? '').split('\n');
        const legend = (await chart.locator('.u-legend').innerText().catch(() => '')) ?? '';
        const points = Number(await chart.getAttribute('data-points'));
        if (names.includes(traderName) && legend.includes(traderName) && points > 0) return true;
        await byTestId(watcher, 'range-7d').click();
        await byTestId(watcher, 'range-24h').click();
        return false;
      }, env.timeouts.profit, `${traderName} in the profit chart legend with points`);
      await chart.locator('canvas').first().waitFor();
      // The time axis covers the trader's points within the chosen 24 h, ending about now.
      await byTestId(watcher, 'range-24h').click();
      await waitUntil(async () => (await chart.getAttribute('data-range')) === '24h', 5000, 'the 24H range');
      await watcher.waitForTimeout(300);
      const [xMin, xMax] = [Number(await chart.getAttribute('data-x-min')), Number(await chart.getAttribute('data-x-max'))];
      assert.ok(xMax - xMin >= 60 && xMax - xMin <= 86_400 + 60, `the 24H chart spans ${xMax - xMin} s`);
      assert.ok(Math.abs(xMax - Date.now() / 1000) < 2 * 3600, `the chart ends at ${new Date(xMax * 1000).toISOString()}`);
      await shot(watcher, env.prefix, 'dashboard-chart');
    });

    await t.test('every page at 1280×800 and at phone width (390 px), with the trader present', async () => {
      for (const [width, height, tag] of [[1280, 800, ''], [390, 844, 'phone-']]) {
        await page.setViewportSize({ width, height });
        for (const id of ['dashboard', 'traders', 'strategy', 'config']) {
          await go(page, id);
          if (id === 'dashboard') await byTestId(page, 'profit-chart').locator('canvas').first().waitFor();
          if (id === 'traders') await traderRow(page, traderName).waitFor();
          if (id === 'strategy') await byTestId(page, 'definition-form').waitFor();
          if (id === 'config') await page.locator(`[data-testid="credential-row"][data-credential-name="${credName}"]`).waitFor();
          await page.waitForTimeout(300);
          await assertNav(page);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 1, `${id} overflows ${width}px by ${overflow}px`);
          await shot(page, env.prefix, `${tag}${id}`);
        }
      }
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await t.test('deleting a credential in use is refused (409) in the popup', async () => {
      await go(page, 'config');
      const row = page.locator(`[data-testid="credential-row"][data-credential-name="${credName}"]`);
      await row.waitFor();
      await row.locator('[data-testid="credential-delete"]').click();
      const answer = page.waitForResponse((r) => r.url().includes('/api/v1/credentials/') && r.request().method() === 'DELETE');
      const shown = await confirm(page, { expectError: true });
      const res = await answer;
      assert.equal(res.status(), 409);
      const body = await res.json();
      assert.equal(body.error.code, 'credential_in_use');
      assert.ok(shown.includes(body.error.message));
      await shot(page, env.prefix, 'config-delete-refused');
      await byTestId(page, 'modal-cancel').click();
    });

    await t.test('stop the trader', async () => {
      await go(page, 'traders');
      const row = traderRow(page, traderName);
      await row.locator('[data-testid="trader-stop"]').click();
      await confirm(page);
      await waitUntil(async () => (await row.locator('[data-testid="run-state"]').innerText()).trim() === 'STOPPED', 15_000, 'STOPPED');
    });

    await t.test('remove the trader', async () => {
      const row = traderRow(page, traderName);
      await row.locator('[data-testid="trader-remove"]').click();
      await confirm(page);
      await row.waitFor({ state: 'detached', timeout: 15_000 });
    });

    await t.test('the STRATEGY screen lists the five profiles and their history', async () => {
      await go(page, 'strategy');
      await waitUntil(async () => (await byTestId(page, 'strategy-item').count()) >= 5, 10_000, 'five strategy profiles');
      const names = await byTestId(page, 'strategy-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-strategy-name')));
      for (const p of PROFILE_NAMES) assert.ok(names.includes(p), `strategy profile ${p} missing (found ${names})`);
      await byTestId(page, 'definition-form').waitFor();
      await waitUntil(async () => (await byTestId(page, 'version-row').count()) >= 1, 10_000, 'version history');
      await shot(page, env.prefix, 'strategy-history');
    });

    await t.test('no console errors', async () => {
      assert.deepEqual([...errors, ...watcherErrors], []);
    });
  } finally {
    await context.close();
  }
  return facts;
}
