//! Per-trader runtime-guard state (STAB-1, RISK-6, RUN-1, RUN-4): the
//! trading day's loss, consecutive losses, the kill switch (with its reason;
//! resuming needs a manual write) and the per-market blacklist. One row per
//! trader, overwritten as it changes, so a restarted trader resumes its guard.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use domain::{Krw, Market, TraderId, ValidationError};

use crate::{
    StorageError, Store,
    db::{
        Sql2,
        codec::{self, from_ms, ms},
        on_pool,
        row::{Cols, RowExt},
    },
};

const UPSERT: Sql2 = Sql2 {
    sqlite: "INSERT INTO trader_safety_state (trader_id, trading_day, daily_loss_krw, \
             consecutive_losses, kill_switch, kill_reason, blacklist, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trader_id) DO UPDATE SET \
             trading_day = excluded.trading_day, daily_loss_krw = excluded.daily_loss_krw, \
             consecutive_losses = excluded.consecutive_losses, kill_switch = excluded.kill_switch, \
             kill_reason = excluded.kill_reason, blacklist = excluded.blacklist, \
             updated_at = excluded.updated_at",
    mysql: "INSERT INTO trader_safety_state (trader_id, trading_day, daily_loss_krw, \
            consecutive_losses, kill_switch, kill_reason, blacklist, updated_at) \
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE \
            trading_day = VALUES(trading_day), daily_loss_krw = VALUES(daily_loss_krw), \
            consecutive_losses = VALUES(consecutive_losses), kill_switch = VALUES(kill_switch), \
            kill_reason = VALUES(kill_reason), blacklist = VALUES(blacklist), \
            updated_at = VALUES(updated_at)",
};
const GET: &str = "SELECT trader_id, trading_day, daily_loss_krw, consecutive_losses, kill_switch, \
    kill_reason, blacklist, updated_at FROM trader_safety_state WHERE trader_id = ?";
const LIST: &str = "SELECT trader_id, trading_day, daily_loss_krw, consecutive_losses, kill_switch, \
    kill_reason, blacklist, updated_at FROM trader_safety_state ORDER BY trader_id";
/// An operator's trip: only the kill-switch columns of an existing row change.
const TRIP: Sql2 = Sql2 {
    sqlite: "INSERT INTO trader_safety_state (trader_id, trading_day, daily_loss_krw, \
             consecutive_losses, kill_switch, kill_reason, blacklist, updated_at) \
             VALUES (?, ?, ?, 0, ?, ?, '{}', ?) ON CONFLICT (trader_id) DO UPDATE SET \
             kill_switch = excluded.kill_switch, kill_reason = excluded.kill_reason, \
             updated_at = excluded.updated_at",
    mysql: "INSERT INTO trader_safety_state (trader_id, trading_day, daily_loss_krw, \
            consecutive_losses, kill_switch, kill_reason, blacklist, updated_at) \
            VALUES (?, ?, ?, 0, ?, ?, '{}', ?) ON DUPLICATE KEY UPDATE \
            kill_switch = VALUES(kill_switch), kill_reason = VALUES(kill_reason), \
            updated_at = VALUES(updated_at)",
};
/// An operator's confirmed resume, only while the kill switch is on.
const RESUME: &str = "UPDATE trader_safety_state SET kill_switch = ?, kill_reason = NULL, \
    daily_loss_krw = ?, consecutive_losses = 0, updated_at = ? \
    WHERE trader_id = ? AND kill_switch = ?";

/// One trader's guard state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyState {
    /// Owner.
    pub trader_id: TraderId,
    /// The UTC day the loss figures belong to.
    pub trading_day: NaiveDate,
    /// Net loss so far that day (positive = loss).
    pub daily_loss: Krw,
    /// Losing trades in a row.
    pub consecutive_losses: u32,
    /// Kill switch engaged: no new entries until an operator clears it.
    pub kill_switch: bool,
    /// Why it was engaged.
    pub kill_reason: Option<String>,
    /// Markets blacklisted until the given time (RUN-1: 10 minutes).
    pub blacklist: BTreeMap<Market, DateTime<Utc>>,
    /// When this was last written.
    pub updated_at: DateTime<Utc>,
}

impl SafetyState {
    /// A clean state for `day`.
    pub fn new(trader_id: TraderId, trading_day: NaiveDate, now: DateTime<Utc>) -> Self {
        Self {
            trader_id,
            trading_day,
            daily_loss: Krw::ZERO,
            consecutive_losses: 0,
            kill_switch: false,
            kill_reason: None,
            blacklist: BTreeMap::new(),
            updated_at: now,
        }
    }

    /// True when `market` is blacklisted at `now`.
    pub fn is_blacklisted(&self, market: &Market, now: DateTime<Utc>) -> bool {
        self.blacklist.get(market).is_some_and(|until| *until > now)
    }
}

