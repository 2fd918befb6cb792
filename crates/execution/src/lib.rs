//! Order executors: LIVE (Upbit, needs Armed) and PAPER (simulated fills). The only crate with Upbit order paths.
//!
//! * [`OrderExecutor`] — the one trait both modes implement; it accepts only
//!   a [`risk::RiskApproved`] order and, for a LIVE create, an
//!   [`domain::Armed`] proof (FIX-8); reads and cancels need only the credential.
//! * [`LiveExecutor`] — real orders through [`upbit_orders`].
//! * [`PaperExecutor`] — fills against the live book and trade prints.
//! * [`fills`] — an order snapshot → the fills not yet recorded, with exact fees.
//! * [`ledger`] — the per-trader sub-ledger (cash, lots, PnL) as folds over fills.

/// The `OrderExecutor` trait, order snapshots and the error classes.
pub mod executor;
/// Order snapshots to new fills with exact per-fill fees.
pub mod fills;
/// Cash and position lots as exact folds over a trader's fills.
pub mod ledger;
/// The LIVE executor (Upbit order endpoints; a create needs `Armed`).
pub mod live;
/// The PAPER executor (live quotes, simulated fills).
pub mod paper;
/// Upbit order endpoints (raw + typed client, `create_or_recover`); the only place they are named.
pub mod upbit_orders;

pub use executor::{AccountBalance, ExecError, ExecOrder, ExecTrade, OrderExecutor, Refusal};
pub use fills::{FillError, new_fills};
pub use ledger::{CashBook, ClosedPart, LedgerError, LotEffect, LotState};
pub use live::{LiveConfig, LiveExecutor};
pub use paper::{PaperConfig, PaperExecutor};
