//! Hand-worked true range, ATR, returns and realized volatility.

use super::*;
use crate::test_util::{assert_series, bars};

const NAN: f64 = f64::NAN;

#[test]
fn true_range_cases() {
    let check = |hlc: &[(f64, f64, f64)], want: &[f64]| {
        assert_series(&true_range(&bars(hlc)), want, 1e-12);
    };
    check(&[], &[]);
    check(&[(10.0, 8.0, 9.0)], &[2.0]);
    // gap up: max(12, 9) - min(11, 9) = 3; gap down: max(8, 11.5) - min(7, 11.5) = 4.5
    check(
        &[(10.0, 8.0, 9.0), (12.0, 11.0, 11.5), (8.0, 7.0, 7.5)],
        &[2.0, 3.0, 4.5],
    );
    // An invalid candle is NaN and skipped: the next one uses close 9.
    check(
        &[(10.0, 8.0, 9.0), (NAN, 1.0, 1.0), (9.5, 9.2, 9.3)],
        &[2.0, NAN, 0.5],
    );
    check(&[(8.0, 10.0, 9.0)], &[NAN]);
}

#[test]
fn atr_hand_worked() {
    // TRs after the first candle: 3, 4.5, 1, 1.5 (see true_range_cases for the first two).
    let c = bars(&[
        (10.0, 8.0, 9.0),
        (12.0, 11.0, 11.5),
        (8.0, 7.0, 7.5),
        (8.0, 7.0, 7.5),
        (9.0, 7.5, 8.0),
    ]);
    // period 2: first ATR at index 2 = (3 + 4.5)/2 = 3.75; then (3.75 + 1)/2 = 2.375;
    // then (2.375 + 1.5)/2 = 1.9375
    assert_series(&atr(&c, 2), &[NAN, NAN, 3.75, 2.375, 1.9375], 1e-12);
    assert_series(&atr(&c, 1), &[NAN, 3.0, 4.5, 1.0, 1.5], 1e-12);
    assert_series(&atr(&c, 0), &[NAN; 5], 0.0);
    assert_series(&atr(&c, 10), &[NAN; 5], 0.0);
    assert_series(&atr(&c[..1], 1), &[NAN], 0.0);
    assert!(atr(&[], 14).is_empty());
}

#[test]
fn atr_skips_invalid_candles() {
    let mut c = bars(&[
        (10.0, 8.0, 9.0),
        (12.0, 11.0, 11.5),
        (1.0, 2.0, 1.5),
        (8.0, 7.0, 7.5),
    ]);
    c[2].high = 1.0; // high < low: invalid
    assert_series(&atr(&c, 2), &[NAN, NAN, NAN, 3.75], 1e-12);
    let mut s = AtrState::new(2);
    for x in &c {
        s.update(x);
    }
    assert_eq!(s.value(), 3.75);
}

#[test]
fn returns_cases() {
    assert_series(&returns(&[100.0, 110.0, 99.0]), &[NAN, 0.1, -0.1], 1e-12);
    assert_series(&returns(&[0.0, 1.0, NAN, 2.0]), &[NAN, NAN, NAN, NAN], 0.0);
    assert!(returns(&[]).is_empty());
    assert_series(
        &log_returns(&[100.0, 200.0, 100.0, -1.0, 5.0]),
        &[NAN, 2f64.ln(), -(2f64.ln()), NAN, NAN],
        1e-12,
    );
}

#[test]
fn realized_vol_cases() {
    // log returns: ln2, -ln2, ln2 → sample sd over 2 = |ln2 - (-ln2)|/sqrt(2) = sqrt(2)·ln2
    let v = realized_vol(&[1.0, 2.0, 1.0, 2.0], 2);
    assert_series(
        &v,
        &[NAN, NAN, 2f64.sqrt() * 2f64.ln(), 2f64.sqrt() * 2f64.ln()],
        1e-12,
    );
    assert_series(&realized_vol(&[1.0, 2.0, 3.0], 1), &[NAN; 3], 0.0);
    assert_series(
        &realized_vol(&[1.0, 1.0, 1.0, 1.0], 3),
        &[NAN, NAN, NAN, 0.0],
        0.0,
    );
    // A bad price breaks two returns (into it and out of it); both are skipped.
    let v = realized_vol(&[1.0, 2.0, NAN, 4.0, 8.0, 16.0], 2);
    assert_series(&v, &[NAN, NAN, NAN, NAN, 0.0, 0.0], 1e-12);
}
