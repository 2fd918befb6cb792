//! Order handling (EXE-1) on top of the executor: every order is persisted
//! as an intent before it is sent (so a crash can never leave an order we do
//! not know about), carries a unique identifier per attempt, is watched until
//! it is final, has its fills recorded exactly once (idempotent on the trade
//! uuid) and mirrored into the book, and — for a resting entry — is
//! cancelled when it times out.
//!
//! An order family is one lot: the entry's tranches and the lot's exits all
//! use the family's intent id with their own attempt numbers (see
//! `portfolio`). The same code runs for PAPER and LIVE; only the executor
//! behind `dyn OrderExecutor` differs.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Duration, Utc};
use domain::{
    Armed, Fill, Krw, Market, OrdType, OrderIdentifier, OrderRequest, Price, Side, TraderId,
    ValidationError, Volume,
};
use execution::{ExecError, ExecOrder, OrderExecutor, new_fills};
use risk::RiskApproved;
use rust_decimal::Decimal;
use serde_json::json;
use storage::{
    StorageError, Store,
    events::EventLevel,
    orders::{Attempt, Inserted, OrderRecord, OrderStatus, OrderUpdate},
    positions::PositionEventKind,
};

use crate::{
    error::StepError,
    journal::Journal,
    portfolio::{EntryMeta, ExitMeta, Portfolio, Write},
};

/// What an order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An entry tranche; the plan's stop for a new lot.
    Entry(Option<EntryMeta>),
    /// An exit of a lot.
    Exit(ExitMeta),
}

/// An order being watched.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The stored order.
    pub record: OrderRecord,
    /// What it is for.
    pub purpose: Purpose,
    /// Cancel the rest after this (resting entries).
    pub deadline: Option<DateTime<Utc>>,
    /// When a cancel was last requested.
    pub cancel_requested: Option<DateTime<Utc>>,
    /// The price the decision expected (for slippage, STAB-1).
    pub expected: Option<Price>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The exchange accepted it (fills may follow).
    Placed,
    /// Refused or failed; nothing was created. `retryable`: a new attempt may succeed.
    Failed {
        /// A retry can help (5xx, 429).
        retryable: bool,
        /// Rate limited (RUN-3).
        rate_limited: bool,
        /// The exchange itself failed (API health).
        exchange_failure: bool,
        /// Why.
        message: String,
    },
    /// The outcome is unknown; it stays an intent until a lookup settles it.
    Unknown,
}

/// Things the loop feeds to the runtime guard and the action log.
#[derive(Debug, Default, Clone)]
pub struct Effects {
    /// Round trips closed: market and net PnL.
    pub closed: Vec<(Market, Krw)>,
    /// Adverse slippage of fills versus their expected price.
    pub slippage: Vec<(Market, Decimal)>,
    /// An exchange call failed transiently.
    pub exchange_failed: bool,
    /// An exchange call succeeded.
    pub exchange_ok: bool,
    /// A rate limit was hit (RUN-3).
    pub rate_limited: bool,
    /// Things to tell the operator: event kind and message (WARN).
    pub warnings: Vec<(&'static str, String)>,
}

/// One part of an order to place: how to build its request once the
/// identifier is allocated.
pub struct Part {
    /// Builds the request for the allocated identifier.
    pub build: Box<dyn Fn(OrderIdentifier) -> Result<OrderRequest, ValidationError> + Send + Sync>,
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Part")
    }
}

/// Watches and places one trader's orders.
#[derive(Debug)]
pub struct OrderManager {
    trader: TraderId,
    prefix: String,
    executor: Arc<dyn OrderExecutor>,
    store: Store,
    journal: Journal,
    open: BTreeMap<OrderIdentifier, Tracked>,
    next_attempt: BTreeMap<i64, u32>,
    fee_rate: Decimal,
    entry_timeout: Duration,
}

/// A cancel request is repeated when the order is still open this long after it.
const CANCEL_REPEAT: Duration = Duration::seconds(30);
/// First attempt number of exit orders within a family.
pub const EXIT_ATTEMPTS_FROM: u32 = 100;

fn to_status(s: domain::OrderState) -> OrderStatus {
    OrderStatus::from(s)
}

impl OrderManager {
    /// A manager for `trader` whose identifiers start with `t{trader}-{salt}-`.
    pub fn new(
        trader: TraderId,
        salt: &str,
        executor: Arc<dyn OrderExecutor>,
        store: Store,
        journal: Journal,
        fee_rate: Decimal,
        entry_timeout: Duration,
    ) -> Self {
        Self {
            trader,
            prefix: format!("t{trader}-{salt}-"),
            executor,
            store,
            journal,
            open: BTreeMap::new(),
            next_attempt: BTreeMap::new(),
            fee_rate,
            entry_timeout,
        }
    }

