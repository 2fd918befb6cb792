//! Classification (REG-1): the six inputs → one of five labels plus a
//! `regime_score` in `[0, 100]` expressing confidence.
//!
//! # Rules
//!
//! Checked in this order; the first that holds wins (survival first):
//!
//! 1. **PANIC**: `breadth_up_1h ≤ panic_breadth_max` **and**
//!    (`btc_atr_pct_4h ≥ panic_atr_pct_min` **or** `dispersion_1h ≥
//!    panic_dispersion_min`) — nearly everything falls, and either volatility
//!    is already high or the fall is violent enough to blow the cross-section
//!    apart (a sudden crash shows there hours before the 4h ATR reacts).
//! 2. **CHOP**: `btc_adx_4h < trend_adx_min` **and** (`whipsaw_5m ≥
//!    chop_whipsaw_min` **or** `btc_atr_pct_4h ≥ chop_atr_pct_min`)
//!    (no direction, and either direction keeps flipping or it is violent).
//! 3. **BREAKOUT_ROTATION**: `breadth_up_1h ≥ rotation_breadth_min` **and**
//!    `dispersion_1h ≥ rotation_dispersion_min` **and**
//!    `top5_value_share_1h ≥ rotation_top5_share_min` (broad participation,
//!    leaders pulling away, money concentrating in them).
//! 4. **TREND**: `btc_adx_4h ≥ trend_adx_min`.
//! 5. **RANGE**: none of the above.
//!
//! # Score
//!
//! Each comparison `x ≥ t` has a *margin* `|x − t| / scale` (the scale per
//! input is in [`RegimeConfig`]). A conjunction that holds is as strong as its
//! weakest part; one that fails is as strongly false as its most-violated
//! part (a disjunction the other way round). The score is how robust the
//! decision is: the margin by which the chosen rule holds, and by which every
//! higher-priority rule fails, whichever is smallest, capped at 1, × 100. So
//! 0 means "on a boundary — a tiny move flips the label", 100 means every
//! deciding input is at least one scale away from its threshold. Since the
//! score is 0 on both sides of a boundary, the REG-3 applied weight is
//! continuous even when the label changes.

use chrono::{DateTime, Utc};
use domain::RegimeLabel;
use serde::{Deserialize, Serialize};

use crate::{InputName, RegimeConfig, RegimeError, RegimeInputs};

/// The engine version stored with every regime.
pub const ENGINE_VERSION: &str = "regime-v1.0";

/// A label with its confidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The regime label (REG-1).
    pub label: RegimeLabel,
    /// Confidence in `[0, 100]`.
    pub score: f64,
}

/// A truth value with how far it is from flipping (`strength ≥ 0`).
#[derive(Debug, Clone, Copy)]
struct Verdict {
    holds: bool,
    strength: f64,
}

impl Verdict {
    /// `x ≥ t`, with margin `|x − t| / scale`.
    fn at_least(x: f64, t: f64, scale: f64) -> Self {
        Self {
            holds: x >= t,
            strength: (x - t).abs() / scale,
        }
    }

    /// `x ≤ t`.
    fn at_most(x: f64, t: f64, scale: f64) -> Self {
        Self {
            holds: x <= t,
            strength: (x - t).abs() / scale,
        }
    }

    /// `x < t`.
    fn below(x: f64, t: f64, scale: f64) -> Self {
        Self {
            holds: x < t,
            strength: (x - t).abs() / scale,
        }
    }

    fn all(parts: &[Self]) -> Self {
        if parts.iter().all(|p| p.holds) {
            Self {
                holds: true,
                strength: parts
                    .iter()
                    .map(|p| p.strength)
                    .fold(f64::INFINITY, f64::min),
            }
        } else {
            Self {
                holds: false,
                strength: parts
                    .iter()
                    .filter(|p| !p.holds)
                    .map(|p| p.strength)
                    .fold(0.0, f64::max),
            }
        }
    }

    fn any(parts: &[Self]) -> Self {
        if parts.iter().any(|p| p.holds) {
            Self {
                holds: true,
                strength: parts
                    .iter()
                    .filter(|p| p.holds)
                    .map(|p| p.strength)
                    .fold(0.0, f64::max),
            }
        } else {
            Self {
                holds: false,
                strength: parts
                    .iter()
                    .map(|p| p.strength)
                    .fold(f64::INFINITY, f64::min),
            }
        }
    }
}

