//! Telegram notifier against a local fake of the Bot API (an HTTP server that
//! answers `sendMessage` like Telegram does, including a 429 with `retry_after`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers may panic on setup failure"
)]

mod telegram;
