//! Table-driven tests of `classify` at its thresholds (relative to the
//! configured values, so re-tuning the defaults keeps them meaningful).

use super::*;

fn cfg() -> RegimeConfig {
    RegimeConfig::default()
}

/// Far from every boundary: RANGE with full confidence.
fn calm(c: &RegimeConfig) -> RegimeInputs {
    RegimeInputs {
        btc_adx_4h: c.trend_adx_min - 2.0 * c.adx_scale,
        btc_atr_pct_4h: (c.panic_atr_pct_min.min(c.chop_atr_pct_min) - 2.0 * c.atr_pct_scale)
            .max(0.0),
        breadth_up_1h: 0.5,
        dispersion_1h: (c.rotation_dispersion_min - 2.0 * c.dispersion_scale).max(0.0),
        top5_value_share_1h: 0.3,
        whipsaw_5m: c.chop_whipsaw_min - 2.0 * c.whipsaw_scale,
    }
}

/// `(case, inputs, want label, want score)`; score `None` = "any in (0, 100]".
fn check(case: &str, inputs: RegimeInputs, label: RegimeLabel, score: Option<f64>) {
    let got = classify(&inputs, &cfg()).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(got.label, label, "{case}: {inputs:?} → {got:?}");
    match score {
        Some(s) => assert!(
            (got.score - s).abs() < 1e-9,
            "{case}: score {} want {s}",
            got.score
        ),
        None => assert!(
            got.score > 0.0 && got.score <= 100.0,
            "{case}: score {}",
            got.score
        ),
    }
}

#[test]
fn calm_market_is_a_confident_range() {
    let c = cfg();
    check("calm", calm(&c), RegimeLabel::Range, Some(100.0));
}

#[test]
fn panic_boundaries() {
    let c = cfg();
    let base = RegimeInputs {
        btc_atr_pct_4h: c.panic_atr_pct_min,
        breadth_up_1h: c.panic_breadth_max,
        ..calm(&c)
    };
    // Exactly on both thresholds: PANIC, with zero confidence.
    check("on both", base, RegimeLabel::Panic, Some(0.0));
    // A hair below the ATR threshold: not PANIC (and the breadth is far from
    // rotation, ADX below trend, whipsaw low, ATR below the chop level when
    // chop_atr_pct_min > panic_atr_pct_min).
    let below = RegimeInputs {
        btc_atr_pct_4h: c.panic_atr_pct_min - 1e-9,
        ..base
    };
    let got = classify(&below, &c).unwrap();
    assert_ne!(got.label, RegimeLabel::Panic);
    assert!(got.score < 1e-6, "just off the boundary: {got:?}");
    // Breadth a hair above the maximum: not PANIC.
    let wide = RegimeInputs {
        breadth_up_1h: c.panic_breadth_max + 1e-9,
        ..base
    };
    assert_ne!(classify(&wide, &c).unwrap().label, RegimeLabel::Panic);
    // Half a scale inside on both: score 50; full scale: 100.
    let half = RegimeInputs {
        btc_atr_pct_4h: c.panic_atr_pct_min + 0.5 * c.atr_pct_scale,
        breadth_up_1h: (c.panic_breadth_max - 0.5 * c.breadth_scale).max(0.0),
        ..base
    };
    let want = if c.panic_breadth_max >= 0.5 * c.breadth_scale {
        50.0
    } else {
        100.0 * (c.panic_breadth_max / c.breadth_scale).min(0.5)
    };
    check("half inside", half, RegimeLabel::Panic, Some(want));
    // A sudden crash: breadth collapsed and the cross-section blown apart
    // while the 4h ATR is still calm → PANIC through the dispersion branch.
    let sudden = RegimeInputs {
        breadth_up_1h: 0.0,
        dispersion_1h: c.panic_dispersion_min,
        ..calm(&c)
    };
    check(
        "sudden crash on threshold",
        sudden,
        RegimeLabel::Panic,
        Some(0.0),
    );
    let sudden_below = RegimeInputs {
        dispersion_1h: c.panic_dispersion_min - 1e-9,
        ..sudden
    };
    assert_ne!(
        classify(&sudden_below, &c).unwrap().label,
        RegimeLabel::Panic
    );
    // PANIC wins over everything else, even a strong trend.
    let crash = RegimeInputs {
        btc_adx_4h: 60.0,
        btc_atr_pct_4h: c.panic_atr_pct_min + 3.0,
        breadth_up_1h: 0.0,
        whipsaw_5m: 0.9,
        ..calm(&c)
    };
    check("crash", crash, RegimeLabel::Panic, None);
}

#[test]
fn chop_boundaries() {
    let c = cfg();
    let whippy = RegimeInputs {
        whipsaw_5m: c.chop_whipsaw_min,
        ..calm(&c)
    };
    check("whipsaw on threshold", whippy, RegimeLabel::Chop, Some(0.0));
    let whippy = RegimeInputs {
        whipsaw_5m: c.chop_whipsaw_min + c.whipsaw_scale,
        ..calm(&c)
    };
    check(
        "whipsaw one scale in",
        whippy,
        RegimeLabel::Chop,
        Some(100.0),
    );
    // Same whipsaw but ADX exactly at the trend threshold: trending, not CHOP.
    let trending = RegimeInputs {
        btc_adx_4h: c.trend_adx_min,
        ..whippy
    };
    check("adx on threshold", trending, RegimeLabel::Trend, Some(0.0));
    // Violent but directionless (ATR at the chop level, breadth too high for PANIC).
    let violent = RegimeInputs {
        btc_atr_pct_4h: c.chop_atr_pct_min,
        breadth_up_1h: 0.5,
        ..calm(&c)
    };
    let got = classify(&violent, &c).unwrap();
    assert_eq!(got.label, RegimeLabel::Chop, "{got:?}");
}