fn blacklist_json(b: &BTreeMap<Market, DateTime<Utc>>) -> Result<String, ValidationError> {
    let as_ms: BTreeMap<&str, i64> = b.iter().map(|(m, t)| (m.as_str(), ms(*t))).collect();
    codec::json("blacklist", &as_ms)
}

fn safety_from_row<R: RowExt>(r: &R) -> Result<SafetyState, StorageError> {
    let c = Cols::new(r, "trader_safety_state");
    let day_text = c.text("trading_day")?;
    let trading_day = NaiveDate::parse_from_str(&day_text, "%Y-%m-%d").map_err(|e| {
        StorageError::corrupt(
            "trader_safety_state",
            "trading_day",
            format!("{e}: {day_text:?}"),
        )
    })?;
    let raw: BTreeMap<String, i64> = c.json("blacklist")?;
    let mut blacklist = BTreeMap::new();
    for (m, t) in raw {
        let market = Market::parse("blacklist", &m)
            .map_err(|e| StorageError::corrupt("trader_safety_state", "blacklist", e.message))?;
        let until = from_ms(t).ok_or_else(|| {
            StorageError::corrupt("trader_safety_state", "blacklist", format!("bad time {t}"))
        })?;
        blacklist.insert(market, until);
    }
    Ok(SafetyState {
        trader_id: c.id("trader_id", TraderId::new)?,
        trading_day,
        daily_loss: c.krw("daily_loss_krw")?,
        consecutive_losses: c.u32("consecutive_losses")?,
        kill_switch: c.bool("kill_switch")?,
        kill_reason: c.opt_text("kill_reason")?,
        blacklist,
        updated_at: c.ts("updated_at")?,
    })
}

/// The safety-state repository.
#[derive(Debug, Clone, Copy)]
pub struct Safety<'a> {
    store: &'a Store,
}

impl<'a> Safety<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Writes a trader's whole guard state (insert or replace).
    pub async fn put(&self, s: &SafetyState) -> Result<(), StorageError> {
        let loss = codec::money("daily_loss", s.daily_loss.get())?;
        let blacklist = blacklist_json(&s.blacklist)?;
        let reason = s
            .kill_reason
            .as_deref()
            .map(|r| codec::text("kill_reason", r, 2000))
            .transpose()?;
        let day = s.trading_day.format("%Y-%m-%d").to_string();
        on_pool!(self.store, |pool, d| {
            sqlx::query(d.pick(&UPSERT))
                .bind(s.trader_id.get())
                .bind(day.as_str())
                .bind(loss.as_str())
                .bind(i64::from(s.consecutive_losses))
                .bind(s.kill_switch)
                .bind(reason)
                .bind(blacklist.as_str())
                .bind(ms(s.updated_at))
                .execute(pool)
                .await
                .map_err(crate::error::on_foreign_key(
                    "trader_id",
                    format!("trader {} does not exist", s.trader_id),
                ))?;
        });
        Ok(())
    }

    /// A trader's guard state (None before the first write).
    pub async fn get(&self, trader: TraderId) -> Result<Option<SafetyState>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET)
                .bind(trader.get())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(safety_from_row).transpose()
        })
    }

    /// Every trader's guard state.
    pub async fn list(&self) -> Result<Vec<SafetyState>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST).fetch_all(pool).await?;
            rows.iter().map(safety_from_row).collect()
        })
    }

    /// RUN-4 by an operator: turns the kill switch on with `reason` in one
    /// statement that changes nothing else of an existing row (the trader's
    /// loss figures and blacklist stay); a trader that never wrote its state
    /// gets a clean row for `day`. The trader adopts the change at its next
    /// cycle, or restores it at its next start.
    pub async fn trip_kill_switch(
        &self,
        trader: TraderId,
        reason: &str,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let reason = codec::text("kill_reason", reason, 2000)?;
        let zero = codec::money("daily_loss", Krw::ZERO.get())?;
        let day = day.format("%Y-%m-%d").to_string();
        on_pool!(self.store, |pool, d| {
            sqlx::query(d.pick(&TRIP))
                .bind(trader.get())
                .bind(day.as_str())
                .bind(zero.as_str())
                .bind(true)
                .bind(reason)
                .bind(ms(now))
                .execute(pool)
                .await
                .map_err(crate::error::on_foreign_key(
                    "trader_id",
                    format!("trader {trader} does not exist"),
                ))?;
        });
        Ok(())
    }

    /// RUN-4's confirmed manual resume by an operator: the kill switch goes
    /// off and what the guard's manual resume clears is cleared too (the
    /// day's loss counts from now, the loss streak restarts), in one
    /// statement that only applies while the kill switch is on. Returns false
    /// (nothing written) when it was not on.
    pub async fn resume_kill_switch(
        &self,
        trader: TraderId,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let zero = codec::money("daily_loss", Krw::ZERO.get())?;
        let changed = on_pool!(self.store, |pool, _d| {
            sqlx::query(RESUME)
                .bind(false)
                .bind(zero.as_str())
                .bind(ms(now))
                .bind(trader.get())
                .bind(true)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }
}
