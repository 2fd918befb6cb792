// The built app without a working API: the login screen at desktop and phone size, and a clear
// error (not a blank page) when the API is unreachable. Runs against a static server of dist/.
import test from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, collectConsoleErrors } from '../lib/browser.mjs';
import { requireDist } from '../lib/paths.mjs';
import { serveDist, startServer } from '../lib/static-server.mjs';
import { byTestId, shellReadyMs, shot } from '../lib/scenarios.mjs';

requireDist();
const browser = await launchBrowser();
test.after(() => browser.close());

/** Serves dist/ and answers /api/v1/* as a logged-out API would (401), like the real one. */
async function loggedOutApi() {
  return startServer((req, res) => {
    if (req.url.startsWith('/api/')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthenticated', message: 'log in first' } }));
      return;
    }
    serveDist(req, res);
  });
}

for (const [w, h] of [
  [1280, 800],
  [390, 844],
]) {
  test(`login screen at ${w}x${h} loads in under 1 s`, async () => {
    const server = await loggedOutApi();
    const page = await browser.newPage({ viewport: { width: w, height: h } });
    const errors = collectConsoleErrors(page, [401]);
    try {
      const t0 = Date.now();
      await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
      await byTestId(page, 'login-form').waitFor({ state: 'visible', timeout: 5000 });
      const wallMs = Date.now() - t0;
      const ms = await shellReadyMs(page);
      console.log(`# app shell at ${w}x${h}: ${ms} ms in the browser (navigation start → login screen), ${wallMs} ms seen by the test driver`);
      assert.ok(ms !== null && ms < 1000, `app shell took ${ms} ms`);
      assert.equal(await byTestId(page, 'api-unreachable').count(), 0, 'a 401 is not an unreachable API');
      for (const id of ['login-username', 'login-password', 'login-submit']) assert.ok(await byTestId(page, id).isVisible(), id);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `login overflows by ${overflow}px`);
      await shot(page, '', `login-${w}x${h}`);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await server.close();
    }
  });
}

test('a wrong password is reported in plain words', async () => {
  const server = await startServer((req, res) => {
    if (req.url === '/api/v1/auth/login') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'invalid_credentials', message: 'wrong username or password' } }));
    } else if (req.url.startsWith('/api/')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthenticated', message: 'log in first' } }));
    } else serveDist(req, res);
  });
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}/`);
    await byTestId(page, 'login-username').fill('admin');
    await byTestId(page, 'login-password').fill('nope');
    await byTestId(page, 'login-submit').click();
    await byTestId(page, 'login-error').waitFor();
    assert.equal((await byTestId(page, 'login-error').innerText()).trim(), 'Wrong username or password.');
  } finally {
    await page.close();
    await server.close();
  }
});

test('an API that answers with a proxy error page shows a clear error, not a blank page', async () => {
  const server = await startServer((req, res) => {
    if (req.url.startsWith('/api/')) {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>Bad Gateway</body></html>');
      return;
    }
    serveDist(req, res);
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = collectConsoleErrors(page, [502]);
  try {
    await page.goto(`${server.url}/`);
    const banner = byTestId(page, 'api-unreachable');
    await banner.waitFor({ timeout: 5000 });
    assert.match(await banner.innerText(), /Cannot reach the platform API/);
    assert.ok(await byTestId(page, 'retry').isVisible());
    await shot(page, '', 'api-unreachable');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await server.close();
  }
});

test('a server that goes away is reported when logging in, and RETRY recovers', async () => {
  let up = true;
  const server = await startServer((req, res) => {
    if (req.url.startsWith('/api/')) {
      if (!up) {
        req.socket.destroy();
        return;
      }
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthenticated', message: 'log in first' } }));
      return;
    }
    serveDist(req, res);
  });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  try {
    await page.goto(`${server.url}/`);
    await byTestId(page, 'login-form').waitFor();
    up = false;
    await byTestId(page, 'login-username').fill('admin');
    await byTestId(page, 'login-password').fill('pw');
    await byTestId(page, 'login-submit').click();
    await byTestId(page, 'api-unreachable').waitFor({ timeout: 5000 });
    await shot(page, '', 'api-unreachable-390x844');
    up = true;
    await byTestId(page, 'retry').click();
    await byTestId(page, 'api-unreachable').waitFor({ state: 'detached', timeout: 5000 });
    assert.ok(await byTestId(page, 'login-form').isVisible(), 'RETRY keeps the login form on screen');
    assert.equal(await byTestId(page, 'login-username').inputValue(), 'admin', 'what was typed survives a RETRY');
  } finally {
    await page.close();
    await server.close();
  }
});
