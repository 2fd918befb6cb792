//! The test world: a fresh database (SQLite file or a MariaDB database of its
//! own, dropped afterwards), the Upbit simulator in-process (synthetic market,
//! stepped clock), a collector that does what the trainer's does (1-minute
//! candles from the simulator's REST API into the database, then a regime row
//! for the minute), and the real `trader` binary as a child process.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use chrono::{DateTime, TimeZone, Utc};
use domain::{
    CredentialId, Krw, Market, Mode, RegimeLabel, RiskProfile, Secret, StrategyId, TraderEvent,
    TraderId,
};
use sqlx::{Connection, Executor, MySqlConnection};
use storage::{
    MasterKey, Store,
    credentials::NewCredential,
    market_data::{Candle, CandleInterval as DbInterval},
    regimes::{RegimeInputs, RegimeRecord},
    strategies::NewStrategy,
    traders::NewTrader,
};
use strategy::{EntryStyle, StrategyDefinition};
use upbit::{
    CandleInterval, HttpConfig, MinuteUnit, SystemClock, UpbitClient, UpbitUrls,
    http::rate_limit::{Limit, RateGroup, RateLimits},
};
use upbit_sim::{AccountSpec, Scenario, SimConfig, SimHandle, Simulator, units::CandleUnit};

/// Base64 of the master key every test uses (32 bytes).
pub(crate) const MASTER_KEY: &str = "dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmctISE=";
/// The simulator account of LIVE traders.
pub(crate) const ACCESS_KEY: &str = "live-access-key";
/// Its secret.
pub(crate) const SECRET_KEY: &str = "live-secret-key-for-the-simulator";
/// KRW on that account.
pub(crate) const ACCOUNT_KRW: i64 = 10_000_000;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    /// A SQLite file.
    Sqlite,
    /// A MariaDB database on `TEST_MARIADB_URL`.
    MariaDb,
}

fn mariadb_base() -> String {
    std::env::var("TEST_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// A migrated database that is removed on [`TestDb::cleanup`].
pub(crate) struct TestDb {
    pub(crate) store: Store,
    pub(crate) url: String,
    pub(crate) kind: Db,
    name: String,
    dir: Option<PathBuf>,
}

impl TestDb {
    pub(crate) async fn new(kind: Db) -> Self {
        let name = format!("trader_it_{}", uuid::Uuid::new_v4().simple());
        let (url, dir) = match kind {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                (
                    format!("sqlite://{}/t.db?mode=rwc", dir.display()),
                    Some(dir),
                )
            }
            Db::MariaDb => {
                let mut admin = MySqlConnection::connect(&mariadb_base())
                    .await
                    .unwrap_or_else(|e| panic!("MariaDB unreachable at {} ({e}); the MariaDB half fails rather than skips", mariadb_base()));
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                (format!("{}/{name}", mariadb_base()), None)
            }
        };
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        Self {
            store,
            url,
            kind,
            name,
            dir,
        }
    }

    /// The URL of this database through a proxy listening on `port`.
    pub(crate) fn url_via(&self, port: u16) -> String {
        format!("mysql://root@127.0.0.1:{port}/{}", self.name)
    }

    pub(crate) async fn cleanup(self) {
        self.store.close().await;
        match self.kind {
            Db::Sqlite => {
                if let Some(d) = self.dir {
                    let _ = std::fs::remove_dir_all(d);
                }
            }
            Db::MariaDb => {
                if let Ok(mut admin) = MySqlConnection::connect(&mariadb_base()).await {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {}", self.name).as_str())
                        .await;
                }
            }
        }
    }
}

/// A fast client for the test's own collector (the simulator's limits are off).
pub(crate) fn quotes(sim: &SimHandle) -> UpbitClient {
    let urls = UpbitUrls::new(&sim.base_url(), &sim.ws_url()).unwrap();
    let mut cfg = HttpConfig::with_urls(urls);
    let mut limits = RateLimits::default();
    for g in [
        RateGroup::Candles,
        RateGroup::Market,
        RateGroup::Orderbook,
        RateGroup::Trade,
        RateGroup::Ticker,
        RateGroup::Default,
    ] {
        limits = limits.with_limit(g, Limit::per_second(10_000));
    }
    cfg.limits = limits;
    UpbitClient::from_config(cfg, SystemClock::shared()).unwrap()
}

/// The simulator's start (a Monday, UTC midnight).
pub(crate) fn sim_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
}

