//! Integration tests of the `regime` crate: labels on real crash and calm
//! periods, property tests of `classify`, and the incremental tracker against
//! the batch computation.
#![allow(
    clippy::unwrap_used,
    clippy::float_cmp,
    reason = "test code: fail loudly, compare pinned values exactly"
)]

mod data;
mod properties;
mod real_data;
mod tracker;
