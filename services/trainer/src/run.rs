//! `trainer run`: the long-running service — the market-data collector and
//! the per-minute regime writer over one database.
//!
//! Start-up: connect, then wait until the schema is current (only the
//! dashboard-api migrates; `--migrate` applies the migrations itself for a
//! standalone run), then start the collector and the writer. SIGTERM or
//! Ctrl-C stops both gracefully: buffered candles are written, the stream is
//! closed, a last health row is stored.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context as _;
use chrono::Duration;
use clap::Args;
use domain::Market;
use regime::EngineConfig;
use runtime::{SharedClock, SystemClock, env};
use storage::{StorageError, Store};
use tokio::{sync::watch, task::JoinHandle};
use upbit::{HttpConfig, UpbitClient, UpbitUrls};

use crate::{
    collector::{Collector, CollectorConfig},
    regime_replay::parse_step,
    regime_writer::{RegimeWriter, RegimeWriterConfig, WriterStats},
};

/// Arguments of `trainer run`. Durations take a unit: `30s`, `5m`, `1h`, `14d`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Database URL (`sqlite://PATH?mode=rwc` or `mysql://…`). Default: SQLite under DATA_DIR.
    #[arg(long, env = env::DATABASE_URL, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory of the embedded SQLite database (when DATABASE_URL is not set).
    #[arg(long, env = env::DATA_DIR, default_value = "./data")]
    pub data_dir: PathBuf,
    /// Upbit REST base URL (real Upbit or the simulator).
    #[arg(long, env = env::UPBIT_API_URL, default_value = "https://api.upbit.com")]
    pub upbit_api_url: String,
    /// Upbit WebSocket base URL.
    #[arg(long, env = env::UPBIT_WS_URL, default_value = "wss://api.upbit.com/websocket/v1")]
    pub upbit_ws_url: String,
    /// Apply the database migrations at start (standalone runs and tests;
    /// in a deployment the dashboard-api owns migrations).
    #[arg(long)]
    pub migrate: bool,
    /// How long to wait for the schema to become current before giving up.
    #[arg(long, default_value = "10m", value_parser = parse_step)]
    pub schema_timeout: Duration,
    /// First-start backfill of every KRW market.
    #[arg(long, default_value = "1d", value_parser = parse_step)]
    pub lookback: Duration,
    /// First-start backfill of the BTC market (the 4h ADX needs ~2 weeks).
    #[arg(long, default_value = "14d", value_parser = parse_step)]
    pub btc_lookback: Duration,
    /// On restart, re-fetch this much before the newest stored candle.
    #[arg(long, default_value = "30m", value_parser = parse_step)]
    pub resume_overlap: Duration,
    /// Every market's recent minutes are re-fetched by REST this often
    /// (Upbit streams a candle at most once a second, so the last trades of
    /// a minute may be missing from the stream).
    #[arg(long, default_value = "5m", value_parser = parse_step)]
    pub seal_interval: Duration,
    /// How long after a minute closes its candles count as final.
    #[arg(long, default_value = "3s", value_parser = parse_step)]
    pub settle: Duration,
    /// How often the KRW market list is refreshed.
    #[arg(long, default_value = "1h", value_parser = parse_step)]
    pub market_list_ttl: Duration,
    /// Concurrent REST candle fetches (all share Upbit's 10/s candle budget).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub rest_concurrency: u16,
    /// Longest span of missed minutes whose regimes are computed late.
    #[arg(long, default_value = "1h", value_parser = parse_step)]
    pub catch_up: Duration,
    /// Regime engine configuration as JSON (inputs / thresholds / staleness;
    /// missing fields take defaults, see docs/regime.md).
    #[arg(long, value_name = "FILE")]
    pub regime_config: Option<PathBuf>,
    /// The market whose 4h ADX / ATR feed the regime.
    #[arg(long, default_value = "KRW-BTC")]
    pub btc: Market,
}

