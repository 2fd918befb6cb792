//! Integration tests of the orchestrator: the process backend with real child
//! processes, and the docker backend against a real Docker-API engine (podman
//! here; `DOCKER_HOST` from `scripts/ensure-deps`). Both run the crate's
//! `orchestrator-probe` binary as the trader.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers may panic on setup failure"
)]

mod docker;
mod process;
mod support;
