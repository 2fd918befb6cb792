//! Positions (POS-1): the current view of every open lot of every trader
//! (FIX-6: several lots in one market are allowed), plus `position_events`,
//! the append-only history of each change (AUD-1). Closing a lot removes it
//! from the current view, appends its CLOSE event and the closed round trip
//! to `trades`, all in one transaction.

use chrono::{DateTime, Utc};

use domain::{Krw, Market, Position, Price, TradeRecord, TraderId, ValidationError};

use crate::{
    StorageError, Store,
    db::{
        BeginWrite, InsertedId,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
        text_enum,
    },
    trades::{TradeParams, insert_trade},
};

text_enum!(
    /// What happened to a position.
    PositionEventKind, "kind" {
        /// A new lot.
        Open => "OPEN",
        /// Size, cost, stop or high-water changed (scale-in, trailing stop, …).
        Update => "UPDATE",
        /// Part of the lot was sold (scale-out).
        Reduce => "REDUCE",
        /// The lot was sold completely.
        Close => "CLOSE",
    }
);

/// A stored open lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRecord {
    /// Lot id.
    pub id: i64,
    /// The position.
    pub position: Position,
    /// Last mark price recorded, if any.
    pub mark_price: Option<Price>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl PositionRecord {
    /// Unrealised PnL at the last mark (None before the first mark).
    pub fn unrealised(&self) -> Option<Krw> {
        self.mark_price.map(|m| self.position.unrealised(m))
    }
}

/// One entry of a lot's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionEvent {
    /// Row id.
    pub id: i64,
    /// The lot.
    pub position_id: i64,
    /// Owner.
    pub trader_id: TraderId,
    /// Market.
    pub market: Market,
    /// When.
    pub ts: DateTime<Utc>,
    /// What happened.
    pub kind: PositionEventKind,
    /// The lot after the change (None after CLOSE).
    pub snapshot: Option<Position>,
}

macro_rules! position_cols {
    () => {
        "id, trader_id, market, open_time, avg_entry_price, size, cost_krw, stop_price, high_water, \
         tags, mark_price, updated_at"
    };
}

const INSERT: &str = "INSERT INTO positions (trader_id, market, open_time, avg_entry_price, size, \
    cost_krw, stop_price, high_water, tags, mark_price, updated_at) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)";
const UPDATE: &str = "UPDATE positions SET market = ?, open_time = ?, avg_entry_price = ?, size = ?, \
    cost_krw = ?, stop_price = ?, high_water = ?, tags = ?, updated_at = ? \
    WHERE id = ? AND trader_id = ?";
const MARK: &str = "UPDATE positions SET mark_price = ? WHERE id = ?";
const DELETE: &str = "DELETE FROM positions WHERE id = ? AND trader_id = ?";
const GET: &str = concat!("SELECT ", position_cols!(), " FROM positions WHERE id = ?");
const LIST: &str = concat!(
    "SELECT ",
    position_cols!(),
    " FROM positions WHERE trader_id = ? ORDER BY id"
);
const LIST_ALL: &str = concat!("SELECT ", position_cols!(), " FROM positions ORDER BY id");
const INSERT_EVENT: &str = "INSERT INTO position_events \
    (position_id, trader_id, market, ts, kind, snapshot) VALUES (?, ?, ?, ?, ?, ?)";
const HISTORY: &str = "SELECT id, position_id, trader_id, market, ts, kind, snapshot \
    FROM position_events WHERE position_id = ? ORDER BY id";

fn position_from_row<R: RowExt>(r: &R) -> Result<PositionRecord, StorageError> {
    let c = Cols::new(r, "positions");
    Ok(PositionRecord {
        id: c.i64("id")?,
        position: Position {
            trader_id: c.id("trader_id", TraderId::new)?,
            market: c.parse("market", Market::parse)?,
            open_time: c.ts("open_time")?,
            avg_entry_price: c.price("avg_entry_price")?,
            size: c.volume("size")?,
            cost_krw: c.krw("cost_krw")?,
            stop_price: c.price("stop_price")?,
            high_water: c.price("high_water")?,
            tags: c.json("tags")?,
        },
        mark_price: c.opt_price("mark_price")?,
        updated_at: c.ts("updated_at")?,
    })
}

fn event_from_row<R: RowExt>(r: &R) -> Result<PositionEvent, StorageError> {
    let c = Cols::new(r, "position_events");
    Ok(PositionEvent {
        id: c.i64("id")?,
        position_id: c.i64("position_id")?,
        trader_id: c.id("trader_id", TraderId::new)?,
        market: c.parse("market", Market::parse)?,
        ts: c.ts("ts")?,
        kind: c.parse("kind", PositionEventKind::parse)?,
        snapshot: c.opt_json("snapshot")?,
    })
}

