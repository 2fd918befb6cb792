//! Time as an input. Logic never reads the wall clock (clippy's
//! `disallowed-methods` enforces it); it asks a [`Clock`]. Production passes
//! [`SystemClock`], tests and replays pass a [`TestClock`] they step by hand.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

/// A source of "now".
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// A clock shared across tasks.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock. The only place in the workspace allowed to read it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "SystemClock is the one sanctioned wall-clock read"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl SystemClock {
    /// A shared handle to the wall clock.
    pub fn shared() -> SharedClock {
        Arc::new(Self)
    }
}

/// A manually stepped clock for tests and replays. Clones share the same time.
#[derive(Debug, Clone)]
pub struct TestClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl TestClock {
    /// A clock frozen at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves time forward (or backward, for negative `by`).
    pub fn advance(&self, by: Duration) {
        let mut g = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *g += by;
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn test_clock_is_shared_and_steppable() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
        let c = TestClock::new(t0);
        let c2 = c.clone();
        c.advance(Duration::minutes(5));
        assert_eq!(c2.now(), t0 + Duration::minutes(5));
        c2.set(t0);
        assert_eq!(c.now(), t0);
        assert!(SystemClock.now() > t0 - Duration::days(365 * 10));
    }
}
