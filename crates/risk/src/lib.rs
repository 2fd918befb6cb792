//! Risk engine: position sizing (RISK-2), slippage on the book (RISK-3),
//! portfolio limits (RISK-1, RISK-4), correlation clusters (RISK-5), the
//! pre-trade checklist PRE-1..8, and the runtime guard with the kill switch
//! (STAB-1, RISK-6, RUN-1, RUN-4).
//!
//! Pure: no I/O, no clock reads (time is an argument), no randomness. The
//! crate's one authority is [`RiskApproved`]: the only way to obtain one is
//! [`approve_entry`] (every PRE check passed) or [`approve_exit`], and the
//! executors accept nothing else.

/// Proof types and the approve entry points.
pub mod approval;
/// Order-book snapshot, top-5 depth and slippage by walking the book (RISK-3).
pub mod book;
/// The pre-trade checklist PRE-1..8 and its context and result types.
pub mod checks;
/// Return correlations and correlation clusters (RISK-5).
pub mod correlation;
/// The runtime guard state machine and kill switch (STAB-1, RISK-6, RUN-1).
pub mod guard;
/// Risk parameters and the five built-in profiles (FIX-10).
pub mod params;
/// Open risk, remaining budget and the SPEC §14 portfolio numbers.
pub mod portfolio;
/// Re-issuing an approval as tranches, retries or an exit's market rest (EXE-1).
pub mod reissue;
/// Decimal serde helpers for configuration values.
mod serde_decimal;
/// Position sizing (RISK-1/2/3).
pub mod sizing;
/// Builders for the unit tests.
#[cfg(test)]
mod testutil;

pub use approval::{RiskApproved, RiskRefused, approve_entry, approve_exit};
pub use book::{BookLevel, BuyEstimate, OrderBook};
pub use checks::{
    ApiStatus, CheckId, CheckOutcome, CheckReason, CheckResult, EntryContext, MarketStatus,
};
pub use correlation::{Clusters, correlation};
pub use guard::{
    BlockReason, GuardEffect, GuardError, GuardEvent, GuardSnapshot, GuardTransition, KillCause,
    KillSwitch, LIQUIDATE_MARK, RuntimeGuard, asks_liquidation,
};
pub use params::{RiskOverrides, RiskParams};
pub use reissue::ReissueError;
pub use sizing::{SizeLimit, Sizing, SizingError, SizingRequest, size_position};
