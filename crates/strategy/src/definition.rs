//! [`StrategyDefinition`]: everything one Score-Strategy is (STR-1) as one
//! validated, serde-JSON document — module weights (STR-3), thresholds
//! (STR-5), EMA smoothing (STR-4), universe selection, exit rules, the regime
//! policy (REG-3 weights per label), the risk profile and its
//! [`risk::RiskParams`]. The storage layer versions these documents; a trader
//! reads one at start (FIX-12).
//!
//! # Built-in strategies (one per risk profile, FIX-10)
//!
//! | field                           | SAFETY_FIRST      | STANDARD          | PROFIT_FIRST      | CRAZY             |
//! |---------------------------------|-------------------|-------------------|-------------------|-------------------|
//! | thresholds entry / exit (STR-5) | 75 / 45           | 70 / 40           | 68 / 38           | 65 / 35           |
//! | universe `top_n`                | 15                | 20                | 30                | 40                |
//! | `min_value_24h_krw`             | 10 B              | 5 B               | 3 B               | 1 B               |
//! | `max_spread`                    | 0.3 %             | 0.5 %             | 0.6 %             | 1 %               |
//! | `min_avg_depth5_krw`            | 20 M              | 10 M              | 5 M               | 3 M               |
//! | volatility band (1 m, 60 min)   | 0.01 %–0.5 %      | 0.01 %–0.8 %      | 0.01 %–1 %        | 0.005 %–1.5 %     |
//! | take-profits (R, fraction)      | 1.5R ½, 3R ½      | 1.5R ⅓, 3R ⅓      | 2R ⅓, 4R ⅓        | 2R ¼, 5R ¼        |
//! | trailing stop (ATR)             | 2.0               | 2.5               | 3.0               | 3.5               |
//! | PANIC reduce fraction           | 1.0 (close)       | 0.5               | 0.5               | 0.3               |
//! | regime w: BR / TREND / RANGE / CHOP / PANIC | 1.1 / 1.05 / 0.85 / 0.5 / 0 | 1.2 / 1.1 / 0.9 / 0.5 / 0 | 1.3 / 1.15 / 0.95 / 0.5 / 0 | 1.4 / 1.2 / 1.0 / 0.6 / 0 |
//!
//! Common to all: weights TP 0.30, VCB 0.25, REGIME 0.20, LSR 0.15, LF 0.10
//! (STR-3), EMA α 0.3 (STR-4), 5-minute signal candles, leader `KRW-BTC`,
//! exit when the score falls below the exit threshold, market warnings
//! excluded. AI_MODE starts from STANDARD (labelled AI_MODE) and takes a
//! [`StrategyOverrides`] set from the deployed model version (OPT-3 tunes
//! weights, thresholds, top-N and the regime multipliers).
//!
//! Reasoning: STANDARD is the SPEC defaults (70/40, α 0.3, the STR-3 weights).
//! Safer profiles demand a higher score, trade only the deepest, tightest
//! books, take profit earlier and leave PANIC entirely; aggressive ones accept
//! more markets and let winners run with wider trails. The volatility band is
//! the per-minute standard deviation of log returns over the last hour: on
//! Upbit in 2025-09 KRW-BTC sat at 0.01–0.05 % (5th–95th percentile) and a
//! 300 KRW coin at ≈ 0.2 % (its 1 KRW tick alone is 0.33 %), so the band
//! excludes only dead or wild markets; the same tick is why SAFETY_FIRST's
//! 0.3 % spread limit excludes such coins. Regime weights are above 1 where the
//! regime favours momentum entries and 0 in PANIC (entries are refused there
//! anyway by REG-4; the weight keeps the recorded score honest).

use std::collections::BTreeMap;

use domain::{Market, RegimeLabel, RiskProfile, ValidationError};
use indicators::Interval;
use risk::{RiskOverrides, RiskParams};
use serde::{Deserialize, Serialize};

/// The definition format this code reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Built-in module ids (STR-3).
pub mod module_ids {
    /// Trend Pullback.
    pub const TP: &str = "TP";
    /// Volatility Contraction Breakout.
    pub const VCB: &str = "VCB";
    /// Liquidity Sweep Reversal.
    pub const LSR: &str = "LSR";
    /// Leader-Follower.
    pub const LF: &str = "LF";
    /// Global Regime Modifier.
    pub const REGIME: &str = "REGIME";
}

/// STR-5 entry and exit thresholds on the final score (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Entry signal when the final score is at least this.
    pub entry: f64,
    /// Exit signal when the final score is below this.
    pub exit: f64,
}

