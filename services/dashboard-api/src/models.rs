//! Which AI MODE model version a trader should use now (FIX-10, FIX-12; the
//! contract in the learning issue): only for a strategy whose version has
//! the AI_MODE risk profile — in PAPER the newest model of its strategy in
//! PAPER_DEPLOYED, LIVE_ELIGIBLE or LIVE_ARMED; in LIVE the newest in
//! LIVE_ELIGIBLE or LIVE_ARMED ("newest": the highest id). None means the
//! built-in AI MODE numbers. The trader makes the same choice once at start;
//! the dashboard-api puts the choice into the trader's config hash
//! (`.m{id or 0}`), so a change of it recreates the trader.

use std::collections::HashMap;

use domain::{Mode, ModelStage, RiskProfile, StrategyId};
use risk::RiskParams;
use storage::{StorageError, Store, learning::ModelVersion, strategies::StrategyVersion};
use strategy::{StrategyDefinition, StrategyOverrides};

/// Model versions read per stage (far more than ever deployed at once).
const PAGE: u32 = 10_000;

/// The models AI MODE traders should use, per strategy and mode (one read
/// of the deployed models).
#[derive(Debug, Default, Clone)]
pub struct ActiveModels {
    paper: HashMap<StrategyId, ModelVersion>,
    live: HashMap<StrategyId, ModelVersion>,
}

impl ActiveModels {
    /// Reads every model version in a usable stage.
    pub async fn load(store: &Store) -> Result<Self, StorageError> {
        let mut out = Self::default();
        for stage in ModelStage::usable_in(Mode::Paper) {
            for m in store.model_versions().list(Some(*stage), PAGE).await? {
                let Some(strategy) = m.strategy_id else {
                    continue;
                };
                if ModelStage::usable_in(Mode::Live).contains(stage) {
                    keep_newest(&mut out.live, strategy, &m);
                }
                keep_newest(&mut out.paper, strategy, &m);
            }
        }
        Ok(out)
    }

    /// The model a trader in `mode` on `version` should use (None: not an
    /// AI MODE strategy, or no deployed model — the built-in numbers).
    pub fn for_trader(&self, version: &StrategyVersion, mode: Mode) -> Option<&ModelVersion> {
        if version.risk_profile != RiskProfile::AiMode {
            return None;
        }
        match mode {
            Mode::Paper => self.paper.get(&version.strategy_id),
            Mode::Live => self.live.get(&version.strategy_id),
        }
    }
}

fn keep_newest(
    map: &mut HashMap<StrategyId, ModelVersion>,
    strategy: StrategyId,
    m: &ModelVersion,
) {
    match map.get(&strategy) {
        Some(have) if have.id.get() >= m.id.get() => {}
        _ => {
            map.insert(strategy, m.clone());
        }
    }
}

/// The risk parameters a trader on `version` (with `model`) works with: the
/// model's AI MODE overrides when they are valid, else the stored
/// definition's, else the profile's built-in numbers.
pub fn risk_params(version: &StrategyVersion, model: Option<&ModelVersion>) -> RiskParams {
    if let Some(m) = model
        && let Ok(overrides) = serde_json::from_value::<StrategyOverrides>(m.params.clone())
        && let Ok(def) = StrategyDefinition::ai_mode(&overrides)
    {
        return def.risk;
    }
    serde_json::from_value::<StrategyDefinition>(version.definition.clone())
        .map_or_else(|_| RiskParams::builtin(version.risk_profile), |d| d.risk)
}
