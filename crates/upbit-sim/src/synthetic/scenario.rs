//! Named scenarios as schedules of regimes over time. Minute `k` counts from
//! the scenario start; `k < 0` is the neutral warm-up that precedes it (the
//! server's history before its start time).

use std::{fmt, str::FromStr};

use domain::ValidationError;

/// A named market scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// A sustained BTC-led uptrend with brief pullbacks.
    Trend,
    /// Mean reversion inside a band: low volatility, no direction.
    Range,
    /// High-volatility whipsaws: short alternating pushes (one per UTC
    /// 5-minute candle), no trend.
    Chop,
    /// Calm, then a crash (volatility and volume spike), a rebound, and a
    /// nervous aftermath.
    Panic,
    /// Compression, a BTC-led breakout, then rotation through alt groups.
    BreakoutRotation,
    /// All of the above in 6-hour segments, cycling.
    Mixed,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Self; 6] = [
        Self::Trend,
        Self::Range,
        Self::Chop,
        Self::Panic,
        Self::BreakoutRotation,
        Self::Mixed,
    ];

    /// The CLI / API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Trend => "trend",
            Self::Range => "range",
            Self::Chop => "chop",
            Self::Panic => "panic",
            Self::BreakoutRotation => "breakout-rotation",
            Self::Mixed => "mixed",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scenario {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|sc| sc.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    "scenario",
                    format!(
                        "unknown scenario {s:?}; expected one of {}",
                        Self::ALL.map(Self::as_str).join(", ")
                    ),
                )
            })
    }
}

/// The market regime in force during one minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regime {
    /// Changes whenever the anchor of mean reversion should reset.
    pub segment: i64,
    /// Log drift of the market factor per minute.
    pub drift: f64,
    /// Pull of the factor back towards the segment's anchor (per minute).
    pub revert: f64,
    /// Factor volatility multiplier.
    pub vol: f64,
    /// Idiosyncratic volatility multiplier.
    pub idio: f64,
    /// Turnover multiplier.
    pub volume: f64,
    /// Extra beta for alts (crashes hit alts harder).
    pub alt_beta: f64,
    /// Rotation: `(active group, alpha for it, alpha for the others)`.
    pub rotation: Option<(usize, f64, f64)>,
}

const CALM: Regime = Regime {
    segment: -1,
    drift: 0.0,
    revert: 0.002,
    vol: 0.8,
    idio: 1.0,
    volume: 1.0,
    alt_beta: 1.0,
    rotation: None,
};

/// The regime at minute `k` of `scenario`, for a scenario that starts on a
/// 5-minute boundary.
pub fn regime(scenario: Scenario, k: i64) -> Regime {
    regime_at(scenario, k, k)
}

/// The regime at minute `k` of `scenario` whose bar opens at minute
/// `utc_minute` since the epoch (chop pushes follow Upbit's UTC 5-minute
/// candles whatever the start time).
pub fn regime_at(scenario: Scenario, k: i64, utc_minute: i64) -> Regime {
    if k < 0 {
        return CALM;
    }
    match scenario {
        Scenario::Trend => trend(k, 0, 1.0),
        Scenario::Range => range(0),
        Scenario::Chop => chop(utc_minute, 0),
        Scenario::Panic => panic(k, 0),
        Scenario::BreakoutRotation => breakout_rotation(k, 0),
        Scenario::Mixed => {
            let seg = k.div_euclid(360);
            let local = k.rem_euclid(360);
            let base = seg * 10;
            match seg.rem_euclid(6) {
                0 => range(base),
                1 => trend(local, base, 1.0),
                2 => chop(utc_minute, base),
                3 => panic(local.min(359) * 2 / 3, base),
                4 => trend(local, base, -0.7),
                _ => breakout_rotation(local * 2, base),
            }
        }
    }
}

fn trend(k: i64, segment: i64, sign: f64) -> Regime {
    // A pullback of one hour in every eight.
    let pullback = k.rem_euclid(480) >= 420;
    Regime {
        segment,
        drift: if pullback { -0.00008 } else { 0.00006 } * sign,
        revert: 0.0,
        vol: 0.8,
        idio: 0.9,
        volume: 1.2,
        alt_beta: 1.0,
        rotation: None,
    }
}

fn range(segment: i64) -> Regime {
    Regime {
        segment,
        drift: 0.0,
        revert: 0.02,
        vol: 0.6,
        idio: 0.8,
        volume: 0.8,
        alt_beta: 1.0,
        rotation: None,
    }
}

