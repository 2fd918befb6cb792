//! The collector's bookkeeping, kept pure so it can be tested with explicit
//! times: which markets are tracked, how far each one is known complete, what
//! to fetch next, the WebSocket buffer, and the coverage the regime writer
//! waits for. The async tasks in [`crate::collector`] hold it under one mutex
//! for short, non-awaiting critical sections.
//!
//! # Completeness
//!
//! For each market, candles with an open time before some instant are known
//! complete in the database:
//!
//! * **REST-sealed** through `sealed_through`: a REST page `[from, to)` is
//!   authoritative (a minute missing from it had no trade), so after writing
//!   it every candle opened before `to` is final.
//! * **WebSocket-live**: while the stream is connected, every `candle.1m`
//!   message is buffered and flushed; candles opened before
//!   `flushed_through − settle` are complete provided the stream covered the
//!   market from a point REST had already sealed (`sealed_through ≥ ws_from`).
//!   Otherwise the minutes between are a **gap**, repaired by REST.
//!
//! A market's cover is the later of the two; the collector's **coverage** is
//! the earliest cover over all markets. Backfill on first start, gap repair
//! after a reconnect and the periodic seal are the same job — "fetch market
//! `m` over `[sealed_through, target)` by REST" — with urgency decided by
//! whether the market holds coverage back.
//!
//! Upbit streams a candle at most once a second, so the WebSocket copy of a
//! minute may miss its last trades; the periodic seal (every
//! `seal_interval` per market) rewrites recent minutes from REST, and a
//! WebSocket candle older than the sealed point is never written over a
//! sealed one.

use std::{
    collections::{BTreeMap, HashMap},
    time::Instant,
};

use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::Market;
use storage::market_data::{Candle, CollectorHealth};

/// The open time of the minute containing `t`.
pub fn minute_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(1)).unwrap_or(t)
}

/// Timing policy (market-clock durations).
#[derive(Debug, Clone)]
pub struct Policy {
    /// How long after a minute closes its candles are taken as final.
    pub settle: Duration,
    /// Each market is re-fetched by REST at least this often.
    pub seal_interval: Duration,
    /// Most minutes of WebSocket candles buffered per market before the
    /// oldest are shed (and left to REST).
    pub max_buffer_minutes: usize,
    /// Consecutive "not found / bad request" answers after which a market
    /// is dropped.
    pub drop_after: u32,
    /// Consecutive failed fetches after which a market no longer holds the
    /// coverage back (it is still retried; one broken market must not stop
    /// the regime of all the others).
    pub exclude_after: u32,
    /// First retry delay after a failed fetch (wall time); doubles.
    pub retry_initial: std::time::Duration,
    /// Longest retry delay.
    pub retry_max: std::time::Duration,
}

/// What the collector knows about one market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Candles opened before this are final in the database (REST).
    pub sealed_through: DateTime<Utc>,
    /// Market time of the last successful REST fetch.
    pub last_sealed_at: Option<DateTime<Utc>>,
    /// The WebSocket copy of this market is intact from here on.
    pub ws_from: DateTime<Utc>,
    /// A fetch is running.
    pub in_flight: bool,
    /// Consecutive failed fetches.
    pub failures: u32,
    /// Consecutive permanent failures (not found, bad request).
    pub permanent_failures: u32,
    /// No fetch before this (wall time).
    pub retry_at: Option<Instant>,
    /// Open time of the newest candle written.
    pub last_candle_ts: Option<DateTime<Utc>>,
}

impl Track {
    /// A market that must be fetched from `sealed_through` on.
    pub fn new(sealed_through: DateTime<Utc>, last_candle_ts: Option<DateTime<Utc>>) -> Self {
        Self {
            sealed_through,
            last_sealed_at: None,
            ws_from: sealed_through,
            in_flight: false,
            failures: 0,
            permanent_failures: 0,
            retry_at: None,
            last_candle_ts,
        }
    }
}

