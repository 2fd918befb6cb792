//! Configuration, all serde with documented defaults and validated on
//! deserialisation (an invalid file is rejected naming the field):
//!
//! * [`RegimeConfig`]: the classification thresholds and confidence scales
//!   that [`crate::classify`] uses. Why each default is what it is:
//!   `docs/regime.md`.
//! * [`InputParams`]: how the six inputs are computed from candles.
//! * [`StalenessPolicy`]: how old a regime may be before it is stale.
//! * [`EngineConfig`]: the three together (the trainer's `--config` file).

use chrono::{DateTime, Duration, Utc};
use domain::ValidationError;
use indicators::Interval;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest rolling window of the `*_1h` inputs: one week.
const MAX_WINDOW_MINUTES: i64 = 10_080;
/// Most whipsaw bars one market keeps.
const MAX_WHIPSAW_BARS: usize = 10_000;

/// Implements `Serialize` / `Deserialize` through the `remote = "Self"`
/// derive, running `validate()` after deserialising.
macro_rules! validated_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$ty>::serialize(self, s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <$ty>::deserialize(d)?;
                value.validate().map_err(serde::de::Error::custom)?;
                Ok(value)
            }
        }
    };
}

fn finite_in(field: &str, x: f64, lo: f64, hi: f64) -> Result<(), ValidationError> {
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be a number in [{lo}, {hi}], got {x}"),
        ))
    }
}

fn positive(field: &str, x: f64) -> Result<(), ValidationError> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be a positive number, got {x}"),
        ))
    }
}

fn at_least(field: &str, x: usize, min: usize) -> Result<(), ValidationError> {
    if x >= min {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be at least {min}, got {x}"),
        ))
    }
}

/// Thresholds and confidence scales of the classifier (REG-1).
///
/// Units: ADX in points (0–100); ATR and dispersion in percent (`1.0` = 1 %);
/// breadth, turnover share and whipsaw as fractions in `[0, 1]`.
/// A `*_scale` is the distance from a threshold at which the classifier is
/// fully confident about that condition (see [`crate::classify`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", default, deny_unknown_fields)]
pub struct RegimeConfig {
    /// PANIC needs 1h breadth at or below this (broad selling) …
    pub panic_breadth_max: f64,
    /// … and BTC 4h ATR% at or above this (sustained volatility) …
    pub panic_atr_pct_min: f64,
    /// … or 1h dispersion at or above this (a sudden crash, before the slow
    /// 4h ATR catches up: alts fall much harder than majors).
    pub panic_dispersion_min: f64,
    /// CHOP: whipsaw at or above this (direction keeps flipping) …
    pub chop_whipsaw_min: f64,
    /// … or BTC 4h ATR% at or above this (volatile) — either one while BTC
    /// ADX is below `trend_adx_min` (no direction).
    pub chop_atr_pct_min: f64,
    /// TREND needs BTC 4h ADX at or above this.
    pub trend_adx_min: f64,
    /// BREAKOUT_ROTATION needs 1h breadth at or above this …
    pub rotation_breadth_min: f64,
    /// … and 1h dispersion at or above this (leaders pulling away) …
    pub rotation_dispersion_min: f64,
    /// … and the top-5 1h turnover share at or above this (money concentrating).
    pub rotation_top5_share_min: f64,
    /// Full-confidence distance for ADX conditions (points).
    pub adx_scale: f64,
    /// Full-confidence distance for ATR% conditions (percentage points).
    pub atr_pct_scale: f64,
    /// Full-confidence distance for breadth conditions.
    pub breadth_scale: f64,
    /// Full-confidence distance for dispersion conditions (percentage points).
    pub dispersion_scale: f64,
    /// Full-confidence distance for turnover-share conditions.
    pub top5_share_scale: f64,
    /// Full-confidence distance for whipsaw conditions.
    pub whipsaw_scale: f64,
}

impl Default for RegimeConfig {
    fn default() -> Self {
        Self {
            panic_breadth_max: 0.2,
            panic_atr_pct_min: 2.5,
            panic_dispersion_min: 2.0,
            chop_whipsaw_min: 0.62,
            chop_atr_pct_min: 2.5,
            trend_adx_min: 25.0,
            rotation_breadth_min: 0.6,
            rotation_dispersion_min: 1.5,
            rotation_top5_share_min: 0.5,
            adx_scale: 10.0,
            atr_pct_scale: 0.5,
            breadth_scale: 0.2,
            dispersion_scale: 0.5,
            top5_share_scale: 0.1,
            whipsaw_scale: 0.05,
        }
    }
}

impl RegimeConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        finite_in("panic_breadth_max", self.panic_breadth_max, 0.0, 1.0)?;
        finite_in("panic_atr_pct_min", self.panic_atr_pct_min, 0.0, 100.0)?;
        finite_in(
            "panic_dispersion_min",
            self.panic_dispersion_min,
            0.0,
            100.0,
        )?;
        finite_in("chop_whipsaw_min", self.chop_whipsaw_min, 0.0, 1.0)?;
        finite_in("chop_atr_pct_min", self.chop_atr_pct_min, 0.0, 100.0)?;
        finite_in("trend_adx_min", self.trend_adx_min, 0.0, 100.0)?;
        finite_in("rotation_breadth_min", self.rotation_breadth_min, 0.0, 1.0)?;
        finite_in(
            "rotation_dispersion_min",
            self.rotation_dispersion_min,
            0.0,
            100.0,
        )?;
        finite_in(
            "rotation_top5_share_min",
            self.rotation_top5_share_min,
            0.0,
            1.0,
        )?;
        positive("adx_scale", self.adx_scale)?;
        positive("atr_pct_scale", self.atr_pct_scale)?;
        positive("breadth_scale", self.breadth_scale)?;
        positive("dispersion_scale", self.dispersion_scale)?;
        positive("top5_share_scale", self.top5_share_scale)?;
        positive("whipsaw_scale", self.whipsaw_scale)?;
        Ok(())
    }
}

