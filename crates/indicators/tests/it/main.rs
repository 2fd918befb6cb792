//! Integration tests of the `indicators` crate: cross-checks against the
//! independent `kand` implementation (TA-Lib semantics) on real candles, and
//! property tests (incremental == batch, agreement with naive definitions).
#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    reason = "test code: fail loudly, compare pinned values exactly"
)]

mod data;
mod incremental;
mod kand_reference;
