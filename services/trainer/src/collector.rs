//! The market-data collector (ING-1): one per deployment, so that traders
//! read candles from the database instead of each spending the host's shared
//! Upbit quotation budget.
//!
//! Tasks, all stopped by [`Collector::shutdown`]:
//!
//! * **markets** — the KRW market list, refreshed every `market_list_ttl`
//!   (new listings are backfilled, delisted ones dropped); a failed refresh
//!   keeps the old list and retries with back-off.
//! * **stream** — one WebSocket subscribed to `candle.1m` of every market
//!   (reconnects by itself and reports the gap); messages go into a
//!   coalescing buffer keyed by (market, minute), so memory is bounded by
//!   the universe, not by the message rate.
//! * **fetch** (`rest_concurrency` workers) — REST jobs chosen by
//!   [`book::Book::next_job`]: first-start backfill (bounded by `lookback`,
//!   `btc_lookback` for the regime's BTC history), gap repair after a
//!   reconnect, and the periodic seal of recent minutes. Requests go through
//!   the client's per-group rate limiter; failures back off per market.
//! * **writer** — the only task writing candles: REST pages (final) and the
//!   WebSocket buffer every `flush_interval`, in one sequence so a streamed
//!   candle never overwrites a sealed one. Writes are idempotent upserts
//!   (the same candle twice is one row); a failing database is retried while
//!   REST workers wait on the bounded channel (back-pressure) and the stream
//!   buffer sheds its oldest minutes to REST once full.
//! * **health** — every `health_interval`, one `collector_health` row per
//!   market: newest candle and lag (how far behind now its complete data is).
//!
//! [`Collector::coverage`] tells the regime writer up to which instant the
//! database is complete for every market. Noteworthy moments become events
//! (backfill done, stream lost, gap repaired, market dropped).

/// Bookkeeping: completeness per market, job choice, stream buffer.
pub mod book;
/// Candle conversions (Upbit → storage → indicators).
pub mod convert;

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Instant,
};

use chrono::{DateTime, Duration, Utc};
use domain::Market;
use runtime::SharedClock;
use serde_json::json;
use storage::{
    Store,
    events::{EventLevel, NewEvent},
    market_data::{Candle, CandleInterval},
};
use tokio::{
    sync::{mpsc, watch},
    task::JoinSet,
};
use upbit::{
    ErrorCategory, Subscription, UpbitClient, UpbitError, UpbitUrls, UpbitWebSocket, WsConfig,
    WsEvent, WsMessage,
};

use self::{
    book::{Book, Failure, FailureKind, FlushTicket, Job, Policy, Stats, minute_floor},
    convert::{UPBIT_M1, from_upbit},
};

/// Collector settings. `chrono` durations are market time (the injected
/// clock); `std` durations are wall time (polling and I/O pacing).
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    /// REST and WebSocket base URLs.
    pub urls: UpbitUrls,
    /// The market whose history feeds the regime's 4h inputs.
    pub btc: Market,
    /// First-start backfill for every market.
    pub lookback: Duration,
    /// First-start backfill for `btc` (the 4h ADX needs about two weeks to converge).
    pub btc_lookback: Duration,
    /// On restart, re-fetch this much before the newest stored candle
    /// (covers minutes the previous run had not sealed yet).
    pub resume_overlap: Duration,
    /// The market list is refreshed this often.
    pub market_list_ttl: Duration,
    /// Concurrent REST fetches.
    pub rest_concurrency: usize,
    /// How often streamed candles are written.
    pub flush_interval: std::time::Duration,
    /// How often the health rows are written.
    pub health_interval: std::time::Duration,
    /// Idle poll of the schedulers.
    pub poll_interval: std::time::Duration,
    /// Completeness, sealing, buffer and retry policy.
    pub policy: Policy,
    /// WebSocket reconnect back-off: first delay.
    pub ws_reconnect_initial: std::time::Duration,
    /// WebSocket reconnect back-off: longest delay.
    pub ws_reconnect_max: std::time::Duration,
}

