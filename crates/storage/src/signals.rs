//! Signals (STR-6, AUD-1, SPEC §13): every evaluation a trader acts on, with
//! its total score, the per-module scores and raw metrics as JSON, the
//! regime and the reason codes. Append-only.

use chrono::{DateTime, Utc};
use serde_json::Value;

use domain::{Market, ReasonCode, RegimeLabel, SignalAction, TraderId};

use crate::{
    StorageError, Store,
    db::{
        InsertedId,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
    },
};

const INSERT: &str = "INSERT INTO signals (trader_id, market, ts, total_score, scores, regime, \
    action, reason_codes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const LIST: &str = "SELECT id, trader_id, market, ts, total_score, scores, regime, action, \
    reason_codes FROM signals WHERE trader_id = ? AND ts >= ? ORDER BY ts, id LIMIT ?";
const LIST_AFTER: &str = "SELECT id, trader_id, market, ts, total_score, scores, regime, action, \
    reason_codes FROM signals WHERE id > ? ORDER BY id LIMIT ?";

/// A signal to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSignal {
    /// The trader that evaluated it.
    pub trader_id: TraderId,
    /// Market.
    pub market: Market,
    /// When.
    pub ts: DateTime<Utc>,
    /// Final (smoothed) score, finite.
    pub total_score: f64,
    /// Per-module scores and raw metrics (EMA gaps, Bollinger width, …).
    pub scores: Value,
    /// Regime in force, if known.
    pub regime: Option<RegimeLabel>,
    /// What was decided.
    pub action: SignalAction,
    /// Why.
    pub reason_codes: Vec<ReasonCode>,
}

/// A stored signal.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRecord {
    /// Row id.
    pub id: i64,
    /// The signal.
    pub signal: NewSignal,
}

fn signal_from_row<R: RowExt>(r: &R) -> Result<SignalRecord, StorageError> {
    let c = Cols::new(r, "signals");
    Ok(SignalRecord {
        id: c.i64("id")?,
        signal: NewSignal {
            trader_id: c.id("trader_id", TraderId::new)?,
            market: c.parse("market", Market::parse)?,
            ts: c.ts("ts")?,
            total_score: c.f64("total_score")?,
            scores: c.json("scores")?,
            regime: c.opt_parse("regime", RegimeLabel::parse)?,
            action: c.parse("action", SignalAction::parse)?,
            reason_codes: c.json("reason_codes")?,
        },
    })
}

/// The signals repository (append-only).
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    store: &'a Store,
}

impl<'a> Signals<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Appends a signal; returns its id.
    pub async fn append(&self, s: &NewSignal) -> Result<i64, StorageError> {
        let score = codec::finite("total_score", s.total_score)?;
        let scores = codec::json("scores", &s.scores)?;
        let reasons = codec::json("reason_codes", &s.reason_codes)?;
        let id = on_pool!(self.store, |pool, _d| {
            sqlx::query(INSERT)
                .bind(s.trader_id.get())
                .bind(s.market.as_str())
                .bind(ms(s.ts))
                .bind(score)
                .bind(scores.as_str())
                .bind(s.regime.map(RegimeLabel::as_str))
                .bind(s.action.as_str())
                .bind(reasons.as_str())
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

    /// A trader's signals with `ts ≥ from`, oldest first.
    pub async fn list(
        &self,
        trader: TraderId,
        from: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<SignalRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST)
                .bind(trader.get())
                .bind(ms(from))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(signal_from_row).collect()
        })
    }

    /// Every trader's signals with an id greater than `after_id`, oldest
    /// first (the trainer's incremental read).
    pub async fn list_after(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<SignalRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_AFTER)
                .bind(after_id)
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(signal_from_row).collect()
        })
    }
}
