//! Table-driven label cases at the boundaries (alignment, entry delay, gaps,
//! sealing, NaN) and property tests: labels never read before `t` or after the
//! window, and a ready label never changes as more data is sealed.

use chrono::{DateTime, Duration, TimeZone, Utc};
use indicators::Candle;
use proptest::prelude::*;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 6, 12, 0, 0).single().unwrap()
}

fn at(min: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(min)
}

fn candle(min: i64, o: f64, h: f64, l: f64, c: f64) -> Candle {
    Candle {
        ts: at(min),
        open: o,
        high: h,
        low: l,
        close: c,
        volume: 1.0,
        value: c,
    }
}

/// A flat market at 100 for minutes `from..to`.
fn flat(from: i64, to: i64) -> Vec<Candle> {
    (from..to)
        .map(|m| candle(m, 100.0, 100.0, 100.0, 100.0))
        .collect()
}

fn with(mut base: Vec<Candle>, replace: &[Candle]) -> Vec<Candle> {
    for r in replace {
        match base.binary_search_by_key(&r.ts, |c| c.ts) {
            Ok(i) => base[i] = *r,
            Err(i) => base.insert(i, *r),
        }
    }
    base
}

fn without(base: Vec<Candle>, minutes: std::ops::Range<i64>) -> Vec<Candle> {
    base.into_iter()
        .filter(|c| !minutes.contains(&(c.ts - t0()).num_minutes()))
        .collect()
}

const SEALED: i64 = 10_000;

#[derive(Debug)]
enum Want {
    Ready {
        entry_min: i64,
        ret_60m: f64,
        ret_240m: f64,
        mfe: f64,
        mae: f64,
        dd: f64,
    },
    Pending(DateTime<Utc>),
    NoEntry,
    Gap {
        after_min: i64,
        missing: i64,
    },
    Invalid {
        ts_min: i64,
    },
}

fn check(
    name: &str,
    t: DateTime<Utc>,
    candles: &[Candle],
    complete_until: DateTime<Utc>,
    want: &Want,
) {
    let got = label(t, candles, complete_until, &LabelConfig::default())
        .unwrap_or_else(|e| panic!("{name}: unexpected error {e}"));
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    match (want, &got) {
        (
            Want::Ready {
                entry_min,
                ret_60m,
                ret_240m,
                mfe,
                mae,
                dd,
            },
            LabelOutcome::Ready(l),
        ) => {
            assert_eq!(l.entry_ts, at(*entry_min), "{name}: entry");
            assert!(close(l.ret_60m, *ret_60m), "{name}: ret_60m {}", l.ret_60m);
            assert!(
                close(l.ret_240m, *ret_240m),
                "{name}: ret_240m {}",
                l.ret_240m
            );
            assert!(close(l.mfe_240m, *mfe), "{name}: mfe {}", l.mfe_240m);
            assert!(close(l.mae_240m, *mae), "{name}: mae {}", l.mae_240m);
            assert!(close(l.dd_240m, *dd), "{name}: dd {}", l.dd_240m);
        }
        (Want::Pending(w), LabelOutcome::Pending { ready_at }) => {
            assert_eq!(ready_at, w, "{name}: ready_at");
        }
        (
            Want::NoEntry,
            LabelOutcome::Unavailable {
                reason: Unavailable::NoEntry { .. },
            },
        ) => {}
        (
            Want::Gap { after_min, missing },
            LabelOutcome::Unavailable {
                reason:
                    Unavailable::Gap {
                        after,
                        missing_minutes,
                    },
            },
        ) => {
            assert_eq!(*after, at(*after_min), "{name}: gap after");
            assert_eq!(missing_minutes, missing, "{name}: gap length");
        }
        (
            Want::Invalid { ts_min },
            LabelOutcome::Unavailable {
                reason: Unavailable::InvalidCandle { ts, .. },
            },
        ) => assert_eq!(*ts, at(*ts_min), "{name}: invalid candle"),
        _ => panic!("{name}: want {want:?}, got {got:?}"),
    }
}