/// The WebSocket while it is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    /// The minute of the (re)connect: later candles come from the stream.
    pub since: DateTime<Utc>,
    /// Increases with every connect; a flush started under another epoch
    /// proves nothing about this connection.
    pub epoch: u64,
    /// Every message received before this instant is in the database.
    pub flushed_through: Option<DateTime<Utc>>,
}

/// A reconnect whose gap is not yet repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingGap {
    /// Last data before the loss (as the WebSocket client reported it).
    pub from: DateTime<Utc>,
    /// The reconnect.
    pub to: DateTime<Utc>,
    /// Market time the repair started.
    pub started: DateTime<Utc>,
}

/// One REST fetch to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Market.
    pub market: Market,
    /// First open time wanted.
    pub from: DateTime<Utc>,
    /// End (exclusive): the last closed-and-settled minute boundary.
    pub to: DateTime<Utc>,
    /// True when the market holds coverage back (backfill, gap repair).
    pub urgent: bool,
}

/// What a failed fetch led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Retry later (after the returned wall-clock delay).
    Retry(std::time::Duration),
    /// The market was dropped (it keeps answering "not found" / "bad request").
    Dropped,
}

/// How a failure is classified by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Transport, 5xx, 429, 418: the request itself was fine.
    Transient,
    /// Not found / bad request for this market.
    Permanent,
}

/// A flush in progress: what was taken and under which connection.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushTicket {
    /// The candles to write.
    pub candles: Vec<Candle>,
    /// Market time the buffer was taken.
    pub at: DateTime<Utc>,
    /// Connection epoch at that time (`None`: not connected).
    pub epoch: Option<u64>,
}

/// Counters (monotonic since start).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// WebSocket connections made (first + reconnects).
    pub ws_connects: u64,
    /// Reconnects after a loss.
    pub ws_reconnects: u64,
    /// Losses.
    pub ws_disconnects: u64,
    /// Candle messages received.
    pub ws_candles: u64,
    /// Buffered WebSocket candles dropped because the buffer was full (left to REST).
    pub ws_shed: u64,
    /// Gaps after a reconnect that REST repaired.
    pub gaps_repaired: u64,
    /// REST fetch jobs completed.
    pub rest_jobs: u64,
    /// REST fetch jobs that failed.
    pub rest_errors: u64,
    /// Of those, failed because of rate limiting (429 / local limiter).
    pub rest_rate_limited: u64,
    /// Candles written from REST.
    pub rest_candles: u64,
    /// Candles written from the WebSocket.
    pub flushed_candles: u64,
    /// Database writes that failed (and were retried).
    pub db_errors: u64,
    /// Candles refused by validation (never written).
    pub invalid_candles: u64,
    /// Markets dropped after permanent errors.
    pub markets_dropped: u64,
}

/// The whole bookkeeping.
#[derive(Debug)]
pub struct Book {
    policy: Policy,
    markets: BTreeMap<Market, Track>,
    live: Option<Live>,
    epoch: u64,
    buffer: HashMap<(Market, DateTime<Utc>), Candle>,
    pending_gap: Option<PendingGap>,
    backfilled: bool,
    /// Counters.
    pub stats: Stats,
}

impl Book {
    /// Empty: no markets yet.
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            markets: BTreeMap::new(),
            live: None,
            epoch: 0,
            buffer: HashMap::new(),
            pending_gap: None,
            backfilled: false,
            stats: Stats::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Tracked markets, in order.
    pub fn markets(&self) -> Vec<Market> {
        self.markets.keys().cloned().collect()
    }

    /// One market's track.
    pub fn track(&self, market: &Market) -> Option<&Track> {
        self.markets.get(market)
    }

    /// The connection, if up.
    pub fn live(&self) -> Option<Live> {
        self.live
    }

    /// The unrepaired gap, if any.
    pub fn pending_gap(&self) -> Option<PendingGap> {
        self.pending_gap
    }

