//! Position sizing (RISK-2): `volume = risk_krw / (entry − stop)` with
//! `risk_krw = equity × risk_per_trade × risk_multiplier`, then shrunk to every
//! other limit that applies — the per-position notional cap
//! (`max_position_fraction × equity`), the remaining budget with fees (cash
//! minus reserved), the portfolio risk cap (RISK-1), the slippage limit on the visible
//! book (RISK-3) and Upbit's maximum order total — and floored to Upbit's
//! volume precision. Prices are snapped onto the tick grid first. A result
//! below Upbit's 5,000 KRW minimum is refused with the limit that caused it.

use domain::{
    Krw, MAX_ORDER_TOTAL_KRW, MIN_ORDER_TOTAL_KRW, Position, Price, ReasonCode, Side,
    ValidationError, Volume, tick::round_price,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    OrderBook, RiskParams,
    portfolio::{open_risk, remaining_budget, risk_headroom},
};

/// What sizing needs. `entry_price` is the intended limit (snapped down onto
/// the tick grid); `stop_price` the intended protective stop (snapped up, as a
/// sell is, so it never sits below what the strategy asked for).
#[derive(Debug, Clone, Copy)]
pub struct SizingRequest<'a> {
    /// Risk parameters.
    pub params: &'a RiskParams,
    /// Account equity (cash + positions at mark).
    pub equity: Krw,
    /// Free KRW cash.
    pub cash: Krw,
    /// KRW already committed to open orders.
    pub reserved: Krw,
    /// Open positions (for the portfolio cap).
    pub open_positions: &'a [Position],
    /// Intended entry limit price.
    pub entry_price: Price,
    /// Intended stop price (may come from an `f64` ATR distance; it is snapped here).
    pub stop_price: Decimal,
    /// The market's book, for the slippage limit (RISK-3). `None` skips that limit.
    pub book: Option<&'a OrderBook>,
}

/// Which limit set the final size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SizeLimit {
    /// RISK-2: the per-trade risk.
    RiskPerTrade,
    /// `max_position_fraction × equity`.
    PositionCap,
    /// Cash minus reserved, fees included.
    Budget,
    /// RISK-1: the portfolio risk cap.
    PortfolioCap,
    /// RISK-3: the slippage limit on the visible book.
    Slippage,
    /// Upbit's 1e9 KRW maximum order total.
    MaxOrderTotal,
}

/// The position sizer's output (SPEC §11 shape, without the market and the
/// take-profit prices, which the strategy adds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizing {
    /// Entry limit on the tick grid.
    pub entry_price: Price,
    /// Stop on the tick grid, strictly below the entry.
    pub stop_price: Price,
    /// Volume, floored to 8 decimals.
    pub volume: Volume,
    /// `entry_price × volume`.
    pub expected_order_krw: Krw,
    /// `expected_order_krw × fee_rate`.
    pub estimated_fee: Krw,
    /// The per-trade risk budget `equity × risk_per_trade × risk_multiplier`.
    pub risk_krw: Krw,
    /// The loss if the stop is hit: cost including the entry fee minus
    /// `stop × volume` (what `Position::risk_to_stop` will say after the fill).
    pub risk_to_stop: Krw,
    /// The limit that set the size.
    pub limited_by: SizeLimit,
    /// Expected slippage of `expected_order_krw` on the book, when one was given.
    pub expected_slippage: Option<Decimal>,
}

/// Why no size could be produced. Pure input problems: retrying with the same
/// inputs gives the same answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizingError {
    /// The stop could not be placed on the tick grid.
    #[error("invalid stop price: {0}")]
    InvalidStop(ValidationError),
    /// `stop ≥ entry` after snapping to the tick grid.
    #[error("stop {stop} must be below entry {entry}")]
    StopNotBelowEntry {
        /// Entry on the tick grid.
        entry: Price,
        /// Stop on the tick grid.
        stop: Price,
    },
    /// Equity is zero or negative.
    #[error("equity {equity} KRW must be positive")]
    NoEquity {
        /// The equity given.
        equity: Krw,
    },
    /// Nothing left to spend.
    #[error("no budget left: cash minus reserved is {remaining} KRW")]
    NoBudget {
        /// Cash minus reserved.
        remaining: Krw,
    },
    /// RISK-1: open positions already use the whole portfolio risk.
    #[error("portfolio risk cap reached: open risk {open_risk} KRW ≥ cap {cap} KRW")]
    PortfolioCapReached {
        /// Current open risk.
        open_risk: Krw,
        /// `max_portfolio_risk × equity`.
        cap: Krw,
    },
    /// The size allowed by the binding limit is below Upbit's 5,000 KRW minimum.
    #[error("order of {order_krw} KRW is below the 5000 KRW minimum (limited by {limited_by:?})")]
    BelowMinimum {
        /// The largest order total the limits allow.
        order_krw: Krw,
        /// The limit that made it this small.
        limited_by: SizeLimit,
    },
}

