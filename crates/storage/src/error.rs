//! [`StorageError`]: every way a repository call can fail, with the field or
//! column it concerns and whether retrying can help (RUN-2).

use domain::{TransitionError, ValidationError};

use crate::secrets::SecretError;

/// A storage failure.
///
/// The variants split what a caller can act on: bad input (`Invalid`, names
/// the field, nothing was written), a missing row, a conflict with existing
/// data, a refused lifecycle transition, a stored row that no longer
/// validates (`Corrupt`, names the column), schema problems, and the
/// database itself being unavailable (`Database`, see [`Self::is_retryable`]).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Bad input; nothing was written.
    #[error("invalid {}: {}", .0.field, .0.message)]
    Invalid(#[from] ValidationError),
    /// The row the call refers to does not exist.
    #[error("{entity} not found: {key}")]
    NotFound {
        /// The kind of row (`trader`, `order`, …).
        entity: &'static str,
        /// The key that was looked up.
        key: String,
    },
    /// The write conflicts with existing data (a unique key, or a row that
    /// changed since it was read). Nothing was written.
    #[error("conflict on {field}: {message}")]
    Conflict {
        /// The field (or state) in conflict, e.g. `name` or `state`.
        field: &'static str,
        /// What conflicts.
        message: String,
        /// True when the same call may succeed if repeated (a concurrent
        /// writer won a race), false when the data itself conflicts.
        retryable: bool,
    },
    /// A lifecycle transition the domain table refuses (e.g. LIVE during the
    /// STAB-4 protection period).
    #[error("transition refused: {0}")]
    Transition(#[from] TransitionError),
    /// A stored row failed validation when read: the column is named, the
    /// process does not panic.
    #[error("row of {table} has an invalid {column}: {message}")]
    Corrupt {
        /// Table read.
        table: &'static str,
        /// Column that failed.
        column: String,
        /// Why.
        message: String,
    },
    /// The database lacks migrations this build needs (run the
    /// dashboard-api, which owns migrations, first).
    #[error("database schema is behind this build; missing migrations {missing:?}")]
    SchemaBehind {
        /// Versions this build embeds that the database has not applied.
        missing: Vec<i64>,
    },
    /// An applied migration differs from this build's copy (an applied file
    /// was edited, which is forbidden), or the last one failed half-way.
    #[error("migration {version} in the database does not match this build ({reason})")]
    SchemaMismatch {
        /// The migration version.
        version: i64,
        /// What differs.
        reason: &'static str,
    },
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// `DATABASE_URL` is neither `sqlite:` nor `mysql:`/`mariadb:`. Only the
    /// scheme is kept so a password never reaches a log.
    #[error("unsupported database URL scheme {scheme:?} (expected sqlite:// or mysql://)")]
    UnsupportedUrl {
        /// The scheme that was given.
        scheme: String,
    },
    /// Encrypting or decrypting a credential failed.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The database failed (connection, I/O, lock timeout, constraint the
    /// caller could not foresee).
    #[error("database error: {source}")]
    Database {
        /// The driver's error.
        #[source]
        source: sqlx::Error,
        /// True for connection loss, pool exhaustion, deadlocks and lock
        /// timeouts: the same call may succeed later.
        retryable: bool,
    },
}

impl StorageError {
    /// True when retrying the same call may succeed (transient database
    /// trouble or a lost race), false for bad input and data conflicts.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Database { retryable, .. } | Self::Conflict { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// The input field (for `Invalid`/`Conflict`) or stored column (for
    /// `Corrupt`) the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(e) => Some(&e.field),
            Self::Conflict { field, .. } => Some(field),
            Self::Corrupt { column, .. } => Some(column),
            _ => None,
        }
    }

    /// True when the database refused a write because the table is
    /// append-only (AUD-1 trigger).
    pub fn is_append_only_violation(&self) -> bool {
        match self {
            Self::Database {
                source: sqlx::Error::Database(e),
                ..
            } => e.message().contains("append-only"),
            _ => false,
        }
    }

    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(ValidationError::new(field, message))
    }

    pub(crate) fn not_found(entity: &'static str, key: impl std::fmt::Display) -> Self {
        Self::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    pub(crate) fn corrupt(table: &'static str, column: &str, message: impl Into<String>) -> Self {
        Self::Corrupt {
            table,
            column: column.to_owned(),
            message: message.into(),
        }
    }

    /// A row changed between our read and our conditional write.
    pub(crate) fn changed_concurrently(entity: &'static str) -> Self {
        Self::Conflict {
            field: "state",
            message: format!("the {entity} changed concurrently; read it again"),
            retryable: true,
        }
    }
}

/// MariaDB error numbers after which a retry can succeed: lock wait timeout,
/// deadlock, server gone away / lost connection, too many connections.
const MYSQL_RETRYABLE: [u16; 5] = [1205, 1213, 2006, 2013, 1040];
/// SQLite primary result codes after which a retry can succeed: BUSY, LOCKED.
const SQLITE_RETRYABLE: [i64; 2] = [5, 6];

fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                return MYSQL_RETRYABLE.contains(&my.number());
            }
            db.code()
                .and_then(|c| c.parse::<i64>().ok())
                .is_some_and(|code| SQLITE_RETRYABLE.contains(&(code & 0xff)))
        }
        _ => false,
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(source: sqlx::Error) -> Self {
        let retryable = is_transient(&source);
        Self::Database { source, retryable }
    }
}

/// True for a unique-key violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Maps a unique-key violation to a non-retryable `Conflict` on `field`;
/// anything else to the usual database error.
pub(crate) fn on_unique(
    field: &'static str,
    message: String,
) -> impl FnOnce(sqlx::Error) -> StorageError {
    move |e| {
        if is_unique_violation(&e) {
            StorageError::Conflict {
                field,
                message,
                retryable: false,
            }
        } else {
            StorageError::from(e)
        }
    }
}

/// Maps a foreign-key violation (a referenced row that does not exist) to
/// `Invalid` naming `field`; anything else to the usual database error.
pub(crate) fn on_foreign_key(
    field: &'static str,
    message: String,
) -> impl FnOnce(sqlx::Error) -> StorageError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StorageError::invalid(field, message)
        }
        _ => StorageError::from(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let e = StorageError::from(sqlx::Error::PoolTimedOut);
        assert!(e.is_retryable());
        let e = StorageError::from(sqlx::Error::RowNotFound);
        assert!(!e.is_retryable());
        let e = StorageError::invalid("seed_krw", "must be positive");
        assert_eq!(e.field(), Some("seed_krw"));
        assert!(!e.is_retryable());
        assert!(StorageError::changed_concurrently("trader").is_retryable());
        let e = StorageError::corrupt("traders", "mode", "bad");
        assert_eq!(e.field(), Some("mode"));
        assert_eq!(e.to_string(), "row of traders has an invalid mode: bad");
    }
}
