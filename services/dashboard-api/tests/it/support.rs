//! The test harness: a real database of either backend (SQLite file in a temp
//! dir, or a fresh MariaDB database on `TEST_MARIADB_URL` that is dropped
//! afterwards), the real router over a real process runtime, a `TestClock`,
//! and a request helper that checks EVERY answer for secrets (the admin
//! password, credential secret keys, the master key) and for the contract's
//! error shape.

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Body};
use chrono::{DateTime, TimeZone, Utc};
use dashboard_api::{AppState, Deps, Settings, TraderEnv, auth, bootstrap};
use http::{HeaderMap, Method, Request, StatusCode, header};
use orchestrator::{ProcessConfig, ProcessRuntime, TraderRuntime};
use runtime::TestClock;
use serde_json::Value;
use sqlx::{Connection, Executor, MySqlConnection};
use storage::{MasterKey, Store};
use tower::ServiceExt;
use upbit::UpbitUrls;

/// Default server for the MariaDB half.
const DEFAULT_MARIADB_URL: &str = "mysql://root@127.0.0.1:3306";
/// The admin password of every test app.
pub(crate) const PASSWORD: &str = "test-admin-password-7f3a";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    Sqlite,
    MariaDb,
}

/// Runs a scenario on both backends as two tests.
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::support::Db::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                super::$name(crate::support::Db::MariaDb).await;
            }
        }
    };
}
pub(crate) use both;

fn mariadb_base() -> String {
    std::env::var("TEST_MARIADB_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_MARIADB_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        uuid_like()
    )
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut r = rand::thread_rng();
    (0..6)
        .map(|_| char::from(b'a' + r.gen_range(0..26)))
        .collect()
}

/// A database that removes itself.
pub(crate) struct TestDb {
    pub(crate) url: String,
    pub(crate) dir: tempfile::TempDir,
    mariadb: Option<String>,
}

