//! Entry levels and exit decisions (the strategy's exit rules, POS-1):
//! the initial stop `entry − stop_atr_multiple × ATR`, take-profit prices at
//! R multiples of the initial risk with scale-out fractions, a trailing stop
//! `highest price − trailing_atr_multiple × ATR`, an exit when the score falls
//! below the exit threshold, and the PANIC reduction (REG-4).
//!
//! Prices from `f64` ATR distances become money here exactly once: converted
//! to `Decimal` and snapped onto the Upbit tick grid.

use domain::{
    MIN_ORDER_TOTAL_KRW, Position, Price, ReasonCode, RegimeLabel, Side, Volume, tick::round_price,
};
use risk::RiskParams;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{StrategyDefinition, definition::ExitRules};

/// One take-profit step with its price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TakeProfitLevel {
    /// Limit price on the tick grid (sell side: rounded up).
    pub price: Price,
    /// R multiple it was derived from.
    pub r_multiple: f64,
    /// Fraction of the original size.
    pub fraction: f64,
}

/// The intended initial stop `entry − stop_atr_multiple × ATR` (not yet on the
/// tick grid; sizing snaps it). `None` when the ATR is unusable or the stop
/// would not be positive.
pub fn initial_stop(entry: Price, atr: f64, params: &RiskParams) -> Option<Decimal> {
    let distance = atr * params.stop_atr_multiple;
    if !(distance.is_finite() && distance > 0.0) {
        return None;
    }
    let stop = entry.get() - Decimal::try_from(distance).ok()?;
    (stop > Decimal::ZERO).then_some(stop)
}

/// Take-profit prices at `entry + r × (entry − stop)` for each step.
pub fn take_profit_levels(entry: Price, stop: Price, exits: &ExitRules) -> Vec<TakeProfitLevel> {
    let risk = entry.get() - stop.get();
    if risk <= Decimal::ZERO {
        return Vec::new();
    }
    exits
        .take_profits
        .iter()
        .filter_map(|tp| {
            let r = Decimal::try_from(tp.r_multiple).ok()?;
            let price = round_price(entry.get() + r * risk, Side::Ask).ok()?;
            Some(TakeProfitLevel {
                price,
                r_multiple: tp.r_multiple,
                fraction: tp.fraction,
            })
        })
        .collect()
}

/// What the exit rules need about one open position.
#[derive(Debug, Clone, Copy)]
pub struct ExitContext<'a> {
    /// The position.
    pub position: &'a Position,
    /// The stop set at entry (defines 1 R).
    pub initial_stop: Price,
    /// Current price to act on (best bid).
    pub mark: Price,
    /// Current ATR at the signal interval.
    pub atr: f64,
    /// The market's current final score.
    pub final_score: f64,
    /// Current regime label.
    pub regime: RegimeLabel,
    /// Take-profit steps already executed.
    pub stages_done: usize,
    /// The PANIC reduction was already applied to this position.
    pub panic_reduced: bool,
}

/// What to do with the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExitAction {
    /// Keep it.
    Hold,
    /// Sell part of it.
    Reduce {
        /// Volume to sell.
        volume: Volume,
    },
    /// Sell all of it.
    Close {
        /// Volume to sell (the whole position).
        volume: Volume,
    },
}

/// The exit rules' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitDecision {
    /// Hold, reduce or close.
    pub action: ExitAction,
    /// Why (absent on a plain hold).
    pub reason: Option<ReasonCode>,
    /// A higher stop from the trailing rule, if it moved.
    pub new_stop: Option<Price>,
    /// The high-water mark including the current price.
    pub high_water: Price,
    /// The take-profit step this decision executes (0-based), if any.
    pub take_profit_stage: Option<usize>,
}

const TP_CODES: [&str; 5] = [
    "EXIT_TAKE_PROFIT_1",
    "EXIT_TAKE_PROFIT_2",
    "EXIT_TAKE_PROFIT_3",
    "EXIT_TAKE_PROFIT_4",
    "EXIT_TAKE_PROFIT_5",
];