/// A [`Position`] validated and encoded.
struct PositionParams {
    trader: i64,
    market: String,
    open_time: i64,
    avg_entry_price: String,
    size: String,
    cost: String,
    stop: String,
    high_water: String,
    tags: String,
    snapshot: String,
}

fn encode(p: &Position) -> Result<PositionParams, ValidationError> {
    if p.size.is_zero() {
        return Err(ValidationError::new(
            "size",
            "an open position must have a size greater than zero",
        ));
    }
    for (i, tag) in p.tags.iter().enumerate() {
        codec::name(&format!("tags[{i}]"), tag, 64)?;
    }
    Ok(PositionParams {
        trader: p.trader_id.get(),
        market: p.market.as_str().to_owned(),
        open_time: ms(p.open_time),
        avg_entry_price: codec::money("avg_entry_price", p.avg_entry_price.get())?,
        size: codec::money("size", p.size.get())?,
        cost: codec::money("cost_krw", p.cost_krw.get())?,
        stop: codec::money("stop_price", p.stop_price.get())?,
        high_water: codec::money("high_water", p.high_water.get())?,
        tags: codec::json("tags", &p.tags)?,
        snapshot: codec::json("snapshot", p)?,
    })
}

/// Writes a position event inside the caller's transaction.
macro_rules! insert_event {
    ($conn:expr, $id:expr, $trader:expr, $market:expr, $ts:expr, $kind:expr, $snapshot:expr) => {
        sqlx::query(INSERT_EVENT)
            .bind($id)
            .bind($trader)
            .bind($market)
            .bind($ts)
            .bind($kind.as_str())
            .bind($snapshot)
            .execute($conn)
            .await
    };
}

/// The positions repository.
#[derive(Debug, Clone, Copy)]
pub struct Positions<'a> {
    store: &'a Store,
}

