//! Runs one async test body against a fresh, migrated database of either
//! backend and removes the database afterwards, even when the body panics.
//!
//! * SQLite: a file in a unique temporary directory.
//! * MariaDB: a uniquely named database on `TEST_MARIADB_URL` (default
//!   `mysql://root@127.0.0.1:3306`, a server URL without a database). An
//!   unreachable server FAILS the test with a clear message — it never skips.
//!
//! Every test runs in its own database (or file), so nextest runs them in
//! parallel. The body runs in its own task: a panic is caught, the database
//! is dropped, then the panic is re-raised. Only a killed process (e.g. a
//! nextest timeout) can leave a database behind; database names carry the
//! server's clock (`storage_it_<unix secs>_<uuid>`), and every MariaDB test
//! first drops such databases older than [`STALE_AFTER_SECS`].

use std::{future::Future, path::PathBuf};

use sqlx::{Connection, Executor, MySqlConnection, Row, SqliteConnection};
use storage::{Backend, Store};

/// Default server for the MariaDB half of the suite.
pub(crate) const DEFAULT_MARIADB_URL: &str = "mysql://root@127.0.0.1:3306";
/// Prefix of every database this suite creates.
const DB_PREFIX: &str = "storage_it_";
/// Age after which a leftover test database is certainly abandoned (no
/// test runs this long: nextest terminates slow tests after minutes).
const STALE_AFTER_SECS: i64 = 6 * 3600;

/// The database a test runs against.
pub(crate) struct TestDb {
    /// A migrated store.
    pub store: Store,
    url: String,
    backend: Backend,
    /// Extra databases created by [`TestDb::fresh_store`], dropped at the end.
    extra: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    sqlite_dir: Option<PathBuf>,
}

impl TestDb {
    /// Which backend this run uses.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool and opens a new one on the same database (DB-1).
    pub(crate) async fn reopen(&mut self) -> Store {
        self.store.close().await;
        self.store = Store::connect(&self.url).await.expect("reconnect");
        self.store.clone()
    }

    /// A store on a second, empty (never migrated) database.
    pub(crate) async fn fresh_store(&self) -> Store {
        let url = match self.backend {
            Backend::Sqlite => {
                let dir = self.sqlite_dir.as_ref().expect("sqlite dir");
                format!("sqlite://{}/fresh.db?mode=rwc", dir.display())
            }
            Backend::MariaDb => {
                let mut admin = admin_connection().await;
                let name = mariadb_name(&mut admin).await;
                admin
                    .execute(format!("CREATE DATABASE `{name}`").as_str())
                    .await
                    .expect("create database");
                let _ = admin.close().await;
                self.extra.lock().unwrap().push(name.clone());
                format!("{}/{name}", mariadb_base())
            }
        };
        Store::connect(&url).await.expect("connect fresh")
    }

    /// Executes raw SQL on a separate connection (bypassing the store's
    /// API, to prove what the database itself allows).
    pub(crate) async fn raw_exec(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await?;
                let r = c.execute(sql).await.map(|r| r.rows_affected());
                let _ = c.close().await;
                r
            }
            Backend::MariaDb => {
                let mut c = MySqlConnection::connect(&self.url).await?;
                let r = c.execute(sql).await.map(|r| r.rows_affected());
                let _ = c.close().await;
                r
            }
        }
    }

    /// The first column of the first row of a raw query, as an integer.
    pub(crate) async fn raw_i64(&self, sql: &str) -> i64 {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await.unwrap();
                let row = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
                let _ = c.close().await;
                row.get::<i64, _>(0)
            }
            Backend::MariaDb => {
                let mut c = MySqlConnection::connect(&self.url).await.unwrap();
                let row = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
                let _ = c.close().await;
                row.get::<i64, _>(0)
            }
        }
    }

    /// Number of rows in `table` (read past the store's API).
    pub(crate) async fn count(&self, table: &str) -> i64 {
        self.raw_i64(&format!("SELECT COUNT(*) FROM {table}")).await
    }

    /// The first column of every row of a raw query, as bytes.
    pub(crate) async fn raw_bytes(&self, sql: &str) -> Vec<Vec<u8>> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
                let _ = c.close().await;
                rows.iter().map(|r| r.get::<Vec<u8>, _>(0)).collect()
            }
            Backend::MariaDb => {
                let mut c = MySqlConnection::connect(&self.url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
                let _ = c.close().await;
                rows.iter()
                    .map(|r| r.get_unchecked::<Vec<u8>, _>(0))
                    .collect()
            }
        }
    }
}