    /// The trader.
    pub fn trader(&self) -> TraderId {
        self.trader
    }

    /// The identifier prefix of this trader's orders (its sub-ledger key).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The executor.
    pub fn executor(&self) -> &Arc<dyn OrderExecutor> {
        &self.executor
    }

    /// A placeholder identifier for approving an order before its intent
    /// exists (intent 0 is never allocated); the approval is re-issued
    /// under the real identifier.
    pub fn provisional(&self) -> Result<OrderIdentifier, ValidationError> {
        OrderIdentifier::parse("identifier", &format!("{}0-0", self.prefix))
    }

    /// (Re)loads the open orders and attempt counters from the database.
    pub async fn load(&mut self) -> Result<(), StepError> {
        self.open.clear();
        for r in self.store.orders().list(self.trader, 10_000).await? {
            let next = self.next_attempt.entry(r.intent_id).or_insert(0);
            *next = (*next).max(r.attempt + 1);
        }
        for r in self.store.orders().list_open(self.trader).await? {
            let purpose = match r.side {
                Side::Bid => Purpose::Entry(None),
                Side::Ask => Purpose::Exit(ExitMeta::default()),
            };
            let deadline = (r.side == Side::Bid).then(|| r.created_at + self.entry_timeout);
            self.open.insert(
                r.identifier.clone(),
                Tracked {
                    record: r,
                    purpose,
                    deadline,
                    cancel_requested: None,
                    expected: None,
                },
            );
        }
        Ok(())
    }

    /// Orders being watched.
    pub fn open(&self) -> impl Iterator<Item = &Tracked> {
        self.open.values()
    }

    /// True when an order on `market` and `side` is open (or unresolved).
    pub fn has_open(&self, market: &Market, side: Side) -> bool {
        self.open
            .values()
            .any(|t| &t.record.market == market && t.record.side == side)
    }

    /// True when an exit of `family` is open.
    pub fn has_open_exit(&self, family: i64) -> bool {
        self.open
            .values()
            .any(|t| t.record.intent_id == family && t.record.side == Side::Ask)
    }

    /// KRW committed to open buys (what is not yet filled, fee included).
    pub fn reserved(&self) -> Krw {
        self.open
            .values()
            .filter(|t| t.record.side == Side::Bid)
            .map(|t| {
                let r = &t.record;
                let krw = match (r.ord_type, r.price, r.volume) {
                    (OrdType::Limit, Some(p), Some(v)) => {
                        p * v.checked_sub(r.executed_volume).unwrap_or(Volume::ZERO)
                    }
                    (OrdType::Price, Some(total), _) => {
                        (Krw::from_decimal(total.get()) - r.executed_funds).max(Krw::ZERO)
                    }
                    _ => Krw::ZERO,
                };
                krw + krw.times(self.fee_rate)
            })
            .sum()
    }

    fn take_attempt(&mut self, family: i64) -> u32 {
        let n = self.next_attempt.entry(family).or_insert(0);
        let a = *n;
        *n += 1;
        a
    }

