//! Process plumbing shared by the services, and nothing else: the injected
//! [`Clock`], the names of every environment variable, tracing setup and the
//! shutdown signal. No business logic lives here.

/// `Clock` with `SystemClock` (production) and `TestClock` (tests, replays).
pub mod clock;
/// Every environment variable name the platform reads, declared once.
pub mod env;
/// Graceful shutdown on Ctrl-C / SIGTERM.
pub mod shutdown;
/// `tracing` subscriber setup (text or JSON).
pub mod telemetry;

pub use clock::{Clock, SharedClock, SystemClock, TestClock};