/// Applies the exit rules in priority order: stop hit, score below the exit
/// threshold, PANIC reduction, the next take-profit step; the trailing stop is
/// computed in every case. A partial sale that would leave (or be) less than
/// Upbit's 5,000 KRW minimum becomes a full close.
pub fn decide_exit(ctx: &ExitContext<'_>, def: &StrategyDefinition) -> ExitDecision {
    let pos = ctx.position;
    let high_water = pos.high_water.max(ctx.mark);
    let new_stop = trailing_stop(high_water, ctx.atr, def.exits.trailing_atr_multiple)
        .filter(|s| *s > pos.stop_price && *s < ctx.mark);
    let close = |code: &'static str| ExitDecision {
        action: ExitAction::Close { volume: pos.size },
        reason: Some(ReasonCode::new_static(code)),
        new_stop,
        high_water,
        take_profit_stage: None,
    };
    if ctx.mark <= pos.stop_price {
        return close("EXIT_STOP_HIT");
    }
    if def.exits.exit_on_score
        && (ctx.final_score.is_nan() || ctx.final_score < def.thresholds.exit)
    {
        return close("EXIT_SCORE_BELOW_THRESHOLD");
    }
    if ctx.regime == RegimeLabel::Panic
        && !ctx.panic_reduced
        && def.exits.panic_reduce_fraction > 0.0
    {
        if def.exits.panic_reduce_fraction >= 1.0 {
            return close("EXIT_PANIC_CLOSE");
        }
        return reduce(
            ctx,
            def.exits.panic_reduce_fraction,
            "EXIT_PANIC_REDUCE",
            None,
            new_stop,
            high_water,
        );
    }
    let levels = take_profit_levels(pos.avg_entry_price, ctx.initial_stop, &def.exits);
    if let Some(level) = levels.get(ctx.stages_done)
        && ctx.mark >= level.price
    {
        let done: f64 = def
            .exits
            .take_profits
            .iter()
            .take(ctx.stages_done)
            .map(|t| t.fraction)
            .sum();
        let remaining = (1.0 - done).max(f64::EPSILON);
        let code = TP_CODES
            .get(ctx.stages_done)
            .copied()
            .unwrap_or("EXIT_TAKE_PROFIT");
        return reduce(
            ctx,
            level.fraction / remaining,
            code,
            Some(ctx.stages_done),
            new_stop,
            high_water,
        );
    }
    ExitDecision {
        action: ExitAction::Hold,
        reason: None,
        new_stop,
        high_water,
        take_profit_stage: None,
    }
}

fn trailing_stop(high_water: Price, atr: f64, multiple: f64) -> Option<Price> {
    let distance = atr * multiple;
    if !(distance.is_finite() && distance > 0.0) {
        return None;
    }
    let raw = high_water.get() - Decimal::try_from(distance).ok()?;
    // A stop is a sell trigger: snap down, never above the computed level.
    round_price(raw, Side::Bid).ok()
}

fn reduce(
    ctx: &ExitContext<'_>,
    fraction_of_current: f64,
    code: &'static str,
    stage: Option<usize>,
    new_stop: Option<Price>,
    high_water: Price,
) -> ExitDecision {
    let pos = ctx.position;
    let fraction = Decimal::try_from(fraction_of_current.clamp(0.0, 1.0)).unwrap_or(Decimal::ONE);
    let volume = pos.size.fraction(fraction);
    let min = Decimal::from(MIN_ORDER_TOTAL_KRW);
    let rest = pos.size.checked_sub(volume).unwrap_or(Volume::ZERO);
    let action = if (ctx.mark * volume).get() < min || (ctx.mark * rest).get() < min {
        ExitAction::Close { volume: pos.size }
    } else {
        ExitAction::Reduce { volume }
    };
    ExitDecision {
        action,
        reason: Some(ReasonCode::new_static(code)),
        new_stop,
        high_water,
        take_profit_stage: stage,
    }
}

#[cfg(test)]
mod tests;
