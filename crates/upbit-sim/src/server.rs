//! Starting the simulator: configuration, building the markets (replay or
//! synthetic), the shared state behind the HTTP and WebSocket handlers, the
//! background clock task and the state-file writer.

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use chrono::{DateTime, Utc};
use domain::{Market, Secret};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use runtime::{Clock, SharedClock, SystemClock};
use rust_decimal::{Decimal, prelude::FromPrimitive};
use serde::{Deserialize, Serialize};
use tokio::{
    net::TcpListener,
    sync::{broadcast, oneshot, watch},
    task::JoinHandle,
};

use crate::{
    clock::SimClock,
    data::{self, CandleRow, DataError},
    engine::{Account, Balance, Engine, FeeConfig, Limits, Permissions},
    market::{MarketInfo, MarketState, hash_str},
    persist,
    ratelimit::{RateConfig, RateLimiter},
    series::{Agg, Bar, PrintParams, Series, mix},
    synthetic::{Generator, Scenario, universe},
    wire::{MINUTE_MS, Millis},
    world::{Broadcast, World},
};

/// Where market data comes from.
#[derive(Debug, Clone)]
pub enum MarketSource {
    /// Replay candles from CSV / CSV.gz files.
    Files(Vec<PathBuf>),
    /// Replay candles already in memory.
    Rows(Vec<CandleRow>),
    /// The seeded synthetic generator.
    Synthetic {
        /// Scenario.
        scenario: Scenario,
        /// Number of KRW markets (BTC first).
        markets: usize,
        /// Seed.
        seed: u64,
        /// Minutes of history generated before the start time.
        history_minutes: u32,
    },
}

/// An account to create at start (same fields as `POST /_sim/accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSpec {
    /// Access key.
    pub access_key: String,
    /// Secret key (raw text; signs the JWT).
    pub secret_key: String,
    /// Free balances by currency (decimal strings).
    #[serde(default)]
    pub balances: BTreeMap<String, String>,
    /// Average buy prices by currency.
    #[serde(default)]
    pub avg_buy_prices: BTreeMap<String, String>,
    /// Permission names: `view_accounts`, `view_orders`, `make_orders`
    /// (default: all three).
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    /// Allowed caller IPs (default: any).
    #[serde(default)]
    pub allowed_ips: Vec<std::net::IpAddr>,
    /// Key expiry (sim time).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The largest balance an account may be given (keeps every later sum far
/// from `Decimal`'s range).
fn max_balance() -> Decimal {
    Decimal::from(10u64.pow(18))
}

impl AccountSpec {
    /// A full-permission account with `balances`.
    pub fn new(access_key: &str, secret_key: &str, balances: &[(&str, &str)]) -> Self {
        Self {
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            balances: balances
                .iter()
                .map(|(c, b)| ((*c).to_owned(), (*b).to_owned()))
                .collect(),
            avg_buy_prices: BTreeMap::new(),
            permissions: None,
            allowed_ips: Vec::new(),
            expires_at: None,
        }
    }

