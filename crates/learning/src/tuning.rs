//! OPT-3 auto-tuning: a search space over the strategy's tunable numbers, a
//! TPE (Tree-structured Parzen Estimator) search of K = 60 candidates, each
//! scored by a caller-supplied backtest, and a decision that only ever adopts
//! a candidate the OPT-2 gate PASSed.
//!
//! # What is tuned (the standard space)
//!
//! A candidate is a [`StrategyOverrides`] set on top of the deployed one,
//! applied to the strategy an AI_MODE trader runs (the stored strategy
//! version, [`StrategyDefinition::with_overrides`] — the built-in AI_MODE
//! numbers by default); everything not tuned is carried over unchanged. OPT-3's five groups map onto it as follows.
//!
//! | OPT-3 group | parameter | range | why |
//! |---|---|---|---|
//! | feature_weights | `weights.<ID>` for every module (TP, VCB, LSR, LF, REGIME) | 0–1 each | the aggregator divides by their sum, so only ratios matter; 0 switches a module off |
//! | score_threshold | `thresholds.entry` (the exit threshold follows at the strategy's entry − exit gap, 30 for STANDARD) | 55–85 | below 55 nearly every market qualifies; above 85 almost none does |
//! | topn | `universe.top_n` (integer) | 5–50 | fewer than 5 markets leaves RISK-4's slots empty; beyond 50 the 24 h traded value — and the book depth — thins out |
//! | regime_policy multipliers | `regime_policy.{breakout_rotation, trend, range}` | 0.5–1.6 | CHOP and PANIC are not tuned: REG-4 refuses entries there, so their weights cannot change a backtest |
//! | penalty_weights | `risk.risk_multiplier` | 0.7–1.0 | the strategy has no separate penalty terms; STR-2's risk multiplier is its only multiplicative penalty on the final score (and it scales the per-trade risk with it). The range stops at 1.0: tuning may make the strategy more cautious, never riskier than its profile |
//!
//! Values are quantised before use so stored candidates read cleanly: weights
//! and regime multipliers to 3 decimals, the threshold to 1, the multiplier
//! to 2 (it becomes a `Decimal`), top-N to an integer. Every candidate is
//! validated as a whole by [`StrategyDefinition::with_overrides`]; one that fails is
//! recorded as invalid and never evaluated.
//!
//! # Search
//!
//! One TPE optimizer per dimension (the `tpe` crate, independent TPE as in
//! hyperopt), all told the same loss. The first `startup` (10) candidates are
//! uniform random, then TPE proposes from the best `gamma` (25 %, hyperopt's
//! default for small budgets) of the trials so far, picking the best of
//! `ei_candidates` (24) draws by expected improvement. The current strategy
//! (the **incumbent**) is evaluated first as trial 0 and told to the optimizers
//! as well; K counts the generated candidates.
//! The RNG is ChaCha8 (a portable stream) seeded from
//! [`TuningConfig::seed`]: the same seed, space, window and (deterministic)
//! objective give the same candidates in the same order. Invalid candidates
//! are not backtested, so a run makes at most K + 1 backtests.
//!
//! **Loss.** TPE minimises; it only ranks trials, so the loss keeps the gate's
//! order first and the objective second: PASS `0 − s`, HOLD `3 − s`, REJECT
//! `6 − s`, invalid `9`, where `s = x / (1 + |x|)` squashes the objective
//! score `x` into (−1, 1) (an undefined score counts as −1). A HOLD therefore
//! never outranks a PASS, and TPE learns to stay where the gate passes.
//!
//! **Objective score** ([`Objective`], default `LOWER_BOUND` with z = 1):
//! `E − z · sd / √n`, a one-sided lower confidence bound on the mean net
//! return. Picking the best of 60 by the raw mean favours candidates that
//! were merely lucky on few signals; the bound charges for noise and for
//! small samples.
//!
//! **Decision** ([`TuningReport::decision`]): the generated candidate with the
//! best score among those the gate PASSed is adopted if it beats the
//! incumbent (when the incumbent PASSes too); with no PASS at all nothing is
//! adopted. HOLD and REJECT are never adoptable.

use std::collections::BTreeMap;

