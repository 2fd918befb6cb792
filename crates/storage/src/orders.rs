//! Orders and fills (EXE-1, AUD-1).
//!
//! `orders` is the current view of every order attempt, keyed by its unique
//! client identifier; `order_events` is the append-only history of every
//! state it went through; `fills` is append-only and idempotent on the
//! exchange's trade uuid. An order intent is persisted *before* anything is
//! sent: [`Orders::insert_intent`] allocates the intent id, builds the
//! identifier from it (`t{trader}-{salt}-{intent}-{attempt}`), lets the
//! caller build the validated `OrderRequest` with it, and stores both.

use chrono::{DateTime, Utc};

use domain::{
    Fill, Krw, Market, OrdType, OrderIdentifier, OrderRequest, OrderState, Price, Side,
    TimeInForce, TraderId, ValidationError, Volume,
};

use crate::{
    StorageError, Store,
    db::{
        BeginWrite, InsertedId, Sql2,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
        text_enum,
    },
    error::{is_unique_violation, on_unique},
};

text_enum!(
    /// Where an order stands. `intent` precedes the exchange; `wait`,
    /// `watch`, `done` and `cancel` are Upbit's states; `failed` means the
    /// exchange refused it (or it was never sent).
    OrderStatus, "status" {
        /// Persisted, not yet acknowledged by the exchange.
        Intent => "intent",
        /// Open on the exchange (also while partly filled).
        Wait => "wait",
        /// Reserved order waiting for its trigger.
        Watch => "watch",
        /// Completely filled.
        Done => "done",
        /// Cancelled (possibly after partial fills).
        Cancel => "cancel",
        /// Refused by the exchange or abandoned before sending.
        Failed => "failed",
    }
);

impl OrderStatus {
    /// True once nothing more can happen to the order.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Cancel | Self::Failed)
    }
}

impl From<OrderState> for OrderStatus {
    fn from(s: OrderState) -> Self {
        match s {
            OrderState::Wait => Self::Wait,
            OrderState::Watch => Self::Watch,
            OrderState::Done => Self::Done,
            OrderState::Cancel => Self::Cancel,
        }
    }
}

/// Which attempt of which intent an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// A new intent (attempt 0).
    First,
    /// A retry of an existing intent (RUN-1: up to 3 retries).
    Retry {
        /// The intent being retried (its first attempt's `intent_id`).
        intent_id: i64,
        /// Attempt number, ≥ 1.
        attempt: u32,
    },
}

/// A stored order attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// Row id.
    pub id: i64,
    /// The intent it belongs to.
    pub intent_id: i64,
    /// 0 for the first attempt.
    pub attempt: u32,
    /// Owner.
    pub trader_id: TraderId,
    /// Unique client identifier.
    pub identifier: OrderIdentifier,
    /// The exchange's order uuid, once known.
    pub uuid: Option<String>,
    /// Market.
    pub market: Market,
    /// Side.
    pub side: Side,
    /// Upbit order type.
    pub ord_type: OrdType,
    /// Time in force.
    pub time_in_force: Option<TimeInForce>,
    /// Limit price, or the KRW total of a market buy.
    pub price: Option<Price>,
    /// Volume (limit orders and market sells).
    pub volume: Option<Volume>,
    /// Current status.
    pub status: OrderStatus,
    /// Volume executed so far.
    pub executed_volume: Volume,
    /// KRW executed so far (Σ price × volume of the fills).
    pub executed_funds: Krw,
    /// Fees paid so far.
    pub paid_fee: Krw,
    /// Last error text from the exchange, if any.
    pub error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl OrderRecord {
    /// Average execution price, when anything executed.
    pub fn avg_price(&self) -> Option<Price> {
        if self.executed_volume.is_zero() {
            return None;
        }
        let avg = self.executed_funds.get() / self.executed_volume.get();
        Price::new(avg).ok()
    }
}

