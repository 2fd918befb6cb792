//! [`LoginLimiter`]: at most N failed password attempts per client within a
//! sliding window; further attempts are refused (429) before the password is
//! even checked, until the oldest failure leaves the window. A success clears
//! the client's record. Time comes from the injected clock.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, PoisonError},
};

use chrono::{DateTime, Duration, Utc};

/// Keys kept before a sweep drops the ones with no failure left in the window.
const SWEEP_ABOVE: usize = 10_000;

/// Failed-attempt counter per client key (an IP address, or `arm:<user>`).
#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl LoginLimiter {
    /// A limiter allowing `max_failures` failures per `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn prune(q: &mut VecDeque<DateTime<Utc>>, cutoff: DateTime<Utc>) {
        while q.front().is_some_and(|t| *t <= cutoff) {
            q.pop_front();
        }
    }

    /// `Err(seconds to wait)` when `key` has used up its failures.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), i64> {
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(q) = map.get_mut(key) else {
            return Ok(());
        };
        Self::prune(q, now - self.window);
        if q.len() < self.max_failures as usize {
            return Ok(());
        }
        let oldest = q.front().copied().unwrap_or(now);
        let wait = (oldest + self.window - now).num_seconds().max(1);
        Err(wait)
    }

    /// Records a failed attempt of `key`.
    pub fn fail(&self, key: &str, now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > SWEEP_ABOVE {
            let cutoff = now - self.window;
            map.retain(|_, q| {
                Self::prune(q, cutoff);
                !q.is_empty()
            });
        }
        let q = map.entry(key.to_owned()).or_default();
        Self::prune(q, now - self.window);
        q.push_back(now);
    }

    /// Forgets `key`'s failures (after a successful login).
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn failures_are_counted_in_a_sliding_window() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
        let l = LoginLimiter::new(3, Duration::seconds(60));
        // (seconds after t0, action, expected check before the action)
        let steps: &[(i64, &str, Result<(), i64>)] = &[
            (0, "fail", Ok(())),
            (10, "fail", Ok(())),
            (20, "fail", Ok(())),
            (30, "none", Err(30)),
            (59, "none", Err(1)),
            (61, "none", Ok(())),
            (61, "fail", Ok(())),
            (62, "none", Err(8)),
            (62, "reset", Err(8)),
            (62, "none", Ok(())),
        ];
        for (i, (secs, action, want)) in steps.iter().enumerate() {
            let now = t0 + Duration::seconds(*secs);
            assert_eq!(l.check("ip", now), *want, "step {i}");
            match *action {
                "fail" => l.fail("ip", now),
                "reset" => l.reset("ip"),
                _ => {}
            }
        }
        assert_eq!(l.check("other", t0), Ok(()));
    }
}