impl CollectorConfig {
    /// Production defaults around `urls` and the regime's BTC market: one
    /// day of history per market, two weeks for `btc`, seal every 5 minutes,
    /// 3 s settle.
    pub fn new(urls: UpbitUrls, btc: Market) -> Self {
        Self {
            urls,
            btc,
            lookback: Duration::days(1),
            btc_lookback: Duration::days(14),
            resume_overlap: Duration::minutes(30),
            market_list_ttl: Duration::hours(1),
            rest_concurrency: 4,
            flush_interval: std::time::Duration::from_secs(1),
            health_interval: std::time::Duration::from_secs(10),
            poll_interval: std::time::Duration::from_millis(200),
            policy: Policy {
                settle: Duration::seconds(3),
                seal_interval: Duration::minutes(5),
                max_buffer_minutes: 30,
                drop_after: 3,
                exclude_after: 8,
                retry_initial: std::time::Duration::from_secs(1),
                retry_max: std::time::Duration::from_mins(1),
            },
            ws_reconnect_initial: std::time::Duration::from_millis(500),
            ws_reconnect_max: std::time::Duration::from_secs(30),
        }
    }
}

/// A REST page ready to write.
#[derive(Debug)]
struct RestBatch {
    job: Job,
    candles: Vec<Candle>,
}

struct Inner {
    config: CollectorConfig,
    store: Store,
    client: UpbitClient,
    clock: SharedClock,
    book: Mutex<Book>,
    shutdown: watch::Sender<bool>,
    markets: watch::Sender<Vec<Market>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("btc", &self.config.btc)
            .finish_non_exhaustive()
    }
}

/// A running collector.
#[derive(Debug)]
pub struct Collector {
    inner: Arc<Inner>,
    tasks: tokio::sync::Mutex<JoinSet<()>>,
}

impl Collector {
    /// Starts every task. `client` carries the rate limiter (use a wall
    /// clock for it); `clock` is market time.
    pub fn start(
        config: CollectorConfig,
        store: Store,
        client: UpbitClient,
        clock: SharedClock,
    ) -> Self {
        let (shutdown, _) = watch::channel(false);
        let (markets, _) = watch::channel(Vec::new());
        let inner = Arc::new(Inner {
            book: Mutex::new(Book::new(config.policy.clone())),
            config,
            store,
            client,
            clock,
            shutdown,
            markets,
        });
        let (rest_tx, rest_rx) = mpsc::channel::<RestBatch>(16);
        let mut tasks = JoinSet::new();
        tasks.spawn(Arc::clone(&inner).markets_task());
        tasks.spawn(Arc::clone(&inner).stream_task());
        for _ in 0..inner.config.rest_concurrency.max(1) {
            tasks.spawn(Arc::clone(&inner).fetch_task(rest_tx.clone()));
        }
        drop(rest_tx);
        tasks.spawn(Arc::clone(&inner).writer_task(rest_rx));
        tasks.spawn(Arc::clone(&inner).health_task());
        Self {
            inner,
            tasks: tokio::sync::Mutex::new(tasks),
        }
    }

    /// Candles opened before this instant are complete in the database for
    /// every tracked market (`None` until the market list is known).
    pub fn coverage(&self) -> Option<DateTime<Utc>> {
        self.inner.book().coverage()
    }

    /// The tracked markets.
    pub fn markets(&self) -> Vec<Market> {
        self.inner.book().markets()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.inner.book().stats.clone()
    }

    /// Runs `f` on the bookkeeping (tests, diagnostics).
    pub fn inspect<T>(&self, f: impl FnOnce(&Book) -> T) -> T {
        f(&self.inner.book())
    }

    /// Stops every task: streamed candles still buffered are written, the
    /// WebSocket is closed, a last health row is written.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        let mut tasks = self.tasks.lock().await;
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(std::time::Duration::from_secs(15), drain)
            .await
            .is_err()
        {
            tracing::warn!("collector tasks did not stop in time; aborting them");
            tasks.abort_all();
        }
    }
}