/// STR-4 smoothing of the base score per market.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smoothing {
    /// EMA α (0.3).
    pub alpha: f64,
    /// A market not evaluated for this long restarts its EMA from the next base score.
    pub reset_after_minutes: u32,
}

/// Universe selection (the screener's filters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniverseSettings {
    /// Keep at most this many markets, highest 24 h traded value first.
    pub top_n: usize,
    /// Minimum 24 h traded value in KRW.
    pub min_value_24h_krw: f64,
    /// Maximum relative spread `(ask − bid) / mid`.
    pub max_spread: f64,
    /// Minimum mean KRW per level over the top 5 asks.
    pub min_avg_depth5_krw: f64,
    /// Minimum volatility (stdev of 1-minute log returns over the last hour).
    pub min_volatility: f64,
    /// Maximum volatility.
    pub max_volatility: f64,
    /// Exclude markets carrying an Upbit market warning.
    pub exclude_warnings: bool,
}

/// One scale-out step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeProfit {
    /// Distance above entry in multiples of the initial risk `entry − stop`.
    pub r_multiple: f64,
    /// Fraction of the original size sold at this step.
    pub fraction: f64,
}

/// Exit rules (POS-1). The initial stop distance is the risk profile's
/// `stop_atr_multiple` (it sets the size, so it lives with the risk numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitRules {
    /// Scale-out steps, ascending R.
    pub take_profits: Vec<TakeProfit>,
    /// Trailing stop: highest price since entry minus this many ATR.
    pub trailing_atr_multiple: f64,
    /// Close when the final score falls below the exit threshold.
    pub exit_on_score: bool,
    /// REG-4: in PANIC, sell this fraction of each position once (1 = close).
    pub panic_reduce_fraction: f64,
}

/// The regime weight `w` per label that REG-3 applies as
/// `1 + (w − 1) × regime_score / 100`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimePolicy {
    /// BREAKOUT_ROTATION.
    pub breakout_rotation: f64,
    /// TREND.
    pub trend: f64,
    /// RANGE.
    pub range: f64,
    /// CHOP.
    pub chop: f64,
    /// PANIC.
    pub panic: f64,
}

impl RegimePolicy {
    /// `w` for `label`.
    pub fn weight(&self, label: RegimeLabel) -> f64 {
        match label {
            RegimeLabel::BreakoutRotation => self.breakout_rotation,
            RegimeLabel::Trend => self.trend,
            RegimeLabel::Range => self.range,
            RegimeLabel::Chop => self.chop,
            RegimeLabel::Panic => self.panic,
        }
    }
}

/// How an entry order is priced (EXE-1: limit orders first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntryStyle {
    /// A limit buy at the best ask; an unfilled rest waits until the timeout.
    #[default]
    Limit,
    /// A limit buy at the best ask, immediate-or-cancel.
    Ioc,
    /// A maker-only limit one tick below the best ask; cancelled if it would cross.
    PostOnly,
}

/// How the executor works this strategy's orders (EXE-1). Optional in a
/// stored definition; absent means the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutionRules {
    /// Entry order style.
    pub entry_style: EntryStyle,
    /// Tranches an entry is split into (1–5). The first is priced by the
    /// style; the others rest post-only one tick lower each.
    pub split_entries: u32,
    /// A resting entry remainder is cancelled after this many seconds (10–3600).
    pub entry_timeout_secs: u32,
}

impl Default for ExecutionRules {
    fn default() -> Self {
        Self {
            entry_style: EntryStyle::Limit,
            split_entries: 1,
            entry_timeout_secs: 120,
        }
    }
}

/// One Score-Strategy. Deserialising validates (errors name the field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Unchecked")]
pub struct StrategyDefinition {
    /// Display name.
    pub name: String,
    /// Format version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The risk profile (must equal `risk.profile`).
    pub risk_profile: RiskProfile,
    /// The leader market for Leader-Follower (KRW-BTC).
    pub leader: Market,
    /// Candle interval the score modules read.
    pub signal_interval: Interval,
    /// Module id → weight (STR-3). Normalised by their sum.
    pub weights: BTreeMap<String, f64>,
    /// Entry/exit thresholds (STR-5).
    pub thresholds: Thresholds,
    /// Score smoothing (STR-4).
    pub smoothing: Smoothing,
    /// Universe selection.
    pub universe: UniverseSettings,
    /// Exit rules.
    pub exits: ExitRules,
    /// Regime weights per label (REG-3).
    pub regime_policy: RegimePolicy,
    /// Risk numbers of the profile.
    pub risk: RiskParams,
    /// Order handling (EXE-1).
    #[serde(default)]
    pub execution: ExecutionRules,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unchecked {
    name: String,
    schema_version: u32,
    risk_profile: RiskProfile,
    leader: Market,
    signal_interval: Interval,
    weights: BTreeMap<String, f64>,
    thresholds: Thresholds,
    smoothing: Smoothing,
    universe: UniverseSettings,
    exits: ExitRules,
    regime_policy: RegimePolicy,
    risk: RiskParams,
    #[serde(default)]
    execution: ExecutionRules,
}

impl TryFrom<Unchecked> for StrategyDefinition {
    type Error = ValidationError;

