//! OPT-2 validation gate: [`Metrics`] → PASS / HOLD / REJECT, with every check
//! it made (rule, value, limit, result) so a verdict explains itself.
//!
//! # Decision order
//!
//! 1. **Hard fail → REJECT**, whatever else holds. These are safety rules: a
//!    candidate that breaks one must never reach PAPER, however good its mean.
//! 2. **Not enough evidence → HOLD** (not adoptable; judge again with more data).
//! 3. **A quality bar missed → REJECT.**
//! 4. **Not significant → HOLD.**
//! 5. Otherwise **PASS** — the only adoptable verdict (SPEC §7: DRAFT →
//!    VALIDATED needs PASS).
//!
//! # Rules and defaults ([`GateConfig`])
//!
//! | rule | kind | default | reasoning |
//! |---|---|---|---|
//! | `NON_POSITIVE_EXPECTANCY`: E ≤ 0 (with ≥ `min_signals`) | hard fail | — | a strategy that loses money after costs is never adoptable; below `min_signals` the mean is too noisy to condemn |
//! | `TAIL_LOSS_Q01`: Q01 < `hard_min_q01` | hard fail | −8 % | on real Upbit 1-minute data (2025-09) random 240-minute holds had Q01 of −1 % (BTC) to −4.2 % (DOGE); twice the worst market's random tail means the stops are not holding or the candidate buys falling knives. Applies at any sample size: one such loss in a small sample is reason enough |
//! | `ADVERSE_EXCURSION_MAE_95`: MAE_95 > `hard_max_mae_95` | hard fail | 5 % | random holds reached MAE_95 of 0.9 % (BTC) to 2.9 % (DOGE); a 2-ATR stop (RISK-2) on 5-minute candles sits ≈ 0.5–1 % below entry, so 5 % means positions routinely run far through their stops |
//! | `OVERTRADING`: SPD > `hard_max_spd` | hard fail | 50 / day | at 0.2 % per round trip, 50 signals a day burn 10 % of turnover daily; RISK-4 allows at most 10 positions, i.e. ≈ 60 four-hour holds a day at the very most |
//! | `MIN_SIGNALS`: n ≥ `min_signals` | evidence | 30 | below ≈ 30 the mean and tails of heavy-tailed returns are unstable (Q01 of 30 is just the worst one) |
//! | `MIN_DAYS`: window ≥ `min_days` | evidence | 7 days | a week spans weekdays, weekends and several regime changes; one afternoon's burst is one market episode |
//! | `DEFINED_VARIANCE`: sd > 0 | evidence | — | identical returns are a degenerate backtest, not evidence |
//! | `MEAN_NET_RETURN`: E ≥ `min_mean_net` | quality | 0.05 % | a margin above zero: misjudging slippage by 0.025 % per side moves `r_net` by 0.05 % |
//! | `SHARPE`: Sharpe ≥ `min_sharpe` | quality | 0.05 per signal | rejects edges that are tiny next to their noise even when significant on many signals |
//! | `TAIL_LOSS_Q05`: Q05 ≥ `min_q05` | quality | −3 % | random-hold Q05 was −0.6 % to −1.8 %; a selective strategy with stops should not be much worse than random holding of the most volatile of those markets |
//! | `MAE_MEAN`: MAE_mean ≤ `max_mae_mean` | quality | 2 % | random holds averaged 0.3–1.1 % |
//! | `MIN_SIGNALS_PER_DAY`: SPD ≥ `min_spd` | quality | 0.5 / day | fewer than one signal every two days cannot feed the bandit (OPT-4) or the 24 h drift monitor (STAB-2) |
//! | `SIGNIFICANCE`: t = Sharpe·√n ≥ `min_t_stat` | significance | 2.0 | ≈ 97.7 % one-sided. Tuning tries 60 candidates, so a lone PASS can still be luck; the 24 h PAPER period and the STAB-2 rollback are the second filter. More data can lift a HOLD here to PASS |
//!
//! The "random holds" figures: 240-minute holds entered every 30 minutes on
//! real Upbit 1-minute candles of KRW-BTC, ETH, XRP, SOL and DOGE from
//! 2025-09-01 to 2025-10-04, gross of costs (`shared/data`; measured once
//! when these defaults were chosen). They describe what merely being in the
//! market looked like; a candidate that is much worse is not selecting.
//!
//! Undefined metrics (e.g. Q01 of an empty set) are `NOT_EVALUATED`, never a
//! pass or a fail by accident; an empty set is therefore HOLD (no evidence).

use serde::{Deserialize, Serialize};

use crate::{Metrics, error::LearningError, error::check_range};

/// The gate's verdict (OPT-2). Same wire strings as the storage column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Adoptable.
    Pass,
    /// Not conclusive yet; not adoptable.
    Hold,
    /// Rejected (a hard fail or a missed quality bar).
    Reject,
}

