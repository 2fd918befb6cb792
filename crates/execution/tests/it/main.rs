//! Integration tests of the `execution` crate, one module per area.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers may panic on setup failure"
)]

mod live;
mod paper;
mod upbit_orders;
