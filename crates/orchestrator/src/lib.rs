//! Trader runtimes behind one trait: Docker Engine API (bollard) and local child
//! processes.
//!
//! The dashboard-api owns one [`TraderRuntime`] and drives it from the
//! database: [`TraderRuntime::reconcile`] on start, then `create` / `start` /
//! `recreate` (FIX-12: a strategy change reaches a trader only through a new
//! instance) / `stop` / `remove` as the operator acts. Two backends:
//!
//! - [`DockerRuntime`]: one labelled container per trader (Docker or podman's
//!   Docker-compatible API; `DOCKER_HOST`).
//! - [`ProcessRuntime`]: one supervised child process per trader (the embedded
//!   default for a local run).
//!
//! Constructing either starts nothing (FIX-4). A [`TraderSpec`]'s environment
//! may carry secrets; it is never logged and its `Debug` is redacted.

/// The Docker Engine API backend.
pub mod docker;
/// Error type with retry classification.
pub mod error;
/// Per-trader async locks.
mod locks;
/// The child-process backend.
pub mod process;
/// Shared reconcile planning and execution.
mod reconcile;
/// Specs, statuses and reports.
pub mod spec;
/// The [`TraderRuntime`] trait.
pub mod trader_runtime;

use std::sync::Arc;

pub use docker::{DockerConfig, DockerRuntime};
pub use error::OrchestratorError;
pub use process::{ProcessConfig, ProcessRuntime};
pub use spec::{
    DesiredTrader, ReconcileFailure, ReconcileReport, RemovalReason, RemovedInstance, RuntimeEntry,
    RuntimeStatus, TraderSpec,
};
pub use trader_runtime::TraderRuntime;

/// Which backend to build, with its settings (from `TRADER_RUNTIME` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeConfig {
    /// `TRADER_RUNTIME=docker`.
    Docker(DockerConfig),
    /// `TRADER_RUNTIME=process`.
    Process(ProcessConfig),
}

/// Builds the configured backend. Starts nothing and contacts nothing.
pub fn build(
    cfg: RuntimeConfig,
    clock: runtime::SharedClock,
) -> Result<Arc<dyn TraderRuntime>, OrchestratorError> {
    Ok(match cfg {
        RuntimeConfig::Docker(c) => Arc::new(DockerRuntime::connect(c)?),
        RuntimeConfig::Process(c) => Arc::new(ProcessRuntime::new(c, clock)?),
    })
}
