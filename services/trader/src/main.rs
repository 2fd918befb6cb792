//! One trader process: screener, regime, score, risk, execute, positions.

fn main() {}
