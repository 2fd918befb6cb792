//! Order executors: LIVE (Upbit, needs Armed) and PAPER (simulated fills). The only crate with Upbit order paths.

/// Upbit order endpoints (raw + typed client, `create_or_recover`); the only place they are named.
pub mod upbit_orders;
