//! The global Regime Modifier (STR-3): the current regime as a score module,
//! so that the regime takes part in the weighted base score (weight 0.20 by
//! default) on top of the REG-3 regime weight applied to the final score.
//!
//! Each label has a base — BREAKOUT_ROTATION 90, TREND 80, RANGE 50, CHOP 20,
//! PANIC 0 — pulled towards the neutral 50 by low confidence:
//! `score = 50 + (base − 50) × regime_score / 100`. An unknown (NaN)
//! confidence scores 0.

use domain::RegimeLabel;

use crate::score::{ModuleInput, ModuleScore, ScoreModule};

/// The Regime Modifier module.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegimeModifier;

/// The label's score at full confidence.
pub fn label_base(label: RegimeLabel) -> f64 {
    match label {
        RegimeLabel::BreakoutRotation => 90.0,
        RegimeLabel::Trend => 80.0,
        RegimeLabel::Range => 50.0,
        RegimeLabel::Chop => 20.0,
        RegimeLabel::Panic => 0.0,
    }
}

impl ScoreModule for RegimeModifier {
    fn id(&self) -> &'static str {
        crate::definition::module_ids::REGIME
    }

    fn min_candles(&self) -> usize {
        0
    }

    fn score(&self, input: &ModuleInput<'_>) -> ModuleScore {
        let label = input.regime.label;
        let conf = input.regime.score;
        let code = match label {
            RegimeLabel::BreakoutRotation => "REGIME_BREAKOUT_ROTATION",
            RegimeLabel::Trend => "REGIME_TREND",
            RegimeLabel::Range => "REGIME_RANGE",
            RegimeLabel::Chop => "REGIME_CHOP",
            RegimeLabel::Panic => "REGIME_PANIC",
        };
        let base = label_base(label);
        if conf.is_nan() {
            return ModuleScore::new(0.0)
                .reason(code)
                .reason("REGIME_UNKNOWN_CONFIDENCE");
        }
        let conf = conf.clamp(0.0, 100.0);
        ModuleScore::new(50.0 + (base - 50.0) * conf / 100.0)
            .reason(code)
            .metric("regime_score", conf)
            .metric("label_base", base)
    }
}

#[cfg(test)]
mod tests {
    use domain::Market;
    use regime::Classification;

    use super::*;
    use crate::score::ModuleInput;

    #[test]
    fn label_table() {
        let m: Market = "KRW-BTC".parse().unwrap();
        for (label, conf, want) in [
            (RegimeLabel::BreakoutRotation, 100.0, 90.0),
            (RegimeLabel::Trend, 100.0, 80.0),
            (RegimeLabel::Trend, 50.0, 65.0),
            (RegimeLabel::Trend, 0.0, 50.0),
            (RegimeLabel::Range, 80.0, 50.0),
            (RegimeLabel::Chop, 100.0, 20.0),
            (RegimeLabel::Panic, 100.0, 0.0),
            (RegimeLabel::Panic, 150.0, 0.0),
            (RegimeLabel::Trend, f64::NAN, 0.0),
        ] {
            let input = ModuleInput {
                market: &m,
                candles: &[],
                leader_market: &m,
                leader_candles: None,
                regime: Classification { label, score: conf },
            };
            let s = RegimeModifier.score(&input);
            assert!(
                (s.score - want).abs() < 1e-12,
                "{label} {conf}: {}",
                s.score
            );
        }
    }

    #[test]
    fn candles_do_not_matter() {
        // the SPEC §15.1 boundary series change nothing: the regime alone decides
        let m: Market = "KRW-XRP".parse().unwrap();
        for (name, candles) in crate::modules::fixtures::boundary_series() {
            let input = ModuleInput {
                market: &m,
                candles: &candles,
                leader_market: &m,
                leader_candles: None,
                regime: Classification {
                    label: RegimeLabel::Range,
                    score: 40.0,
                },
            };
            let s = RegimeModifier.score(&input);
            assert!((s.score - 50.0).abs() < 1e-12, "{name}");
            assert_eq!(s.reason_codes[0].as_str(), "REGIME_RANGE", "{name}");
        }
    }
}
