//! The one place where Upbit's JSON values become exact Rust values.
//!
//! Quotation endpoints send prices and volumes as JSON **numbers**, Exchange
//! endpoints as decimal **strings**, and recorded fixtures sometimes quote
//! everything. Every wire struct therefore reads amounts through
//! [`decimal`](crate::common::parse::decimal)/[`opt_decimal`](crate::common::parse::opt_decimal) and integers (timestamps, `sequential_id`,
//! counts) through [`int`](crate::common::parse::int)/[`opt_int`](crate::common::parse::opt_int), which accept either form:
//!
//! - a string is parsed as exact decimal text (no float involved);
//! - an integer JSON number is taken as is;
//! - a fractional JSON number arrives from `serde_json` as an `f64`; it is
//!   converted through its **shortest round-trip text** (what the sender
//!   wrote), never `Decimal::from_f64`.
//!
//! Integers never go through `f64` unless the JSON itself was a float, and then
//! only when it is integral and below 2^53 (exact).
//!
//! Date-time helpers cover Upbit's three formats: naive UTC candle times
//! (`2025-07-01T12:00:00`), offset times (`2025-08-09T16:44:00.597751+09:00`)
//! and millisecond timestamps.

use std::{fmt, marker::PhantomData, str::FromStr};

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::ValidationError;
use rust_decimal::Decimal;
use serde::{Deserializer, de};

/// Converts a JSON float to a decimal through its shortest round-trip text.
pub fn decimal_from_f64(v: f64) -> Result<Decimal, String> {
    if !v.is_finite() {
        return Err("a decimal number must be finite".to_owned());
    }
    // `Display` for f64 prints the shortest text that parses back to the same
    // float and never uses an exponent, so this is the sender's text.
    decimal_from_str(&v.to_string())
}

/// Parses decimal text exactly (plain or scientific notation), normalised.
pub fn decimal_from_str(raw: &str) -> Result<Decimal, String> {
    domain::money::parse_decimal("value", raw).map_err(|e| e.message)
}

struct DecimalVisitor;

impl de::Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal as a JSON number or string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        decimal_from_str(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Decimal, E> {
        Decimal::try_from_i128_with_scale(v, 0).map_err(|e| E::custom(e.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Decimal, E> {
        i128::try_from(v)
            .ok()
            .and_then(|v| Decimal::try_from_i128_with_scale(v, 0).ok())
            .ok_or_else(|| E::custom("integer too large for a decimal"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        decimal_from_f64(v).map_err(E::custom)
    }
}

/// `#[serde(with = "decimal")]` for a required `Decimal` field.
pub mod decimal {
    use super::{Decimal, DecimalVisitor, Deserializer};

    /// Deserialises a decimal from a JSON number or string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

struct OptVisitor<V>(V);

impl<'de, V: de::Visitor<'de>> de::Visitor<'de> for OptVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.visit_str(v).map(Some)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.0.visit_i64(v).map(Some)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.0.visit_u64(v).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.0.visit_f64(v).map(Some)
    }
}

/// `#[serde(default, with = "opt_decimal")]` for an optional `Decimal` field
/// (absent or `null` → `None`).
pub mod opt_decimal {
    use super::{Decimal, DecimalVisitor, Deserializer, OptVisitor};

    /// Deserialises an optional decimal from a JSON number, string or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_any(OptVisitor(DecimalVisitor))
    }
}

/// Largest integer a JSON float represents exactly (2^53).
const MAX_EXACT_F64_INT: f64 = 9_007_199_254_740_992.0;

struct IntVisitor<T>(PhantomData<T>);

impl<T> de::Visitor<'_> for IntVisitor<T>
where
    T: TryFrom<u64> + TryFrom<i64> + FromStr,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer as a JSON number or string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("integer {v} out of range")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("integer {v} out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        if v.is_finite() && v.fract() == 0.0 && v.abs() <= MAX_EXACT_F64_INT {
            // Integral and exactly representable: the cast is lossless.
            let i = v as i64;
            T::try_from(i).map_err(|_| E::custom(format!("integer {i} out of range")))
        } else {
            Err(E::custom(format!("expected an exact integer, got {v}")))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.trim()
            .parse::<T>()
            .map_err(|_| E::custom(format!("expected an integer, got {v:?}")))
    }
}

/// `#[serde(with = "int")]` for a required integer (`i64`, `u64`, `u32`, …)
/// sent as a JSON number or string.
pub mod int {
    use super::{Deserializer, FromStr, IntVisitor, PhantomData};

    /// Deserialises an integer from a JSON number or string.
    pub fn deserialize<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<u64> + TryFrom<i64> + FromStr,
    {
        d.deserialize_any(IntVisitor(PhantomData))
    }
}

/// `#[serde(default, with = "opt_int")]` for an optional integer.
pub mod opt_int {
    use super::{Deserializer, FromStr, IntVisitor, OptVisitor, PhantomData};

    /// Deserialises an optional integer from a JSON number, string or null.
    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<u64> + TryFrom<i64> + FromStr,
    {
        d.deserialize_any(OptVisitor(IntVisitor(PhantomData)))
    }
}

/// A millisecond Unix timestamp as a UTC instant.
pub fn millis_to_utc(field: &str, ms: i64) -> Result<DateTime<Utc>, ValidationError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| ValidationError::new(field, format!("timestamp {ms} ms is out of range")))
}

/// A naive UTC date-time as Upbit writes candle times (`2025-07-01T12:00:00`,
/// optionally with a fraction or a trailing `Z`).
pub fn naive_utc(field: &str, raw: &str) -> Result<DateTime<Utc>, ValidationError> {
    let s = raw.strip_suffix('Z').unwrap_or(raw);
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|n| n.and_utc())
        .map_err(|_| {
            ValidationError::new(
                field,
                format!("expected a date-time like 2025-07-01T12:00:00, got {raw:?}"),
            )
        })
}

/// An RFC 3339 date-time with offset (`2025-08-09T16:44:00+09:00`, fractions
/// allowed) as a UTC instant.
pub fn offset_datetime(field: &str, raw: &str) -> Result<DateTime<Utc>, ValidationError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            ValidationError::new(
                field,
                format!(
                    "expected a date-time with offset like 2025-08-09T16:44:00+09:00, got {raw:?}"
                ),
            )
        })
}

/// Formats an instant the way candle `to` parameters want it (`…Z`, whole
/// seconds when possible).
pub fn format_utc(at: DateTime<Utc>) -> String {
    if at.timestamp_subsec_nanos() == 0 {
        at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

#[cfg(test)]
mod tests;
