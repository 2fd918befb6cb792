//! STAB-2 baseline & drift: the baseline model's 14-day reference, the
//! deployed model's 24 h rolling metrics, DRIFT_WARN, and the AUTO_ROLLBACK
//! rules.
//!
//! # Rules and defaults ([`DriftConfig`])
//!
//! * **Baseline reference** ([`BaselineReference`]): the trades of the
//!   baseline model (`baseline_model_id`, the model rolled back to) closed in
//!   the 14 days before the reference end: count, mean and standard deviation
//!   of the per-trade net return, trades per day. With fewer than
//!   `min_baseline_trades` (20) trades, or no spread, drift is not judged.
//! * **24 h rolling metrics** ([`RollingMetrics`]) of the deployed model over
//!   `(now − 24 h, now]`: trades, `net_return_24h` (the sum of the trades'
//!   P&L as fractions of equity — realised only), mean net return, win rate;
//!   plus `consecutive_losses`, the run of losing trades (net return < 0; a
//!   break-even trade ends it) at the end of the model's whole history since
//!   deployment.
//! * **DRIFT_WARN** when either holds (with ≥ `min_rolling_trades` (5) trades
//!   in the window and a usable baseline):
//!   * *performance*: `z = (mean₂₄ₕ − mean_base) / (sd_base / √n₂₄ₕ) < −drift_z`
//!     (2.0) — the last day's trades are worse than the baseline by more than
//!     two standard errors;
//!   * *activity*: trades in 24 h > `max_activity_ratio` (3) × the baseline's
//!     trades per day — the model fires far more often than its reference,
//!     a sign that its inputs have shifted.
//! * **AUTO_ROLLBACK** when any of SPEC's three holds:
//!   `net_return_24h < −2 %` (strict, with a 1e-9 tolerance so that a loss of
//!   exactly 2 % — up to float rounding — does not fire), DRIFT_WARN on
//!   `drift_warn_limit` (3) counted checks in a row, or
//!   `consecutive_losses ≥ 5`.
//! * **Counted checks.** The trainer may check as often as it likes, but a
//!   check only advances (or resets) the DRIFT_WARN streak when at least
//!   `min_check_spacing_minutes` (60) passed since the last counted one;
//!   otherwise three checks a minute apart over nearly the same 24 h would
//!   roll back on one bad hour. The other two rules fire on every check.
//!
//! The rollback itself goes through the domain lifecycle table; see
//! [`crate::deployment`].

use chrono::{DateTime, Duration, Utc};
use domain::ModelVersionId;
use serde::{Deserialize, Serialize};

use crate::{
    error::{LearningError, check_range},
    stats::mean_sd,
};

/// Tolerance of the `net_return_24h < limit` comparison.
const NET_RETURN_EPSILON: f64 = 1e-9;

/// STAB-2's numbers (reasoning in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftConfig {
    /// Baseline reference window in days (1–90; SPEC: 14).
    pub baseline_window_days: u32,
    /// Rolling window in hours (1–168; SPEC: 24).
    pub rolling_window_hours: u32,
    /// Roll back when `net_return_24h` is below this (−0.5–0; SPEC: −0.02).
    pub rollback_net_return_24h: f64,
    /// Roll back after this many DRIFT_WARN checks in a row (1–100; SPEC: 3).
    pub drift_warn_limit: u32,
    /// Roll back at this many consecutive losses (1–100; SPEC: 5).
    pub consecutive_loss_limit: u32,
    /// Performance drift threshold in standard errors (0.5–10; default 2).
    pub drift_z: f64,
    /// Trades needed in the rolling window to judge drift (1–1000; default 5).
    pub min_rolling_trades: usize,
    /// Baseline trades needed to judge drift (2–100 000; default 20).
    pub min_baseline_trades: usize,
    /// Activity drift: rolling trades per day above this × the baseline's (1–100; default 3).
    pub max_activity_ratio: f64,
    /// Minutes between checks that count toward the streak (0–1440; default 60).
    pub min_check_spacing_minutes: u32,
}