use domain::RegimeLabel;
use rand_0_10::{RngExt, SeedableRng, rngs::ChaCha8Rng};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};
use strategy::{StrategyDefinition, StrategyOverrides};
use tpe::{TpeOptimizer, TpeOptimizerBuilder, density_estimation::DefaultEstimatorBuilder};

use crate::{
    EvalWindow, GateConfig, GateResult, Metrics, SignalOutcome, Verdict,
    error::{LearningError, TuneError, check_range},
    evaluate, gate,
};

/// The OPT-3 group a parameter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParamGroup {
    /// Score-module weights.
    FeatureWeights,
    /// Penalties on the final score.
    PenaltyWeights,
    /// The entry threshold.
    ScoreThreshold,
    /// The universe size.
    TopN,
    /// Regime multipliers.
    RegimePolicy,
}

/// Where a tuned value goes in [`StrategyOverrides`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "target", content = "key", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Target {
    /// `weights.<id>` (STR-3).
    ModuleWeight(String),
    /// `thresholds.entry` (STR-5); the exit threshold keeps the base gap.
    EntryThreshold,
    /// `universe.top_n`.
    TopN,
    /// `regime_policy.<label>` (REG-3), for labels that allow entries.
    RegimeWeight(RegimeLabel),
    /// `risk.risk_multiplier` (STR-2), at most 1.
    RiskMultiplier,
}

impl Target {
    /// The parameter's name in candidates (`weights.TP`, `thresholds.entry`, …).
    pub fn name(&self) -> String {
        match self {
            Self::ModuleWeight(id) => format!("weights.{id}"),
            Self::EntryThreshold => "thresholds.entry".to_owned(),
            Self::TopN => "universe.top_n".to_owned(),
            Self::RegimeWeight(l) => format!("regime_policy.{}", l.as_str().to_ascii_lowercase()),
            Self::RiskMultiplier => "risk.risk_multiplier".to_owned(),
        }
    }

    /// Its OPT-3 group.
    pub const fn group(&self) -> ParamGroup {
        match self {
            Self::ModuleWeight(_) => ParamGroup::FeatureWeights,
            Self::EntryThreshold => ParamGroup::ScoreThreshold,
            Self::TopN => ParamGroup::TopN,
            Self::RegimeWeight(_) => ParamGroup::RegimePolicy,
            Self::RiskMultiplier => ParamGroup::PenaltyWeights,
        }
    }

    /// The widest range the strategy's validation accepts.
    const fn limits(&self) -> (f64, f64) {
        match self {
            Self::ModuleWeight(_) => (0.0, 10.0),
            Self::EntryThreshold => (1.0, 100.0),
            Self::TopN => (1.0, 500.0),
            Self::RegimeWeight(_) => (0.0, 3.0),
            Self::RiskMultiplier => (0.5, 1.0),
        }
    }

    /// Decimals a value is rounded to.
    const fn decimals(&self) -> i32 {
        match self {
            Self::ModuleWeight(_) | Self::RegimeWeight(_) => 3,
            Self::EntryThreshold => 1,
            Self::TopN => 0,
            Self::RiskMultiplier => 2,
        }
    }

    fn quantise(&self, v: f64) -> f64 {
        let scale = 10_f64.powi(self.decimals());
        let (lo, hi) = self.limits();
        ((v * scale).round() / scale).clamp(lo, hi)
    }
}

/// One searched parameter: `[lo, hi]` (integers for `TopN`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dimension {
    /// What it sets.
    #[serde(flatten)]
    pub target: Target,
    /// Lowest value.
    pub lo: f64,
    /// Highest value.
    pub hi: f64,
}

impl Dimension {
    /// A dimension over `[lo, hi]`.
    pub fn new(target: Target, lo: f64, hi: f64) -> Self {
        Self { target, lo, hi }
    }

    /// The TPE range: `[lo, hi)`, widened to `[lo, hi + 1)` for integers so
    /// that flooring reaches `hi`.
    fn tpe_range(&self) -> (f64, f64) {
        match self.target {
            Target::TopN => (self.lo, self.hi + 1.0),
            _ => (self.lo, self.hi),
        }
    }

    /// A raw TPE value → the parameter value.
    fn value(&self, raw: f64) -> f64 {
        let v = match self.target {
            Target::TopN => raw.floor(),
            _ => raw,
        };
        self.target.quantise(v.clamp(self.lo, self.hi))
    }