    /// Builds the engine account, naming the bad field on error.
    pub fn to_account(&self) -> Result<Account, String> {
        if self.access_key.is_empty() || self.secret_key.is_empty() {
            return Err("access_key and secret_key must not be empty".to_owned());
        }
        let mut balances = BTreeMap::new();
        for (c, raw) in &self.balances {
            domain::Currency::parse("balances", c).map_err(|e| e.to_string())?;
            let v = Decimal::from_str_exact(raw.trim())
                .map_err(|_| format!("balances.{c}: not a decimal: {raw:?}"))?;
            if v.is_sign_negative() && !v.is_zero() {
                return Err(format!("balances.{c}: must not be negative"));
            }
            if v > max_balance() {
                return Err(format!("balances.{c}: must be at most {}", max_balance()));
            }
            let avg = match self.avg_buy_prices.get(c) {
                Some(a) => Decimal::from_str_exact(a.trim())
                    .ok()
                    .filter(|v| !v.is_sign_negative() && *v <= max_balance())
                    .ok_or_else(|| {
                        format!("avg_buy_prices.{c}: not a decimal within 0..1e18: {a:?}")
                    })?,
                None => Decimal::ZERO,
            };
            balances.insert(
                c.clone(),
                Balance {
                    balance: v.normalize(),
                    locked: Decimal::ZERO,
                    avg_buy_price: avg.normalize(),
                    avg_buy_price_modified: false,
                },
            );
        }
        balances.entry("KRW".to_owned()).or_default();
        let mut acct = Account::new(
            self.access_key.clone(),
            Secret::new(self.secret_key.clone()),
            balances,
        );
        if let Some(perms) = &self.permissions {
            let has = |p: &str| perms.iter().any(|x| x == p);
            for p in perms {
                if !matches!(p.as_str(), "view_accounts" | "view_orders" | "make_orders") {
                    return Err(format!("permissions: unknown permission {p:?}"));
                }
            }
            acct.permissions = Permissions {
                view_accounts: has("view_accounts"),
                view_orders: has("view_orders"),
                make_orders: has("make_orders"),
            };
        }
        acct.allowed_ips.clone_from(&self.allowed_ips);
        acct.expires_at = self.expires_at.map(|t| t.timestamp_millis());
        Ok(acct)
    }
}

/// Simulator configuration.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Listen address (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Market data.
    pub source: MarketSource,
    /// Sim seconds per wall second (0 = frozen until stepped).
    pub speed: f64,
    /// Sim start time (default: replay → 200 bars into the data;
    /// synthetic → the wall clock's current minute).
    pub start: Option<DateTime<Utc>>,
    /// State file for accounts and orders.
    pub state_file: Option<PathBuf>,
    /// The wall clock (rate limits, delays, real-time speed).
    pub wall_clock: SharedClock,
    /// Seed for order ids and fault sampling.
    pub seed: u64,
    /// Fee rates.
    pub fees: FeeConfig,
    /// Order limits and fill model.
    pub limits: Limits,
    /// Rate limiting.
    pub rate: RateConfig,
    /// Accounts to create at start (kept as saved when the state file
    /// already has the access key).
    pub accounts: Vec<AccountSpec>,
    /// WebSocket idle timeout (Upbit: 120 s).
    pub ws_idle_timeout: Duration,
    /// Interval of `{"status":"UP"}` after a `PING` (Upbit: 10 s).
    pub ws_status_interval: Duration,
    /// How often the background task advances the world.
    pub tick_interval: Duration,
}