impl Default for DriftConfig {
    fn default() -> Self {
        Self {
            baseline_window_days: 14,
            rolling_window_hours: 24,
            rollback_net_return_24h: -0.02,
            drift_warn_limit: 3,
            consecutive_loss_limit: 5,
            drift_z: 2.0,
            min_rolling_trades: 5,
            min_baseline_trades: 20,
            max_activity_ratio: 3.0,
            min_check_spacing_minutes: 60,
        }
    }
}

fn check_int(field: &str, v: u64, lo: u64, hi: u64) -> Result<(), LearningError> {
    if v < lo || v > hi {
        return Err(LearningError::invalid(
            field,
            format!("must be within [{lo}, {hi}], got {v}"),
        ));
    }
    Ok(())
}

impl DriftConfig {
    /// Checks every field, naming it.
    pub fn validate(&self) -> Result<(), LearningError> {
        check_int(
            "drift.baseline_window_days",
            self.baseline_window_days.into(),
            1,
            90,
        )?;
        check_int(
            "drift.rolling_window_hours",
            self.rolling_window_hours.into(),
            1,
            168,
        )?;
        check_range(
            "drift.rollback_net_return_24h",
            self.rollback_net_return_24h,
            -0.5,
            0.0,
        )?;
        check_int(
            "drift.drift_warn_limit",
            self.drift_warn_limit.into(),
            1,
            100,
        )?;
        check_int(
            "drift.consecutive_loss_limit",
            self.consecutive_loss_limit.into(),
            1,
            100,
        )?;
        check_range("drift.drift_z", self.drift_z, 0.5, 10.0)?;
        check_int(
            "drift.min_rolling_trades",
            self.min_rolling_trades as u64,
            1,
            1000,
        )?;
        check_int(
            "drift.min_baseline_trades",
            self.min_baseline_trades as u64,
            2,
            100_000,
        )?;
        check_range(
            "drift.max_activity_ratio",
            self.max_activity_ratio,
            1.0,
            100.0,
        )?;
        check_int(
            "drift.min_check_spacing_minutes",
            self.min_check_spacing_minutes.into(),
            0,
            1440,
        )
    }

    fn baseline_window(&self) -> Duration {
        Duration::days(self.baseline_window_days.into())
    }

    fn rolling_window(&self) -> Duration {
        Duration::hours(self.rolling_window_hours.into())
    }
}

/// One closed trade of a model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClosedTrade {
    /// When it closed.
    pub closed_at: DateTime<Utc>,
    /// Net return on the position (`r_net`, after fees).
    pub net_return: f64,
    /// Net P&L as a fraction of account equity (> −1).
    pub equity_return: f64,
}

fn check_trades(trades: &[ClosedTrade], now: Option<DateTime<Utc>>) -> Result<(), LearningError> {
    for (i, t) in trades.iter().enumerate() {
        let field = |f: &str| format!("trades[{i}].{f}");
        if !t.net_return.is_finite() {
            return Err(LearningError::invalid(
                field("net_return"),
                format!("must be finite, got {}", t.net_return),
            ));
        }
        if !t.equity_return.is_finite() || t.equity_return <= -1.0 {
            return Err(LearningError::invalid(
                field("equity_return"),
                format!("must be a finite number above -1, got {}", t.equity_return),
            ));
        }
        if i > 0 && t.closed_at < trades[i - 1].closed_at {
            return Err(LearningError::invalid(
                field("closed_at"),
                "trades must be in closing order",
            ));
        }
        if let Some(now) = now.filter(|n| t.closed_at > *n) {
            return Err(LearningError::invalid(
                field("closed_at"),
                format!("{} is after the check time {now}", t.closed_at),
            ));
        }
    }
    Ok(())
}

/// The baseline model's reference figures over its 14-day window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineReference {
    /// `baseline_model_id`.
    pub model_id: ModelVersionId,
    /// Window start (inclusive).
    pub from: DateTime<Utc>,
    /// Window end (exclusive).
    pub to: DateTime<Utc>,
    /// Trades in the window.
    pub trades: usize,
    /// Mean net return per trade.
    pub mean: Option<f64>,
    /// Its sample standard deviation.
    pub sd: Option<f64>,
    /// Trades per day.
    pub trades_per_day: f64,
}

