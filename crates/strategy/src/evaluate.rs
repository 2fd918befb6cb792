//! The evaluator: one strategy definition plus its score modules, turning a
//! market's candles into an [`Evaluation`] (module scores → aggregate →
//! signal), and an entry signal into a sized, risk-checked order with its
//! [`SignalRecord`] (screening → scoring → sizing → PRE-1..8, SPEC §11).
//!
//! Pure and deterministic (STR-8): time, regime, bandit weight, smoothing
//! state, book, guard and portfolio are all arguments.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{
    Krw, Market, OrderIdentifier, OrderRequest, Position, ReasonCode, Side, SignalAction,
    ValidationError,
};
use indicators::{Candle, atr, bollinger, ema, resample};
use regime::Classification;
use risk::{
    ApiStatus, Clusters, EntryContext, MarketStatus, OrderBook, RiskApproved, RuntimeGuard,
    SizingRequest, approve_entry, size_position,
};
use serde::{Deserialize, Serialize};

use crate::{
    StrategyDefinition,
    aggregator::{Aggregate, ScoreSignal, ScoreState, aggregate},
    exits::{ExitAction, ExitDecision, initial_stop, take_profit_levels},
    explain::{EntryPlan, ModuleRecord, SignalRecord, finite_checks, finite_only, regime_record},
    score::{ModuleInput, ModuleRegistry, ModuleScore, ScoreModule, clamp_score},
};

/// ATR period of the evaluation's own key numbers and stops.
pub const ATR_PERIOD: usize = 14;

/// Everything shared by all markets in one evaluation cycle.
#[derive(Debug, Clone, Copy)]
pub struct Cycle<'a> {
    /// Now (from the injected clock).
    pub now: DateTime<Utc>,
    /// The current regime.
    pub regime: Classification,
    /// The regime is older than its max age (no entries, PRE-2).
    pub regime_stale: bool,
    /// The leader's completed candles at the signal interval.
    pub leader_candles: Option<&'a [Candle]>,
    /// The bandit weight for this strategy (OPT-4), `None` → 1.
    pub bandit_weight: Option<f64>,
}

/// One module's result inside an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleResult {
    /// Module id.
    pub id: String,
    /// Its weight in the strategy.
    pub weight: f64,
    /// Its output.
    pub score: ModuleScore,
}

/// One market's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Market.
    pub market: Market,
    /// Evaluation time.
    pub ts: DateTime<Utc>,
    /// Module results, by module id.
    pub modules: Vec<ModuleResult>,
    /// Aggregate numbers and the signal.
    pub aggregate: Aggregate,
    /// The next smoothing state for this market (pass it back next time).
    pub state: ScoreState,
    /// The regime used.
    pub regime: Classification,
    /// Whether it was stale.
    pub regime_stale: bool,
    /// ATR(14) at the signal interval (NaN if unknown).
    pub atr: f64,
    /// Last completed close (NaN if none).
    pub last_close: f64,
    /// STR-6 key numbers: `ema_gap_pct`, `bb_width`, `atr_ratio`,
    /// `volume_spike_pct`, `atr`, `last_close`, `bars`.
    pub key_numbers: BTreeMap<String, f64>,
}

impl Evaluation {
    /// The score signal.
    pub fn signal(&self) -> ScoreSignal {
        self.aggregate.signal
    }

    /// The final score (STR-2).
    pub fn final_score(&self) -> f64 {
        self.aggregate.final_score
    }
}

/// What an entry needs besides the evaluation.
#[derive(Debug, Clone)]
pub struct EntryInputs<'a> {
    /// Account equity.
    pub equity: Krw,
    /// Free KRW.
    pub cash: Krw,
    /// KRW committed to open orders.
    pub reserved: Krw,
    /// Open positions.
    pub open_positions: &'a [Position],
    /// The market's order book.
    pub book: &'a OrderBook,
    /// This cycle's correlation clusters.
    pub clusters: &'a Clusters,
    /// The runtime guard.
    pub guard: &'a RuntimeGuard,
    /// PRE-6 inputs.
    pub api: ApiStatus,
    /// PRE-7 inputs.
    pub market_status: MarketStatus,
    /// The identifier the order will carry.
    pub identifier: OrderIdentifier,
}

