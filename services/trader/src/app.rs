//! Start-up and the main loop.
//!
//! Start: wait for the database and check its schema (never migrate); load
//! the trader row, its strategy version and — for LIVE — its credential once
//! (FIX-12: a new strategy or mode reaches the trader only by recreating
//! it); rebuild the book from the fills; reconcile with the exchange.
//!
//! Loop (one task, so no step ever interleaves with another): every
//! `watch_interval` the open orders are watched; at every minute boundary,
//! once the just-closed candle is in the database, the cycle runs
//! (`crate::cycle`). The trader row is re-read every turn and right before
//! every LIVE order, and the ARM proof is built from it: a disarm takes
//! effect at once. Only a create needs the proof (FIX-8): a LIVE trader that
//! was never armed (no order on record) sends no request to any order
//! endpoint at all; one that has orders on record still reconciles, watches
//! them and records their fills without the proof, and on a DISARM it cancels its resting entries and places nothing
//! (exits included) until armed again, saying so in a WARN event that names
//! the positions left unmanaged. A heartbeat task writes
//! `traders.last_heartbeat_at`.
//!
//! Stop: SIGTERM (or Ctrl-C) is only looked at between steps, so no order is
//! ever left half-placed; open orders are then cancelled and recorded.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use domain::{
    AlertLevel, Armed, Market, Mode, ModelStage, ModelVersionId, RiskProfile, RunState, TraderId,
};
use execution::{LiveConfig, LiveExecutor, OrderExecutor, PaperConfig, PaperExecutor};
use notify::{LogNotifier, SharedNotifier, TelegramConfig, TelegramNotifier};
use risk::{GuardEvent, GuardSnapshot, KillCause, KillSwitch, RuntimeGuard};
use runtime::{SharedClock, SystemClock};
use serde_json::json;
use storage::{
    MasterKey, StorageError, Store, events::EventLevel, safety::SafetyState,
    traders::Trader as TraderRow,
};
use strategy::{Evaluator, ScoreState, StrategyDefinition};
use tokio::sync::mpsc;
use tokio::sync::watch;
use upbit::{
    Credential, HttpConfig, Subscription, UpbitClient, UpbitTransport, UpbitUrls, UpbitWebSocket,
    WsConfig, WsEvent, WsHandle, WsMessage,
};

use crate::{
    ai, clock,
    config::{ClockSource, Config},
    error::StepError,
    journal::Journal,
    market::MarketData,
    orders::{Effects, OrderManager},
    portfolio::Portfolio,
    reconcile,
};

/// Why the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// SIGTERM / Ctrl-C.
    Signal,
    /// The trader row says STOPPED or REMOVED.
    Stopped(String),
    /// Mode or strategy changed: the process must be recreated (FIX-12).
    Recreate(String),
}

/// Everything the loop owns.
pub struct Trader {
    pub(crate) cfg: Config,
    pub(crate) clock: SharedClock,
    pub(crate) store: Store,
    pub(crate) journal: Journal,
    pub(crate) id: TraderId,
    pub(crate) row: TraderRow,
    pub(crate) mode: Mode,
    pub(crate) version_id: i64,
    /// The strategy version's number (1, 2, …) as operators see it.
    pub(crate) version_number: u32,
    /// AI MODE: the model version run (chosen at start) and its stage then.
    pub(crate) model: Option<(ModelVersionId, ModelStage)>,
    /// This cycle's bandit weight (OPT-4), recorded in its signals.
    pub(crate) bandit: Option<ai::BanditPick>,
    /// An unusable bandit state was reported (once per process).
    pub(crate) bandit_warned: bool,
    pub(crate) evaluator: Evaluator,
    pub(crate) market: MarketData,
    pub(crate) om: OrderManager,
    pub(crate) port: Portfolio,
    pub(crate) guard: RuntimeGuard,
    pub(crate) paper: Option<Arc<PaperExecutor>>,
    pub(crate) scores: BTreeMap<Market, ScoreState>,
    /// The exchange view was reconciled (reads only: no ARM needed). Done
    /// at start, after a database outage and again when armed.
    pub(crate) reconciled: bool,
    /// Records and exchange disagree: no trading (CRITICAL raised).
    pub(crate) halted: Option<String>,
    /// The database failed; everything is re-read when it answers.
    pub(crate) db_down_since: Option<DateTime<Utc>>,
    /// RUN-3: no scoring / entries until then.
    pub(crate) backoff_until: Option<DateTime<Utc>>,
    pub(crate) backoff_level: u32,
    /// The boundary of the last completed cycle.
    pub(crate) last_cycle: Option<DateTime<Utc>>,
    /// The guard state last written to `trader_safety_state`.
    pub(crate) safety_written: Option<SafetyState>,
    /// LIVE: the armed state the loop last acted on (`None` before the
    /// first turn); a change is a DISARM or an ARM, whoever re-read the row.
    pub(crate) arm_seen: Option<bool>,
    /// LIVE, not armed: the current unarmed period began with a DISARM
    /// (rather than with a start before ARM).
    pub(crate) disarmed: bool,
    /// LIVE, not armed: the WARN/INFO event of this unarmed period is written.
    pub(crate) unarmed_noted: bool,
    /// Marks of the last cycle that read the books.
    pub(crate) last_marks: BTreeMap<Market, domain::Price>,
    /// LIVE: the private `myOrder` stream. It only wakes the loop (the
    /// order's REST view stays the record); a drop loses nothing because the
    /// next turn reads every open order again.
    pub(crate) ws: Option<(WsHandle, mpsc::Receiver<WsEvent>)>,
}

