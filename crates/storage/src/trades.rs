//! Closed round trips (`trades`, SPEC §13, append-only) and equity
//! snapshots (the per-trader series behind the dashboard's PROFIT CHART).

use chrono::{DateTime, Utc};

use domain::{Krw, Market, Mode, TradeRecord, TraderId, ValidationError};

use crate::{
    StorageError, Store,
    db::{
        InsertedId,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
    },
};

pub(crate) const INSERT_TRADE: &str = "INSERT INTO trades (trader_id, position_id, market, \
    entry_time, entry_price, size, stop_price, exit_time, exit_price, pnl, mode) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const LIST_TRADES: &str = "SELECT id, trader_id, position_id, market, entry_time, entry_price, \
    size, stop_price, exit_time, exit_price, pnl, mode FROM trades \
    WHERE trader_id = ? AND exit_time >= ? ORDER BY exit_time, id LIMIT ?";
const LIST_ALL_TRADES: &str = "SELECT id, trader_id, position_id, market, entry_time, entry_price, \
    size, stop_price, exit_time, exit_price, pnl, mode FROM trades \
    WHERE exit_time >= ? ORDER BY exit_time, id LIMIT ?";

const INSERT_EQUITY: &str =
    "INSERT INTO equity_snapshots (trader_id, ts, equity_krw, cash_krw) VALUES (?, ?, ?, ?)";
const EQUITY_SERIES: &str = "SELECT trader_id, ts, equity_krw, cash_krw FROM equity_snapshots \
    WHERE trader_id = ? AND ts >= ? ORDER BY ts, id LIMIT ?";
const EQUITY_SERIES_ALL: &str = "SELECT trader_id, ts, equity_krw, cash_krw FROM equity_snapshots \
    WHERE ts >= ? ORDER BY ts, id LIMIT ?";
const EQUITY_LATEST: &str = "SELECT trader_id, ts, equity_krw, cash_krw FROM equity_snapshots \
    WHERE trader_id = ? ORDER BY ts DESC, id DESC LIMIT 1";

/// A stored closed trade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeRow {
    /// Row id.
    pub id: i64,
    /// The lot it closed (part of), when recorded through `Positions::close`.
    pub position_id: Option<i64>,
    /// The round trip.
    pub trade: TradeRecord,
}

/// A [`TradeRecord`] validated and encoded.
#[derive(Debug)]
pub(crate) struct TradeParams {
    pub(crate) trader: i64,
    pub(crate) market: String,
    pub(crate) entry_time: i64,
    pub(crate) entry_price: String,
    pub(crate) size: String,
    pub(crate) stop_price: String,
    pub(crate) exit_time: i64,
    pub(crate) exit_price: String,
    pub(crate) pnl: String,
    pub(crate) mode: &'static str,
}

impl TradeParams {
    pub(crate) fn encode(t: &TradeRecord) -> Result<Self, ValidationError> {
        if t.size.is_zero() {
            return Err(ValidationError::new("size", "must be greater than zero"));
        }
        if t.exit_time < t.entry_time {
            return Err(ValidationError::new(
                "exit_time",
                "must not be before entry_time",
            ));
        }
        Ok(Self {
            trader: t.trader_id.get(),
            market: t.market.as_str().to_owned(),
            entry_time: ms(t.entry_time),
            entry_price: codec::money("entry_price", t.entry_price.get())?,
            size: codec::money("size", t.size.get())?,
            stop_price: codec::money("stop_price", t.stop_price.get())?,
            exit_time: ms(t.exit_time),
            exit_price: codec::money("exit_price", t.exit_price.get())?,
            pnl: codec::money("pnl", t.pnl.get())?,
            mode: t.mode.as_str(),
        })
    }
}

/// Inserts a trade on `$conn`; evaluates to the driver's query result.
macro_rules! insert_trade {
    ($conn:expr, $t:expr, $position:expr) => {
        sqlx::query($crate::trades::INSERT_TRADE)
            .bind($t.trader)
            .bind($position)
            .bind($t.market.as_str())
            .bind($t.entry_time)
            .bind($t.entry_price.as_str())
            .bind($t.size.as_str())
            .bind($t.stop_price.as_str())
            .bind($t.exit_time)
            .bind($t.exit_price.as_str())
            .bind($t.pnl.as_str())
            .bind($t.mode)
            .execute($conn)
            .await
    };
}
pub(crate) use insert_trade;

