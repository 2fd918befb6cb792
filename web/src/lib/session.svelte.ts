// The login session: who is logged in, whether the API is reachable, and the transitions
// checking → login ⇄ app. The CSRF token lives only in memory (api.ts).
import { ApiError, ApiUnreachable, api, describeError, onUnauthenticated, setCsrfToken } from './api';

export type Phase = 'checking' | 'login' | 'app';

export const session = $state({
  phase: 'checking' as Phase,
  username: null as string | null,
  /** Set when the API cannot be reached; shown on the login screen. */
  unreachable: null as string | null,
  /** A one-off message for the login screen (e.g. the session expired). */
  notice: null as string | null,
  /** A RETRY from the login screen is under way (the login form stays, with what was typed). */
  retrying: false,
});

/** Asks the API whether the session cookie is still valid (on load and on RETRY). */
export async function checkSession(): Promise<void> {
  if (session.phase === 'login') session.retrying = true;
  else session.phase = 'checking';
  try {
    const me = await api.me();
    setCsrfToken(me.csrf_token);
    session.username = me.username;
    session.unreachable = null;
    session.phase = 'app';
  } catch (e) {
    session.unreachable =
      e instanceof ApiUnreachable ? e.message : e instanceof ApiError && e.status === 401 ? null : describeError(e);
    session.phase = 'login';
  } finally {
    session.retrying = false;
  }
}

/** Logs in; throws ApiError / ApiUnreachable for the login form to show. */
export async function login(username: string, password: string): Promise<void> {
  const me = await api.login(username, password);
  setCsrfToken(me.csrf_token);
  session.username = me.username;
  session.unreachable = null;
  session.notice = null;
  session.phase = 'app';
}

/** Back to the login screen, with an optional notice. */
export function expire(notice: string | null): void {
  setCsrfToken(null);
  session.username = null;
  session.notice = notice;
  session.phase = 'login';
}

export async function logout(): Promise<void> {
  try {
    await api.logout();
  } catch {
    // The session is dropped locally whatever the server says.
  }
  expire(null);
}

onUnauthenticated(() => {
  if (session.phase === 'app') expire('Your session has ended. Please log in again.');
});
