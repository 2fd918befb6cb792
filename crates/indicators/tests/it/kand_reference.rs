//! Our SMA / EMA / TR / ATR / ADX / Bollinger against `kand` (a TA-Lib port)
//! on real KRW-BTC hourly candles. kand returns an error where the input is
//! too short and NaN during warm-up; we return NaN for both, at the same
//! indices.

use indicators::{Candle, adx, atr, bollinger, ema, sma, true_range};

use crate::data::btc_hourly_luna;

fn columns(c: &[Candle]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    (
        c.iter().map(|x| x.high).collect(),
        c.iter().map(|x| x.low).collect(),
        c.iter().map(|x| x.close).collect(),
    )
}

/// Asserts two series agree to a relative 1e-9 and are NaN at the same places.
fn assert_close(name: &str, ours: &[f64], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{name}: length");
    let mut compared = 0;
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert_eq!(a.is_nan(), b.is_nan(), "{name}[{i}]: ours {a}, kand {b}");
        if a.is_finite() {
            let tol = 1e-9 * b.abs().max(1.0);
            assert!((a - b).abs() <= tol, "{name}[{i}]: ours {a}, kand {b}");
            compared += 1;
        }
    }
    assert!(
        compared > ours.len() / 2,
        "{name}: only {compared} values compared"
    );
}

#[test]
fn moving_averages_match_kand() {
    let (_, _, close) = columns(&btc_hourly_luna());
    for period in [2, 5, 14, 20, 50] {
        let mut theirs = vec![0.0; close.len()];
        kand::ohlcv::sma::sma(&close, period, &mut theirs).unwrap();
        assert_close(&format!("sma{period}"), &sma(&close, period), &theirs);
        kand::ohlcv::ema::ema(&close, period, None, &mut theirs).unwrap();
        assert_close(&format!("ema{period}"), &ema(&close, period), &theirs);
    }
}

#[test]
fn true_range_and_atr_match_kand() {
    let candles = btc_hourly_luna();
    let (high, low, close) = columns(&candles);
    let mut theirs = vec![0.0; close.len()];
    kand::ohlcv::trange::trange(&high, &low, &close, &mut theirs).unwrap();
    let ours = true_range(&candles);
    // kand (TA-Lib) leaves index 0 NaN; ours is high − low there.
    assert!(theirs[0].is_nan());
    assert_eq!(ours[0], high[0] - low[0]);
    assert_close("trange", &ours[1..], &theirs[1..]);
    for period in [2, 7, 14, 30] {
        kand::ohlcv::atr::atr(&high, &low, &close, period, &mut theirs).unwrap();
        assert_close(&format!("atr{period}"), &atr(&candles, period), &theirs);
    }
}

#[test]
fn adx_matches_kand() {
    let candles = btc_hourly_luna();
    let (high, low, close) = columns(&candles);
    let n = close.len();
    for period in [2, 5, 14, 28] {
        let (mut out, mut p, mut m, mut t) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        kand::ohlcv::adx::adx(
            &high, &low, &close, period, &mut out, &mut p, &mut m, &mut t,
        )
        .unwrap();
        assert_close(&format!("adx{period}"), &adx(&candles, period), &out);
    }
}

#[test]
fn bollinger_matches_kand() {
    let (_, _, close) = columns(&btc_hourly_luna());
    let n = close.len();
    for (period, k) in [(20, 2.0), (10, 1.5), (50, 3.0)] {
        let mut o: Vec<Vec<f64>> = (0..7).map(|_| vec![0.0; n]).collect();
        let [upper, middle, lower, s, var, sum, sum_sq] = &mut o[..] else {
            unreachable!()
        };
        kand::ohlcv::bbands::bbands(
            &close, period, k, k, upper, middle, lower, s, var, sum, sum_sq,
        )
        .unwrap();
        let ours = bollinger(&close, period, k);
        let pick = |f: fn(&indicators::Bands) -> f64| ours.iter().map(f).collect::<Vec<_>>();
        assert_close("bb.mid", &pick(|b| b.mid), middle);
        // The band edges are mid ± k·sd; sd is small against mid here, so
        // compare the half-width itself, where a precision loss would show.
        let half: Vec<f64> = upper
            .iter()
            .zip(middle.iter())
            .map(|(u, m)| u - m)
            .collect();
        let our_half = pick(|b| b.upper - b.mid);
        for (i, (a, b)) in our_half.iter().zip(&half).enumerate() {
            assert_eq!(a.is_nan(), b.is_nan(), "half[{i}]");
            if a.is_finite() {
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                    "half[{i}]: {a} vs {b}"
                );
            }
        }
        assert_close("bb.lower", &pick(|b| b.lower), lower);
    }
}

#[test]
fn adx_reads_the_luna_crash_as_a_strong_trend() {
    // Sanity on real data: BTC fell ~30 % between 2022-05-05 and 05-12 in one
    // direction; hourly ADX(14) must rise well above 25 during it.
    let candles = btc_hourly_luna();
    let adx = adx(&candles, 14);
    let max = candles
        .iter()
        .zip(&adx)
        .filter(|(c, _)| {
            c.ts >= "2022-05-09T00:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        })
        .map(|(_, a)| *a)
        .fold(f64::NAN, f64::max);
    assert!(max > 40.0, "max ADX during the crash {max}");
}
