//! [`AppState`]: what every handler shares — the store, the injected clock,
//! the trader runtime, the master key, the environment handed to traders,
//! the live event hub and the login limiter. Built from [`Deps`], so tests
//! assemble it from real parts of their choosing (a `TestClock`, a process
//! runtime in a temp dir, SQLite or MariaDB).

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use chrono::{DateTime, Utc};
use domain::TraderId;
use orchestrator::TraderRuntime;
use runtime::SharedClock;
use storage::{MasterKey, Store};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, watch};
use upbit::UpbitUrls;

use crate::{
    auth::limiter::LoginLimiter,
    cache::{ReadCache, SessionCache},
    events::EventHub,
};

/// The environment every trader gets besides `TRADER_ID` (the trader
/// process contract): `DATABASE_URL`, `UPBIT_API_URL`, `UPBIT_WS_URL`,
/// `MASTER_KEY` or `MASTER_KEY_FILE`, `LOG_FORMAT`, `TELEGRAM_*`. Values may
/// be secrets: `Debug` prints names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TraderEnv(pub BTreeMap<String, String>);

impl fmt::Debug for TraderEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut set = f.debug_set();
        for k in self.0.keys() {
            set.entry(&format_args!("{k}=***"));
        }
        set.finish()
    }
}

/// Tunables with the production values as defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// SSE keep-alive comment interval (contract: 15 s).
    pub sse_keep_alive: Duration,
    /// How often the event hub polls the events table.
    pub event_poll: Duration,
    /// Login session lifetime.
    pub session_ttl: chrono::Duration,
    /// A RUNNING trader whose last heartbeat is younger than this is `alive`.
    pub heartbeat_alive: chrono::Duration,
    /// A regime older than this is shown `stale` (the traders' own policy).
    pub regime_max_age: chrono::Duration,
    /// Failed password attempts allowed per client within `login_window`.
    pub login_max_failures: u32,
    /// The window of the login limiter.
    pub login_window: chrono::Duration,
    /// Whole-request timeout of the credential check against the exchange.
    pub credential_check_timeout: Duration,
    /// Mark the session cookie `Secure` (serve over HTTPS only).
    pub secure_cookie: bool,
    /// How long list reads are served from the read cache (zero: never).
    pub read_cache_ttl: Duration,
    /// How long a validated session is trusted without a database lookup.
    pub session_cache_ttl: Duration,
    /// How often a live event stream checks that its session still exists
    /// (it ends at once on logout, within this on expiry).
    pub sse_session_check: Duration,
    /// How often RUNNING traders are checked for a changed config hash (an
    /// AI MODE model deployed or rolled back) and recreated (FIX-12).
    pub trader_reconcile_every: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sse_keep_alive: Duration::from_secs(15),
            event_poll: Duration::from_millis(250),
            session_ttl: chrono::Duration::hours(12),
            heartbeat_alive: chrono::Duration::seconds(90),
            regime_max_age: regime::StalenessPolicy::default().max_age(),
            login_max_failures: 5,
            login_window: chrono::Duration::minutes(5),
            credential_check_timeout: Duration::from_secs(5),
            secure_cookie: false,
            read_cache_ttl: Duration::from_secs(1),
            session_cache_ttl: Duration::from_secs(5),
            sse_session_check: Duration::from_secs(10),
            trader_reconcile_every: Duration::from_secs(30),
        }
    }
}

/// The parts an [`AppState`] is built from.
#[derive(Debug)]
pub struct Deps {
    /// The migrated database.
    pub store: Store,
    /// "Now" for every decision (STAB-4 windows, sessions, limiter).
    pub clock: SharedClock,
    /// Where traders run.
    pub runtime: Arc<dyn TraderRuntime>,
    /// Seals credentials.
    pub master_key: MasterKey,
    /// What traders get in their environment.
    pub trader_env: TraderEnv,
    /// The exchange credentials are checked against.
    pub upbit: UpbitUrls,
    /// Tunables.
    pub settings: Settings,
}

/// Shared, cheaply cloned handler state.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// What an [`AppState`] shares (fields are crate-internal).
#[derive(Debug)]
pub struct Inner {
    pub(crate) store: Store,
    pub(crate) clock: SharedClock,
    pub(crate) runtime: Arc<dyn TraderRuntime>,
    pub(crate) master_key: MasterKey,
    pub(crate) trader_env: TraderEnv,
    pub(crate) upbit: UpbitUrls,
    pub(crate) settings: Settings,
    pub(crate) hub: EventHub,
    pub(crate) limiter: LoginLimiter,
    pub(crate) locks: TraderLocks,
    pub(crate) read_cache: ReadCache,
    pub(crate) sessions: SessionCache,
    /// Bumped on every logout: live streams re-check their session.
    pub(crate) logouts: watch::Sender<u64>,
    /// Per trader, the config hash a periodic recreate last failed to reach
    /// (reported once, not every pass).
    pub(crate) recreate_failures: Mutex<HashMap<TraderId, String>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state and starts the event hub's poller (it ends when
    /// [`AppState::shutdown`] is called or the last clone is dropped).
    pub async fn new(deps: Deps) -> Result<Self, storage::StorageError> {
        let hub = EventHub::start(deps.store.clone(), deps.settings.event_poll).await?;
        Ok(Self(Arc::new(Inner {
            limiter: LoginLimiter::new(
                deps.settings.login_max_failures,
                deps.settings.login_window,
            ),
            store: deps.store,
            clock: deps.clock,
            runtime: deps.runtime,
            master_key: deps.master_key,
            trader_env: deps.trader_env,
            upbit: deps.upbit,
            settings: deps.settings,
            hub,
            locks: TraderLocks::default(),
            read_cache: ReadCache::default(),
            sessions: SessionCache::default(),
            logouts: watch::channel(0).0,
            recreate_failures: Mutex::new(HashMap::new()),
        })))
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The trader runtime.
    pub fn runtime(&self) -> &Arc<dyn TraderRuntime> {
        &self.runtime
    }

    /// Ends live event streams and the hub's poller (graceful shutdown).
    pub fn shutdown(&self) {
        self.hub.shutdown();
    }
}

/// One async mutex per trader: API operations on the same trader (database
/// transition + runtime call) run one at a time.
#[derive(Debug, Default)]
pub(crate) struct TraderLocks {
    map: Mutex<HashMap<TraderId, Arc<AsyncMutex<()>>>>,
}

impl TraderLocks {
    /// Waits for and holds the lock of `id`.
    pub(crate) async fn lock(&self, id: TraderId) -> OwnedMutexGuard<()> {
        let m = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(map.entry(id).or_default())
        };
        m.lock_owned().await
    }
}