impl crate::regime_writer::MarketFeed for Collector {
    fn markets(&self) -> Vec<Market> {
        Collector::markets(self)
    }

    fn coverage(&self) -> Option<DateTime<Utc>> {
        Collector::coverage(self)
    }
}

/// Sends `event` to the action log (and the log); a failure is logged only.
pub(crate) async fn emit(store: &Store, event: NewEvent) {
    match event.level {
        EventLevel::Info => tracing::info!(kind = %event.kind, "{}", event.message),
        EventLevel::Warn => tracing::warn!(kind = %event.kind, "{}", event.message),
        EventLevel::Critical => tracing::error!(kind = %event.kind, "{}", event.message),
    }
    if let Err(e) = store.events().append(&event).await {
        tracing::warn!(error = %e, kind = %event.kind, "failed to record an event");
    }
}

fn classify(e: &UpbitError) -> (FailureKind, bool) {
    let category = e.category();
    let kind = match category {
        ErrorCategory::NotFound | ErrorCategory::BadRequest => FailureKind::Permanent,
        _ => FailureKind::Transient,
    };
    (kind, category == ErrorCategory::RateLimited)
}

impl Inner {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves once shutdown is requested (at once if it already was).
    async fn stopped(&self) {
        let mut rx = self.shutdown.subscribe();
        // An error means the sender is gone, which also means "stop".
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Sleeps `d` (wall time); false when shutdown was requested meanwhile.
    async fn pause(&self, d: std::time::Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(d) => !self.stopping(),
            () = self.stopped() => false,
        }
    }

    fn event(
        &self,
        level: EventLevel,
        kind: &str,
        message: String,
        data: serde_json::Value,
    ) -> NewEvent {
        NewEvent {
            ts: self.now(),
            trader_id: None,
            level,
            kind: kind.to_owned(),
            message,
            data,
        }
    }

    // ---- markets ----------------------------------------------------------

