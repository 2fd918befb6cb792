//! Property tests of `classify`: the score is always in [0, 100], the same
//! inputs always give the same output, arbitrary floats never panic, and the
//! score is Lipschitz in the inputs (so the REG-3 applied weight is continuous
//! across label boundaries).

use proptest::prelude::*;
use regime::{RegimeConfig, RegimeError, RegimeInputs, applied_weight, classify};

fn valid_inputs() -> impl Strategy<Value = RegimeInputs> {
    (
        0.0f64..=100.0,
        0.0f64..6.0,
        0.0f64..=1.0,
        0.0f64..5.0,
        0.0f64..=1.0,
        0.0f64..=1.0,
    )
        .prop_map(|(adx, atr, breadth, disp, top5, whip)| RegimeInputs {
            btc_adx_4h: adx,
            btc_atr_pct_4h: atr,
            breadth_up_1h: breadth,
            dispersion_1h: disp,
            top5_value_share_1h: top5,
            whipsaw_5m: whip,
        })
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0f64..200.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => any::<f64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn score_in_range_and_deterministic(i in valid_inputs()) {
        let c = RegimeConfig::default();
        let a = classify(&i, &c).unwrap();
        prop_assert!((0.0..=100.0).contains(&a.score), "{a:?}");
        let b = classify(&i, &c).unwrap();
        prop_assert_eq!(a.label, b.label);
        prop_assert_eq!(a.score.to_bits(), b.score.to_bits());
    }

    #[test]
    fn arbitrary_floats_never_panic(v in prop::array::uniform6(any_f64())) {
        let i = RegimeInputs {
            btc_adx_4h: v[0],
            btc_atr_pct_4h: v[1],
            breadth_up_1h: v[2],
            dispersion_1h: v[3],
            top5_value_share_1h: v[4],
            whipsaw_5m: v[5],
        };
        match classify(&i, &RegimeConfig::default()) {
            Ok(c) => prop_assert!((0.0..=100.0).contains(&c.score)),
            Err(RegimeError::InsufficientData { missing }) => {
                prop_assert!(!missing.is_empty());
                prop_assert!(v.iter().any(|x| x.is_nan()));
            }
            Err(RegimeError::InvalidInput { value, .. }) => prop_assert!(!value.is_nan()),
            Err(e @ RegimeError::InvalidConfig(_)) => prop_assert!(false, "{e}"),
        }
    }

    #[test]
    fn score_is_lipschitz_so_weights_are_continuous(
        i in valid_inputs(),
        d in prop::array::uniform6(-1.0f64..1.0),
        eps in 1e-6f64..1e-2,
    ) {
        let c = RegimeConfig::default();
        let scales = [c.adx_scale, c.atr_pct_scale, c.breadth_scale, c.dispersion_scale, c.top5_share_scale, c.whipsaw_scale];
        let clamp = |x: f64, hi: f64| x.clamp(0.0, hi);
        let j = RegimeInputs {
            btc_adx_4h: clamp(i.btc_adx_4h + d[0] * eps * scales[0], 100.0),
            btc_atr_pct_4h: clamp(i.btc_atr_pct_4h + d[1] * eps * scales[1], f64::MAX),
            breadth_up_1h: clamp(i.breadth_up_1h + d[2] * eps * scales[2], 1.0),
            dispersion_1h: clamp(i.dispersion_1h + d[3] * eps * scales[3], f64::MAX),
            top5_value_share_1h: clamp(i.top5_value_share_1h + d[4] * eps * scales[4], 1.0),
            whipsaw_5m: clamp(i.whipsaw_5m + d[5] * eps * scales[5], 1.0),
        };
        let (a, b) = (classify(&i, &c).unwrap(), classify(&j, &c).unwrap());
        // Each input moved by at most eps scales: the score moves by at most
        // 100 × eps — also when the label flips (then both are near 0).
        let bound = 100.0 * eps + 1e-9;
        if a.label == b.label {
            prop_assert!((a.score - b.score).abs() <= bound, "{a:?} {b:?}");
        } else {
            prop_assert!(a.score <= bound && b.score <= bound, "{a:?} {b:?}");
            for w in [0.5, 1.5] {
                prop_assert!((applied_weight(w, a.score) - 1.0).abs() <= bound / 100.0 + 1e-12);
            }
        }
    }
}
