//! Backend plumbing shared by every repository: the pool enum, the
//! [`on_pool!`] dispatch macro, dialect-specific SQL pairs, write
//! transactions and inserted ids.
//!
//! Each repository method is written once as a body that `on_pool!` expands
//! into one arm per backend; the compiler type-checks it against SQLite and
//! MySQL separately, so binding and decoding are exact for both. Where the
//! dialects disagree the body picks from a [`Sql2`] pair.

use std::{future::Future, path::Path, str::FromStr, time::Duration};

use sqlx::{
    Executor, Transaction,
    mysql::{MySql, MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlQueryResult},
    sqlite::{
        Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
        SqliteQueryResult, SqliteSynchronous,
    },
};

use crate::StorageError;

/// Typed parameter encoding (money, timestamps, text limits, JSON).
pub(crate) mod codec;
/// Typed, column-naming row decoding over both backends.
pub(crate) mod row;

/// Which database a [`crate::Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (local run, fast tests).
    Sqlite,
    /// MariaDB server (the docker-compose deployment, FIX-2).
    MariaDb,
}

impl Backend {
    /// `"sqlite"` or `"mariadb"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::MariaDb => "mariadb",
        }
    }
}

/// The connection pool of one backend. Cloning is cheap (pools are `Arc`s).
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    MySql(MySqlPool),
}

/// The SQL dialect of the current `on_pool!` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    MySql,
}

/// One statement in both dialects, for the few places where they differ
/// (upserts, row locks, catalog queries).
#[derive(Debug)]
pub(crate) struct Sql2 {
    pub(crate) sqlite: &'static str,
    pub(crate) mysql: &'static str,
}

impl Dialect {
    /// The statement for this dialect.
    pub(crate) const fn pick(self, sql: &Sql2) -> &'static str {
        match self {
            Self::Sqlite => sql.sqlite,
            Self::MySql => sql.mysql,
        }
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool and `$dialect` to
/// its [`Dialect`]. The body is compiled once per backend.
macro_rules! on_pool {
    ($store:expr, |$pool:ident, $dialect:ident| $body:expr) => {
        match $store.pool() {
            $crate::db::Pool::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $dialect = $crate::db::Dialect::Sqlite;
                $body
            }
            $crate::db::Pool::MySql($pool) => {
                #[allow(unused_variables)]
                let $dialect = $crate::db::Dialect::MySql;
                $body
            }
        }
    };
}
pub(crate) use on_pool;

/// Starts a write transaction. SQLite takes the write lock up front
/// (`BEGIN IMMEDIATE`) so a read-then-write transaction cannot fail with a
/// stale snapshot; MariaDB uses row locks (`FOR UPDATE`) where a read gates
/// the write.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, sqlx::Error>> + Send + '_;
}

impl BeginWrite for SqlitePool {
    type Db = Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Sqlite>, sqlx::Error>> + Send + '_ {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for MySqlPool {
    type Db = MySql;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, MySql>, sqlx::Error>> + Send + '_ {
        self.begin()
    }
}

/// The auto-increment id of the row an `INSERT` created.
pub(crate) trait InsertedId {
    fn inserted_id(&self) -> i64;
}

impl InsertedId for SqliteQueryResult {
    fn inserted_id(&self) -> i64 {
        self.last_insert_rowid()
    }
}

impl InsertedId for MySqlQueryResult {
    fn inserted_id(&self) -> i64 {
        // Ids are BIGINT (signed); a value beyond i64 is impossible, and 0
        // would fail the positive-id check of the typed id that wraps it.
        i64::try_from(self.last_insert_id()).unwrap_or(0)
    }
}

/// Connections per pool. Several processes (dashboard-api, traders,
/// trainer) share one database, so each stays modest.
const MAX_CONNECTIONS: u32 = 8;
/// How long a caller waits for a free connection before a retryable error.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long SQLite waits on another writer's lock before `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a pool for `url` (`sqlite:…` or `mysql:…`/`mariadb:…`).
pub(crate) async fn connect(url: &str) -> Result<(Pool, Backend), StorageError> {
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    match scheme {
        "sqlite" => {
            let opts = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let filename = opts.get_filename();
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory
                && let Some(parent) = filename.parent().filter(|p| !p.as_os_str().is_empty())
            {
                create_dir(parent)?;
            }
            let pool_opts = if in_memory {
                // Every connection to `:memory:` is a separate database: keep exactly one, forever.
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS)
            };
            let pool = pool_opts
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(opts)
                .await?;
            Ok((Pool::Sqlite(pool), Backend::Sqlite))
        }
        "mysql" | "mariadb" => {
            let normalized = url.replacen("mariadb:", "mysql:", 1);
            let opts = MySqlConnectOptions::from_str(&normalized)?;
            let pool = MySqlPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // Refuse out-of-range or over-long values instead of
                        // clamping them, for every table engine.
                        conn.execute(
                            "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect_with(opts)
                .await?;
            Ok((Pool::MySql(pool), Backend::MariaDb))
        }
        other => Err(StorageError::UnsupportedUrl {
            scheme: other.to_owned(),
        }),
    }
}

fn create_dir(dir: &Path) -> Result<(), StorageError> {
    std::fs::create_dir_all(dir).map_err(|e| StorageError::from(sqlx::Error::Io(e)))
}

/// Declares a closed text enum stored as its wire string: `as_str`, `ALL`,
/// `parse(field, raw)` naming the field, `Display`, `FromStr` and serde.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored/wire string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }

            /// Parses the wire string, naming `field` on error.
            pub fn parse(field: &str, raw: &str) -> Result<Self, ::domain::ValidationError> {
                match raw {
                    $($wire => Ok(Self::$variant),)+
                    _ => Err(::domain::ValidationError::new(
                        field,
                        format!("unknown value {raw:?}; expected one of {}", [$($wire),+].join(", ")),
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::domain::ValidationError;
            fn from_str(s: &str) -> Result<Self, ::domain::ValidationError> {
                Self::parse($field, s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <String as ::serde::Deserialize>::deserialize(d)?;
                Self::parse($field, &raw).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
    };
}
pub(crate) use text_enum;

/// Reads `COUNT(*) AS n` from a row.
pub(crate) fn count<R: row::RowExt>(row: &R) -> Result<i64, StorageError> {
    row::Cols::new(row, "count").i64("n")
}
