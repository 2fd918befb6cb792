//! Property tests: the incremental states equal the batch forms bit for bit
//! (also across NaN and invalid candles), and the batch forms agree with
//! naive textbook definitions.

use chrono::{DateTime, Duration, Utc};
use indicators::{
    AdxState, AtrState, BollingerState, Candle, EmaState, Interval, RealizedVolState, Resampler,
    SmaState, adx, atr, bollinger, breadth_up, dispersion, ema, ema_alpha, realized_vol, resample,
    sma, top_n_value_share, whipsaw,
};
use proptest::prelude::*;

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// A price path: random steps, with an occasional NaN / infinite value.
fn prices() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            20 => (-0.05f64..0.05).prop_map(Some),
            1 => Just(None),
        ],
        0..200,
    )
    .prop_map(|steps| {
        let mut p = 100.0;
        steps
            .into_iter()
            .map(|s| match s {
                Some(r) => {
                    p *= 1.0 + r;
                    p
                }
                None => f64::NAN,
            })
            .collect()
    })
}

/// Candles over a random path; some invalid, some with zero volume, some gaps.
fn candles() -> impl Strategy<Value = Vec<Candle>> {
    prop::collection::vec(
        (-0.03f64..0.03, 0.0f64..0.02, 0.0f64..0.02, 0u8..20, 1i64..4),
        0..300,
    )
    .prop_map(|rows| {
        let t0: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().unwrap();
        let mut ts = t0;
        let mut close = 1000.0;
        rows.into_iter()
            .map(|(r, up, down, kind, gap)| {
                ts += Duration::minutes(gap);
                let open = close;
                close *= 1.0 + r;
                let high = open.max(close) * (1.0 + up);
                let low = open.min(close) * (1.0 - down);
                let mut c = Candle {
                    ts,
                    open,
                    high,
                    low,
                    close,
                    volume: f64::from(kind),
                    value: f64::from(kind) * close,
                };
                if kind == 0 {
                    c.high = f64::NAN; // invalid candle
                }
                c
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn scalar_states_equal_batch(values in prices(), period in 0usize..30, alpha in 0.0f64..1.2) {
        let batch = sma(&values, period);
        let mut s = SmaState::new(period);
        for (x, b) in values.iter().zip(&batch) {
            prop_assert!(same(s.update(*x), *b));
        }
        let batch = ema(&values, period);
        let mut s = EmaState::new(period);
        for (x, b) in values.iter().zip(&batch) {
            prop_assert!(same(s.update(*x), *b));
        }
        let batch = ema_alpha(&values, alpha);
        let mut s = EmaState::with_alpha(alpha);
        for (x, b) in values.iter().zip(&batch) {
            prop_assert!(same(s.update(*x), *b));
        }
        let batch = realized_vol(&values, period);
        let mut s = RealizedVolState::new(period);
        for (x, b) in values.iter().zip(&batch) {
            prop_assert!(same(s.update(*x), *b));
        }
        let batch = bollinger(&values, period, 2.0);
        let mut s = BollingerState::new(period, 2.0);
        for (x, b) in values.iter().zip(&batch) {
            let u = s.update(*x);
            prop_assert!(same(u.mid, b.mid) && same(u.upper, b.upper) && same(u.width, b.width));
        }
    }

    #[test]
    fn candle_states_equal_batch(c in candles(), period in 0usize..20) {
        let batch = atr(&c, period);
        let mut s = AtrState::new(period);
        for (x, b) in c.iter().zip(&batch) {
            prop_assert!(same(s.update(x), *b));
        }
        let batch = adx(&c, period);
        let mut s = AdxState::new(period);
        for (x, b) in c.iter().zip(&batch) {
            let v = s.update(x);
            prop_assert!(same(v, *b));
            prop_assert!(v.is_nan() || (0.0..=100.0).contains(&v), "adx {v}");
        }
    }

    #[test]
    fn sma_and_bollinger_match_naive_windows(values in prices(), period in 1usize..25) {
        let finite: Vec<(usize, f64)> = values.iter().copied().enumerate().filter(|(_, x)| x.is_finite()).collect();
        let got = sma(&values, period);
        let bands = bollinger(&values, period, 2.0);
        for (k, (i, _)) in finite.iter().enumerate() {
            if k + 1 < period {
                prop_assert!(got[*i].is_nan());
                continue;
            }
            let w: Vec<f64> = finite[k + 1 - period..=k].iter().map(|(_, x)| *x).collect();
            let mean = w.iter().sum::<f64>() / period as f64;
            let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / period as f64).sqrt();
            prop_assert!((got[*i] - mean).abs() <= 1e-9 * mean.abs().max(1.0), "{} vs {mean}", got[*i]);
            prop_assert!((bands[*i].upper - (mean + 2.0 * sd)).abs() <= 1e-7 * mean.abs().max(1.0));
        }
    }

    #[test]
    fn cross_section_ranges(values in prop::collection::vec(prop_oneof![-1.0f64..1.0, Just(f64::NAN)], 0..60), n in 0usize..10) {
        let b = breadth_up(&values);
        prop_assert!(b.is_nan() || (0.0..=1.0).contains(&b));
        let d = dispersion(&values);
        prop_assert!(d.is_nan() || d >= 0.0);
        let abs: Vec<f64> = values.iter().map(|x| x.abs()).collect();
        let s = top_n_value_share(&abs, n);
        prop_assert!(s.is_nan() || (0.0..=1.0).contains(&s));
        let w = whipsaw(&values);
        prop_assert!(w.is_nan() || (0.0..=1.0).contains(&w));
    }

    #[test]
    fn resampler_equals_batch_and_conserves_volume(c in candles()) {
        for to in [Interval::M5, Interval::H1, Interval::H4] {
            let batch = resample(&c, to);
            let mut r = Resampler::new(to);
            let mut inc: Vec<Candle> = c.iter().filter_map(|x| r.push(x)).collect();
            inc.extend(r.finish());
            prop_assert_eq!(&inc, &batch);
            let valid_volume: f64 = c.iter().filter(|x| x.is_valid()).map(|x| x.volume).sum();
            let out_volume: f64 = batch.iter().map(|x| x.volume).sum();
            prop_assert!((valid_volume - out_volume).abs() < 1e-6);
            for w in batch.windows(2) {
                prop_assert!(w[0].ts < w[1].ts);
            }
            for b in &batch {
                prop_assert_eq!(to.bucket_start(b.ts), b.ts);
                prop_assert!(b.low <= b.high);
            }
        }
    }
}
