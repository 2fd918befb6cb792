//! The STAB-2 rules at their boundaries: exactly −2 %, four and five losses,
//! three counted warnings, check spacing, activity drift, missing baseline,
//! and input errors naming the field.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 20, 12, 0, 0)
        .single()
        .unwrap()
}

fn id(n: i64) -> ModelVersionId {
    ModelVersionId::new(n).unwrap()
}

fn trade(hours_ago: f64, net_return: f64, equity_return: f64) -> ClosedTrade {
    ClosedTrade {
        closed_at: now() - Duration::seconds((hours_ago * 3600.0) as i64),
        net_return,
        equity_return,
    }
}

/// 40 baseline trades over the 14 days before `now()`: mean 0.005, returns
/// alternating 0.005 ± 0.01 (≈ 2.86 trades a day).
fn baseline() -> BaselineReference {
    let trades: Vec<ClosedTrade> = (0..40)
        .map(|i| ClosedTrade {
            closed_at: now() - Duration::days(14) + Duration::hours(8 * i),
            net_return: if i % 2 == 0 { 0.015 } else { -0.005 },
            equity_return: 0.0,
        })
        .collect();
    BaselineReference::from_trades(id(1), &trades, now(), &DriftConfig::default()).unwrap()
}

fn check(trades: &[ClosedTrade]) -> DriftCheck {
    DriftMonitor::new(id(2), Some(baseline()))
        .check(trades, now(), &DriftConfig::default())
        .unwrap()
}

#[test]
fn baseline_reference() {
    let b = baseline();
    assert_eq!(b.trades, 40);
    assert!((b.mean.unwrap() - 0.005).abs() < 1e-12);
    assert!((b.trades_per_day - 40.0 / 14.0).abs() < 1e-12);
    assert_eq!((b.from, b.to), (now() - Duration::days(14), now()));
    // Trades outside the 14 days do not count.
    let old = [trade(24.0 * 15.0, 0.5, 0.0), trade(-1.0, 0.5, 0.0)];
    let r = BaselineReference::from_trades(id(1), &old, now(), &DriftConfig::default()).unwrap();
    assert_eq!((r.trades, r.mean), (0, None));
}

#[test]
fn rollback_rule_table() {
    use RollbackReason as R;
    let loss = |h: f64| trade(h, -0.004, -0.001);
    let win = |h: f64| trade(h, 0.004, 0.001);
    let cases: Vec<(&str, Vec<ClosedTrade>, Vec<RollbackReason>)> = vec![
        ("no trades", vec![], vec![]),
        (
            "exactly -2 % in one trade",
            vec![trade(1.0, -0.03, -0.02)],
            vec![],
        ),
        (
            "exactly -2 % in two trades",
            vec![trade(2.0, -0.03, -0.01), trade(1.0, 0.001, -0.01)],
            vec![],
        ),
        (
            "-2.01 %",
            vec![trade(1.0, 0.001, -0.0201)],
            vec![R::NetReturn24h {
                value: -0.0201,
                limit: -0.02,
            }],
        ),
        ("-5 % but 25 h ago", vec![trade(25.0, 0.001, -0.05)], vec![]),
        (
            "-5 % 23 h 59 m ago",
            vec![trade(23.99, 0.001, -0.05)],
            vec![R::NetReturn24h {
                value: -0.05,
                limit: -0.02,
            }],
        ),
        (
            "four losses in a row",
            (1..=4).rev().map(|h| loss(f64::from(h))).collect(),
            vec![],
        ),
        (
            "five losses in a row",
            (1..=5).rev().map(|h| loss(f64::from(h))).collect(),
            vec![R::ConsecutiveLosses { count: 5 }],
        ),
        (
            "five losses, then a win",
            (2..=6)
                .rev()
                .map(|h| loss(f64::from(h)))
                .chain([win(1.0)])
                .collect(),
            vec![],
        ),
        (
            "five losses across days still count",
            (0..5)
                .rev()
                .map(|d| loss(f64::from(d) * 30.0 + 1.0))
                .collect(),
            vec![R::ConsecutiveLosses { count: 5 }],
        ),
        (
            "a break-even trade ends the run",
            vec![
                loss(6.0),
                loss(5.0),
                loss(4.0),
                trade(3.5, 0.0, 0.0),
                loss(3.0),
                loss(2.0),
            ],
            vec![],
        ),
        (
            "both rules",
            (1..=5)
                .rev()
                .map(|h| trade(f64::from(h), -0.02, -0.005))
                .collect(),
            vec![
                R::NetReturn24h {
                    value: -0.025,
                    limit: -0.02,
                },
                R::ConsecutiveLosses { count: 5 },
            ],
        ),
    ];
    for (name, trades, want) in cases {
        let c = check(&trades);
        assert_eq!(c.rollback.len(), want.len(), "{name}: {:?}", c.rollback);
        for (got, want) in c.rollback.iter().zip(&want) {
            match (got, want) {
                (
                    R::NetReturn24h { value: a, limit: l },
                    R::NetReturn24h { value: b, limit: m },
                ) => {
                    assert!((a - b).abs() < 1e-12 && l == m, "{name}: {got:?}");
                }
                _ => assert_eq!(got, want, "{name}"),
            }
        }
        assert_eq!(c.should_roll_back(), !want.is_empty(), "{name}");
    }
}

