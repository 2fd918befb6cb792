// Display formatting: KRW decimal strings with thousands separators (string arithmetic, never
// through a float), percentages, durations, times, and validation of typed money amounts.

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

function plainNumber(n: number): string {
  return n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
}

/** Adds one unit in the last place of a digit string ("0999" → "1000", "99" → "100"). */
function incrementDigits(digits: string): string {
  const out = digits.split('');
  let i = out.length - 1;
  while (i >= 0) {
    if (out[i] === '9') {
      out[i] = '0';
      i -= 1;
    } else {
      out[i] = String.fromCharCode(out[i].charCodeAt(0) + 1);
      return out.join('');
    }
  }
  return `1${out.join('')}`;
}

/**
 * Formats a decimal string ("1234567.891") as "1,234,567.89": thousands separators, at most
 * `maxFrac` fraction digits (rounded half away from zero on the digits themselves), trailing
 * zeros dropped. Anything that is not a plain decimal is returned unchanged.
 */
export function formatDecimal(value: string | number | null | undefined, maxFrac = 2): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number' && !Number.isFinite(value)) return '—';
  const text = typeof value === 'number' ? plainNumber(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (m === null) return text;
  const sign = m[1];
  let int = m[2];
  let frac = m[3] ?? '';
  if (frac.length > maxFrac) {
    const roundUp = frac.charCodeAt(maxFrac) >= 53; // '5'
    frac = frac.slice(0, maxFrac);
    if (roundUp) {
      const all = incrementDigits(int + frac);
      int = all.slice(0, all.length - frac.length);
      frac = all.slice(all.length - frac.length);
    }
  }
  frac = frac.replace(/0+$/, '');
  int = int.replace(/^0+(?=\d)/, '');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const isZero = /^0*$/.test(int + frac);
  return `${sign === '-' && !isZero ? '-' : ''}${grouped}${frac === '' ? '' : `.${frac}`}`;
}

/** "1000000" → "₩1,000,000"; "-1234.567" → "-₩1,234.57". */
export function formatKrw(value: string | number | null | undefined, maxFrac = 2): string {
  const s = formatDecimal(value, maxFrac);
  if (s === '—') return s;
  if (!/^-?[\d,]+(\.\d+)?$/.test(s)) return s;
  return s.startsWith('-') ? `-₩${s.slice(1)}` : `₩${s}`;
}

/** Like formatKrw but with an explicit "+" on gains (profit columns). */
export function formatSignedKrw(value: string | number | null | undefined, maxFrac = 2): string {
  const s = formatKrw(value, maxFrac);
  return decimalSign(value) > 0 ? `+${s}` : s;
}

/** -1, 0 or 1 for a decimal string or number (0 for anything unreadable). */
export function decimalSign(value: string | number | null | undefined): -1 | 0 | 1 {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value > 0 ? 1 : value < 0 ? -1 : 0;
  const m = DECIMAL.exec(value.trim());
  if (m === null || /^0*$/.test(m[2] + (m[3] ?? ''))) return 0;
  return m[1] === '-' ? -1 : 1;
}

/** 0.1234 → "+0.12%" (the value is already in percent). */
export function formatPct(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const rounded = Number(value.toFixed(digits));
  if (rounded === 0) return `${(0).toFixed(digits)}%`;
  return `${rounded > 0 ? '+' : ''}${rounded.toFixed(digits)}%`;
}

/** 3725 → "1h 2m"; 90061 → "1d 1h"; 42 → "42s". */
export function formatDuration(totalSecs: number): string {
  const secs = Math.max(0, Math.floor(totalSecs));
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Seconds from `nowMs` until the RFC 3339 time `iso` (negative when past; null if unreadable). */
export function secondsUntil(iso: string | null | undefined, nowMs: number): number | null {
  if (iso === null || iso === undefined) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return (t - nowMs) / 1000;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local "YYYY-MM-DD HH:MM:SS" for an RFC 3339 time. */
export function formatDateTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local "HH:MM:SS" for today's times, "MM-DD HH:MM:SS" otherwise. */
export function formatLogTime(iso: string, nowMs: number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const now = new Date(nowMs);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay =
    d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? time : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** Strips what people type around amounts ("1,000,000", "₩ 500 000") → "1000000". */
export function normalizeAmount(input: string): string {
  return input.replace(/[\s,_₩]/g, '').replace(/KRW$/i, '');
}

/**
 * Validates a typed KRW amount; returns a plain-words problem or null when it is fine.
 * `wholeWon`: no fraction allowed (seed money is whole won).
 */
export function amountProblem(input: string, wholeWon = false): string | null {
  const s = normalizeAmount(input);
  if (s === '') return 'Enter an amount in KRW.';
  if (!/^\d+(\.\d+)?$/.test(s)) return 'Use digits only, for example 1000000.';
  if (/^0*(\.0*)?$/.test(s)) return 'Must be greater than zero.';
  if (wholeWon && /\.\d*[1-9]/.test(s)) return 'Whole won only, without decimals.';
  return null;
}

/** Where a strategy version stands in its 24 h PAPER protection (STAB-4). */
export type Protection =
  | { kind: 'over' }
  /** `protection_until` is null: the version has not run in PAPER yet, so LIVE is refused and the 24 h have not started. */
  | { kind: 'pending' }
  | { kind: 'running'; secsLeft: number };

/** Reads a `protection_until` of the API (RFC 3339 or null) at `nowMs`. */
export function protectionState(until: string | null | undefined, nowMs: number): Protection {
  if (until === null || until === undefined) return { kind: 'pending' };
  const left = secondsUntil(until, nowMs);
  if (left === null) return { kind: 'pending' };
  return left > 0 ? { kind: 'running', secsLeft: left } : { kind: 'over' };
}

/** The protection badge text: "PAPER PROTECTION · 23h 59m left" / "… · 24h from the first PAPER run". */
export function protectionText(p: Protection): string | null {
  if (p.kind === 'running') return `PAPER PROTECTION · ${formatDuration(p.secsLeft)} left`;
  if (p.kind === 'pending') return 'PAPER PROTECTION · 24h, starts at the first PAPER run';
  return null;
}
