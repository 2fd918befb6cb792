//! The aggregator: module scores → weighted base score (STR-3) → EMA smoothing
//! per market (STR-4, state passed in and out) → the final score
//! `smoothed × regime_weight × bandit_weight × risk_multiplier`, clamped to
//! `[0, 100]` (STR-2) → the signal against the thresholds (STR-5).
//!
//! `regime_weight` is REG-3's `applied_weight(w_label, regime_score)`, the one
//! implementation in the `regime` crate. `bandit_weight` is an input (OPT-4),
//! clamped to `[0.5, 1.5]` and forced to 1 in CHOP and PANIC where the bandit
//! is disabled.

use chrono::{DateTime, Duration, Utc};
use domain::RegimeLabel;
use regime::{Classification, applied_weight};
use serde::{Deserialize, Serialize};

use crate::{StrategyDefinition, score::clamp_score};

/// STR-4 smoothing state of one market.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreState {
    /// The smoothed base score.
    pub ema: f64,
    /// When it was last updated.
    pub updated_at: DateTime<Utc>,
    /// Updates since the last reset.
    pub samples: u32,
}

/// What the score says to do (before any risk check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScoreSignal {
    /// Final score ≥ entry threshold.
    Entry,
    /// Between the thresholds.
    Hold,
    /// Final score < exit threshold.
    Exit,
}

/// One evaluation's aggregate numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Weighted mean of the module scores.
    pub base_score: f64,
    /// EMA of the base score (STR-4).
    pub smoothed_score: f64,
    /// The strategy's `w` for the current label.
    pub regime_policy_weight: f64,
    /// `applied_weight(w, regime_score)` (REG-3).
    pub regime_weight: f64,
    /// The bandit weight used (OPT-4).
    pub bandit_weight: f64,
    /// The risk profile's multiplier (STR-2).
    pub risk_multiplier: f64,
    /// `smoothed × regime × bandit × risk`, in `[0, 100]`.
    pub final_score: f64,
    /// Entry / hold / exit against the thresholds.
    pub signal: ScoreSignal,
}

/// Weighted mean of `(weight, score)` pairs; 0 when the weights sum to 0.
pub fn base_score(weighted: &[(f64, f64)]) -> f64 {
    let total: f64 = weighted.iter().map(|(w, _)| w).sum();
    if total.is_nan() || total <= 0.0 {
        return 0.0;
    }
    clamp_score(
        weighted
            .iter()
            .map(|(w, s)| w * clamp_score(*s))
            .sum::<f64>()
            / total,
    )
}

/// STR-4: the next smoothing state. The EMA restarts from `base` on the first
/// sample, after `reset_after` without an update, or if time went backwards.
pub fn smooth(
    prev: Option<&ScoreState>,
    base: f64,
    alpha: f64,
    reset_after: Duration,
    now: DateTime<Utc>,
) -> ScoreState {
    let base = clamp_score(base);
    match prev {
        Some(p)
            if p.ema.is_finite() && now >= p.updated_at && now - p.updated_at <= reset_after =>
        {
            ScoreState {
                ema: alpha * base + (1.0 - alpha) * p.ema,
                updated_at: now,
                samples: p.samples.saturating_add(1),
            }
        }
        _ => ScoreState {
            ema: base,
            updated_at: now,
            samples: 1,
        },
    }
}

/// OPT-4: the bandit weight actually applied.
pub fn effective_bandit_weight(input: Option<f64>, label: RegimeLabel) -> f64 {
    if !label.bandit_enabled() {
        return 1.0;
    }
    match input {
        Some(w) if w.is_finite() => w.clamp(0.5, 1.5),
        _ => 1.0,
    }
}

/// STR-2: `smoothed × regime_weight × bandit_weight × risk_multiplier` in `[0, 100]`.
pub fn final_score(smoothed: f64, regime_weight: f64, bandit: f64, risk_multiplier: f64) -> f64 {
    clamp_score(smoothed * regime_weight * bandit * risk_multiplier)
}

/// Aggregates one market's module scores. Returns the numbers and the next
/// smoothing state.
pub fn aggregate(
    def: &StrategyDefinition,
    weighted: &[(f64, f64)],
    prev: Option<&ScoreState>,
    regime: Classification,
    bandit: Option<f64>,
    now: DateTime<Utc>,
) -> (Aggregate, ScoreState) {
    let base = base_score(weighted);
    let state = smooth(
        prev,
        base,
        def.smoothing.alpha,
        Duration::minutes(i64::from(def.smoothing.reset_after_minutes)),
        now,
    );
    let w = def.regime_policy.weight(regime.label);
    let regime_weight = applied_weight(w, regime.score);
    // A NaN confidence must not leave a NaN weight: treat it as no confidence.
    let regime_weight = if regime_weight.is_finite() {
        regime_weight
    } else {
        1.0
    };
    let bandit_weight = effective_bandit_weight(bandit, regime.label);
    let risk_multiplier = def.risk.risk_multiplier_f64();
    let final_score = final_score(state.ema, regime_weight, bandit_weight, risk_multiplier);
    let signal = if final_score >= def.thresholds.entry {
        ScoreSignal::Entry
    } else if final_score < def.thresholds.exit {
        ScoreSignal::Exit
    } else {
        ScoreSignal::Hold
    };
    (
        Aggregate {
            base_score: base,
            smoothed_score: state.ema,
            regime_policy_weight: w,
            regime_weight,
            bandit_weight,
            risk_multiplier,
            final_score,
            signal,
        },
        state,
    )
}

#[cfg(test)]
mod tests;
