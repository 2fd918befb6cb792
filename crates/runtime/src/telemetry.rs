//! `tracing` setup for every binary: `RUST_LOG` filter (default `info`), text
//! for a terminal, JSON when `LOG_FORMAT=json` (containers).

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber. Safe to call once per process; a second
/// call is ignored.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(fmt::layer().json().with_current_span(false))
            .try_init()
    } else {
        registry.with(fmt::layer().with_target(false)).try_init()
    };
    // A second init (tests) is not an error worth surfacing.
    drop(result);
}
