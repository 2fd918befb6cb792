//! Trainer service library: the subcommands of the `trainer` binary, kept
//! here so integration tests can drive them without spawning a process.
//!
//! `trainer run` is the deployment's one market-data collector (traders read
//! candles and the current regime from the database, so ten traders add no
//! Upbit quotation load) and writes a `market_regimes` row every minute.
//!
//! The trainer never places orders (FIX-11 invariant): it does not depend on
//! `execution`.

/// Reading candle CSV / CSV.gz files (`market,timestamp_utc,open,…,value`).
pub mod candle_csv;
/// The command line: global flags and the subcommand enum.
pub mod cli;
/// The market-data collector (ING-1): backfill, live stream, gap repair, health.
pub mod collector;
/// `trainer regime-replay`: replays Regime Engine v1.0 over candle files.
pub mod regime_replay;
/// The per-minute regime writer (REG-5) over the collected candles.
pub mod regime_writer;
/// `trainer run`: the collector and the regime writer as one service.
pub mod run;
