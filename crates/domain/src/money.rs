//! Exact money newtypes over `rust_decimal::Decimal`.
//!
//! | left      | op | right     | result                     |
//! |-----------|----|-----------|----------------------------|
//! | `Price`   | ×  | `Volume`  | `Krw` (exact)              |
//! | `Krw`     | ÷  | `Price`   | `Volume` via [`Volume::affordable`] (floored to 8 dp) |
//! | `Krw`     | ±  | `Krw`     | `Krw`                      |
//! | `Krw`     | ×  | `Decimal` | `Krw` (fees, rates)        |
//! | `Volume`  | ±  | `Volume`  | `Volume` (`checked_sub`)   |
//!
//! There is deliberately no `From<f64>` for any of them: a float never becomes
//! money. Serialised as decimal strings; deserialised from strings or integers
//! (and from JSON floats through their shortest round-trip text, which is what
//! the sender wrote).

use std::{
    fmt,
    ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign},
    str::FromStr,
};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{ValidationError, tick::VOLUME_DECIMALS};

/// Parses a decimal from text exactly (no exponent, no float), naming `field` on error.
pub fn parse_decimal(field: &str, raw: &str) -> Result<Decimal, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(
            field,
            "must be a decimal number, got an empty value",
        ));
    }
    Decimal::from_str_exact(trimmed)
        .or_else(|_| Decimal::from_scientific(trimmed))
        .map(|d| d.normalize())
        .map_err(|_| ValidationError::new(field, format!("must be a decimal number, got {raw:?}")))
}

/// A JSON/serde visitor that accepts a decimal as a string or a number.
struct DecimalVisitor;

impl de::Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number as a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal("value", v).map_err(|e| E::custom(e.message))
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
        // Rust prints the shortest text that round-trips, i.e. what the sender wrote.
        parse_decimal("value", &v.to_string()).map_err(|e| E::custom(e.message))
    }
}

fn deserialize_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

macro_rules! money_common {
    ($name:ident) => {
        impl $name {
            /// The exact decimal inside.
            pub const fn get(self) -> Decimal {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.normalize(), f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0.normalize())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = deserialize_decimal(d)?;
                Self::new(v).map_err(|e| de::Error::custom(e.message))
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, ValidationError> {
                Self::parse(stringify!($name), s)
            }
        }
    };
}

/// An amount of Korean won. May be negative (PnL, cash-flow deltas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Krw(Decimal);

money_common!(Krw);

impl Krw {
    /// Zero won.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// Wraps an exact decimal. Every decimal is a valid KRW amount.
    #[allow(
        clippy::unnecessary_wraps,
        reason = "same shape as Price::new/Volume::new for the macro"
    )]
    pub fn new(v: Decimal) -> Result<Self, ValidationError> {
        Ok(Self(v))
    }

    /// Wraps an exact decimal (infallible form of [`Krw::new`]).
    pub const fn from_decimal(v: Decimal) -> Self {
        Self(v)
    }

    /// Whole won.
    pub fn from_i64(v: i64) -> Self {
        Self(Decimal::from(v))
    }

    /// Parses any decimal text.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        parse_decimal(field, raw).map(Self)
    }

    /// Parses a user-entered amount that must be strictly positive and have at
    /// most `max_decimals` decimal places (e.g. seed money: whole won).
    pub fn parse_positive(
        field: &str,
        raw: &str,
        max_decimals: u32,
    ) -> Result<Self, ValidationError> {
        let v = parse_decimal(field, raw)?;
        Self::check_positive(field, v, max_decimals)
    }

    /// Checks that `v` is strictly positive with at most `max_decimals` places.
    pub fn check_positive(
        field: &str,
        v: Decimal,
        max_decimals: u32,
    ) -> Result<Self, ValidationError> {
        if v <= Decimal::ZERO {
            return Err(ValidationError::new(
                field,
                format!("must be greater than zero, got {v}"),
            ));
        }
        if v.normalize().scale() > max_decimals {
            return Err(ValidationError::new(
                field,
                format!("must have at most {max_decimals} decimal places, got {v}"),
            ));
        }
        Ok(Self(v.normalize()))
    }

    /// True when below zero.
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// `self × rate` (fees, risk fractions). Exact.
    #[must_use]
    pub fn times(self, rate: Decimal) -> Self {
        Self(self.0 * rate)
    }

    /// Rounds down to whole won (for display and budgets, never for ledgers).
    #[must_use]
    pub fn floor_won(self) -> Self {
        Self(self.0.floor())
    }

    /// The smaller of two amounts.
    #[must_use]
    pub fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }

    /// The larger of two amounts.
    #[must_use]
    pub fn max(self, other: Self) -> Self {
        if self >= other { self } else { other }
    }

    /// As `f64`, for scores and charts only — never for ledgers.
    pub fn to_f64_lossy(self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.0.to_f64().unwrap_or(0.0)
    }
}

impl Add for Krw {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl Sub for Krw {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0 - rhs.0)
    }
}

impl AddAssign for Krw {
    fn add_assign(&mut self, rhs: Self) {
        self.0 += rhs.0;
    }
}

impl SubAssign for Krw {
    fn sub_assign(&mut self, rhs: Self) {
        self.0 -= rhs.0;
    }
}

impl Neg for Krw {
    type Output = Self;
    fn neg(self) -> Self {
        Self(-self.0)
    }
}

impl std::iter::Sum for Krw {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

/// A unit price in KRW. Always strictly positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(Decimal);

money_common!(Price);

impl Price {
    /// Wraps a decimal that must be strictly positive.
    pub fn new(v: Decimal) -> Result<Self, ValidationError> {
        if v <= Decimal::ZERO {
            return Err(ValidationError::new(
                "price",
                format!("must be greater than zero, got {v}"),
            ));
        }
        Ok(Self(v.normalize()))
    }