impl SizingError {
    /// A stable reason code for records and refusals.
    pub fn reason_code(&self) -> ReasonCode {
        ReasonCode::new_static(match self {
            Self::InvalidStop(_) => "SIZE_INVALID_STOP",
            Self::StopNotBelowEntry { .. } => "SIZE_STOP_NOT_BELOW_ENTRY",
            Self::NoEquity { .. } => "SIZE_NO_EQUITY",
            Self::NoBudget { .. } => "SIZE_NO_BUDGET",
            Self::PortfolioCapReached { .. } => "SIZE_PORTFOLIO_CAP_REACHED",
            Self::BelowMinimum { .. } => "SIZE_BELOW_MIN_ORDER",
        })
    }
}

/// `num / den` as a volume bound, or `None` (no bound) when it cannot be
/// represented (overflow on absurd inputs) — other limits then decide.
fn bound(num: Decimal, den: Decimal) -> Option<Decimal> {
    if den <= Decimal::ZERO {
        return None;
    }
    num.checked_div(den).map(|v| v.max(Decimal::ZERO))
}

/// Sizes an entry (RISK-1/2/3). See the module docs for the rules.
pub fn size_position(req: &SizingRequest<'_>) -> Result<Sizing, SizingError> {
    let p = req.params;
    // Buy limit: never above the intended price.
    let entry = round_price(req.entry_price.get(), Side::Bid).unwrap_or(req.entry_price);
    let stop = round_price(req.stop_price, Side::Ask).map_err(SizingError::InvalidStop)?;
    if stop >= entry {
        return Err(SizingError::StopNotBelowEntry { entry, stop });
    }
    if req.equity.get() <= Decimal::ZERO {
        return Err(SizingError::NoEquity { equity: req.equity });
    }
    let budget = remaining_budget(req.cash, req.reserved);
    if budget.get() <= Decimal::ZERO {
        return Err(SizingError::NoBudget { remaining: budget });
    }
    let headroom = risk_headroom(p, req.equity, req.open_positions);
    if headroom.get() <= Decimal::ZERO {
        return Err(SizingError::PortfolioCapReached {
            open_risk: open_risk(req.open_positions),
            cap: req.equity.times(p.max_portfolio_risk),
        });
    }

    let fee_factor = Decimal::ONE + p.fee_rate;
    let e = entry.get();
    let risk_krw = req.equity.times(p.risk_fraction());
    // Per unit, with the entry fee: what Position::risk_to_stop counts.
    let unit_risk_with_fee = e * fee_factor - stop.get();

    let mut limits: Vec<(SizeLimit, Decimal)> = Vec::with_capacity(5);
    if let Some(v) = bound(risk_krw.get(), e - stop.get()) {
        limits.push((SizeLimit::RiskPerTrade, v));
    }
    if let Some(v) = bound(req.equity.times(p.max_position_fraction).get(), e) {
        limits.push((SizeLimit::PositionCap, v));
    }
    if let Some(v) = bound(budget.get(), e * fee_factor) {
        limits.push((SizeLimit::Budget, v));
    }
    if let Some(v) = bound(headroom.get(), unit_risk_with_fee) {
        limits.push((SizeLimit::PortfolioCap, v));
    }
    if let Some(book) = req.book {
        let max_krw = book.max_buy_within(p.slippage_limit);
        if let Some(v) = bound(max_krw.get(), e) {
            limits.push((SizeLimit::Slippage, v));
        }
    }
    if let Some(v) = bound(Decimal::from(MAX_ORDER_TOTAL_KRW), e) {
        limits.push((SizeLimit::MaxOrderTotal, v));
    }
    // Ties go to the earliest (most fundamental) limit in the list above.
    let (limited_by, raw) = limits
        .iter()
        .copied()
        .fold(
            None,
            |acc: Option<(SizeLimit, Decimal)>, (l, v)| match acc {
                Some((_, best)) if best <= v => acc,
                _ => Some((l, v)),
            },
        )
        .unwrap_or((SizeLimit::RiskPerTrade, Decimal::ZERO));

    let volume = Volume::floor_from(raw);
    let expected_order_krw = entry * volume;
    if expected_order_krw.get() < Decimal::from(MIN_ORDER_TOTAL_KRW) {
        return Err(SizingError::BelowMinimum {
            order_krw: expected_order_krw,
            limited_by,
        });
    }
    let estimated_fee = expected_order_krw.times(p.fee_rate);
    let risk_to_stop = expected_order_krw + estimated_fee - stop * volume;
    let expected_slippage = req
        .book
        .and_then(|b| b.estimate_buy(expected_order_krw).slippage);
    Ok(Sizing {
        entry_price: entry,
        stop_price: stop,
        volume,
        expected_order_krw,
        estimated_fee,
        risk_krw,
        risk_to_stop,
        limited_by,
        expected_slippage,
    })
}

#[cfg(test)]
mod tests;