    /// A parameter value → a raw value inside the TPE range.
    fn raw(&self, value: f64) -> f64 {
        let (lo, hi) = self.tpe_range();
        let v = match self.target {
            Target::TopN => value.floor() + 0.5,
            _ => value,
        };
        v.clamp(lo, hi.next_down())
    }
}

/// The candidates' space: the strategy the overrides apply to, the deployed
/// overrides, and the searched dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpace {
    /// The definition every override set is applied to (the stored AI_MODE
    /// strategy version, or the built-in AI_MODE numbers).
    definition: StrategyDefinition,
    base: StrategyOverrides,
    base_definition: StrategyDefinition,
    dims: Vec<Dimension>,
}

/// `definition` with `o` applied, validated; errors name `{prefix}.<field>`.
fn apply(
    definition: &StrategyDefinition,
    o: &StrategyOverrides,
    prefix: &str,
) -> Result<StrategyDefinition, LearningError> {
    definition
        .with_overrides(o)
        .map_err(|e| LearningError::invalid(format!("{prefix}.{}", e.field), e.message))
}

/// Tuned parameter values by name (`weights.TP` → 0.3, …); what a model
/// candidate stores as its `params`.
pub type Params = BTreeMap<String, f64>;

impl SearchSpace {
    /// A space over `dims` on top of `base` (the deployed AI_MODE overrides;
    /// `StrategyOverrides::default()` for plain STANDARD numbers). Errors name
    /// `space.base…` or `space.dims[i].field`.
    pub fn new(base: StrategyOverrides, dims: Vec<Dimension>) -> Result<Self, LearningError> {
        Self::new_for(builtin_ai_mode(), base, dims)
    }

    /// A space over `dims` on top of `base`, where every override set
    /// (the incumbent's and each candidate's) is applied to `definition` —
    /// the stored strategy version an AI_MODE trader runs
    /// ([`StrategyDefinition::with_overrides`], exactly as the trader applies
    /// a model). Errors name `space.definition…`, `space.base…` or
    /// `space.dims[i].field`.
    pub fn new_for(
        definition: StrategyDefinition,
        base: StrategyOverrides,
        dims: Vec<Dimension>,
    ) -> Result<Self, LearningError> {
        definition.validate().map_err(|e| {
            LearningError::invalid(format!("space.definition.{}", e.field), e.message)
        })?;
        let base_definition = apply(&definition, &base, "space.base")?;
        if dims.is_empty() {
            return Err(LearningError::invalid(
                "space.dims",
                "at least one dimension is needed",
            ));
        }
        for (i, d) in dims.iter().enumerate() {
            let field = |f: &str| format!("space.dims[{i}].{f}");
            let (lo, hi) = d.target.limits();
            check_range(&field("lo"), d.lo, lo, hi)?;
            check_range(&field("hi"), d.hi, lo, hi)?;
            if d.hi <= d.lo {
                return Err(LearningError::invalid(
                    field("hi"),
                    format!("must be above lo ({})", d.lo),
                ));
            }
            if d.target == Target::TopN && (d.lo.fract() != 0.0 || d.hi.fract() != 0.0) {
                return Err(LearningError::invalid(
                    field("lo"),
                    "top_n bounds must be whole numbers",
                ));
            }
            match &d.target {
                Target::ModuleWeight(id) if !base_definition.weights.contains_key(id) => {
                    return Err(LearningError::invalid(
                        field("key"),
                        format!("unknown module id {id:?}; the strategy has no such weight"),
                    ));
                }
                Target::RegimeWeight(l) if !l.allows_entries() => {
                    return Err(LearningError::invalid(
                        field("key"),
                        format!("{l} refuses entries (REG-4); its weight cannot change a backtest"),
                    ));
                }
                _ => {}
            }
            if dims[..i].iter().any(|o| o.target == d.target) {
                return Err(LearningError::invalid(
                    field("target"),
                    format!("{} is searched twice", d.target.name()),
                ));
            }
        }
        Ok(Self {
            definition,
            base,
            base_definition,
            dims,
        })
    }

    /// The standard space of the module docs' table over `base` on the
    /// built-in AI_MODE numbers.
    pub fn standard(base: StrategyOverrides) -> Result<Self, LearningError> {
        Self::standard_for(builtin_ai_mode(), base)
    }

