//! Serde for `Decimal` configuration values: written as decimal strings (exact,
//! deterministic), read from strings or JSON numbers (operators type `0.01`).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserializer, Serializer, de};

struct DecimalVisitor;

impl de::Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number as a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        domain::money::parse_decimal("value", v).map_err(|e| E::custom(e.message))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("a decimal number must be finite"));
        }
        // The shortest round-trip text is what the sender wrote.
        domain::money::parse_decimal("value", &v.to_string()).map_err(|e| E::custom(e.message))
    }
}

/// Writes the normalised decimal as a string.
pub(crate) fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&v.normalize())
}

/// Reads a decimal from a string or a number.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// The same for `Option<Decimal>` (absent or `null` is `None`).
pub(crate) mod option {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `Some` as a string, `None` as `null`.
    #[allow(
        clippy::ref_option,
        reason = "serde's `with` calls serialize(&Option<T>, S)"
    )]
    pub(crate) fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.collect_str(&d.normalize()),
            None => s.serialize_none(),
        }
    }

    /// Reads `null` or a decimal.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(deserialize_with = "super::deserialize")] Decimal);
        Option::<Wrap>::deserialize(d).map(|o| o.map(|w| w.0))
    }
}
