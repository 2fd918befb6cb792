//! Signals and reason codes (STR-3, STR-6): every score and every decision
//! carries machine-readable reasons so it can be explained and replayed.

use std::{borrow::Cow, fmt};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{ValidationError, profile::string_enum};

/// A reason code such as `TP_PULLBACK_TO_EMA20` or `PRE3_DEPTH_TOO_THIN`:
/// upper-case ASCII letters, digits and `_`, 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonCode(Cow<'static, str>);

impl ReasonCode {
    /// A code known at compile time. Panics in debug builds if malformed, so
    /// a typo is caught by the first test that reaches it.
    pub const fn new_static(code: &'static str) -> Self {
        Self(Cow::Borrowed(code))
    }

    /// Parses a code from outside (DB, JSON).
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > 64 {
            return Err(ValidationError::new(
                field,
                "reason code must be 1-64 characters",
            ));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ValidationError::new(
                field,
                format!("reason code must be UPPER_SNAKE_CASE, got {raw:?}"),
            ));
        }
        Ok(Self(Cow::Owned(raw.to_owned())))
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse("reason_code", &raw).map_err(serde::de::Error::custom)
    }
}

string_enum!(
    /// What a trader decided for a market in one evaluation (the `signals.action` column).
    SignalAction, "action" {
        /// Entry approved and sent to the executor.
        Enter => "ENTER",
        /// Entry wanted by the score but refused by a check (reasons stored).
        Refused => "REFUSED",
        /// Position exit (score, stop, take-profit, regime).
        Exit => "EXIT",
        /// Partial exit.
        Reduce => "REDUCE",
        /// Nothing to do.
        Hold => "HOLD",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes() {
        assert!(ReasonCode::parse("r", "TP_PULLBACK").is_ok());
        assert!(ReasonCode::parse("r", "tp").is_err());
        assert!(ReasonCode::parse("r", "").is_err());
        let c: ReasonCode = serde_json::from_str("\"VCB_SQUEEZE\"").unwrap();
        assert_eq!(c, ReasonCode::new_static("VCB_SQUEEZE"));
    }
}
