//! Parameter encoding, identical for both backends: money as the canonical
//! decimal string (MariaDB converts it to `DECIMAL(40,20)` exactly, SQLite
//! keeps the text), timestamps as epoch milliseconds, bounded text, finite
//! floats, JSON text. Every check names the input field, so a bad value is
//! refused before anything is written.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use domain::ValidationError;

/// Fractional digits a money column holds (`DECIMAL(40,20)`).
pub const MONEY_MAX_SCALE: u32 = 20;
/// Integer digits a money column holds (`DECIMAL(40,20)`).
pub const MONEY_MAX_INT_DIGITS: usize = 20;
/// The largest page a list call returns.
pub(crate) const MAX_PAGE: u32 = 10_000;

/// Encodes an exact decimal for a money column. Values that the MariaDB
/// column could not hold exactly (more than 20 decimal places or 20 integer
/// digits) are refused rather than rounded, on both backends.
pub(crate) fn money(field: &str, d: Decimal) -> Result<String, ValidationError> {
    let d = d.normalize();
    if d.is_zero() {
        return Ok("0".to_owned());
    }
    if d.scale() > MONEY_MAX_SCALE {
        return Err(ValidationError::new(
            field,
            format!("has more than {MONEY_MAX_SCALE} decimal places: {d}"),
        ));
    }
    if d.trunc().abs().to_string().len() > MONEY_MAX_INT_DIGITS {
        return Err(ValidationError::new(
            field,
            format!("has more than {MONEY_MAX_INT_DIGITS} integer digits: {d}"),
        ));
    }
    Ok(d.to_string())
}

/// [`money`] for an optional value.
pub(crate) fn opt_money(
    field: &str,
    d: Option<Decimal>,
) -> Result<Option<String>, ValidationError> {
    d.map(|d| money(field, d)).transpose()
}

/// Parses a stored money value exactly. MariaDB returns `DECIMAL(40,20)` with
/// all 20 places (`5.00000000000000000000`); trailing zeros are dropped first
/// so the value fits `Decimal`'s 28 digits.
pub(crate) fn parse_money(raw: &str) -> Result<Decimal, String> {
    let raw = raw.trim();
    let trimmed = if raw.contains('.') {
        raw.trim_end_matches('0').trim_end_matches('.')
    } else {
        raw
    };
    Decimal::from_str_exact(trimmed)
        .map(|d| d.normalize())
        .map_err(|e| format!("not an exact decimal ({e}): {raw:?}"))
}

/// Epoch milliseconds (UTC) of `t`; sub-millisecond digits are dropped.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The instant `ms` milliseconds after the epoch, if representable.
pub(crate) fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// `t` truncated to whole milliseconds: exactly what a stored timestamp
/// reads back as, on both backends.
pub fn truncate_to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    from_ms(ms(t)).unwrap_or(t)
}

/// A short label/name: trimmed, non-empty, at most `max` characters, no
/// control characters. Returns the accepted text.
pub(crate) fn name<'a>(field: &str, raw: &'a str, max: usize) -> Result<&'a str, ValidationError> {
    if raw.trim() != raw {
        return Err(ValidationError::new(
            field,
            "must not start or end with whitespace",
        ));
    }
    if raw.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if raw.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(raw)
}

/// Free text (messages): at most `max` characters, anything printable or not.
pub(crate) fn text<'a>(field: &str, raw: &'a str, max: usize) -> Result<&'a str, ValidationError> {
    if raw.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(raw)
}

/// Text from outside we must keep but may shorten (exchange error messages).
pub(crate) fn clip(raw: &str, max: usize) -> String {
    raw.chars().take(max).collect()
}

/// A float that must be finite (SQLite turns NaN into NULL, MariaDB refuses it).
pub(crate) fn finite(field: &str, v: f64) -> Result<f64, ValidationError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ValidationError::new(
            field,
            format!("must be a finite number, got {v}"),
        ))
    }
}

/// [`finite`] for an optional value.
pub(crate) fn opt_finite(field: &str, v: Option<f64>) -> Result<Option<f64>, ValidationError> {
    v.map(|v| finite(field, v)).transpose()
}

/// JSON text of a serialisable value.
pub(crate) fn json<T: Serialize + ?Sized>(field: &str, v: &T) -> Result<String, ValidationError> {
    serde_json::to_string(v)
        .map_err(|e| ValidationError::new(field, format!("cannot be encoded as JSON: {e}")))
}

/// A list page size, clamped to `1..=MAX_PAGE`.
pub(crate) fn page(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_PAGE))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn check(value: Decimal, want: Result<&str, &str>) {
        let got = money("price", value);
        match (got, want) {
            (Ok(s), Ok(w)) => {
                assert_eq!(s, w);
                assert_eq!(parse_money(&s).unwrap(), value.normalize());
            }
            (Err(e), Err(w)) => {
                assert_eq!(e.field, "price");
                assert!(e.message.contains(w), "{value}: {e}");
            }
            (got, want) => panic!("{value}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn money_encoding() {
        check(dec!(163000000000), Ok("163000000000"));
        check(dec!(0.00000001), Ok("0.00000001"));
        check(dec!(3.697095875), Ok("3.697095875"));
        check(dec!(0.00001234), Ok("0.00001234"));
        check(dec!(-1250.50), Ok("-1250.5"));
        check(dec!(0.000), Ok("0"));
        check(dec!(-0), Ok("0"));
        check(dec!(99999999999999999999), Ok("99999999999999999999"));
        check(dec!(100000000000000000000), Err("integer digits"));
        check(dec!(0.000000000000000000001), Err("decimal places"));
    }

    #[test]
    fn money_parsing_of_stored_text() {
        for (raw, want) in [
            ("5.00000000000000000000", dec!(5)),
            ("163000000000.00000000000000000000", dec!(163000000000)),
            ("0.00000001000000000000", dec!(0.00000001)),
            ("-12.50000000000000000000", dec!(-12.5)),
            ("42", dec!(42)),
            ("0.00000000000000000000", Decimal::ZERO),
            ("100.000", dec!(100)),
        ] {
            assert_eq!(parse_money(raw).unwrap(), want, "{raw}");
        }
        assert!(parse_money("abc").is_err());
        assert!(parse_money("").is_err());
    }

    #[test]
    fn names_and_floats() {
        assert_eq!(name("name", "alpha", 8).unwrap(), "alpha");
        for bad in ["", " a", "a ", "abcdefghi", "a\nb"] {
            assert_eq!(name("name", bad, 8).unwrap_err().field, "name", "{bad:?}");
        }
        assert!(finite("score", f64::NAN).is_err());
        assert!(finite("score", f64::INFINITY).is_err());
        assert!(finite("score", 1.5).is_ok_and(|v| v.to_bits() == 1.5_f64.to_bits()));
        assert_eq!(page(0), 1);
        assert_eq!(page(u32::MAX), i64::from(MAX_PAGE));
        assert_eq!(clip("abcdef", 3), "abc");
    }

    #[test]
    fn millisecond_timestamps() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(ms(t), 1_700_000_000_123);
        assert_eq!(
            truncate_to_millis(t),
            DateTime::from_timestamp(1_700_000_000, 123_000_000).unwrap()
        );
        assert_eq!(from_ms(ms(t)).unwrap(), truncate_to_millis(t));
    }
}
