//! Upbit's JSON typing rules in one place (`upbit-api.md` §1): Quotation
//! numbers ([`Num`]), Exchange decimal strings ([`DecStr`]), and the date/time
//! text formats (KST with `+09:00`, trade times with a fraction, candle times
//! without an offset).

use chrono::{DateTime, FixedOffset, Offset, Utc};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::{Serialize, Serializer};

/// Milliseconds since the Unix epoch, the simulator's internal time unit.
pub type Millis = i64;

/// A Quotation-API number: integers are written without a decimal point
/// (`148601000`), everything else as the shortest double (`0.00016823`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Num(pub Decimal);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0.normalize();
        if d.scale() == 0
            && let Some(i) = d.to_i64()
        {
            return s.serialize_i64(i);
        }
        s.serialize_f64(d.to_f64().unwrap_or(0.0))
    }
}

/// An Exchange-API decimal string: plain, no exponent, no trailing zeros
/// (`"0"`, `"5.377594"`), as in the real 2025 responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DecStr(pub Decimal);

impl Serialize for DecStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&dec_text(self.0))
    }
}

/// The plain decimal text Upbit's Exchange API uses.
pub fn dec_text(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        "0".to_owned()
    } else {
        n.to_string()
    }
}

/// Korea Standard Time (UTC+9, no daylight saving).
pub fn kst() -> FixedOffset {
    // 9 hours is always a valid offset; the fallback only keeps this total.
    FixedOffset::east_opt(9 * 3600).unwrap_or(Utc.fix())
}

/// `DateTime<Utc>` from milliseconds (clamped to chrono's range).
pub fn utc(ms: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Milliseconds of a `DateTime<Utc>`.
pub fn millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

/// Exchange `created_at`: KST, whole seconds, `+09:00`.
pub fn kst_seconds(ms: Millis) -> String {
    utc(ms)
        .with_timezone(&kst())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Trade `created_at` inside an order: KST with microseconds, `+09:00`.
pub fn kst_micros(ms: Millis) -> String {
    utc(ms)
        .with_timezone(&kst())
        .format("%Y-%m-%dT%H:%M:%S%.6f%:z")
        .to_string()
}

/// Candle `candle_date_time_utc`: no offset, no fraction.
pub fn candle_utc(ms: Millis) -> String {
    utc(ms).format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Candle `candle_date_time_kst`: KST wall time, no offset, no fraction.
pub fn candle_kst(ms: Millis) -> String {
    utc(ms)
        .with_timezone(&kst())
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Formats `ms` in UTC with a chrono pattern.
pub fn fmt_utc(ms: Millis, pattern: &str) -> String {
    utc(ms).format(pattern).to_string()
}

/// Formats `ms` in KST with a chrono pattern.
pub fn fmt_kst(ms: Millis, pattern: &str) -> String {
    utc(ms).with_timezone(&kst()).format(pattern).to_string()
}

/// Milliseconds per minute.
pub const MINUTE_MS: Millis = 60_000;
/// Milliseconds per day.
pub const DAY_MS: Millis = 86_400_000;

/// Start of the UTC day containing `ms`.
pub fn day_start(ms: Millis) -> Millis {
    ms.div_euclid(DAY_MS) * DAY_MS
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn check_num(d: Decimal, want: &str) {
        assert_eq!(serde_json::to_string(&Num(d)).unwrap(), want, "{d}");
    }

    #[test]
    fn quotation_numbers() {
        check_num(dec!(148601000), "148601000");
        check_num(dec!(148601000.0), "148601000");
        check_num(dec!(0.00016823), "0.00016823");
        check_num(dec!(-136000), "-136000");
        check_num(dec!(31615925234.05438), "31615925234.05438");
    }

    #[test]
    fn exchange_strings() {
        for (d, want) in [
            (dec!(0.0), "\"0\""),
            (dec!(5.3775940), "\"5.377594\""),
            (dec!(140070000.0), "\"140070000\""),
            (dec!(3.697095875), "\"3.697095875\""),
            (dec!(0.00000001), "\"0.00000001\""),
        ] {
            assert_eq!(serde_json::to_string(&DecStr(d)).unwrap(), want);
        }
    }

    #[test]
    fn time_formats() {
        // 2025-08-09T07:44:00.597Z
        let ms = 1_754_725_440_597;
        assert_eq!(kst_seconds(ms), "2025-08-09T16:44:00+09:00");
        assert_eq!(kst_micros(ms), "2025-08-09T16:44:00.597000+09:00");
        assert_eq!(candle_utc(ms), "2025-08-09T07:44:00");
        assert_eq!(candle_kst(ms), "2025-08-09T16:44:00");
        assert_eq!(day_start(ms) % DAY_MS, 0);
    }
}
