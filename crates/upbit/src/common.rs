//! Building blocks shared by the REST and WebSocket clients (and by the order
//! client in `crates/execution`): credential + JWT, wire enums, base URLs and
//! the JSON value parsers.

/// Access key + secret, JWT (HS256/HS512) with `query_hash`; redacted `Debug`.
pub mod credential;
/// Upbit enums: candle intervals, price change direction, stream type.
pub mod enums;
/// Number-or-string → `Decimal`/integer, and Upbit's date-time formats.
pub mod parse;
/// Configurable REST and WebSocket base URLs.
pub mod urls;
