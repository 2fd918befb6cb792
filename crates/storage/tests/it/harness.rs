//! Runs one async test body against a fresh, migrated database of either
//! backend and removes the database afterwards, even when the body panics.
//!
//! * SQLite: a file in a unique temporary directory.
//! * MariaDB: a uniquely named database on `TEST_MARIADB_URL` (default
//!   `mysql://root@127.0.0.1:3306`, a server URL without a database). An
//!   unreachable server FAILS the test with a clear message — it never skips.

use std::{future::Future, path::PathBuf};

use sqlx::{Connection, Executor, MySqlConnection, Row, SqliteConnection};
use storage::{Backend, Store};

/// Default server for the MariaDB half of the suite.
pub(crate) const DEFAULT_MARIADB_URL: &str = "mysql://root@127.0.0.1:3306";

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

    /// The URL of the test database.
    pub(crate) fn url(&self) -> &str {
        &self.url
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
                let name = unique_name();
                let mut admin = admin_connection().await;
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create database");
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
                Ok(c.execute(sql).await?.rows_affected())
            }
            Backend::MariaDb => {
                let mut c = MySqlConnection::connect(&self.url).await?;
                Ok(c.execute(sql).await?.rows_affected())
            }
        }
    }

    /// The first column of every row of a raw query, as bytes.
    pub(crate) async fn raw_bytes(&self, sql: &str) -> Vec<Vec<u8>> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
                rows.iter().map(|r| r.get::<Vec<u8>, _>(0)).collect()
            }
            Backend::MariaDb => {
                let mut c = MySqlConnection::connect(&self.url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
                rows.iter()
                    .map(|r| r.get_unchecked::<Vec<u8>, _>(0))
                    .collect()
            }
        }
    }
}

fn unique_name() -> String {
    format!("storage_it_{}", uuid::Uuid::new_v4().simple())
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

/// Runs `test` on a fresh migrated MariaDB database, dropped afterwards.
pub(crate) async fn run_mariadb<F, Fut>(test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let name = unique_name();
    let mut admin = admin_connection().await;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
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
        Ok(store) => {
            assert_eq!(store.backend(), Backend::MariaDb);
            let db = TestDb {
                store: store.clone(),
                url: url.clone(),
                backend: Backend::MariaDb,
                extra: extra.clone(),
                sqlite_dir: None,
            };
            let r = tokio::spawn(test(db)).await;
            store.close().await;
            r.map_err(|e| e.into_panic())
        }
        Err(e) => {
            Err(Box::new(format!("MariaDB setup failed: {e}")) as Box<dyn std::any::Any + Send>)
        }
    };
    let mut names = vec![name];
    names.extend(extra.lock().unwrap().drain(..));
    for n in names {
        admin
            .execute(format!("DROP DATABASE IF EXISTS {n}").as_str())
            .await
            .expect("drop test database");
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