    fn try_from(u: Unchecked) -> Result<Self, ValidationError> {
        let d = Self {
            name: u.name,
            schema_version: u.schema_version,
            risk_profile: u.risk_profile,
            leader: u.leader,
            signal_interval: u.signal_interval,
            weights: u.weights,
            thresholds: u.thresholds,
            smoothing: u.smoothing,
            universe: u.universe,
            exits: u.exits,
            regime_policy: u.regime_policy,
            risk: u.risk,
            execution: u.execution,
        };
        d.validate()?;
        Ok(d)
    }
}

/// A partial set of strategy numbers from a deployed model version (AI_MODE,
/// OPT-3). Absent fields keep the STANDARD value; unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StrategyOverrides {
    /// Replaces individual module weights (ids must exist).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, f64>,
    /// Entry threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_threshold: Option<f64>,
    /// Exit threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_threshold: Option<f64>,
    /// Universe top-N.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_n: Option<usize>,
    /// Regime policy multipliers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regime_policy: Option<RegimePolicy>,
    /// Risk overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskOverrides>,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ValidationError {
    ValidationError::new(field, message)
}

fn check_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), ValidationError> {
    if !v.is_finite() || v < lo || v > hi {
        return Err(err(
            field,
            format!("must be a finite number within [{lo}, {hi}], got {v}"),
        ));
    }
    Ok(())
}

