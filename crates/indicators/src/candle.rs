//! The OHLCV [`Candle`] every indicator reads, and the candle [`Interval`]s
//! with their Upbit (UTC-aligned) bucket boundaries.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One OHLCV candle in `f64` (indicator space; exact money lives in `domain`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candle {
    /// Open time of the candle (Upbit `candle_date_time_utc`).
    pub ts: DateTime<Utc>,
    /// First trade price.
    pub open: f64,
    /// Highest trade price.
    pub high: f64,
    /// Lowest trade price.
    pub low: f64,
    /// Last trade price.
    pub close: f64,
    /// Traded base quantity (Upbit `candle_acc_trade_volume`).
    pub volume: f64,
    /// Traded KRW turnover (Upbit `candle_acc_trade_price`).
    pub value: f64,
}

impl Candle {
    /// True when the prices can feed an indicator: all four finite and `low <= high`.
    ///
    /// Volume and value are not checked: zero volume is a real candle, and
    /// price indicators do not read them.
    pub fn is_valid(&self) -> bool {
        self.open.is_finite()
            && self.high.is_finite()
            && self.low.is_finite()
            && self.close.is_finite()
            && self.low <= self.high
    }
}

/// A candle interval. Buckets are aligned to the Unix epoch in UTC, which is
/// how Upbit aligns its candles: minutes at `:00, :05, …`, 60-minute candles
/// on the hour, 240-minute candles at 00/04/08/12/16/20 UTC and day candles
/// at 00:00 UTC (09:00 KST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Interval {
    /// 1 minute.
    M1,
    /// 5 minutes.
    M5,
    /// 15 minutes.
    M15,
    /// 1 hour (Upbit `minutes/60`).
    H1,
    /// 4 hours (Upbit `minutes/240`).
    H4,
    /// 1 day (Upbit `days`, starting 00:00 UTC).
    D1,
}

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: &'static [Self] = &[Self::M1, Self::M5, Self::M15, Self::H1, Self::H4, Self::D1];

    /// Length in minutes.
    pub const fn minutes(self) -> i64 {
        match self {
            Self::M1 => 1,
            Self::M5 => 5,
            Self::M15 => 15,
            Self::H1 => 60,
            Self::H4 => 240,
            Self::D1 => 1440,
        }
    }

    /// Length in seconds.
    pub const fn seconds(self) -> i64 {
        self.minutes() * 60
    }

    /// Length as a `chrono::Duration`.
    pub fn duration(self) -> Duration {
        Duration::minutes(self.minutes())
    }

    /// The short name: `1m`, `5m`, `15m`, `1h`, `4h`, `1d`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::M1 => "1m",
            Self::M5 => "5m",
            Self::M15 => "15m",
            Self::H1 => "1h",
            Self::H4 => "4h",
            Self::D1 => "1d",
        }
    }

    /// The open time of the bucket that contains `ts`.
    pub fn bucket_start(self, ts: DateTime<Utc>) -> DateTime<Utc> {
        let secs = self.seconds();
        let start = ts.timestamp().div_euclid(secs) * secs;
        // `start` is at most `ts`, so it is always representable.
        Utc.timestamp_opt(start, 0).single().unwrap_or(ts)
    }

    /// True when the bucket opened at `start` has ended by `now`
    /// (`start + length ≤ now`; a bucket ending past the representable range
    /// never has).
    pub fn ended_by(self, start: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        start
            .checked_add_signed(self.duration())
            .is_some_and(|end| end <= now)
    }

    /// The bucket index of `ts` (seconds since the epoch divided by the length).
    pub fn bucket_index(self, ts: DateTime<Utc>) -> i64 {
        ts.timestamp().div_euclid(self.seconds())
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An interval name that is not one of `1m 5m 15m 1h 4h 1d`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown interval {0:?}; expected one of 1m, 5m, 15m, 1h, 4h, 1d")]
pub struct ParseIntervalError(pub String);

impl FromStr for Interval {
    type Err = ParseIntervalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1m" => Ok(Self::M1),
            "5m" => Ok(Self::M5),
            "15m" => Ok(Self::M15),
            "1h" | "60m" => Ok(Self::H1),
            "4h" | "240m" => Ok(Self::H4),
            "1d" => Ok(Self::D1),
            _ => Err(ParseIntervalError(s.to_owned())),
        }
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn check(interval: Interval, ts: &str, want: &str) {
        assert_eq!(interval.bucket_start(at(ts)), at(want), "{interval} {ts}");
    }

    #[test]
    fn buckets_follow_upbit_utc_boundaries() {
        check(Interval::M1, "2025-09-01T10:07:59Z", "2025-09-01T10:07:00Z");
        check(Interval::M5, "2025-09-01T10:07:00Z", "2025-09-01T10:05:00Z");
        check(
            Interval::M15,
            "2025-09-01T10:14:59Z",
            "2025-09-01T10:00:00Z",
        );
        check(Interval::H1, "2025-09-01T10:59:00Z", "2025-09-01T10:00:00Z");
        check(Interval::H4, "2025-09-01T03:59:00Z", "2025-09-01T00:00:00Z");
        check(Interval::H4, "2025-09-01T23:00:00Z", "2025-09-01T20:00:00Z");
        check(Interval::D1, "2025-09-01T23:59:00Z", "2025-09-01T00:00:00Z");
        // Before the epoch still floors (div_euclid), not truncates toward zero.
        check(Interval::H1, "1969-12-31T23:30:00Z", "1969-12-31T23:00:00Z");
    }

    #[test]
    fn ended_by() {
        let start = at("2025-09-01T00:00:00Z");
        assert!(!Interval::H4.ended_by(start, at("2025-09-01T03:59:59Z")));
        assert!(Interval::H4.ended_by(start, at("2025-09-01T04:00:00Z")));
        let last = DateTime::<Utc>::MAX_UTC;
        assert!(
            !Interval::D1.ended_by(last, last),
            "end past the range never comes"
        );
    }

    #[test]
    fn interval_names_round_trip() {
        for i in Interval::ALL {
            assert_eq!(i.as_str().parse::<Interval>().unwrap(), *i);
            let json = serde_json::to_string(i).unwrap();
            assert_eq!(serde_json::from_str::<Interval>(&json).unwrap(), *i);
        }
        assert_eq!("240m".parse::<Interval>().unwrap(), Interval::H4);
        assert!("2h".parse::<Interval>().is_err());
        assert!(serde_json::from_str::<Interval>("\"3m\"").is_err());
    }

    #[test]
    fn validity() {
        let c = Candle {
            ts: at("2025-09-01T00:00:00Z"),
            open: 1.0,
            high: 2.0,
            low: 0.5,
            close: 1.5,
            volume: 0.0,
            value: f64::NAN,
        };
        assert!(c.is_valid(), "zero volume and unknown value are fine");
        assert!(
            !Candle {
                high: f64::NAN,
                ..c
            }
            .is_valid()
        );
        assert!(
            !Candle {
                close: f64::INFINITY,
                ..c
            }
            .is_valid()
        );
        assert!(!Candle { low: 3.0, ..c }.is_valid());
    }
}
