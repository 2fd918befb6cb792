//! A faithful Upbit simulator (`upbit-api.md` §9): the same REST paths, JWT
//! checks, JSON shapes, errors, `Remaining-Req` headers, WebSocket streams and
//! matching rules as the real exchange, over replayed real candles or a seeded
//! synthetic market. It is a real HTTP + WebSocket server; start it in-process
//! with [`Simulator::start`] or run the `upbit-sim` binary.
//!
//! It is an independent implementation of Upbit's behaviour (it does not use
//! the platform's Upbit client), so the two check each other.

/// JWT verification of Exchange requests.
pub mod auth;
/// Order books: synthetic liquidity and the merged view with client orders.
pub mod book;
/// Simulated time (real-time, accelerated or stepped).
pub mod clock;
/// Candle rows and the CSV format (replay input, generator output).
pub mod data;
/// Accounts, orders, fees and the matching engine.
pub mod engine;
/// Upbit's error envelope.
pub mod error;
/// HTTP routes: Upbit's `/v1` paths and the `/_sim` admin API.
pub mod http;
/// One market's live state: replay cursor, candles, ticker, trades, book.
pub mod market;
/// Request parameters from query strings, form and JSON bodies.
pub mod params;
/// The atomic state file (accounts, orders, own trades).
pub mod persist;
/// Rate-limit groups, `Remaining-Req`, 429 and 418.
pub mod ratelimit;
/// Deterministic bars, trade prints and their aggregation.
pub mod series;
/// Configuration, start-up and the running handle.
pub mod server;
/// The seeded synthetic market generator and its scenarios.
pub mod synthetic;
/// Candle units and UTC-aligned buckets.
pub mod units;
/// JSON shapes of responses and stream messages.
pub mod views;
/// Upbit's JSON typing: numbers, decimal strings, KST times.
pub mod wire;
/// The simulated exchange state and its stream events.
pub mod world;
/// WebSocket streams (public and private).
pub mod ws;

pub use data::CandleRow;
pub use server::{AccountSpec, Faults, MarketSource, SimConfig, SimError, SimHandle, Simulator};
pub use synthetic::{Scenario, generate};
