//! [`Market`] (`KRW-BTC`) and [`Currency`] (`BTC`): validated Upbit codes.
//!
//! FIX-1: the platform trades Upbit KRW spot markets only, so a `Market` is
//! always quoted in KRW. Codes are upper case ASCII letters and digits, 1–15
//! characters for the base currency.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

const MAX_CURRENCY_LEN: usize = 15;

/// A currency code such as `KRW` or `BTC`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(String);

impl Currency {
    /// Parses a currency code; `field` names the input in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > MAX_CURRENCY_LEN {
            return Err(ValidationError::new(
                field,
                format!("currency code must be 1-{MAX_CURRENCY_LEN} characters, got {raw:?}"),
            ));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(ValidationError::new(
                field,
                format!("currency code must be upper-case letters and digits, got {raw:?}"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The Korean won, the quote currency of every market here.
    pub fn krw() -> Self {
        Self("KRW".to_owned())
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `KRW`.
    pub fn is_krw(&self) -> bool {
        self.0 == "KRW"
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Currency {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse("currency", s)
    }
}

/// An Upbit KRW market code, `KRW-<BASE>` (e.g. `KRW-BTC`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Market {
    code: String,
}

impl Market {
    /// Parses a market code; `field` names the input in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let Some((quote, base)) = raw.split_once('-') else {
            return Err(ValidationError::new(
                field,
                format!("market must look like KRW-BTC, got {raw:?}"),
            ));
        };
        if quote != "KRW" {
            return Err(ValidationError::new(
                field,
                format!("only KRW markets are supported (FIX-1), got {raw:?}"),
            ));
        }
        Currency::parse(field, base)?;
        Ok(Self {
            code: raw.to_owned(),
        })
    }

    /// Builds `KRW-<base>` from a base currency.
    pub fn krw(base: &Currency) -> Self {
        Self {
            code: format!("KRW-{base}"),
        }
    }

    /// The full code, e.g. `KRW-BTC`.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The base currency code, e.g. `BTC`.
    pub fn base(&self) -> Currency {
        Currency(self.code[4..].to_owned())
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl FromStr for Market {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse("market", s)
    }
}

impl Serialize for Market {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code)
    }
}

impl<'de> Deserialize<'de> for Market {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse("market", &raw).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse("currency", &raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, ok: bool) {
        let got = Market::parse("market", raw);
        assert_eq!(got.is_ok(), ok, "{raw:?} -> {got:?}");
        if let Err(e) = got {
            assert_eq!(e.field, "market");
        }
    }

    #[test]
    fn market_codes() {
        for (raw, ok) in [
            ("KRW-BTC", true),
            ("KRW-1INCH", true),
            ("KRW-btc", false),
            ("BTC-ETH", false),
            ("KRW-", false),
            ("KRWBTC", false),
            ("", false),
            ("KRW-BTC-X", false),
            ("KRW-ABCDEFGHIJKLMNOP", false),
        ] {
            check(raw, ok);
        }
    }

    #[test]
    fn base_and_serde_round_trip() {
        let m: Market = serde_json::from_str("\"KRW-ETH\"").unwrap();
        assert_eq!(m.base().as_str(), "ETH");
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"KRW-ETH\"");
        let err = serde_json::from_str::<Market>("\"krw-eth\"").unwrap_err();
        assert!(err.to_string().contains("market"), "{err}");
    }
}