impl TestDb {
    pub(crate) async fn new(db: Db) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match db {
            Db::Sqlite => Self {
                url: format!("sqlite://{}/api.db?mode=rwc", dir.path().display()),
                dir,
                mariadb: None,
            },
            Db::MariaDb => {
                let name = unique("api_it");
                let base = mariadb_base();
                let mut admin = MySqlConnection::connect(&base).await.unwrap_or_else(|e| {
                    panic!(
                        "MariaDB at {base} is not reachable ({e}); start it (scripts/ensure-deps) \
                         or set TEST_MARIADB_URL — the MariaDB tests never skip"
                    )
                });
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create database");
                Self {
                    url: format!("{base}/{name}"),
                    dir,
                    mariadb: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.mariadb.take() {
            let base = mariadb_base();
            // Drop runs inside the test's runtime: use a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(mut c) = MySqlConnection::connect(&base).await {
                        let _ = c
                            .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A stand-in trader for the in-process API tests: any process that runs
/// until it is stopped. (The real trader binary runs in the end-to-end test.)
pub(crate) fn sleeper() -> ProcessConfig {
    let bin = ["/usr/bin/sleep", "/bin/sleep"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("sleep(1) exists");
    let mut cfg = ProcessConfig::new(bin, PathBuf::new());
    cfg.args = vec!["3600".to_owned()];
    cfg.stop_timeout = Duration::from_secs(3);
    cfg
}

/// Options of a test app.
pub(crate) struct Options {
    pub(crate) upbit: UpbitUrls,
    pub(crate) settings: Settings,
    /// Another runtime than the default process runtime (docker tests).
    pub(crate) runtime: Option<Arc<dyn TraderRuntime>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            // Nothing listens on port 9 (discard): "unreachable" exchange.
            upbit: UpbitUrls::new("http://127.0.0.1:9", "ws://127.0.0.1:9/websocket/v1")
                .expect("urls"),
            settings: Settings {
                event_poll: Duration::from_millis(50),
                credential_check_timeout: Duration::from_secs(2),
                ..Settings::default()
            },
            runtime: None,
        }
    }
}

/// The app under test.
pub(crate) struct TestApp {
    pub(crate) router: Router,
    pub(crate) state: AppState,
    pub(crate) store: Store,
    pub(crate) clock: TestClock,
    pub(crate) runtime: Arc<ProcessRuntime>,
    pub(crate) master_key: MasterKey,
    pub(crate) trader_env: TraderEnv,
    /// Strings that must never appear in an answer.
    secrets: Arc<Mutex<Vec<String>>>,
    /// Dropped last: removes the database.
    _db: TestDb,
}

/// The fixed start of the test clock.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("t0")
}

impl TestApp {
    pub(crate) async fn new(db: Db) -> Self {
        Self::with(db, Options::default()).await
    }

    pub(crate) async fn with(db_kind: Db, opts: Options) -> Self {
        let db = TestDb::new(db_kind).await;
        let store = Store::connect(&db.url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let clock = TestClock::new(t0());
        bootstrap::seed_strategies(&store, t0())
            .await
            .expect("seed");
        let setup = auth::ensure_admin(&store, Some(PASSWORD), t0())
            .await
            .expect("admin");
        assert_eq!(setup, auth::AdminSetup::FromEnv);
        let mut pcfg = sleeper();
        pcfg.data_dir = db.dir.path().join("data");
        let runtime =
            Arc::new(ProcessRuntime::new(pcfg, Arc::new(clock.clone())).expect("process runtime"));
        let key = MasterKey::generate();
        let key_b64 = key.to_base64().expose().to_owned();
        let mut env = std::collections::BTreeMap::new();
        env.insert("DATABASE_URL".to_owned(), db.url.clone());
        env.insert("MASTER_KEY".to_owned(), key_b64.clone());
        let state = AppState::new(Deps {
            store: store.clone(),
            clock: Arc::new(clock.clone()),
            runtime: opts
                .runtime
                .unwrap_or_else(|| Arc::clone(&runtime) as Arc<dyn TraderRuntime>),
            master_key: key.clone(),
            trader_env: TraderEnv(env.clone()),
            upbit: opts.upbit,
            settings: opts.settings,
        })
        .await
        .expect("state");
        let router = dashboard_api::app(state.clone(), None);
        Self {
            router,
            state,
            store,
            clock,
            runtime,
            master_key: key,
            trader_env: TraderEnv(env),
            secrets: Arc::new(Mutex::new(vec![PASSWORD.to_owned(), key_b64])),
            _db: db,
        }
    }

    /// Registers a string no answer may contain.
    pub(crate) fn secret(&self, s: &str) {
        self.secrets.lock().unwrap().push(s.to_owned());
    }

    /// A request builder without a session.
    pub(crate) fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            method,
            path: path.to_owned(),
            body: None,
            raw: None,
            headers: HeaderMap::new(),
        }
    }

    /// Logs in as the admin.
    pub(crate) async fn login(&self) -> Session {
        let r = self
            .req(Method::POST, "/api/v1/auth/login")
            .json(serde_json::json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let cookie = r
            .headers
            .get(header::SET_COOKIE)
            .expect("set-cookie")
            .to_str()
            .unwrap()
            .to_owned();
        let token = cookie
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("session=")
            .to_owned();
        Session {
            cookie: format!("session={token}"),
            csrf: r.json["csrf_token"].as_str().unwrap().to_owned(),
            set_cookie: cookie,
        }
    }

    /// Stops every trader process of this test.
    pub(crate) async fn shutdown(&self) {
        self.state.shutdown();
        self.runtime.shutdown().await.expect("runtime shutdown");
        self.state
            .runtime()
            .shutdown()
            .await
            .expect("runtime shutdown");
    }
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
    pub(crate) set_cookie: String,
}

/// A request being built.
pub(crate) struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    body: Option<Value>,
    raw: Option<(String, &'static str)>,
    headers: HeaderMap,
}

impl Req<'_> {
    pub(crate) fn json(mut self, v: Value) -> Self {
        self.body = Some(v);
        self
    }

    /// A raw body with a content type (for malformed bodies).
    pub(crate) fn raw(mut self, body: &str, content_type: &'static str) -> Self {
        self.raw = Some((body.to_owned(), content_type));
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.insert(name, value.parse().unwrap());
        self
    }

    /// With the session cookie and (for non-GET) its CSRF token.
    pub(crate) fn auth(mut self, s: &Session) -> Self {
        self.headers
            .insert(header::COOKIE, s.cookie.parse().unwrap());
        if self.method != Method::GET {
            self.headers.insert("x-csrf-token", s.csrf.parse().unwrap());
        }
        self
    }

    /// Cookie only (no CSRF header).
    pub(crate) fn cookie_only(mut self, s: &Session) -> Self {
        self.headers
            .insert(header::COOKIE, s.cookie.parse().unwrap());
        self
    }

    pub(crate) async fn send(self) -> Resp {
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(&self.path);
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        let req = if let Some((raw, ct)) = self.raw {
            b.header(header::CONTENT_TYPE, ct).body(Body::from(raw))
        } else if let Some(v) = self.body {
            b.header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&v).unwrap()))
        } else {
            b.body(Body::empty())
        }
        .unwrap();
        let res = self.app.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let resp = Resp {
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            status,
            headers,
            text,
        };
        self.app.check(&self.method, &self.path, &resp);
        resp
    }
}

impl TestApp {
    /// Every answer: no secret anywhere, errors in the contract's shape.
    fn check(&self, method: &Method, path: &str, r: &Resp) {
        for s in self.secrets.lock().unwrap().iter() {
            assert!(
                !r.text.contains(s.as_str()),
                "{method} {path} answered a secret in its body: {}",
                r.text
            );
            for (name, v) in &r.headers {
                let v = v.to_str().unwrap_or_default();
                assert!(
                    !v.contains(s.as_str()),
                    "{method} {path} answered a secret in header {name}"
                );
            }
        }
        // `/health` answers its own shape, also when degraded.
        if (r.status.is_client_error() || r.status.is_server_error())
            && path.starts_with("/api/")
            && path != "/api/v1/health"
        {
            let e = &r.json["error"];
            assert!(
                e["code"].is_string() && e["message"].is_string(),
                "{method} {path} {}: error body not in the contract's shape: {}",
                r.status,
                r.text
            );
            if r.status == StatusCode::UNPROCESSABLE_ENTITY {
                assert!(e["field"].is_string(), "422 without field: {}", r.text);
                assert_eq!(e["code"], "validation_error");
            }
        }
    }
}

/// An answer.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

impl Resp {
    /// Asserts the status and returns self.
    #[track_caller]
    pub(crate) fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }

    /// Asserts an error answer: status, code and (for 422) the field.
    #[track_caller]
    pub(crate) fn expect_error(self, status: StatusCode, code: &str, field: Option<&str>) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.json["error"]["code"], code, "body: {}", self.text);
        if let Some(f) = field {
            assert_eq!(self.json["error"]["field"], f, "body: {}", self.text);
        }
        self
    }
}

/// Polls `f` every 50 ms until it returns `Some`, or panics after `timeout`.
pub(crate) async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// True when `pid` exists and is not a zombie.
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X")
    })
}