validated_serde!(RegimeConfig);

/// How the six inputs are computed from candles (REG-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", default, deny_unknown_fields)]
pub struct InputParams {
    /// Wilder period of `btc_adx_4h`, in 4h bars.
    pub adx_period: usize,
    /// Wilder period of `btc_atr_pct_4h`, in 4h bars.
    pub atr_period: usize,
    /// Length of the rolling window of the `*_1h` inputs, in minutes.
    pub window_minutes: i64,
    /// Bar interval of `whipsaw_5m`. Leave at `5m`; only data coarser than
    /// 5 minutes (e.g. hourly history) needs a coarser proxy, and then the
    /// value is not a 5-minute whipsaw any more.
    pub whipsaw_interval: Interval,
    /// Number of completed bars `whipsaw_5m` looks back over.
    pub whipsaw_bars: usize,
    /// Fewest markets with data for a cross-sectional input to be defined.
    pub min_markets: usize,
}

impl Default for InputParams {
    fn default() -> Self {
        Self {
            adx_period: 14,
            atr_period: 14,
            window_minutes: 60,
            whipsaw_interval: Interval::M5,
            whipsaw_bars: 24,
            min_markets: 5,
        }
    }
}

impl InputParams {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        at_least("adx_period", self.adx_period, 1)?;
        at_least("atr_period", self.atr_period, 1)?;
        if !(1..=MAX_WINDOW_MINUTES).contains(&self.window_minutes) {
            return Err(ValidationError::new(
                "window_minutes",
                format!(
                    "must be 1..={MAX_WINDOW_MINUTES}, got {}",
                    self.window_minutes
                ),
            ));
        }
        at_least("whipsaw_bars", self.whipsaw_bars, 3)?;
        if self.whipsaw_bars > MAX_WHIPSAW_BARS {
            return Err(ValidationError::new(
                "whipsaw_bars",
                format!(
                    "must be at most {MAX_WHIPSAW_BARS}, got {}",
                    self.whipsaw_bars
                ),
            ));
        }
        at_least("min_markets", self.min_markets, 2)?;
        Ok(())
    }

    /// The rolling window as a duration (`window_minutes` clamped to its
    /// valid range, so unvalidated parameters cannot overflow).
    pub fn window(&self) -> Duration {
        Duration::minutes(self.window_minutes.clamp(1, MAX_WINDOW_MINUTES))
    }

    /// Start of the rolling window that ends at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_signed(self.window())
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Fewest completed bars a market needs for its whipsaw to count.
    pub fn whipsaw_min_bars(&self) -> usize {
        (self.whipsaw_bars / 2).max(3)
    }
}

validated_serde!(InputParams);

/// How old a stored regime may be before it is reported stale (default 3 minutes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", default, deny_unknown_fields)]
pub struct StalenessPolicy {
    /// Maximum age in seconds.
    pub max_age_secs: i64,
}

impl Default for StalenessPolicy {
    fn default() -> Self {
        Self { max_age_secs: 180 }
    }
}

impl StalenessPolicy {
    /// Checks the field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if (1..=86_400).contains(&self.max_age_secs) {
            Ok(())
        } else {
            Err(ValidationError::new(
                "max_age_secs",
                format!("must be 1..=86400, got {}", self.max_age_secs),
            ))
        }
    }

    /// The maximum age as a duration.
    pub fn max_age(&self) -> Duration {
        Duration::seconds(self.max_age_secs)
    }
}

validated_serde!(StalenessPolicy);

/// Everything the engine needs, as one file (`trainer regime-replay --config`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Input computation.
    pub inputs: InputParams,
    /// Classification thresholds.
    pub thresholds: RegimeConfig,
    /// Staleness.
    pub staleness: StalenessPolicy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let c = EngineConfig::default();
        c.inputs.validate().unwrap();
        c.thresholds.validate().unwrap();
        c.staleness.validate().unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<EngineConfig>(&json).unwrap(), c);
        // Partial files fill in defaults.
        let partial: EngineConfig =
            serde_json::from_str(r#"{"thresholds": {"trend_adx_min": 30}}"#).unwrap();
        assert!((partial.thresholds.trend_adx_min - 30.0).abs() < f64::EPSILON);
        assert_eq!(partial.inputs, InputParams::default());
        assert_eq!(StalenessPolicy::default().max_age(), Duration::minutes(3));
    }

    #[test]
    fn invalid_values_name_the_field() {
        for (json, field) in [
            (
                r#"{"thresholds": {"panic_breadth_max": 1.5}}"#,
                "panic_breadth_max",
            ),
            (r#"{"thresholds": {"adx_scale": 0}}"#, "adx_scale"),
            (r#"{"thresholds": {"trend_adx_min": -1}}"#, "trend_adx_min"),
            (r#"{"inputs": {"min_markets": 1}}"#, "min_markets"),
            (r#"{"inputs": {"whipsaw_bars": 2}}"#, "whipsaw_bars"),
            (r#"{"inputs": {"window_minutes": 0}}"#, "window_minutes"),
            (r#"{"inputs": {"whipsaw_interval": "2m"}}"#, "2m"),
            (r#"{"staleness": {"max_age_secs": 0}}"#, "max_age_secs"),
            (r#"{"thresholds": {"no_such_field": 1}}"#, "no_such_field"),
        ] {
            let err = serde_json::from_str::<EngineConfig>(json)
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{json}: {err}");
        }
        let bad = RegimeConfig {
            whipsaw_scale: f64::NAN,
            ..RegimeConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "whipsaw_scale");
    }
}
