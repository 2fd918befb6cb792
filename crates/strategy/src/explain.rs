//! Explainability (STR-6): every evaluation yields a [`SignalRecord`] — the
//! scores per module with their reason codes and raw metrics, the key numbers
//! (EMA gap, Bollinger width, ATR ratio, volume spike, …), the regime and the
//! weights applied, the decision and, after risk, each pre-trade check's
//! result. It is what the `signals` table stores (`scores_json`).
//!
//! Records are deterministic (STR-8): maps are ordered and non-finite numbers
//! are left out (JSON has no NaN), so the same inputs serialise to the same
//! bytes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{Market, ReasonCode, RegimeLabel, RiskProfile, SignalAction};
use risk::{CheckResult, Sizing};
use serde::{Deserialize, Serialize};

use crate::{aggregator::Aggregate, exits::TakeProfitLevel};

/// One module's part in the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleRecord {
    /// The strategy's weight for it (before normalisation).
    pub weight: f64,
    /// 0–100.
    pub score: f64,
    /// Its reason codes.
    pub reason_codes: Vec<ReasonCode>,
    /// Its raw metrics (finite values only).
    pub raw_metrics: BTreeMap<String, f64>,
}

/// The regime as applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimeRecord {
    /// Label.
    pub label: RegimeLabel,
    /// Confidence 0–100.
    pub score: f64,
    /// Older than its max age.
    pub stale: bool,
    /// The strategy's `w` for the label.
    pub policy_weight: f64,
    /// `applied_weight(w, score)` (REG-3).
    pub applied_weight: f64,
}

/// The position sizer's output (SPEC §11) when an entry was sized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryPlan {
    /// Market.
    pub market: Market,
    /// Sizing result: size, entry and stop on the tick grid, fee, order KRW, risk.
    pub sizing: Sizing,
    /// Take-profit steps.
    pub take_profits: Vec<TakeProfitLevel>,
    /// ATR the levels came from.
    pub atr: f64,
}

/// The explainable record of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRecord {
    /// Market.
    pub market: Market,
    /// Evaluation time.
    pub ts: DateTime<Utc>,
    /// Strategy name.
    pub strategy: String,
    /// Its risk profile.
    pub risk_profile: RiskProfile,
    /// What was decided (`signals.action`).
    pub action: SignalAction,
    /// The final score (`signals.total_score`).
    pub total_score: f64,
    /// Weighted module mean.
    pub base_score: f64,
    /// After EMA smoothing.
    pub smoothed_score: f64,
    /// Per module id.
    pub scores: BTreeMap<String, ModuleRecord>,
    /// Regime and its weight.
    pub regime: RegimeRecord,
    /// Bandit weight applied.
    pub bandit_weight: f64,
    /// Risk multiplier applied.
    pub risk_multiplier: f64,
    /// Key numbers (STR-6).
    pub key_numbers: BTreeMap<String, f64>,
    /// Decision-level reasons: the signal, and every refusal code.
    pub reason_codes: Vec<ReasonCode>,
    /// Human-readable details of a refusal (sizing error, failed checks).
    pub messages: Vec<String>,
    /// The sized entry, when there was one.
    pub plan: Option<EntryPlan>,
    /// Every pre-trade check's result, when the checks ran.
    pub checks: Vec<CheckResult>,
}

impl SignalRecord {
    /// The record as JSON (for `signals.scores_json`).
    pub fn to_json(&self) -> String {
        // Every field serialises infallibly (no maps with non-string keys, no NaN).
        serde_json::to_string(self).unwrap_or_default()
    }

    /// All reason codes: the decision's and every module's, deduplicated, sorted.
    pub fn all_reason_codes(&self) -> Vec<ReasonCode> {
        let mut all: Vec<ReasonCode> = self
            .reason_codes
            .iter()
            .chain(self.scores.values().flat_map(|m| m.reason_codes.iter()))
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Copies a map keeping only finite values.
pub(crate) fn finite_only(m: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    m.iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// Check results with non-finite numbers left out.
pub(crate) fn finite_checks(checks: Vec<CheckResult>) -> Vec<CheckResult> {
    checks
        .into_iter()
        .map(|mut c| {
            c.numbers.retain(|_, v| v.is_finite());
            c
        })
        .collect()
}

/// The regime record for an aggregate.
pub(crate) fn regime_record(
    label: RegimeLabel,
    score: f64,
    stale: bool,
    agg: &Aggregate,
) -> RegimeRecord {
    RegimeRecord {
        label,
        score: if score.is_finite() { score } else { 0.0 },
        stale,
        policy_weight: agg.regime_policy_weight,
        applied_weight: agg.regime_weight,
    }
}
