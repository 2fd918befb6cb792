//! Integration tests of the `upbit` crate: the HTTP transport and clients
//! against an in-process server that replays recorded Upbit responses, and
//! the WebSocket client against an in-process WebSocket server. No network.

#![allow(
    clippy::unwrap_used,
    clippy::many_single_char_names,
    reason = "test helpers may panic on setup failure; short names in assertion-heavy tests"
)]

mod backfill;
mod conformance;
mod http;
mod server;
mod websocket;