/// A new state of an order, as the exchange (or the PAPER executor) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// The exchange uuid (kept when None).
    pub uuid: Option<String>,
    /// New status.
    pub status: OrderStatus,
    /// Cumulative executed volume (must not decrease).
    pub executed_volume: Volume,
    /// Cumulative executed KRW.
    pub executed_funds: Krw,
    /// Cumulative fees.
    pub paid_fee: Krw,
    /// Error text (clipped to [`ERROR_MAX`] characters).
    pub error: Option<String>,
}

/// One entry of an order's append-only history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEventRecord {
    /// Row id.
    pub id: i64,
    /// The order row.
    pub order_id: i64,
    /// Owner.
    pub trader_id: TraderId,
    /// Identifier.
    pub identifier: OrderIdentifier,
    /// When.
    pub ts: DateTime<Utc>,
    /// Status entered.
    pub status: OrderStatus,
    /// Exchange uuid at that point.
    pub uuid: Option<String>,
    /// Cumulative executed volume.
    pub executed_volume: Volume,
    /// Cumulative executed KRW.
    pub executed_funds: Krw,
    /// Cumulative fees.
    pub paid_fee: Krw,
    /// Error text.
    pub error: Option<String>,
}

/// Result of an idempotent insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored now, with this row id.
    New(i64),
    /// Already stored earlier; nothing was written.
    Duplicate,
}

/// A stored fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRecord {
    /// Row id.
    pub id: i64,
    /// Owner.
    pub trader_id: TraderId,
    /// The fill.
    pub fill: Fill,
}

/// Longest stored error text; longer exchange messages are clipped.
pub const ERROR_MAX: usize = 2000;
/// Longest exchange uuid.
pub const UUID_MAX: usize = 64;

macro_rules! order_cols {
    () => {
        "id, intent_id, attempt, trader_id, identifier, uuid, market, side, ord_type, time_in_force, \
         price, volume, status, executed_volume, executed_funds, paid_fee, error, created_at, updated_at"
    };
}

const TRADER_SALT: &str = "SELECT order_salt, removed_at FROM traders WHERE id = ?";
const INSERT_INTENT: &str = "INSERT INTO order_intents (trader_id, created_at) VALUES (?, ?)";
const INTENT_OWNER: &str = "SELECT trader_id FROM order_intents WHERE id = ?";
const INSERT_ORDER: &str = "INSERT INTO orders (intent_id, attempt, trader_id, identifier, uuid, \
    market, side, ord_type, time_in_force, price, volume, status, executed_volume, executed_funds, \
    paid_fee, error, created_at, updated_at) \
    VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, '0', '0', '0', NULL, ?, ?)";
const GET_BY_IDENTIFIER: &str = concat!(
    "SELECT ",
    order_cols!(),
    " FROM orders WHERE identifier = ?"
);
const LOCK_BY_IDENTIFIER: Sql2 = Sql2 {
    sqlite: concat!(
        "SELECT ",
        order_cols!(),
        " FROM orders WHERE identifier = ?"
    ),
    mysql: concat!(
        "SELECT ",
        order_cols!(),
        " FROM orders WHERE identifier = ? FOR UPDATE"
    ),
};
const GET_BY_UUID: &str = concat!("SELECT ", order_cols!(), " FROM orders WHERE uuid = ?");
const LIST_OPEN: &str = concat!(
    "SELECT ",
    order_cols!(),
    " FROM orders WHERE trader_id = ? AND status IN ('intent', 'wait', 'watch') ORDER BY id"
);
const LIST_RECENT: &str = concat!(
    "SELECT ",
    order_cols!(),
    " FROM orders WHERE trader_id = ? ORDER BY id DESC LIMIT ?"
);
const UPDATE_ORDER: &str = "UPDATE orders SET uuid = ?, status = ?, executed_volume = ?, \
    executed_funds = ?, paid_fee = ?, error = ?, updated_at = ? WHERE id = ?";
