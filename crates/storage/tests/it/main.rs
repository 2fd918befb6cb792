//! Integration tests of the storage crate: every test body runs twice, once
//! on a fresh SQLite file and once on a fresh MariaDB database, as
//! `<area>::sqlite::<name>` and `<area>::mariadb::<name>`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers may panic on setup failure"
)]

/// Instantiates each listed `async fn name(db: TestDb)` for both backends.
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::harness::run_sqlite(super::$name).await;
                }
            )+
        }
        mod mariadb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::harness::run_mariadb(super::$name).await;
                }
            )+
        }
    };
}

mod append_only;
mod auth;
mod credentials;
mod decimals;
mod events;
mod fixtures;
mod harness;
mod learning;
mod market_data;
mod orders;
mod positions;
mod regimes;
mod safety;
mod schema;
mod signals;
mod strategies;
mod traders;