    /// The standard space of the module docs' table over `base` applied to
    /// `definition` (one weight dimension per module the definition weights).
    pub fn standard_for(
        definition: StrategyDefinition,
        base: StrategyOverrides,
    ) -> Result<Self, LearningError> {
        let probe = apply(&definition, &base, "space.base")?;
        let mut dims: Vec<Dimension> = probe
            .weights
            .keys()
            .map(|id| Dimension::new(Target::ModuleWeight(id.clone()), 0.0, 1.0))
            .collect();
        dims.push(Dimension::new(Target::EntryThreshold, 55.0, 85.0));
        dims.push(Dimension::new(Target::TopN, 5.0, 50.0));
        for l in [
            RegimeLabel::BreakoutRotation,
            RegimeLabel::Trend,
            RegimeLabel::Range,
        ] {
            dims.push(Dimension::new(Target::RegimeWeight(l), 0.5, 1.6));
        }
        dims.push(Dimension::new(Target::RiskMultiplier, 0.7, 1.0));
        Self::new_for(definition, base, dims)
    }

    /// The definition override sets are applied to.
    pub fn definition(&self) -> &StrategyDefinition {
        &self.definition
    }

    /// The searched dimensions.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dims
    }

    /// The deployed strategy every candidate starts from.
    pub fn base_definition(&self) -> &StrategyDefinition {
        &self.base_definition
    }

    /// The deployed overrides.
    pub fn base_overrides(&self) -> &StrategyOverrides {
        &self.base
    }

    /// The incumbent's value of every dimension (as deployed, even outside
    /// the searched range).
    pub fn incumbent_params(&self) -> Params {
        let d = &self.base_definition;
        self.dims
            .iter()
            .map(|dim| {
                let v = match &dim.target {
                    Target::ModuleWeight(id) => d.weights.get(id).copied().unwrap_or(0.0),
                    Target::EntryThreshold => d.thresholds.entry,
                    Target::TopN => d.universe.top_n as f64,
                    Target::RegimeWeight(l) => d.regime_policy.weight(*l),
                    Target::RiskMultiplier => d.risk.risk_multiplier.to_f64().unwrap_or(1.0),
                };
                (dim.target.name(), v)
            })
            .collect()
    }

    /// The overrides and the validated strategy of a parameter set. Every
    /// dimension must have a value (`params.<name>` names a missing or
    /// out-of-range one).
    pub fn resolve(
        &self,
        params: &Params,
    ) -> Result<(StrategyOverrides, StrategyDefinition), LearningError> {
        if let Some(extra) = params
            .keys()
            .find(|k| !self.dims.iter().any(|d| d.target.name() == **k))
        {
            return Err(LearningError::invalid(
                format!("params.{extra}"),
                "not a searched parameter",
            ));
        }
        let base = &self.base_definition;
        let mut o = self.base.clone();
        for dim in &self.dims {
            let name = dim.target.name();
            let field = format!("params.{name}");
            let v = *params
                .get(&name)
                .ok_or_else(|| LearningError::invalid(&field, "missing"))?;
            let (lo, hi) = dim.target.limits();
            check_range(&field, v, lo, hi)?;
            match &dim.target {
                Target::ModuleWeight(id) => {
                    o.weights.insert(id.clone(), v);
                }
                Target::EntryThreshold => {
                    let gap = base.thresholds.entry - base.thresholds.exit;
                    o.entry_threshold = Some(v);
                    o.exit_threshold = Some((v - gap).max(0.0));
                }
                Target::TopN => {
                    if v.fract() != 0.0 {
                        return Err(LearningError::invalid(
                            field,
                            format!("must be a whole number, got {v}"),
                        ));
                    }
                    o.top_n = Some(v as usize);
                }
                Target::RegimeWeight(l) => {
                    let mut p = o.regime_policy.unwrap_or(base.regime_policy);
                    match l {
                        RegimeLabel::BreakoutRotation => p.breakout_rotation = v,
                        RegimeLabel::Trend => p.trend = v,
                        RegimeLabel::Range => p.range = v,
                        RegimeLabel::Chop => p.chop = v,
                        RegimeLabel::Panic => p.panic = v,
                    }
                    o.regime_policy = Some(p);
                }
                Target::RiskMultiplier => {
                    let m = Decimal::try_from(v)
                        .map_err(|e| LearningError::invalid(&field, e.to_string()))?
                        .round_dp(2);
                    let mut r = o.risk.clone().unwrap_or_default();
                    r.risk_multiplier = Some(m);
                    o.risk = Some(r);
                }
            }
        }
        let def = apply(&self.definition, &o, "candidate")?;
        Ok((o, def))
    }
}

