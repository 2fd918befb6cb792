//! Integration tests of the strategy crate through its public API: the whole
//! pipeline (screener → scores → sizing → pre-trade checks → simulated fills
//! and exits) replayed over real Upbit candles, and property tests of the
//! modules and the evaluator.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers may panic on setup failure"
)]

mod pipeline;
mod props;
mod support;
