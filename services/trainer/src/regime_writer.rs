//! The regime writer (REG-5): every minute, Regime Engine v1.0 over the
//! candles in the database, one `market_regimes` row per minute.
//!
//! At minute boundary `t` the regime reads candles opened before `t`. The
//! writer evaluates `t` once `settle` has passed and the [`MarketFeed`]
//! (the collector) reports the database complete through `t` — never on
//! partial data. Candles are fed to an incremental [`InputsTracker`] seeded
//! from the database at start (BTC: `btc_history`; every market: the 1h
//! window and the whipsaw span), then one `range_many` read per step.
//!
//! Minutes the writer could not evaluate in time are caught up once the data
//! is complete (at most `catch_up` back; older ones are skipped and said so),
//! so the timeline has no holes after a repaired gap.
//!
//! Nothing is ever reused silently: when no regime can be computed
//! (insufficient history, invalid input) nothing is written and a WARN
//! `REGIME_MISSING` / `REGIME_INVALID_INPUT` event says why; when the newest
//! stored regime is older than the staleness policy allows (data behind,
//! database down, warm-up) a WARN `REGIME_STALE` event says so; each once per
//! episode, closed by an INFO `REGIME_RECOVERED`. Readers apply
//! `regime::Regime::rules`, which refuses entries on a stale regime anyway.

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use domain::Market;
use regime::{EngineConfig, InputsTracker, Regime, RegimeError};
use runtime::SharedClock;
use serde_json::json;
use storage::{
    Store,
    events::{EventLevel, NewEvent},
    market_data::{Candle, CandleInterval},
    regimes::{RegimeInputs as StoredInputs, RegimeRecord},
};

use crate::collector::{book::minute_floor, convert::to_indicator, emit};

/// Where the writer learns which markets exist and how far their data is complete.
pub trait MarketFeed: Send + Sync {
    /// The markets of the universe.
    fn markets(&self) -> Vec<Market>;
    /// Candles opened before this instant are complete for every market.
    fn coverage(&self) -> Option<DateTime<Utc>>;
}

/// Writer settings (market-time durations except `poll_interval`).
#[derive(Debug, Clone)]
pub struct RegimeWriterConfig {
    /// The market whose 4h ADX / ATR feed the trend inputs.
    pub btc: Market,
    /// Engine inputs, thresholds and staleness.
    pub engine: EngineConfig,
    /// How long after a minute boundary it is evaluated.
    pub settle: Duration,
    /// BTC history read at start (the 4h ADX needs ~2 weeks to converge).
    pub btc_history: Duration,
    /// Longest span of missed minutes caught up.
    pub catch_up: Duration,
    /// Wall-time poll between checks.
    pub poll_interval: std::time::Duration,
}

impl RegimeWriterConfig {
    /// Defaults: engine defaults, 3 s settle, 14 days of BTC, one hour of catch-up.
    pub fn new(btc: Market) -> Self {
        Self {
            btc,
            engine: EngineConfig::default(),
            settle: Duration::seconds(3),
            btc_history: Duration::days(14),
            catch_up: Duration::hours(1),
            poll_interval: std::time::Duration::from_millis(500),
        }
    }
}

/// What the writer has done (for tests and logs).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriterStats {
    /// Rows written.
    pub written: u64,
    /// Minutes without a regime (insufficient data / invalid input).
    pub missing: u64,
    /// Minutes skipped because they were older than `catch_up`.
    pub skipped: u64,
    /// Stale episodes reported.
    pub stale_reports: u64,
}

/// An open problem, reported once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Episode {
    Missing,
    Invalid,
}

/// The per-minute regime writer.
pub struct RegimeWriter {
    store: Store,
    clock: SharedClock,
    config: RegimeWriterConfig,
    tracker: Option<InputsTracker>,
    /// Every candle opened before this has been fed.
    fed_through: DateTime<Utc>,
    /// Last minute evaluated.
    last_t: Option<DateTime<Utc>>,
    /// Timestamp of the newest stored regime.
    last_written: Option<DateTime<Utc>>,
    /// Since when there has been no fresh regime (start, or the last write).
    started: DateTime<Utc>,
    episode: Option<Episode>,
    stale_open: bool,
    stats: WriterStats,
}

