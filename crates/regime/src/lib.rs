//! Regime Engine v1.0 (SPEC §4, REG-1..4): six market-wide inputs computed from
//! candles, classified into a [`domain::RegimeLabel`] with a `regime_score`
//! (0–100 confidence), plus the REG-3 weight formula and the staleness rule.
//!
//! Pure and deterministic: no I/O, no clock (time is an argument), no
//! randomness. The same candles and `now` always give the same [`Regime`].
//!
//! Flow: candles → [`RegimeInputs::from_candles`] (or the incremental
//! [`InputsTracker`] for replays and long-running writers) → [`classify`] /
//! [`Regime::assess`] → stored in `market_regimes` (REG-5) → traders read it
//! through [`Regime::rules`], which refuses entries on a stale regime.
//!
//! The reasoning behind every default threshold is in `docs/regime.md`.
#![cfg_attr(
    test,
    allow(clippy::float_cmp, reason = "tests pin exact, hand-worked values")
)]

/// Classification: the five labels, their rules, and the confidence score.
pub mod classify;
/// Thresholds, input parameters and the staleness policy (serde, validated).
pub mod config;
/// Errors: insufficient data (retry later), invalid input or configuration.
pub mod error;
/// The six inputs of REG-2 and their batch computation from candles.
pub mod inputs;
/// Serde helpers: NaN ↔ `null` for the inputs.
mod serde_nan;
/// `Fresh` / `Stale` and the REG-4 rules a trader applies.
pub mod staleness;
/// Incremental computation of the six inputs, identical to the batch form.
pub mod tracker;
/// REG-3: `applied_weight = 1 + (w − 1) × score / 100`.
pub mod weight;

pub use classify::{Classification, ENGINE_VERSION, Regime, classify};
pub use config::{EngineConfig, InputParams, RegimeConfig, StalenessPolicy};
pub use error::RegimeError;
pub use inputs::{InputName, RegimeInputs};
pub use staleness::{Freshness, RegimeRules, freshness};
pub use tracker::InputsTracker;
pub use weight::applied_weight;
