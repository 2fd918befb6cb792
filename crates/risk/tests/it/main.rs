//! Integration tests of the risk crate through its public API only: property
//! tests of sizing, approval, the runtime guard and whole sessions of
//! entries against the portfolio limits.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers may panic on setup failure"
)]

mod approval_props;
mod guard_props;
mod portfolio_props;
mod sizing_props;
mod support;
