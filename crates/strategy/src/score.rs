//! The score-module plug-in interface (STR-7): a [`ScoreModule`] reads one
//! market's candles (plus the leader's and the regime) and returns a
//! [`ModuleScore`] — a 0–100 score, reason codes and raw metrics (STR-3).
//! Modules live in a [`ModuleRegistry`]; adding one is implementing the trait
//! in its own file and registering it, without touching the others.
//!
//! Scores are read as *bullishness through this module's lens*: 50 is
//! neutral (no setup), above 50 supports a long entry, below 50 argues
//! against one. Missing or unusable data scores 0, so a module that cannot see
//! never helps an entry.

use std::{collections::BTreeMap, fmt};

use domain::{Market, ReasonCode, ValidationError};
use indicators::Candle;
use regime::Classification;
use serde::{Deserialize, Serialize};

/// What a module sees for one market in one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct ModuleInput<'a> {
    /// The market being scored.
    pub market: &'a Market,
    /// Completed candles at the strategy's signal interval, oldest first
    /// (invalid candles already dropped; gaps possible).
    pub candles: &'a [Candle],
    /// The leader market (Leader-Follower).
    pub leader_market: &'a Market,
    /// The leader's completed candles at the same interval, if available.
    pub leader_candles: Option<&'a [Candle]>,
    /// The current regime (label and confidence).
    pub regime: Classification,
}

/// A module's output (SPEC §11 "Score module").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleScore {
    /// 0–100.
    pub score: f64,
    /// Why, machine-readable.
    pub reason_codes: Vec<ReasonCode>,
    /// The numbers behind it (name → value).
    pub raw_metrics: BTreeMap<String, f64>,
}

impl ModuleScore {
    /// A score with no reasons or metrics yet; `score` is clamped to `[0, 100]`
    /// and NaN becomes 0.
    pub fn new(score: f64) -> Self {
        Self {
            score: clamp_score(score),
            reason_codes: Vec::new(),
            raw_metrics: BTreeMap::new(),
        }
    }

    /// Adds a reason code.
    #[must_use]
    pub fn reason(mut self, code: &'static str) -> Self {
        self.reason_codes.push(ReasonCode::new_static(code));
        self
    }

    /// Adds a reason code when `cond` holds.
    #[must_use]
    pub fn reason_if(self, cond: bool, code: &'static str) -> Self {
        if cond { self.reason(code) } else { self }
    }

    /// Adds a raw metric.
    #[must_use]
    pub fn metric(mut self, name: &str, v: f64) -> Self {
        self.raw_metrics.insert(name.to_owned(), v);
        self
    }
}

/// Clamps to `[0, 100]`; NaN → 0.
pub fn clamp_score(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 100.0) }
}

/// A score module (STR-7). Implementations must be pure and deterministic:
/// the same input gives the same output, bit for bit (STR-8).
pub trait ScoreModule: Send + Sync + fmt::Debug {
    /// The id the strategy's weights use (`TP`, `VCB`, …): upper-case ASCII.
    fn id(&self) -> &'static str;

    /// Candles of history the module needs for a full answer (fewer → it
    /// reports insufficient data).
    fn min_candles(&self) -> usize;

    /// Scores one market.
    fn score(&self, input: &ModuleInput<'_>) -> ModuleScore;
}

/// The set of modules available to strategies.
#[derive(Debug, Default)]
pub struct ModuleRegistry {
    modules: Vec<Box<dyn ScoreModule>>,
}

impl ModuleRegistry {
    /// No modules.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The five built-in modules of STR-3.
    pub fn builtin() -> Self {
        Self {
            modules: crate::modules::builtin(),
        }
    }

    /// Adds a module; its id must be well-formed and not taken.
    pub fn register(&mut self, module: Box<dyn ScoreModule>) -> Result<(), ValidationError> {
        let id = module.id();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ValidationError::new(
                "module.id",
                format!("module ids are upper-case ASCII, got {id:?}"),
            ));
        }
        if self.get(id).is_some() {
            return Err(ValidationError::new(
                "module.id",
                format!("a module with id {id} is already registered"),
            ));
        }
        self.modules.push(module);
        Ok(())
    }

    /// The module with `id`.
    pub fn get(&self, id: &str) -> Option<&dyn ScoreModule> {
        self.modules
            .iter()
            .find(|m| m.id() == id)
            .map(AsRef::as_ref)
    }

    /// Every registered id, in registration order.
    pub fn ids(&self) -> Vec<&'static str> {
        self.modules.iter().map(|m| m.id()).collect()
    }

    /// The modules, for the evaluator to own.
    pub(crate) fn into_modules(self) -> Vec<Box<dyn ScoreModule>> {
        self.modules
    }
}
