//! Tidy checks: each test enforces one invariant named in `ARCHITECTURE.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers may panic on setup failure"
)]

mod boundaries;
mod conventions;
