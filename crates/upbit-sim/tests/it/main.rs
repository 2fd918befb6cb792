//! Integration tests of the simulator over real HTTP and WebSocket, one
//! module per area, against in-process simulators on port 0.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers may panic on setup failure"
)]

mod quotation;
mod support;
