//! Reward mapping and update arithmetic, CHOP/PANIC, warm-up, persistence
//! (storage row shape, serde) and errors; property tests: the weight always
//! lies in [0.5, 1.5], is exactly 1 in CHOP/PANIC, and a seed replays.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
}

const LABELS: [RegimeLabel; 5] = [
    RegimeLabel::BreakoutRotation,
    RegimeLabel::Trend,
    RegimeLabel::Range,
    RegimeLabel::Chop,
    RegimeLabel::Panic,
];

#[test]
fn reward_to_success_fraction() {
    let c = BanditConfig::default();
    let cases = [
        (0.0, 0.5),
        (0.02, 1.0),
        (0.5, 1.0),
        (-0.02, 0.0),
        (-1.0, 0.0),
        (0.01, 0.75),
        (-0.005, 0.375),
    ];
    for (r, s) in cases {
        assert!((c.success(r) - s).abs() < 1e-12, "r {r}: {}", c.success(r));
    }
}

#[test]
fn update_arithmetic() {
    let cfg = BanditConfig {
        decay: 0.5,
        ..BanditConfig::default()
    };
    let mut b = Bandit::new(cfg).unwrap();
    // From the prior (2, 2): no decay effect, + (0.75, 0.25).
    let Update::Applied(s1) = b
        .update("STANDARD", RegimeLabel::Trend, 0.01, now())
        .unwrap()
    else {
        panic!("skipped")
    };
    assert!((s1.alpha - 2.75).abs() < 1e-12 && (s1.beta - 2.25).abs() < 1e-12);
    assert_eq!((s1.pulls, s1.updated_at), (1, now()));
    // Decay halves the distance to the prior, then a full failure.
    let later = now() + Duration::hours(1);
    let Update::Applied(s2) = b
        .update("STANDARD", RegimeLabel::Trend, -0.05, later)
        .unwrap()
    else {
        panic!("skipped")
    };
    assert!((s2.alpha - 2.375).abs() < 1e-12, "{}", s2.alpha);
    assert!((s2.beta - 3.125).abs() < 1e-12, "{}", s2.beta);
    assert_eq!((s2.pulls, s2.updated_at), (2, later));
    // Other regimes and arms are untouched.
    assert!(b.state("STANDARD", RegimeLabel::Range).is_none());
    assert!(b.state("CRAZY", RegimeLabel::Trend).is_none());
    assert_eq!(b.states().len(), 1);
}

#[test]
fn chop_and_panic_learn_nothing_and_weigh_one() {
    let mut b = Bandit::new(BanditConfig {
        min_pulls: 0,
        ..BanditConfig::default()
    })
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for regime in [RegimeLabel::Chop, RegimeLabel::Panic] {
        assert_eq!(
            b.update("A", regime, 0.05, now()).unwrap(),
            Update::Skipped { regime }
        );
        let w = b.weight("A", regime, &mut rng).unwrap();
        assert_eq!(w.weight, 1.0);
        assert_eq!(w.source, WeightSource::Disabled);
        assert_eq!(b.mean_weight("A", regime), 1.0);
    }
    assert!(b.states().is_empty());
    // Disabled draws consume no randomness: the next sample equals a fresh one.
    let mut fresh = ChaCha8Rng::seed_from_u64(1);
    let a = b.weight("A", RegimeLabel::Trend, &mut rng).unwrap();
    let f = b.weight("A", RegimeLabel::Trend, &mut fresh).unwrap();
    assert_eq!(a, f);
}

