//! Integration tests of the dashboard-api: the real router in-process (tower
//! `oneshot`) and over real HTTP, on SQLite and MariaDB, with a real process
//! runtime, the real Upbit simulator for credential checks, a real Docker API
//! (podman) for the docker runtime, and an end-to-end run of the real binaries.
//! Every answer is checked for secrets and for the error shape (support.rs).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "test code panics on setup failure and reads as one scenario per test"
)]

mod ai_mode;
mod auth;
mod credentials;
mod dashboard;
mod docker;
mod e2e;
mod failures;
mod http;
mod kill_switch;
mod openapi;
mod strategies;
mod support;
mod traders;