    async fn markets_task(self: Arc<Self>) {
        let mut next_refresh: Option<DateTime<Utc>> = None;
        let mut failures: u32 = 0;
        loop {
            if self.stopping() {
                return;
            }
            if next_refresh.is_none_or(|t| self.now() >= t) {
                match self.refresh_markets(next_refresh.is_some()).await {
                    Ok(()) => {
                        failures = 0;
                        next_refresh = Some(self.now() + self.config.market_list_ttl);
                    }
                    Err(e) => {
                        failures = failures.saturating_add(1);
                        let delay = std::time::Duration::from_secs(1u64 << failures.min(6));
                        tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "market list refresh failed");
                        if !self.pause(delay).await {
                            return;
                        }
                        continue;
                    }
                }
            }
            if !self
                .pause(
                    self.config
                        .poll_interval
                        .max(std::time::Duration::from_millis(10)),
                )
                .await
            {
                return;
            }
        }
    }

    async fn refresh_markets(&self, announce: bool) -> anyhow::Result<()> {
        use anyhow::Context as _;
        let listing = self
            .client
            .krw_markets(false)
            .await
            .context("failed to list KRW markets")?;
        let mut list: Vec<Market> = listing.into_iter().map(|l| l.market).collect();
        list.sort();
        list.dedup();
        if list.is_empty() {
            anyhow::bail!("Upbit listed no KRW market");
        }
        let known = self.book().markets();
        let now = self.now();
        let mut added = Vec::new();
        for m in list.iter().filter(|m| !known.contains(m)) {
            let latest = self
                .store
                .candles()
                .latest_ts(m, CandleInterval::M1)
                .await
                .context("failed to read the newest stored candle")?;
            let lookback = if *m == self.config.btc {
                self.config.btc_lookback.max(self.config.lookback)
            } else {
                self.config.lookback
            };
            let from = fetch_start(now, lookback, latest, self.config.resume_overlap);
            added.push((m.clone(), from, latest));
        }
        let added_names: Vec<String> = added.iter().map(|(m, ..)| m.to_string()).collect();
        let removed = self.book().set_markets(&list, added, now);
        if announce && (!added_names.is_empty() || !removed.is_empty()) {
            let removed: Vec<String> = removed.iter().map(ToString::to_string).collect();
            emit(
                &self.store,
                self.event(
                    EventLevel::Info,
                    "MARKET_LIST_CHANGED",
                    format!(
                        "KRW market list changed: {} added, {} removed",
                        added_names.len(),
                        removed.len()
                    ),
                    json!({ "added": added_names, "removed": removed }),
                ),
            )
            .await;
        }
        let tracked = self.book().markets();
        self.markets.send_if_modified(|cur| {
            let changed = *cur != tracked;
            if changed {
                cur.clone_from(&tracked);
            }
            changed
        });
        tracing::info!(markets = tracked.len(), "KRW market list loaded");
        Ok(())
    }

    // ---- stream -----------------------------------------------------------

    async fn stream_task(self: Arc<Self>) {
        let mut markets = self.markets.subscribe();
        // Wait for the first market list.
        loop {
            if !markets.borrow_and_update().is_empty() {
                break;
            }
            tokio::select! {
                r = markets.changed() => if r.is_err() { return },
                () = self.stopped() => return,
            }
        }
        loop {
            let list = markets.borrow_and_update().clone();
            let mut ws = WsConfig::public(
                &self.config.urls,
                vec![Subscription::candle(UPBIT_M1, list)],
            );
            ws.reconnect_initial = self.config.ws_reconnect_initial;
            ws.reconnect_max = self.config.ws_reconnect_max;
            let limiter = Arc::clone(self.client.transport().limiter());
            let (handle, mut events) = match UpbitWebSocket::spawn(ws, limiter, self.clock.clone())
            {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the candle stream");
                    if !self.pause(std::time::Duration::from_secs(5)).await {
                        return;
                    }
                    continue;
                }
            };
            loop {
                tokio::select! {
                    ev = events.recv() => match ev {
                        Some(ev) => self.on_ws_event(ev).await,
                        None => break,
                    },
                    r = markets.changed() => {
                        if r.is_err() {
                            break;
                        }
                        let list = markets.borrow_and_update().clone();
                        if !list.is_empty()
                            && let Err(e) = handle.subscribe(vec![Subscription::candle(UPBIT_M1, list)]).await
                        {
                            tracing::warn!(error = %e, "failed to resubscribe the candle stream");
                        }
                    }
                    () = self.stopped() => {
                        handle.close().await;
                        self.book().disconnected();
                        return;
                    }
                }
            }
            // The connection task ended on its own: start a new one.
            self.book().disconnected();
            handle.close().await;
            if !self.pause(self.config.ws_reconnect_initial).await {
                return;
            }
        }
    }

    async fn on_ws_event(&self, ev: WsEvent) {
        match ev {
            WsEvent::Connected { .. } => {
                let now = self.now();
                self.book().connected(now, None);
                tracing::info!("candle stream connected");
            }
            WsEvent::Reconnected { gap, attempts } => {
                let now = self.now();
                let pending = self.book().connected(now, Some(gap.from));
                tracing::info!(
                    gap_from = %gap.from,
                    gap_to = %gap.to,
                    attempts,
                    pending = pending.is_some(),
                    "candle stream reconnected; repairing the gap by REST"
                );
            }
            WsEvent::Disconnected { reason, .. } => {
                self.book().disconnected();
                emit(
                    &self.store,
                    self.event(
                        EventLevel::Warn,
                        "MARKET_DATA_STREAM_LOST",
                        format!("candle stream lost ({reason}); reconnecting, the gap will be repaired by REST"),
                        json!({ "reason": reason }),
                    ),
                )
                .await;
            }
            WsEvent::Message(WsMessage::Candle { candle, .. }) => {
                if let Some(c) = from_upbit(&candle) {
                    self.book().buffer_ws(c);
                }
            }
            WsEvent::Message(WsMessage::Error { .. }) | WsEvent::Invalid { .. } => {
                tracing::warn!(event = ?ev, "unexpected candle stream message");
            }
            WsEvent::Message(_) => {}
        }
    }

    // ---- fetch ------------------------------------------------------------

    async fn fetch_task(self: Arc<Self>, out: mpsc::Sender<RestBatch>) {
        loop {
            if self.stopping() {
                return;
            }
            let job = self.book().next_job(self.now(), Instant::now());
            let Some(job) = job else {
                if !self.pause(self.config.poll_interval).await {
                    return;
                }
                continue;
            };
            let fetch = self
                .client
                .candles_between(&job.market, UPBIT_M1, job.from, job.to);
            let result = tokio::select! {
                r = fetch => r,
                () = self.stopped() => {
                    self.book().job_abandoned(&job);
                    return;
                }
            };
            match result {
                Ok(candles) => {
                    let candles = candles.iter().filter_map(from_upbit).collect();
                    if out.send(RestBatch { job, candles }).await.is_err() {
                        return;
                    }
                }
                Err(e) => self.fetch_failed(&job, &e).await,
            }
        }
    }

    async fn fetch_failed(&self, job: &Job, e: &UpbitError) {
        let (kind, rate_limited) = classify(e);
        let (outcome, excluded_now) = {
            let mut book = self.book();
            let was = book.excluded(&job.market);
            let outcome = book.job_failed(job, kind, rate_limited, Instant::now());
            (outcome, !was && book.excluded(&job.market))
        };
        match outcome {
            Failure::Retry(delay) => {
                tracing::warn!(
                    market = %job.market,
                    error = %e,
                    retry_in_ms = delay.as_millis() as u64,
                    "candle fetch failed"
                );
                if excluded_now {
                    emit(
                        &self.store,
                        self.event(
                            EventLevel::Warn,
                            "MARKET_DEGRADED",
                            format!(
                                "{} keeps failing ({e}); still retried, but the regime no longer waits for it",
                                job.market
                            ),
                            json!({ "market": job.market.as_str(), "error": e.to_string() }),
                        ),
                    )
                    .await;
                }
            }
            Failure::Dropped => {
                emit(
                    &self.store,
                    self.event(
                        EventLevel::Warn,
                        "MARKET_DROPPED",
                        format!(
                            "{} dropped from collection after repeated errors: {e}",
                            job.market
                        ),
                        json!({ "market": job.market.as_str(), "error": e.to_string() }),
                    ),
                )
                .await;
                let tracked = self.book().markets();
                self.markets.send_replace(tracked);
            }
        }
    }

    // ---- writer -----------------------------------------------------------

    async fn writer_task(self: Arc<Self>, mut rest: mpsc::Receiver<RestBatch>) {
        let mut flush = tokio::time::interval(self.config.flush_interval);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = self.stopped() => break,
                batch = rest.recv() => match batch {
                    Some(b) => self.write_rest(b).await,
                    None => break,
                },
                _ = flush.tick() => self.flush_stream().await,
            }
        }
        // Last flush of whatever the stream delivered.
        self.flush_stream().await;
    }

    fn valid(&self, candles: Vec<Candle>) -> Vec<Candle> {
        let mut out = Vec::with_capacity(candles.len());
        for c in candles {
            match c.validate("candle") {
                Ok(()) => out.push(c),
                Err(e) => {
                    self.book().stats.invalid_candles += 1;
                    tracing::warn!(market = %c.market, ts = %c.ts, error = %e, "invalid candle dropped");
                }
            }
        }
        out
    }

    async fn write_rest(&self, batch: RestBatch) {
        let candles = self.valid(batch.candles);
        let newest = candles.iter().map(|c| c.ts).max();
        let mut delay = std::time::Duration::from_millis(200);
        let written = loop {
            match self.store.candles().upsert_many(&candles).await {
                Ok(n) => break n,
                Err(e) => {
                    self.book().stats.db_errors += 1;
                    tracing::warn!(error = %e, market = %batch.job.market, "failed to write candles; retrying");
                    if !self.pause(delay).await {
                        self.book().job_abandoned(&batch.job);
                        return;
                    }
                    if !e.is_retryable() {
                        // Not the database's state: fetch the range again later.
                        self.book().job_failed(
                            &batch.job,
                            FailureKind::Transient,
                            false,
                            Instant::now(),
                        );
                        return;
                    }
                    delay = (delay * 2).min(std::time::Duration::from_secs(30));
                }
            }
        };
        let now = self.now();
        let (gap, backfilled, coverage, markets) = {
            let mut book = self.book();
            book.job_done(&batch.job, written, newest, now);
            (
                book.take_repaired_gap(),
                book.take_backfilled(now),
                book.coverage(),
                book.markets().len(),
            )
        };
        self.announce(gap, backfilled, coverage, markets, now).await;
    }

    async fn announce(
        &self,
        gap: Option<book::PendingGap>,
        backfilled: bool,
        coverage: Option<DateTime<Utc>>,
        markets: usize,
        now: DateTime<Utc>,
    ) {
        if let Some(g) = gap {
            let took = (now - g.started).num_milliseconds() as f64 / 1000.0;
            emit(
                &self.store,
                self.event(
                    EventLevel::Info,
                    "MARKET_DATA_GAP_REPAIRED",
                    format!(
                        "candle gap {} → {} repaired by REST for {markets} markets in {took:.1} s",
                        g.from.format("%H:%M:%S"),
                        g.to.format("%H:%M:%S")
                    ),
                    json!({
                        "from": g.from, "to": g.to, "markets": markets, "repair_secs": took,
                    }),
                ),
            )
            .await;
        }
        if backfilled {
            emit(
                &self.store,
                self.event(
                    EventLevel::Info,
                    "MARKET_DATA_BACKFILLED",
                    format!("market data complete for {markets} KRW markets"),
                    json!({ "markets": markets, "coverage": coverage }),
                ),
            )
            .await;
        }
    }

    async fn flush_stream(&self) {
        let now = self.now();
        let ticket: FlushTicket = self.book().take_flush(now);
        let candles = self.valid(ticket.candles.clone());
        let result = if candles.is_empty() {
            Ok(0)
        } else {
            self.store.candles().upsert_many(&candles).await
        };
        let (gap, backfilled, coverage, markets) = {
            let mut book = self.book();
            match result {
                Ok(_) => book.flush_done(&ticket),
                Err(ref e) => {
                    tracing::warn!(error = %e, candles = candles.len(), "failed to write streamed candles");
                    book.flush_failed(ticket);
                }
            }
            (
                book.take_repaired_gap(),
                book.take_backfilled(now),
                book.coverage(),
                book.markets().len(),
            )
        };
        self.announce(gap, backfilled, coverage, markets, now).await;
    }

    // ---- health -----------------------------------------------------------

    async fn health_task(self: Arc<Self>) {
        loop {
            let running = self.pause(self.config.health_interval).await;
            let rows = self.book().health(self.now());
            if !rows.is_empty()
                && let Err(e) = self.store.collector_health().upsert_many(&rows).await
            {
                tracing::warn!(error = %e, "failed to write collector health");
            }
            if !running {
                return;
            }
        }
    }
}

/// The start of a fetch for a market first seen at `now`: `lookback` back,
/// or `overlap` before its newest stored candle if that is later.
pub fn fetch_start(
    now: DateTime<Utc>,
    lookback: Duration,
    latest: Option<DateTime<Utc>>,
    overlap: Duration,
) -> DateTime<Utc> {
    let floor = now - lookback;
    minute_floor(latest.map_or(floor, |ts| floor.max(ts - overlap)))
}
