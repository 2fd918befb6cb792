//! The one trait every trader runtime backend implements ([`TraderRuntime`]).
//!
//! All methods are idempotent: starting a running trader, stopping a stopped
//! one or removing a missing one succeeds and changes nothing. Calls for the
//! same trader are serialised inside a backend, so two concurrent `start`s can
//! never produce two instances.

use std::fmt::Debug;

use async_trait::async_trait;
use domain::TraderId;

use crate::{
    OrchestratorError,
    spec::{DesiredTrader, ReconcileReport, RuntimeEntry, RuntimeStatus, TraderSpec},
};

/// Runs traders: one container (docker backend) or one child process (process
/// backend) per trader. Constructing a backend starts nothing (FIX-4); only
/// [`start`](Self::start) and [`reconcile`](Self::reconcile) do.
#[async_trait]
pub trait TraderRuntime: Send + Sync + Debug {
    /// `"docker"` or `"process"`, for health output and logs.
    fn kind(&self) -> &'static str;

    /// Makes sure an up-to-date instance exists without starting it (FIX-5: a
    /// trader's container appears when the trader is added). A missing instance
    /// is created; one created from another spec is replaced (which stops it).
    async fn create(&self, spec: &TraderSpec) -> Result<(), OrchestratorError>;

    /// Creates the instance if missing, recreates it if its config hash (or
    /// image/binary/environment) differs, then starts it. Idempotent.
    async fn start(&self, spec: &TraderSpec) -> Result<(), OrchestratorError>;

    /// FIX-12: stops and removes the current instance, creates a fresh one from
    /// `spec` and starts it. The old one is gone before the new one starts, so
    /// two processes never trade for the same trader.
    async fn recreate(&self, spec: &TraderSpec) -> Result<(), OrchestratorError>;

    /// Graceful stop: SIGTERM, then SIGKILL after the configured timeout. The
    /// instance stays (stopped) and its logs remain readable. Idempotent.
    async fn stop(&self, id: TraderId) -> Result<(), OrchestratorError>;

    /// Graceful stop, then deletes the instance (and its logs). Idempotent.
    async fn remove(&self, id: TraderId) -> Result<(), OrchestratorError>;

    /// The trader's state; [`RuntimeStatus::Missing`] when it has no instance.
    async fn status(&self, id: TraderId) -> Result<RuntimeStatus, OrchestratorError>;

    /// Every trader instance this runtime manages.
    async fn list(&self) -> Result<Vec<RuntimeEntry>, OrchestratorError>;

    /// The last `tail` lines of the trader's output (stdout and stderr).
    /// [`OrchestratorError::NotFound`] when it has no instance and no logs.
    async fn logs(&self, id: TraderId, tail: usize) -> Result<Vec<String>, OrchestratorError>;

    /// Makes reality match `desired` (the database, on dashboard-api start):
    /// removes instances of traders not in `desired` and duplicates; creates
    /// missing ones; recreates stale ones; starts those that should run and stops
    /// those that should not. Afterwards every desired trader has exactly one
    /// up-to-date instance and no other managed instance exists. Per-trader
    /// failures are collected in the report; `Err` only when the runtime itself
    /// cannot be queried.
    async fn reconcile(
        &self,
        desired: &[DesiredTrader],
    ) -> Result<ReconcileReport, OrchestratorError>;

    /// Called once when the service shuts down. The process backend stops every
    /// child gracefully (no orphans); the docker backend leaves containers
    /// running — they outlive the dashboard-api by design and the next
    /// `reconcile` adopts them.
    async fn shutdown(&self) -> Result<(), OrchestratorError>;
}
