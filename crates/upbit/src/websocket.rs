//! WebSocket streams.
//!
//! [`client::UpbitWebSocket::spawn`](crate::websocket::client::UpbitWebSocket::spawn) runs one connection in a task and hands the
//! caller a channel of [`client::WsEvent`](crate::websocket::client::WsEvent)s: typed messages, plus a
//! `Reconnected` event carrying the [`client::Gap`](crate::websocket::client::Gap) during which nothing was
//! received, so the caller can backfill by REST.

/// Connection task: keep-alive, reconnect with resubscription, events.
pub mod client;
/// Incoming message wire structs and their typed form.
pub mod messages;
/// Subscription request (ticket / types / format) builder.
pub mod subscription;
