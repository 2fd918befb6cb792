//! Control plane: REST + SSE for the UI, manages traders, strategies, credentials; never places orders (FIX-11).

fn main() {}
