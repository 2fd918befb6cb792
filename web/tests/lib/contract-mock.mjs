// An in-memory implementation of docs/api.md (the dashboard-api HTTP contract), for testing the
// UI in a real browser while the real dashboard-api does not exist, and for exercising cases the
// real backend cannot produce on demand (a 422 on a named definition field, a dropped event
// stream, a server that replays events already sent). It is a TEST DOUBLE only: the real flow is
// tested against the real binaries in tests/e2e/. It serves web/dist as well, like the API does.
import crypto from 'node:crypto';
import { serveDist, startServer } from './static-server.mjs';

const DAY = 24 * 3600 * 1000;
const iso = (ms) => new Date(ms).toISOString();

const PROFILES = [
  { id: 'SAFETY_FIRST', name: 'SAFETY FIRST', params: { risk_multiplier: 0.5, max_positions: 3, daily_loss_limit_pct: 1.5, stop_loss_atr: 1.5 } },
  { id: 'STANDARD', name: 'STANDARD', params: { risk_multiplier: 1.0, max_positions: 5, daily_loss_limit_pct: 3, stop_loss_atr: 2 } },
  { id: 'PROFIT_FIRST', name: 'PROFIT FIRST', params: { risk_multiplier: 1.3, max_positions: 7, daily_loss_limit_pct: 4, stop_loss_atr: 2.5 } },
  { id: 'CRAZY', name: 'CRAZY', params: { risk_multiplier: 1.8, max_positions: 10, daily_loss_limit_pct: 6, stop_loss_atr: 3 } },
  { id: 'AI_MODE', name: 'AI MODE', params: { risk_multiplier: 1.0, max_positions: 5, daily_loss_limit_pct: 3, bandit: true } },
];

function definitionFor(profile) {
  return {
    weights: { tp: 0.3, vcb: 0.25, regime: 0.2, lsr: 0.15, lf: 0.1 },
    entry_threshold: 70,
    exit_threshold: 40,
    ema_alpha: 0.3,
    universe: { top_n: 30, min_value_krw_24h: 1000000000, exclude: ['KRW-USDT'] },
    bandit_enabled: profile === 'AI_MODE',
    label: profile.toLowerCase(),
  };
}

/**
 * Starts the mock. Options: `password` (admin), `now()` clock, `protectedProfiles` (strategies
 * whose 24 h protection is running), `pendingProfiles` (strategies whose version has not run in
 * PAPER yet: `protection_until` null, LIVE refused, the 24 h start at the first PAPER run — as
 * the real API does); the others finished theirs. `replayOverlap` (on a stream resume, also
 * resend this many events the client already has — a de-duplication check).
 */
