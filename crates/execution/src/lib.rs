//! Order executors: LIVE (Upbit, needs Armed) and PAPER (simulated fills). The only crate with Upbit order paths.
