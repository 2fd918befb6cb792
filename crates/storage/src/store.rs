//! [`Store`]: the handle every service holds. Cheap to clone; opens either
//! backend from `DATABASE_URL`; hands out one repository per area.

use std::path::Path;

use crate::{
    StorageError,
    audit::{ConfigAudit, ModelTransitions, TraderTransitions},
    auth::Auth,
    credentials::Credentials,
    db::{self, Backend, Pool, on_pool},
    events::Events,
    learning::{
        BanditStates, ConfigVersions, FeatureSnapshots, ModelCandidates, ModelVersions, ScanRuns,
    },
    market_data::{Candles, CollectorHealthRepo},
    orders::{Fills, Orders},
    positions::Positions,
    regimes::Regimes,
    safety::Safety,
    signals::Signals,
    strategies::Strategies,
    traders::Traders,
    trades::{Equity, Trades},
};

/// The default embedded database of a local run: `sqlite://DIR/platform.db?mode=rwc`.
pub fn default_sqlite_url(data_dir: impl AsRef<Path>) -> String {
    format!(
        "sqlite://{}/platform.db?mode=rwc",
        data_dir.as_ref().display()
    )
}

/// A connection pool to MariaDB or SQLite plus the repositories over it.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
}

impl Store {
    /// Opens a pool for `url`: `sqlite://PATH?mode=rwc` (parent directories
    /// are created), `sqlite::memory:`, or `mysql://user:pass@host:port/db`
    /// (`mariadb://` is accepted too). Does not touch the schema.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let (pool, backend) = db::connect(url).await?;
        tracing::debug!(backend = backend.as_str(), "database pool opened");
        Ok(Self { pool, backend })
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Round-trips `SELECT 1`: the health probe behind RUN-2 ("DB
    /// unreachable: stop all new orders").
    pub async fn ping(&self) -> Result<(), StorageError> {
        on_pool!(self, |pool, _d| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection; later calls fail. Waits for in-flight queries.
    pub async fn close(&self) {
        on_pool!(self, |pool, _d| pool.close().await);
    }

    /// Traders: create, read, lifecycle transitions (audited), heartbeat, remove.
    pub fn traders(&self) -> Traders<'_> {
        Traders::new(self)
    }
    /// Strategies and their versions (STAB-4 protection per version).
    pub fn strategies(&self) -> Strategies<'_> {
        Strategies::new(self)
    }
    /// Upbit credentials, sealed with the master key.
    pub fn credentials(&self) -> Credentials<'_> {
        Credentials::new(self)
    }
    /// Admin users and login sessions.
    pub fn auth(&self) -> Auth<'_> {
        Auth::new(self)
    }
    /// Candles (batched upserts, ranges).
    pub fn candles(&self) -> Candles<'_> {
        Candles::new(self)
    }
    /// Per-market collector health.
    pub fn collector_health(&self) -> CollectorHealthRepo<'_> {
        CollectorHealthRepo::new(self)
    }
    /// Market regimes (REG-5).
    pub fn regimes(&self) -> Regimes<'_> {
        Regimes::new(self)
    }
    /// Orders (current view) and their append-only state history.
    pub fn orders(&self) -> Orders<'_> {
        Orders::new(self)
    }
    /// Fills (append-only, idempotent on the trade uuid).
    pub fn fills(&self) -> Fills<'_> {
        Fills::new(self)
    }
    /// Open positions (current view) and their append-only history.
    pub fn positions(&self) -> Positions<'_> {
        Positions::new(self)
    }
    /// Closed round trips (append-only).
    pub fn trades(&self) -> Trades<'_> {
        Trades::new(self)
    }
    /// Equity snapshots for the profit chart.
    pub fn equity(&self) -> Equity<'_> {
        Equity::new(self)
    }
    /// The action log (append-only; SSE resumes from the id).
    pub fn events(&self) -> Events<'_> {
        Events::new(self)
    }
    /// Signals with scores and reason codes (append-only, STR-6).
    pub fn signals(&self) -> Signals<'_> {
        Signals::new(self)
    }
    /// Per-trader runtime-guard state (STAB-1, RISK-6, RUN-1).
    pub fn safety(&self) -> Safety<'_> {
        Safety::new(self)
    }
    /// Model versions and their lifecycle (SPEC §7, STAB-2).
    pub fn model_versions(&self) -> ModelVersions<'_> {
        ModelVersions::new(self)
    }
    /// Tuning candidates with their gate verdicts (OPT-2, OPT-3).
    pub fn model_candidates(&self) -> ModelCandidates<'_> {
        ModelCandidates::new(self)
    }
    /// Screener passes (OPT-1).
    pub fn scan_runs(&self) -> ScanRuns<'_> {
        ScanRuns::new(self)
    }
    /// Feature snapshots and their labels (OPT-1).
    pub fn feature_snapshots(&self) -> FeatureSnapshots<'_> {
        FeatureSnapshots::new(self)
    }
    /// Thompson-sampling bandit states (OPT-4).
    pub fn bandit_states(&self) -> BanditStates<'_> {
        BanditStates::new(self)
    }
    /// Versioned operator configuration.
    pub fn config_versions(&self) -> ConfigVersions<'_> {
        ConfigVersions::new(self)
    }
    /// Config-change audit (append-only, AUD-1).
    pub fn config_audit(&self) -> ConfigAudit<'_> {
        ConfigAudit::new(self)
    }
    /// Trader lifecycle audit (append-only).
    pub fn trader_transitions(&self) -> TraderTransitions<'_> {
        TraderTransitions::new(self)
    }
    /// Model lifecycle audit (append-only).
    pub fn model_transitions(&self) -> ModelTransitions<'_> {
        ModelTransitions::new(self)
    }
}