/// Starts the simulator: a synthetic market, frozen clock (stepped by the
/// test), one LIVE account, rate limits off (the trader's own client still
/// keeps Upbit's).
pub(crate) async fn start_sim(
    scenario: Scenario,
    markets: usize,
    seed: u64,
    speed: f64,
) -> SimHandle {
    let mut cfg = SimConfig::synthetic(scenario, markets, seed);
    cfg.speed = speed;
    // Real time runs on the wall clock's own minute (a trader may then use
    // its production clock); anything else starts at a fixed instant.
    cfg.start = ((speed - 1.0).abs() > f64::EPSILON).then(sim_start);
    cfg.seed = seed;
    cfg.rate.enabled = false;
    cfg.accounts = vec![AccountSpec::new(
        ACCESS_KEY,
        SECRET_KEY,
        &[("KRW", &ACCOUNT_KRW.to_string())],
    )];
    Simulator::start(cfg).await.unwrap()
}

/// A strategy the synthetic market actually trades: the STANDARD one with a
/// lower entry bar and a universe sized for a handful of markets.
pub(crate) fn test_definition(entry: f64) -> StrategyDefinition {
    let mut d = StrategyDefinition::builtin(RiskProfile::Standard);
    "IT STANDARD".clone_into(&mut d.name);
    d.thresholds.entry = entry;
    d.thresholds.exit = (entry - 20.0).max(1.0);
    d.universe.top_n = 8;
    d.universe.min_value_24h_krw = 1e8;
    d.universe.max_spread = 0.02;
    d.universe.min_avg_depth5_krw = 1e5;
    d.universe.min_volatility = 0.0;
    d.universe.max_volatility = 0.5;
    d.universe.exclude_warnings = false;
    d.execution.entry_style = EntryStyle::Limit;
    // Two tranches: the second rests post-only a tick lower (EXE-1), so
    // resting fills, partial fills and timeouts happen too.
    d.execution.split_entries = 2;
    // Keep trading through a losing streak so every minute of a long run
    // exercises orders (the STAB-1 block itself is unit-tested in `risk`).
    d.risk.consecutive_loss_limit = 50;
    d.execution.entry_timeout_secs = 120;
    d.validate().unwrap();
    d
}

/// Database + simulator + collector.
pub(crate) struct World {
    pub(crate) db: TestDb,
    pub(crate) sim: SimHandle,
    pub(crate) quotes: UpbitClient,
    pub(crate) markets: Vec<Market>,
    /// The simulator's current minute.
    pub(crate) now: DateTime<Utc>,
    /// The regime written every minute.
    pub(crate) regime: RegimeLabel,
    pub(crate) key: MasterKey,
}

impl World {
    pub(crate) async fn start(db: Db, scenario: Scenario, markets: usize, seed: u64) -> Self {
        Self::start_at_speed(db, scenario, markets, seed, 0.0).await
    }

    /// [`Self::start`] with the simulator running at `speed` × real time
    /// (0: frozen, stepped by the test).
    pub(crate) async fn start_at_speed(
        db: Db,
        scenario: Scenario,
        markets: usize,
        seed: u64,
        speed: f64,
    ) -> Self {
        let db = TestDb::new(db).await;
        let sim = start_sim(scenario, markets, seed, speed).await;
        let quotes = quotes(&sim);
        let listed = quotes.krw_markets(false).await.unwrap();
        let markets: Vec<Market> = listed.into_iter().map(|l| l.market).collect();
        let key = MasterKey::from_base64("test", MASTER_KEY).unwrap();
        let now = sim.now();
        let w = Self {
            db,
            sim,
            quotes,
            markets,
            now,
            regime: RegimeLabel::Trend,
            key,
        };
        w.backfill(600).await;
        w.write_regime(w.now).await;
        w
    }

