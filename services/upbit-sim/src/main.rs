//! The upbit-sim binary: runs the Upbit simulator as an HTTP + WebSocket server.

mod cli;

use anyhow::Context;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = cli::Args::parse();
    runtime::telemetry::init(args.log_format.eq_ignore_ascii_case("json"));
    if let Some(path) = &args.export_csv {
        return cli::export(&args, path);
    }
    let config = args
        .config()
        .context("failed to build the simulator configuration")?;
    let handle = upbit_sim::Simulator::start(config)
        .await
        .context("failed to start the simulator")?;
    tracing::info!(
        rest = %handle.base_url(),
        ws = %handle.ws_url(),
        now = %handle.now(),
        "upbit-sim ready"
    );
    runtime::shutdown::signal().await;
    handle
        .shutdown()
        .await
        .context("failed to write the state file on shutdown")?;
    Ok(())
}