/// The built-in AI_MODE strategy (STANDARD's numbers, labelled AI_MODE).
fn builtin_ai_mode() -> StrategyDefinition {
    StrategyDefinition::builtin(domain::RiskProfile::AiMode)
}

/// What the tuner maximises among candidates (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Objective {
    /// E, the mean net return.
    MeanNet,
    /// Per-signal Sharpe.
    Sharpe,
    /// `E − z · sd / √n` (z within 0–5).
    LowerBound {
        /// Standard errors to subtract.
        z: f64,
    },
}

impl Default for Objective {
    fn default() -> Self {
        Self::LowerBound { z: 1.0 }
    }
}

impl Objective {
    /// The score of `m`; `None` when its figures are undefined.
    pub fn score(&self, m: &Metrics) -> Option<f64> {
        match self {
            Self::MeanNet => m.e,
            Self::Sharpe => m.sharpe,
            Self::LowerBound { z } => match (m.e, m.sd) {
                (Some(e), Some(sd)) => Some(e - z * sd / (m.n as f64).sqrt()),
                _ => None,
            },
        }
    }
}

/// How a tuning run searches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuningConfig {
    /// Candidates generated (OPT-3: K = 60), 1–1000.
    pub k: usize,
    /// RNG seed; same seed, same candidates.
    pub seed: u64,
    /// Uniform-random candidates before TPE takes over (≤ k; default 10).
    pub startup: usize,
    /// Fraction of trials TPE treats as good, (0, 1] (default 0.25).
    pub gamma: f64,
    /// Draws per TPE proposal, 1–1000 (default 24).
    pub ei_candidates: usize,
    /// The score candidates are ranked by.
    pub objective: Objective,
    /// The OPT-2 gate every candidate must PASS to be adoptable.
    pub gate: GateConfig,
}

impl Default for TuningConfig {
    fn default() -> Self {
        Self {
            k: 60,
            seed: 0,
            startup: 10,
            gamma: 0.25,
            ei_candidates: 24,
            objective: Objective::default(),
            gate: GateConfig::default(),
        }
    }
}

impl TuningConfig {
    /// Checks every field, naming it.
    pub fn validate(&self) -> Result<(), LearningError> {
        if !(1..=1000).contains(&self.k) {
            return Err(LearningError::invalid(
                "tuning.k",
                format!("must be within [1, 1000], got {}", self.k),
            ));
        }
        if self.startup > self.k {
            return Err(LearningError::invalid(
                "tuning.startup",
                format!(
                    "must be at most tuning.k ({}), got {}",
                    self.k, self.startup
                ),
            ));
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(LearningError::invalid(
                "tuning.gamma",
                format!("must be within (0, 1], got {}", self.gamma),
            ));
        }
        if !(1..=1000).contains(&self.ei_candidates) {
            return Err(LearningError::invalid(
                "tuning.ei_candidates",
                format!("must be within [1, 1000], got {}", self.ei_candidates),
            ));
        }
        if let Objective::LowerBound { z } = self.objective {
            check_range("tuning.objective.z", z, 0.0, 5.0)?;
        }
        self.gate.validate()
    }
}

/// A candidate handed to the objective: its parameters, overrides and the
/// complete strategy to backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// 0 = the incumbent, 1..=K generated.
    pub index: usize,
    /// Tuned values by name.
    pub params: Params,
    /// The overrides a model version would store.
    pub overrides: StrategyOverrides,
    /// The strategy they produce.
    pub definition: StrategyDefinition,
}

/// How a trial ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrialOutcome {
    /// Backtested, measured and gated.
    Evaluated {
        /// OPT-2 metrics.
        metrics: Metrics,
        /// The gate's verdict and checks.
        gate: GateResult,
        /// The objective score (`None` when undefined).
        score: Option<f64>,
    },
    /// The parameters do not make a valid strategy; not backtested.
    Invalid {
        /// The validation error (field and reason).
        error: String,
    },
}