#[test]
fn warmup_keeps_weight_one() {
    let mut b = Bandit::new(BanditConfig::default()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for i in 0..5_u64 {
        let w = b.weight("A", RegimeLabel::Trend, &mut rng).unwrap();
        assert_eq!(
            w,
            BanditWeight {
                weight: 1.0,
                source: WeightSource::Warmup { pulls: i }
            }
        );
        b.update("A", RegimeLabel::Trend, 0.03, now()).unwrap();
    }
    let w = b.weight("A", RegimeLabel::Trend, &mut rng).unwrap();
    assert!(matches!(w.source, WeightSource::Sampled { .. }));
}

#[test]
fn good_arms_get_heavier_in_their_regime_only() {
    let mut b = Bandit::new(BanditConfig::default()).unwrap();
    for i in 0..60 {
        let t = now() + Duration::minutes(i);
        b.update("GOOD", RegimeLabel::Trend, 0.015, t).unwrap();
        b.update("BAD", RegimeLabel::Trend, -0.015, t).unwrap();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mean = |b: &Bandit, arm: &str, regime, rng: &mut ChaCha8Rng| {
        (0..400)
            .map(|_| b.weight(arm, regime, rng).unwrap().weight)
            .sum::<f64>()
            / 400.0
    };
    let good = mean(&b, "GOOD", RegimeLabel::Trend, &mut rng);
    let bad = mean(&b, "BAD", RegimeLabel::Trend, &mut rng);
    assert!(good > 1.25, "good {good}");
    assert!(bad < 0.75, "bad {bad}");
    assert!(b.mean_weight("GOOD", RegimeLabel::Trend) > 1.25);
    // RANGE has no data for either: both at the neutral warm-up weight.
    assert_eq!(
        b.weight("GOOD", RegimeLabel::Range, &mut rng)
            .unwrap()
            .weight,
        1.0
    );
    assert_eq!(b.mean_weight("BAD", RegimeLabel::Range), 1.0);
}

#[test]
fn persistence_round_trips() {
    let mut b = Bandit::new(BanditConfig::default()).unwrap();
    b.update("SAFETY_FIRST", RegimeLabel::Range, 0.004, now())
        .unwrap();
    b.update("CRAZY", RegimeLabel::BreakoutRotation, -0.01, now())
        .unwrap();
    let rows = b.states();
    // Ordered by arm, then regime (as the store lists them).
    assert_eq!(rows[0].arm, "CRAZY");
    let restored = Bandit::from_states(*b.config(), rows).unwrap();
    assert_eq!(restored, b);
    let json = serde_json::to_string(&b).unwrap();
    let back: Bandit = serde_json::from_str(&json).unwrap();
    assert_eq!(back, b);
    // The row shape is the bandit_states one.
    let row = serde_json::to_value(&b.states()[1]).unwrap();
    let mut keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["alpha", "arm", "beta", "pulls", "regime", "updated_at"]
    );
    assert_eq!(row["regime"], "RANGE");
}

#[test]
fn bad_states_and_inputs_name_the_field() {
    let good = ArmState {
        arm: "A".into(),
        regime: RegimeLabel::Trend,
        alpha: 2.0,
        beta: 2.0,
        pulls: 0,
        updated_at: now(),
    };
    let cases = [
        (
            vec![ArmState {
                alpha: 0.0,
                ..good.clone()
            }],
            "states[0].alpha",
        ),
        (
            vec![ArmState {
                beta: f64::NAN,
                ..good.clone()
            }],
            "states[0].beta",
        ),
        (
            vec![ArmState {
                arm: String::new(),
                ..good.clone()
            }],
            "states[0].arm",
        ),
        (
            vec![ArmState {
                arm: "x".repeat(129),
                ..good.clone()
            }],
            "states[0].arm",
        ),
        (vec![good.clone(), good.clone()], "states[1].arm"),
    ];
    for (states, field) in cases {
        assert_eq!(
            Bandit::from_states(BanditConfig::default(), states)
                .unwrap_err()
                .field(),
            Some(field)
        );
    }
    let cfgs = [
        (
            BanditConfig {
                prior_alpha: 0.0,
                ..BanditConfig::default()
            },
            "bandit.prior_alpha",
        ),
        (
            BanditConfig {
                reward_scale: f64::NAN,
                ..BanditConfig::default()
            },
            "bandit.reward_scale",
        ),
        (
            BanditConfig {
                decay: 0.0,
                ..BanditConfig::default()
            },
            "bandit.decay",
        ),
        (
            BanditConfig {
                min_pulls: 10_001,
                ..BanditConfig::default()
            },
            "bandit.min_pulls",
        ),
    ];
    for (cfg, field) in cfgs {
        assert_eq!(Bandit::new(cfg).unwrap_err().field(), Some(field));
    }
    let mut b = Bandit::new(BanditConfig::default()).unwrap();
    assert_eq!(
        b.update("A", RegimeLabel::Trend, f64::NAN, now())
            .unwrap_err()
            .field(),
        Some("r_net")
    );
    assert_eq!(
        b.update("", RegimeLabel::Trend, 0.0, now())
            .unwrap_err()
            .field(),
        Some("arm")
    );
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    assert_eq!(
        b.weight("\n", RegimeLabel::Trend, &mut rng)
            .unwrap_err()
            .field(),
        Some("arm")
    );
    let bad_doc = r#"{"config":{},"states":[{"arm":"A","regime":"TREND","alpha":-1,"beta":1,"pulls":0,"updated_at":"2025-09-01T00:00:00Z"}]}"#;
    assert!(
        serde_json::from_str::<Bandit>(bad_doc)
            .unwrap_err()
            .to_string()
            .contains("states[0].alpha")
    );
}

#[test]
fn weight_from_sample_bounds() {
    let cases = [
        (0.0, 0.5),
        (0.5, 1.0),
        (1.0, 1.5),
        (-0.3, 0.5),
        (7.0, 1.5),
        (f64::NAN, 1.0),
        (f64::INFINITY, 1.0),
    ];
    for (theta, w) in cases {
        assert_eq!(weight_from_sample(theta), w, "θ {theta}");
    }
}

fn arb_regime() -> impl Strategy<Value = RegimeLabel> {
    (0..5_usize).prop_map(|i| LABELS[i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn weight_always_within_bounds(
        rewards in prop::collection::vec((-2.0_f64..2.0, arb_regime()), 0..80),
        prior in 0.1_f64..100.0,
        scale in 0.001_f64..1.0,
        decay in 0.01_f64..1.0,
        seed in any::<u64>(),
        regime in arb_regime(),
    ) {
        let cfg = BanditConfig { prior_alpha: prior, prior_beta: prior, reward_scale: scale, decay, min_pulls: 0 };
        let mut b = Bandit::new(cfg).unwrap();
        for (i, (r, reg)) in rewards.iter().enumerate() {
            b.update("A", *reg, *r, now() + Duration::minutes(i as i64)).unwrap();
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..20 {
            let w = b.weight("A", regime, &mut rng).unwrap();
            prop_assert!((WEIGHT_MIN..=WEIGHT_MAX).contains(&w.weight), "{w:?}");
            if regime.allows_entries() {
                let sampled = matches!(w.source, WeightSource::Sampled { .. });
                prop_assert!(sampled, "{:?}", w);
            } else {
                prop_assert_eq!(w, BanditWeight { weight: 1.0, source: WeightSource::Disabled });
            }
        }
        let m = b.mean_weight("A", regime);
        prop_assert!((WEIGHT_MIN..=WEIGHT_MAX).contains(&m));
        for s in b.states() {
            prop_assert!(s.alpha > 0.0 && s.beta > 0.0 && s.regime.allows_entries());
        }
    }

    #[test]
    fn same_seed_same_weights(
        rewards in prop::collection::vec(-0.05_f64..0.05, 5..40),
        seed in any::<u64>(),
    ) {
        let mut b = Bandit::new(BanditConfig { min_pulls: 0, ..BanditConfig::default() }).unwrap();
        for (i, r) in rewards.iter().enumerate() {
            b.update(if i % 2 == 0 { "A" } else { "B" }, RegimeLabel::Trend, *r, now()).unwrap();
        }
        let draw = |seed: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..10)
                .map(|_| b.weights(&["A", "B"], RegimeLabel::Trend, &mut rng).unwrap())
                .collect::<Vec<_>>()
        };
        prop_assert_eq!(draw(seed), draw(seed));
        prop_assert_ne!(draw(seed), draw(seed.wrapping_add(1)));
    }
}