    /// Collects the closed 1-minute candles of every market before `to`
    /// (at most `count` per market) into the database.
    pub(crate) async fn collect(&self, to: DateTime<Utc>, count: u16) {
        let mut rows: Vec<Candle> = Vec::new();
        for m in &self.markets {
            let mut left = count;
            let mut end = to;
            while left > 0 {
                let n = left.min(200);
                let cs = self
                    .quotes
                    .candles(m, CandleInterval::Minutes(MinuteUnit::M1), Some(end), n)
                    .await
                    .unwrap();
                let oldest = cs.first().map(|c| c.open_time);
                for c in cs.into_iter().filter(|c| c.open_time < to) {
                    rows.push(Candle {
                        market: c.market,
                        interval: DbInterval::M1,
                        ts: c.open_time,
                        open: c.open,
                        high: c.high,
                        low: c.low,
                        close: c.close,
                        volume: c.volume,
                        value: Some(c.value),
                    });
                }
                left -= n;
                match oldest {
                    Some(o) if o < end => end = o,
                    _ => break,
                }
            }
        }
        self.db.store.candles().upsert_many(&rows).await.unwrap();
    }

    pub(crate) async fn backfill(&self, minutes: u16) {
        self.collect(self.now, minutes).await;
    }

    /// Writes the minute's regime row (what the trainer writes once the
    /// minute's candles are in).
    pub(crate) async fn write_regime(&self, ts: DateTime<Utc>) {
        self.db
            .store
            .regimes()
            .insert(&RegimeRecord {
                ts,
                label: self.regime,
                regime_score: 70.0,
                inputs: RegimeInputs {
                    btc_adx_4h: 30.0,
                    btc_atr_pct_4h: 1.0,
                    breadth_up_1h: 0.6,
                    dispersion_1h: 0.01,
                    top5_value_share_1h: 0.5,
                    whipsaw_5m: 0.2,
                },
                engine_version: regime::ENGINE_VERSION.to_owned(),
            })
            .await
            .unwrap();
    }

    /// The closed minute before `to` of every market, read from the
    /// simulator's own market state (the REST view of the same data is
    /// rate-limited per IP, which the trader under test shares).
    pub(crate) async fn collect_minute(&self, to: DateTime<Utc>) {
        let to_ms = to.timestamp_millis();
        let rows: Vec<Candle> = {
            let mut w = self.sim.shared().world();
            let mut rows = Vec::new();
            for m in &self.markets {
                let Some(i) = w.market_index(m.as_str()) else {
                    continue;
                };
                for c in w.markets[i].candles(CandleUnit::Minutes(1), Some(to_ms), 2, to_ms) {
                    if c.start + 60_000 > to_ms {
                        continue;
                    }
                    let price = |d: rust_decimal::Decimal| domain::Price::new(d).unwrap();
                    rows.push(Candle {
                        market: m.clone(),
                        interval: DbInterval::M1,
                        ts: DateTime::from_timestamp_millis(c.start).unwrap(),
                        open: price(c.agg.open),
                        high: price(c.agg.high),
                        low: price(c.agg.low),
                        close: price(c.agg.close),
                        volume: domain::Volume::new(c.agg.volume).unwrap(),
                        value: Some(Krw::from_decimal(c.agg.value)),
                    });
                }
            }
            rows
        };
        self.db.store.candles().upsert_many(&rows).await.unwrap();
    }

    /// One minute: the simulator steps, the collector stores the closed
    /// minute's candles, then the minute's regime.
    pub(crate) async fn step(&mut self) {
        self.next_minute().await;
        self.write_regime(self.now).await;
    }

    /// Steps to the next minute boundary and stores its closed candles.
    async fn next_minute(&mut self) {
        let now = self.sim.now();
        let next = trader::app::floor_minute(now) + chrono::Duration::minutes(1);
        self.now = self.sim.step(next - now).unwrap();
        self.collect_minute(self.now).await;
    }