impl SimConfig {
    /// Defaults around a market source: port 0 on loopback, real time.
    pub fn new(source: MarketSource) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            source,
            speed: 1.0,
            start: None,
            state_file: None,
            wall_clock: SystemClock::shared(),
            seed: 0,
            fees: FeeConfig::default(),
            limits: Limits::default(),
            rate: RateConfig::default(),
            accounts: Vec::new(),
            ws_idle_timeout: Duration::from_mins(2),
            ws_status_interval: Duration::from_secs(10),
            tick_interval: Duration::from_millis(50),
        }
    }

    /// A synthetic market of `markets` KRW markets with a day of history.
    pub fn synthetic(scenario: Scenario, markets: usize, seed: u64) -> Self {
        Self::new(MarketSource::Synthetic {
            scenario,
            markets,
            seed,
            history_minutes: 1440,
        })
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Market data could not be loaded.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The state file could not be read.
    #[error(transparent)]
    State(#[from] persist::StateError),
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Injected faults (`POST /_sim/faults`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Added latency per REST request.
    pub latency_ms: u64,
    /// Probability of a 500 answer per REST request.
    pub error_rate: f64,
    /// The next N REST requests answer 429.
    pub force_429: u32,
    /// Taker matching of new orders happens this long after acceptance.
    pub fill_delay_ms: u64,
    /// Cancels take effect this long after acceptance.
    pub cancel_delay_ms: u64,
    /// Order creates (`POST /v1/orders`, `cancel_and_new`) are processed at
    /// once but answered only after this delay: a client with a shorter
    /// timeout loses the answer to an order that exists.
    #[serde(default)]
    pub create_response_delay_ms: u64,
}

/// State shared by every handler.
#[derive(Debug)]
pub struct Shared {
    world: Mutex<World>,
    /// Sim clock.
    pub clock: SimClock,
    /// Rate limiter.
    pub rate: Mutex<RateLimiter>,
    /// Active faults.
    pub faults: Mutex<Faults>,
    /// RNG for fault sampling.
    pub fault_rng: Mutex<ChaCha8Rng>,
    /// Stream events.
    pub events: broadcast::Sender<Arc<Broadcast>>,
    /// Bumped to drop every WebSocket connection.
    pub ws_drop: watch::Sender<u64>,
    /// WebSocket idle timeout.
    pub ws_idle_timeout: Duration,
    /// `{"status":"UP"}` interval.
    pub ws_status_interval: Duration,
    /// Every Exchange API request received, by `METHOD /path` (reads,
    /// creates and cancels alike; counted before faults or auth), so a test
    /// can prove that a client sent none (`GET /_sim/requests`).
    exchange_requests: Mutex<BTreeMap<String, u64>>,
    state_file: Option<PathBuf>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Sim time now (ms).
    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// Wall time now (ms).
    pub fn wall(&self) -> Millis {
        self.clock.wall().now().timestamp_millis()
    }

    /// Counts one Exchange API request to `endpoint` (`METHOD /path`).
    pub fn count_exchange_request(&self, endpoint: String) {
        *lock(&self.exchange_requests).entry(endpoint).or_insert(0) += 1;
    }

    /// Exchange API requests received so far, by `METHOD /path`.
    pub fn exchange_requests(&self) -> BTreeMap<String, u64> {
        lock(&self.exchange_requests).clone()
    }

    /// True when any WebSocket session listens.
    pub fn streams(&self) -> bool {
        self.events.receiver_count() > 0
    }

    /// Locks the world after bringing it up to the current sim time.
    pub fn world(&self) -> MutexGuard<'_, World> {
        let mut w = lock(&self.world);
        let events = w.advance(self.now(), self.wall(), self.streams());
        self.publish(events);
        w
    }

    /// Sends stream events.
    pub fn publish(&self, events: Vec<Broadcast>) {
        if events.is_empty() || !self.streams() {
            return;
        }
        for e in events {
            // No receiver is not an error: sessions come and go.
            let _ = self.events.send(Arc::new(e));
        }
    }

    /// Adds or replaces an account (its open orders are cancelled first).
    pub fn upsert_account(&self, spec: &AccountSpec) -> Result<(), String> {
        let acct = spec.to_account()?;
        let mut w = self.world();
        let now = self.now();
        if let Some(i) = w.engine.account_index(&spec.access_key) {
            for oi in w.open_orders(i) {
                let _ = w.engine.cancel(oi, now);
            }
        }
        w.engine.upsert_account(acct);
        w.mark_dirty();
        let events = w.flush(self.streams());
        drop(w);
        self.publish(events);
        Ok(())
    }

    /// Writes the state file now (if configured).
    pub fn save(&self) -> Result<(), persist::StateError> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let snap = {
            let w = lock(&self.world);
            persist::snapshot(&w, self.now())
        };
        persist::write(path, &snap)
    }

    fn save_if_dirty(&self) {
        if self.state_file.is_none() {
            return;
        }
        let dirty = lock(&self.world).take_dirty();
        if dirty && let Err(e) = self.save() {
            tracing::warn!(error = %e, "failed to write the state file");
        }
    }
}

