//! Simulator benchmark (filled in below once the server exists).
fn main() {}
