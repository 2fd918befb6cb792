// The TRADERS ACTION LOG feed (UI-2): an initial page from GET /events, then the live SSE
// stream /events/stream. Newest first, de-duplicated by event id, capped in length. EventSource
// reconnects by itself (sending Last-Event-ID); when the browser gives up (the stream answered
// an error), we reopen it ourselves with ?last_event_id= after a growing delay.
import { API_BASE, ApiError, api, describeError } from './api';
import type { ActionEvent } from './types';

export type StreamStatus = 'idle' | 'connecting' | 'live' | 'reconnecting';

const MAX_ITEMS = 300;
const INITIAL_PAGE = 100;

class ActionLog {
  items = $state<ActionEvent[]>([]);
  status = $state<StreamStatus>('idle');
  error = $state<string | null>(null);
  /** How many times the stream has (re)opened; lets tests and people see reconnects. */
  opens = $state(0);

  #seen = new Set<number>();
  #lastId = 0;
  #source: EventSource | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;
  #running = false;

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.status = 'connecting';
    try {
      this.add(await api.events(INITIAL_PAGE));
      this.error = null;
    } catch (e) {
      this.error = describeError(e);
    }
    if (this.#running) this.#open();
  }

  stop(): void {
    this.#running = false;
    this.#source?.close();
    this.#source = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.status = 'idle';
    this.items = [];
    this.#seen.clear();
    this.#lastId = 0;
    this.#attempt = 0;
  }

  /** Adds events not seen before; keeps newest first. */
  add(events: ActionEvent[]): void {
    const fresh: ActionEvent[] = [];
    for (const ev of events) {
      if (typeof ev?.id !== 'number' || this.#seen.has(ev.id)) continue;
      this.#seen.add(ev.id);
      fresh.push(ev);
      if (ev.id > this.#lastId) this.#lastId = ev.id;
    }
    if (fresh.length === 0) return;
    const merged = [...fresh, ...this.items].sort((a, b) => b.id - a.id).slice(0, MAX_ITEMS);
    this.items = merged;
    if (this.#seen.size > MAX_ITEMS * 10) this.#seen = new Set(merged.map((e) => e.id));
  }

  #open(): void {
    const query = this.#lastId > 0 ? `?last_event_id=${this.#lastId}` : '';
    const source = new EventSource(`${API_BASE}/events/stream${query}`, { withCredentials: true });
    this.#source = source;
    const onMessage = (m: MessageEvent<string>) => {
      try {
        const ev = JSON.parse(m.data) as ActionEvent;
        this.add([ev]);
      } catch {
        // A malformed frame is skipped; the next one is read normally.
      }
    };
    source.addEventListener('action', onMessage);
    source.onmessage = onMessage;
    source.onopen = () => {
      if (this.#source !== source) return;
      this.status = 'live';
      this.error = null;
      this.#attempt = 0;
      this.opens += 1;
    };
    source.onerror = () => {
      if (this.#source !== source) return;
      this.status = 'reconnecting';
      if (source.readyState === EventSource.CLOSED) {
        this.#source = null;
        this.#reopenLater();
      }
    };
  }

  #reopenLater(): void {
    const delay = Math.min(15_000, 1000 * 2 ** this.#attempt);
    this.#attempt += 1;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#reopen();
    }, delay);
  }

  async #reopen(): Promise<void> {
    if (!this.#running) return;
    try {
      await api.me(); // a 401 here logs out (api.ts), which stops this log
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      if (this.#running) this.#reopenLater();
      return;
    }
    if (this.#running) this.#open();
  }
}

export const actionLog = new ActionLog();
