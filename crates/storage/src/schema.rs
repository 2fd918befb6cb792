//! Migrations: `migrations/sqlite` and `migrations/mysql` embedded at compile
//! time, forward-only, with the same version numbers in both dialects.
//! Only the dashboard-api calls [`Store::migrate`]; every other service calls
//! [`Store::check_schema`] and refuses to start when the database is behind.
//!
//! On MariaDB, migrations run while holding the server-wide named lock
//! [`MARIADB_DDL_LOCK`]. MariaDB 10.11 can leave a stray `<table>.TRG-`
//! backup file behind when `CREATE TRIGGER` (migration 6) runs while another
//! session executes `DROP DATABASE` on the same server; that database can
//! then never be dropped. Anything that drops databases on a shared server
//! (the test harnesses) takes the same lock around `DROP DATABASE`.

use sqlx::migrate::Migrator;

use crate::{
    StorageError, Store,
    db::{Pool, Sql2, on_pool, row::Cols},
};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static MYSQL: Migrator = sqlx::migrate!("../../migrations/mysql");

const MIGRATIONS_TABLE_EXISTS: Sql2 = Sql2 {
    sqlite: "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    mysql: "SELECT COUNT(*) AS n FROM information_schema.tables \
            WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'",
};
const APPLIED_MIGRATIONS: &str =
    "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version";

/// The server-wide MariaDB lock (`GET_LOCK`) held while migrations run, and
/// by test harnesses around `DROP DATABASE` (see the module docs).
pub const MARIADB_DDL_LOCK: &str = "upbit_platform_ddl";
/// How long [`Store::migrate`] waits for [`MARIADB_DDL_LOCK`].
const DDL_LOCK_WAIT_SECS: i64 = 300;

/// One migration applied to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Version number (`0001_…` → 1).
    pub version: i64,
    /// Whether it completed.
    pub success: bool,
    checksum: Vec<u8>,
}

impl Store {
    fn migrator(&self) -> &'static Migrator {
        match self.backend() {
            crate::Backend::Sqlite => &SQLITE,
            crate::Backend::MariaDb => &MYSQL,
        }
    }

    /// The newest migration version this build embeds.
    pub fn expected_schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Applies every pending migration. Applying twice is a no-op. An
    /// applied file that was edited afterwards is refused (checksum). On
    /// MariaDB it holds [`MARIADB_DDL_LOCK`] meanwhile (a retryable
    /// `Conflict` on `schema` after waiting 300 s for it).
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let migrator = self.migrator();
        match self.pool() {
            Pool::Sqlite(pool) => migrator.run(pool).await?,
            Pool::MySql(pool) => {
                // The lock lives on a connection of its own, closed
                // afterwards, so it is released whatever happens; the
                // migrator uses the pool as usual.
                let mut conn = pool.acquire().await?.detach();
                let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
                    .bind(MARIADB_DDL_LOCK)
                    .bind(DDL_LOCK_WAIT_SECS)
                    .fetch_one(&mut conn)
                    .await?;
                if got != Some(1) {
                    return Err(StorageError::Conflict {
                        field: "schema",
                        message: format!(
                            "another session held the migration lock {MARIADB_DDL_LOCK:?} \
                             for {DDL_LOCK_WAIT_SECS} s"
                        ),
                        retryable: true,
                    });
                }
                let result = migrator.run(pool).await;
                let _ = sqlx::Connection::close(conn).await;
                result?;
            }
        }
        tracing::info!(
            backend = self.backend().as_str(),
            version = self.expected_schema_version(),
            "database schema is up to date"
        );
        Ok(())
    }

    /// The migrations recorded in the database (empty for a fresh database).
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StorageError> {
        on_pool!(self, |pool, d| {
            let row = sqlx::query(d.pick(&MIGRATIONS_TABLE_EXISTS))
                .fetch_one(pool)
                .await?;
            if Cols::new(&row, "information_schema").i64("n")? == 0 {
                return Ok(Vec::new());
            }
            let rows = sqlx::query(APPLIED_MIGRATIONS).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    let c = Cols::new(r, "_sqlx_migrations");
                    Ok(AppliedMigration {
                        version: c.i64("version")?,
                        success: c.bool("success")?,
                        checksum: c.bytes("checksum")?,
                    })
                })
                .collect()
        })
    }

    /// Errors unless every migration this build embeds is applied, complete
    /// and unedited. A database *ahead* of this build (newer migrations) is
    /// accepted with a warning: migrations are additive.
    pub async fn check_schema(&self) -> Result<(), StorageError> {
        let applied = self.applied_migrations().await?;
        let mut missing = Vec::new();
        for m in self.migrator().iter() {
            if m.migration_type.is_down_migration() {
                continue;
            }
            match applied.iter().find(|a| a.version == m.version) {
                None => missing.push(m.version),
                Some(a) if !a.success => {
                    return Err(StorageError::SchemaMismatch {
                        version: m.version,
                        reason: "it failed part-way",
                    });
                }
                Some(a) if a.checksum != *m.checksum => {
                    return Err(StorageError::SchemaMismatch {
                        version: m.version,
                        reason: "checksum differs: an applied file was edited",
                    });
                }
                Some(_) => {}
            }
        }
        if !missing.is_empty() {
            return Err(StorageError::SchemaBehind { missing });
        }
        let expected = self.expected_schema_version();
        if let Some(newest) = applied.iter().map(|a| a.version).max()
            && newest > expected
        {
            tracing::warn!(
                newest,
                expected,
                "database schema is ahead of this build; continuing"
            );
        }
        Ok(())
    }
}
