//! Portfolio-level numbers: open risk to stop (RISK-1), remaining budget and
//! the monitoring figures of SPEC §14 (current_portfolio_risk %, remaining slots).

use domain::{Krw, Position, RegimeLabel};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::RiskParams;

/// RISK-1: the sum of open positions' expected loss if every stop is hit
/// (`Position::risk_to_stop`, entry fees included).
pub fn open_risk(positions: &[Position]) -> Krw {
    positions.iter().map(Position::risk_to_stop).sum()
}

/// RISK-1: the KRW of risk still allowed: `max_portfolio_risk × equity − open_risk`
/// (never negative).
pub fn risk_headroom(params: &RiskParams, equity: Krw, positions: &[Position]) -> Krw {
    (equity.times(params.max_portfolio_risk) - open_risk(positions)).max(Krw::ZERO)
}

/// Cash not already committed to open orders (never negative).
pub fn remaining_budget(cash: Krw, reserved: Krw) -> Krw {
    (cash - reserved).max(Krw::ZERO)
}

/// The live numbers of SPEC §14 for the dashboard and alerts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioSnapshot {
    /// RISK-4 for the current regime.
    pub max_positions: u32,
    /// Open positions.
    pub open_positions_count: u32,
    /// `max_positions − open` (never negative).
    pub remaining_slots: u32,
    /// Open risk to stop as a fraction of equity.
    pub current_portfolio_risk: f64,
    /// Cash minus reserved.
    pub remaining_budget: Krw,
    /// SPEC §14 alert: remaining budget below one trade's risk.
    pub budget_below_risk_per_trade: bool,
}

/// Computes the [`PortfolioSnapshot`].
pub fn snapshot(
    params: &RiskParams,
    regime: RegimeLabel,
    equity: Krw,
    cash: Krw,
    reserved: Krw,
    positions: &[Position],
) -> PortfolioSnapshot {
    let max_positions = params.max_positions(regime);
    let open = u32::try_from(positions.len()).unwrap_or(u32::MAX);
    let risk = open_risk(positions);
    let current_portfolio_risk = if equity.get() > Decimal::ZERO {
        use rust_decimal::prelude::ToPrimitive;
        (risk.get() / equity.get()).to_f64().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    };
    let budget = remaining_budget(cash, reserved);
    PortfolioSnapshot {
        max_positions,
        open_positions_count: open,
        remaining_slots: max_positions.saturating_sub(open),
        current_portfolio_risk,
        remaining_budget: budget,
        budget_below_risk_per_trade: budget < equity.times(params.risk_fraction()),
    }
}