/// The simulator entry point.
#[derive(Debug)]
pub struct Simulator;

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    ticker: JoinHandle<()>,
}

impl Simulator {
    /// Builds the markets, binds the listener and starts serving.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let shared = Arc::new(build_shared(&config)?);
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
        let app = crate::http::router(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "simulator server failed");
            }
        });
        let ticker = {
            let shared = Arc::clone(&shared);
            let every = config.tick_interval.max(Duration::from_millis(5));
            tokio::spawn(async move {
                let mut iv = tokio::time::interval(every);
                iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut n: u64 = 0;
                loop {
                    iv.tick().await;
                    drop(shared.world());
                    n += 1;
                    if n.is_multiple_of(5) {
                        let s = Arc::clone(&shared);
                        // File I/O off the async threads.
                        let _ = tokio::task::spawn_blocking(move || s.save_if_dirty()).await;
                    }
                }
            })
        };
        tracing::info!(%addr, "upbit simulator listening");
        Ok(SimHandle {
            addr,
            shared,
            stop: Some(stop),
            server: Some(server),
            ticker,
        })
    }
}

impl SimHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` — the REST base URL (paths start with `/v1/`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://ADDR/websocket/v1`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/websocket/v1", self.addr)
    }

    /// Current sim time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Steps sim time forward and processes everything in between.
    pub fn step(&self, by: chrono::Duration) -> Result<DateTime<Utc>, String> {
        let t = self.shared.clock.step(by)?;
        drop(self.shared.world());
        Ok(t)
    }

    /// Adds or replaces an account.
    pub fn add_account(&self, spec: &AccountSpec) -> Result<(), String> {
        self.shared.upsert_account(spec)
    }

    /// The shared state (advanced use: benchmarks, tests).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops serving and writes the state file.
    pub async fn shutdown(mut self) -> Result<(), persist::StateError> {
        self.ticker.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.shared.ws_drop.send_modify(|g| *g += 1);
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
        let s = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || s.save())
            .await
            .unwrap_or(Ok(()))
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.ticker.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn build_shared(config: &SimConfig) -> Result<Shared, SimError> {
    let wall_now = config.wall_clock.now();
    let saved = match &config.state_file {
        Some(p) => persist::read(p)?,
        None => None,
    };
    let (markets, generator, default_start) = build_markets(config, wall_now)?;
    if markets.is_empty() {
        return Err(SimError::Config("no markets".to_owned()));
    }
    // Resume at the saved time unless a start was given.
    let start = config
        .start
        .or_else(|| {
            saved
                .as_ref()
                .and_then(|s| DateTime::from_timestamp_millis(s.sim_time))
        })
        .unwrap_or(default_start);
    let start_ms = start.timestamp_millis();
    let (markets, generator) = position(markets, generator, start_ms);
    let engine = Engine::new(
        markets.len(),
        config.fees,
        config.limits,
        mix(config.seed, 0xE1),
    );
    let mut world = World::new(markets, engine, generator);
    if let Some(state) = saved {
        persist::restore(&mut world, state, start_ms);
    }
    // Configured accounts are created unless the state file already holds
    // them: a restart must not reset balances that open orders still lock.
    for spec in &config.accounts {
        let acct = spec.to_account().map_err(SimError::Config)?;
        if world.engine.account_index(&spec.access_key).is_some() {
            tracing::info!(access_key = %spec.access_key, "account restored from the state file");
        } else {
            world.engine.upsert_account(acct);
        }
    }
    let (events, _) = broadcast::channel(4096);
    let (ws_drop, _) = watch::channel(0);
    Ok(Shared {
        world: Mutex::new(world),
        clock: SimClock::new(Arc::clone(&config.wall_clock), start, config.speed),
        rate: Mutex::new(RateLimiter::new(config.rate)),
        faults: Mutex::new(Faults::default()),
        fault_rng: Mutex::new(ChaCha8Rng::seed_from_u64(mix(config.seed, 0xFA))),
        events,
        ws_drop,
        ws_idle_timeout: config.ws_idle_timeout,
        ws_status_interval: config.ws_status_interval,
        exchange_requests: Mutex::new(BTreeMap::new()),
        state_file: config.state_file.clone(),
    })
}