    /// Buffered WebSocket candles.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Adds markets (with the point their fetch starts from and the newest
    /// stored candle) and removes those not in `keep`, at `now`. Returns the
    /// removed. A market added while the stream is up is only streamed after
    /// a resubscription, so its stream copy counts from the next minute.
    pub fn set_markets(
        &mut self,
        keep: &[Market],
        added: Vec<(Market, DateTime<Utc>, Option<DateTime<Utc>>)>,
        now: DateTime<Utc>,
    ) -> Vec<Market> {
        let removed: Vec<Market> = self
            .markets
            .keys()
            .filter(|m| !keep.contains(m))
            .cloned()
            .collect();
        for m in &removed {
            self.markets.remove(m);
        }
        self.buffer.retain(|(m, _), _| keep.contains(m));
        for (m, from, last) in added {
            let mut t = Track::new(minute_floor(from), last);
            if let Some(l) = self.live {
                t.ws_from = t
                    .ws_from
                    .max(l.since)
                    .max(minute_floor(now) + Duration::minutes(1));
            }
            self.markets.entry(m).or_insert(t);
        }
        removed
    }

    /// The instant before which `market`'s candles are complete in the database.
    pub fn cover(&self, market: &Market) -> Option<DateTime<Utc>> {
        let t = self.markets.get(market)?;
        Some(self.cover_of(t))
    }

    fn cover_of(&self, t: &Track) -> DateTime<Utc> {
        match self.live {
            Some(Live {
                flushed_through: Some(f),
                ..
            }) if t.sealed_through >= t.ws_from => t.sealed_through.max(f - self.policy.settle),
            _ => t.sealed_through,
        }
    }

    /// Candles opened before this instant are complete for every tracked
    /// market (`None` before the market list is known). Markets failing for
    /// a while (`exclude_after`) are left out, unless all are.
    pub fn coverage(&self) -> Option<DateTime<Utc>> {
        let healthy = self
            .markets
            .values()
            .filter(|t| t.failures < self.policy.exclude_after)
            .map(|t| self.cover_of(t))
            .min();
        healthy.or_else(|| self.markets.values().map(|t| self.cover_of(t)).min())
    }

    /// True when `market` is currently left out of the coverage.
    pub fn excluded(&self, market: &Market) -> bool {
        self.markets
            .get(market)
            .is_some_and(|t| t.failures >= self.policy.exclude_after)
    }

    /// The end of the range a fetch at `now` asks for: the latest minute
    /// boundary at least `settle` ago.
    pub fn target(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        minute_floor(now - self.policy.settle)
    }

    /// Picks the next fetch, marking the market in flight: markets holding
    /// coverage back first (most behind first), then markets due for their
    /// periodic seal (longest unsealed first).
    pub fn next_job(&mut self, now: DateTime<Utc>, wall: Instant) -> Option<Job> {
        let target = self.target(now);
        let mut urgent: Option<(&Market, DateTime<Utc>)> = None;
        let mut due: Option<(&Market, Option<DateTime<Utc>>)> = None;
        for (m, t) in &self.markets {
            if t.in_flight || t.retry_at.is_some_and(|r| r > wall) || t.sealed_through >= target {
                continue;
            }
            if self.cover_of(t) < target {
                if urgent.is_none_or(|(_, s)| t.sealed_through < s) {
                    urgent = Some((m, t.sealed_through));
                }
            } else if t
                .last_sealed_at
                .is_none_or(|s| now - s >= self.policy.seal_interval)
                && due.is_none_or(|(_, s)| match (t.last_sealed_at, s) {
                    (None, Some(_)) => true,
                    (Some(a), Some(b)) => a < b,
                    _ => false,
                })
            {
                due = Some((m, t.last_sealed_at));
            }
        }
        let (market, is_urgent) = match (urgent, due) {
            (Some((m, _)), _) => (m.clone(), true),
            (None, Some((m, _))) => (m.clone(), false),
            (None, None) => return None,
        };
        let t = self.markets.get_mut(&market)?;
        t.in_flight = true;
        Some(Job {
            from: t.sealed_through,
            market,
            to: target,
            urgent: is_urgent,
        })
    }