const INSERT_ORDER_EVENT: &str = "INSERT INTO order_events (order_id, trader_id, identifier, ts, \
    status, uuid, executed_volume, executed_funds, paid_fee, error) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const ORDER_HISTORY: &str = "SELECT e.id, e.order_id, e.trader_id, e.identifier, e.ts, e.status, \
    e.uuid, e.executed_volume, e.executed_funds, e.paid_fee, e.error \
    FROM order_events e WHERE e.identifier = ? ORDER BY e.id";

const INSERT_FILL: &str = "INSERT INTO fills (trader_id, trade_uuid, order_uuid, identifier, \
    market, side, price, volume, funds, fee, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const LIST_FILLS: &str = "SELECT id, trader_id, trade_uuid, order_uuid, identifier, market, side, \
    price, volume, funds, fee, ts FROM fills WHERE trader_id = ? AND ts >= ? ORDER BY ts, id LIMIT ?";
const FILLS_OF_ORDER: &str = "SELECT id, trader_id, trade_uuid, order_uuid, identifier, market, \
    side, price, volume, funds, fee, ts FROM fills WHERE identifier = ? ORDER BY ts, id";

fn order_from_row<R: RowExt>(r: &R) -> Result<OrderRecord, StorageError> {
    let c = Cols::new(r, "orders");
    Ok(OrderRecord {
        id: c.i64("id")?,
        intent_id: c.i64("intent_id")?,
        attempt: c.u32("attempt")?,
        trader_id: c.id("trader_id", TraderId::new)?,
        identifier: c.parse("identifier", OrderIdentifier::parse)?,
        uuid: c.opt_text("uuid")?,
        market: c.parse("market", Market::parse)?,
        side: c.parse("side", Side::parse)?,
        ord_type: c.parse("ord_type", OrdType::parse)?,
        time_in_force: c.opt_parse("time_in_force", TimeInForce::parse)?,
        price: c.opt_price("price")?,
        volume: c.opt_volume("volume")?,
        status: c.parse("status", OrderStatus::parse)?,
        executed_volume: c.volume("executed_volume")?,
        executed_funds: c.krw("executed_funds")?,
        paid_fee: c.krw("paid_fee")?,
        error: c.opt_text("error")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
    })
}

fn order_event_from_row<R: RowExt>(r: &R) -> Result<OrderEventRecord, StorageError> {
    let c = Cols::new(r, "order_events");
    Ok(OrderEventRecord {
        id: c.i64("id")?,
        order_id: c.i64("order_id")?,
        trader_id: c.id("trader_id", TraderId::new)?,
        identifier: c.parse("identifier", OrderIdentifier::parse)?,
        ts: c.ts("ts")?,
        status: c.parse("status", OrderStatus::parse)?,
        uuid: c.opt_text("uuid")?,
        executed_volume: c.volume("executed_volume")?,
        executed_funds: c.krw("executed_funds")?,
        paid_fee: c.krw("paid_fee")?,
        error: c.opt_text("error")?,
    })
}

fn fill_from_row<R: RowExt>(r: &R) -> Result<FillRecord, StorageError> {
    let c = Cols::new(r, "fills");
    Ok(FillRecord {
        id: c.i64("id")?,
        trader_id: c.id("trader_id", TraderId::new)?,
        fill: Fill {
            trade_uuid: c.text("trade_uuid")?,
            order_uuid: c.text("order_uuid")?,
            identifier: c.parse("identifier", OrderIdentifier::parse)?,
            market: c.parse("market", Market::parse)?,
            side: c.parse("side", Side::parse)?,
            price: c.price("price")?,
            volume: c.volume("volume")?,
            funds: c.krw("funds")?,
            fee: c.krw("fee")?,
            ts: c.ts("ts")?,
        },
    })
}

/// An [`OrderUpdate`] validated and encoded.
struct UpdateParams {
    uuid: Option<String>,
    status: OrderStatus,
    volume: Volume,
    funds: Krw,
    fee: Krw,
    executed_volume: String,
    executed_funds: String,
    paid_fee: String,
    error: Option<String>,
    ts: i64,
}