    /// Parses a price, naming `field` on error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        parse_decimal(field, raw).and_then(|v| Self::new(v).map_err(|e| e.in_field(field)))
    }

    /// `self × factor` as a raw decimal. Not a `Price`: it must be re-aligned to
    /// the tick grid with [`crate::tick::round_price`] before use in an order.
    pub fn scaled(self, factor: Decimal) -> Decimal {
        self.0 * factor
    }

    /// As `f64`, for indicators and scores only.
    pub fn to_f64_lossy(self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.0.to_f64().unwrap_or(0.0)
    }
}

impl Mul<Volume> for Price {
    type Output = Krw;
    fn mul(self, rhs: Volume) -> Krw {
        Krw(self.0 * rhs.0)
    }
}

impl Mul<Price> for Volume {
    type Output = Krw;
    fn mul(self, rhs: Price) -> Krw {
        Krw(self.0 * rhs.0)
    }
}

/// A quantity of the base currency. Non-negative, at most 8 decimal places
/// (Upbit's volume precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Volume(Decimal);

money_common!(Volume);

impl Volume {
    /// Zero volume.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// Wraps a decimal that must be non-negative with at most 8 decimal places.
    pub fn new(v: Decimal) -> Result<Self, ValidationError> {
        if v.is_sign_negative() && !v.is_zero() {
            return Err(ValidationError::new(
                "volume",
                format!("must not be negative, got {v}"),
            ));
        }
        let v = v.normalize();
        if v.scale() > VOLUME_DECIMALS {
            return Err(ValidationError::new(
                "volume",
                format!("must have at most {VOLUME_DECIMALS} decimal places, got {v}"),
            ));
        }
        Ok(Self(v))
    }

    /// Parses a volume, naming `field` on error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        parse_decimal(field, raw).and_then(|v| Self::new(v).map_err(|e| e.in_field(field)))
    }

    /// Truncates any decimal to 8 places (towards zero) and wraps it. Negative
    /// input gives zero. Used for volumes computed from KRW amounts.
    pub fn floor_from(v: Decimal) -> Self {
        if v <= Decimal::ZERO {
            return Self::ZERO;
        }
        Self(
            v.round_dp_with_strategy(VOLUME_DECIMALS, RoundingStrategy::ToZero)
                .normalize(),
        )
    }

    /// The largest volume whose cost at `price` does not exceed `budget`
    /// (before fees), floored to 8 decimal places.
    pub fn affordable(budget: Krw, price: Price) -> Self {
        Self::floor_from(budget.0 / price.0)
    }

    /// True when zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `self − rhs`, or `None` when that would be negative.
    pub fn checked_sub(self, rhs: Self) -> Option<Self> {
        let d = self.0 - rhs.0;
        if d.is_sign_negative() && !d.is_zero() {
            None
        } else {
            Some(Self(d.normalize()))
        }
    }

    /// `self × fraction` floored to 8 places (scale-outs). `fraction` is clamped to `[0, 1]`.
    #[must_use]
    pub fn fraction(self, fraction: Decimal) -> Self {
        let f = fraction.clamp(Decimal::ZERO, Decimal::ONE);
        Self::floor_from(self.0 * f)
    }

    /// The smaller of two volumes.
    #[must_use]
    pub fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }

    /// As `f64`, for indicators and scores only.
    pub fn to_f64_lossy(self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.0.to_f64().unwrap_or(0.0)
    }
}

impl Add for Volume {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl AddAssign for Volume {
    fn add_assign(&mut self, rhs: Self) {
        self.0 += rhs.0;
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn price_times_volume_is_exact_krw() {
        let p = Price::new(dec!(148601000)).unwrap();
        let v = Volume::new(dec!(0.00048)).unwrap();
        assert_eq!((p * v).get(), dec!(71328.48));
    }

    #[test]
    fn affordable_volume_never_exceeds_budget() {
        let budget = Krw::from_i64(10_000);
        let p = Price::new(dec!(3)).unwrap();
        let v = Volume::affordable(budget, p);
        assert_eq!(v.get(), dec!(3333.33333333));
        assert!(p * v <= budget);
    }

    #[test]
    fn rejects_bad_values_naming_the_field() {
        let cases: &[(&str, &str, &str)] = &[
            ("price", "0", "greater than zero"),
            ("price", "-5", "greater than zero"),
            ("price", "abc", "decimal number"),
            ("volume", "0.123456789", "8 decimal places"),
            ("volume", "-1", "negative"),
        ];
        for (field, raw, want) in cases {
            let err = match *field {
                "price" => Price::parse(field, raw).unwrap_err(),
                _ => Volume::parse(field, raw).unwrap_err(),
            };
            assert_eq!(err.field, *field);
            assert!(err.message.contains(want), "{raw}: {err}");
        }
        let err = Krw::parse_positive("seed_krw", "-100", 0).unwrap_err();
        assert_eq!(err.field, "seed_krw");
        let err = Krw::parse_positive("seed_krw", "100.5", 0).unwrap_err();
        assert!(err.message.contains("decimal places"), "{err}");
    }

    #[test]
    fn serde_accepts_strings_and_numbers_and_writes_strings() {
        let v: Volume = serde_json::from_str("\"0.00048\"").unwrap();
        assert_eq!(v.get(), dec!(0.00048));
        let v: Volume = serde_json::from_str("0.00048").unwrap();
        assert_eq!(v.get(), dec!(0.00048));
        let p: Price = serde_json::from_str("148601000").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"148601000\"");
        assert!(serde_json::from_str::<Price>("\"-1\"").is_err());
        assert!(serde_json::from_str::<Volume>("1e400").is_err());
    }
}
