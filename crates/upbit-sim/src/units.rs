//! Candle units and their UTC-aligned buckets (`upbit-api.md` §2.2): minute
//! buckets aligned to wall-clock UTC, days at 00:00 UTC, weeks on Monday,
//! months on the 1st, years on January 1st.

use chrono::{Datelike, NaiveDate};

use crate::wire::{DAY_MS, MINUTE_MS, Millis, utc};

/// Minute units Upbit serves (`/v1/candles/minutes/{unit}`).
pub const MINUTE_UNITS: [u32; 8] = [1, 3, 5, 10, 15, 30, 60, 240];

/// A candle unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandleUnit {
    /// One-second candles.
    Seconds,
    /// N-minute candles (N in [`MINUTE_UNITS`]).
    Minutes(u32),
    /// UTC days.
    Days,
    /// Weeks starting Monday 00:00 UTC.
    Weeks,
    /// Calendar months.
    Months,
    /// Calendar years.
    Years,
}

impl CandleUnit {
    /// `[start, end)` of the bucket containing `t`.
    pub fn bucket(self, t: Millis) -> (Millis, Millis) {
        match self {
            Self::Seconds => {
                let s = t.div_euclid(1000) * 1000;
                (s, s + 1000)
            }
            Self::Minutes(n) => {
                let len = MINUTE_MS * i64::from(n.max(1));
                let s = t.div_euclid(len) * len;
                (s, s + len)
            }
            Self::Days => {
                let s = t.div_euclid(DAY_MS) * DAY_MS;
                (s, s + DAY_MS)
            }
            Self::Weeks => {
                let d = t.div_euclid(DAY_MS);
                // 1970-01-01 was a Thursday: Monday-based weekday = (d + 3) mod 7.
                let s = (d - (d + 3).rem_euclid(7)) * DAY_MS;
                (s, s + 7 * DAY_MS)
            }
            Self::Months => {
                let dt = utc(t);
                let start = month_start(dt.year(), dt.month());
                let (ny, nm) = if dt.month() == 12 {
                    (dt.year() + 1, 1)
                } else {
                    (dt.year(), dt.month() + 1)
                };
                (start, month_start(ny, nm))
            }
            Self::Years => {
                let y = utc(t).year();
                (month_start(y, 1), month_start(y + 1, 1))
            }
        }
    }

    /// The WebSocket type suffix (`candle.1m`) for minute and second units.
    pub fn ws_name(self) -> Option<String> {
        match self {
            Self::Seconds => Some("candle.1s".to_owned()),
            Self::Minutes(n) => Some(format!("candle.{n}m")),
            _ => None,
        }
    }

    /// Parses a WebSocket candle type (`candle.1s`, `candle.5m`, …).
    pub fn from_ws_name(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("candle.")?;
        if rest == "1s" {
            return Some(Self::Seconds);
        }
        let n: u32 = rest.strip_suffix('m')?.parse().ok()?;
        MINUTE_UNITS.contains(&n).then_some(Self::Minutes(n))
    }
}

fn month_start(year: i32, month: u32) -> Millis {
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |d| d.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::candle_utc;

    fn check(unit: CandleUnit, at: &str, start: &str, end: &str) {
        let t = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .timestamp_millis();
        let (s, e) = unit.bucket(t);
        assert_eq!(
            (candle_utc(s).as_str(), candle_utc(e).as_str()),
            (start, end),
            "{unit:?} {at}"
        );
    }

    #[test]
    fn buckets() {
        let m = CandleUnit::Minutes;
        check(
            m(1),
            "2025-07-01T12:00:59.999Z",
            "2025-07-01T12:00:00",
            "2025-07-01T12:01:00",
        );
        check(
            m(5),
            "2025-07-01T12:07:00Z",
            "2025-07-01T12:05:00",
            "2025-07-01T12:10:00",
        );
        check(
            m(240),
            "2025-07-01T03:59:00Z",
            "2025-07-01T00:00:00",
            "2025-07-01T04:00:00",
        );
        check(
            CandleUnit::Days,
            "2025-07-01T23:00:00Z",
            "2025-07-01T00:00:00",
            "2025-07-02T00:00:00",
        );
        // 2025-07-03 is a Thursday; its week starts Monday 2025-06-30.
        check(
            CandleUnit::Weeks,
            "2025-07-03T10:00:00Z",
            "2025-06-30T00:00:00",
            "2025-07-07T00:00:00",
        );
        check(
            CandleUnit::Months,
            "2025-12-31T10:00:00Z",
            "2025-12-01T00:00:00",
            "2026-01-01T00:00:00",
        );
        check(
            CandleUnit::Years,
            "2025-12-31T10:00:00Z",
            "2025-01-01T00:00:00",
            "2026-01-01T00:00:00",
        );
    }

    #[test]
    fn ws_names_round_trip() {
        for unit in MINUTE_UNITS
            .iter()
            .map(|&n| CandleUnit::Minutes(n))
            .chain([CandleUnit::Seconds])
        {
            let name = unit.ws_name().unwrap();
            assert_eq!(CandleUnit::from_ws_name(&name), Some(unit));
        }
        assert_eq!(CandleUnit::from_ws_name("candle.2m"), None);
        assert_eq!(CandleUnit::from_ws_name("ticker"), None);
    }
}
