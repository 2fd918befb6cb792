//! Staleness and the REG-4 rules a trader applies to the current regime.
//!
//! A regime older than [`StalenessPolicy::max_age`] is reported [`Freshness::Stale`],
//! never silently reused: [`Regime::rules`] then refuses new entries, like
//! CHOP does, until a fresh regime arrives. The label rules themselves
//! (entries allowed, positions reduced, BASE_BY_REGIME) are
//! [`RegimeLabel`]'s own methods in `domain`; they are not duplicated here.

use chrono::{DateTime, Duration, Utc};
use domain::RegimeLabel;
use serde::{Deserialize, Serialize};

use crate::{Regime, StalenessPolicy};

/// Whether a regime may still be used at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Freshness {
    /// Young enough.
    Fresh {
        /// `now − ts` in seconds.
        age_secs: i64,
    },
    /// Too old — or stamped in the future by more than the maximum age
    /// (a clock problem somewhere); either way not to be trusted.
    Stale {
        /// `now − ts` in seconds (negative when stamped in the future).
        age_secs: i64,
    },
}

impl Freshness {
    /// True for [`Freshness::Fresh`].
    pub fn is_fresh(self) -> bool {
        matches!(self, Self::Fresh { .. })
    }
}

/// Fresh when `|now − ts| ≤ max_age`, stale otherwise.
pub fn freshness(ts: DateTime<Utc>, now: DateTime<Utc>, policy: &StalenessPolicy) -> Freshness {
    let age: Duration = now - ts;
    let age_secs = age.num_seconds();
    if age.abs() <= policy.max_age() {
        Freshness::Fresh { age_secs }
    } else {
        Freshness::Stale { age_secs }
    }
}

/// What a trader may do under the current regime (REG-4, BASE_BY_REGIME).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegimeRules {
    /// The regime's label, if there is a regime at all.
    pub label: Option<RegimeLabel>,
    /// Freshness of that regime (`None` when there is none).
    pub freshness: Option<Freshness>,
    /// New entries allowed (false in CHOP/PANIC, when stale, or with no regime).
    pub allows_entries: bool,
    /// Existing positions may be reduced (PANIC, stale or not).
    pub reduces_positions: bool,
    /// BASE_BY_REGIME, 0 whenever entries are not allowed.
    pub base_max_positions: u32,
}

impl RegimeRules {
    /// No usable regime (none stored yet, or insufficient data): no entries.
    pub const NONE: Self = Self {
        label: None,
        freshness: None,
        allows_entries: false,
        reduces_positions: false,
        base_max_positions: 0,
    };
}

impl Regime {
    /// The REG-4 rules for this regime at `now`.
    pub fn rules(&self, now: DateTime<Utc>, policy: &StalenessPolicy) -> RegimeRules {
        let f = freshness(self.ts, now, policy);
        let allows = f.is_fresh() && self.label.allows_entries();
        RegimeRules {
            label: Some(self.label),
            freshness: Some(f),
            allows_entries: allows,
            reduces_positions: self.label.reduces_positions(),
            base_max_positions: if allows {
                self.label.base_max_positions()
            } else {
                0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RegimeInputs;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn regime(label: RegimeLabel) -> Regime {
        Regime {
            ts: at("2025-09-01T00:00:00Z"),
            label,
            score: 50.0,
            inputs: RegimeInputs::MISSING,
            engine_version: crate::ENGINE_VERSION.to_owned(),
        }
    }

    #[test]
    fn freshness_boundaries() {
        let p = StalenessPolicy::default();
        let ts = at("2025-09-01T00:00:00Z");
        for (now, fresh, age) in [
            ("2025-09-01T00:00:00Z", true, 0),
            ("2025-09-01T00:03:00Z", true, 180),
            ("2025-09-01T00:03:01Z", false, 181),
            ("2025-08-31T23:57:00Z", true, -180),
            ("2025-08-31T23:56:59Z", false, -181),
        ] {
            let f = freshness(ts, at(now), &p);
            assert_eq!(f.is_fresh(), fresh, "{now}");
            let (Freshness::Fresh { age_secs } | Freshness::Stale { age_secs }) = f;
            assert_eq!(age_secs, age, "{now}");
        }
        let strict = StalenessPolicy { max_age_secs: 60 };
        assert!(!freshness(ts, at("2025-09-01T00:01:01Z"), &strict).is_fresh());
    }

    #[test]
    fn rules_follow_the_label_when_fresh_and_refuse_when_stale() {
        let p = StalenessPolicy::default();
        let fresh = at("2025-09-01T00:01:00Z");
        let stale = at("2025-09-01T00:10:00Z");
        for label in RegimeLabel::ALL {
            let r = regime(*label).rules(fresh, &p);
            assert_eq!(r.allows_entries, label.allows_entries(), "{label}");
            assert_eq!(r.reduces_positions, label.reduces_positions(), "{label}");
            assert_eq!(r.base_max_positions, label.base_max_positions(), "{label}");
            let s = regime(*label).rules(stale, &p);
            assert!(!s.allows_entries, "{label} stale");
            assert_eq!(s.base_max_positions, 0);
            assert_eq!(s.reduces_positions, label.reduces_positions());
            assert_eq!(s.freshness, Some(Freshness::Stale { age_secs: 600 }));
        }
        let none = RegimeRules::NONE;
        assert_eq!((none.allows_entries, none.base_max_positions), (false, 0));
        let json = serde_json::to_string(&regime(RegimeLabel::Trend).rules(stale, &p)).unwrap();
        assert!(json.contains(r#""status":"STALE""#), "{json}");
    }
}
