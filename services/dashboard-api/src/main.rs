//! Control plane: REST + SSE for the UI, manages traders, strategies, credentials; never places orders (FIX-11).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg = dashboard_api::Config::parse();
    runtime::telemetry::init(cfg.log_json());
    dashboard_api::serve(cfg).await
}