impl std::fmt::Debug for RegimeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegimeWriter")
            .field("last_t", &self.last_t)
            .field("last_written", &self.last_written)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl RegimeWriter {
    /// A writer; validates the engine configuration (the error names the field).
    pub async fn new(
        store: Store,
        clock: SharedClock,
        config: RegimeWriterConfig,
    ) -> anyhow::Result<Self> {
        config
            .engine
            .inputs
            .validate()
            .context("invalid regime configuration (inputs)")?;
        config
            .engine
            .thresholds
            .validate()
            .context("invalid regime configuration (thresholds)")?;
        config
            .engine
            .staleness
            .validate()
            .context("invalid regime configuration (staleness)")?;
        let last_written = store
            .regimes()
            .latest()
            .await
            .context("failed to read the newest regime")?
            .map(|r| r.record.ts);
        let now = clock.now();
        Ok(Self {
            store,
            started: now,
            clock,
            config,
            tracker: None,
            fed_through: now,
            last_t: None,
            last_written,
            episode: None,
            stale_open: false,
            stats: WriterStats::default(),
        })
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Runs until `stop` resolves, checking every `poll_interval`.
    pub async fn run(
        mut self,
        feed: &dyn MarketFeed,
        stop: impl std::future::Future<Output = ()>,
    ) -> WriterStats {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.tick(feed).await {
                tracing::warn!(error = format!("{e:#}"), "regime step failed; retrying");
            }
            tokio::select! {
                () = &mut stop => return self.stats,
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
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
            ts: self.clock.now(),
            trader_id: None,
            level,
            kind: kind.to_owned(),
            message,
            data,
        }
    }

    /// One check: evaluates every minute that is due and complete.
    pub async fn tick(&mut self, feed: &dyn MarketFeed) -> anyhow::Result<()> {
        let now = self.clock.now();
        let due = minute_floor(now - self.config.settle);
        let coverage = feed.coverage();
        let result = match coverage {
            Some(c) => self.advance(feed, due, due.min(minute_floor(c))).await,
            None => Ok(()),
        };
        self.check_stale(now, coverage, due).await;
        result
    }

    async fn advance(
        &mut self,
        feed: &dyn MarketFeed,
        due: DateTime<Utc>,
        ready: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let markets = feed.markets();
        if markets.is_empty() {
            return Ok(());
        }
        if self.tracker.is_none() {
            // Start only once the data is near the present (the collector's
            // first backfill is done): a regime from days ago is no use.
            if ready < due - self.config.catch_up {
                return Ok(());
            }
            // After a restart, continue right after the newest stored regime
            // when it is recent enough; otherwise start at `ready`.
            let from = match self.last_written {
                Some(w) if w < ready && ready - w <= self.config.catch_up => {
                    w + Duration::minutes(1)
                }
                _ => ready,
            };
            self.seed(&markets, from).await?;
        }
        let step = Duration::minutes(1);
        let Some(last) = self.last_t else {
            return Ok(());
        };
        let mut first = last + step;
        if first > ready {
            return Ok(());
        }
        if ready - first > self.config.catch_up {
            let skip_to = minute_floor(ready - self.config.catch_up);
            let skipped = (skip_to - first).num_minutes().max(0);
            self.stats.skipped += skipped as u64;
            emit(
                &self.store,
                self.event(
                    EventLevel::Warn,
                    "REGIME_SKIPPED",
                    format!(
                        "{skipped} minutes without a regime ({} → {}): market data arrived too late to catch up",
                        first.format("%Y-%m-%d %H:%M"),
                        skip_to.format("%H:%M")
                    ),
                    json!({ "from": first, "to": skip_to, "minutes": skipped }),
                ),
            )
            .await;
            first = skip_to;
        }
        let mut candles = self
            .store
            .candles()
            .range_many(&markets, CandleInterval::M1, self.fed_through, ready)
            .await
            .context("failed to read candles")?;
        candles.sort_by_key(|c| c.ts);
        let mut next = 0;
        let mut t = first;
        while t <= ready {
            let tracker = self.tracker.as_mut().context("regime tracker not seeded")?;
            while let Some(c) = candles.get(next).filter(|c| c.ts < t) {
                tracker.push(&c.market, &to_indicator(c));
                next += 1;
            }
            self.fed_through = self.fed_through.max(t);
            self.evaluate(t).await?;
            self.last_t = Some(t);
            t += step;
        }
        Ok(())
    }

    /// Builds the tracker from the candles opened before `ready`; the first
    /// minute evaluated is `ready`.
    async fn seed(&mut self, markets: &[Market], ready: DateTime<Utc>) -> anyhow::Result<()> {
        let params = &self.config.engine.inputs;
        let whipsaw_span = Duration::minutes(
            params
                .whipsaw_interval
                .minutes()
                .saturating_mul(i64::try_from(params.whipsaw_bars).unwrap_or(i64::MAX))
                .saturating_add(params.whipsaw_interval.minutes()),
        );
        let recent = params.window().max(whipsaw_span);
        let candles = self.store.candles();
        let mut rows: Vec<Candle> = candles
            .range_many(
                std::slice::from_ref(&self.config.btc),
                CandleInterval::M1,
                ready - self.config.btc_history.max(recent),
                ready,
            )
            .await
            .context("failed to read BTC history")?;
        let others: Vec<Market> = markets
            .iter()
            .filter(|m| **m != self.config.btc)
            .cloned()
            .collect();
        rows.extend(
            candles
                .range_many(&others, CandleInterval::M1, ready - recent, ready)
                .await
                .context("failed to read recent candles")?,
        );
        rows.sort_by(|a, b| (a.ts, &a.market).cmp(&(b.ts, &b.market)));
        let mut tracker = InputsTracker::new(self.config.btc.clone(), params.clone());
        for c in &rows {
            tracker.push(&c.market, &to_indicator(c));
        }
        tracing::info!(
            candles = rows.len(),
            markets = markets.len(),
            from = %ready,
            "regime tracker seeded from the database"
        );
        self.tracker = Some(tracker);
        self.fed_through = ready;
        self.last_t = Some(ready - Duration::minutes(1));
        Ok(())
    }

    async fn evaluate(&mut self, t: DateTime<Utc>) -> anyhow::Result<()> {
        let tracker = self.tracker.as_mut().context("regime tracker not seeded")?;
        let inputs = tracker.inputs(t);
        match Regime::assess(t, inputs, &self.config.engine.thresholds) {
            Ok(r) => {
                let record = RegimeRecord {
                    ts: r.ts,
                    label: r.label,
                    regime_score: r.score,
                    inputs: StoredInputs {
                        btc_adx_4h: r.inputs.btc_adx_4h,
                        btc_atr_pct_4h: r.inputs.btc_atr_pct_4h,
                        breadth_up_1h: r.inputs.breadth_up_1h,
                        dispersion_1h: r.inputs.dispersion_1h,
                        top5_value_share_1h: r.inputs.top5_value_share_1h,
                        whipsaw_5m: r.inputs.whipsaw_5m,
                    },
                    engine_version: r.engine_version.clone(),
                };
                self.store
                    .regimes()
                    .insert(&record)
                    .await
                    .context("failed to store the regime")?;
                self.stats.written += 1;
                self.last_written = self.last_written.max(Some(t));
                tracing::debug!(ts = %t, label = %r.label, score = r.score, "regime written");
                let had_episode = self.episode.take().is_some();
                // A caught-up minute does not end staleness; a fresh one does.
                let fresh = self.clock.now() - t <= self.config.engine.staleness.max_age();
                let was_stale = fresh && std::mem::take(&mut self.stale_open);
                if had_episode || was_stale {
                    emit(
                        &self.store,
                        self.event(
                            EventLevel::Info,
                            "REGIME_RECOVERED",
                            format!("regime available again: {} ({:.0})", r.label, r.score),
                            json!({ "ts": t, "label": r.label.as_str(), "score": r.score }),
                        ),
                    )
                    .await;
                }
            }
            Err(e) => {
                self.stats.missing += 1;
                let (episode, kind, level) = match &e {
                    RegimeError::InsufficientData { .. } => {
                        (Episode::Missing, "REGIME_MISSING", EventLevel::Warn)
                    }
                    RegimeError::InvalidInput { .. } => {
                        (Episode::Invalid, "REGIME_INVALID_INPUT", EventLevel::Warn)
                    }
                    RegimeError::InvalidConfig(_) => (
                        Episode::Invalid,
                        "REGIME_INVALID_CONFIG",
                        EventLevel::Critical,
                    ),
                };
                tracing::debug!(ts = %t, error = %e, "no regime");
                if self.episode != Some(episode) {
                    self.episode = Some(episode);
                    let missing: Vec<&str> = inputs.missing().iter().map(|n| n.as_str()).collect();
                    emit(
                        &self.store,
                        self.event(
                            level,
                            kind,
                            format!(
                                "no regime at {}: {e}; nothing written",
                                t.format("%Y-%m-%d %H:%M")
                            ),
                            json!({ "ts": t, "error": e.to_string(), "missing": missing }),
                        ),
                    )
                    .await;
                }
            }
        }
        Ok(())
    }

    async fn check_stale(
        &mut self,
        now: DateTime<Utc>,
        coverage: Option<DateTime<Utc>>,
        due: DateTime<Utc>,
    ) {
        let policy = &self.config.engine.staleness;
        let since = self.last_written.unwrap_or(self.started);
        if self.stale_open || now - since <= policy.max_age() {
            return;
        }
        self.stale_open = true;
        self.stats.stale_reports += 1;
        let why = match coverage {
            None => "the market list is not known yet".to_owned(),
            Some(c) if c < due => format!(
                "market data is complete only up to {} (collector behind or stream gap)",
                c.format("%Y-%m-%d %H:%M:%S")
            ),
            Some(_) => "regimes could not be computed or stored".to_owned(),
        };
        let age = self.last_written.map(|w| (now - w).num_seconds());
        emit(
            &self.store,
            self.event(
                EventLevel::Warn,
                "REGIME_STALE",
                match self.last_written {
                    Some(w) => format!(
                        "newest regime is from {} ({} s old): {why}; traders take no new entries",
                        w.format("%Y-%m-%d %H:%M"),
                        age.unwrap_or_default()
                    ),
                    None => format!("no regime yet: {why}; traders take no new entries"),
                },
                json!({ "last_regime": self.last_written, "age_secs": age, "coverage": coverage }),
            ),
        )
        .await;
    }
}