#[test]
fn rotation_and_trend_boundaries() {
    let c = cfg();
    let rot = RegimeInputs {
        breadth_up_1h: c.rotation_breadth_min,
        dispersion_1h: c.rotation_dispersion_min,
        top5_value_share_1h: c.rotation_top5_share_min,
        ..calm(&c)
    };
    check(
        "rotation on thresholds",
        rot,
        RegimeLabel::BreakoutRotation,
        Some(0.0),
    );
    let strong = RegimeInputs {
        breadth_up_1h: (c.rotation_breadth_min + c.breadth_scale).min(1.0),
        dispersion_1h: c.rotation_dispersion_min + c.dispersion_scale,
        top5_value_share_1h: (c.rotation_top5_share_min + c.top5_share_scale).min(1.0),
        ..calm(&c)
    };
    check(
        "strong rotation",
        strong,
        RegimeLabel::BreakoutRotation,
        None,
    );
    for (what, tweak) in [
        (
            "breadth",
            RegimeInputs {
                breadth_up_1h: c.rotation_breadth_min - 1e-9,
                ..rot
            },
        ),
        (
            "dispersion",
            RegimeInputs {
                dispersion_1h: c.rotation_dispersion_min - 1e-9,
                ..rot
            },
        ),
        (
            "top5",
            RegimeInputs {
                top5_value_share_1h: c.rotation_top5_share_min - 1e-9,
                ..rot
            },
        ),
    ] {
        assert_eq!(
            classify(&tweak, &c).unwrap().label,
            RegimeLabel::Range,
            "{what} just below"
        );
    }
    let trend = RegimeInputs {
        btc_adx_4h: c.trend_adx_min + c.adx_scale,
        ..calm(&c)
    };
    check("trend", trend, RegimeLabel::Trend, Some(100.0));
    let half = RegimeInputs {
        btc_adx_4h: c.trend_adx_min + 0.5 * c.adx_scale,
        ..calm(&c)
    };
    check("half trend", half, RegimeLabel::Trend, Some(50.0));
    // RANGE's confidence is how far it is from becoming TREND.
    let near = RegimeInputs {
        btc_adx_4h: c.trend_adx_min - 0.25 * c.adx_scale,
        ..calm(&c)
    };
    check("range near trend", near, RegimeLabel::Range, Some(25.0));
}

#[test]
fn missing_and_invalid_inputs_are_explicit() {
    let c = cfg();
    let mut i = calm(&c);
    i.whipsaw_5m = f64::NAN;
    i.btc_adx_4h = f64::NAN;
    let err = classify(&i, &c).unwrap_err();
    assert_eq!(
        err,
        RegimeError::InsufficientData {
            missing: vec![InputName::BtcAdx4h, InputName::Whipsaw5m]
        }
    );
    assert!(err.is_retryable());
    assert!(err.to_string().contains("btc_adx_4h, whipsaw_5m"), "{err}");
    assert!(matches!(
        classify(&RegimeInputs::MISSING, &c),
        Err(RegimeError::InsufficientData { missing }) if missing.len() == 6
    ));
    for (name, bad) in [
        (InputName::BreadthUp1h, 1.5),
        (InputName::BtcAdx4h, 101.0),
        (InputName::Dispersion1h, -0.1),
        (InputName::Top5ValueShare1h, f64::INFINITY),
        (InputName::Whipsaw5m, -1e-9),
    ] {
        let mut i = calm(&c);
        match name {
            InputName::BreadthUp1h => i.breadth_up_1h = bad,
            InputName::BtcAdx4h => i.btc_adx_4h = bad,
            InputName::Dispersion1h => i.dispersion_1h = bad,
            InputName::Top5ValueShare1h => i.top5_value_share_1h = bad,
            _ => i.whipsaw_5m = bad,
        }
        let err = classify(&i, &c).unwrap_err();
        assert!(
            matches!(err, RegimeError::InvalidInput { input, .. } if input == name),
            "{name}: {err}"
        );
        assert!(!err.is_retryable());
    }
    let bad_cfg = RegimeConfig {
        adx_scale: 0.0,
        ..cfg()
    };
    let err = classify(&calm(&c), &bad_cfg).unwrap_err();
    assert!(
        matches!(&err, RegimeError::InvalidConfig(v) if v.field == "adx_scale"),
        "{err}"
    );
}

#[test]
fn regime_serialises_as_a_flat_row() {
    let ts: DateTime<Utc> = "2025-09-01T00:05:00Z".parse().unwrap();
    let r = Regime::assess(ts, calm(&cfg()), &cfg()).unwrap();
    assert_eq!(r.engine_version, "regime-v1.0");
    let json = serde_json::to_value(&r).unwrap();
    for key in [
        "ts",
        "label",
        "regime_score",
        "btc_adx_4h",
        "btc_atr_pct_4h",
        "breadth_up_1h",
        "dispersion_1h",
        "top5_value_share_1h",
        "whipsaw_5m",
        "engine_version",
    ] {
        assert!(json.get(key).is_some(), "missing {key} in {json}");
    }
    assert_eq!(json["label"], "RANGE");
    let back: Regime = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    assert!(Regime::assess(ts, RegimeInputs::MISSING, &cfg()).is_err());
}
