//! Load check (placeholder until written).
fn main() {}
