//! OPT-1 labels: what the market did after a feature snapshot, from the
//! 1-minute candles that follow it, and the cost-adjusted return
//! `r_net = r − (2 × fee + 2 × slippage)`.
//!
//! # Definitions
//!
//! * **Entry.** The snapshot at `t` is a decision; the first price one could
//!   act on is the **open of the first 1-minute candle that starts at or after
//!   `t`**. It must start within [`LabelConfig::max_entry_delay_minutes`] of
//!   `t` (default 5), otherwise the label is unavailable (`NO_ENTRY`): nobody
//!   traded, so there was no price to enter at. Nothing before `t` is read —
//!   not even the candle in progress at `t` — so a label can never leak the
//!   snapshot's own inputs.
//! * **Window.** Horizons count from the entry candle's open time `tₑ`: the
//!   60-minute window is the candles starting in `[tₑ, tₑ + 60 min)`, the
//!   240-minute window those in `[tₑ, tₑ + 240 min)`.
//! * `label_ret_60m` / `label_ret_240m`: last close in the window ÷ entry − 1.
//! * `label_mfe_240m` (maximum favourable excursion): highest high ÷ entry − 1.
//!   Never negative: the entry candle's high is at least its open.
//! * `label_mae_240m` (maximum adverse excursion), **a magnitude**:
//!   1 − lowest low ÷ entry. Never negative; 0.03 means the price was at some
//!   point 3 % below the entry.
//! * `label_dd_240m` (maximum drawdown along the path), a magnitude: the
//!   largest fall from a running peak (starting at the entry price) to a later
//!   low. Inside one candle the order of high and low is unknown, so the
//!   candle's high is assumed to come first — the conservative reading, which
//!   can overstate but never understate the drawdown. Hence `dd ≥ mae`.
//! * Labels are **gross** market returns. [`CostModel::net`] turns one into
//!   `r_net` at evaluation time, so a changed fee or slippage assumption needs
//!   no relabelling of stored snapshots.
//!
//! # Gaps and missing data
//!
//! Upbit emits no candle for a minute without trades, so a missing minute
//! inside sealed data means "price unchanged": the last close carries forward.
//! A run of more than [`LabelConfig::max_gap_minutes`] missing minutes
//! (default 15) — counting the end of the window — is not read as quiet
//! trading but as a halt, a maintenance window or a hole in our data, and the
//! label is `GAP`-unavailable. On the five most traded KRW markets in
//! 2025-09 the longest no-trade run was 5 minutes (KRW-DOGE; BTC 1, XRP
//! none), while Upbit maintenance windows last hours, so 15 minutes separates
//! the two with room for thinner markets in the universe.
//!
//! The caller says how far its data is final with `complete_until`: every
//! minute starting before it is sealed (present if anything traded). Candles
//! at or after it are ignored. A label whose window is not sealed yet is
//! [`LabelOutcome::Pending`] — never zero, never a guess — with the time at
//! which to try again. A candle with a non-finite or non-positive price, or
//! with open/close outside `[low, high]`, inside the window makes the label
//! `INVALID_CANDLE`-unavailable: that market-minute is corrupt and no label
//! built on it can be trusted. Structural caller errors (candles out of order,
//! not on a minute boundary, a bad configuration) are `Err` naming the field.

use chrono::{DateTime, Duration, DurationRound, Utc};
use indicators::Candle;
use serde::{Deserialize, Serialize};

use crate::error::{LearningError, check_range};

/// The short label horizon (`label_ret_60m`), in minutes.
pub const SHORT_HORIZON_MINUTES: i64 = 60;
/// The long label horizon (`label_*_240m`), in minutes.
pub const LONG_HORIZON_MINUTES: i64 = 240;

/// How labels treat late entries and missing minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelConfig {
    /// The entry candle must start within this many minutes after the
    /// snapshot (1–60; default 5).
    pub max_entry_delay_minutes: u32,
    /// The longest run of candle-less minutes read as "no trades" (0–239;
    /// default 15). A longer run makes the label unavailable.
    pub max_gap_minutes: u32,
}

impl Default for LabelConfig {
    fn default() -> Self {
        Self {
            max_entry_delay_minutes: 5,
            max_gap_minutes: 15,
        }
    }
}

