//! Typed identifiers. Database ids are positive `i64`s wrapped so that a
//! `TraderId` can never be passed where a `StrategyId` is expected; order
//! identifiers are validated strings that carry the owning trader.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

macro_rules! db_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a database id, which must be positive.
            pub fn new(v: i64) -> Result<Self, ValidationError> {
                if v > 0 {
                    Ok(Self(v))
                } else {
                    Err(ValidationError::new($field, format!("must be a positive id, got {v}")))
                }
            }

            /// The raw id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, ValidationError> {
                let v: i64 = s.trim().parse().map_err(|_| {
                    ValidationError::new($field, format!("must be a positive integer id, got {s:?}"))
                })?;
                Self::new(v)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = i64::deserialize(d)?;
                Self::new(v).map_err(|e| serde::de::Error::custom(e.message))
            }
        }
    };
}

db_id!(
    /// A trader (one container / process, one strategy, one mode).
    TraderId, "trader_id"
);
db_id!(
    /// A Score-Strategy definition (its versions carry the parameters).
    StrategyId, "strategy_id"
);
db_id!(
    /// A stored Upbit credential (access key + encrypted secret).
    CredentialId, "credential_id"
);
db_id!(
    /// A model version produced by the trainer (OPT-3, STAB-2).
    ModelVersionId, "model_version_id"
);

/// The client-chosen `identifier` of an Upbit order.
///
/// Upbit rejects a second order with an identifier it has seen, so a retried
/// request can never create a second order. Ours have the form
/// `t{trader}-{salt}-{intent}-{attempt}`: the trader that owns the order (for
/// the per-trader sub-ledger), a per-trader salt chosen at creation (so a fresh
/// database never reuses an old identifier on the same account), the id of the
/// persisted order intent, and the attempt number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderIdentifier(String);

impl OrderIdentifier {
    /// Maximum length we emit and accept.
    pub const MAX_LEN: usize = 64;

    /// Builds the identifier for one attempt at one order intent.
    pub fn for_attempt(
        trader: TraderId,
        salt: &str,
        intent: i64,
        attempt: u32,
    ) -> Result<Self, ValidationError> {
        Self::parse(
            "identifier",
            &format!("t{trader}-{salt}-{intent}-{attempt}"),
        )
    }

    /// Parses any identifier (ours or a foreign one seen on the exchange).
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                field,
                format!("identifier must be 1-{} characters", Self::MAX_LEN),
            ));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ValidationError::new(
                field,
                "identifier may use only letters, digits, '-' and '_'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owning trader, when this is one of our identifiers.
    pub fn trader(&self) -> Option<TraderId> {
        let rest = self.0.strip_prefix('t')?;
        let (id, _) = rest.split_once('-')?;
        id.parse().ok()
    }

    /// The `(salt, intent, attempt)` parts, when this is one of our identifiers.
    pub fn parts(&self) -> Option<(&str, i64, u32)> {
        let rest = self.0.strip_prefix('t')?;
        let mut it = rest.splitn(4, '-');
        let _trader = it.next()?;
        let salt = it.next()?;
        let intent = it.next()?.parse().ok()?;
        let attempt = it.next()?.parse().ok()?;
        Some((salt, intent, attempt))
    }
}

impl fmt::Display for OrderIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for OrderIdentifier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrderIdentifier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse("identifier", &raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_non_positive() {
        assert_eq!(TraderId::new(0).unwrap_err().field, "trader_id");
        assert!(StrategyId::from_str("-3").is_err());
        assert_eq!("42".parse::<TraderId>().unwrap().get(), 42);
        assert!(serde_json::from_str::<TraderId>("0").is_err());
    }

    #[test]
    fn identifier_round_trip() {
        let t = TraderId::new(7).unwrap();
        let id = OrderIdentifier::for_attempt(t, "k3x9", 120, 2).unwrap();
        assert_eq!(id.as_str(), "t7-k3x9-120-2");
        assert_eq!(id.trader(), Some(t));
        assert_eq!(id.parts(), Some(("k3x9", 120, 2)));
        assert!(OrderIdentifier::parse("identifier", "bad id").is_err());
        assert_eq!(
            OrderIdentifier::parse("identifier", "foreign")
                .unwrap()
                .trader(),
            None
        );
    }
}