fn trade_from_row<R: RowExt>(r: &R) -> Result<TradeRow, StorageError> {
    let c = Cols::new(r, "trades");
    Ok(TradeRow {
        id: c.i64("id")?,
        position_id: c.opt_i64("position_id")?,
        trade: TradeRecord {
            trader_id: c.id("trader_id", TraderId::new)?,
            market: c.parse("market", Market::parse)?,
            entry_time: c.ts("entry_time")?,
            entry_price: c.price("entry_price")?,
            size: c.volume("size")?,
            stop_price: c.price("stop_price")?,
            exit_time: c.ts("exit_time")?,
            exit_price: c.price("exit_price")?,
            pnl: c.krw("pnl")?,
            mode: c.parse("mode", Mode::parse)?,
        },
    })
}

/// The trades repository (append-only).
#[derive(Debug, Clone, Copy)]
pub struct Trades<'a> {
    store: &'a Store,
}

impl<'a> Trades<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Appends a closed trade that is not tied to a stored lot (use
    /// `Positions::close` to close a lot and record its trade together).
    pub async fn append(&self, trade: &TradeRecord) -> Result<i64, StorageError> {
        let t = TradeParams::encode(trade)?;
        let id = on_pool!(self.store, |pool, _d| {
            insert_trade!(pool, t, None::<i64>)
                .map_err(crate::error::on_foreign_key(
                    "trader_id",
                    format!("trader {} does not exist", t.trader),
                ))?
                .inserted_id()
        });
        Ok(id)
    }

    /// A trader's trades that exited at or after `from`, oldest first.
    pub async fn list(
        &self,
        trader: TraderId,
        from: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TradeRow>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_TRADES)
                .bind(trader.get())
                .bind(ms(from))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(trade_from_row).collect()
        })
    }

    /// Every trader's trades that exited at or after `from`, oldest first.
    pub async fn list_all(
        &self,
        from: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TradeRow>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_ALL_TRADES)
                .bind(ms(from))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(trade_from_row).collect()
        })
    }
}

/// One point of a trader's equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EquitySnapshot {
    /// Owner.
    pub trader_id: TraderId,
    /// When.
    pub ts: DateTime<Utc>,
    /// Cash plus positions at mark.
    pub equity: Krw,
    /// Cash alone.
    pub cash: Krw,
}

fn equity_from_row<R: RowExt>(r: &R) -> Result<EquitySnapshot, StorageError> {
    let c = Cols::new(r, "equity_snapshots");
    Ok(EquitySnapshot {
        trader_id: c.id("trader_id", TraderId::new)?,
        ts: c.ts("ts")?,
        equity: c.krw("equity_krw")?,
        cash: c.krw("cash_krw")?,
    })
}

/// The equity-snapshot repository.
#[derive(Debug, Clone, Copy)]
pub struct Equity<'a> {
    store: &'a Store,
}

impl<'a> Equity<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Appends one snapshot; returns its id.
    pub async fn append(&self, s: &EquitySnapshot) -> Result<i64, StorageError> {
        let equity = codec::money("equity_krw", s.equity.get())?;
        let cash = codec::money("cash_krw", s.cash.get())?;
        let id = on_pool!(self.store, |pool, _d| {
            sqlx::query(INSERT_EQUITY)
                .bind(s.trader_id.get())
                .bind(ms(s.ts))
                .bind(equity.as_str())
                .bind(cash.as_str())
                .execute(pool)
                .await
                .map_err(crate::error::on_foreign_key(
                    "trader_id",
                    format!("trader {} does not exist", s.trader_id),
                ))?
                .inserted_id()
        });
        Ok(id)
    }

    /// A trader's snapshots with `ts ≥ from`, oldest first.
    pub async fn series(
        &self,
        trader: TraderId,
        from: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<EquitySnapshot>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(EQUITY_SERIES)
                .bind(trader.get())
                .bind(ms(from))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(equity_from_row).collect()
        })
    }

    /// Every trader's snapshots with `ts ≥ from`, oldest first (UI-2: every
    /// trader's return on one chart).
    pub async fn series_all(
        &self,
        from: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<EquitySnapshot>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(EQUITY_SERIES_ALL)
                .bind(ms(from))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(equity_from_row).collect()
        })
    }

    /// A trader's newest snapshot.
    pub async fn latest(&self, trader: TraderId) -> Result<Option<EquitySnapshot>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(EQUITY_LATEST)
                .bind(trader.get())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(equity_from_row).transpose()
        })
    }
}