fn encode_update(u: &OrderUpdate, now: DateTime<Utc>) -> Result<UpdateParams, ValidationError> {
    if let Some(uuid) = &u.uuid {
        codec::name("uuid", uuid, UUID_MAX)?;
    }
    for (field, v) in [
        ("executed_funds", u.executed_funds),
        ("paid_fee", u.paid_fee),
    ] {
        if v.is_negative() {
            return Err(ValidationError::new(field, "must not be negative"));
        }
    }
    Ok(UpdateParams {
        uuid: u.uuid.clone(),
        status: u.status,
        volume: u.executed_volume,
        funds: u.executed_funds,
        fee: u.paid_fee,
        executed_volume: codec::money("executed_volume", u.executed_volume.get())?,
        executed_funds: codec::money("executed_funds", u.executed_funds.get())?,
        paid_fee: codec::money("paid_fee", u.paid_fee.get())?,
        error: u.error.as_deref().map(|e| codec::clip(e, ERROR_MAX)),
        ts: ms(now),
    })
}

/// A [`Fill`] validated and encoded.
struct FillParams {
    trade_uuid: String,
    order_uuid: String,
    identifier: String,
    market: String,
    side: &'static str,
    price: String,
    volume: String,
    funds: String,
    fee: String,
    ts: i64,
}

fn encode_fill(f: &Fill) -> Result<FillParams, ValidationError> {
    codec::name("trade_uuid", &f.trade_uuid, UUID_MAX)?;
    codec::name("order_uuid", &f.order_uuid, UUID_MAX)?;
    if f.volume.is_zero() {
        return Err(ValidationError::new("volume", "must be greater than zero"));
    }
    for (field, v) in [("funds", f.funds), ("fee", f.fee)] {
        if v.is_negative() {
            return Err(ValidationError::new(field, "must not be negative"));
        }
    }
    Ok(FillParams {
        trade_uuid: f.trade_uuid.clone(),
        order_uuid: f.order_uuid.clone(),
        identifier: f.identifier.as_str().to_owned(),
        market: f.market.as_str().to_owned(),
        side: f.side.as_str(),
        price: codec::money("price", f.price.get())?,
        volume: codec::money("volume", f.volume.get())?,
        funds: codec::money("funds", f.funds.get())?,
        fee: codec::money("fee", f.fee.get())?,
        ts: ms(f.ts),
    })
}

/// Inserts a fill on `$conn`; evaluates to `Result<Inserted, StorageError>`.
macro_rules! insert_fill {
    ($conn:expr, $trader:expr, $p:expr) => {
        match sqlx::query(INSERT_FILL)
            .bind($trader.get())
            .bind($p.trade_uuid.as_str())
            .bind($p.order_uuid.as_str())
            .bind($p.identifier.as_str())
            .bind($p.market.as_str())
            .bind($p.side)
            .bind($p.price.as_str())
            .bind($p.volume.as_str())
            .bind($p.funds.as_str())
            .bind($p.fee.as_str())
            .bind($p.ts)
            .execute($conn)
            .await
        {
            Ok(res) => Ok(Inserted::New(res.inserted_id())),
            Err(e) if is_unique_violation(&e) => Ok(Inserted::Duplicate),
            Err(e) => Err(StorageError::from(e)),
        }
    };
}

