//! Upbit order endpoints — the only place in the workspace that names them
//! (FIX-11: `crates/upbit` is read-only and the dashboard-api cannot reach
//! this crate).
//!
//! Built on the `upbit` crate's public building blocks: the signing,
//! rate-limited transport ([`upbit::UpbitTransport`]), ordered parameters
//! ([`upbit::Params`]: one list for the JSON body and the JWT `query_hash`),
//! the number-or-string parsers and [`upbit::UpbitError`].
//!
//! - [`UpbitOrderClient`](crate::upbit_orders::UpbitOrderClient): raw (wire)
//!   and typed calls for chance, create, test create, get, cancel,
//!   open/closed/by-ids lists, cancel by ids and cancel all open orders;
//! - [`create_or_recover`](crate::upbit_orders::UpbitOrderClient::create_or_recover):
//!   a create that looks the order up by identifier before any retry, so it
//!   can never place twice;
//! - [`types`](crate::upbit_orders::types): typed orders with exact amounts.

/// The order client, its queries and `create_or_recover`.
pub mod client;
/// Wire structs of the order endpoints.
pub mod models;
/// Typed orders, fills, chance and batch-cancel results.
pub mod types;

pub use client::{
    CancelAllQuery, CancelSide, ClosedOrdersQuery, CreateOutcome, OpenOrdersQuery, OrderBy,
    OrderKey, OrderKeys, RecoverPolicy, UpbitOrderClient, order_body,
};
pub use types::{BatchCancel, OrderChance, OrderRef, OrderTrade, UpbitOrder};

#[cfg(test)]
mod tests;