/// The outcome of [`Evaluator::decide_entry`].
#[derive(Debug)]
pub struct EntryDecision {
    /// The explainable record (ENTER, REFUSED or HOLD).
    pub record: SignalRecord,
    /// The approved order, only on ENTER.
    pub order: Option<RiskApproved<OrderRequest>>,
}

/// A strategy ready to evaluate markets.
#[derive(Debug)]
pub struct Evaluator {
    def: StrategyDefinition,
    /// The weighted modules, in module-id order.
    modules: Vec<(Box<dyn ScoreModule>, f64)>,
}

fn code(c: &'static str) -> ReasonCode {
    ReasonCode::new_static(c)
}

impl Evaluator {
    /// Binds a definition to modules. Every weighted id must be registered
    /// (error names `weights.<id>`); registered modules without a weight are
    /// not run.
    pub fn new(def: StrategyDefinition, registry: ModuleRegistry) -> Result<Self, ValidationError> {
        def.validate()?;
        let mut available = registry.into_modules();
        let mut modules = Vec::with_capacity(def.weights.len());
        for (id, w) in &def.weights {
            let Some(pos) = available.iter().position(|m| m.id() == id) else {
                return Err(ValidationError::new(
                    format!("weights.{id}"),
                    "no score module with this id is registered",
                ));
            };
            modules.push((available.swap_remove(pos), *w));
        }
        Ok(Self { def, modules })
    }

    /// With the five built-in modules.
    pub fn with_builtin_modules(def: StrategyDefinition) -> Result<Self, ValidationError> {
        Self::new(def, ModuleRegistry::builtin())
    }

    /// The definition.
    pub fn definition(&self) -> &StrategyDefinition {
        &self.def
    }

    /// Signal-interval candles the modules need for a full answer.
    pub fn required_signal_candles(&self) -> usize {
        self.modules
            .iter()
            .map(|(m, _)| m.min_candles())
            .max()
            .unwrap_or(0)
            .max(ATR_PERIOD + 1)
    }

    /// 1-minute candles to keep per market so that [`Self::signal_candles`]
    /// yields [`Self::required_signal_candles`].
    pub fn required_1m_candles(&self) -> usize {
        let per = usize::try_from(self.def.signal_interval.minutes()).unwrap_or(1);
        (self.required_signal_candles() + 1) * per
    }

    /// Resamples 1-minute candles to the signal interval, keeping only
    /// buckets that have ended by `now` (no repainting of a bar in progress).
    pub fn signal_candles(&self, candles_1m: &[Candle], now: DateTime<Utc>) -> Vec<Candle> {
        let interval = self.def.signal_interval;
        let mut out = resample(candles_1m, interval);
        while out.last().is_some_and(|c| c.ts + interval.duration() > now) {
            out.pop();
        }
        out
    }

    /// Scores one market: every weighted module, the aggregate and the signal.
    /// `candles` are completed signal-interval candles (see
    /// [`Self::signal_candles`]); `prev` is the market's last smoothing state.
    pub fn evaluate(
        &self,
        market: &Market,
        candles: &[Candle],
        cycle: &Cycle<'_>,
        prev: Option<&ScoreState>,
    ) -> Evaluation {
        let input = ModuleInput {
            market,
            candles,
            leader_market: &self.def.leader,
            leader_candles: cycle.leader_candles,
            regime: cycle.regime,
        };
        let modules: Vec<ModuleResult> = self
            .modules
            .iter()
            .map(|(m, w)| {
                let mut score = m.score(&input);
                score.score = clamp_score(score.score);
                ModuleResult {
                    id: m.id().to_owned(),
                    weight: *w,
                    score,
                }
            })
            .collect();
        let weighted: Vec<(f64, f64)> = modules.iter().map(|r| (r.weight, r.score.score)).collect();
        let (aggregate, state) = aggregate(
            &self.def,
            &weighted,
            prev,
            cycle.regime,
            cycle.bandit_weight,
            cycle.now,
        );
        let (atr, last_close, key_numbers) = key_numbers(candles);
        Evaluation {
            market: market.clone(),
            ts: cycle.now,
            modules,
            aggregate,
            state,
            regime: cycle.regime,
            regime_stale: cycle.regime_stale,
            atr,
            last_close,
            key_numbers,
        }
    }