/// Applies an update to the order `$identifier` inside transaction `$tx`:
/// locks and reads it, checks it, writes the new state and its history
/// row. Evaluates to `Result<OrderRecord, StorageError>` (the new state).
/// `$check` is called with the current record before anything is written.
macro_rules! apply_update {
    ($tx:expr, $d:expr, $identifier:expr, $p:expr, $check:expr) => {
        async {
            let row = sqlx::query($d.pick(&LOCK_BY_IDENTIFIER))
                .bind($identifier.as_str())
                .fetch_optional(&mut *$tx)
                .await?
                .ok_or_else(|| StorageError::not_found("order", $identifier))?;
            let current = order_from_row(&row)?;
            $check(&current)?;
            if current.status.is_final() {
                if current.status == $p.status {
                    return Ok(current);
                }
                return Err(StorageError::Conflict {
                    field: "status",
                    message: format!(
                        "order {} is already {}; cannot become {}",
                        current.identifier, current.status, $p.status
                    ),
                    retryable: false,
                });
            }
            let executed_volume = $p.volume;
            if executed_volume < current.executed_volume {
                return Err(StorageError::invalid(
                    "executed_volume",
                    format!(
                        "must not decrease (stored {}, got {executed_volume})",
                        current.executed_volume
                    ),
                ));
            }
            let uuid = $p.uuid.clone().or(current.uuid.clone());
            sqlx::query(UPDATE_ORDER)
                .bind(uuid.as_deref())
                .bind($p.status.as_str())
                .bind($p.executed_volume.as_str())
                .bind($p.executed_funds.as_str())
                .bind($p.paid_fee.as_str())
                .bind($p.error.as_deref())
                .bind($p.ts)
                .bind(current.id)
                .execute(&mut *$tx)
                .await
                .map_err(on_unique(
                    "uuid",
                    "another order already has this uuid".to_owned(),
                ))?;
            sqlx::query(INSERT_ORDER_EVENT)
                .bind(current.id)
                .bind(current.trader_id.get())
                .bind(current.identifier.as_str())
                .bind($p.ts)
                .bind($p.status.as_str())
                .bind(uuid.as_deref())
                .bind($p.executed_volume.as_str())
                .bind($p.executed_funds.as_str())
                .bind($p.paid_fee.as_str())
                .bind($p.error.as_deref())
                .execute(&mut *$tx)
                .await?;
            let updated_at = codec::from_ms($p.ts).unwrap_or(current.updated_at);
            Ok::<OrderRecord, StorageError>(OrderRecord {
                uuid,
                status: $p.status,
                executed_volume,
                executed_funds: $p.funds,
                paid_fee: $p.fee,
                error: $p.error.clone(),
                updated_at,
                ..current
            })
        }
        .await
    };
}

/// The orders repository.
#[derive(Debug, Clone, Copy)]
pub struct Orders<'a> {
    store: &'a Store,
}