/// Minutes per chop push: one 5-minute candle, so the direction of
/// consecutive 5-minute closes keeps flipping (what `whipsaw_5m` measures).
const CHOP_PUSH_MINUTES: i64 = 5;

fn chop(utc_minute: i64, segment: i64) -> Regime {
    // Pushes of one 5-minute candle alternating in sign, strong enough to
    // show through the alts' own noise.
    let up = utc_minute.div_euclid(CHOP_PUSH_MINUTES).rem_euclid(2) == 0;
    Regime {
        segment,
        drift: if up { 0.0012 } else { -0.0012 },
        revert: 0.03,
        vol: 1.6,
        idio: 1.3,
        volume: 1.3,
        alt_beta: 1.0,
        rotation: None,
    }
}

fn panic(k: i64, segment: i64) -> Regime {
    match k {
        ..120 => Regime {
            segment,
            ..range(segment)
        },
        120..180 => Regime {
            segment: segment + 1,
            drift: -0.004,
            revert: 0.0,
            vol: 3.0,
            idio: 1.8,
            volume: 6.0,
            alt_beta: 1.3,
            rotation: None,
        },
        180..360 => Regime {
            segment: segment + 2,
            drift: 0.0008,
            revert: 0.0,
            vol: 2.2,
            idio: 1.5,
            volume: 3.0,
            alt_beta: 1.1,
            rotation: None,
        },
        _ => Regime {
            segment: segment + 3,
            drift: 0.0,
            revert: 0.01,
            vol: 1.4,
            idio: 1.2,
            volume: 1.5,
            alt_beta: 1.0,
            rotation: None,
        },
    }
}

fn breakout_rotation(k: i64, segment: i64) -> Regime {
    match k {
        ..360 => Regime {
            segment,
            drift: 0.0,
            revert: 0.05,
            vol: 0.35,
            idio: 0.6,
            volume: 0.5,
            alt_beta: 1.0,
            rotation: None,
        },
        360..600 => Regime {
            segment: segment + 1,
            drift: 0.0004,
            revert: 0.0,
            vol: 1.2,
            idio: 0.9,
            volume: 2.5,
            alt_beta: 0.9,
            rotation: None,
        },
        _ => {
            let active = usize::try_from((k - 600).div_euclid(120).rem_euclid(4)).unwrap_or(0);
            Regime {
                segment: segment + 2,
                drift: 0.0,
                revert: 0.01,
                vol: 0.7,
                idio: 1.0,
                volume: 1.2,
                alt_beta: 1.0,
                rotation: Some((active, 0.0007, -0.0002)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_the_field() {
        for s in Scenario::ALL {
            assert_eq!(s.as_str().parse::<Scenario>().unwrap(), s);
        }
        let err = "crash".parse::<Scenario>().unwrap_err();
        assert_eq!(err.field, "scenario");
        assert!(err.message.contains("breakout-rotation"));
    }

    #[test]
    fn panic_has_a_crash_window() {
        assert!(regime(Scenario::Panic, 10).drift.abs() < 1e-12);
        assert!(regime(Scenario::Panic, 150).drift < -0.001);
        assert!(regime(Scenario::Panic, 150).volume > 3.0);
        assert!(regime(Scenario::Panic, 200).drift > 0.0);
        assert_eq!(regime(Scenario::Panic, -5), CALM);
    }

    #[test]
    fn chop_pushes_follow_utc_five_minute_candles() {
        // Same push within one UTC 5-minute candle, opposite in the next,
        // whatever minute of the scenario that is.
        let drift = |k, utc| regime_at(Scenario::Chop, k, utc).drift;
        for k in [0, 3, 1000] {
            assert!(drift(k, 10) > 0.0 && drift(k, 14) > 0.0);
            assert!(drift(k, 15) < 0.0 && drift(k, 19) < 0.0);
            assert!(drift(k, 20) > 0.0);
        }
        assert_eq!(regime(Scenario::Chop, 7), regime_at(Scenario::Chop, 7, 7));
        assert_eq!(regime_at(Scenario::Chop, -1, 15), CALM);
    }

    #[test]
    fn rotation_cycles_groups() {
        let g = |k| regime(Scenario::BreakoutRotation, k).rotation.unwrap().0;
        assert_eq!((g(600), g(720), g(840), g(960), g(1080)), (0, 1, 2, 3, 0));
        assert!(regime(Scenario::BreakoutRotation, 100).rotation.is_none());
    }
}
