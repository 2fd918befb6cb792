//! Integration tests of the simulator over real HTTP and WebSocket, one
//! module per area, against in-process simulators on port 0.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers may panic on setup failure"
)]

mod admin;
mod auth;
mod bad_input;
mod exchange;
mod matching;
mod persistence;
mod quotation;
mod ratelimit;
mod support;
mod websocket;