    /// A minute without a regime row: the candles arrive, then `extra` passes
    /// (the trader runs the minute once its wait for the regime is over).
    pub(crate) async fn step_without_regime(&mut self, extra: chrono::Duration) {
        self.next_minute().await;
        self.now = self.sim.step(extra).unwrap();
    }

    /// The test strategy.
    pub(crate) async fn strategy(&self, def: &StrategyDefinition) -> StrategyId {
        let s = self
            .db
            .store
            .strategies()
            .create(
                &NewStrategy {
                    name: format!("{} {}", def.name, uuid::Uuid::new_v4().simple()),
                    definition: serde_json::to_value(def).unwrap(),
                    risk_profile: def.risk_profile,
                },
                "test",
                self.now,
            )
            .await
            .unwrap();
        s.id
    }

    /// The LIVE credential (the simulator account).
    pub(crate) async fn credential(&self) -> CredentialId {
        self.db
            .store
            .credentials()
            .create(
                &NewCredential {
                    name: format!("sim {}", uuid::Uuid::new_v4().simple()),
                    access_key: ACCESS_KEY.to_owned(),
                    secret: Secret::new(SECRET_KEY.to_owned()),
                },
                &self.key,
                "test",
                self.now,
            )
            .await
            .unwrap()
            .id
    }

    /// A running trader row: PAPER, or LIVE (armed or not).
    pub(crate) async fn trader(
        &self,
        strategy: StrategyId,
        seed: i64,
        mode: Mode,
        armed: bool,
        credential: Option<CredentialId>,
    ) -> TraderId {
        let store = &self.db.store;
        let t = store
            .traders()
            .create(
                &NewTrader {
                    name: format!("it-{}", uuid::Uuid::new_v4().simple()),
                    strategy_id: strategy,
                    seed_krw: Krw::from_i64(seed),
                    credential_id: credential,
                },
                "test",
                self.now,
            )
            .await
            .unwrap();
        let past = self.now - chrono::Duration::days(2);
        store
            .traders()
            .update_state(t.id, TraderEvent::Run, "test", self.now)
            .await
            .unwrap();
        if mode == Mode::Live {
            store
                .traders()
                .update_state(
                    t.id,
                    TraderEvent::SetMode {
                        mode: Mode::Live,
                        protection_until: past,
                    },
                    "test",
                    self.now,
                )
                .await
                .unwrap();
            if armed {
                self.arm(t.id).await;
            }
        }
        t.id
    }

    pub(crate) async fn arm(&self, id: TraderId) {
        self.db
            .store
            .traders()
            .update_state(
                id,
                TraderEvent::Arm {
                    protection_until: self.now - chrono::Duration::days(2),
                },
                "test",
                self.now,
            )
            .await
            .unwrap();
    }

    /// Waits until `trader` wrote its equity point for minute `t`.
    pub(crate) async fn wait_cycle(
        &self,
        trader: TraderId,
        t: DateTime<Utc>,
        within: Duration,
    ) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(e)) = self.db.store.equity().latest(trader).await
                && e.ts >= t
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    /// Every order the simulator holds for `prefix`, by identifier.
    pub(crate) fn sim_orders(&self, prefix: &str) -> BTreeMap<String, upbit_sim::engine::Order> {
        let w = self.sim.shared().world();
        w.engine
            .orders()
            .iter()
            .filter(|o| {
                o.identifier
                    .as_deref()
                    .is_some_and(|i| i.starts_with(prefix))
            })
            .map(|o| (o.identifier.clone().unwrap_or_default(), o.clone()))
            .collect()
    }

    /// Create attempts the simulator received (`/_sim/orders`), optionally
    /// only those whose identifier starts with `prefix`.
    /// Every Exchange API request the simulator received, by `METHOD /path`.
    pub(crate) async fn exchange_requests(&self) -> serde_json::Value {
        reqwest::get(format!("{}/_sim/requests", self.sim.base_url()))
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    }

    pub(crate) async fn create_attempts(&self) -> Vec<serde_json::Value> {
        reqwest::get(format!("{}/_sim/orders", self.sim.base_url()))
            .await
            .unwrap()
            .json::<Vec<serde_json::Value>>()
            .await
            .unwrap()
    }
}