/// One candidate's record (what `model_candidates` stores: params, metrics,
/// verdict).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// 0 = the incumbent.
    pub index: usize,
    /// Tuned values by name.
    pub params: Params,
    /// The overrides (absent when invalid).
    pub overrides: Option<StrategyOverrides>,
    /// The result.
    pub outcome: TrialOutcome,
    /// The loss TPE was told.
    pub loss: f64,
}

impl Trial {
    /// The gate's verdict, if evaluated.
    pub fn verdict(&self) -> Option<Verdict> {
        match &self.outcome {
            TrialOutcome::Evaluated { gate, .. } => Some(gate.verdict),
            TrialOutcome::Invalid { .. } => None,
        }
    }

    /// The objective score, if evaluated and defined.
    pub fn score(&self) -> Option<f64> {
        match &self.outcome {
            TrialOutcome::Evaluated { score, .. } => *score,
            TrialOutcome::Invalid { .. } => None,
        }
    }

    /// Only a PASS is adoptable.
    pub fn is_adoptable(&self) -> bool {
        self.verdict() == Some(Verdict::Pass)
    }
}

/// What to do after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    /// Adopt generated candidate `index` (it PASSed and beats the incumbent).
    Adopt {
        /// The trial index.
        index: usize,
    },
    /// Candidates passed, but none beat the PASSing incumbent.
    KeepIncumbent,
    /// No generated candidate PASSed.
    NoneAdoptable,
}

/// Every trial of a run; `trials[0]` is the incumbent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningReport {
    /// The seed used.
    pub seed: u64,
    /// Incumbent first, then the K generated candidates in order.
    pub trials: Vec<Trial>,
}

fn better(a: &Trial, b: &Trial) -> bool {
    // Higher score first; on a tie the earlier trial stays.
    a.score().unwrap_or(f64::NEG_INFINITY) > b.score().unwrap_or(f64::NEG_INFINITY)
}

impl TuningReport {
    /// The adoptable (PASS) trials, best score first (ties: earlier first).
    pub fn adoptable(&self) -> Vec<&Trial> {
        let mut v: Vec<&Trial> = self.trials.iter().filter(|t| t.is_adoptable()).collect();
        v.sort_by(|a, b| {
            b.score()
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.score().unwrap_or(f64::NEG_INFINITY))
                .then(a.index.cmp(&b.index))
        });
        v
    }

    /// The decision of the module docs.
    pub fn decision(&self) -> Decision {
        let best = self
            .trials
            .iter()
            .skip(1)
            .filter(|t| t.is_adoptable())
            .fold(None::<&Trial>, |acc, t| match acc {
                Some(b) if !better(t, b) => Some(b),
                _ => Some(t),
            });
        match (best, self.trials.first()) {
            (None, _) => Decision::NoneAdoptable,
            (Some(b), Some(inc)) if inc.is_adoptable() && !better(b, inc) => {
                Decision::KeepIncumbent
            }
            (Some(b), _) => Decision::Adopt { index: b.index },
        }
    }
}

fn loss(outcome: &TrialOutcome) -> f64 {
    match outcome {
        TrialOutcome::Invalid { .. } => 9.0,
        TrialOutcome::Evaluated { gate, score, .. } => {
            let base = match gate.verdict {
                Verdict::Pass => 0.0,
                Verdict::Hold => 3.0,
                Verdict::Reject => 6.0,
            };
            base - score.map_or(-1.0, |x| x / (1.0 + x.abs()))
        }
    }
}

fn prefix(index: usize, e: LearningError) -> LearningError {
    match e {
        LearningError::Invalid { field, message } => {
            LearningError::invalid(format!("trials[{index}].{field}"), message)
        }
        other @ LearningError::Transition(_) => other,
    }
}

struct Search {
    optimizers: Vec<TpeOptimizer<DefaultEstimatorBuilder>>,
}