impl LabelConfig {
    /// Checks the ranges, naming the field.
    pub fn validate(&self) -> Result<(), LearningError> {
        if !(1..=60).contains(&self.max_entry_delay_minutes) {
            return Err(LearningError::invalid(
                "labels.max_entry_delay_minutes",
                format!(
                    "must be within [1, 60], got {}",
                    self.max_entry_delay_minutes
                ),
            ));
        }
        if self.max_gap_minutes >= LONG_HORIZON_MINUTES as u32 {
            return Err(LearningError::invalid(
                "labels.max_gap_minutes",
                format!("must be within [0, 239], got {}", self.max_gap_minutes),
            ));
        }
        Ok(())
    }
}

/// The five OPT-1 labels of one snapshot (gross returns, see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    /// Open time of the entry candle (`tₑ`).
    pub entry_ts: DateTime<Utc>,
    /// Entry price: that candle's open.
    pub entry_price: f64,
    /// `label_ret_60m`.
    pub ret_60m: f64,
    /// `label_ret_240m`.
    pub ret_240m: f64,
    /// `label_mfe_240m` (≥ 0).
    pub mfe_240m: f64,
    /// `label_mae_240m`, a magnitude (≥ 0).
    pub mae_240m: f64,
    /// `label_dd_240m`, a magnitude (≥ `mae_240m`).
    pub dd_240m: f64,
}

/// Why a label can never be computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Unavailable {
    /// No candle started between the snapshot and `deadline`.
    NoEntry {
        /// Snapshot time + the allowed entry delay.
        deadline: DateTime<Utc>,
    },
    /// Too many minutes without a candle inside the window.
    Gap {
        /// The last minute with a candle before the hole.
        after: DateTime<Utc>,
        /// Minutes missing in a row.
        missing_minutes: i64,
    },
    /// A corrupt candle inside the window.
    InvalidCandle {
        /// Its open time.
        ts: DateTime<Utc>,
        /// What is wrong with it.
        problem: String,
    },
}

/// The result of labelling one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LabelOutcome {
    /// All five labels.
    Ready(Labels),
    /// The window is not sealed yet; try again once `complete_until ≥ ready_at`.
    Pending {
        /// When the data needed will be final.
        ready_at: DateTime<Utc>,
    },
    /// The label can never be computed (store nothing; do not retry).
    Unavailable {
        /// Why.
        reason: Unavailable,
    },
}

/// Trading costs per side, as fractions of the traded value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostModel {
    /// Exchange fee per fill (Upbit KRW: 0.0005 = 0.05 %), 0–0.01.
    pub fee_rate: f64,
    /// Expected slippage per fill versus the reference price, 0–0.05.
    pub slippage: f64,
}

impl Default for CostModel {
    /// Upbit's KRW fee (0.05 %, `risk::UPBIT_FEE_RATE`) and 0.05 % slippage
    /// per side, so a round trip costs 0.2 %. The slippage is an assumption:
    /// a marketable limit order at the best ask pays about half the spread,
    /// and 0.1 % spreads are common on the liquid markets the universe keeps.
    /// Replace it with the slippage measured on PAPER/LIVE fills once there
    /// are enough of them.
    fn default() -> Self {
        Self {
            fee_rate: 0.0005,
            slippage: 0.0005,
        }
    }
}

impl CostModel {
    /// Checks the ranges, naming the field.
    pub fn validate(&self) -> Result<(), LearningError> {
        check_range("costs.fee_rate", self.fee_rate, 0.0, 0.01)?;
        check_range("costs.slippage", self.slippage, 0.0, 0.05)
    }

    /// `2 × fee + 2 × slippage`: entering and leaving once.
    pub fn round_trip(&self) -> f64 {
        2.0 * self.fee_rate + 2.0 * self.slippage
    }

