//! The closed enums of the spec: [`Mode`] (FIX-7), [`RiskProfile`] (FIX-10) and
//! [`RegimeLabel`] (REG-1). Each has one canonical wire string (used in JSON,
//! the database and env) and rejects anything else naming the field.

/// Declares a closed string enum with `as_str`, `ALL`, `Display`, `FromStr` and serde.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The canonical wire string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }

            /// Parses the wire string, naming `field` on error.
            pub fn parse(field: &str, raw: &str) -> ::std::result::Result<Self, $crate::ValidationError> {
                match raw {
                    $($wire => ::std::result::Result::Ok(Self::$variant),)+
                    _ => Err($crate::ValidationError::new(
                        field,
                        format!(
                            "unknown value {raw:?}; expected one of {}",
                            [$($wire),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ValidationError;
            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::ValidationError> {
                Self::parse($field, s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let raw = <String as ::serde::Deserialize>::deserialize(d)?;
                Self::parse($field, &raw).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
    };
}

pub(crate) use string_enum;

string_enum!(
    /// How a trader executes (FIX-7): simulated fills or real Upbit orders.
    Mode, "mode" {
        /// Simulated fills against live quotes; no order reaches Upbit.
        Paper => "PAPER",
        /// Real orders, only once ARMED (FIX-8).
        Live => "LIVE",
    }
);

string_enum!(
    /// The five risk profiles of FIX-10.
    RiskProfile, "risk_profile" {
        /// Smallest risk per trade, fewest positions.
        SafetyFirst => "SAFETY_FIRST",
        /// The spec's defaults (RISK_PER_TRADE 1 %, …).
        Standard => "STANDARD",
        /// More risk per trade and more positions.
        ProfitFirst => "PROFIT_FIRST",
        /// The most aggressive built-in profile.
        Crazy => "CRAZY",
        /// Parameters come from the deployed model version (trainer).
        AiMode => "AI_MODE",
    }
);

impl RiskProfile {
    /// The label the UI shows (UI-6): `SAFETY FIRST`, `AI MODE`, …
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::SafetyFirst => "SAFETY FIRST",
            Self::Standard => "STANDARD",
            Self::ProfitFirst => "PROFIT FIRST",
            Self::Crazy => "CRAZY",
            Self::AiMode => "AI MODE",
        }
    }
}

string_enum!(
    /// Market regime labels of Regime Engine v1.0 (REG-1, canonical per the SPEC Decision).
    RegimeLabel, "regime" {
        /// Broad participation with leadership rotating between markets.
        BreakoutRotation => "BREAKOUT_ROTATION",
        /// A directional market led by BTC.
        Trend => "TREND",
        /// Quiet, mean-reverting market.
        Range => "RANGE",
        /// Whipsawing market: no new entries (REG-4).
        Chop => "CHOP",
        /// Crash / stress: no new entries, positions may be reduced (REG-4).
        Panic => "PANIC",
    }
);

impl RegimeLabel {
    /// REG-4: CHOP and PANIC allow no new entries.
    pub const fn allows_entries(self) -> bool {
        !matches!(self, Self::Chop | Self::Panic)
    }

    /// REG-4: in PANIC existing positions may be reduced.
    pub const fn reduces_positions(self) -> bool {
        matches!(self, Self::Panic)
    }

    /// BASE_BY_REGIME (SPEC §4 Decision): max concurrent positions before risk scaling.
    pub const fn base_max_positions(self) -> u32 {
        match self {
            Self::BreakoutRotation => 7,
            Self::Trend => 5,
            Self::Range => 3,
            Self::Chop | Self::Panic => 0,
        }
    }

    /// OPT-4: the bandit is disabled in CHOP and PANIC.
    pub const fn bandit_enabled(self) -> bool {
        self.allows_entries()
    }
}

string_enum!(
    /// Severity of an event or alert (STAB-3).
    AlertLevel, "level" {
        /// Informational (trades, starts, stops).
        Info => "INFO",
        /// Needs attention (refusals piling up, rate limits, stale data).
        Warn => "WARN",
        /// Money at risk or trading halted (kill switch, reconciliation mismatch, rollback).
        Critical => "CRITICAL",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_strings_name_the_field() {
        let err = "SIMULATED".parse::<Mode>().unwrap_err();
        assert_eq!(err.field, "mode");
        assert!(err.message.contains("PAPER, LIVE"), "{err}");
        let err = serde_json::from_str::<RiskProfile>("\"YOLO\"").unwrap_err();
        assert!(err.to_string().contains("risk_profile"), "{err}");
        assert_eq!("paper".parse::<Mode>().unwrap_err().field, "mode");
    }

    #[test]
    fn wire_strings_round_trip() {
        for p in RiskProfile::ALL {
            assert_eq!(p.as_str().parse::<RiskProfile>().unwrap(), *p);
        }
        for r in RegimeLabel::ALL {
            let json = serde_json::to_string(r).unwrap();
            assert_eq!(serde_json::from_str::<RegimeLabel>(&json).unwrap(), *r);
        }
        assert_eq!(RiskProfile::ALL.len(), 5);
        assert_eq!(RegimeLabel::ALL.len(), 5);
    }

    #[test]
    fn regime_rules() {
        let table = [
            (RegimeLabel::BreakoutRotation, true, 7),
            (RegimeLabel::Trend, true, 5),
            (RegimeLabel::Range, true, 3),
            (RegimeLabel::Chop, false, 0),
            (RegimeLabel::Panic, false, 0),
        ];
        for (label, entries, base) in table {
            assert_eq!(label.allows_entries(), entries, "{label}");
            assert_eq!(label.base_max_positions(), base, "{label}");
        }
        assert!(RegimeLabel::Panic.reduces_positions());
        assert!(!RegimeLabel::Chop.reduces_positions());
    }
}