impl Search {
    fn new(space: &SearchSpace, cfg: &TuningConfig) -> Result<Self, LearningError> {
        let optimizers = space
            .dims
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let (lo, hi) = d.tpe_range();
                let range = tpe::range(lo, hi).map_err(|e| {
                    LearningError::invalid(format!("space.dims[{i}]"), e.to_string())
                })?;
                TpeOptimizerBuilder::new()
                    .gamma(cfg.gamma)
                    .candidates(cfg.ei_candidates)
                    .build(tpe::parzen_estimator(), range)
                    .map_err(|e| LearningError::invalid("tuning", e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { optimizers })
    }

    /// Raw values for the next candidate.
    fn ask(&mut self, space: &SearchSpace, rng: &mut ChaCha8Rng, random: bool) -> Vec<f64> {
        space
            .dims
            .iter()
            .zip(&mut self.optimizers)
            .map(|(d, o)| {
                let (lo, hi) = d.tpe_range();
                let raw = if random {
                    rng.random_range(lo..hi)
                } else {
                    match o.ask(rng) {
                        Ok(v) => v,
                        Err(never) => match never {},
                    }
                };
                // The estimator samples inside its range; clamp against rounding.
                raw.clamp(lo, hi.next_down())
            })
            .collect()
    }

    fn tell(&mut self, raws: &[f64], loss: f64) -> Result<(), LearningError> {
        for (i, (o, raw)) in self.optimizers.iter_mut().zip(raws).enumerate() {
            o.tell(*raw, loss)
                .map_err(|e| LearningError::invalid(format!("space.dims[{i}]"), e.to_string()))?;
        }
        Ok(())
    }
}

/// Runs one OPT-3 tuning round: the incumbent, then `cfg.k` candidates, each
/// backtested by `objective` (which returns the candidate's signal outcomes
/// over `window`), measured (OPT-2), gated and told to TPE.
pub fn tune<F, E>(
    space: &SearchSpace,
    window: EvalWindow,
    cfg: &TuningConfig,
    mut objective: F,
) -> Result<TuningReport, TuneError<E>>
where
    F: FnMut(&Candidate) -> Result<Vec<SignalOutcome>, E>,
    E: std::error::Error + 'static,
{
    cfg.validate()?;
    EvalWindow::new(window.from, window.to)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut search = Search::new(space, cfg)?;
    let mut trials = Vec::with_capacity(cfg.k + 1);

    let mut run = |index: usize,
                   params: Params,
                   resolved: Result<(StrategyOverrides, StrategyDefinition), LearningError>|
     -> Result<Trial, TuneError<E>> {
        let (overrides, outcome) = match resolved {
            Err(e) => (
                None,
                TrialOutcome::Invalid {
                    error: e.to_string(),
                },
            ),
            Ok((overrides, definition)) => {
                let candidate = Candidate {
                    index,
                    params: params.clone(),
                    overrides,
                    definition,
                };
                let outcomes = objective(&candidate)
                    .map_err(|source| TuneError::Objective { index, source })?;
                let metrics = evaluate(&outcomes, window).map_err(|e| prefix(index, e))?;
                let gate = gate(&metrics, &cfg.gate)?;
                let score = cfg.objective.score(&metrics);
                (
                    Some(candidate.overrides),
                    TrialOutcome::Evaluated {
                        metrics,
                        gate,
                        score,
                    },
                )
            }
        };
        let loss = loss(&outcome);
        Ok(Trial {
            index,
            params,
            overrides,
            outcome,
            loss,
        })
    };

    // Trial 0: the incumbent, exactly as deployed.
    let incumbent = run(
        0,
        space.incumbent_params(),
        Ok((space.base.clone(), space.base_definition.clone())),
    )?;
    let raws: Vec<f64> = space
        .dims
        .iter()
        .map(|d| {
            d.raw(
                incumbent
                    .params
                    .get(&d.target.name())
                    .copied()
                    .unwrap_or(d.lo),
            )
        })
        .collect();
    search.tell(&raws, incumbent.loss)?;
    trials.push(incumbent);

    for index in 1..=cfg.k {
        let raws = search.ask(space, &mut rng, index <= cfg.startup);
        let params: Params = space
            .dims
            .iter()
            .zip(&raws)
            .map(|(d, raw)| (d.target.name(), d.value(*raw)))
            .collect();
        let resolved = space.resolve(&params);
        let trial = run(index, params, resolved)?;
        search.tell(&raws, trial.loss)?;
        trials.push(trial);
    }
    Ok(TuningReport {
        seed: cfg.seed,
        trials,
    })
}

#[cfg(test)]
mod tests;