    /// OPT-1: `r_net = r − (2 × fee + 2 × slippage)`.
    pub fn net(&self, r: f64) -> f64 {
        r - self.round_trip()
    }
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

/// Checks the series is strictly ascending and on minute boundaries.
fn check_series(candles: &[Candle]) -> Result<(), LearningError> {
    for (i, c) in candles.iter().enumerate() {
        if c.ts.duration_trunc(minutes(1)).ok() != Some(c.ts) {
            return Err(LearningError::invalid(
                format!("candles[{i}].ts"),
                format!(
                    "a 1-minute candle must start on a whole minute, got {}",
                    c.ts
                ),
            ));
        }
        if i > 0 && c.ts <= candles[i - 1].ts {
            return Err(LearningError::invalid(
                format!("candles[{i}].ts"),
                format!(
                    "candles must be strictly ascending; {} follows {}",
                    c.ts,
                    candles[i - 1].ts
                ),
            ));
        }
    }
    Ok(())
}

/// What is wrong with a candle's prices, if anything.
fn candle_problem(c: &Candle) -> Option<String> {
    for (name, v) in [
        ("open", c.open),
        ("high", c.high),
        ("low", c.low),
        ("close", c.close),
    ] {
        if !v.is_finite() || v <= 0.0 {
            return Some(format!("{name} must be a positive finite price, got {v}"));
        }
    }
    if c.low > c.open.min(c.close) || c.high < c.open.max(c.close) {
        return Some(format!(
            "open {} / close {} outside [low {}, high {}]",
            c.open, c.close, c.low, c.high
        ));
    }
    None
}

fn unavailable(reason: Unavailable) -> LabelOutcome {
    LabelOutcome::Unavailable { reason }
}

/// Labels the snapshot taken at `t` from the market's 1-minute `candles`
/// (ascending; any span — only candles in `[t, tₑ + 240 min)` that start
/// before `complete_until` are read).
pub fn label(
    t: DateTime<Utc>,
    candles: &[Candle],
    complete_until: DateTime<Utc>,
    cfg: &LabelConfig,
) -> Result<LabelOutcome, LearningError> {
    cfg.validate()?;
    check_series(candles)?;
    let sealed = &candles[..candles.partition_point(|c| c.ts < complete_until)];
    let future = &sealed[sealed.partition_point(|c| c.ts < t)..];
    let deadline = t + minutes(i64::from(cfg.max_entry_delay_minutes));
    let entry = match future.first() {
        Some(c) if c.ts <= deadline => c,
        Some(_) => return Ok(unavailable(Unavailable::NoEntry { deadline })),
        None if complete_until > deadline => {
            return Ok(unavailable(Unavailable::NoEntry { deadline }));
        }
        None => {
            let last_needed = deadline.duration_trunc(minutes(1)).unwrap_or(deadline);
            return Ok(LabelOutcome::Pending {
                ready_at: last_needed + minutes(1),
            });
        }
    };
    let end = entry.ts + minutes(LONG_HORIZON_MINUTES);
    if complete_until < end {
        return Ok(LabelOutcome::Pending { ready_at: end });
    }
    let window = &future[..future.partition_point(|c| c.ts < end)];
    let short_end = entry.ts + minutes(SHORT_HORIZON_MINUTES);
    let max_gap = i64::from(cfg.max_gap_minutes);

    let p0 = entry.open;
    let (mut peak, mut high, mut low, mut dd) = (p0, p0, p0, 0.0_f64);
    let (mut close_short, mut close_long) = (p0, p0);
    let mut prev = entry.ts - minutes(1);
    for c in window {
        if let Some(problem) = candle_problem(c) {
            return Ok(unavailable(Unavailable::InvalidCandle {
                ts: c.ts,
                problem,
            }));
        }
        let missing = (c.ts - prev).num_minutes() - 1;
        if missing > max_gap {
            return Ok(unavailable(Unavailable::Gap {
                after: prev,
                missing_minutes: missing,
            }));
        }
        prev = c.ts;
        peak = peak.max(c.high);
        dd = dd.max(1.0 - c.low / peak);
        high = high.max(c.high);
        low = low.min(c.low);
        if c.ts < short_end {
            close_short = c.close;
        }
        close_long = c.close;
    }
    let trailing = (end - prev).num_minutes() - 1;
    if trailing > max_gap {
        return Ok(unavailable(Unavailable::Gap {
            after: prev,
            missing_minutes: trailing,
        }));
    }
    Ok(LabelOutcome::Ready(Labels {
        entry_ts: entry.ts,
        entry_price: p0,
        ret_60m: close_short / p0 - 1.0,
        ret_240m: close_long / p0 - 1.0,
        mfe_240m: high / p0 - 1.0,
        mae_240m: 1.0 - low / p0,
        dd_240m: dd,
    }))
}

#[cfg(test)]
mod tests;
