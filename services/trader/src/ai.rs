//! The AI-assist inputs of a trader, per the learning contract between the
//! trainer, the trader and the dashboard-api:
//!
//! * **AI MODE model (FIX-10, FIX-12).** Chosen once at start, for an
//!   AI_MODE strategy only: the newest `model_versions` row of the trader's
//!   strategy in a stage its mode may run — PAPER: PAPER_DEPLOYED,
//!   LIVE_ELIGIBLE or LIVE_ARMED; LIVE: LIVE_ELIGIBLE or LIVE_ARMED. Its
//!   `params` are a [`StrategyOverrides`] applied on top of the stored
//!   strategy version's definition and validated as a whole; invalid
//!   overrides stop the start (the caller raises a CRITICAL event). No model
//!   → the stored definition as it is. A new model reaches a running trader
//!   only by recreation (the dashboard-api's config hash carries the model id).
//! * **Bandit weight (OPT-4).** Once per cycle: the posterior of the arm
//!   `strategy:{strategy_id}` in the current regime from `bandit_states`,
//!   sampled by `learning`'s Thompson sampler with an RNG seeded from the
//!   trader id and the cycle's minute, so a replay of the same minute gives
//!   the same weight (STR-8). No state, no regime, CHOP or PANIC → 1.0.

use chrono::{DateTime, Utc};
use domain::{Mode, ModelStage, RegimeLabel, StrategyId, TraderId, ValidationError};
use learning::{ArmState, Bandit, BanditConfig, LearningError, WeightSource};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use storage::{
    StorageError, Store,
    learning::{BanditState, ModelVersion},
};
use strategy::{StrategyDefinition, StrategyOverrides};

/// Model versions read per stage when looking for the trader's (newest first).
const MODELS_PER_STAGE: u32 = 10_000;

/// The newest of `models` that belongs to `strategy` and is in a stage
/// `mode` may run.
pub fn pick_model(
    models: &[ModelVersion],
    strategy: StrategyId,
    mode: Mode,
) -> Option<&ModelVersion> {
    let stages = ModelStage::usable_in(mode);
    models
        .iter()
        .filter(|m| m.strategy_id == Some(strategy) && stages.contains(&m.stage))
        .max_by_key(|m| m.id.get())
}

/// Reads the model an AI_MODE trader of `strategy` in `mode` runs, if any.
pub async fn load_model(
    store: &Store,
    strategy: StrategyId,
    mode: Mode,
) -> Result<Option<ModelVersion>, StorageError> {
    let mut found: Vec<ModelVersion> = Vec::new();
    for stage in ModelStage::usable_in(mode) {
        let list = store
            .model_versions()
            .list(Some(*stage), MODELS_PER_STAGE)
            .await?;
        found.extend(list.into_iter().filter(|m| m.strategy_id == Some(strategy)));
    }
    Ok(pick_model(&found, strategy, mode).cloned())
}

/// The stored definition with `model`'s overrides applied. The error names
/// the model and the offending field (`params` when the JSON is not a
/// [`StrategyOverrides`], else the definition's field, e.g. `thresholds.exit`).
pub fn apply_model(
    def: &StrategyDefinition,
    model: &ModelVersion,
) -> Result<StrategyDefinition, ValidationError> {
    let overrides: StrategyOverrides =
        serde_json::from_value(model.params.clone()).map_err(|e| {
            ValidationError::new(
                "params",
                format!(
                    "model version {} does not hold strategy overrides: {e}",
                    model.id
                ),
            )
        })?;
    def.with_overrides(&overrides).map_err(|e| {
        let message = format!("model version {}: {}", model.id, e.message);
        ValidationError::new(e.field, message)
    })
}

/// The bandit arm of a strategy (all its versions).
pub fn arm(strategy: StrategyId) -> String {
    format!("strategy:{strategy}")
}

/// The RNG seed of the bandit draw for `trader` at the cycle minute `t`
/// (SplitMix64 of both, so neighbouring traders and minutes differ).
pub fn bandit_seed(trader: TraderId, t: DateTime<Utc>) -> u64 {
    let minute = u64::try_from(t.timestamp().div_euclid(60)).unwrap_or_default();
    let id = u64::try_from(trader.get()).unwrap_or_default();
    let mut z = id
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(minute)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One cycle's bandit weight and where it came from (recorded in every
/// signal of the cycle).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BanditPick {
    /// The arm.
    pub arm: String,
    /// The regime the posterior is for (`None`: no regime known).
    pub regime: Option<RegimeLabel>,
    /// The weight fed to the evaluator, in `[0.5, 1.5]`.
    pub weight: f64,
    /// `SAMPLED` (with θ), `DISABLED` (CHOP/PANIC), `WARMUP` (no or too
    /// few updates), `NO_REGIME`.
    pub source: String,
    /// The Thompson sample, when one was drawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theta: Option<f64>,
    /// Updates behind the posterior.
    pub pulls: u64,
}

/// The bandit weight of `strategy` for `trader`'s cycle at minute `t`, from
/// the stored posterior `state` of the current `regime` (see the module docs).
pub fn bandit_weight(
    trader: TraderId,
    strategy: StrategyId,
    regime: Option<RegimeLabel>,
    state: Option<&BanditState>,
    t: DateTime<Utc>,
) -> Result<BanditPick, LearningError> {
    let arm = arm(strategy);
    let pulls = state.map_or(0, |s| s.pulls);
    let Some(regime) = regime else {
        return Ok(BanditPick {
            arm,
            regime: None,
            weight: 1.0,
            source: "NO_REGIME".to_owned(),
            theta: None,
            pulls,
        });
    };
    let states: Vec<ArmState> = state
        .filter(|s| s.arm == arm && s.regime == regime)
        .map(|s| ArmState {
            arm: s.arm.clone(),
            regime: s.regime,
            alpha: s.alpha,
            beta: s.beta,
            pulls: s.pulls,
            updated_at: s.updated_at,
        })
        .into_iter()
        .collect();
    let bandit = Bandit::from_states(BanditConfig::default(), states)?;
    let mut rng = ChaCha8Rng::seed_from_u64(bandit_seed(trader, t));
    let w = bandit.weight(&arm, regime, &mut rng)?;
    let (source, theta) = match w.source {
        WeightSource::Sampled { theta } => ("SAMPLED", Some(theta)),
        WeightSource::Disabled => ("DISABLED", None),
        WeightSource::Warmup { .. } => ("WARMUP", None),
    };
    Ok(BanditPick {
        arm,
        regime: Some(regime),
        weight: w.weight,
        source: source.to_owned(),
        theta,
        pulls,
    })
}

#[cfg(test)]
mod tests;