    /// A fetch of `job` was written (`newest`: open time of its newest
    /// candle). WebSocket candles of the same market and range are dropped
    /// from the buffer: the REST copy is final.
    pub fn job_done(
        &mut self,
        job: &Job,
        written: u64,
        newest: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) {
        self.stats.rest_jobs += 1;
        self.stats.rest_candles += written;
        self.buffer
            .retain(|(m, ts), _| !(m == &job.market && *ts < job.to));
        if let Some(t) = self.markets.get_mut(&job.market) {
            t.sealed_through = t.sealed_through.max(job.to);
            t.last_sealed_at = Some(now);
            t.in_flight = false;
            t.failures = 0;
            t.permanent_failures = 0;
            t.retry_at = None;
            t.last_candle_ts = t.last_candle_ts.max(newest);
        }
    }

    /// A fetch of `job` was abandoned (shutdown): nothing counted, nothing delayed.
    pub fn job_abandoned(&mut self, job: &Job) {
        if let Some(t) = self.markets.get_mut(&job.market) {
            t.in_flight = false;
        }
    }

    /// A fetch of `job` failed.
    pub fn job_failed(
        &mut self,
        job: &Job,
        kind: FailureKind,
        rate_limited: bool,
        wall: Instant,
    ) -> Failure {
        self.stats.rest_errors += 1;
        if rate_limited {
            self.stats.rest_rate_limited += 1;
        }
        let policy = self.policy.clone();
        let Some(t) = self.markets.get_mut(&job.market) else {
            return Failure::Dropped;
        };
        t.in_flight = false;
        t.failures = t.failures.saturating_add(1);
        if kind == FailureKind::Permanent {
            t.permanent_failures = t.permanent_failures.saturating_add(1);
            if t.permanent_failures >= policy.drop_after {
                self.markets.remove(&job.market);
                self.buffer.retain(|(m, _), _| m != &job.market);
                self.stats.markets_dropped += 1;
                return Failure::Dropped;
            }
        } else {
            t.permanent_failures = 0;
        }
        let exp = t.failures.saturating_sub(1).min(16);
        let delay = policy
            .retry_initial
            .saturating_mul(1u32 << exp)
            .min(policy.retry_max);
        t.retry_at = Some(wall + delay);
        Failure::Retry(delay)
    }

    /// The WebSocket is (re)connected at `now`. Returns the gap to repair on
    /// a reconnect.
    pub fn connected(
        &mut self,
        now: DateTime<Utc>,
        gap_from: Option<DateTime<Utc>>,
    ) -> Option<PendingGap> {
        self.epoch += 1;
        let since = minute_floor(now);
        self.live = Some(Live {
            since,
            epoch: self.epoch,
            flushed_through: None,
        });
        self.stats.ws_connects += 1;
        for t in self.markets.values_mut() {
            t.ws_from = since;
        }
        let gap = gap_from.map(|from| PendingGap {
            from,
            to: now,
            started: now,
        });
        if gap.is_some() {
            self.stats.ws_reconnects += 1;
            self.pending_gap = gap;
        }
        gap
    }

    /// The WebSocket was lost.
    pub fn disconnected(&mut self) {
        self.live = None;
        self.stats.ws_disconnects += 1;
    }

    /// When the gap of the last reconnect is repaired (every market REST-sealed
    /// through the reconnect minute), returns it once.
    pub fn take_repaired_gap(&mut self) -> Option<PendingGap> {
        let gap = self.pending_gap?;
        let live = self.live?;
        if self
            .markets
            .values()
            .all(|t| t.sealed_through >= live.since)
        {
            self.pending_gap = None;
            self.stats.gaps_repaired += 1;
            Some(gap)
        } else {
            None
        }
    }

