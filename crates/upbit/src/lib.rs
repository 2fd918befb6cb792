//! Upbit REST + WebSocket client: JWT signing, a per-group rate limiter, typed
//! errors with a retry class and exact amounts (`rust_decimal`).
//!
//! Layout (nautilus adapter style):
//! - [`common`]: credential + JWT, enums, base URLs, the one number/string → decimal parser.
//! - [`http`]: the transport ([`http::UpbitTransport`](http::transport::UpbitTransport): signing, rate limiting,
//!   error mapping, retries), wire models, the raw client (wire models) and the
//!   domain client ([`http::UpbitClient`](http::client::UpbitClient): our types, candle backfill).
//! - [`websocket`]: public and private streams with reconnect, resubscription
//!   and a gap signal so the caller can backfill by REST.
//! - [`model`]: the domain-facing market-data types the clients return.
//!
//! FIX-11: this crate is read-only. It knows the Quotation endpoints and the
//! balance endpoint only; order endpoints live in `crates/execution`, built on
//! the public transport and parse helpers exported here.

/// Shared building blocks: credential/JWT, enums, URLs, JSON value parsing.
pub mod common;
/// REST: transport, rate limiter, errors, wire models, raw and domain clients.
pub mod http;
/// Domain-facing market-data types (candles, tickers, order books, trades, balances).
pub mod model;
/// WebSocket streams (public quotation and private myOrder/myAsset).
pub mod websocket;

pub use common::credential::{Credential, JwtAlgorithm};
pub use common::enums::{CandleInterval, Change, MinuteUnit, StreamType};
pub use common::urls::UpbitUrls;
pub use http::client::{UpbitClient, UpbitRawClient};
pub use http::error::{ApiErrorKind, ErrorCategory, UpbitError};
pub use http::query::Params;
pub use http::rate_limit::{RateGroup, RateLimiter, RateLimits};
pub use http::transport::{ApiRequest, HttpConfig, RetryPolicy, UpbitTransport};
pub use model::{
    Balance, Candle, Instrument, MarketListing, Orderbook, OrderbookLevel, Ticker, Trade,
};
/// The injected time source the transport and WebSocket take (re-exported
/// so callers need no direct `runtime` dependency).
pub use runtime::{Clock, SharedClock, SystemClock, TestClock};
pub use websocket::client::{Gap, UpbitWebSocket, WsConfig, WsEvent, WsHandle};
pub use websocket::messages::{AssetEvent, MyOrderEvent, MyOrderState, WsMessage};
pub use websocket::subscription::{Channel, Subscription};