impl BaselineReference {
    /// The reference of `model_id` from its `trades` (closing order) closed
    /// in `[end − window, end)`.
    pub fn from_trades(
        model_id: ModelVersionId,
        trades: &[ClosedTrade],
        end: DateTime<Utc>,
        cfg: &DriftConfig,
    ) -> Result<Self, LearningError> {
        cfg.validate()?;
        check_trades(trades, None)?;
        let from = end - cfg.baseline_window();
        let returns: Vec<f64> = trades
            .iter()
            .filter(|t| t.closed_at >= from && t.closed_at < end)
            .map(|t| t.net_return)
            .collect();
        let (mean, sd) = mean_sd(&returns);
        Ok(Self {
            model_id,
            from,
            to: end,
            trades: returns.len(),
            mean,
            sd,
            trades_per_day: returns.len() as f64 / f64::from(cfg.baseline_window_days),
        })
    }

    fn usable(&self, cfg: &DriftConfig) -> Option<(f64, f64)> {
        match (self.mean, self.sd) {
            (Some(m), Some(sd)) if self.trades >= cfg.min_baseline_trades && sd > 0.0 => {
                Some((m, sd))
            }
            _ => None,
        }
    }
}

/// The deployed model's figures at one check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RollingMetrics {
    /// Window start (exclusive).
    pub from: DateTime<Utc>,
    /// Window end (inclusive) = the check time.
    pub to: DateTime<Utc>,
    /// Trades closed in the window.
    pub trades: usize,
    /// Sum of the window's equity returns.
    pub net_return_24h: f64,
    /// Mean net return per trade in the window.
    pub mean_net_return: Option<f64>,
    /// Share of winning trades in the window.
    pub win_rate: Option<f64>,
    /// Losing trades in a row at the end of the history.
    pub consecutive_losses: u32,
    /// Performance drift z-score (when judged).
    pub drift_z: Option<f64>,
    /// Rolling trades per day ÷ the baseline's (when judged).
    pub activity_ratio: Option<f64>,
}

/// Why DRIFT_WARN was raised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DriftWarn {
    /// The last day's trades are worse than the baseline's.
    Performance {
        /// The z-score.
        z: f64,
    },
    /// The model trades far more often than its baseline.
    Activity {
        /// Rolling rate ÷ baseline rate.
        ratio: f64,
    },
}

/// Why AUTO_ROLLBACK fires.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RollbackReason {
    /// `net_return_24h` below the limit.
    NetReturn24h {
        /// The value.
        value: f64,
        /// The limit.
        limit: f64,
    },
    /// DRIFT_WARN on this many counted checks in a row.
    DriftWarnStreak {
        /// The streak.
        count: u32,
    },
    /// This many losing trades in a row.
    ConsecutiveLosses {
        /// The run.
        count: u32,
    },
}

impl std::fmt::Display for RollbackReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NetReturn24h { value, limit } => write!(
                f,
                "net_return_24h {:.2} % < {:.2} %",
                value * 100.0,
                limit * 100.0
            ),
            Self::DriftWarnStreak { count } => write!(f, "DRIFT_WARN {count} times in a row"),
            Self::ConsecutiveLosses { count } => write!(f, "{count} consecutive losses"),
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftCheck {
    /// The figures.
    pub metrics: RollingMetrics,
    /// DRIFT_WARN reasons (empty: no warning).
    pub warnings: Vec<DriftWarn>,
    /// Whether this check advanced or reset the streak.
    pub counted: bool,
    /// DRIFT_WARN checks in a row after this one.
    pub warn_streak: u32,
    /// AUTO_ROLLBACK reasons (empty: keep running).
    pub rollback: Vec<RollbackReason>,
}

impl DriftCheck {
    /// DRIFT_WARN raised by this check.
    pub fn is_warn(&self) -> bool {
        !self.warnings.is_empty()
    }

    /// AUTO_ROLLBACK is due.
    pub fn should_roll_back(&self) -> bool {
        !self.rollback.is_empty()
    }
}

