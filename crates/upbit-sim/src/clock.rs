//! Simulated time: runs at real time, accelerated (`speed` × wall time), or
//! frozen (`speed = 0`) and stepped through the admin API. It only moves
//! forward: fills and orders cannot be undone.

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use runtime::{Clock, SharedClock};

#[derive(Debug, Clone, Copy)]
struct State {
    anchor_wall: DateTime<Utc>,
    anchor_sim: DateTime<Utc>,
    speed: f64,
}

/// The largest single jump of [`SimClock::step`] / [`SimClock::set`]: the
/// world replays (or generates) every minute in between, so a runaway jump
/// would stall the simulator.
pub const MAX_JUMP_DAYS: i64 = 31;

/// The highest speed (sim seconds per wall second) the clock accepts.
pub const MAX_SPEED: f64 = 100_000.0;

/// The simulator's clock, driven by an injected wall clock.
#[derive(Debug)]
pub struct SimClock {
    wall: SharedClock,
    state: Mutex<State>,
}

impl SimClock {
    /// Sim time `start` now, advancing at `speed` × the wall clock.
    pub fn new(wall: SharedClock, start: DateTime<Utc>, speed: f64) -> Self {
        let anchor_wall = wall.now();
        Self {
            wall,
            state: Mutex::new(State {
                anchor_wall,
                anchor_sim: start,
                speed: sanitize(speed),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn compute(s: &State, wall: DateTime<Utc>) -> DateTime<Utc> {
        let elapsed = (wall - s.anchor_wall).num_milliseconds().max(0);
        let sim = (elapsed as f64 * s.speed).round() as i64;
        s.anchor_sim + Duration::milliseconds(sim)
    }

    /// Re-anchors at the current instant (before changing speed or time).
    fn rebase(&self, s: &mut State) {
        let wall = self.wall.now();
        s.anchor_sim = Self::compute(s, wall);
        s.anchor_wall = wall;
    }

    /// Current sim time in ms.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// The wall clock (rate limits and delays run on it).
    pub fn wall(&self) -> &SharedClock {
        &self.wall
    }

    /// Moves sim time forward by `by` (negative steps and steps over
    /// [`MAX_JUMP_DAYS`] are refused).
    pub fn step(&self, by: Duration) -> Result<DateTime<Utc>, String> {
        if by < Duration::zero() {
            return Err("the clock only moves forward".to_owned());
        }
        if by > Duration::days(MAX_JUMP_DAYS) {
            return Err(format!(
                "the clock moves at most {MAX_JUMP_DAYS} days at a time"
            ));
        }
        let mut s = self.lock();
        self.rebase(&mut s);
        s.anchor_sim = s
            .anchor_sim
            .checked_add_signed(by)
            .ok_or_else(|| "the clock cannot move that far".to_owned())?;
        Ok(s.anchor_sim)
    }

    /// Jumps to `at`, which must not be in the past.
    pub fn set(&self, at: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        let mut s = self.lock();
        self.rebase(&mut s);
        if at < s.anchor_sim {
            return Err(format!(
                "cannot move the clock back from {} to {at}",
                s.anchor_sim
            ));
        }
        if at - s.anchor_sim > Duration::days(MAX_JUMP_DAYS) {
            return Err(format!(
                "the clock moves at most {MAX_JUMP_DAYS} days at a time (now {}, asked {at})",
                s.anchor_sim
            ));
        }
        s.anchor_sim = at;
        Ok(at)
    }

    /// Changes the speed (0 freezes; clamped to `0..=MAX_SPEED`).
    pub fn set_speed(&self, speed: f64) {
        let mut s = self.lock();
        self.rebase(&mut s);
        s.speed = sanitize(speed);
    }

    /// Current speed.
    pub fn speed(&self) -> f64 {
        self.lock().speed
    }
}

fn sanitize(speed: f64) -> f64 {
    if speed.is_finite() && speed >= 0.0 {
        speed.min(MAX_SPEED)
    } else {
        0.0
    }
}

impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        let s = *self.lock();
        Self::compute(&s, self.wall.now())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;
    use runtime::TestClock;

    use super::*;

    #[test]
    fn speed_step_and_set() {
        let w0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
        let s0 = Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap();
        let wall = TestClock::new(w0);
        let c = SimClock::new(Arc::new(wall.clone()), s0, 60.0);
        wall.advance(Duration::seconds(2));
        assert_eq!(c.now(), s0 + Duration::minutes(2));
        c.set_speed(0.0);
        wall.advance(Duration::hours(1));
        assert_eq!(c.now(), s0 + Duration::minutes(2));
        c.step(Duration::minutes(5)).unwrap();
        assert_eq!(c.now(), s0 + Duration::minutes(7));
        assert!(c.step(Duration::minutes(-1)).is_err());
        assert!(c.set(s0).is_err());
        c.set(s0 + Duration::days(1)).unwrap();
        assert_eq!(c.now_ms(), (s0 + Duration::days(1)).timestamp_millis());
        assert!(c.step(Duration::days(MAX_JUMP_DAYS + 1)).is_err());
        assert!(c.set(s0 + Duration::days(MAX_JUMP_DAYS + 2)).is_err());
        c.set_speed(f64::NAN);
        assert!(c.speed().abs() < f64::EPSILON);
        c.set_speed(1e300);
        assert!((c.speed() - MAX_SPEED).abs() < f64::EPSILON);
    }
}
