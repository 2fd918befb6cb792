//! Persistence for the platform: typed sqlx repositories over **MariaDB**
//! (the docker-compose deployment, FIX-2) and **SQLite** (the embedded
//! default for a local run and fast tests), selected by `DATABASE_URL`.
//!
//! * [`Store`] is the one handle (cheap to clone): `Store::connect(url)`,
//!   `migrate()` (dashboard-api only) / `check_schema()` (everyone else),
//!   and one repository per area (`store.traders()`, `store.orders()`, …).
//! * Every repository takes and returns domain types; bad input is refused
//!   before anything is written, with a [`StorageError::Invalid`] naming the
//!   field; a stored row that fails validation is [`StorageError::Corrupt`]
//!   naming the column. Multi-row changes are one transaction.
//! * Money is exact: `DECIMAL(40,20)` in MariaDB, the canonical decimal
//!   string in SQLite. Timestamps are UTC epoch milliseconds (`BIGINT`) in
//!   both. All SQL strings of the platform live in this crate.
//! * Signals, order events, fills, position events, trades, events, config
//!   audit and lifecycle audits are append-only (AUD-1): their repositories
//!   only insert and read, and database triggers refuse UPDATE/DELETE.
//! * Credentials are sealed with AES-256-GCM under the master key ([`secrets`]).

/// Append-only audit logs: config changes, trader and model transitions.
pub mod audit;
/// Admin users and login sessions (token hashes only).
pub mod auth;
/// Upbit credentials, sealed with the master key.
pub mod credentials;
/// Backend plumbing: pool enum, dispatch, row decoding, parameter encoding.
pub(crate) mod db;
/// `StorageError`: field-naming, retry-classified failures.
pub mod error;
/// The action log (append-only, resumable by id).
pub mod events;
/// Model versions, candidates, scan runs, feature snapshots, bandit states, config versions.
pub mod learning;
/// Candles and collector health.
pub mod market_data;
/// Orders (current view + append-only history) and fills.
pub mod orders;
/// Open position lots (current view + append-only history).
pub mod positions;
/// Market regimes (REG-5).
pub mod regimes;
/// Per-trader runtime-guard state.
pub mod safety;
/// Embedded migrations, `migrate` and `check_schema`.
pub mod schema;
/// Master key and AES-256-GCM sealing of secrets.
pub mod secrets;
/// Signals with scores and reason codes (append-only).
pub mod signals;
/// `Store`: connect, backend, repositories.
pub mod store;
/// Strategies and their versions (STAB-4 protection per version).
pub mod strategies;
/// Traders and their audited lifecycle.
pub mod traders;
/// Closed trades (append-only) and equity snapshots.
pub mod trades;

pub use db::{
    Backend,
    codec::{MONEY_MAX_INT_DIGITS, MONEY_MAX_SCALE, truncate_to_millis},
};
pub use error::StorageError;
pub use secrets::{MasterKey, SecretError};
pub use store::{Store, default_sqlite_url};

#[cfg(test)]
mod tests;