impl<'a> Orders<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Persists an order intent before anything is sent. In one transaction:
    /// allocates the intent (or checks the retried one belongs to `trader`),
    /// builds the identifier from the trader's salt, calls `build` with it to
    /// get the validated request, and stores the order (status `intent`) with
    /// its first history row. If `build` refuses, nothing is written and its
    /// error (naming the field) is returned.
    pub async fn insert_intent<F>(
        &self,
        trader: TraderId,
        attempt: Attempt,
        now: DateTime<Utc>,
        build: F,
    ) -> Result<OrderRecord, StorageError>
    where
        F: FnOnce(OrderIdentifier) -> Result<OrderRequest, ValidationError> + Send,
    {
        let now = codec::truncate_to_millis(now);
        let (intent_id, attempt_no, record) = on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query(TRADER_SALT)
                .bind(trader.get())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StorageError::not_found("trader", trader))?;
            let c = Cols::new(&row, "traders");
            if c.opt_ts("removed_at")?.is_some() {
                return Err(StorageError::invalid(
                    "trader_id",
                    format!("trader {trader} is removed"),
                ));
            }
            let salt = c.text("order_salt")?;
            let (intent_id, attempt_no) = match attempt {
                Attempt::First => {
                    let res = sqlx::query(INSERT_INTENT)
                        .bind(trader.get())
                        .bind(ms(now))
                        .execute(&mut *tx)
                        .await?;
                    (res.inserted_id(), 0)
                }
                Attempt::Retry { intent_id, attempt } => {
                    if attempt == 0 {
                        return Err(StorageError::invalid("attempt", "a retry must be ≥ 1"));
                    }
                    let owner = sqlx::query(INTENT_OWNER)
                        .bind(intent_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let owner = owner
                        .as_ref()
                        .map(|r| Cols::new(r, "order_intents").i64("trader_id"))
                        .transpose()?;
                    if owner != Some(trader.get()) {
                        return Err(StorageError::invalid(
                            "intent_id",
                            format!("intent {intent_id} does not belong to trader {trader}"),
                        ));
                    }
                    (intent_id, attempt)
                }
            };
            let identifier = OrderIdentifier::for_attempt(trader, &salt, intent_id, attempt_no)?;
            let request = build(identifier.clone())?;
            if request.identifier() != &identifier {
                return Err(StorageError::invalid(
                    "identifier",
                    format!("the request must use the allocated identifier {identifier}"),
                ));
            }
            let price = codec::opt_money("price", request.price().map(Price::get))?;
            let volume = codec::opt_money("volume", request.volume().map(Volume::get))?;
            let res = sqlx::query(INSERT_ORDER)
                .bind(intent_id)
                .bind(i64::from(attempt_no))
                .bind(trader.get())
                .bind(identifier.as_str())
                .bind(request.market().as_str())
                .bind(request.side().as_str())
                .bind(request.ord_type().as_str())
                .bind(request.time_in_force().map(TimeInForce::as_str))
                .bind(price.as_deref())
                .bind(volume.as_deref())
                .bind(OrderStatus::Intent.as_str())
                .bind(ms(now))
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(on_unique(
                    "attempt",
                    format!("attempt {attempt_no} of intent {intent_id} already exists"),
                ))?;
            let order_id = res.inserted_id();
            sqlx::query(INSERT_ORDER_EVENT)
                .bind(order_id)
                .bind(trader.get())
                .bind(identifier.as_str())
                .bind(ms(now))
                .bind(OrderStatus::Intent.as_str())
                .bind(None::<&str>)
                .bind("0")
                .bind("0")
                .bind("0")
                .bind(None::<&str>)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            (intent_id, attempt_no, (order_id, identifier, request))
        });
        let (id, identifier, request) = record;
        Ok(OrderRecord {
            id,
            intent_id,
            attempt: attempt_no,
            trader_id: trader,
            identifier,
            uuid: None,
            market: request.market().clone(),
            side: request.side(),
            ord_type: request.ord_type(),
            time_in_force: request.time_in_force(),
            price: request.price(),
            volume: request.volume(),
            status: OrderStatus::Intent,
            executed_volume: Volume::ZERO,
            executed_funds: Krw::ZERO,
            paid_fee: Krw::ZERO,
            error: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// Records a new state of an order and appends it to the order's history,
    /// in one transaction. A final order (done / cancel / failed) accepts the
    /// same final status again as a no-op and refuses any other with a
    /// `Conflict`; executed volume may not decrease.
    pub async fn update_state(
        &self,
        identifier: &OrderIdentifier,
        update: &OrderUpdate,
        now: DateTime<Utc>,
    ) -> Result<OrderRecord, StorageError> {
        let p = encode_update(update, codec::truncate_to_millis(now))?;
        on_pool!(self.store, |pool, d| {
            let mut tx = pool.begin_write().await?;
            let rec = apply_update!(
                tx,
                d,
                identifier,
                p,
                |_: &OrderRecord| Ok::<(), StorageError>(())
            )?;
            tx.commit().await?;
            Ok(rec)
        })
    }

    /// Records a fill and the order state it leads to, in one transaction:
    /// the fill row (idempotent on `trade_uuid`: a repeated fill writes
    /// nothing and returns `Duplicate`), the order update and its history row.
    /// The order is `fill.identifier`; it must belong to `trader` and match
    /// the fill's market and side. Any failure writes nothing.
    pub async fn apply_fill(
        &self,
        trader: TraderId,
        fill: &Fill,
        update: &OrderUpdate,
        now: DateTime<Utc>,
    ) -> Result<Inserted, StorageError> {
        let fp = encode_fill(fill)?;
        let p = encode_update(update, codec::truncate_to_millis(now))?;
        let check = |o: &OrderRecord| -> Result<(), StorageError> {
            if o.trader_id != trader {
                return Err(StorageError::invalid(
                    "trader_id",
                    format!("order {} belongs to trader {}", o.identifier, o.trader_id),
                ));
            }
            if o.market != fill.market {
                return Err(StorageError::invalid("market", "does not match the order"));
            }
            if o.side != fill.side {
                return Err(StorageError::invalid("side", "does not match the order"));
            }
            Ok(())
        };
        on_pool!(self.store, |pool, d| {
            let mut tx = pool.begin_write().await?;
            let inserted = insert_fill!(&mut *tx, trader, fp)?;
            if inserted == Inserted::Duplicate {
                return Ok(Inserted::Duplicate);
            }
            apply_update!(tx, d, &fill.identifier, p, check)?;
            tx.commit().await?;
            Ok(inserted)
        })
    }

    /// One order by identifier.
    pub async fn get_by_identifier(
        &self,
        identifier: &OrderIdentifier,
    ) -> Result<Option<OrderRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_BY_IDENTIFIER)
                .bind(identifier.as_str())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(order_from_row).transpose()
        })
    }

    /// One order by exchange uuid.
    pub async fn get_by_uuid(&self, uuid: &str) -> Result<Option<OrderRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_BY_UUID)
                .bind(uuid)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(order_from_row).transpose()
        })
    }

    /// A trader's orders that are not final (intent / wait / watch), oldest
    /// first — what a restarted trader must reconcile.
    pub async fn list_open(&self, trader: TraderId) -> Result<Vec<OrderRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_OPEN)
                .bind(trader.get())
                .fetch_all(pool)
                .await?;
            rows.iter().map(order_from_row).collect()
        })
    }

    /// A trader's newest `limit` orders, newest first.
    pub async fn list(
        &self,
        trader: TraderId,
        limit: u32,
    ) -> Result<Vec<OrderRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_RECENT)
                .bind(trader.get())
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(order_from_row).collect()
        })
    }

    /// Every state an order went through, oldest first.
    pub async fn history(
        &self,
        identifier: &OrderIdentifier,
    ) -> Result<Vec<OrderEventRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(ORDER_HISTORY)
                .bind(identifier.as_str())
                .fetch_all(pool)
                .await?;
            rows.iter().map(order_event_from_row).collect()
        })
    }
}

