//! Metric values on small hand-checked sets, the undefined cases (empty, one
//! signal, identical returns) and input errors naming the field.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
}

fn window(days: i64) -> EvalWindow {
    EvalWindow::new(t0(), t0() + Duration::days(days)).unwrap()
}

fn outcomes(rs: &[(f64, f64)]) -> Vec<SignalOutcome> {
    rs.iter()
        .enumerate()
        .map(|(i, &(r_net, mae))| SignalOutcome {
            ts: t0() + Duration::minutes(i as i64),
            r_net,
            mae,
        })
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-12,
        (None, None) => true,
        _ => false,
    }
}

struct Case {
    name: &'static str,
    rs: Vec<(f64, f64)>,
    days: i64,
    e: Option<f64>,
    sharpe: Option<f64>,
    q05: Option<f64>,
    q01: Option<f64>,
    mae_mean: Option<f64>,
    mae_95: Option<f64>,
    spd: f64,
}

#[test]
fn metric_table() {
    let sd4 = 0.020_816_659_994_661_33; // sample sd of [0.01, -0.02, 0.03, 0.0]
    let cases = [
        Case {
            name: "empty",
            rs: vec![],
            days: 1,
            e: None,
            sharpe: None,
            q05: None,
            q01: None,
            mae_mean: None,
            mae_95: None,
            spd: 0.0,
        },
        Case {
            name: "single signal",
            rs: vec![(0.01, 0.002)],
            days: 2,
            e: Some(0.01),
            sharpe: None,
            q05: Some(0.01),
            q01: Some(0.01),
            mae_mean: Some(0.002),
            mae_95: Some(0.002),
            spd: 0.5,
        },
        Case {
            name: "identical returns: no Sharpe",
            rs: vec![(0.003, 0.001); 50],
            days: 10,
            e: Some(0.003),
            sharpe: None,
            q05: Some(0.003),
            q01: Some(0.003),
            mae_mean: Some(0.001),
            mae_95: Some(0.001),
            spd: 5.0,
        },
        Case {
            name: "four signals",
            rs: vec![(0.01, 0.0), (-0.02, 0.03), (0.03, 0.01), (0.0, 0.02)],
            days: 4,
            e: Some(0.005),
            sharpe: Some(0.005 / sd4),
            // sorted [-0.02, 0, 0.01, 0.03]; Q05 at 0.15 → -0.02 + 0.02 × 0.15
            q05: Some(-0.017),
            q01: Some(-0.0194),
            mae_mean: Some(0.015),
            // sorted [0, 0.01, 0.02, 0.03]; 0.95 × 3 = 2.85 → 0.02 + 0.01 × 0.85
            mae_95: Some(0.0285),
            spd: 1.0,
        },
    ];
    for c in cases {
        let m = evaluate(&outcomes(&c.rs), window(c.days)).unwrap();
        assert_eq!(m.n, c.rs.len(), "{}", c.name);
        assert!(close(m.e, c.e), "{}: e {:?}", c.name, m.e);
        assert!(
            close(m.sharpe, c.sharpe),
            "{}: sharpe {:?}",
            c.name,
            m.sharpe
        );
        assert!(close(m.q05, c.q05), "{}: q05 {:?}", c.name, m.q05);
        assert!(close(m.q01, c.q01), "{}: q01 {:?}", c.name, m.q01);
        assert!(
            close(m.mae_mean, c.mae_mean),
            "{}: mae_mean {:?}",
            c.name,
            m.mae_mean
        );
        assert!(
            close(m.mae_95, c.mae_95),
            "{}: mae_95 {:?}",
            c.name,
            m.mae_95
        );
        assert!((m.spd - c.spd).abs() < 1e-12, "{}: spd {}", c.name, m.spd);
        if let Some(s) = m.sharpe {
            assert!((m.t_stat.unwrap() - s * (m.n as f64).sqrt()).abs() < 1e-12);
        } else {
            assert_eq!(m.t_stat, None, "{}", c.name);
        }
    }
}

#[test]
fn metrics_serialise_undefined_as_null() {
    let m = evaluate(&[], window(1)).unwrap();
    let v = serde_json::to_value(m).unwrap();
    assert!(v["e"].is_null() && v["q01"].is_null());
    assert_eq!(v["n"], 0);
    let back: Metrics = serde_json::from_value(v).unwrap();
    assert_eq!(back, m);
}

#[test]
fn from_labels_applies_costs_and_horizon() {
    let labels = crate::Labels {
        entry_ts: t0(),
        entry_price: 100.0,
        ret_60m: 0.01,
        ret_240m: -0.004,
        mfe_240m: 0.02,
        mae_240m: 0.007,
        dd_240m: 0.01,
    };
    let costs = crate::CostModel::default();
    let long = SignalOutcome::from_labels(t0(), &labels, Horizon::M240, &costs);
    let short = SignalOutcome::from_labels(t0(), &labels, Horizon::M60, &costs);
    assert!((long.r_net - (-0.006)).abs() < 1e-15);
    assert!((short.r_net - 0.008).abs() < 1e-15);
    assert!((long.mae - 0.007).abs() < 1e-15 && (short.mae - 0.007).abs() < 1e-15);
}

#[test]
fn bad_inputs_name_the_field() {
    let w = window(1);
    let cases: Vec<(Vec<SignalOutcome>, EvalWindow, &str)> = vec![
        (
            outcomes(&[(0.0, 0.0), (f64::NAN, 0.0)]),
            w,
            "outcomes[1].r_net",
        ),
        (outcomes(&[(f64::INFINITY, 0.0)]), w, "outcomes[0].r_net"),
        (outcomes(&[(0.0, -0.01)]), w, "outcomes[0].mae"),
        (outcomes(&[(0.0, f64::NAN)]), w, "outcomes[0].mae"),
        (
            vec![SignalOutcome {
                ts: t0() + Duration::days(1),
                r_net: 0.0,
                mae: 0.0,
            }],
            w,
            "outcomes[0].ts",
        ),
        (
            vec![],
            EvalWindow {
                from: t0(),
                to: t0(),
            },
            "window.to",
        ),
    ];
    for (o, w, field) in cases {
        assert_eq!(evaluate(&o, w).unwrap_err().field(), Some(field));
    }
    assert_eq!(
        EvalWindow::new(t0(), t0() - Duration::seconds(1))
            .unwrap_err()
            .field(),
        Some("window.to")
    );
}
