//! Trainer: market-data collector, regime writer, tuning, bandit, drift and rollback.

fn main() {}
