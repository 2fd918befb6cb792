//! The upbit-sim binary: runs the Upbit simulator as an HTTP + WebSocket server.

fn main() {}