/// The trader binary as a child process.
pub(crate) struct TraderProc {
    pub(crate) child: tokio::process::Child,
    pub(crate) log: PathBuf,
}

impl TraderProc {
    pub(crate) fn spawn(world: &World, id: TraderId, db_url: Option<&str>) -> Self {
        Self::spawn_with(world, id, db_url, &[])
    }

    /// The test flags: follow the simulator's clock, watch every 20 ms.
    const TEST_ARGS: [&'static str; 8] = [
        "--clock",
        "simulator",
        "--watch-interval-ms",
        "20",
        "--heartbeat-secs",
        "2",
        "--paper-latency-ms",
        "0",
    ];

    /// [`Self::spawn`] with extra environment variables.
    pub(crate) fn spawn_with(
        world: &World,
        id: TraderId,
        db_url: Option<&str>,
        extra: &[(&str, String)],
    ) -> Self {
        Self::spawn_args(world, id, db_url, extra, &Self::TEST_ARGS)
    }

    /// [`Self::spawn_with`] with explicit command-line flags.
    pub(crate) fn spawn_args(
        world: &World,
        id: TraderId,
        db_url: Option<&str>,
        extra: &[(&str, String)],
        args: &[&str],
    ) -> Self {
        let log = std::env::temp_dir().join(format!(
            "trader-it-{}-{}.log",
            id,
            uuid::Uuid::new_v4().simple()
        ));
        let file = std::fs::File::create(&log).unwrap();
        let err = file.try_clone().unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_trader"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TRADER_ID", id.to_string())
            .env("DATABASE_URL", db_url.unwrap_or(&world.db.url))
            .env("UPBIT_API_URL", world.sim.base_url())
            .env("UPBIT_WS_URL", world.sim.ws_url())
            .env("MASTER_KEY", MASTER_KEY)
            .env(
                "RUST_LOG",
                std::env::var("IT_TRADER_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .args(args)
            .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        Self { child, log }
    }

    pub(crate) fn pid(&self) -> i32 {
        i32::try_from(self.child.id().unwrap()).unwrap()
    }

    /// SIGTERM and wait; returns the exit status.
    pub(crate) async fn terminate(mut self) -> std::process::ExitStatus {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid()),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the trader stops within 30 s of SIGTERM")
            .unwrap();
        if status.success() {
            let _ = std::fs::remove_file(&self.log);
        }
        status
    }

    /// SIGKILL and reap.
    pub(crate) async fn kill(mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid()),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let _ = self.child.wait().await;
        let _ = std::fs::remove_file(&self.log);
    }

    pub(crate) fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl World {
    /// Sets simulator faults (`POST /_sim/faults`).
    pub(crate) async fn faults(&self, body: serde_json::Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/_sim/faults", self.sim.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "faults: {}", r.status());
    }
}

/// A TCP proxy in front of MariaDB that the test can cut (existing
/// connections dropped, new ones refused) and restore — a database outage
/// without touching the machine's MariaDB.
pub(crate) struct Proxy {
    pub(crate) port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    pub(crate) async fn start() -> Self {
        use std::sync::atomic::Ordering;
        let base = mariadb_base();
        let upstream = base
            .rsplit('@')
            .next()
            .unwrap()
            .trim_start_matches("mysql://")
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> =
            std::sync::Arc::default();
        let (u, c) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                c.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { port, up, conns }
    }

    /// The database "stops": every connection is dropped, new ones refused.
    pub(crate) fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    /// The database is back.
    pub(crate) fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A fake Telegram Bot API that records every `sendMessage` text.
pub(crate) async fn fake_telegram() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::{Json, Router, extract::State, routing::post};
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;
    async fn send(
        State(seen): State<Seen>,
        Json(body): Json<serde_json::Value>,
    ) -> Json<serde_json::Value> {
        let text = body["text"].as_str().unwrap_or_default().to_owned();
        seen.lock().unwrap().push(text);
        Json(serde_json::json!({"ok": true, "result": {}}))
    }
    let seen: Seen = std::sync::Arc::default();
    let app = Router::new()
        .route("/{token}/sendMessage", post(send))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}
