//! Trainer: market-data collector, regime writer, tuning, bandit, drift and rollback.
//! This file only parses the command line and dispatches; each subcommand
//! lives in its own module of the library.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = trainer::cli::Cli::parse();
    runtime::telemetry::init(cli.log_json());
    trainer::cli::run(cli)
}
