//! The `trader` binary: parse the configuration, start logging, run until
//! SIGTERM or a control change (see `trader::app`).

use clap::Parser;
use tokio::sync::watch;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = trader::Config::parse();
    runtime::telemetry::init(config.log_format.eq_ignore_ascii_case("json"));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        runtime::shutdown::signal().await;
        // The loop may already be gone; then there is nobody to tell.
        let _ = stop_tx.send(true);
    });
    let exit = Box::pin(trader::run(config, stop_rx)).await?;
    tracing::info!(?exit, "trader finished");
    Ok(())
}