/// Six trades in the last day with the given mean (±0.01 around it).
fn day(mean: f64, n: usize) -> Vec<ClosedTrade> {
    (0..n)
        .map(|i| {
            trade(
                20.0 - i as f64,
                if i % 2 == 0 { mean + 0.01 } else { mean - 0.01 },
                0.0,
            )
        })
        .collect()
}

#[test]
fn drift_warn_table() {
    let cases: Vec<(&str, Vec<ClosedTrade>, bool)> = vec![
        ("on baseline", day(0.005, 6), false),
        // z = (-0.005 - 0.005) / (sd_base / √6) with sd_base ≈ 0.01013 → ≈ -2.42
        ("one bad day", day(-0.005, 6), true),
        ("a bad day on too few trades", day(-0.005, 4), false),
        ("slightly worse: z ≈ -1.2", day(0.0, 6), false),
        // 9 trades a day versus ≈ 2.86: ratio ≈ 3.15
        ("trading three times as often", day(0.005, 9), true),
        // 8 a day: ratio 2.8
        ("trading more, within bounds", day(0.005, 8), false),
    ];
    for (name, trades, warn) in cases {
        let c = check(&trades);
        assert_eq!(
            c.is_warn(),
            warn,
            "{name}: {:?} {:?}",
            c.warnings,
            c.metrics
        );
        assert_eq!(c.warn_streak, u32::from(warn), "{name}");
        assert!(
            !c.should_roll_back(),
            "{name}: one warning does not roll back"
        );
    }
    let z = check(&day(-0.005, 6)).metrics.drift_z.unwrap();
    assert!((-2.5..-2.3).contains(&z), "z {z}");
}

#[test]
fn three_counted_warnings_in_a_row_roll_back() {
    let cfg = DriftConfig::default();
    let bad = day(-0.005, 6);
    let good = day(0.005, 6);
    let run = |steps: &[(i64, &[ClosedTrade])]| {
        let mut m = DriftMonitor::new(id(2), Some(baseline()));
        steps
            .iter()
            .map(|(minutes, trades)| {
                let at = now() + Duration::minutes(*minutes);
                m.check(trades, at, &cfg).unwrap()
            })
            .collect::<Vec<_>>()
    };
    // Hourly: the third bad check rolls back.
    let hourly = run(&[(0, &bad), (60, &bad), (120, &bad)]);
    assert_eq!(
        hourly.iter().map(|c| c.warn_streak).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(!hourly[1].should_roll_back());
    assert_eq!(
        hourly[2].rollback,
        [RollbackReason::DriftWarnStreak { count: 3 }]
    );
    // A clean check in between resets the streak.
    let reset = run(&[(0, &bad), (60, &bad), (120, &good), (180, &bad)]);
    assert_eq!(
        reset.iter().map(|c| c.warn_streak).collect::<Vec<_>>(),
        [1, 2, 0, 1]
    );
    assert!(reset.iter().all(|c| !c.should_roll_back()));
    // Checks ten minutes apart do not count.
    let fast = run(&[(0, &bad), (10, &bad), (20, &bad), (59, &bad), (60, &bad)]);
    assert_eq!(
        fast.iter()
            .map(|c| (c.counted, c.warn_streak))
            .collect::<Vec<_>>(),
        [(true, 1), (false, 1), (false, 1), (false, 1), (true, 2)]
    );
    assert!(fast.iter().all(|c| c.is_warn() && !c.should_roll_back()));
    // Time going backwards never counts.
    let back = run(&[(0, &bad), (-120, &bad)]);
    assert!(!back[1].counted);
    // The state survives persistence.
    let mut m = DriftMonitor::new(id(2), Some(baseline()));
    m.check(&bad, now(), &cfg).unwrap();
    let json = serde_json::to_string(&m).unwrap();
    let mut restored: DriftMonitor = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, m);
    restored
        .check(&bad, now() + Duration::hours(1), &cfg)
        .unwrap();
    let third = restored
        .check(&bad, now() + Duration::hours(2), &cfg)
        .unwrap();
    assert!(third.should_roll_back());
}