/// The fills repository (append-only).
#[derive(Debug, Clone, Copy)]
pub struct Fills<'a> {
    store: &'a Store,
}

impl<'a> Fills<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Stores a fill; a fill whose `trade_uuid` is already stored writes
    /// nothing and returns `Duplicate`. (To update the order in the same
    /// transaction use [`Orders::apply_fill`].)
    pub async fn insert(&self, trader: TraderId, fill: &Fill) -> Result<Inserted, StorageError> {
        let fp = encode_fill(fill)?;
        on_pool!(self.store, |pool, _d| {
            insert_fill!(pool, trader, fp).map_err(|e| match e {
                StorageError::Database {
                    source: sqlx::Error::Database(db),
                    ..
                } if db.is_foreign_key_violation() => {
                    StorageError::invalid("trader_id", format!("trader {trader} does not exist"))
                }
                other => other,
            })
        })
    }

    /// A trader's fills with `ts ≥ from`, oldest first.
    pub async fn list(
        &self,
        trader: TraderId,
        from: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<FillRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_FILLS)
                .bind(trader.get())
                .bind(ms(from))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(fill_from_row).collect()
        })
    }

    /// The fills of one order, oldest first.
    pub async fn list_for_order(
        &self,
        identifier: &OrderIdentifier,
    ) -> Result<Vec<FillRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(FILLS_OF_ORDER)
                .bind(identifier.as_str())
                .fetch_all(pool)
                .await?;
            rows.iter().map(fill_from_row).collect()
        })
    }
}
