//! Trainer service library: the subcommands of the `trainer` binary, kept
//! here so integration tests can drive them without spawning a process.
//!
//! The trainer never places orders (FIX-11 invariant): it does not depend on
//! `execution`.

/// Reading candle CSV / CSV.gz files (`market,timestamp_utc,open,…,value`).
pub mod candle_csv;
/// The command line: global flags and the subcommand enum.
pub mod cli;
/// `trainer regime-replay`: replays Regime Engine v1.0 over candle files.
pub mod regime_replay;