/// The drift state of one deployed model (persist it between checks, e.g.
/// in the model version's metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftMonitor {
    /// The model being watched.
    pub deployed_model_id: ModelVersionId,
    /// The baseline's reference, if there is a baseline.
    pub baseline: Option<BaselineReference>,
    /// DRIFT_WARN checks in a row.
    pub warn_streak: u32,
    /// The last check that counted toward the streak.
    pub last_counted_at: Option<DateTime<Utc>>,
}

impl DriftMonitor {
    /// A fresh monitor for a newly deployed model.
    pub fn new(deployed_model_id: ModelVersionId, baseline: Option<BaselineReference>) -> Self {
        Self {
            deployed_model_id,
            baseline,
            warn_streak: 0,
            last_counted_at: None,
        }
    }

    /// Checks the deployed model's `trades` since its deployment (closing
    /// order, none after `now`).
    pub fn check(
        &mut self,
        trades: &[ClosedTrade],
        now: DateTime<Utc>,
        cfg: &DriftConfig,
    ) -> Result<DriftCheck, LearningError> {
        cfg.validate()?;
        check_trades(trades, Some(now))?;
        let from = now - cfg.rolling_window();
        let window: Vec<&ClosedTrade> = trades.iter().filter(|t| t.closed_at > from).collect();
        let n = window.len();
        let returns: Vec<f64> = window.iter().map(|t| t.net_return).collect();
        let (mean, _) = mean_sd(&returns);
        let net_return_24h: f64 = window.iter().map(|t| t.equity_return).sum();
        let consecutive_losses = trades
            .iter()
            .rev()
            .take_while(|t| t.net_return < 0.0)
            .count()
            .try_into()
            .unwrap_or(u32::MAX);

        let reference = self
            .baseline
            .as_ref()
            .and_then(|b| b.usable(cfg).map(|ms| (b, ms)));
        let judged = n >= cfg.min_rolling_trades;
        let drift_z = match (reference, mean) {
            (Some((_, (base_mean, base_sd))), Some(m)) if judged => {
                Some((m - base_mean) / (base_sd / (n as f64).sqrt()))
            }
            _ => None,
        };
        let rolling_days = f64::from(cfg.rolling_window_hours) / 24.0;
        let activity_ratio = match reference {
            Some((b, _)) if judged && b.trades_per_day > 0.0 => {
                Some(n as f64 / rolling_days / b.trades_per_day)
            }
            _ => None,
        };
        let mut warnings = Vec::new();
        if let Some(z) = drift_z.filter(|z| *z < -cfg.drift_z) {
            warnings.push(DriftWarn::Performance { z });
        }
        if let Some(ratio) = activity_ratio.filter(|r| *r > cfg.max_activity_ratio) {
            warnings.push(DriftWarn::Activity { ratio });
        }

        let spacing = Duration::minutes(cfg.min_check_spacing_minutes.into());
        let counted = self.last_counted_at.is_none_or(|t| now >= t + spacing);
        if counted {
            self.warn_streak = if warnings.is_empty() {
                0
            } else {
                self.warn_streak.saturating_add(1)
            };
            self.last_counted_at = Some(now);
        }

        let mut rollback = Vec::new();
        if net_return_24h < cfg.rollback_net_return_24h - NET_RETURN_EPSILON {
            rollback.push(RollbackReason::NetReturn24h {
                value: net_return_24h,
                limit: cfg.rollback_net_return_24h,
            });
        }
        if self.warn_streak >= cfg.drift_warn_limit {
            rollback.push(RollbackReason::DriftWarnStreak {
                count: self.warn_streak,
            });
        }
        if consecutive_losses >= cfg.consecutive_loss_limit {
            rollback.push(RollbackReason::ConsecutiveLosses {
                count: consecutive_losses,
            });
        }
        Ok(DriftCheck {
            metrics: RollingMetrics {
                from,
                to: now,
                trades: n,
                net_return_24h,
                mean_net_return: mean,
                win_rate: (n > 0)
                    .then(|| returns.iter().filter(|r| **r > 0.0).count() as f64 / n as f64),
                consecutive_losses,
                drift_z,
                activity_ratio,
            },
            warnings,
            counted,
            warn_streak: self.warn_streak,
            rollback,
        })
    }
}

#[cfg(test)]
mod tests;