impl Verdict {
    /// The wire string (`PASS`, `HOLD`, `REJECT`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Hold => "HOLD",
            Self::Reject => "REJECT",
        }
    }
}

/// The gate's thresholds (defaults and reasoning in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GateConfig {
    /// Evidence: at least this many signals (1–1 000 000).
    pub min_signals: usize,
    /// Evidence: a window of at least this many days (0–365].
    pub min_days: f64,
    /// Quality: E at least this (0–0.1).
    pub min_mean_net: f64,
    /// Quality: per-signal Sharpe at least this (0–10).
    pub min_sharpe: f64,
    /// Significance: `Sharpe × √n` at least this (0–10).
    pub min_t_stat: f64,
    /// Quality: Q05 at least this (−1–0).
    pub min_q05: f64,
    /// Quality: MAE_mean at most this (0–1).
    pub max_mae_mean: f64,
    /// Quality: SPD at least this (0–1000).
    pub min_spd: f64,
    /// Hard fail: Q01 below this (−1–0, at most `min_q05`).
    pub hard_min_q01: f64,
    /// Hard fail: MAE_95 above this (0–1, at least `max_mae_mean`).
    pub hard_max_mae_95: f64,
    /// Hard fail: SPD above this (above `min_spd`, at most 10 000).
    pub hard_max_spd: f64,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            min_signals: 30,
            min_days: 7.0,
            min_mean_net: 0.0005,
            min_sharpe: 0.05,
            min_t_stat: 2.0,
            min_q05: -0.03,
            max_mae_mean: 0.02,
            min_spd: 0.5,
            hard_min_q01: -0.08,
            hard_max_mae_95: 0.05,
            hard_max_spd: 50.0,
        }
    }
}

impl GateConfig {
    /// Checks every field and the cross-field order, naming the field.
    pub fn validate(&self) -> Result<(), LearningError> {
        if !(1..=1_000_000).contains(&self.min_signals) {
            return Err(LearningError::invalid(
                "gate.min_signals",
                format!("must be within [1, 1000000], got {}", self.min_signals),
            ));
        }
        if !(self.min_days > 0.0 && self.min_days <= 365.0) {
            return Err(LearningError::invalid(
                "gate.min_days",
                format!("must be within (0, 365], got {}", self.min_days),
            ));
        }
        check_range("gate.min_mean_net", self.min_mean_net, 0.0, 0.1)?;
        check_range("gate.min_sharpe", self.min_sharpe, 0.0, 10.0)?;
        check_range("gate.min_t_stat", self.min_t_stat, 0.0, 10.0)?;
        check_range("gate.min_q05", self.min_q05, -1.0, 0.0)?;
        check_range("gate.max_mae_mean", self.max_mae_mean, 0.0, 1.0)?;
        check_range("gate.min_spd", self.min_spd, 0.0, 1000.0)?;
        check_range("gate.hard_min_q01", self.hard_min_q01, -1.0, self.min_q05)?;
        check_range(
            "gate.hard_max_mae_95",
            self.hard_max_mae_95,
            self.max_mae_mean,
            1.0,
        )?;
        check_range(
            "gate.hard_max_spd",
            self.hard_max_spd,
            self.min_spd,
            10_000.0,
        )?;
        if self.hard_max_spd <= self.min_spd {
            return Err(LearningError::invalid(
                "gate.hard_max_spd",
                format!("must be above gate.min_spd ({})", self.min_spd),
            ));
        }
        Ok(())
    }
}

/// One gate rule (wire names in the module docs' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rule {
    /// Hard fail: E ≤ 0 with enough signals.
    NonPositiveExpectancy,
    /// Hard fail: Q01 below the floor.
    TailLossQ01,
    /// Hard fail: MAE_95 above the cap.
    AdverseExcursionMae95,
    /// Hard fail: too many signals per day.
    Overtrading,
    /// Evidence: enough signals.
    MinSignals,
    /// Evidence: a long enough window.
    MinDays,
    /// Evidence: returns are not all identical.
    DefinedVariance,
    /// Quality: E high enough.
    MeanNetReturn,
    /// Quality: Sharpe high enough.
    Sharpe,
    /// Quality: Q05 above its floor.
    TailLossQ05,
    /// Quality: MAE_mean below its cap.
    MaeMean,
    /// Quality: enough signals per day.
    MinSignalsPerDay,
    /// Significance: t-statistic high enough.
    Significance,
}

/// What failing a rule means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleKind {
    /// Failing rejects, whatever else holds.
    HardFail,
    /// Failing holds (not enough evidence).
    Evidence,
    /// Failing rejects (after the evidence is sufficient).
    Quality,
    /// Failing holds (edge not yet significant).
    Significance,
}

/// The result of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckStatus {
    /// The rule holds.
    Passed,
    /// The rule is broken.
    Failed,
    /// The metric is undefined or the rule does not apply yet.
    NotEvaluated,
}

