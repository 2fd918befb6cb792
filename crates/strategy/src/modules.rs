//! The built-in score modules (STR-3), one file each, and the shared helpers.

/// Shared numeric helpers.
mod common;
/// Leader-Follower (LF).
pub mod leader_follower;
/// Liquidity Sweep Reversal (LSR).
pub mod liquidity_sweep;
/// The global Regime Modifier.
pub mod regime_modifier;
/// Trend Pullback (TP).
pub mod trend_pullback;
/// Volatility Contraction Breakout (VCB).
pub mod volatility_breakout;

/// Test fixtures shared by the module tests.
#[cfg(test)]
pub(crate) mod fixtures;

pub use leader_follower::LeaderFollower;
pub use liquidity_sweep::LiquiditySweep;
pub use regime_modifier::RegimeModifier;
pub use trend_pullback::TrendPullback;
pub use volatility_breakout::VolatilityBreakout;

use crate::score::ScoreModule;

/// The five built-in modules with their default parameters.
pub(crate) fn builtin() -> Vec<Box<dyn ScoreModule>> {
    vec![
        Box::new(TrendPullback::default()),
        Box::new(VolatilityBreakout::default()),
        Box::new(LiquiditySweep::default()),
        Box::new(LeaderFollower::default()),
        Box::new(RegimeModifier),
    ]
}