    /// The record of an evaluation with the given decision.
    pub fn record(
        &self,
        eval: &Evaluation,
        action: SignalAction,
        reason_codes: Vec<ReasonCode>,
    ) -> SignalRecord {
        SignalRecord {
            market: eval.market.clone(),
            ts: eval.ts,
            strategy: self.def.name.clone(),
            risk_profile: self.def.risk_profile,
            action,
            total_score: eval.aggregate.final_score,
            base_score: eval.aggregate.base_score,
            smoothed_score: eval.aggregate.smoothed_score,
            scores: eval
                .modules
                .iter()
                .map(|m| {
                    (
                        m.id.clone(),
                        ModuleRecord {
                            weight: m.weight,
                            score: m.score.score,
                            reason_codes: m.score.reason_codes.clone(),
                            raw_metrics: finite_only(&m.score.raw_metrics),
                        },
                    )
                })
                .collect(),
            regime: regime_record(
                eval.regime.label,
                eval.regime.score,
                eval.regime_stale,
                &eval.aggregate,
            ),
            bandit_weight: eval.aggregate.bandit_weight,
            risk_multiplier: eval.aggregate.risk_multiplier,
            key_numbers: finite_only(&eval.key_numbers),
            reason_codes,
            messages: Vec::new(),
            plan: None,
            checks: Vec::new(),
        }
    }

    /// For a market without a position: when the score signals an entry, size
    /// it (RISK-1/2/3), build the limit buy at the best ask and run PRE-1..8.
    /// Returns the record (ENTER / REFUSED / HOLD) and, on ENTER, the approved
    /// order. A refusal before the checks (no ask, no ATR, sizing) is recorded
    /// with its reason code and message.
    pub fn decide_entry(&self, eval: &Evaluation, inputs: &EntryInputs<'_>) -> EntryDecision {
        if eval.signal() != ScoreSignal::Entry {
            return EntryDecision {
                record: self.record(eval, SignalAction::Hold, vec![code("SIGNAL_NO_ENTRY")]),
                order: None,
            };
        }
        let refuse = |c: ReasonCode, message: String| EntryDecision {
            record: SignalRecord {
                messages: vec![message],
                ..self.record(eval, SignalAction::Refused, vec![code("SIGNAL_ENTRY"), c])
            },
            order: None,
        };
        let Some(entry) = inputs.book.best_ask() else {
            return refuse(
                code("ENTRY_NO_ASK"),
                "the order book has no asks".to_owned(),
            );
        };
        let Some(stop) = initial_stop(entry, eval.atr, &self.def.risk) else {
            return refuse(
                code("ENTRY_NO_ATR"),
                format!("no usable ATR for a stop (atr = {})", eval.atr),
            );
        };
        let sizing = match size_position(&SizingRequest {
            params: &self.def.risk,
            equity: inputs.equity,
            cash: inputs.cash,
            reserved: inputs.reserved,
            open_positions: inputs.open_positions,
            entry_price: entry,
            stop_price: stop,
            book: Some(inputs.book),
        }) {
            Ok(s) => s,
            Err(e) => return refuse(e.reason_code(), e.to_string()),
        };
        let order = match OrderRequest::limit(
            eval.market.clone(),
            Side::Bid,
            sizing.entry_price,
            sizing.volume,
            None,
            inputs.identifier.clone(),
        ) {
            Ok(o) => o,
            Err(e) => return refuse(code("ENTRY_ORDER_INVALID"), e.to_string()),
        };
        let plan = EntryPlan {
            market: eval.market.clone(),
            take_profits: take_profit_levels(
                sizing.entry_price,
                sizing.stop_price,
                &self.def.exits,
            ),
            sizing,
            atr: eval.atr,
        };
        let ctx = EntryContext {
            params: &self.def.risk,
            now: eval.ts,
            equity: inputs.equity,
            cash: inputs.cash,
            reserved: inputs.reserved,
            open_positions: inputs.open_positions,
            stop_price: plan.sizing.stop_price,
            regime: eval.regime.label,
            regime_stale: eval.regime_stale,
            total_score: eval.final_score(),
            entry_threshold: self.def.thresholds.entry,
            book: inputs.book,
            clusters: inputs.clusters,
            guard: inputs.guard,
            api: inputs.api,
            market_status: inputs.market_status,
        };
        match approve_entry(order, &ctx) {
            Ok(approved) => EntryDecision {
                record: SignalRecord {
                    plan: Some(plan),
                    checks: finite_checks(approved.checks().to_vec()),
                    ..self.record(eval, SignalAction::Enter, vec![code("SIGNAL_ENTRY")])
                },
                order: Some(approved),
            },
            Err(refused) => {
                let mut reasons = vec![code("SIGNAL_ENTRY")];
                reasons.extend(refused.reason_codes());
                EntryDecision {
                    record: SignalRecord {
                        plan: Some(plan),
                        messages: refused
                            .failed()
                            .flat_map(|c| c.reasons().iter().map(|r| r.message.clone()))
                            .collect(),
                        checks: finite_checks(refused.checks),
                        ..self.record(eval, SignalAction::Refused, reasons)
                    },
                    order: None,
                }
            }
        }
    }

