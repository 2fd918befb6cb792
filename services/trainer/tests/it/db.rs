//! A fresh, migrated database per test on either backend, removed afterwards
//! even when the test panics. MariaDB comes from `TEST_MARIADB_URL` (default
//! `mysql://root@127.0.0.1:3306`); an unreachable server fails the test.

use std::{future::Future, path::PathBuf};

use sqlx::{Connection, Executor, MySqlConnection};
use storage::Store;

const DEFAULT_MARIADB_URL: &str = "mysql://root@127.0.0.1:3306";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    Sqlite,
    MariaDb,
}

fn mariadb_base() -> String {
    std::env::var("TEST_MARIADB_URL")
        .unwrap_or_else(|_| DEFAULT_MARIADB_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn unique_name() -> String {
    format!("trainer_it_{}", uuid::Uuid::new_v4().simple())
}

async fn admin() -> MySqlConnection {
    let base = mariadb_base();
    MySqlConnection::connect(&base).await.unwrap_or_else(|e| {
        panic!(
            "MariaDB is unreachable at {base} ({e}); start it or set TEST_MARIADB_URL \
             (the MariaDB half of the trainer suite fails rather than skips)"
        )
    })
}

/// A database URL that exists for the duration of `test`.
pub(crate) struct Scope {
    pub(crate) url: String,
    dir: Option<PathBuf>,
    name: Option<String>,
}

impl Scope {
    async fn create(backend: Db) -> Self {
        match backend {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name());
                std::fs::create_dir_all(&dir).unwrap();
                Self {
                    url: format!("sqlite://{}/trainer.db?mode=rwc", dir.display()),
                    dir: Some(dir),
                    name: None,
                }
            }
            Db::MariaDb => {
                let name = unique_name();
                admin()
                    .await
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                Self {
                    url: format!("{}/{name}", mariadb_base()),
                    dir: None,
                    name: Some(name),
                }
            }
        }
    }

    async fn drop_it(self) {
        if let Some(dir) = &self.dir {
            drop(std::fs::remove_dir_all(dir));
        }
        if let Some(name) = &self.name {
            admin()
                .await
                .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                .await
                .unwrap();
        }
    }
}

/// Runs `test` with a fresh database of `backend`, then removes it.
pub(crate) async fn with_db<F, Fut>(backend: Db, test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let scope = Scope::create(backend).await;
    let outcome = tokio::spawn(test(scope.url.clone())).await;
    scope.drop_it().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs `test` with a fresh, migrated store of `backend`.
pub(crate) async fn with_store<F, Fut>(backend: Db, test: F)
where
    F: FnOnce(Store) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_db(backend, move |url| async move {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        test(store.clone()).await;
        store.close().await;
    })
    .await;
}