/// Markets before positioning: `(info, series, spread)`.
type Unpositioned = Vec<(MarketInfo, Series, u32)>;

fn build_markets(
    config: &SimConfig,
    wall_now: DateTime<Utc>,
) -> Result<(Unpositioned, Option<Generator>, DateTime<Utc>), SimError> {
    match &config.source {
        MarketSource::Files(paths) => {
            let mut rows = Vec::new();
            for p in paths {
                rows.extend(data::read_path(p)?);
            }
            replay(rows, config.seed)
        }
        MarketSource::Rows(rows) => replay(rows.clone(), config.seed),
        MarketSource::Synthetic {
            scenario,
            markets,
            seed,
            history_minutes,
        } => {
            if *markets == 0 {
                return Err(SimError::Config("--markets must be at least 1".to_owned()));
            }
            let start = config.start.unwrap_or(wall_now);
            let start_min = start.timestamp_millis().div_euclid(MINUTE_MS) * MINUTE_MS;
            let first = start_min - i64::from(*history_minutes) * MINUTE_MS;
            let first_dt = DateTime::from_timestamp_millis(first).unwrap_or(start);
            let mut g = Generator::new(
                *scenario,
                *markets,
                *seed,
                first_dt,
                -i64::from(*history_minutes),
            );
            let mut series: Vec<Vec<Bar>> = vec![Vec::new(); *markets];
            while g.next_start() <= start_min {
                for (s, b) in series.iter_mut().zip(g.next_minute()) {
                    s.push(b);
                }
            }
            let specs = g.specs().to_vec();
            let out = specs
                .iter()
                .zip(series)
                .enumerate()
                .map(|(i, (spec, bars))| {
                    let info = MarketInfo {
                        market: spec.market.clone(),
                        korean_name: spec.korean_name.clone(),
                        english_name: spec.english_name.clone(),
                        warning: spec.warning,
                        caution: spec.caution,
                        offline: false,
                        tick_override: None,
                    };
                    let series = Series::new(first, MINUTE_MS, bars, g.print_params(i), false);
                    (info, series, spec.spread_ticks)
                })
                .collect();
            let start_dt = DateTime::from_timestamp_millis(start_min).unwrap_or(start);
            Ok((out, Some(g), start_dt))
        }
    }
}

fn position(
    markets: Unpositioned,
    generator: Option<Generator>,
    now: Millis,
) -> (Vec<MarketState>, Option<Generator>) {
    let mut out = Vec::with_capacity(markets.len());
    for (info, series, spread) in markets {
        out.push(MarketState::new(info, series, spread, now));
    }
    (out, generator)
}

