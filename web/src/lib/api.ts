// The one HTTP client of the UI: same-origin /api/v1 calls with the session cookie, the
// X-CSRF-Token header on every non-GET, the contract's error shape turned into ApiError, and
// a hook that sends the app back to the login screen when the session is gone (401).
import { formatDuration } from './format';
import type {
  ActionEvent,
  Credential,
  DashboardSummary,
  JsonObject,
  Me,
  Mode,
  ProfitRange,
  ProfitSeries,
  RiskProfile,
  Strategy,
  StrategyVersion,
  Trader,
} from './types';

export const API_BASE = '/api/v1';

/** An error answer of the API: `{"error": {"code","message","field"?}}` plus its status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  readonly remainingSecs: number | null;

  constructor(status: number, code: string, message: string, field: string | null, remainingSecs: number | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.remainingSecs = remainingSecs;
  }
}

/** The API could not be reached, or something that is not the API answered. */
export class ApiUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUnreachable';
  }
}

let csrfToken: string | null = null;
let unauthenticatedHandler: (() => void) | null = null;

/** Keeps the CSRF token in memory only (never in storage). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when any call answers 401 `unauthenticated` (the session is gone). */
export function onUnauthenticated(handler: (() => void) | null): void {
  unauthenticatedHandler = handler;
}

const STATUS_WORDS: Record<number, string> = {
  400: 'The request was not understood.',
  401: 'You are not logged in.',
  403: 'The request was refused (security token). Reload the page and try again.',
  404: 'It does not exist (any more).',
  409: 'The request conflicts with the current state.',
  422: 'Some values are not valid.',
  429: 'Too many attempts. Wait a minute and try again.',
  500: 'The server hit an internal error; the details are in the server log.',
  503: 'The server is not ready. Try again shortly.',
};

function toApiError(status: number, body: unknown): ApiError {
  const err = (body as { error?: Record<string, unknown> } | null)?.error;
  const code = typeof err?.code === 'string' ? err.code : `http_${status}`;
  const raw = typeof err?.message === 'string' && err.message.trim() !== '' ? err.message : null;
  const message = raw ?? STATUS_WORDS[status] ?? `The server answered HTTP ${status}.`;
  const field = typeof err?.field === 'string' && err.field !== '' ? err.field : null;
  const remaining =
    typeof err?.remaining_secs === 'number'
      ? err.remaining_secs
      : typeof (body as Record<string, unknown> | null)?.remaining_secs === 'number'
        ? ((body as Record<string, unknown>).remaining_secs as number)
        : null;
  return new ApiError(status, code, message, field, remaining);
}

const UNREACHABLE =
  'Cannot reach the platform API. Check that the dashboard-api is running and that this page is served by it.';

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiUnreachable(UNREACHABLE);
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    // A proxy error page, or a static server without the API behind it.
    if (res.status >= 500 || res.ok || res.status === 404) {
      throw new ApiUnreachable(`${UNREACHABLE} (HTTP ${res.status}, not a JSON answer)`);
    }
    throw toApiError(res.status, null);
  }
  let data: unknown;
  try {
    data = await res.json();
  } catch {
    throw new ApiUnreachable(`${UNREACHABLE} (HTTP ${res.status}, unreadable answer)`);
  }
  if (!res.ok) {
    const err = toApiError(res.status, data);
    if (res.status === 401 && err.code !== 'invalid_credentials' && unauthenticatedHandler !== null) {
      unauthenticatedHandler();
    }
    throw err;
  }
  return data as T;
}

export const api = {
  health: () => request<{ status: string; db: string }>('GET', '/health'),
  login: (username: string, password: string) => request<Me>('POST', '/auth/login', { username, password }),
  logout: () => request<void>('POST', '/auth/logout'),
  me: () => request<Me>('GET', '/auth/me'),

  dashboard: () => request<DashboardSummary>('GET', '/dashboard'),
  profit: (range: ProfitRange) =>
    request<{ series: ProfitSeries[] }>('GET', `/dashboard/profit?range=${encodeURIComponent(range)}`),
  events: (limit: number, after?: number) =>
    request<ActionEvent[]>('GET', `/events?limit=${limit}${after === undefined ? '' : `&after=${after}`}`),

  traders: () => request<Trader[]>('GET', '/traders'),
  createTrader: (body: { name: string; strategy_id: number; seed_krw: string; credential_id: number | null }) =>
    request<Trader>('POST', '/traders', body),
  setMode: (id: number, mode: Mode) => request<Trader>('POST', `/traders/${id}/mode`, { mode }),
  arm: (id: number, password: string) => request<Trader>('POST', `/traders/${id}/arm`, { password }),
  disarm: (id: number) => request<Trader>('POST', `/traders/${id}/disarm`),
  killSwitch: (id: number, action: 'trip' | 'resume', password: string, liquidate = false) =>
    request<Trader>('POST', `/traders/${id}/kill-switch`, { action, liquidate, password }),
  run: (id: number) => request<Trader>('POST', `/traders/${id}/run`),
  stop: (id: number) => request<Trader>('POST', `/traders/${id}/stop`),
  removeTrader: (id: number) => request<void>('DELETE', `/traders/${id}`),

  strategies: () => request<Strategy[]>('GET', '/strategies'),
  strategyVersions: (id: number) => request<StrategyVersion[]>('GET', `/strategies/${id}/versions`),
  updateStrategy: (id: number, definition: JsonObject) => request<Strategy>('PUT', `/strategies/${id}`, { definition }),
  riskProfiles: () => request<RiskProfile[]>('GET', '/risk-profiles'),

  credentials: () => request<Credential[]>('GET', '/credentials'),
  createCredential: (body: { name: string; access_key: string; secret_key: string }) =>
    request<Credential>('POST', '/credentials', body),
  deleteCredential: (id: number) => request<void>('DELETE', `/credentials/${id}`),
};

/** The message of an error shown beside its field: without the leading "field: " of the API. */
export function fieldMessage(e: unknown): string {
  if (e instanceof ApiError && e.field !== null && e.message.startsWith(`${e.field}: `)) {
    const rest = e.message.slice(e.field.length + 2);
    return rest.charAt(0).toUpperCase() + rest.slice(1);
  }
  return describeError(e);
}

/** Plain words for any error thrown by `api`, for a popup or a banner. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError && e.remainingSecs !== null && e.remainingSecs > 0) {
    return `${e.message} (${formatDuration(e.remainingSecs)} left)`;
  }
  if (e instanceof ApiError || e instanceof ApiUnreachable) return e.message;
  if (e instanceof Error) return `Unexpected error: ${e.message}`;
  return 'Unexpected error.';
}
