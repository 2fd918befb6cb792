//! Score-Strategy (STR-1..8): the strategy definition and its five built-in
//! profiles, the screener (universe selection), the score modules behind one
//! plug-in trait, the aggregator (weighted base score, EMA smoothing, regime /
//! bandit / risk weights, thresholds), entry levels and exit rules, and the
//! explainable signal record.
//!
//! Pure and deterministic: no I/O, no clock reads (time is an argument), no
//! randomness; the same inputs give byte-identical records (STR-8). Risk
//! decisions are the `risk` crate's: an entry becomes an order only through
//! `risk::approve_entry`.

/// Weighted base score, EMA smoothing, final score and signal (STR-2/4/5).
pub mod aggregator;
/// The strategy definition, its validation and the built-in strategies.
pub mod definition;
/// The evaluator: candles → evaluation → sized, risk-checked entry.
pub mod evaluate;
/// Entry levels (stop, take-profits) and exit decisions (POS-1).
pub mod exits;
/// The explainable signal record (STR-6).
pub mod explain;
/// The built-in score modules (TP, VCB, LSR, LF, Regime Modifier).
pub mod modules;
/// The score-module plug-in trait and registry (STR-7).
pub mod score;
/// Universe selection (screener).
pub mod screener;

pub use aggregator::{Aggregate, ScoreSignal, ScoreState};
pub use definition::{EntryStyle, ExecutionRules, StrategyDefinition, StrategyOverrides};
pub use evaluate::{Cycle, EntryDecision, EntryInputs, Evaluation, Evaluator};
pub use exits::{ExitAction, ExitContext, ExitDecision, decide_exit};
pub use explain::{EntryPlan, SignalRecord};
pub use score::{ModuleInput, ModuleRegistry, ModuleScore, ScoreModule};
pub use screener::{Candidate, MarketSnapshot, Screening, screen};