/// Builds replay series from candle rows (grouped per market, dense grid at
/// the data's interval; an empty `value` becomes `close × volume`).
fn replay(
    rows: Vec<CandleRow>,
    seed: u64,
) -> Result<(Unpositioned, Option<Generator>, DateTime<Utc>), SimError> {
    let mut by_market: BTreeMap<Market, Vec<CandleRow>> = BTreeMap::new();
    for r in rows {
        by_market.entry(r.market.clone()).or_default().push(r);
    }
    if by_market.is_empty() {
        return Err(SimError::Data(DataError::Empty));
    }
    let mut interval = i64::MAX;
    for rows in by_market.values_mut() {
        rows.sort_by_key(|r| r.timestamp_utc);
        for w in rows.windows(2) {
            let d = (w[1].timestamp_utc - w[0].timestamp_utc).num_milliseconds();
            if d > 0 {
                interval = interval.min(d);
            }
        }
    }
    if interval == i64::MAX {
        interval = MINUTE_MS;
    }
    let names: HashMap<String, (String, String)> = universe(48, 0)
        .into_iter()
        .map(|s| {
            (
                s.market.as_str().to_owned(),
                (s.korean_name, s.english_name),
            )
        })
        .collect();
    let first_ts = by_market
        .values()
        .filter_map(|r| r.first())
        .map(|r| r.timestamp_utc.timestamp_millis())
        .min()
        .unwrap_or(0);
    let last_ts = by_market
        .values()
        .filter_map(|r| r.last())
        .map(|r| r.timestamp_utc.timestamp_millis())
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for (market, rows) in by_market {
        let start = rows
            .first()
            .map_or(first_ts, |r| r.timestamp_utc.timestamp_millis());
        let mut bars: Vec<Option<Agg>> = Vec::new();
        let mut approx = false;
        for r in &rows {
            let idx = usize::try_from((r.timestamp_utc.timestamp_millis() - start) / interval)
                .unwrap_or(0);
            if bars.len() <= idx {
                bars.resize(idx + 1, None);
            }
            let value = r.value.map_or_else(
                || {
                    approx = true;
                    r.close.get() * r.volume.get()
                },
                domain::Krw::get,
            );
            let piece = Agg {
                open: r.open.get(),
                high: r.high.get(),
                low: r.low.get(),
                close: r.close.get(),
                volume: r.volume.get(),
                value,
                last_ts: 0,
            };
            bars[idx] = Agg::push(bars[idx], piece);
        }
        let bars: Vec<Bar> = bars
            .into_iter()
            .map(|a| match a {
                Some(a) => Bar {
                    open: a.open,
                    high: a.high,
                    low: a.low,
                    close: a.close,
                    volume: a.volume,
                    value: a.value,
                },
                None => Bar {
                    open: Decimal::ONE,
                    high: Decimal::ONE,
                    low: Decimal::ONE,
                    close: Decimal::ONE,
                    volume: Decimal::ZERO,
                    value: Decimal::ZERO,
                },
            })
            .collect();
        let params = PrintParams {
            seed: mix(seed, hash_str(market.as_str())),
            typical_volume: Series::median_volume(&bars),
        };
        let code = market.as_str().to_owned();
        let (korean_name, english_name) = names.get(&code).cloned().unwrap_or_else(|| {
            (
                market.base().as_str().to_owned(),
                market.base().as_str().to_owned(),
            )
        });
        let spread = if matches!(code.as_str(), "KRW-BTC" | "KRW-ETH" | "KRW-XRP") {
            1
        } else {
            2
        };
        let info = MarketInfo {
            market,
            korean_name,
            english_name,
            warning: false,
            caution: [false; 5],
            offline: false,
            tick_override: None,
        };
        out.push((
            info,
            Series::new(start, interval, bars, params, approx),
            spread,
        ));
    }
    if out.iter().any(|(_, s, _)| s.approx_value()) {
        tracing::info!(
            "replay data has no `value` column: candle turnover approximated as close x volume"
        );
    }
    let default_start = (first_ts + 200 * interval).min(last_ts + interval);
    let start = DateTime::from_timestamp_millis(default_start).unwrap_or_default();
    Ok((out, None, start))
}

/// Parses a speed for the CLI (`--speed 60`).
pub fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("not a number: {s:?}"))?;
    check_speed(v)
}

/// A speed within `0..=MAX_SPEED`, or why not.
pub fn check_speed(v: f64) -> Result<f64, String> {
    let max = crate::clock::MAX_SPEED;
    if !v.is_finite() || !(0.0..=max).contains(&v) {
        return Err(format!("speed must be a number from 0 to {max}"));
    }
    Ok(v)
}

/// `Decimal` from `f64` for config values (fees on the CLI).
pub fn decimal_from_f64(v: f64) -> Option<Decimal> {
    Decimal::from_f64(v)
}