    /// Places `approved` as `parts` (tranches; one part for a plain order)
    /// in order family `family` (`None`: a new family, i.e. a new lot).
    /// Every part's intent is stored before anything is sent; the approval
    /// is re-issued under the allocated identifiers. Returns each part's
    /// outcome and the family.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site per order kind; a struct would only rename them"
    )]
    pub async fn place(
        &mut self,
        armed: Option<Armed>,
        port: &mut Portfolio,
        family: Option<i64>,
        parts: Vec<Part>,
        approved: RiskApproved<OrderRequest>,
        purpose: Purpose,
        expected: Option<Price>,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<(i64, Vec<AttemptOutcome>), StepError> {
        let mut family = family;
        let mut records: Vec<OrderRecord> = Vec::new();
        let mut requests: Vec<OrderRequest> = Vec::new();
        for part in parts {
            let attempt = match family {
                None => Attempt::First,
                Some(f) => {
                    let floor = if matches!(purpose, Purpose::Exit(_)) {
                        EXIT_ATTEMPTS_FROM
                    } else {
                        0
                    };
                    let n = self.next_attempt.entry(f).or_insert(0);
                    if *n < floor {
                        *n = floor;
                    }
                    Attempt::Retry {
                        intent_id: f,
                        attempt: self.take_attempt(f).max(1),
                    }
                }
            };
            let mut built: Option<OrderRequest> = None;
            let mut attempt = attempt;
            let mut tries = 0;
            let rec = loop {
                let r = self
                    .store
                    .orders()
                    .insert_intent(self.trader, attempt, now, |id| {
                        let r = (part.build)(id)?;
                        built = Some(r.clone());
                        Ok(r)
                    })
                    .await;
                match (r, attempt) {
                    // An attempt number we did not know was taken (a family
                    // older than the orders loaded at start): take the next.
                    (
                        Err(StorageError::Conflict {
                            field: "attempt", ..
                        }),
                        Attempt::Retry { intent_id, .. },
                    ) if tries < 100 => {
                        tries += 1;
                        attempt = Attempt::Retry {
                            intent_id,
                            attempt: self.take_attempt(intent_id).max(1),
                        };
                    }
                    (r, _) => break r?,
                }
            };
            if family.is_none() {
                family = Some(rec.intent_id);
                self.next_attempt.insert(rec.intent_id, 1);
            }
            let Some(req) = built else {
                return Err(StepError::Mismatch(
                    "an intent was stored without its request".to_owned(),
                ));
            };
            records.push(rec);
            requests.push(req);
        }
        let fam = family.ok_or_else(|| StepError::Mismatch("an order without parts".to_owned()))?;
        let approvals = match approved.reissue(requests) {
            Ok(a) => a,
            Err(e) => {
                for r in &records {
                    self.fail(r, &format!("not approved: {e}"), now).await?;
                }
                return Ok((
                    fam,
                    vec![
                        AttemptOutcome::Failed {
                            retryable: false,
                            rate_limited: false,
                            exchange_failure: false,
                            message: e.to_string(),
                        };
                        records.len()
                    ],
                ));
            }
        };
        let mut outcomes = Vec::with_capacity(records.len());
        for (rec, approval) in records.into_iter().zip(approvals) {
            let deadline = (rec.side == Side::Bid && rec.ord_type == OrdType::Limit)
                .then(|| now + self.entry_timeout);
            let tracked = Tracked {
                record: rec,
                purpose,
                deadline,
                cancel_requested: None,
                expected,
            };
            outcomes.push(
                self.attempt(armed, port, tracked, approval, now, fx)
                    .await?,
            );
        }
        Ok((fam, outcomes))
    }

    async fn fail(
        &self,
        rec: &OrderRecord,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StepError> {
        self.store
            .orders()
            .update_state(
                &rec.identifier,
                &OrderUpdate {
                    uuid: None,
                    status: OrderStatus::Failed,
                    executed_volume: Volume::ZERO,
                    executed_funds: Krw::ZERO,
                    paid_fee: Krw::ZERO,
                    error: Some(message.to_owned()),
                },
                now,
            )
            .await?;
        Ok(())
    }

    async fn attempt(
        &mut self,
        armed: Option<Armed>,
        port: &mut Portfolio,
        tracked: Tracked,
        approval: RiskApproved<OrderRequest>,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<AttemptOutcome, StepError> {
        let id = tracked.record.identifier.clone();
        let market = tracked.record.market.clone();
        match self.executor.submit(armed, approval).await {
            Ok(exec) => {
                fx.exchange_ok = true;
                self.journal
                    .note(
                        now,
                        EventLevel::Info,
                        "ORDER_PLACED",
                        format!(
                            "{} {} {} {} at {}",
                            tracked.record.side,
                            tracked.record.ord_type,
                            market,
                            tracked
                                .record
                                .volume
                                .map_or_else(|| "-".to_owned(), |v| v.to_string()),
                            tracked
                                .record
                                .price
                                .map_or_else(|| "market".to_owned(), |p| p.to_string())
                        ),
                        json!({"identifier": id, "uuid": exec.uuid}),
                    )
                    .await;
                self.open.insert(id.clone(), tracked);
                self.record(port, &id, &exec, now, fx).await?;
                if self.open.contains_key(&id) && (exec.trades.is_none() || !exec.is_final()) {
                    // The create answer predates matching: read the fills now.
                    self.refresh(port, &id, now, fx).await?;
                }
                Ok(AttemptOutcome::Placed)
            }
            Err(ExecError::Unknown { message }) => {
                fx.exchange_failed = true;
                self.journal
                    .note(
                        now,
                        EventLevel::Warn,
                        "ORDER_UNKNOWN",
                        format!("{id}: outcome unknown ({message}); it will be looked up"),
                        json!({"identifier": id}),
                    )
                    .await;
                self.open.insert(id, tracked);
                Ok(AttemptOutcome::Unknown)
            }
            Err(e) => {
                if e.is_exchange_failure() {
                    fx.exchange_failed = true;
                }
                if e.is_rate_limited() {
                    fx.rate_limited = true;
                }
                self.fail(&tracked.record, &e.to_string(), now).await?;
                self.journal
                    .note(
                        now,
                        EventLevel::Warn,
                        "ORDER_FAILED",
                        format!("{id} on {market} failed: {e}"),
                        json!({"identifier": id, "market": market}),
                    )
                    .await;
                Ok(AttemptOutcome::Failed {
                    retryable: e.is_retryable(),
                    rate_limited: e.is_rate_limited(),
                    exchange_failure: e.is_exchange_failure(),
                    message: e.to_string(),
                })
            }
        }
    }

    /// Reads one watched order from the exchange and records what changed.
    async fn refresh(
        &mut self,
        port: &mut Portfolio,
        id: &OrderIdentifier,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        match self.executor.fetch(id).await {
            Ok(Some(exec)) => {
                fx.exchange_ok = true;
                self.record(port, id, &exec, now, fx).await
            }
            Ok(None) => {
                fx.exchange_ok = true;
                let Some(t) = self.open.get(id) else {
                    return Ok(());
                };
                if t.record.status == OrderStatus::Intent {
                    // Never reached the exchange (the identifier is burnt either way).
                    let rec = t.record.clone();
                    self.fail(&rec, "never reached the exchange", now).await?;
                    self.open.remove(id);
                    Ok(())
                } else {
                    Err(StepError::Mismatch(format!(
                        "order {id} is {} in our records but unknown to the exchange",
                        t.record.status
                    )))
                }
            }
            Err(e) => {
                if e.is_exchange_failure() {
                    fx.exchange_failed = true;
                }
                if e.is_rate_limited() {
                    fx.rate_limited = true;
                }
                tracing::warn!(identifier = %id, error = %e, "order refresh failed");
                Ok(())
            }
        }
    }

    /// Records an exchange snapshot of a watched order: new fills (each with
    /// its order state, one transaction per fill), their book writes, and a
    /// final state. A snapshot whose fill list does not add up yet is left
    /// for the next refresh.
    async fn record(
        &mut self,
        port: &mut Portfolio,
        id: &OrderIdentifier,
        exec: &ExecOrder,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        let Some(t) = self.open.get(id).cloned() else {
            return Ok(());
        };
        if exec.market != t.record.market || exec.side != t.record.side {
            return Err(StepError::Mismatch(format!(
                "order {id}: the exchange has {} {}, we stored {} {}",
                exec.side, exec.market, t.record.side, t.record.market
            )));
        }
        let recorded: Vec<Fill> = self
            .store
            .fills()
            .list_for_order(id)
            .await?
            .into_iter()
            .map(|f| f.fill)
            .collect();
        let fresh = match new_fills(exec, &recorded) {
            Ok(f) => f,
            Err(e) => {
                if let Some(err) = StepError::from_fills(&e) {
                    return Err(err);
                }
                // Not complete yet: keep the uuid and wait for the fill list.
                if t.record.uuid.is_none() && recorded.is_empty() && exec.executed_volume.is_zero()
                {
                    self.store_state(&t.record, exec, to_status(exec.state), now)
                        .await?;
                }
                if let Some(tr) = self.open.get_mut(id)
                    && tr.record.status == OrderStatus::Intent
                {
                    tr.record.status = OrderStatus::Wait;
                    tr.record.uuid = Some(exec.uuid.clone());
                }
                return Ok(());
            }
        };
        let mut cum_volume = recorded.iter().fold(Volume::ZERO, |a, f| a + f.volume);
        let mut cum_funds: Krw = recorded.iter().map(|f| f.funds).sum();
        let mut cum_fee: Krw = recorded.iter().map(|f| f.fee).sum();
        let final_status = to_status(exec.state);
        let n = fresh.len();
        for (i, fill) in fresh.iter().enumerate() {
            cum_volume += fill.volume;
            cum_funds += fill.funds;
            cum_fee += fill.fee;
            let status = if i + 1 == n {
                final_status
            } else {
                OrderStatus::Wait
            };
            let inserted = self
                .store
                .orders()
                .apply_fill(
                    self.trader,
                    fill,
                    &OrderUpdate {
                        uuid: Some(exec.uuid.clone()),
                        status,
                        executed_volume: cum_volume,
                        executed_funds: cum_funds,
                        paid_fee: cum_fee,
                        error: None,
                    },
                    now,
                )
                .await?;
            let Inserted::New(fill_id) = inserted else {
                continue;
            };
            self.on_fill(port, &t, fill_id, fill, now, fx).await?;
        }
        let status = to_status(exec.state);
        if n == 0 && (t.record.status != status || t.record.uuid.is_none()) {
            self.store_state(&t.record, exec, status, now).await?;
        }
        if let Some(tr) = self.open.get_mut(id) {
            tr.record.status = status;
            tr.record.uuid = Some(exec.uuid.clone());
            tr.record.executed_volume = exec.executed_volume;
            tr.record.executed_funds = exec.executed_funds;
            tr.record.paid_fee = exec.paid_fee;
        }
        if exec.is_final() {
            self.open.remove(id);
            if exec.state == domain::OrderState::Cancel {
                self.journal
                    .note(
                        now,
                        EventLevel::Info,
                        "ORDER_CANCELLED",
                        format!(
                            "{id} on {} ended with {} executed",
                            exec.market, exec.executed_volume
                        ),
                        json!({"identifier": id, "executed_volume": exec.executed_volume}),
                    )
                    .await;
            }
        }
        Ok(())
    }

    async fn store_state(
        &self,
        rec: &OrderRecord,
        exec: &ExecOrder,
        status: OrderStatus,
        now: DateTime<Utc>,
    ) -> Result<(), StepError> {
        self.store
            .orders()
            .update_state(
                &rec.identifier,
                &OrderUpdate {
                    uuid: Some(exec.uuid.clone()),
                    status,
                    executed_volume: rec.executed_volume,
                    executed_funds: rec.executed_funds,
                    paid_fee: rec.paid_fee,
                    error: None,
                },
                now,
            )
            .await?;
        Ok(())
    }

    async fn on_fill(
        &mut self,
        port: &mut Portfolio,
        t: &Tracked,
        fill_id: i64,
        fill: &Fill,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        let (entry, exit) = match t.purpose {
            Purpose::Entry(e) => (e, None),
            Purpose::Exit(x) => (None, Some(x)),
        };
        if let Some(exp) = t.expected {
            let e = exp.get();
            let slip = match fill.side {
                Side::Bid => (fill.price.get() - e) / e,
                Side::Ask => (e - fill.price.get()) / e,
            };
            fx.slippage.push((fill.market.clone(), slip));
        }
        self.journal
            .note(
                now,
                EventLevel::Info,
                "ORDER_FILLED",
                format!(
                    "{} {} {} at {} (fee {})",
                    fill.side, fill.volume, fill.market, fill.price, fill.fee
                ),
                json!({"identifier": fill.identifier, "trade_uuid": fill.trade_uuid,
                       "price": fill.price, "volume": fill.volume, "fee": fill.fee}),
            )
            .await;
        if let Some(w) = port.apply(fill_id, fill, entry, exit)? {
            perform(&self.store, &self.journal, port, w, now, fx).await?;
        }
        Ok(())
    }

    /// Watches every open order once: records fills, cancels entries past
    /// their deadline, settles unknown outcomes. Reads and cancels need no
    /// ARM proof, so this runs whether or not a LIVE trader is armed.
    pub async fn sync(
        &mut self,
        port: &mut Portfolio,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        let ids: Vec<OrderIdentifier> = self.open.keys().cloned().collect();
        for id in ids {
            self.refresh(port, &id, now, fx).await?;
            let Some(t) = self.open.get(&id) else {
                continue;
            };
            let due = t.deadline.is_some_and(|d| now >= d)
                && t.record.status != OrderStatus::Intent
                && t.cancel_requested.is_none_or(|c| now - c >= CANCEL_REPEAT);
            if due {
                self.cancel(port, &id, now, fx).await?;
            }
        }
        Ok(())
    }

    /// Cancels one open order and records the answer.
    pub async fn cancel(
        &mut self,
        port: &mut Portfolio,
        id: &OrderIdentifier,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        if let Some(t) = self.open.get_mut(id) {
            t.cancel_requested = Some(now);
        }
        match self.executor.cancel(id).await {
            Ok(_) | Err(ExecError::NotFound { .. }) => {
                fx.exchange_ok = true;
                // The answer is the pre-cancel view; read the outcome.
                self.refresh(port, id, now, fx).await
            }
            Err(e) => {
                if e.is_exchange_failure() {
                    fx.exchange_failed = true;
                }
                if e.is_rate_limited() {
                    fx.rate_limited = true;
                }
                tracing::warn!(identifier = %id, error = %e, "cancel failed; retried later");
                Ok(())
            }
        }
    }

    /// Cancels every resting entry (a LIVE trader that is not armed: FIX-8
    /// lets it withdraw, never add). Intents are left to the watch (their
    /// outcome is looked up first); a cancel already requested is repeated
    /// after [`CANCEL_REPEAT`]. Returns the orders cancelled for the first time.
    pub async fn cancel_entries(
        &mut self,
        port: &mut Portfolio,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<Vec<OrderIdentifier>, StepError> {
        let due: Vec<(OrderIdentifier, bool)> = self
            .open
            .iter()
            .filter(|(_, t)| t.record.side == Side::Bid && t.record.status != OrderStatus::Intent)
            .filter(|(_, t)| t.cancel_requested.is_none_or(|c| now - c >= CANCEL_REPEAT))
            .map(|(k, t)| (k.clone(), t.cancel_requested.is_none()))
            .collect();
        let mut first = Vec::new();
        for (id, is_first) in due {
            self.cancel(port, &id, now, fx).await?;
            if is_first {
                first.push(id);
            }
        }
        Ok(first)
    }

    /// Cancels every open order (graceful shutdown, kill switch).
    pub async fn cancel_all(
        &mut self,
        port: &mut Portfolio,
        now: DateTime<Utc>,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        let ids: Vec<OrderIdentifier> = self
            .open
            .iter()
            .filter(|(_, t)| t.record.status != OrderStatus::Intent)
            .map(|(k, _)| k.clone())
            .collect();
        for id in ids {
            self.cancel(port, &id, now, fx).await?;
        }
        Ok(())
    }

    /// Every watched identifier (reconciliation).
    pub fn watched(&self) -> Vec<OrderIdentifier> {
        self.open.keys().cloned().collect()
    }

    /// Starts watching a stored order (reconciliation adopts one).
    pub fn watch(&mut self, record: OrderRecord) {
        let purpose = match record.side {
            Side::Bid => Purpose::Entry(None),
            Side::Ask => Purpose::Exit(ExitMeta::default()),
        };
        let deadline = (record.side == Side::Bid).then(|| record.created_at + self.entry_timeout);
        self.open.insert(
            record.identifier.clone(),
            Tracked {
                record,
                purpose,
                deadline,
                cancel_requested: None,
                expected: None,
            },
        );
    }
}

/// Performs one book write and logs it; a closed round trip is reported
/// for the runtime guard.
pub async fn perform(
    store: &Store,
    journal: &Journal,
    port: &mut Portfolio,
    w: Write,
    now: DateTime<Utc>,
    fx: &mut Effects,
) -> Result<(), StepError> {
    match w {
        Write::Open { family, position } => {
            let id = store.positions().open(&position, now).await?;
            port.opened(family, id);
            journal
                .note(
                    now,
                    EventLevel::Info,
                    "POSITION_OPENED",
                    format!(
                        "{} {} at {} (stop {})",
                        position.market,
                        position.size,
                        position.avg_entry_price,
                        position.stop_price
                    ),
                    json!({"position_id": id, "family": family, "cost_krw": position.cost_krw}),
                )
                .await;
        }
        Write::Update { id, position, .. } => {
            store
                .positions()
                .update(id, &position, PositionEventKind::Update, now)
                .await?;
        }
        Write::Close {
            family,
            id,
            trade,
            remaining,
            round_trip_pnl,
        } => {
            store
                .positions()
                .close(id, &trade, remaining.as_ref(), now)
                .await?;
            let (kind, what) = if remaining.is_some() {
                ("POSITION_REDUCED", "reduced")
            } else {
                ("POSITION_CLOSED", "closed")
            };
            journal
                .note(
                    now,
                    EventLevel::Info,
                    kind,
                    format!(
                        "{} {what}: sold {} at {}, PnL {} KRW",
                        trade.market,
                        trade.size,
                        trade.exit_price,
                        trade.pnl.get().round_dp(2)
                    ),
                    json!({"position_id": id, "family": family, "pnl": trade.pnl}),
                )
                .await;
            if let Some(pnl) = round_trip_pnl {
                fx.closed.push((trade.market.clone(), pnl));
            }
        }
    }
    Ok(())
}