impl RunArgs {
    /// The database URL: given, or SQLite under `data_dir`.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| storage::default_sqlite_url(&self.data_dir))
    }

    /// The Upbit base URLs (the error names the bad one).
    pub fn urls(&self) -> anyhow::Result<UpbitUrls> {
        UpbitUrls::new(&self.upbit_api_url, &self.upbit_ws_url).context("invalid Upbit URL")
    }

    /// The collector's settings.
    pub fn collector_config(&self) -> anyhow::Result<CollectorConfig> {
        let mut c = CollectorConfig::new(self.urls()?, self.btc.clone());
        c.lookback = self.lookback;
        c.btc_lookback = self.btc_lookback;
        c.resume_overlap = self.resume_overlap;
        c.market_list_ttl = self.market_list_ttl;
        c.rest_concurrency = usize::from(self.rest_concurrency);
        c.policy.seal_interval = self.seal_interval;
        c.policy.settle = self.settle;
        Ok(c)
    }

    /// The regime writer's settings (reads `--regime-config`).
    pub fn writer_config(&self) -> anyhow::Result<RegimeWriterConfig> {
        let mut w = RegimeWriterConfig::new(self.btc.clone());
        if let Some(path) = &self.regime_config {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            w.engine = serde_json::from_str::<EngineConfig>(&text)
                .with_context(|| format!("invalid regime configuration {}", path.display()))?;
        }
        w.settle = self.settle;
        w.btc_history = self.btc_lookback;
        w.catch_up = self.catch_up;
        Ok(w)
    }
}

/// Connects and waits until the schema is current: retries while the
/// database is unreachable or behind (the dashboard-api migrates it), fails
/// at once on a schema that does not match this build.
pub async fn connect(url: &str, migrate: bool, timeout: Duration) -> anyhow::Result<Store> {
    let deadline = std::time::Instant::now() + timeout.to_std().unwrap_or_default();
    let mut reported = false;
    loop {
        let attempt = async {
            let store = Store::connect(url).await?;
            if migrate {
                store.migrate().await?;
            }
            store.check_schema().await?;
            Ok::<_, StorageError>(store)
        }
        .await;
        match attempt {
            Ok(store) => return Ok(store),
            Err(e @ (StorageError::SchemaBehind { .. } | StorageError::Database { .. }))
                if (matches!(e, StorageError::SchemaBehind { .. }) || e.is_retryable())
                    && std::time::Instant::now() < deadline =>
            {
                if !reported {
                    tracing::info!(reason = %e, "waiting for the database schema (dashboard-api migrates it)");
                    reported = true;
                }
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context("failed to open a current database"));
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}

/// The collector and the regime writer, running.
#[derive(Debug)]
pub struct Service {
    collector: Arc<Collector>,
    writer: JoinHandle<WriterStats>,
    stop: watch::Sender<bool>,
    store: Store,
}

impl Service {
    /// Starts both over `store` (schema already current). `clock` is market
    /// time; `client` carries the rate limiter (on the wall clock).
    pub async fn start(
        store: Store,
        client: UpbitClient,
        clock: SharedClock,
        collector: CollectorConfig,
        writer: RegimeWriterConfig,
    ) -> anyhow::Result<Self> {
        let regime_writer = RegimeWriter::new(store.clone(), clock.clone(), writer).await?;
        let collector = Arc::new(Collector::start(collector, store.clone(), client, clock));
        let (stop, stop_rx) = watch::channel(false);
        let feed = Arc::clone(&collector);
        let writer = tokio::spawn(async move {
            let mut rx = stop_rx;
            let stopped = async move {
                // An error means the sender is gone: stop as well.
                let _ = rx.wait_for(|s| *s).await;
            };
            regime_writer.run(feed.as_ref(), stopped).await
        });
        Ok(Self {
            collector,
            writer,
            stop,
            store,
        })
    }

    /// The collector (coverage, stats).
    pub fn collector(&self) -> &Collector {
        &self.collector
    }

    /// Stops the writer, then the collector; returns what the writer did.
    pub async fn shutdown(self) -> anyhow::Result<WriterStats> {
        self.stop.send_replace(true);
        let stats = self.writer.await.context("the regime writer failed")?;
        self.collector.shutdown().await;
        tracing::info!(
            regimes = stats.written,
            missing = stats.missing,
            collector = ?self.collector.stats(),
            "trainer stopped"
        );
        Ok(stats)
    }

    /// The store both write to.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Runs `trainer run` until SIGTERM / Ctrl-C.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    rt.block_on(async {
        let collector = args.collector_config()?;
        let writer = args.writer_config()?;
        let url = args.database_url();
        let store = tokio::select! {
            s = connect(&url, args.migrate, args.schema_timeout) => s?,
            () = runtime::shutdown::signal() => return Ok(()),
        };
        let wall = SystemClock::shared();
        let client =
            UpbitClient::from_config(HttpConfig::with_urls(collector.urls.clone()), wall.clone())
                .context("failed to build the Upbit client")?;
        let service = Service::start(store.clone(), client, wall, collector, writer).await?;
        tracing::info!("trainer running: collector and regime writer");
        runtime::shutdown::signal().await;
        service.shutdown().await?;
        store.close().await;
        Ok(())
    })
}