/// Checks that every input is present and in range.
fn check_inputs(inputs: &RegimeInputs) -> Result<(), RegimeError> {
    let missing = inputs.missing();
    if !missing.is_empty() {
        return Err(RegimeError::InsufficientData { missing });
    }
    for (name, value) in inputs.iter() {
        let (lo, hi) = name.range();
        if !(lo..=hi).contains(&value) {
            return Err(RegimeError::InvalidInput {
                input: name,
                value,
                range: match name {
                    InputName::BtcAdx4h => "[0, 100]",
                    InputName::BtcAtrPct4h | InputName::Dispersion1h => "[0, ∞)",
                    _ => "[0, 1]",
                },
            });
        }
    }
    Ok(())
}

/// The five rules, in priority order.
fn rules(i: &RegimeInputs, c: &RegimeConfig) -> [(RegimeLabel, Verdict); 5] {
    let no_trend = Verdict::below(i.btc_adx_4h, c.trend_adx_min, c.adx_scale);
    let panic = Verdict::all(&[
        Verdict::at_most(i.breadth_up_1h, c.panic_breadth_max, c.breadth_scale),
        Verdict::any(&[
            Verdict::at_least(i.btc_atr_pct_4h, c.panic_atr_pct_min, c.atr_pct_scale),
            Verdict::at_least(i.dispersion_1h, c.panic_dispersion_min, c.dispersion_scale),
        ]),
    ]);
    let chop = Verdict::all(&[
        no_trend,
        Verdict::any(&[
            Verdict::at_least(i.whipsaw_5m, c.chop_whipsaw_min, c.whipsaw_scale),
            Verdict::at_least(i.btc_atr_pct_4h, c.chop_atr_pct_min, c.atr_pct_scale),
        ]),
    ]);
    let rotation = Verdict::all(&[
        Verdict::at_least(i.breadth_up_1h, c.rotation_breadth_min, c.breadth_scale),
        Verdict::at_least(
            i.dispersion_1h,
            c.rotation_dispersion_min,
            c.dispersion_scale,
        ),
        Verdict::at_least(
            i.top5_value_share_1h,
            c.rotation_top5_share_min,
            c.top5_share_scale,
        ),
    ]);
    let trend = Verdict::at_least(i.btc_adx_4h, c.trend_adx_min, c.adx_scale);
    let range = Verdict {
        holds: true,
        strength: f64::INFINITY,
    };
    [
        (RegimeLabel::Panic, panic),
        (RegimeLabel::Chop, chop),
        (RegimeLabel::BreakoutRotation, rotation),
        (RegimeLabel::Trend, trend),
        (RegimeLabel::Range, range),
    ]
}

/// Classifies the six inputs (REG-1). Missing inputs give
/// [`RegimeError::InsufficientData`]; out-of-range inputs or an invalid
/// configuration give the other variants. Never panics.
pub fn classify(
    inputs: &RegimeInputs,
    config: &RegimeConfig,
) -> Result<Classification, RegimeError> {
    config.validate()?;
    check_inputs(inputs)?;
    let mut robustness = f64::INFINITY;
    for (label, verdict) in rules(inputs, config) {
        robustness = robustness.min(verdict.strength);
        if verdict.holds {
            let score = (robustness.min(1.0) * 100.0).clamp(0.0, 100.0);
            return Ok(Classification { label, score });
        }
    }
    // RANGE always holds, so the loop returns; keep a defined answer anyway.
    Ok(Classification {
        label: RegimeLabel::Range,
        score: 0.0,
    })
}

/// A classified regime at a point in time: what `market_regimes` stores (REG-5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Regime {
    /// The instant the inputs were computed for.
    pub ts: DateTime<Utc>,
    /// The label (REG-1).
    pub label: RegimeLabel,
    /// Confidence in `[0, 100]` (`regime_score`).
    #[serde(rename = "regime_score")]
    pub score: f64,
    /// The six inputs it was computed from (REG-2).
    #[serde(flatten)]
    pub inputs: RegimeInputs,
    /// [`ENGINE_VERSION`] of the engine that produced it.
    pub engine_version: String,
}

impl Regime {
    /// Classifies `inputs` computed at `ts` into a storable regime.
    pub fn assess(
        ts: DateTime<Utc>,
        inputs: RegimeInputs,
        config: &RegimeConfig,
    ) -> Result<Self, RegimeError> {
        let Classification { label, score } = classify(&inputs, config)?;
        Ok(Self {
            ts,
            label,
            score,
            inputs,
            engine_version: ENGINE_VERSION.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests;