impl std::fmt::Debug for Trader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trader")
            .field("id", &self.id)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

async fn connect(url: &str) -> anyhow::Result<Store> {
    let mut wait = Duration::from_millis(500);
    loop {
        match Store::connect(url).await {
            Ok(s) => match s.ping().await {
                Ok(()) => return Ok(s),
                Err(e) => tracing::warn!(error = %e, "database not answering yet"),
            },
            Err(StorageError::UnsupportedUrl { scheme }) => {
                bail!("DATABASE_URL: unsupported scheme {scheme:?} (sqlite:// or mysql://)")
            }
            Err(e) => tracing::warn!(error = %e, "database not reachable yet"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}

async fn wait_for_schema(store: &Store) -> anyhow::Result<()> {
    let mut logged = false;
    loop {
        match store.check_schema().await {
            Ok(()) => return Ok(()),
            Err(StorageError::SchemaBehind { missing }) => {
                if !logged {
                    tracing::warn!(
                        ?missing,
                        "database schema is behind; waiting for the dashboard-api to migrate it"
                    );
                    logged = true;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) if e.is_retryable() => {
                tracing::warn!(error = %e, "schema check failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(e).context("failed to check the database schema"),
        }
    }
}

fn notifier(cfg: &Config) -> SharedNotifier {
    match (
        cfg.telegram_token(),
        cfg.telegram_chat_id
            .as_deref()
            .filter(|c| !c.trim().is_empty()),
    ) {
        (Some(token), Some(chat)) => Arc::new(TelegramNotifier::spawn(TelegramConfig {
            api_url: cfg.telegram_api_url.clone(),
            token,
            chat_id: chat.trim().to_owned(),
            min_level: AlertLevel::Warn,
            min_interval: Duration::from_secs(1),
        })),
        _ => Arc::new(LogNotifier),
    }
}

/// The guard state as the `trader_safety_state` row stores it.
pub(crate) fn safety_row(id: TraderId, g: &GuardSnapshot, now: DateTime<Utc>) -> SafetyState {
    let (kill, reason) = match &g.kill_switch {
        KillSwitch::Off => (false, None),
        KillSwitch::Tripped { cause, .. } => (
            true,
            Some(match cause {
                KillCause::DailyLoss { loss, limit } => {
                    format!(
                        "daily loss {} KRW exceeded the limit {} KRW (RISK-6)",
                        loss.floor_won(),
                        limit.floor_won()
                    )
                }
                KillCause::Manual { operator, reason } => format!("{operator}: {reason}"),
            }),
        ),
    };
    SafetyState {
        trader_id: id,
        trading_day: g.day,
        daily_loss: g.daily_loss,
        consecutive_losses: g.consecutive_losses,
        kill_switch: kill,
        kill_reason: reason,
        blacklist: g.blacklist.clone(),
        updated_at: now,
    }
}

fn snapshot_from_row(s: &SafetyState) -> GuardSnapshot {
    GuardSnapshot {
        day: s.trading_day,
        daily_loss: s.daily_loss,
        consecutive_losses: s.consecutive_losses,
        kill_switch: KillSwitch::restored(s.kill_switch, s.kill_reason.as_deref(), s.updated_at),
        blacklist: s.blacklist.clone(),
    }
}

/// Runs a trader until a signal or a control change; returns why it ended.
pub async fn run(cfg: Config, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<Exit> {
    let clock: SharedClock = match cfg.clock {
        ClockSource::System => SystemClock::shared(),
        ClockSource::Simulator => {
            let (c, _task) = clock::follow(&cfg.upbit_api_url, Duration::from_millis(25))
                .await
                .context("failed to follow the simulator clock")?;
            Arc::new(c)
        }
    };
    let store = connect(&cfg.database_url).await?;
    wait_for_schema(&store).await?;
    let id = cfg.trader_id;
    let row = store
        .traders()
        .get(id)
        .await
        .context("failed to read the trader")?
        .with_context(|| format!("TRADER_ID: trader {id} does not exist"))?;
    if row.state.run == RunState::Removed {
        bail!("TRADER_ID: trader {id} is removed");
    }
    let version = store
        .strategies()
        .latest_version(row.strategy_id)
        .await
        .context("failed to read the strategy")?
        .with_context(|| format!("strategy {} has no version", row.strategy_id))?;
    let stored =
        StrategyDefinition::from_json(&version.definition.to_string()).with_context(|| {
            format!(
                "strategy {} version {} is invalid",
                row.strategy_id, version.version
            )
        })?;
    let mode = row.state.mode;
    let now = clock.now();
    let journal = Journal::new(store.clone(), id, &row.name, notifier(&cfg));
    // AI MODE: the model version this mode may run, chosen once (FIX-12).
    let model = if stored.risk_profile == RiskProfile::AiMode {
        ai::load_model(&store, row.strategy_id, mode)
            .await
            .context("failed to read the model versions")?
    } else {
        None
    };
    let def = match &model {
        None => stored,
        Some(m) => match ai::apply_model(&stored, m) {
            Ok(d) => d,
            Err(e) => {
                let msg = format!(
                    "refusing to start: model version {} ({}) of strategy {} has invalid overrides: {e}",
                    m.id, m.stage, row.strategy_id
                );
                // Awaited: the event is written before the process exits.
                let _ = journal
                    .event(
                        now,
                        EventLevel::Critical,
                        "MODEL_INVALID",
                        msg.clone(),
                        json!({"model_version_id": m.id, "stage": m.stage, "field": e.field}),
                    )
                    .await;
                bail!("{msg}");
            }
        },
    };
    let evaluator = Evaluator::with_builtin_modules(def).context("failed to build the strategy")?;
    if mode == Mode::Paper {
        // STAB-4: the version's 24 h PAPER protection starts with its first PAPER run.
        store
            .strategies()
            .mark_paper_started(version.id, now)
            .await
            .context("failed to start the PAPER protection clock")?;
    }
    let urls = UpbitUrls::new(&cfg.upbit_api_url, &cfg.upbit_ws_url)
        .context("UPBIT_API_URL / UPBIT_WS_URL")?;
    // Rate limits run on the wall clock, whatever time the trader follows.
    let transport = UpbitTransport::new(HttpConfig::with_urls(urls.clone()), SystemClock::shared())
        .context("failed to build the Upbit client")?;
    let mut ws = None;
    let quotes = UpbitClient::new(transport.clone());
    let fee_rate = evaluator.definition().risk.fee_rate;
    let (executor, paper): (Arc<dyn OrderExecutor>, Option<Arc<PaperExecutor>>) = match mode {
        Mode::Paper => {
            let p = Arc::new(PaperExecutor::new(
                quotes.clone(),
                clock.clone(),
                PaperConfig {
                    fee_rate,
                    latency: Duration::from_millis(cfg.paper_latency_ms),
                    ..PaperConfig::default()
                },
            ));
            (p.clone(), Some(p))
        }
        Mode::Live => {
            let cred_id = row
                .credential_id
                .with_context(|| format!("LIVE trader {id} has no credential"))?;
            let key = MasterKey::from_env_or_file(
                cfg.master_key.as_deref(),
                cfg.master_key_file.as_deref(),
            )
            .context("MASTER_KEY / MASTER_KEY_FILE")?;
            let c = store
                .credentials()
                .decrypt(cred_id, &key)
                .await
                .context("failed to decrypt the credential")?;
            let credential =
                Credential::new(c.access_key, c.secret).context("the stored credential")?;
            ws = Some(
                UpbitWebSocket::spawn(
                    WsConfig::private(
                        &urls,
                        credential.clone(),
                        vec![Subscription::my_order(Vec::new())],
                    ),
                    transport.limiter().clone(),
                    clock.clone(),
                )
                .context("failed to start the myOrder stream")?,
            );
            let client = execution::upbit_orders::UpbitOrderClient::new(
                transport.with_credential(credential),
            )
            .context("failed to build the order client")?;
            (
                Arc::new(LiveExecutor::new(client, LiveConfig::default())),
                None,
            )
        }
    };
    let timeout = chrono::Duration::seconds(i64::from(
        evaluator.definition().execution.entry_timeout_secs,
    ));
    let om = OrderManager::new(
        id,
        &row.order_salt,
        executor,
        store.clone(),
        journal.clone(),
        fee_rate,
        timeout,
    );
    let window = evaluator.required_1m_candles() + 10;
    let market = MarketData::new(quotes, window);
    let port = Portfolio::new(id, mode, row.seed_krw);
    let guard = RuntimeGuard::new(row.seed_krw, now);
    let mut t = Trader {
        cfg: cfg.clone(),
        clock: clock.clone(),
        store: store.clone(),
        journal,
        id,
        row,
        mode,
        version_id: version.id,
        version_number: version.version,
        model: model.as_ref().map(|m| (m.id, m.stage)),
        bandit: None,
        bandit_warned: false,
        evaluator,
        market,
        om,
        port,
        guard,
        paper,
        scores: BTreeMap::new(),
        reconciled: false,
        halted: None,
        db_down_since: None,
        backoff_until: None,
        backoff_level: 0,
        last_cycle: None,
        safety_written: None,
        arm_seen: None,
        disarmed: false,
        unarmed_noted: false,
        last_marks: BTreeMap::new(),
        ws,
    };
    t.startup().await?;
    let hb = spawn_heartbeat(
        store,
        id,
        clock.clone(),
        Duration::from_secs(cfg.heartbeat_secs),
    );
    let exit = t.main_loop(&mut shutdown).await;
    t.shutdown(&exit).await;
    if let Some((h, _)) = t.ws.take() {
        h.close().await;
    }
    hb.abort();
    Ok(exit)
}

fn spawn_heartbeat(
    store: Store,
    id: TraderId,
    clock: SharedClock,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = store.traders().heartbeat(id, clock.now()).await {
                tracing::warn!(error = %e, "heartbeat failed");
            }
            tokio::time::sleep(every).await;
        }
    })
}

impl Trader {
    /// The ARM proof from the latest trader row (PAPER needs none).
    pub(crate) fn armed(&self) -> Option<Armed> {
        self.row.state.armed_proof()
    }

    /// True when orders may be sent at all (PAPER, or LIVE and armed).
    pub(crate) fn can_send(&self) -> bool {
        self.mode == Mode::Paper || self.armed().is_some()
    }

    /// True when this trader has any order in its records (then something
    /// of its may rest or have filled on the exchange). A database error
    /// counts as true: the reconciliation that follows reports it.
    async fn has_order_on_record(&self) -> bool {
        self.store
            .orders()
            .list(self.id, 1)
            .await
            .map_or(true, |o| !o.is_empty())
    }

    /// LIVE: acts on a change of the armed flag since the last turn (the
    /// row may have been re-read by the loop or right before an order).
    /// DISARM starts an unarmed period; ARM has the exchange view checked
    /// again before the first create.
    fn arm_transition(&mut self) {
        if self.mode != Mode::Live {
            return;
        }
        let armed = self.armed().is_some();
        match (self.arm_seen, armed) {
            (Some(true), false) => {
                self.disarmed = true;
                self.unarmed_noted = false;
            }
            (Some(false), true) => {
                self.reconciled = false;
                self.disarmed = false;
                self.unarmed_noted = false;
            }
            _ => {}
        }
        self.arm_seen = Some(armed);
    }

    /// LIVE and not armed (FIX-8: no create request): resting entries are
    /// withdrawn (a cancel needs no proof), fills of anything that filled
    /// keep being recorded by the watch, and nothing is placed — exits
    /// included — until armed again. The first turn of an unarmed period
    /// says so, naming the positions left unmanaged.
    async fn while_unarmed(&mut self, now: DateTime<Utc>) -> Result<(), StepError> {
        if !self.reconciled {
            return Ok(());
        }
        let mut fx = Effects::default();
        let r = self.om.cancel_entries(&mut self.port, now, &mut fx).await;
        self.after_effects(fx, now).await;
        let cancelled = r?;
        if self.unarmed_noted && cancelled.is_empty() {
            return Ok(());
        }
        let lots: Vec<serde_json::Value> = self
            .port
            .lots
            .iter()
            .map(|(family, l)| {
                json!({
                    "family": family,
                    "position_id": l.position_id,
                    "market": l.market,
                    "size": l.state.size,
                    "avg_entry_price": l.state.avg_entry_price(),
                    "stop": l.meta.stop,
                })
            })
            .collect();
        let named: Vec<String> = self
            .port
            .lots
            .values()
            .map(|l| format!("{} {}", l.market, l.state.size))
            .collect();
        let unmanaged = if named.is_empty() {
            "no position is open".to_owned()
        } else {
            format!(
                "positions left unmanaged while disarmed (no stop, take-profit or exit is placed): {}",
                named.join(", ")
            )
        };
        let ids: Vec<String> = cancelled.iter().map(ToString::to_string).collect();
        let (level, kind, head) = if self.disarmed {
            (
                EventLevel::Warn,
                "DISARMED",
                "DISARMED: no order request is created until ARMED again (FIX-8)",
            )
        } else {
            (
                if named.is_empty() && ids.is_empty() {
                    EventLevel::Info
                } else {
                    EventLevel::Warn
                },
                "NOT_ARMED",
                "LIVE and not armed: no order request is created until it is ARMED (FIX-8)",
            )
        };
        let msg = if self.unarmed_noted {
            format!(
                "not armed: {} resting entry order(s) cancelled ({}); {unmanaged}",
                ids.len(),
                ids.join(", ")
            )
        } else {
            format!(
                "{head}; {} resting entry order(s) cancelled{}; fills of orders already on the exchange are still recorded; {unmanaged}",
                ids.len(),
                if ids.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", ids.join(", "))
                },
            )
        };
        self.unarmed_noted = true;
        self.journal
            .note(
                now,
                level,
                kind,
                msg,
                json!({"cancelled": ids, "unmanaged": lots}),
            )
            .await;
        Ok(())
    }

    async fn startup(&mut self) -> anyhow::Result<()> {
        let now = self.clock.now();
        let port = reconcile::rebuild_book(
            &self.store,
            &self.journal,
            self.id,
            self.mode,
            self.row.seed_krw,
            now,
        )
        .await;
        match port {
            Ok(p) => self.port = p,
            Err(StepError::Mismatch(m)) => self.halt(&m, now).await,
            Err(e) => return Err(anyhow::anyhow!(e)).context("failed to rebuild the book"),
        }
        let equity = self.port.cash.cash + self.port.lots.values().map(|l| l.state.cost).sum();
        self.guard = match self
            .store
            .safety()
            .get(self.id)
            .await
            .context("failed to read the safety state")?
        {
            Some(s) => RuntimeGuard::restore(
                snapshot_from_row(&s),
                equity,
                now,
                &self.evaluator.definition().risk,
            ),
            None => RuntimeGuard::new(equity, now),
        };
        self.safety_written = self.store.safety().get(self.id).await.ok().flatten();
        self.om
            .load()
            .await
            .context("failed to load the open orders")?;
        if let Some(p) = &self.paper {
            reconcile::restore_paper(&self.store, p, &self.om)
                .await
                .map_err(|e| anyhow::anyhow!(e))
                .context("failed to restore the paper book")?;
        }
        self.journal
            .note(
                now,
                EventLevel::Info,
                "TRADER_STARTED",
                format!(
                    "{} started in {} with strategy {} version {}{}, cash {} KRW, {} open lot(s)",
                    self.row.name,
                    self.mode,
                    self.evaluator.definition().name,
                    self.version_number,
                    match self.model {
                        Some((m, stage)) => format!(" and model version {m} ({stage})"),
                        None if self.evaluator.definition().risk_profile == RiskProfile::AiMode => {
                            " and no deployed model (the stored AI MODE numbers)".to_owned()
                        }
                        None => String::new(),
                    },
                    self.port.cash.cash.get().round_dp(0),
                    self.port.lots.len()
                ),
                json!({
                    "mode": self.mode,
                    "strategy_version": self.version_number,
                    "strategy_version_id": self.version_id,
                    "model_version_id": self.model.map(|(m, _)| m),
                    "model_stage": self.model.map(|(_, s)| s),
                }),
            )
            .await;
        Ok(())
    }

    /// Stops trading: records and exchange disagree (CRITICAL).
    pub(crate) async fn halt(&mut self, why: &str, now: DateTime<Utc>) {
        if self.halted.is_none() {
            self.halted = Some(why.to_owned());
            self.journal
                .note(
                    now,
                    EventLevel::Critical,
                    "RECONCILE_MISMATCH",
                    format!("refusing to trade: {why}"),
                    json!({"reason": why}),
                )
                .await;
        }
    }

    /// Re-reads the trader row; returns why the process must end, if it must.
    pub(crate) async fn reread(&mut self) -> Result<Option<Exit>, StepError> {
        let row = self
            .store
            .traders()
            .get(self.id)
            .await?
            .ok_or_else(|| StepError::Mismatch(format!("trader {} vanished", self.id)))?;
        self.row = row;
        if self.row.state.run != RunState::Running {
            return Ok(Some(Exit::Stopped(format!(
                "run state is {}",
                self.row.state.run
            ))));
        }
        if self.row.state.mode != self.mode {
            return Ok(Some(Exit::Recreate(format!(
                "mode changed to {}",
                self.row.state.mode
            ))));
        }
        let latest = self
            .store
            .strategies()
            .latest_version(self.row.strategy_id)
            .await?
            .map(|v| v.id);
        if latest != Some(self.version_id) {
            return Ok(Some(Exit::Recreate("a new strategy version".to_owned())));
        }
        Ok(None)
    }

    async fn main_loop(&mut self, shutdown: &mut watch::Receiver<bool>) -> Exit {
        let interval = self.cfg.watch_interval();
        loop {
            if *shutdown.borrow() {
                return Exit::Signal;
            }
            if let Some(exit) = self.turn().await {
                return exit;
            }
            tokio::select! {
                _ = shutdown.changed() => return Exit::Signal,
                () = tokio::time::sleep(interval) => {}
                ev = next_ws(&mut self.ws) => self.on_ws(ev).await,
            }
        }
    }

    /// A `myOrder` event of one of ours wakes the loop at once; a lost
    /// connection is logged (the reconnect's gap needs no backfill: every
    /// open order is read again by REST on the next turn).
    async fn on_ws(&mut self, ev: Option<WsEvent>) {
        let now = self.clock.now();
        match ev {
            None => {
                self.ws = None;
                tracing::warn!("myOrder stream ended");
            }
            Some(WsEvent::Message(WsMessage::MyOrder(e))) => {
                tracing::debug!(uuid = %e.uuid, state = ?e.state, "myOrder");
            }
            Some(WsEvent::Disconnected { reason, .. }) => {
                self.journal
                    .note(
                        now,
                        EventLevel::Warn,
                        "WS_DISCONNECTED",
                        format!("myOrder stream lost: {reason}"),
                        json!({}),
                    )
                    .await;
            }
            Some(WsEvent::Reconnected { gap, attempts }) => {
                self.journal
                    .note(
                        now,
                        EventLevel::Info,
                        "WS_RECONNECTED",
                        format!(
                            "myOrder stream back after {attempts} attempt(s); open orders re-read"
                        ),
                        json!({"gap_from": gap.from, "gap_to": gap.to}),
                    )
                    .await;
            }
            Some(_) => {}
        }
    }

    /// One turn of the loop; `Some` ends it.
    async fn turn(&mut self) -> Option<Exit> {
        let now = self.clock.now();
        let _slow = Timing(std::time::Instant::now());
        if self.db_down_since.is_some() && !self.db_recovered(now).await {
            return None;
        }
        match self.reread().await {
            Ok(Some(exit)) => return Some(exit),
            Ok(None) => {}
            Err(e) => {
                self.on_error(e, now).await;
                return None;
            }
        }
        if self.halted.is_some() {
            return None;
        }
        self.arm_transition();
        if self.reconciled {
            let mut fx = Effects::default();
            let r = self.om.sync(&mut self.port, now, &mut fx).await;
            self.after_effects(fx, now).await;
            if let Err(e) = r {
                self.on_error(e, now).await;
                return None;
            }
        } else if !self.can_send() && !self.has_order_on_record().await {
            // LIVE, not armed, and no order was ever recorded: nothing of ours
            // can be on the exchange (an order's intent is stored before it
            // is sent), so no request at all reaches an order endpoint before
            // ARM. The ARM transition has the exchange read before the first
            // create.
            self.reconciled = true;
        } else {
            // Reads only: a LIVE trader with orders on record reconciles
            // whether or not it is armed (it must see fills of what rests).
            match reconcile::reconcile_exchange(&self.store, &mut self.om, &mut self.port, now)
                .await
            {
                Ok(fx) => {
                    self.reconciled = true;
                    self.after_effects(fx, now).await;
                    self.journal
                        .note(
                            now,
                            EventLevel::Info,
                            "RECONCILED",
                            "records and exchange agree",
                            json!({"open_orders": self.om.open().count(), "lots": self.port.lots.len()}),
                        )
                        .await;
                }
                Err(e) => {
                    self.on_error(e, now).await;
                    return None;
                }
            }
        }
        if !self.can_send()
            && let Err(e) = self.while_unarmed(now).await
        {
            self.on_error(e, now).await;
            return None;
        }
        if let Some(boundary) = self.cycle_due(now).await {
            let started = std::time::Instant::now();
            let r = self.cycle(boundary).await;
            tracing::debug!(%boundary, elapsed_ms = started.elapsed().as_millis() as u64, "cycle");
            match r {
                Ok(()) => self.last_cycle = Some(boundary),
                Err(e) => {
                    self.last_cycle = Some(boundary);
                    self.on_error(e, now).await;
                }
            }
        }
        None
    }

    /// The minute boundary to run: once the regime for it is stored (the
    /// collector writes it after the minute's candles are complete), or once
    /// `candle_wait_secs` have passed without it.
    async fn cycle_due(&mut self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let boundary = floor_minute(now);
        if self.last_cycle.is_some_and(|l| l >= boundary) {
            return None;
        }
        if now - boundary >= chrono::Duration::seconds(self.cfg.candle_wait_secs) {
            return Some(boundary);
        }
        match self.store.regimes().latest().await {
            Ok(Some(r)) if r.record.ts >= boundary => Some(boundary),
            Ok(_) => None,
            Err(e) => {
                self.on_error(StepError::Db(e), now).await;
                None
            }
        }
    }

    /// Feeds what the exchange calls reported to the guard and the log.
    pub(crate) async fn after_effects(&mut self, fx: Effects, now: DateTime<Utc>) {
        let params = self.evaluator.definition().risk.clone();
        if fx.exchange_failed || fx.exchange_ok {
            let ok = !fx.exchange_failed;
            self.guard_event(GuardEvent::ApiHealth { ok }, now, &params)
                .await;
        }
        if fx.rate_limited {
            self.rate_limited(now).await;
        }
        for (market, pnl) in fx.closed {
            self.guard_event(GuardEvent::TradeClosed { market, pnl }, now, &params)
                .await;
        }
        for (market, slippage) in fx.slippage {
            self.guard_event(
                GuardEvent::SlippageObserved { market, slippage },
                now,
                &params,
            )
            .await;
        }
        for (kind, message) in fx.warnings {
            self.journal
                .note(now, EventLevel::Warn, kind, message, json!({}))
                .await;
        }
    }

    /// Applies a guard event and logs its effects (alerts on WARN/CRITICAL).
    pub(crate) async fn guard_event(
        &mut self,
        ev: GuardEvent,
        now: DateTime<Utc>,
        params: &risk::RiskParams,
    ) {
        match self.guard.apply(ev, now, params) {
            Ok(t) => {
                for e in t.effects {
                    self.log_guard_effect(&e, now).await;
                }
            }
            Err(e) => tracing::debug!(error = %e, "guard event refused"),
        }
    }

    pub(crate) async fn log_guard_effect(&self, e: &risk::GuardEffect, now: DateTime<Utc>) {
        use risk::GuardEffect as G;
        let (level, kind, msg) = match e {
            G::DayRolled { day, .. } => (
                EventLevel::Info,
                "GUARD_DAY_ROLLED",
                format!("new trading day {day}"),
            ),
            G::KillSwitchTripped { cause } => (
                EventLevel::Critical,
                "KILL_SWITCH",
                format!(
                    "kill switch tripped: {cause:?}; no new entries until a confirmed manual resume (RUN-4)"
                ),
            ),
            G::Resumed { operator } => (
                EventLevel::Warn,
                "KILL_SWITCH_RESUMED",
                format!("resumed by {operator}"),
            ),
            G::ConsecutiveLossBlock { count } => (
                EventLevel::Warn,
                "CONSECUTIVE_LOSSES",
                format!("{count} losing trades in a row: no new entries today (STAB-1)"),
            ),
            G::SlippageAnomaly { market, until } => (
                EventLevel::Warn,
                "SLIPPAGE_ANOMALY",
                format!("slippage anomaly on {market}: no new entries until {until}"),
            ),
            G::HealthChanged { component, ok } => (
                if *ok {
                    EventLevel::Info
                } else {
                    EventLevel::Warn
                },
                if *ok { "HEALTH_OK" } else { "HEALTH_FAILING" },
                format!(
                    "{component} {}",
                    if *ok {
                        "healthy again"
                    } else {
                        "failing: no new entries (STAB-1)"
                    }
                ),
            ),
            G::PanicBlock { active } => (
                EventLevel::Warn,
                "PANIC_BLOCK",
                if *active {
                    "PANIC regime: no new entries (REG-4)".to_owned()
                } else {
                    "PANIC over".to_owned()
                },
            ),
            G::MarketBlacklisted { market, until } => (
                EventLevel::Warn,
                "MARKET_BLACKLISTED",
                format!("{market} failed 3 times: blacklisted until {until} (RUN-1)"),
            ),
        };
        self.journal.note(now, level, kind, msg, json!(e)).await;
    }

    async fn rate_limited(&mut self, now: DateTime<Utc>) {
        self.backoff_level = (self.backoff_level + 1).min(5);
        let minutes = 1_i64 << (self.backoff_level - 1);
        let until = now + chrono::Duration::minutes(minutes);
        self.backoff_until = Some(until);
        self.journal
            .note(
                now,
                EventLevel::Warn,
                "RATE_LIMITED",
                format!("Upbit rate limit hit: scoring and entries pause until {until} (RUN-3)"),
                json!({"until": until, "level": self.backoff_level}),
            )
            .await;
    }

    /// Handles a failed step by its class.
    pub(crate) async fn on_error(&mut self, e: StepError, now: DateTime<Utc>) {
        match e {
            StepError::Db(err @ StorageError::Corrupt { .. }) => {
                self.halt(&format!("a stored row no longer validates: {err}"), now)
                    .await;
            }
            StepError::Db(err) if !crate::error::is_outage(&err) => {
                // The database answered and refused: not an outage, but
                // nothing of this step happened; say so.
                self.journal
                    .note(
                        now,
                        EventLevel::Warn,
                        "STORAGE_REFUSED",
                        format!("a write was refused: {err}"),
                        json!({}),
                    )
                    .await;
            }
            StepError::Db(err) => {
                if self.db_down_since.is_none() {
                    self.db_down_since = Some(now);
                    let params = self.evaluator.definition().risk.clone();
                    // In memory only: the database is what failed.
                    let _ = self
                        .guard
                        .apply(GuardEvent::DbHealth { ok: false }, now, &params);
                    tracing::error!(error = %err, "database failed: no new orders until it answers (RUN-2)");
                    self.journal.alert(
                        AlertLevel::Critical,
                        "DB_UNREACHABLE",
                        &format!("database failed ({err}); no new orders until it answers (RUN-2)"),
                    );
                }
            }
            StepError::Mismatch(m) => self.halt(&m, now).await,
            StepError::Exchange(err) => {
                tracing::warn!(error = %err, "exchange call failed");
                let params = self.evaluator.definition().risk.clone();
                if err.is_rate_limited() {
                    self.rate_limited(now).await;
                } else if err.is_exchange_failure() {
                    self.guard_event(GuardEvent::ApiHealth { ok: false }, now, &params)
                        .await;
                }
            }
            StepError::Quotes(err) => {
                tracing::warn!(error = %err, "quotes failed");
                let params = self.evaluator.definition().risk.clone();
                if err.category() == upbit::ErrorCategory::RateLimited {
                    self.rate_limited(now).await;
                } else if err.is_retryable() {
                    self.guard_event(GuardEvent::ApiHealth { ok: false }, now, &params)
                        .await;
                }
            }
        }
    }

    /// Probes the database; on recovery re-reads everything from it.
    async fn db_recovered(&mut self, now: DateTime<Utc>) -> bool {
        if self.store.ping().await.is_err() {
            return false;
        }
        let since = self.db_down_since.unwrap_or(now);
        let rebuilt = async {
            let port = reconcile::rebuild_book(
                &self.store,
                &self.journal,
                self.id,
                self.mode,
                self.row.seed_krw,
                now,
            )
            .await?;
            self.port = port;
            self.om.load().await?;
            Ok::<(), StepError>(())
        }
        .await;
        if let Err(e) = rebuilt {
            if let StepError::Mismatch(m) = e {
                self.halt(&m, now).await;
            }
            return false;
        }
        self.db_down_since = None;
        self.reconciled = false;
        let params = self.evaluator.definition().risk.clone();
        let _ = self
            .guard
            .apply(GuardEvent::DbHealth { ok: true }, now, &params);
        self.journal
            .note(
                now,
                EventLevel::Warn,
                "DB_RECOVERED",
                format!("database answers again after an outage since {since}; records re-read"),
                json!({"since": since}),
            )
            .await;
        true
    }

    async fn shutdown(&mut self, exit: &Exit) {
        let now = self.clock.now();
        let mut fx = Effects::default();
        if self.halted.is_none() && self.db_down_since.is_none() && self.reconciled {
            // Nobody watches an order once we are gone: cancel and record
            // them (a cancel needs no ARM proof).
            if let Err(e) = self.om.cancel_all(&mut self.port, now, &mut fx).await {
                tracing::warn!(error = %e, "failed to cancel open orders on shutdown");
            }
        }
        self.persist_safety(now).await;
        let msg = match exit {
            Exit::Signal => "stopped by signal".to_owned(),
            Exit::Stopped(r) => format!("stopped: {r}"),
            Exit::Recreate(r) => format!("exiting to be recreated: {r}"),
        };
        self.journal
            .note(
                now,
                EventLevel::Info,
                "TRADER_STOPPED",
                msg,
                json!({"open_orders": self.om.open().count()}),
            )
            .await;
    }

    /// Writes the guard state when it changed; adopts an operator's kill
    /// switch change first (RUN-4: resuming needs a manual write).
    pub(crate) async fn persist_safety(&mut self, now: DateTime<Utc>) {
        let row = safety_row(self.id, &self.guard.snapshot(), now);
        let unchanged = self.safety_written.as_ref().is_some_and(|w| {
            w.kill_switch == row.kill_switch
                && w.daily_loss == row.daily_loss
                && w.consecutive_losses == row.consecutive_losses
                && w.blacklist == row.blacklist
                && w.trading_day == row.trading_day
                && w.kill_reason == row.kill_reason
        });
        if unchanged {
            return;
        }
        // An operator's kill-switch change since our last write wins: it is
        // adopted at the next cycle instead of being overwritten now.
        if let (Ok(Some(stored)), Some(ours)) = (
            self.store.safety().get(self.id).await,
            self.safety_written.as_ref(),
        ) && stored.kill_switch != ours.kill_switch
        {
            return;
        }
        if self.store.safety().put(&row).await.is_ok() {
            self.safety_written = Some(row);
        }
    }

    /// An operator's change to the kill switch in `trader_safety_state`.
    pub(crate) async fn adopt_operator_safety(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<(), StepError> {
        let Some(stored) = self.store.safety().get(self.id).await? else {
            return Ok(());
        };
        let ours = self.safety_written.as_ref().map(|w| w.kill_switch);
        if ours == Some(stored.kill_switch) || ours.is_none() && !stored.kill_switch {
            return Ok(());
        }
        let params = self.evaluator.definition().risk.clone();
        let ev = if stored.kill_switch {
            GuardEvent::TripKillSwitch {
                operator: "operator".to_owned(),
                reason: stored
                    .kill_reason
                    .clone()
                    .unwrap_or_else(|| "manual".to_owned()),
            }
        } else {
            GuardEvent::ManualResume {
                operator: "operator".to_owned(),
                confirmed: true,
            }
        };
        self.guard_event(ev, now, &params).await;
        self.safety_written = Some(stored);
        Ok(())
    }

    /// RUN-4's optional liquidation: the operator's kill reason asks for it.
    pub(crate) fn liquidate(&self) -> bool {
        match self.guard.kill_switch() {
            KillSwitch::Tripped {
                cause: KillCause::Manual { reason, .. },
                ..
            } => risk::asks_liquidation(reason),
            _ => false,
        }
    }
}

/// The next event of the stream, or never when there is none.
async fn next_ws(ws: &mut Option<(WsHandle, mpsc::Receiver<WsEvent>)>) -> Option<WsEvent> {
    match ws {
        Some((_, rx)) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Logs slow turns at debug level.
struct Timing(std::time::Instant);

impl Drop for Timing {
    fn drop(&mut self) {
        let ms = self.0.elapsed().as_millis();
        if ms > 50 {
            tracing::debug!(elapsed_ms = ms as u64, "slow turn");
        }
    }
}

/// The start of the minute containing `t`.
pub fn floor_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let ms = t.timestamp_millis().div_euclid(60_000) * 60_000;
    DateTime::from_timestamp_millis(ms).unwrap_or(t)
}