#[test]
fn no_usable_baseline_no_drift_judgement() {
    let few: Vec<ClosedTrade> = (0..19)
        .map(|i| ClosedTrade {
            closed_at: now() - Duration::days(2) + Duration::hours(i),
            net_return: if i % 2 == 0 { 0.02 } else { -0.01 },
            equity_return: 0.0,
        })
        .collect();
    let thin = BaselineReference::from_trades(id(1), &few, now(), &DriftConfig::default()).unwrap();
    let flat: Vec<ClosedTrade> = (0..30)
        .map(|i| ClosedTrade {
            closed_at: now() - Duration::days(3) + Duration::hours(i),
            net_return: 0.003,
            equity_return: 0.0,
        })
        .collect();
    let zero_sd =
        BaselineReference::from_trades(id(1), &flat, now(), &DriftConfig::default()).unwrap();
    for baseline in [None, Some(thin), Some(zero_sd)] {
        let mut m = DriftMonitor::new(id(2), baseline);
        let c = m
            .check(&day(-0.05, 20), now(), &DriftConfig::default())
            .unwrap();
        assert!(!c.is_warn(), "{baseline:?}");
        assert_eq!((c.metrics.drift_z, c.metrics.activity_ratio), (None, None));
        // The loss rules still apply: -5 % a trade, but equity returns are 0 here.
        assert_eq!(c.metrics.trades, 20);
    }
}

#[test]
fn rolling_metrics_values() {
    let trades = [
        trade(30.0, 0.5, 0.5),
        trade(3.0, 0.01, 0.002),
        trade(2.0, -0.02, -0.004),
        trade(1.0, 0.03, 0.006),
    ];
    let c = check(&trades);
    let m = c.metrics;
    assert_eq!(m.trades, 3);
    assert!((m.net_return_24h - 0.004).abs() < 1e-12);
    assert!((m.mean_net_return.unwrap() - 0.02 / 3.0).abs() < 1e-12);
    assert!((m.win_rate.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(m.consecutive_losses, 0);
    assert_eq!((m.from, m.to), (now() - Duration::hours(24), now()));
}

#[test]
fn bad_inputs_name_the_field() {
    let cfg = DriftConfig::default();
    let cases: Vec<(Vec<ClosedTrade>, &str)> = vec![
        (vec![trade(1.0, f64::NAN, 0.0)], "trades[0].net_return"),
        (
            vec![trade(2.0, 0.0, 0.0), trade(1.0, 0.0, -1.0)],
            "trades[1].equity_return",
        ),
        (
            vec![trade(1.0, 0.0, 0.0), trade(2.0, 0.0, 0.0)],
            "trades[1].closed_at",
        ),
        (vec![trade(-0.5, 0.0, 0.0)], "trades[0].closed_at"),
    ];
    for (trades, field) in cases {
        let err = DriftMonitor::new(id(2), None)
            .check(&trades, now(), &cfg)
            .unwrap_err();
        assert_eq!(err.field(), Some(field));
    }
    let cfgs = [
        (
            DriftConfig {
                rollback_net_return_24h: 0.01,
                ..cfg
            },
            "drift.rollback_net_return_24h",
        ),
        (
            DriftConfig {
                drift_warn_limit: 0,
                ..cfg
            },
            "drift.drift_warn_limit",
        ),
        (
            DriftConfig {
                consecutive_loss_limit: 0,
                ..cfg
            },
            "drift.consecutive_loss_limit",
        ),
        (
            DriftConfig {
                baseline_window_days: 0,
                ..cfg
            },
            "drift.baseline_window_days",
        ),
        (
            DriftConfig {
                drift_z: f64::NAN,
                ..cfg
            },
            "drift.drift_z",
        ),
    ];
    for (bad, field) in cfgs {
        let err = DriftMonitor::new(id(2), None)
            .check(&[], now(), &bad)
            .unwrap_err();
        assert_eq!(err.field(), Some(field));
    }
}