/// One rule applied to the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GateCheck {
    /// Which rule.
    pub rule: Rule,
    /// What failing it means.
    pub kind: RuleKind,
    /// The metric's value (`None` when undefined).
    pub value: Option<f64>,
    /// The threshold it was compared with.
    pub limit: f64,
    /// The result.
    pub status: CheckStatus,
}

/// The verdict and every check behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    /// PASS / HOLD / REJECT.
    pub verdict: Verdict,
    /// Every rule, in the table's order.
    pub checks: Vec<GateCheck>,
}

impl GateResult {
    /// The rules that failed.
    pub fn failed(&self) -> impl Iterator<Item = &GateCheck> {
        self.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
    }

    /// Only PASS is adoptable (SPEC §7).
    pub fn is_adoptable(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

fn check(
    rule: Rule,
    kind: RuleKind,
    value: Option<f64>,
    limit: f64,
    ok: impl Fn(f64) -> bool,
) -> GateCheck {
    GateCheck {
        rule,
        kind,
        value,
        limit,
        status: match value {
            None => CheckStatus::NotEvaluated,
            Some(v) if ok(v) => CheckStatus::Passed,
            Some(_) => CheckStatus::Failed,
        },
    }
}

/// Applies the gate to `m` (see the module docs for the order and defaults).
pub fn gate(m: &Metrics, cfg: &GateConfig) -> Result<GateResult, LearningError> {
    cfg.validate()?;
    let enough = m.n >= cfg.min_signals;
    let n = m.n as f64;
    let has = |v: f64| (m.n > 0).then_some(v);
    let variance = match (m.n, m.sd) {
        (0 | 1, _) | (_, None) => None,
        (_, Some(sd)) => Some(sd),
    };
    let checks = vec![
        check(
            Rule::NonPositiveExpectancy,
            RuleKind::HardFail,
            m.e.filter(|_| enough),
            0.0,
            |e| e > 0.0,
        ),
        check(
            Rule::TailLossQ01,
            RuleKind::HardFail,
            m.q01,
            cfg.hard_min_q01,
            |q| q >= cfg.hard_min_q01,
        ),
        check(
            Rule::AdverseExcursionMae95,
            RuleKind::HardFail,
            m.mae_95,
            cfg.hard_max_mae_95,
            |v| v <= cfg.hard_max_mae_95,
        ),
        check(
            Rule::Overtrading,
            RuleKind::HardFail,
            has(m.spd),
            cfg.hard_max_spd,
            |v| v <= cfg.hard_max_spd,
        ),
        check(
            Rule::MinSignals,
            RuleKind::Evidence,
            Some(n),
            cfg.min_signals as f64,
            |v| v >= cfg.min_signals as f64,
        ),
        check(
            Rule::MinDays,
            RuleKind::Evidence,
            Some(m.days),
            cfg.min_days,
            |v| v >= cfg.min_days,
        ),
        check(
            Rule::DefinedVariance,
            RuleKind::Evidence,
            variance,
            0.0,
            |sd| sd > 0.0,
        ),
        check(
            Rule::MeanNetReturn,
            RuleKind::Quality,
            m.e,
            cfg.min_mean_net,
            |e| e >= cfg.min_mean_net,
        ),
        check(
            Rule::Sharpe,
            RuleKind::Quality,
            m.sharpe,
            cfg.min_sharpe,
            |s| s >= cfg.min_sharpe,
        ),
        check(
            Rule::TailLossQ05,
            RuleKind::Quality,
            m.q05,
            cfg.min_q05,
            |q| q >= cfg.min_q05,
        ),
        check(
            Rule::MaeMean,
            RuleKind::Quality,
            m.mae_mean,
            cfg.max_mae_mean,
            |v| v <= cfg.max_mae_mean,
        ),
        check(
            Rule::MinSignalsPerDay,
            RuleKind::Quality,
            has(m.spd),
            cfg.min_spd,
            |v| v >= cfg.min_spd,
        ),
        check(
            Rule::Significance,
            RuleKind::Significance,
            m.t_stat,
            cfg.min_t_stat,
            |t| t >= cfg.min_t_stat,
        ),
    ];
    let failed = |kind: RuleKind| {
        checks
            .iter()
            .any(|c| c.kind == kind && c.status == CheckStatus::Failed)
    };
    // Evidence and significance also need their figures: an undefined one holds.
    let undefined = |kind: RuleKind| {
        checks
            .iter()
            .any(|c| c.kind == kind && c.status == CheckStatus::NotEvaluated)
    };
    let verdict = if failed(RuleKind::HardFail) {
        Verdict::Reject
    } else if failed(RuleKind::Evidence) || undefined(RuleKind::Evidence) {
        Verdict::Hold
    } else if failed(RuleKind::Quality) {
        Verdict::Reject
    } else if failed(RuleKind::Significance) || undefined(RuleKind::Significance) {
        Verdict::Hold
    } else {
        Verdict::Pass
    };
    Ok(GateResult { verdict, checks })
}

#[cfg(test)]
mod tests;