export async function startContractMock(options = {}) {
  const password = options.password ?? 'test-admin-pw';
  const now = options.now ?? (() => Date.now());
  const protectedProfiles = new Set(options.protectedProfiles ?? ['SAFETY_FIRST', 'PROFIT_FIRST']);
  const pendingProfiles = new Set(options.pendingProfiles ?? ['STANDARD', 'AI_MODE']);
  const state = {
    sessions: new Map(),
    strategies: [],
    versions: new Map(),
    traders: [],
    credentials: [],
    events: [],
    profit: new Map(),
    ids: { strategy: 0, trader: 0, credential: 0, event: 0 },
    streams: new Set(),
    replayOverlap: options.replayOverlap ?? 0,
    regime: options.regime === undefined
      ? { label: 'TREND', score: 72.5, computedAt: now() - 31_000, inputs: { btc_adx_4h: 31.2, btc_atr_pct_4h: 1.1, breadth_up_1h: 0.62, dispersion_1h: 0.004, top5_value_share_1h: 0.55, whipsaw_5m: 0.3 } }
      : options.regime,
  };

  for (const p of PROFILES) {
    const id = ++state.ids.strategy;
    const created = now() - 3 * DAY;
    const definition = definitionFor(p.id);
    state.strategies.push({
      id,
      name: p.name,
      risk_profile: p.id,
      version: 1,
      definition,
      protection_until: pendingProfiles.has(p.id) ? null : protectedProfiles.has(p.id) ? iso(now() + DAY - 60_000) : iso(created + DAY),
      created_at: iso(created),
      updated_at: iso(created),
    });
    state.versions.set(id, [{ version: 1, definition, created_at: iso(created), created_by: 'system' }]);
  }

  // ---- helpers ----
  const send = (res, status, body, headers = {}) => {
    if (status === 204) {
      res.writeHead(204, headers);
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const fail = (res, status, code, message, extra = {}) => send(res, status, { error: { code, message, ...extra } });
  const readJson = async (req) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return Symbol.for('bad-json');
    }
  };
  const cookieSession = (req) => {
    const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '');
    return m ? state.sessions.get(m[1]) : undefined;
  };
  const emit = (level, kind, message, trader = null, data = {}) => {
    const ev = { id: ++state.ids.event, ts: iso(now()), trader_id: trader?.id ?? null, trader_name: trader?.name ?? null, level, kind, message, data };
    state.events.push(ev);
    for (const s of state.streams) writeEvent(s, ev);
    return ev;
  };
  const writeEvent = (res, ev) => res.write(`id: ${ev.id}\nevent: action\ndata: ${JSON.stringify(ev)}\n\n`);
  const strategyOf = (t) => state.strategies.find((s) => s.id === t.strategy_id);
  const traderView = (t) => {
    const s = strategyOf(t);
    const pts = state.profit.get(t.id) ?? [];
    const pct = pts.length > 0 ? pts[pts.length - 1].return_pct : 0;
    const running = t.run_state === 'RUNNING';
    return {
      id: t.id,
      name: t.name,
      seed_krw: t.seed_krw,
      strategy: { id: s.id, name: s.name, version: s.version },
      credential_id: t.credential_id,
      mode: t.mode,
      run_state: t.run_state,
      armed: t.armed,
      profit_krw: ((Number(t.seed_krw) * pct) / 100).toFixed(1),
      profit_pct: pct,
      alive: running,
      last_heartbeat_at: running ? iso(now() - 1000) : t.last_heartbeat_at,
      protection_until: s.protection_until,
      created_at: t.created_at,
      guard: {
        kill_switch: t.kill ?? { on: false, reason: null, since: null, liquidate: false },
        blocked_entries: t.kill?.on ? [{ code: 'GUARD_KILL_SWITCH', message: 'kill switch on: no new entries until an operator resumes' }] : [],
        trading_day: null,
        daily_pnl_krw: '0',
        daily_pnl_pct: 0,
        daily_loss_limit_pct: 3,
        consecutive_losses: 0,
        consecutive_loss_limit: 3,
        blacklist: [],
        updated_at: null,
      },
    };
  };
  const credentialView = (c) => ({
    id: c.id,
    name: c.name,
    access_key_masked: `${c.access_key.slice(0, 4)}${'*'.repeat(8)}`,
    created_at: c.created_at,
    in_use_by: state.traders.filter((t) => t.credential_id === c.id).map((t) => t.id),
  });
  // null: the version has not run in PAPER yet, so the whole 24 h are still ahead.
  const remainingSecs = (s) => (s.protection_until === null ? DAY / 1000 : Math.max(0, Math.ceil((Date.parse(s.protection_until) - now()) / 1000)));
  /** The first PAPER run of a version starts its 24 h protection (STAB-4). */
  const markPaperStarted = (s) => {
    if (s.protection_until === null) s.protection_until = iso(now() + DAY);
  };

  // Profit points for running traders: a deterministic walk, one point a second.
  const ticker = setInterval(() => {
    for (const t of state.traders) {
      if (t.run_state !== 'RUNNING') continue;
      const pts = state.profit.get(t.id) ?? [];
      const last = pts.length > 0 ? pts[pts.length - 1].return_pct : 0;
      const step = Math.sin(pts.length * 0.7 + t.id) * 0.08 + 0.01;
      pts.push({ ts: iso(now()), return_pct: Math.round((last + step) * 10000) / 10000 });
      state.profit.set(t.id, pts);
    }
  }, 1000);
  const keepAlive = setInterval(() => {
    for (const s of state.streams) s.write(': keep-alive\n\n');
  }, 15_000);

  const findTrader = (id) => state.traders.find((t) => t.id === Number(id));

  async function api(req, res, path, url) {
    const method = req.method;
    if (method === 'GET' && path === '/health') return send(res, 200, { status: 'ok', db: 'ok' });
    if (method === 'GET' && path === '/openapi.json') return send(res, 200, { openapi: '3.1.0' });
    if (method === 'POST' && path === '/auth/login') {
      const body = await readJson(req);
      if (typeof body?.username !== 'string' || typeof body?.password !== 'string') {
        return fail(res, 422, 'validation_error', 'username: required', { field: 'username' });
      }
      if (body.username !== 'admin' || body.password !== password) return fail(res, 401, 'invalid_credentials', 'wrong username or password');
      const sid = crypto.randomBytes(16).toString('hex');
      const csrf = crypto.randomBytes(16).toString('hex');
      state.sessions.set(sid, { username: 'admin', csrf_token: csrf });
      return send(res, 200, { username: 'admin', csrf_token: csrf }, { 'set-cookie': `session=${sid}; HttpOnly; SameSite=Strict; Path=/` });
    }
    const session = cookieSession(req);
    if (session === undefined) return fail(res, 401, 'unauthenticated', 'log in first');
    if (method !== 'GET' && req.headers['x-csrf-token'] !== session.csrf_token) return fail(res, 403, 'csrf', 'missing or wrong CSRF token');

    if (method === 'GET' && path === '/auth/me') return send(res, 200, session);
    if (method === 'POST' && path === '/auth/logout') {
      for (const [k, v] of state.sessions) if (v === session) state.sessions.delete(k);
      return send(res, 204, null, { 'set-cookie': 'session=; Max-Age=0; Path=/' });
    }

    if (method === 'GET' && path === '/dashboard') {
      const r = state.regime;
      const age = r ? Math.floor((now() - r.computedAt) / 1000) : 0;
      return send(res, 200, {
        regime: r ? { label: r.label, score: r.score, ts: iso(r.computedAt), age_secs: age, stale: age > 600, inputs: r.inputs } : null,
        traders: {
          total: state.traders.length,
          paper: state.traders.filter((t) => t.mode === 'PAPER').length,
          live: state.traders.filter((t) => t.mode === 'LIVE').length,
        },
      });
    }
    if (method === 'GET' && path === '/dashboard/profit') {
      const range = url.searchParams.get('range') ?? '24h';
      const spans = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY, all: Infinity };
      if (!(range in spans)) return fail(res, 422, 'validation_error', 'range: must be one of 24h, 7d, 30d, all', { field: 'range' });
      const from = now() - spans[range];
      return send(res, 200, {
        series: state.traders.map((t) => ({
          trader_id: t.id,
          name: t.name,
          points: (state.profit.get(t.id) ?? []).filter((p) => Date.parse(p.ts) >= from),
        })),
      });
    }
    if (method === 'GET' && path === '/events') {
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
      const after = url.searchParams.get('after');
      const list = after === null ? state.events.slice(-limit) : state.events.filter((e) => e.id > Number(after)).slice(0, limit);
      return send(res, 200, list);
    }
    if (method === 'GET' && path === '/events/stream') {
      const last = Number(req.headers['last-event-id'] ?? url.searchParams.get('last_event_id') ?? 0) || 0;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      const from = last > 0 ? Math.max(0, last - state.replayOverlap) : Infinity;
      for (const ev of state.events) if (ev.id > from) writeEvent(res, ev);
      state.streams.add(res);
      req.on('close', () => state.streams.delete(res));
      return;
    }

    // ---- traders ----
    if (method === 'GET' && path === '/traders') return send(res, 200, state.traders.map(traderView));
    if (method === 'POST' && path === '/traders') {
      const b = await readJson(req);
      if (typeof b !== 'object' || b === null) return fail(res, 422, 'validation_error', 'body: expected a JSON object', { field: 'body' });
      if (typeof b.name !== 'string' || b.name.trim() === '') return fail(res, 422, 'validation_error', 'name: must not be empty', { field: 'name' });
      if (state.traders.some((t) => t.name === b.name)) return fail(res, 409, 'name_taken', `name: a trader called ${b.name} already exists`, { field: 'name' });
      if (!state.strategies.some((s) => s.id === b.strategy_id)) return fail(res, 422, 'validation_error', 'strategy_id: unknown strategy', { field: 'strategy_id' });
      if (typeof b.seed_krw !== 'string' || !/^\d+(\.\d+)?$/.test(b.seed_krw) || Number(b.seed_krw) <= 0) {
        return fail(res, 422, 'validation_error', 'seed_krw: must be greater than zero', { field: 'seed_krw' });
      }
      if (b.credential_id !== null && !state.credentials.some((c) => c.id === b.credential_id)) {
        return fail(res, 422, 'validation_error', 'credential_id: unknown credential', { field: 'credential_id' });
      }
      const t = { id: ++state.ids.trader, name: b.name, seed_krw: b.seed_krw, strategy_id: b.strategy_id, credential_id: b.credential_id, mode: 'PAPER', run_state: 'STOPPED', armed: false, last_heartbeat_at: null, created_at: iso(now()) };
      state.traders.push(t);
      emit('INFO', 'TRADER_CREATED', `created with seed ${b.seed_krw} KRW`, t);
      return send(res, 201, traderView(t));
    }
    let m = /^\/traders\/(\d+)(?:\/(mode|arm|disarm|run|stop|kill-switch))?$/.exec(path);
    if (m) {
      const t = findTrader(m[1]);
      if (!t) return fail(res, 404, 'not_found', `trader ${m[1]} not found`);
      const action = m[2];
      if (method === 'GET' && !action) return send(res, 200, traderView(t));
      if (method === 'DELETE' && !action) {
        state.traders = state.traders.filter((x) => x !== t);
        emit('WARN', 'TRADER_REMOVED', 'stopped and removed', t);
        return send(res, 204, null);
      }
      if (method !== 'POST') return fail(res, 404, 'not_found', 'no such endpoint');
      const b = (await readJson(req)) ?? {};
      const s = strategyOf(t);
      if (action === 'mode') {
        if (b.mode !== 'PAPER' && b.mode !== 'LIVE') return fail(res, 422, 'validation_error', 'mode: must be PAPER or LIVE', { field: 'mode' });
        if (b.mode === 'LIVE') {
          const left = remainingSecs(s);
          if (left > 0) {
            emit('WARN', 'LIVE_REFUSED', `switch to LIVE refused: ${s.name} is in its 24 h PAPER protection`, t);
            return fail(res, 409, 'protection_active', `switching to LIVE is refused: strategy ${s.name} is in its 24 h PAPER protection period`, { remaining_secs: left });
          }
          if (t.credential_id === null) return fail(res, 409, 'not_allowed', 'LIVE needs a credential');
        } else {
          t.armed = false;
        }
        t.mode = b.mode;
        emit('INFO', 'MODE_CHANGED', `mode set to ${b.mode}`, t);
        return send(res, 200, traderView(t));
      }
      if (action === 'arm') {
        if (b.password !== password) return fail(res, 401, 'invalid_credentials', 'wrong admin password');
        if (t.mode !== 'LIVE' || remainingSecs(s) > 0) return fail(res, 409, 'not_allowed', 'only an eligible LIVE trader can be armed');
        t.armed = true;
        emit('CRITICAL', 'ARMED', 'ARMED: real orders allowed', t);
        return send(res, 200, traderView(t));
      }
      if (action === 'kill-switch') {
        if (b.action !== 'trip' && b.action !== 'resume') return fail(res, 422, 'validation_error', 'action: must be trip or resume', { field: 'action' });
        if (b.password !== password) return fail(res, 401, 'invalid_credentials', 'wrong admin password');
        const on = t.kill?.on ?? false;
        if (b.action === 'trip') {
          if (on) return fail(res, 409, 'not_allowed', `the kill switch of ${t.name} is already on`);
          const liquidate = b.liquidate === true;
          t.kill = { on: true, reason: `tripped by admin from the dashboard; ${liquidate ? 'liquidate every open position' : 'open positions are kept'}`, since: iso(now()), liquidate };
          emit('CRITICAL', 'KILL_SWITCH_TRIP_REQUESTED', 'kill switch tripped by admin', t);
        } else {
          if (!on) return fail(res, 409, 'not_allowed', `the kill switch of ${t.name} is not on; nothing to resume`);
          t.kill = undefined;
          emit('WARN', 'KILL_SWITCH_RESUME_REQUESTED', 'kill switch resumed by admin', t);
        }
        return send(res, 200, traderView(t));
      }
      if (action === 'disarm') {
        t.armed = false;
        emit('WARN', 'DISARMED', 'disarmed', t);
        return send(res, 200, traderView(t));
      }
      if (action === 'run') {
        t.run_state = 'RUNNING';
        if (t.mode === 'PAPER') markPaperStarted(s);
        emit('INFO', 'RUN_REQUESTED', `started (${t.mode})`, t);
        return send(res, 200, traderView(t));
      }
      if (action === 'stop') {
        t.run_state = 'STOPPED';
        t.armed = false;
        t.last_heartbeat_at = iso(now());
        emit('INFO', 'STOP_REQUESTED', 'stopped', t);
        return send(res, 200, traderView(t));
      }
    }

    // ---- strategies ----
    if (method === 'GET' && path === '/risk-profiles') return send(res, 200, PROFILES);
    if (method === 'GET' && path === '/strategies') return send(res, 200, state.strategies);
    m = /^\/strategies\/(\d+)(\/versions)?$/.exec(path);
    if (m) {
      const s = state.strategies.find((x) => x.id === Number(m[1]));
      if (!s) return fail(res, 404, 'not_found', `strategy ${m[1]} not found`);
      if (method === 'GET' && m[2]) return send(res, 200, [...state.versions.get(s.id)].reverse());
      if (method === 'GET') return send(res, 200, s);
      if (method === 'PUT' && !m[2]) {
        const b = await readJson(req);
        const d = b?.definition;
        if (typeof d !== 'object' || d === null || Array.isArray(d)) return fail(res, 422, 'validation_error', 'definition: expected an object', { field: 'definition' });
        if (typeof d.entry_threshold !== 'number' || d.entry_threshold < 0 || d.entry_threshold > 100) {
          return fail(res, 422, 'validation_error', 'definition.entry_threshold: must be between 0 and 100', { field: 'definition.entry_threshold' });
        }
        if (typeof d.exit_threshold === 'number' && d.exit_threshold >= d.entry_threshold) {
          return fail(res, 422, 'validation_error', 'definition.exit_threshold: must be below entry_threshold', { field: 'definition.exit_threshold' });
        }
        s.version += 1;
        s.definition = d;
        s.updated_at = iso(now());
        s.protection_until = null; // a new version starts its 24 h at its first PAPER run
        if (state.traders.some((t) => t.strategy_id === s.id && t.run_state === 'RUNNING' && t.mode === 'PAPER')) markPaperStarted(s);
        state.versions.get(s.id).push({ version: s.version, definition: d, created_at: s.updated_at, created_by: session.username });
        emit('INFO', 'STRATEGY_UPDATED', `${s.name} saved as version ${s.version}`);
        return send(res, 200, s);
      }
    }

    // ---- credentials ----
    if (method === 'GET' && path === '/credentials') return send(res, 200, state.credentials.map(credentialView));
    if (method === 'POST' && path === '/credentials') {
      const b = await readJson(req);
      for (const f of ['name', 'access_key', 'secret_key']) {
        if (typeof b?.[f] !== 'string' || b[f].trim() === '') return fail(res, 422, 'validation_error', `${f}: must not be empty`, { field: f });
      }
      if (state.credentials.some((c) => c.name === b.name)) return fail(res, 409, 'name_taken', `name: a credential called ${b.name} already exists`, { field: 'name' });
      if (b.access_key.startsWith('bad')) return fail(res, 422, 'validation_error', 'access_key: the exchange rejected these keys', { field: 'access_key' });
      const c = { id: ++state.ids.credential, name: b.name, access_key: b.access_key, created_at: iso(now()) };
      state.credentials.push(c);
      emit('INFO', 'CREDENTIAL_ADDED', `credential ${c.name} added`);
      return send(res, 201, { ...credentialView(c), check: 'ok' });
    }
    m = /^\/credentials\/(\d+)$/.exec(path);
    if (m && method === 'DELETE') {
      const c = state.credentials.find((x) => x.id === Number(m[1]));
      if (!c) return fail(res, 404, 'not_found', `credential ${m[1]} not found`);
      const users = state.traders.filter((t) => t.credential_id === c.id);
      if (users.length > 0) {
        return fail(res, 409, 'credential_in_use', `credential ${c.name} is used by ${users.map((t) => t.name).join(', ')}; remove or change those traders first`);
      }
      state.credentials = state.credentials.filter((x) => x !== c);
      emit('INFO', 'CREDENTIAL_DELETED', `credential ${c.name} deleted`);
      return send(res, 204, null);
    }
    if (method === 'GET' && path === '/audit') return send(res, 200, []);
    return fail(res, 404, 'not_found', 'no such endpoint');
  }

  const server = await startServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/api/v1/')) return api(req, res, url.pathname.slice('/api/v1'.length), url);
    if (url.pathname.startsWith('/api/')) return fail(res, 404, 'not_found', 'no such endpoint');
    return serveDist(req, res);
  });

  return {
    url: server.url,
    state,
    emit,
    /** Cuts every open event stream (the browser's EventSource then reconnects). */
    dropStreams() {
      for (const s of state.streams) s.destroy();
      state.streams.clear();
    },
    async close() {
      clearInterval(ticker);
      clearInterval(keepAlive);
      for (const s of state.streams) s.destroy();
      await server.close();
    },
  };
}
