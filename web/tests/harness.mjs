// Starts the REAL backend for the end-to-end browser tests: the upbit-sim binary (synthetic
// markets) and the dashboard-api binary (SQLite in a temp dir, serving web/dist, running
// traders as child processes against the simulator), waits for GET /api/v1/health, and stops
// everything it started (by process group) at the end. Binaries come from $CARGO_TARGET_DIR
// (default $HOME/.cache/upbit-platform/target)/debug, each overridable by its own variable:
// UPBIT_SIM_BIN, DASHBOARD_API_BIN, TRADER_BIN.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DIST_DIR, requireDist } from './lib/paths.mjs';

export const TARGET_DIR = process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), '.cache', 'upbit-platform', 'target');
export const BIN_DIR = path.join(TARGET_DIR, 'debug');
/** The binaries the harness runs, and the variable that overrides each one's path. */
export const BINARIES = { 'upbit-sim': 'UPBIT_SIM_BIN', 'dashboard-api': 'DASHBOARD_API_BIN', trader: 'TRADER_BIN' };

/** Where binary `name` is taken from: its override variable, else $CARGO_TARGET_DIR/debug. */
export function binPath(name) {
  const override = process.env[BINARIES[name]];
  return override !== undefined && override !== '' ? path.resolve(override) : path.join(BIN_DIR, name);
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Binaries the harness needs that are not there (empty when all are): `name (path)` each. */
export function missingBinaries() {
  return Object.keys(BINARIES)
    .filter((b) => !isExecutable(binPath(b)))
    .map((b) => `${b} (${binPath(b)}; override with ${BINARIES[b]})`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, probe, timeoutMs, child) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: the process exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await sleep(200);
  }
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts upbit-sim and dashboard-api. Returns { baseUrl, simUrl, username, adminPassword,
 * createSimAccount(access, secret, balances), logs, stop() }.
 */
export async function startBackend() {
  requireDist();
  const missing = missingBinaries();
  if (missing.length > 0) {
    throw new Error(`backend binaries missing: ${missing.join(', ')} (run: cargo build --workspace --bins)`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'web-e2e-'));
  const [simPort, apiPort] = [await freePort(), await freePort()];
  const adminPassword = `pw-${crypto.randomBytes(8).toString('hex')}`;
  const children = [];
  const logs = { sim: path.join(tmp, 'upbit-sim.log'), api: path.join(tmp, 'dashboard-api.log') };

  const launch = (bin, args, env, log) => {
    const out = fs.openSync(log, 'a');
    const child = spawn(binPath(bin), args, {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info', NO_COLOR: '1', ...env },
      stdio: ['ignore', out, out],
      detached: true, // its own process group, so stop() also ends the traders it spawns
    });
    fs.closeSync(out);
    children.push(child);
    return child;
  };

  const stop = async () => {
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const deadline = Date.now() + 8000;
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(100);
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (process.env.KEEP_E2E_TMP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const sim = launch('upbit-sim', ['--listen', `127.0.0.1:${simPort}`, '--synthetic', 'mixed', '--markets', '20', '--seed', '1', '--speed', '60'], {}, logs.sim);
    await waitFor('upbit-sim', () => tcpOpen(simPort), 30_000, sim);

    const api = launch(
      'dashboard-api',
      [],
      {
        DATABASE_URL: `sqlite://${path.join(tmp, 't.db')}?mode=rwc`,
        API_LISTEN: `127.0.0.1:${apiPort}`,
        WEB_DIR: DIST_DIR,
        ADMIN_PASSWORD: adminPassword,
        MASTER_KEY: crypto.randomBytes(32).toString('base64'),
        TRADER_RUNTIME: 'process',
        TRADER_BIN: binPath('trader'),
        UPBIT_API_URL: `http://127.0.0.1:${simPort}`,
        UPBIT_WS_URL: `ws://127.0.0.1:${simPort}/websocket/v1`,
        DATA_DIR: path.join(tmp, 'data'),
      },
      logs.api,
    );
    await waitFor(
      'dashboard-api',
      async () => (await fetch(`http://127.0.0.1:${apiPort}/api/v1/health`)).ok,
      60_000,
      api,
    );
  } catch (e) {
    const detail = `\n--- upbit-sim log ---\n${tail(logs.sim)}\n--- dashboard-api log ---\n${tail(logs.api)}`;
    await stop();
    throw new Error(`${e.message}${detail}`);
  }

  const simUrl = `http://127.0.0.1:${simPort}`;
  return {
    baseUrl: `http://127.0.0.1:${apiPort}`,
    simUrl,
    username: process.env.E2E_USERNAME ?? 'admin',
    adminPassword,
    logs,
    tail,
    /** Creates an exchange account on the simulator (its admin API) so the keys are valid. */
    async createSimAccount(accessKey, secretKey, balances = { KRW: '10000000' }) {
      const res = await fetch(`${simUrl}/_sim/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access_key: accessKey, secret_key: secretKey, balances }),
      });
      if (!res.ok) throw new Error(`POST /_sim/accounts answered ${res.status}: ${await res.text()}`);
    },
    stop,
  };
}
