//! Integration tests of the trainer binary's library: candle file reading and
//! `regime-replay` end to end on generated candle files.
#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    reason = "test code: fail loudly, compare pinned values exactly"
)]

mod candle_csv;
mod regime_replay;
mod support;
