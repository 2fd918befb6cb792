//! REST side of the client.
//!
//! [`transport::UpbitTransport`](crate::http::transport::UpbitTransport) is the one place a request leaves the process:
//! it waits for the rate limiter, signs, sends, reads `Remaining-Req`, maps
//! errors and retries idempotent calls. [`client::UpbitRawClient`](crate::http::client::UpbitRawClient) exposes the
//! read-only endpoints as wire models; [`client::UpbitClient`](crate::http::client::UpbitClient) returns domain
//! types through [`parse`](crate::http::parse).

/// Raw (wire-model) and domain clients for the read-only endpoints.
pub mod client;
/// `UpbitError` with its retry class and `ErrorCategory`.
pub mod error;
/// Wire structs exactly as Upbit sends them.
pub mod models;
/// Wire model → domain type conversion and JSON decoding.
pub mod parse;
/// Ordered request parameters: query string, hash input and JSON body.
pub mod query;
/// Per-group local rate limiter fed by `Remaining-Req`, 429 and 418.
pub mod rate_limit;
/// Signing, rate limiting, sending, error mapping and retries.
pub mod transport;