    /// True once, when the first full backfill is done (coverage reached
    /// `target(now)` for the first time).
    pub fn take_backfilled(&mut self, now: DateTime<Utc>) -> bool {
        if self.backfilled || self.coverage().is_none_or(|c| c < self.target(now)) {
            return false;
        }
        self.backfilled = true;
        true
    }

    /// Buffers one streamed candle (the newest message of a minute wins).
    /// Candles of untracked markets or older than the sealed point are
    /// ignored. Beyond the buffer limit the oldest minutes are shed and left
    /// to REST.
    pub fn buffer_ws(&mut self, candle: Candle) {
        self.stats.ws_candles += 1;
        let Some(t) = self.markets.get(&candle.market) else {
            return;
        };
        if candle.ts < t.sealed_through {
            return;
        }
        self.buffer
            .insert((candle.market.clone(), candle.ts), candle);
        let cap = self
            .policy
            .max_buffer_minutes
            .max(2)
            .saturating_mul(self.markets.len().max(1));
        if self.buffer.len() > cap {
            let mut keys: Vec<(Market, DateTime<Utc>)> = self.buffer.keys().cloned().collect();
            keys.sort_by_key(|(_, ts)| *ts);
            let excess = self.buffer.len() - cap;
            for (m, ts) in keys.into_iter().take(excess) {
                self.buffer.remove(&(m.clone(), ts));
                self.stats.ws_shed += 1;
                if let Some(t) = self.markets.get_mut(&m) {
                    t.ws_from = t.ws_from.max(ts + Duration::minutes(1));
                }
            }
        }
    }

    /// Takes the buffer for writing at `now` (candles now older than the
    /// sealed point are dropped: REST wrote them).
    pub fn take_flush(&mut self, now: DateTime<Utc>) -> FlushTicket {
        let markets = &self.markets;
        let mut candles: Vec<Candle> = self
            .buffer
            .drain()
            .filter(|((m, ts), _)| markets.get(m).is_some_and(|t| *ts >= t.sealed_through))
            .map(|(_, c)| c)
            .collect();
        candles.sort_by(|a, b| (&a.market, a.ts).cmp(&(&b.market, b.ts)));
        FlushTicket {
            candles,
            at: now,
            epoch: self.live.map(|l| l.epoch),
        }
    }

    /// The flush was written.
    pub fn flush_done(&mut self, ticket: &FlushTicket) {
        self.stats.flushed_candles += ticket.candles.len() as u64;
        for c in &ticket.candles {
            if let Some(t) = self.markets.get_mut(&c.market) {
                t.last_candle_ts = t.last_candle_ts.max(Some(c.ts));
            }
        }
        if let Some(live) = &mut self.live
            && ticket.epoch == Some(live.epoch)
        {
            live.flushed_through = live.flushed_through.max(Some(ticket.at));
        }
    }

    /// The flush failed: its candles go back unless a newer message for the
    /// same minute arrived meanwhile or REST sealed them.
    pub fn flush_failed(&mut self, ticket: FlushTicket) {
        self.stats.db_errors += 1;
        for c in ticket.candles {
            let sealed = self
                .markets
                .get(&c.market)
                .is_none_or(|t| c.ts < t.sealed_through);
            if !sealed {
                self.buffer.entry((c.market.clone(), c.ts)).or_insert(c);
            }
        }
    }

    /// Health rows at `now`: newest candle and how far behind `now` the
    /// market's cover is.
    pub fn health(&self, now: DateTime<Utc>) -> Vec<CollectorHealth> {
        self.markets
            .iter()
            .map(|(m, t)| CollectorHealth {
                market: m.clone(),
                last_candle_ts: t.last_candle_ts,
                lag_ms: (now - self.cover_of(t)).num_milliseconds().max(0),
                updated_at: now,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
