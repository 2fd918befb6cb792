//! One trader process: screener → regime → scores → risk → executor →
//! position manager every minute, for one trader row, in PAPER or LIVE.
//!
//! See `app` for start-up, the loop and shutdown, `cycle` for the
//! per-minute pipeline, `orders` for order handling (EXE-1), `portfolio`
//! for the per-trader sub-ledger and `reconcile` for crash safety.

/// AI MODE's model choice and the per-cycle bandit weight (OPT-4).
pub mod ai;
/// Start-up, the main loop, the heartbeat and graceful shutdown.
pub mod app;
/// A clock that follows the Upbit simulator's clock.
pub mod clock;
/// The process configuration (env + flags).
pub mod config;
/// The per-minute pipeline.
pub mod cycle;
/// Step failures and their classes.
pub mod error;
/// The action log and alerts.
pub mod journal;
/// Candles, listings, order books and the regime for a cycle.
pub mod market;
/// Order handling on top of the executor (EXE-1).
pub mod orders;
/// Cash and lots as folds over the trader's fills.
pub mod portfolio;
/// Crash safety: rebuild and reconcile before trading.
pub mod reconcile;

pub use app::{Exit, run};
pub use config::Config;