fn unique_name() -> String {
    format!("{DB_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

/// The server's clock, in seconds since the epoch.
async fn server_now(admin: &mut MySqlConnection) -> i64 {
    sqlx::query("SELECT CAST(UNIX_TIMESTAMP() AS SIGNED)")
        .fetch_one(&mut *admin)
        .await
        .expect("read the server clock")
        .get::<i64, _>(0)
}

/// A new database name stamped with the server's clock.
async fn mariadb_name(admin: &mut MySqlConnection) -> String {
    format!(
        "{DB_PREFIX}{}_{}",
        server_now(admin).await,
        uuid::Uuid::new_v4().simple()
    )
}

/// The creation time stamped into a test database name, if it has one.
fn stamped_secs(name: &str) -> Option<i64> {
    name.strip_prefix(DB_PREFIX)?
        .split_once('_')?
        .0
        .parse()
        .ok()
}

/// Drops `names` while holding the server-wide DDL lock that migrations
/// hold (`storage::schema::MARIADB_DDL_LOCK`): MariaDB can otherwise leave a
/// stray trigger backup file in a database being migrated concurrently,
/// which then can never be dropped.
async fn drop_databases(admin: &mut MySqlConnection, names: &[String]) -> Result<(), sqlx::Error> {
    let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 300)")
        .bind(storage::schema::MARIADB_DDL_LOCK)
        .fetch_one(&mut *admin)
        .await?;
    assert_eq!(got, Some(1), "waited 300 s for the DDL lock");
    let mut result = Ok(());
    for name in names {
        if let Err(e) = admin
            .execute(format!("DROP DATABASE IF EXISTS `{name}`").as_str())
            .await
        {
            result = Err(e);
        }
    }
    sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(storage::schema::MARIADB_DDL_LOCK)
        .execute(&mut *admin)
        .await?;
    result
}

/// Drops test databases left behind by killed test processes.
async fn drop_stale_databases(admin: &mut MySqlConnection) {
    let now = server_now(admin).await;
    let names: Vec<String> = sqlx::query("SHOW DATABASES LIKE 'storage\\_it\\_%'")
        .fetch_all(&mut *admin)
        .await
        .expect("list test databases")
        .iter()
        .map(|r| String::from_utf8_lossy(&r.get_unchecked::<Vec<u8>, _>(0)).into_owned())
        .collect();
    let stale: Vec<String> = names
        .into_iter()
        .filter(|n| stamped_secs(n).is_some_and(|t| now - t > STALE_AFTER_SECS))
        .collect();
    if !stale.is_empty() {
        // Another process may be sweeping the same ones: IF EXISTS, and a
        // failure here is not this test's failure.
        let _ = drop_databases(admin, &stale).await;
    }
}

fn mariadb_base() -> String {
    std::env::var("TEST_MARIADB_URL")
        .unwrap_or_else(|_| DEFAULT_MARIADB_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

async fn admin_connection() -> MySqlConnection {
    let base = mariadb_base();
    match MySqlConnection::connect(&base).await {
        Ok(c) => c,
        Err(e) => panic!(
            "MariaDB is unreachable at {base} ({e}).\n\
             The MariaDB half of the storage suite FAILS rather than skips. Start MariaDB \
             (apt-get install -y mariadb-server && service mariadb start) or point \
             TEST_MARIADB_URL at a server (root-like user, no database in the URL)."
        ),
    }
}

/// Runs `test` on a fresh migrated SQLite file.
pub(crate) async fn run_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = std::env::temp_dir().join(unique_name());
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/test.db?mode=rwc", dir.display());
    let store = Store::connect(&url).await.expect("connect sqlite");
    store.migrate().await.expect("migrate sqlite");
    assert_eq!(store.backend(), Backend::Sqlite);
    let db = TestDb {
        store: store.clone(),
        url,
        backend: Backend::Sqlite,
        extra: std::sync::Arc::default(),
        sqlite_dir: Some(dir.clone()),
    };
    let outcome = tokio::spawn(test(db)).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs `test` on a fresh migrated MariaDB database, dropped afterwards
/// (also when the body panics or setup fails).
pub(crate) async fn run_mariadb<F, Fut>(test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut admin = admin_connection().await;
    drop_stale_databases(&mut admin).await;
    let name = mariadb_name(&mut admin).await;
    admin
        .execute(format!("CREATE DATABASE `{name}`").as_str())
        .await
        .expect("create test database");
    let url = format!("{}/{name}", mariadb_base());
    let extra: std::sync::Arc<std::sync::Mutex<Vec<String>>> = std::sync::Arc::default();
    let setup = async {
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        Ok::<_, storage::StorageError>(store)
    }
    .await;
    let outcome = match setup {
        Ok(store) if store.backend() == Backend::MariaDb => {
            let db = TestDb {
                store: store.clone(),
                url: url.clone(),
                backend: Backend::MariaDb,
                extra: extra.clone(),
                sqlite_dir: None,
            };
            let r = tokio::spawn(test(db)).await;
            store.close().await;
            r.map_err(tokio::task::JoinError::into_panic)
        }
        Ok(store) => Err(Box::new(format!(
            "a mysql:// URL opened a {:?} store",
            store.backend()
        )) as Box<dyn std::any::Any + Send>),
        Err(e) => {
            Err(Box::new(format!("MariaDB setup failed: {e}")) as Box<dyn std::any::Any + Send>)
        }
    };
    let mut names = vec![name];
    names.extend(extra.lock().unwrap().drain(..));
    let dropped = drop_databases(&mut admin, &names).await;
    let _ = admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    dropped.expect("drop the test databases");
}