    /// The record of an exit decision for a held market (EXIT / REDUCE / HOLD).
    pub fn exit_record(&self, eval: &Evaluation, decision: &ExitDecision) -> SignalRecord {
        let action = match decision.action {
            ExitAction::Hold => SignalAction::Hold,
            ExitAction::Reduce { .. } => SignalAction::Reduce,
            ExitAction::Close { .. } => SignalAction::Exit,
        };
        self.record(eval, action, decision.reason.iter().cloned().collect())
    }
}

/// STR-6 key numbers from the signal candles, plus ATR and the last close.
fn key_numbers(candles: &[Candle]) -> (f64, f64, BTreeMap<String, f64>) {
    let close: Vec<f64> = candles.iter().map(|c| c.close).collect();
    let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
    let x = last(&close);
    let a = last(&atr(candles, ATR_PERIOD));
    let e20 = last(&ema(&close, 20));
    let e50 = last(&ema(&close, 50));
    let bb = bollinger(&close, 20, 2.0)
        .last()
        .map_or(f64::NAN, |b| b.width);
    let spike = match candles.len().checked_sub(21) {
        Some(start) => {
            let base = candles[start..candles.len() - 1]
                .iter()
                .map(|c| c.volume)
                .sum::<f64>()
                / 20.0;
            let v = candles[candles.len() - 1].volume;
            if base > 0.0 {
                (v / base - 1.0) * 100.0
            } else {
                f64::NAN
            }
        }
        None => f64::NAN,
    };
    let mut m = BTreeMap::new();
    m.insert("ema_gap_pct".to_owned(), (e20 - e50) / e50 * 100.0);
    m.insert("bb_width".to_owned(), bb);
    m.insert("atr_ratio".to_owned(), a / x);
    m.insert("volume_spike_pct".to_owned(), spike);
    m.insert("atr".to_owned(), a);
    m.insert("last_close".to_owned(), x);
    m.insert("bars".to_owned(), candles.len() as f64);
    (a, x, m)
}

#[cfg(test)]
mod tests;