#[test]
fn label_cases() {
    let sealed = at(SEALED);
    // Up to 110 by minute 30 (a new peak), down to 99 at minute 100, 105 at the end;
    // at minute 59 the close is 108.
    let shaped = with(
        flat(0, 300),
        &[
            candle(30, 100.0, 110.0, 100.0, 108.0),
            candle(59, 108.0, 108.0, 108.0, 108.0),
            candle(100, 100.0, 100.0, 99.0, 100.0),
            candle(239, 100.0, 105.0, 100.0, 105.0),
        ],
    );
    let ready_shaped = Want::Ready {
        entry_min: 0,
        ret_60m: 0.08,
        ret_240m: 0.05,
        mfe: 0.10,
        mae: 0.01,
        dd: 1.0 - 99.0 / 110.0,
    };
    let cases: Vec<(&str, DateTime<Utc>, Vec<Candle>, DateTime<Utc>, Want)> = vec![
        (
            "peak then trough",
            at(0),
            shaped.clone(),
            sealed,
            ready_shaped,
        ),
        (
            "flat market: all zero",
            at(0),
            flat(0, 300),
            sealed,
            Want::Ready {
                entry_min: 0,
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe: 0.0,
                mae: 0.0,
                dd: 0.0,
            },
        ),
        (
            "a crazy candle before t is never read",
            at(5),
            with(flat(0, 300), &[candle(4, 1.0, 1e9, 0.5, 1.0)]),
            sealed,
            Want::Ready {
                entry_min: 5,
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe: 0.0,
                mae: 0.0,
                dd: 0.0,
            },
        ),
        (
            "snapshot mid-minute enters on the next minute's open",
            at(5) + Duration::seconds(30),
            with(flat(0, 300), &[candle(5, 50.0, 50.0, 50.0, 50.0)]),
            sealed,
            Want::Ready {
                entry_min: 6,
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe: 0.0,
                mae: 0.0,
                dd: 0.0,
            },
        ),
        (
            "entry 5 minutes late is accepted",
            at(0),
            without(flat(0, 300), 0..5),
            sealed,
            Want::Ready {
                entry_min: 5,
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe: 0.0,
                mae: 0.0,
                dd: 0.0,
            },
        ),
        (
            "entry 6 minutes late is refused",
            at(0),
            without(flat(0, 300), 0..6),
            sealed,
            Want::NoEntry,
        ),
        (
            "no candle at all, sealed",
            at(0),
            vec![],
            sealed,
            Want::NoEntry,
        ),
        (
            "no candle yet, not sealed: pending until the entry deadline is sealed",
            at(0) + Duration::seconds(30),
            vec![],
            at(3),
            Want::Pending(at(6)),
        ),
        (
            "entry known, window not sealed: pending until tₑ + 240",
            at(0),
            flat(0, 300),
            at(239),
            Want::Pending(at(240)),
        ),
        (
            "window sealed exactly at tₑ + 240",
            at(0),
            flat(0, 240),
            at(240),
            Want::Ready {
                entry_min: 0,
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe: 0.0,
                mae: 0.0,
                dd: 0.0,
            },
        ),
        (
            "a 15-minute no-trade run carries the close forward",
            at(0),
            with(
                without(flat(0, 300), 45..60),
                &[candle(44, 100.0, 102.0, 100.0, 102.0)],
            ),
            sealed,
            Want::Ready {
                entry_min: 0,
                ret_60m: 0.02,
                ret_240m: 0.0,
                mfe: 0.02,
                mae: 0.0,
                dd: 1.0 - 100.0 / 102.0,
            },
        ),
        (
            "the close at minute 59 missing: ret_60m is the close carried from minute 58",
            at(0),
            without(
                with(flat(0, 300), &[candle(58, 100.0, 101.0, 100.0, 101.0)]),
                59..60,
            ),
            sealed,
            Want::Ready {
                entry_min: 0,
                ret_60m: 0.01,
                ret_240m: 0.0,
                mfe: 0.01,
                mae: 0.0,
                dd: 1.0 - 100.0 / 101.0,
            },
        ),
        (
            "a 16-minute hole is a gap",
            at(0),
            without(flat(0, 300), 41..57),
            sealed,
            Want::Gap {
                after_min: 40,
                missing: 16,
            },
        ),
        (
            "a hole at the end of the window counts",
            at(0),
            flat(0, 200),
            sealed,
            Want::Gap {
                after_min: 199,
                missing: 40,
            },
        ),
        (
            "a hole after the window does not count",
            at(0),
            without(flat(0, 400), 240..300),
            sealed,
            Want::Ready {
                entry_min: 0,
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe: 0.0,
                mae: 0.0,
                dd: 0.0,
            },
        ),
        (
            "NaN high inside the window",
            at(0),
            with(flat(0, 300), &[candle(120, 100.0, f64::NAN, 100.0, 100.0)]),
            sealed,
            Want::Invalid { ts_min: 120 },
        ),
        (
            "NaN open of the entry candle",
            at(0),
            with(flat(0, 300), &[candle(0, f64::NAN, 100.0, 100.0, 100.0)]),
            sealed,
            Want::Invalid { ts_min: 0 },
        ),
        (
            "close above high",
            at(0),
            with(flat(0, 300), &[candle(10, 100.0, 100.0, 99.0, 101.0)]),
            sealed,
            Want::Invalid { ts_min: 10 },
        ),
        (
            "zero price",
            at(0),
            with(flat(0, 300), &[candle(10, 100.0, 100.0, 0.0, 100.0)]),
            sealed,
            Want::Invalid { ts_min: 10 },
        ),
        (
            "NaN before t and after the window are not read",
            at(10),
            with(
                flat(0, 400),
                &[
                    candle(9, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
                    candle(250, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
                ],
            ),
            sealed,
            Want::Ready {
                entry_min: 10,
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe: 0.0,
                mae: 0.0,
                dd: 0.0,
            },
        ),
        (
            "a candle at complete_until (still forming) is ignored",
            at(0),
            vec![candle(0, 100.0, 100.0, 100.0, 100.0)],
            at(0),
            Want::Pending(at(6)),
        ),
    ];
    for (name, t, candles, complete_until, want) in &cases {
        check(name, *t, candles, *complete_until, want);
    }
}

#[test]
fn structural_errors_name_the_field() {
    let sealed = at(SEALED);
    let mut unsorted = flat(0, 10);
    unsorted.swap(3, 4);
    let mut misaligned = flat(0, 10);
    misaligned[7].ts += Duration::seconds(1);
    let cases: Vec<(Vec<Candle>, LabelConfig, &str)> = vec![
        (unsorted, LabelConfig::default(), "candles[4].ts"),
        (misaligned, LabelConfig::default(), "candles[7].ts"),
        (
            with(flat(0, 10), &[candle(3, 1.0, 1.0, 1.0, 1.0)])
                .into_iter()
                .chain(flat(3, 4))
                .collect(),
            LabelConfig::default(),
            "candles[10].ts",
        ),
        (
            flat(0, 10),
            LabelConfig {
                max_entry_delay_minutes: 0,
                ..LabelConfig::default()
            },
            "labels.max_entry_delay_minutes",
        ),
        (
            flat(0, 10),
            LabelConfig {
                max_gap_minutes: 240,
                ..LabelConfig::default()
            },
            "labels.max_gap_minutes",
        ),
    ];
    for (candles, cfg, field) in cases {
        let err = label(at(0), &candles, sealed, &cfg).unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
        assert!(!err.is_retryable());
    }
}

#[test]
fn outcomes_serialise() {
    let ready = label(at(0), &flat(0, 300), at(SEALED), &LabelConfig::default()).unwrap();
    let pending = label(at(0), &flat(0, 300), at(10), &LabelConfig::default()).unwrap();
    let gap = label(at(0), &flat(0, 200), at(SEALED), &LabelConfig::default()).unwrap();
    for o in [ready, pending, gap] {
        let json = serde_json::to_value(&o).unwrap();
        assert!(json["status"].is_string(), "{json}");
        assert_eq!(serde_json::from_value::<LabelOutcome>(json).unwrap(), o);
    }
    let json =
        serde_json::to_value(label(at(0), &[], at(SEALED), &LabelConfig::default()).unwrap())
            .unwrap();
    assert_eq!(json["status"], "UNAVAILABLE");
    assert_eq!(json["reason"]["kind"], "NO_ENTRY");
}

#[test]
fn cost_model() {
    let c = CostModel::default();
    assert!((c.round_trip() - 0.002).abs() < 1e-15);
    assert!((c.net(0.01) - 0.008).abs() < 1e-15);
    assert!((c.net(0.0) + 0.002).abs() < 1e-15);
    // The default fee is Upbit's KRW fee as the risk crate knows it.
    assert_eq!(
        risk::params::UPBIT_FEE_RATE.to_string(),
        c.fee_rate.to_string()
    );
    c.validate().unwrap();
    let cases = [
        (
            CostModel {
                fee_rate: -0.1,
                ..c
            },
            "costs.fee_rate",
        ),
        (
            CostModel {
                fee_rate: f64::NAN,
                ..c
            },
            "costs.fee_rate",
        ),
        (CostModel { slippage: 0.5, ..c }, "costs.slippage"),
    ];
    for (bad, field) in cases {
        assert_eq!(bad.validate().unwrap_err().field(), Some(field));
    }
}

// ---------------------------------------------------------------- properties

/// A random walk of valid 1-minute candles over minutes `0..n` with about
/// 3 % of the minutes missing (no trades).
fn arb_series() -> impl Strategy<Value = Vec<Candle>> {
    (300_usize..420, any::<u64>()).prop_map(|(n, seed)| {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut price = 1000.0;
        let mut out = Vec::new();
        for m in 0..n as i64 {
            let o = price;
            let c = o * (1.0 + (next() - 0.5) * 0.01);
            let h = o.max(c) * (1.0 + next() * 0.003);
            let l = o.min(c) * (1.0 - next() * 0.003);
            price = c;
            if next() < 0.03 {
                continue;
            }
            out.push(candle(m, o, h, l, c));
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn labels_never_look_before_t(series in arb_series(), start in 1_i64..50, secs in 0_i64..60, scale in 0.1_f64..10.0) {
        let t = at(start) + Duration::seconds(secs);
        let sealed = at(SEALED);
        let base = label(t, &series, sealed, &LabelConfig::default()).unwrap();
        // Rewrite every candle that starts before t.
        let changed: Vec<Candle> = series
            .iter()
            .map(|c| if c.ts < t {
                Candle { open: c.open * scale, high: c.high * scale, low: c.low * scale, close: c.close * scale, ..*c }
            } else { *c })
            .collect();
        prop_assert_eq!(&label(t, &changed, sealed, &LabelConfig::default()).unwrap(), &base);
        // Drop them entirely.
        let dropped: Vec<Candle> = series.iter().copied().filter(|c| c.ts >= t).collect();
        prop_assert_eq!(&label(t, &dropped, sealed, &LabelConfig::default()).unwrap(), &base);
    }

    #[test]
    fn labels_never_look_past_the_window(series in arb_series(), start in 0_i64..50, scale in 0.1_f64..10.0) {
        let t = at(start);
        let sealed = at(SEALED);
        let base = label(t, &series, sealed, &LabelConfig::default()).unwrap();
        if let LabelOutcome::Ready(l) = base {
            let end = l.entry_ts + Duration::minutes(LONG_HORIZON_MINUTES);
            let changed: Vec<Candle> = series
                .iter()
                .map(|c| if c.ts >= end {
                    Candle { open: c.open * scale, high: c.high * scale, low: c.low * scale, close: c.close * scale, ..*c }
                } else { *c })
                .collect();
            prop_assert_eq!(label(t, &changed, sealed, &LabelConfig::default()).unwrap(), base);
        }
    }

    #[test]
    fn ready_labels_are_consistent_and_stable(series in arb_series(), start in 0_i64..50, extra in 0_i64..500) {
        let t = at(start);
        let cfg = LabelConfig::default();
        // Seal just enough, then more: a ready label does not change.
        let first = label(t, &series, at(start + 246), &cfg).unwrap();
        let later = label(t, &series, at(start + 246 + extra), &cfg).unwrap();
        if let LabelOutcome::Ready(l) = first {
            prop_assert_eq!(later, LabelOutcome::Ready(l));
            prop_assert!(l.entry_ts >= t);
            prop_assert!(l.mfe_240m >= 0.0 && l.mae_240m >= 0.0);
            prop_assert!(l.dd_240m >= l.mae_240m - 1e-15);
            prop_assert!(l.ret_240m <= l.mfe_240m + 1e-15 && l.ret_240m >= -l.mae_240m - 1e-15);
            prop_assert!(l.ret_60m <= l.mfe_240m + 1e-15 && l.ret_60m >= -l.mae_240m - 1e-15);
        }
        // Never ready before the window is sealed.
        let early = label(t, &series, at(start + 239), &cfg).unwrap();
        prop_assert!(!matches!(early, LabelOutcome::Ready(_)));
    }
}
