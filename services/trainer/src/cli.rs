//! The `trainer` command line. Each subcommand's arguments and logic live in
//! their own module; this file only lists them.

use clap::{Parser, Subcommand};

use crate::{regime_replay::ReplayArgs, run::RunArgs};

/// Trainer: market data, regimes and AI-assist jobs of the Upbit platform (never places orders).
#[derive(Debug, Parser)]
#[command(name = "trainer", version, about)]
pub struct Cli {
    /// Log format: `text`, or `json` for JSON lines (containers).
    #[arg(long, global = true, env = runtime::env::LOG_FORMAT, default_value = "text")]
    pub log_format: String,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: the market-data collector (every KRW market, 1-minute
    /// candles) and the per-minute regime writer, until SIGTERM / Ctrl-C.
    Run(Box<RunArgs>),
    /// Replay Regime Engine v1.0 over candle files and write one regime per step as CSV.
    #[command(long_about = crate::regime_replay::LONG_ABOUT)]
    RegimeReplay(ReplayArgs),
}

impl Cli {
    /// True when logs should be JSON lines.
    pub fn log_json(&self) -> bool {
        self.log_format.eq_ignore_ascii_case("json")
    }
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => crate::run::run(&args),
        Command::RegimeReplay(args) => crate::regime_replay::run(&args),
    }
}
