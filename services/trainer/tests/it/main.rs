//! Integration tests of the trainer: candle files and `regime-replay`; the
//! regime engine on the simulator's scenarios; the regime writer over a real
//! database; the storage reads traders use; the collector and writer end to
//! end against the simulator (SQLite and MariaDB); the `trainer run` binary.
#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    clippy::panic,
    reason = "test code: fail loudly, compare pinned values exactly"
)]

mod binary;
mod candle_csv;
mod db;
mod e2e;
mod reads;
mod regime_replay;
mod scenarios;
mod sim;
mod support;
mod synthetic;
mod writer;
