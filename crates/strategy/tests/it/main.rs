//! Integration tests of the strategy crate through its public API: the whole
//! pipeline (screener → scores → sizing → pre-trade checks → simulated fills
//! and exits) replayed over real Upbit candles, its decisions stored through
//! `crates/storage` in a real SQLite database and read back, property tests
//! of the modules and the evaluator, and `docs/strategy.md` held to the code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers may panic on setup failure"
)]

mod docs;
mod pipeline;
mod props;
mod stored;
mod support;
