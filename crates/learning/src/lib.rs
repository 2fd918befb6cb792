//! Trainer logic for the AI-assist layer (SPEC §5, STAB-2, §7): labels,
//! evaluation and gate, TPE tuning, the Thompson-sampling bandit, drift and
//! rollback. The AI assists the strategy, never replaces it: everything here
//! proposes numbers for a [`strategy::StrategyDefinition`] or weights for its
//! score, and only a gate PASS, the lifecycle table and the 24 h PAPER period
//! let anything reach trading.
//!
//! **Pure.** No I/O, no clock reads (time is an argument), randomness only
//! from a seeded RNG the caller passes (the bandit) or a seed in the config
//! (tuning): the same inputs give the same outputs (STR-8). Errors are
//! [`LearningError`]s naming the offending field; nothing from outside can
//! make it panic. The trainer service reads and writes the tables
//! (`feature_snapshots`, `model_candidates`, `bandit_states`,
//! `model_versions`) and calls in here.
//!
//! # The rules and their defaults (details and reasoning in each module)
//!
//! * **OPT-1 labels** ([`labels`]). Entry = open of the first 1-minute candle
//!   starting at or after the snapshot `t` (within 5 min); nothing before `t`
//!   is read. `label_ret_60m`/`label_ret_240m` = last close in the window ÷
//!   entry − 1; `label_mfe_240m` = highest high ÷ entry − 1;
//!   `label_mae_240m` and `label_dd_240m` are magnitudes (the largest fall
//!   below entry, and from a running peak, high assumed before low inside a
//!   candle). Missing minutes carry the close forward (Upbit sends no candle
//!   without trades) up to 15 in a row; longer holes, corrupt candles or no
//!   entry make the label *unavailable*; an unsealed window makes it
//!   *pending* — never zero. `r_net = r − (2 × fee + 2 × slippage)` by
//!   [`CostModel`] (default 0.05 % + 0.05 % per side → 0.2 % a round trip),
//!   applied at evaluation so stored labels stay gross.
//! * **OPT-2 metrics** ([`evaluation`]): E (mean `r_net`), per-signal Sharpe
//!   (not annualised) and its t-statistic, Q05/Q01 (linear interpolation),
//!   MAE_mean/MAE_95, SPD, win rate. Undefined figures are `None`.
//! * **OPT-2 gate** ([`gate`]): hard fails → REJECT (E ≤ 0 with ≥ 30
//!   signals; Q01 < −8 %; MAE_95 > 5 %; SPD > 50); too little evidence →
//!   HOLD (< 30 signals, < 7 days, zero variance); a missed quality bar →
//!   REJECT (E < 0.05 %, Sharpe < 0.05, Q05 < −3 %, MAE_mean > 2 %,
//!   SPD < 0.5); t < 2 → HOLD; otherwise PASS. Only PASS is adoptable.
//! * **OPT-3 tuning** ([`tuning`]): the five OPT-3 groups mapped onto
//!   [`strategy::StrategyOverrides`] (module weights, entry threshold, top-N,
//!   the BREAKOUT_ROTATION/TREND/RANGE multipliers, and STR-2's risk
//!   multiplier as the penalty, capped at 1). TPE (`tpe` crate, one
//!   optimizer per dimension): 10 random then TPE, γ 0.25, 24 draws,
//!   K = 60 candidates plus the incumbent, ranked by the gate first and the
//!   lower confidence bound `E − sd/√n` second; a candidate is adopted only
//!   if it PASSes and beats a PASSing incumbent.
//! * **OPT-4 bandit** ([`bandit`]): per (strategy, regime label) Beta
//!   posterior, prior Beta(2, 2), fractional update from `r_net` clipped at
//!   ±2 %, forgetting 0.995 per update, weight `0.5 + θ` for a Thompson
//!   sample θ (so always in `[0.5, 1.5]`), 1.0 for the first 5 updates and
//!   always 1.0 in CHOP and PANIC. Rows match `bandit_states`.
//! * **STAB-2 drift** ([`drift`]): 14-day baseline reference of
//!   `baseline_model_id`, 24 h rolling metrics; DRIFT_WARN when the day's
//!   mean trade return is > 2 standard errors below the baseline or the
//!   model trades > 3× as often (≥ 5 trades, ≥ 20 baseline trades);
//!   AUTO_ROLLBACK when `net_return_24h < −2 %`, DRIFT_WARN on 3 counted
//!   (≥ 1 h apart) checks in a row, or `consecutive_losses ≥ 5`.
//! * **§7 lifecycle** ([`deployment`]): gate verdict → `GATE_PASSED` /
//!   `GATE_FAILED` (HOLD: none), AUTO/MANUAL rollback restoring the baseline,
//!   redeploy after the 24 h cooldown — all through
//!   `domain::ModelStage::apply`, the one transition table.
#![cfg_attr(
    test,
    allow(clippy::float_cmp, reason = "tests pin exact, hand-worked values")
)]
#![cfg_attr(
    test,
    allow(
        clippy::type_complexity,
        reason = "table-driven tests spell their case tuples out"
    )
)]

/// OPT-4: Thompson-sampling bandit weights per regime label.
pub mod bandit;
/// SPEC §7: gate verdicts, rollbacks and redeploys through the domain table.
pub mod deployment;
/// STAB-2: baseline reference, 24 h rolling metrics, DRIFT_WARN, AUTO_ROLLBACK rules.
pub mod drift;
/// [`LearningError`] and [`TuneError`].
pub mod error;
/// OPT-2: metrics over a set of labelled signals.
pub mod evaluation;
/// OPT-2: the PASS / HOLD / REJECT gate and its documented hard fails.
pub mod gate;
/// OPT-1: labels from the 1-minute candles after a snapshot; `r_net`.
pub mod labels;
mod stats;
/// OPT-3: search space, TPE tuning round, adoption decision.
pub mod tuning;

pub use bandit::{ArmState, Bandit, BanditConfig, BanditWeight, Update, WeightSource};
pub use deployment::{RollbackPlan, auto_rollback, gate_event, manual_rollback, on_gate, redeploy};
pub use drift::{
    BaselineReference, ClosedTrade, DriftCheck, DriftConfig, DriftMonitor, DriftWarn,
    RollbackReason, RollingMetrics,
};
pub use error::{LearningError, TuneError};
pub use evaluation::{EvalWindow, Horizon, Metrics, SignalOutcome, evaluate};
pub use gate::{CheckStatus, GateCheck, GateConfig, GateResult, Rule, RuleKind, Verdict, gate};
pub use labels::{CostModel, LabelConfig, LabelOutcome, Labels, Unavailable, label};
pub use tuning::{
    Candidate, Decision, Dimension, Objective, ParamGroup, Params, SearchSpace, Target, Trial,
    TrialOutcome, TuningConfig, TuningReport, tune,
};
