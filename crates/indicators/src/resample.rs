//! Aggregating candles into coarser, Upbit-aligned candles (see [`Interval`]).
//!
//! A bucket's candle is open = first open, high = max, low = min, close = last
//! close, volume and value = sums. Buckets without any input candle are not
//! emitted (Upbit emits no candle for a period without trades either), so gaps
//! stay gaps. Invalid candles (see [`Candle::is_valid`]) and repeated
//! timestamps are dropped.

use chrono::{DateTime, Utc};

use crate::{Candle, Interval};

/// Incremental resampler: push candles in time order, get each bucket once it
/// is complete.
#[derive(Debug, Clone)]
pub struct Resampler {
    to: Interval,
    current: Option<Candle>,
    last_ts: Option<DateTime<Utc>>,
    /// Candles before this instant are too late (their bucket was emitted).
    floor: Option<DateTime<Utc>>,
}

impl Resampler {
    /// A resampler into `to` buckets.
    pub fn new(to: Interval) -> Self {
        Self {
            to,
            current: None,
            last_ts: None,
            floor: None,
        }
    }

    /// The target interval.
    pub fn interval(&self) -> Interval {
        self.to
    }

    /// Adds one candle. Returns the previous bucket when `c` starts a new one.
    /// Candles that are invalid, not later than the last accepted one, or
    /// belong to an already emitted bucket are ignored.
    pub fn push(&mut self, c: &Candle) -> Option<Candle> {
        if !c.is_valid()
            || self.last_ts.is_some_and(|t| c.ts <= t)
            || self.floor.is_some_and(|t| c.ts < t)
        {
            return None;
        }
        let start = self.to.bucket_start(c.ts);
        if let Some(cur) = &mut self.current
            && cur.ts == start
        {
            cur.high = cur.high.max(c.high);
            cur.low = cur.low.min(c.low);
            cur.close = c.close;
            cur.volume += c.volume;
            cur.value += c.value;
            self.last_ts = Some(c.ts);
            return None;
        }
        self.last_ts = Some(c.ts);
        self.current.replace(Candle { ts: start, ..*c })
    }

    /// Emits the bucket in progress if it has ended by `now` (its end time is
    /// at or before `now`), so a closed bucket is available even before the
    /// next candle arrives.
    pub fn close_until(&mut self, now: DateTime<Utc>) -> Option<Candle> {
        let cur = self.current?;
        if self.to.ended_by(cur.ts, now) {
            self.current = None;
            self.floor = cur.ts.checked_add_signed(self.to.duration());
            Some(cur)
        } else {
            None
        }
    }

    /// The bucket in progress (partial), if any.
    pub fn current(&self) -> Option<&Candle> {
        self.current.as_ref()
    }

    /// Ends the stream, returning the bucket in progress (possibly partial).
    pub fn finish(&mut self) -> Option<Candle> {
        self.current.take()
    }
}

/// Resamples `candles` into `to` buckets. Input in time order is expected; an
/// unordered input is sorted (by timestamp) first. The last bucket may be
/// partial: callers that need closed candles drop those whose
/// `ts + to.duration()` is after their "now".
pub fn resample(candles: &[Candle], to: Interval) -> Vec<Candle> {
    let sorted;
    let input = if candles.is_sorted_by_key(|c| c.ts) {
        candles
    } else {
        let mut v = candles.to_vec();
        v.sort_by_key(|c| c.ts);
        sorted = v;
        &sorted
    };
    let mut r = Resampler::new(to);
    let mut out = Vec::with_capacity(input.len() / (to.minutes() as usize).max(1) + 1);
    for c in input {
        if let Some(done) = r.push(c) {
            out.push(done);
        }
    }
    out.extend(r.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn c(ts: &str, o: f64, h: f64, l: f64, cl: f64, v: f64) -> Candle {
        Candle {
            ts: at(ts),
            open: o,
            high: h,
            low: l,
            close: cl,
            volume: v,
            value: v * cl,
        }
    }

    #[test]
    fn five_minute_buckets_with_a_gap() {
        let input = [
            c("2025-09-01T00:03:00Z", 10.0, 11.0, 9.0, 10.5, 1.0),
            c("2025-09-01T00:04:00Z", 10.5, 12.0, 10.0, 11.0, 2.0),
            c("2025-09-01T00:05:00Z", 11.0, 11.5, 10.5, 11.2, 0.0),
            c("2025-09-01T00:09:00Z", 11.2, 11.3, 8.0, 9.0, 3.0),
            // 00:10–00:14 missing entirely: no bucket
            c("2025-09-01T00:15:00Z", 9.0, 9.5, 8.5, 9.2, 1.0),
        ];
        let out = resample(&input, Interval::M5);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0],
            c("2025-09-01T00:00:00Z", 10.0, 12.0, 9.0, 11.0, 3.0).with_value(32.5)
        );
        assert_eq!(
            out[1],
            c("2025-09-01T00:05:00Z", 11.0, 11.5, 8.0, 9.0, 3.0).with_value(27.0)
        );
        assert_eq!(out[2], c("2025-09-01T00:15:00Z", 9.0, 9.5, 8.5, 9.2, 1.0));
    }

    impl Candle {
        fn with_value(self, value: f64) -> Self {
            Self { value, ..self }
        }
    }

    #[test]
    fn unordered_duplicate_and_invalid_input() {
        let a = c("2025-09-01T01:00:00Z", 1.0, 2.0, 0.5, 1.5, 1.0);
        let b = c("2025-09-01T01:01:00Z", 1.5, 3.0, 1.0, 2.5, 1.0);
        let bad = Candle {
            high: f64::NAN,
            ..c("2025-09-01T01:02:00Z", 1.0, 1.0, 1.0, 1.0, 9.0)
        };
        let sorted = resample(&[a, b], Interval::H1);
        assert_eq!(resample(&[b, a], Interval::H1), sorted);
        assert_eq!(resample(&[a, a, b, bad], Interval::H1), sorted);
        assert_eq!(sorted[0].volume, 2.0);
        assert!(resample(&[], Interval::H4).is_empty());
        assert_eq!(
            resample(&[a], Interval::D1)[0].ts,
            at("2025-09-01T00:00:00Z")
        );
    }

    #[test]
    fn incremental_close_until() {
        let mut r = Resampler::new(Interval::H4);
        assert_eq!(r.interval(), Interval::H4);
        assert!(
            r.push(&c("2025-09-01T03:58:00Z", 1.0, 1.0, 1.0, 1.0, 1.0))
                .is_none()
        );
        assert!(
            r.push(&c("2025-09-01T03:59:00Z", 1.0, 2.0, 1.0, 2.0, 1.0))
                .is_none()
        );
        assert!(r.close_until(at("2025-09-01T03:59:59Z")).is_none());
        let done = r.close_until(at("2025-09-01T04:00:00Z")).unwrap();
        assert_eq!((done.ts, done.close), (at("2025-09-01T00:00:00Z"), 2.0));
        assert!(r.current().is_none());
        // A late candle for the emitted bucket is ignored.
        let late = Candle {
            ts: at("2025-09-01T03:59:30Z"),
            ..c("2025-09-01T03:59:00Z", 5.0, 5.0, 5.0, 5.0, 1.0)
        };
        assert!(r.push(&late).is_none());
        assert!(r.current().is_none());
        let next = c("2025-09-01T04:00:00Z", 3.0, 3.0, 3.0, 3.0, 1.0);
        assert!(r.push(&next).is_none());
        assert_eq!(r.finish().map(|x| x.ts), Some(next.ts));
    }
}