fn is_module_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// STR-3's default weights.
fn default_weights() -> BTreeMap<String, f64> {
    [
        (module_ids::TP, 0.30),
        (module_ids::VCB, 0.25),
        (module_ids::REGIME, 0.20),
        (module_ids::LSR, 0.15),
        (module_ids::LF, 0.10),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn tps(steps: &[(f64, f64)]) -> Vec<TakeProfit> {
    steps
        .iter()
        .map(|&(r_multiple, fraction)| TakeProfit {
            r_multiple,
            fraction,
        })
        .collect()
}

impl StrategyDefinition {
    /// The built-in strategy of `profile` (table in the module docs).
    pub fn builtin(profile: RiskProfile) -> Self {
        let standard = Self {
            name: profile.display_name().to_owned(),
            schema_version: SCHEMA_VERSION,
            risk_profile: profile,
            leader: Market::parse("leader", "KRW-BTC")
                .expect("KRW-BTC is a valid market code (constant)"),
            signal_interval: Interval::M5,
            weights: default_weights(),
            thresholds: Thresholds {
                entry: 70.0,
                exit: 40.0,
            },
            smoothing: Smoothing {
                alpha: 0.3,
                reset_after_minutes: 30,
            },
            universe: UniverseSettings {
                top_n: 20,
                min_value_24h_krw: 5e9,
                max_spread: 0.005,
                min_avg_depth5_krw: 10e6,
                min_volatility: 0.0001,
                max_volatility: 0.008,
                exclude_warnings: true,
            },
            exits: ExitRules {
                take_profits: tps(&[(1.5, 1.0 / 3.0), (3.0, 1.0 / 3.0)]),
                trailing_atr_multiple: 2.5,
                exit_on_score: true,
                panic_reduce_fraction: 0.5,
            },
            regime_policy: RegimePolicy {
                breakout_rotation: 1.2,
                trend: 1.1,
                range: 0.9,
                chop: 0.5,
                panic: 0.0,
            },
            risk: RiskParams::builtin(profile),
            execution: ExecutionRules::default(),
        };
        match profile {
            RiskProfile::Standard | RiskProfile::AiMode => standard,
            RiskProfile::SafetyFirst => Self {
                thresholds: Thresholds {
                    entry: 75.0,
                    exit: 45.0,
                },
                universe: UniverseSettings {
                    top_n: 15,
                    min_value_24h_krw: 10e9,
                    max_spread: 0.003,
                    min_avg_depth5_krw: 20e6,
                    max_volatility: 0.005,
                    ..standard.universe
                },
                exits: ExitRules {
                    take_profits: tps(&[(1.5, 0.5), (3.0, 0.5)]),
                    trailing_atr_multiple: 2.0,
                    panic_reduce_fraction: 1.0,
                    ..standard.exits
                },
                regime_policy: RegimePolicy {
                    breakout_rotation: 1.1,
                    trend: 1.05,
                    range: 0.85,
                    chop: 0.5,
                    panic: 0.0,
                },
                ..standard
            },
            RiskProfile::ProfitFirst => Self {
                thresholds: Thresholds {
                    entry: 68.0,
                    exit: 38.0,
                },
                universe: UniverseSettings {
                    top_n: 30,
                    min_value_24h_krw: 3e9,
                    max_spread: 0.006,
                    min_avg_depth5_krw: 5e6,
                    max_volatility: 0.01,
                    ..standard.universe
                },
                exits: ExitRules {
                    take_profits: tps(&[(2.0, 1.0 / 3.0), (4.0, 1.0 / 3.0)]),
                    trailing_atr_multiple: 3.0,
                    ..standard.exits
                },
                regime_policy: RegimePolicy {
                    breakout_rotation: 1.3,
                    trend: 1.15,
                    range: 0.95,
                    chop: 0.5,
                    panic: 0.0,
                },
                ..standard
            },
            RiskProfile::Crazy => Self {
                thresholds: Thresholds {
                    entry: 65.0,
                    exit: 35.0,
                },
                universe: UniverseSettings {
                    top_n: 40,
                    min_value_24h_krw: 1e9,
                    max_spread: 0.01,
                    min_avg_depth5_krw: 3e6,
                    min_volatility: 0.00005,
                    max_volatility: 0.015,
                    ..standard.universe
                },
                exits: ExitRules {
                    take_profits: tps(&[(2.0, 0.25), (5.0, 0.25)]),
                    trailing_atr_multiple: 3.5,
                    panic_reduce_fraction: 0.3,
                    ..standard.exits
                },
                regime_policy: RegimePolicy {
                    breakout_rotation: 1.4,
                    trend: 1.2,
                    range: 1.0,
                    chop: 0.6,
                    panic: 0.0,
                },
                ..standard
            },
        }
    }

    /// AI_MODE: STANDARD's strategy (labelled AI_MODE) with a model version's
    /// overrides applied and the result validated as a whole.
    pub fn ai_mode(overrides: &StrategyOverrides) -> Result<Self, ValidationError> {
        Self::builtin(RiskProfile::AiMode).with_overrides(overrides)
    }

    /// This definition with a model version's overrides applied and the
    /// result validated as a whole — what an AI_MODE trader runs when its
    /// stored strategy version has numbers of its own (universe, execution,
    /// exits) that the model does not tune. Errors name the field.
    pub fn with_overrides(&self, overrides: &StrategyOverrides) -> Result<Self, ValidationError> {
        let mut d = self.clone();
        for (id, w) in &overrides.weights {
            match d.weights.get_mut(id) {
                Some(slot) => *slot = *w,
                None => {
                    return Err(err(
                        format!("weights.{id}"),
                        "unknown module id; an override may only re-weight existing modules",
                    ));
                }
            }
        }
        if let Some(v) = overrides.entry_threshold {
            d.thresholds.entry = v;
        }
        if let Some(v) = overrides.exit_threshold {
            d.thresholds.exit = v;
        }
        if let Some(v) = overrides.top_n {
            d.universe.top_n = v;
        }
        if let Some(p) = overrides.regime_policy {
            d.regime_policy = p;
        }
        if let Some(r) = &overrides.risk {
            d.risk = d.risk.with_overrides(r).map_err(|e| {
                let field = format!("risk.{}", e.field);
                e.in_field(field)
            })?;
        }
        d.validate()?;
        Ok(d)
    }

    /// Parses a JSON document (what the storage layer keeps).
    pub fn from_json(raw: &str) -> Result<Self, ValidationError> {
        serde_json::from_str(raw).map_err(|e| err("definition", e.to_string()))
    }

    /// Checks every field, naming the first offending one (`weights.TP`,
    /// `exits.take_profits[1].fraction`, `risk.risk_per_trade`, …).
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.name.trim().is_empty() || self.name.len() > 64 {
            return Err(err("name", "must be 1-64 characters"));
        }
        if self.schema_version != SCHEMA_VERSION {
            return Err(err(
                "schema_version",
                format!(
                    "unsupported version {}; this build reads {SCHEMA_VERSION}",
                    self.schema_version
                ),
            ));
        }
        if self.risk.profile != self.risk_profile {
            return Err(err(
                "risk.profile",
                format!(
                    "must equal risk_profile ({}), got {}",
                    self.risk_profile, self.risk.profile
                ),
            ));
        }
        self.validate_weights()?;
        let t = self.thresholds;
        check_range("thresholds.entry", t.entry, 0.0, 100.0)?;
        check_range("thresholds.exit", t.exit, 0.0, 100.0)?;
        if t.exit >= t.entry {
            return Err(err(
                "thresholds.exit",
                format!(
                    "must be below the entry threshold {}, got {}",
                    t.entry, t.exit
                ),
            ));
        }
        check_range("smoothing.alpha", self.smoothing.alpha, 0.01, 1.0)?;
        if !(1..=1440).contains(&self.smoothing.reset_after_minutes) {
            return Err(err(
                "smoothing.reset_after_minutes",
                "must be within [1, 1440]",
            ));
        }
        self.validate_universe()?;
        self.validate_exits()?;
        let x = self.execution;
        if !(1..=5).contains(&x.split_entries) {
            return Err(err("execution.split_entries", "must be within [1, 5]"));
        }
        if !(10..=3600).contains(&x.entry_timeout_secs) {
            return Err(err(
                "execution.entry_timeout_secs",
                "must be within [10, 3600]",
            ));
        }
        for label in RegimeLabel::ALL {
            check_range(
                &format!("regime_policy.{}", label.as_str().to_ascii_lowercase()),
                self.regime_policy.weight(*label),
                0.0,
                3.0,
            )?;
        }
        self.risk.validate().map_err(|e| {
            let field = format!("risk.{}", e.field);
            e.in_field(field)
        })
    }

    fn validate_weights(&self) -> Result<(), ValidationError> {
        if self.weights.is_empty() {
            return Err(err("weights", "at least one module needs a weight"));
        }
        let mut sum = 0.0;
        for (id, w) in &self.weights {
            if !is_module_id(id) {
                return Err(err(
                    format!("weights.{id}"),
                    "module ids are 1-32 characters of A-Z, 0-9 and _",
                ));
            }
            check_range(&format!("weights.{id}"), *w, 0.0, 10.0)?;
            sum += w;
        }
        if sum <= 0.0 {
            return Err(err("weights", "the weights must not all be zero"));
        }
        Ok(())
    }

    fn validate_universe(&self) -> Result<(), ValidationError> {
        let u = &self.universe;
        if !(1..=500).contains(&u.top_n) {
            return Err(err("universe.top_n", "must be within [1, 500]"));
        }
        check_range("universe.min_value_24h_krw", u.min_value_24h_krw, 0.0, 1e15)?;
        check_range("universe.max_spread", u.max_spread, 1e-6, 0.1)?;
        check_range(
            "universe.min_avg_depth5_krw",
            u.min_avg_depth5_krw,
            0.0,
            1e13,
        )?;
        check_range("universe.min_volatility", u.min_volatility, 0.0, 1.0)?;
        check_range("universe.max_volatility", u.max_volatility, 0.0, 1.0)?;
        if u.max_volatility <= u.min_volatility {
            return Err(err(
                "universe.max_volatility",
                "must be above universe.min_volatility",
            ));
        }
        Ok(())
    }

    fn validate_exits(&self) -> Result<(), ValidationError> {
        let x = &self.exits;
        if x.take_profits.len() > 5 {
            return Err(err("exits.take_profits", "at most 5 steps"));
        }
        let mut prev_r = 0.0;
        let mut total = 0.0;
        for (i, tp) in x.take_profits.iter().enumerate() {
            let field = |f: &str| format!("exits.take_profits[{i}].{f}");
            check_range(&field("r_multiple"), tp.r_multiple, 0.1, 50.0)?;
            if tp.r_multiple <= prev_r {
                return Err(err(field("r_multiple"), "steps must have ascending R"));
            }
            check_range(&field("fraction"), tp.fraction, 0.01, 1.0)?;
            prev_r = tp.r_multiple;
            total += tp.fraction;
        }
        if total > 1.0 + 1e-9 {
            return Err(err(
                "exits.take_profits",
                format!("fractions must sum to at most 1, got {total}"),
            ));
        }
        check_range(
            "exits.trailing_atr_multiple",
            x.trailing_atr_multiple,
            0.5,
            20.0,
        )?;
        check_range(
            "exits.panic_reduce_fraction",
            x.panic_reduce_fraction,
            0.0,
            1.0,
        )
    }
}

#[cfg(test)]
mod tests;