impl<'a> Positions<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Opens a new lot (with its OPEN event); returns the lot id.
    pub async fn open(&self, position: &Position, now: DateTime<Utc>) -> Result<i64, StorageError> {
        let p = encode(position)?;
        let ts = ms(now);
        let id = on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let res = sqlx::query(INSERT)
                .bind(p.trader)
                .bind(p.market.as_str())
                .bind(p.open_time)
                .bind(p.avg_entry_price.as_str())
                .bind(p.size.as_str())
                .bind(p.cost.as_str())
                .bind(p.stop.as_str())
                .bind(p.high_water.as_str())
                .bind(p.tags.as_str())
                .bind(ts)
                .execute(&mut *tx)
                .await
                .map_err(crate::error::on_foreign_key(
                    "trader_id",
                    format!("trader {} does not exist", p.trader),
                ))?;
            let id = res.inserted_id();
            insert_event!(
                &mut *tx,
                id,
                p.trader,
                p.market.as_str(),
                ts,
                PositionEventKind::Open,
                Some(p.snapshot.as_str())
            )?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Replaces the state of lot `id` (scale-in, new stop, new high-water…)
    /// and appends an event of `kind` (UPDATE or REDUCE). The lot must belong
    /// to `position.trader_id`.
    pub async fn update(
        &self,
        id: i64,
        position: &Position,
        kind: PositionEventKind,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        if !matches!(kind, PositionEventKind::Update | PositionEventKind::Reduce) {
            return Err(StorageError::invalid(
                "kind",
                "an update is recorded as UPDATE or REDUCE",
            ));
        }
        let p = encode(position)?;
        let ts = ms(now);
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let res = sqlx::query(UPDATE)
                .bind(p.market.as_str())
                .bind(p.open_time)
                .bind(p.avg_entry_price.as_str())
                .bind(p.size.as_str())
                .bind(p.cost.as_str())
                .bind(p.stop.as_str())
                .bind(p.high_water.as_str())
                .bind(p.tags.as_str())
                .bind(ts)
                .bind(id)
                .bind(p.trader)
                .execute(&mut *tx)
                .await?;
            if res.rows_affected() != 1 {
                return Err(StorageError::not_found(
                    "position",
                    format!("{id} of trader {}", p.trader),
                ));
            }
            insert_event!(
                &mut *tx,
                id,
                p.trader,
                p.market.as_str(),
                ts,
                kind,
                Some(p.snapshot.as_str())
            )?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Opens (`id` None) or updates (`id` Some, as UPDATE) a lot; returns its id.
    pub async fn upsert(
        &self,
        id: Option<i64>,
        position: &Position,
        now: DateTime<Utc>,
    ) -> Result<i64, StorageError> {
        match id {
            None => self.open(position, now).await,
            Some(id) => {
                self.update(id, position, PositionEventKind::Update, now)
                    .await?;
                Ok(id)
            }
        }
    }

    /// Records the latest mark price of a lot (not an event: marks change
    /// constantly and are not position changes).
    pub async fn mark(&self, id: i64, price: Price) -> Result<(), StorageError> {
        let price = codec::money("mark_price", price.get())?;
        let n = on_pool!(self.store, |pool, _d| {
            sqlx::query(MARK)
                .bind(price.as_str())
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StorageError::not_found("position", id));
        }
        Ok(())
    }

    /// Records an exit in one transaction: appends `trade` (the closed part)
    /// to `trades`, then either removes the lot with a CLOSE event
    /// (`remaining` None) or stores `remaining` with a REDUCE event. The lot
    /// must belong to `trade.trader_id` and be in `trade.market`. Returns the
    /// trade id.
    pub async fn close(
        &self,
        id: i64,
        trade: &TradeRecord,
        remaining: Option<&Position>,
        now: DateTime<Utc>,
    ) -> Result<i64, StorageError> {
        let t = TradeParams::encode(trade)?;
        let rest = remaining.map(encode).transpose()?;
        if let Some(r) = remaining {
            if r.trader_id != trade.trader_id {
                return Err(StorageError::invalid(
                    "trader_id",
                    "the remaining lot belongs to another trader",
                ));
            }
            if r.market != trade.market {
                return Err(StorageError::invalid(
                    "market",
                    "the remaining lot is in another market",
                ));
            }
        }
        let ts = ms(now);
        let trader = trade.trader_id.get();
        let market = trade.market.as_str();
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query(GET).bind(id).fetch_optional(&mut *tx).await?;
            let current = row
                .as_ref()
                .map(position_from_row)
                .transpose()?
                .filter(|c| c.position.trader_id == trade.trader_id)
                .ok_or_else(|| {
                    StorageError::not_found("position", format!("{id} of trader {trader}"))
                })?;
            if current.position.market != trade.market {
                return Err(StorageError::invalid(
                    "market",
                    "does not match the position",
                ));
            }
            let trade_id = insert_trade!(&mut *tx, t, Some(id))?.inserted_id();
            match &rest {
                None => {
                    sqlx::query(DELETE)
                        .bind(id)
                        .bind(trader)
                        .execute(&mut *tx)
                        .await?;
                    insert_event!(
                        &mut *tx,
                        id,
                        trader,
                        market,
                        ts,
                        PositionEventKind::Close,
                        None::<&str>
                    )?;
                }
                Some(p) => {
                    sqlx::query(UPDATE)
                        .bind(p.market.as_str())
                        .bind(p.open_time)
                        .bind(p.avg_entry_price.as_str())
                        .bind(p.size.as_str())
                        .bind(p.cost.as_str())
                        .bind(p.stop.as_str())
                        .bind(p.high_water.as_str())
                        .bind(p.tags.as_str())
                        .bind(ts)
                        .bind(id)
                        .bind(trader)
                        .execute(&mut *tx)
                        .await?;
                    insert_event!(
                        &mut *tx,
                        id,
                        trader,
                        market,
                        ts,
                        PositionEventKind::Reduce,
                        Some(p.snapshot.as_str())
                    )?;
                }
            }
            tx.commit().await?;
            Ok(trade_id)
        })
    }

    /// One open lot.
    pub async fn get(&self, id: i64) -> Result<Option<PositionRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(position_from_row).transpose()
        })
    }

    /// A trader's open lots, oldest first.
    pub async fn list(&self, trader: TraderId) -> Result<Vec<PositionRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST).bind(trader.get()).fetch_all(pool).await?;
            rows.iter().map(position_from_row).collect()
        })
    }

    /// Every open lot of every trader, oldest first.
    pub async fn list_all(&self) -> Result<Vec<PositionRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_ALL).fetch_all(pool).await?;
            rows.iter().map(position_from_row).collect()
        })
    }

    /// A lot's history, oldest first (also after it closed).
    pub async fn history(&self, id: i64) -> Result<Vec<PositionEvent>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(HISTORY).bind(id).fetch_all(pool).await?;
            rows.iter().map(event_from_row).collect()
        })
    }
}
