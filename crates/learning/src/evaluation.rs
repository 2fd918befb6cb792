//! OPT-2 evaluation metrics over a set of labelled signals: E (mean `r_net`),
//! Sharpe, Q05 / Q01, MAE_mean / MAE_95 and SPD (signals per day).
//!
//! * **E** — the mean net return per signal, after the round-trip costs of
//!   [`crate::CostModel`].
//! * **Sharpe** — per signal, `E / sd` with the sample standard deviation
//!   (n − 1). It is *not* annualised: signals overlap in time and are not
//!   independent, so `√(signals per year)` would overstate it. Undefined
//!   (`None`) below two signals and when every return is identical (zero
//!   variance cannot tell skill from a degenerate backtest). `t_stat =
//!   Sharpe × √n` is reported beside it for the gate's significance check.
//! * **Q05 / Q01** — the 5 % and 1 % quantiles of `r_net` (linear
//!   interpolation between order statistics, numpy's default): the loss that
//!   one signal in twenty / in a hundred does worse than.
//! * **MAE_mean / MAE_95** — the mean and 95 % quantile of the maximum adverse
//!   excursion magnitudes (see [`crate::labels`]).
//! * **SPD** — signals in the window ÷ the window's length in days.
//! * `win_rate` — the share of signals with `r_net > 0`, for the reports.
//!
//! Undefined figures are `None` (JSON `null`), never NaN and never 0: an empty
//! set has no mean. Inputs must be finite and inside the window; anything else
//! is an error naming `outcomes[i].field`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    CostModel, Labels,
    error::LearningError,
    stats::{mean_sd, quantile_sorted, sorted},
};

/// Which label horizon a signal's return is read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Horizon {
    /// `label_ret_60m`.
    M60,
    /// `label_ret_240m` (the default: it matches the MAE/drawdown window).
    #[default]
    M240,
}

/// One evaluated signal: when it fired, its net return and its adverse
/// excursion. Built from labels ([`SignalOutcome::from_labels`]) or by a
/// backtest that simulated the trade with the strategy's exits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalOutcome {
    /// Signal time.
    pub ts: DateTime<Utc>,
    /// Net return after costs (`r_net`).
    pub r_net: f64,
    /// Maximum adverse excursion, a magnitude (≥ 0).
    pub mae: f64,
}

impl SignalOutcome {
    /// The outcome of a signal at `ts` held for `horizon`, net of `costs`.
    pub fn from_labels(
        ts: DateTime<Utc>,
        labels: &Labels,
        horizon: Horizon,
        costs: &CostModel,
    ) -> Self {
        let r = match horizon {
            Horizon::M60 => labels.ret_60m,
            Horizon::M240 => labels.ret_240m,
        };
        Self {
            ts,
            r_net: costs.net(r),
            mae: labels.mae_240m,
        }
    }
}

/// The period the signals were collected over, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalWindow {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
}

impl EvalWindow {
    /// A window; `to` must be after `from`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, LearningError> {
        if to <= from {
            return Err(LearningError::invalid(
                "window.to",
                format!("must be after window.from ({from}), got {to}"),
            ));
        }
        Ok(Self { from, to })
    }

    /// Length in days (fractional).
    pub fn days(&self) -> f64 {
        (self.to - self.from).num_milliseconds() as f64 / 86_400_000.0
    }

    fn contains(&self, ts: DateTime<Utc>) -> bool {
        self.from <= ts && ts < self.to
    }
}

/// The OPT-2 figures of one signal set (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Number of signals.
    pub n: usize,
    /// Window length in days.
    pub days: f64,
    /// E: mean `r_net`.
    pub e: Option<f64>,
    /// Sample standard deviation of `r_net`.
    pub sd: Option<f64>,
    /// `E / sd` per signal.
    pub sharpe: Option<f64>,
    /// `sharpe × √n`.
    pub t_stat: Option<f64>,
    /// 5 % quantile of `r_net`.
    pub q05: Option<f64>,
    /// 1 % quantile of `r_net`.
    pub q01: Option<f64>,
    /// Mean MAE.
    pub mae_mean: Option<f64>,
    /// 95 % quantile of MAE.
    pub mae_95: Option<f64>,
    /// Signals per day.
    pub spd: f64,
    /// Share of signals with `r_net > 0`.
    pub win_rate: Option<f64>,
}

/// Computes the metrics of `outcomes` collected over `window`.
pub fn evaluate(outcomes: &[SignalOutcome], window: EvalWindow) -> Result<Metrics, LearningError> {
    if window.to <= window.from {
        return Err(LearningError::invalid(
            "window.to",
            format!(
                "must be after window.from ({}), got {}",
                window.from, window.to
            ),
        ));
    }
    for (i, o) in outcomes.iter().enumerate() {
        if !o.r_net.is_finite() {
            return Err(LearningError::invalid(
                format!("outcomes[{i}].r_net"),
                format!("must be finite, got {}", o.r_net),
            ));
        }
        if !o.mae.is_finite() || o.mae < 0.0 {
            return Err(LearningError::invalid(
                format!("outcomes[{i}].mae"),
                format!("must be a finite magnitude ≥ 0, got {}", o.mae),
            ));
        }
        if !window.contains(o.ts) {
            return Err(LearningError::invalid(
                format!("outcomes[{i}].ts"),
                format!(
                    "{} is outside the window [{}, {})",
                    o.ts, window.from, window.to
                ),
            ));
        }
    }
    let n = outcomes.len();
    let returns: Vec<f64> = outcomes.iter().map(|o| o.r_net).collect();
    let (e, sd) = mean_sd(&returns);
    let sharpe = match (e, sd) {
        (Some(e), Some(sd)) if sd > 0.0 => Some(e / sd),
        _ => None,
    };
    let r_sorted = sorted(returns.iter().copied());
    let mae_sorted = sorted(outcomes.iter().map(|o| o.mae));
    let (mae_mean, _) = mean_sd(&mae_sorted);
    let days = window.days();
    Ok(Metrics {
        n,
        days,
        e,
        sd,
        sharpe,
        t_stat: sharpe.map(|s| s * (n as f64).sqrt()),
        q05: quantile_sorted(&r_sorted, 0.05),
        q01: quantile_sorted(&r_sorted, 0.01),
        mae_mean,
        mae_95: quantile_sorted(&mae_sorted, 0.95),
        spd: n as f64 / days,
        win_rate: (n > 0).then(|| returns.iter().filter(|r| **r > 0.0).count() as f64 / n as f64),
    })
}

#[cfg(test)]
mod tests;
