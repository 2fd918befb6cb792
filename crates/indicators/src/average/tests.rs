//! Hand-worked SMA / EMA cases, including NaN, empty input and period 0.

use super::*;
use crate::test_util::assert_series;

const NAN: f64 = f64::NAN;

fn check_sma(values: &[f64], period: usize, want: &[f64]) {
    assert_series(&sma(values, period), want, 1e-12);
}

fn check_ema(values: &[f64], period: usize, want: &[f64]) {
    assert_series(&ema(values, period), want, 1e-12);
}

#[test]
fn sma_cases() {
    check_sma(&[], 3, &[]);
    check_sma(&[1.0, 2.0, 3.0, 4.0, 5.0], 3, &[NAN, NAN, 2.0, 3.0, 4.0]);
    check_sma(&[1.0, 2.0], 3, &[NAN, NAN]);
    check_sma(&[7.0], 1, &[7.0]);
    check_sma(&[1.0, 2.0, 3.0], 0, &[NAN, NAN, NAN]);
    // A NaN is skipped: NaN at its own position, the window continues over it.
    check_sma(&[1.0, 2.0, NAN, 3.0, 4.0], 3, &[NAN, NAN, NAN, 2.0, 3.0]);
    check_sma(&[f64::INFINITY, 2.0, 4.0], 2, &[NAN, NAN, 3.0]);
}

#[test]
fn ema_cases() {
    // alpha = 2/(3+1) = 0.5; seed = SMA(1,2,3) = 2; then 2 + 0.5(4-2) = 3, 3 + 0.5(8-3) = 5.5
    check_ema(&[1.0, 2.0, 3.0, 4.0, 8.0], 3, &[NAN, NAN, 2.0, 3.0, 5.5]);
    check_ema(&[], 3, &[]);
    check_ema(&[5.0], 1, &[5.0]);
    check_ema(&[1.0, 2.0], 0, &[NAN, NAN]);
    check_ema(
        &[1.0, NAN, 3.0, 5.0],
        2,
        &[NAN, NAN, 2.0, 2.0 + 2.0 / 3.0 * 3.0],
    );
}

#[test]
fn ema_alpha_cases() {
    let check = |values: &[f64], alpha: f64, want: &[f64]| {
        assert_series(&ema_alpha(values, alpha), want, 1e-12);
    };
    // STR-4: alpha 0.3 seeded with the first value.
    check(&[10.0, 20.0, 20.0], 0.3, &[10.0, 13.0, 15.1]);
    check(&[NAN, 10.0, 20.0], 0.3, &[NAN, 10.0, 13.0]);
    check(&[1.0, 2.0], 1.0, &[1.0, 2.0]);
    for bad in [0.0, -0.5, 1.5, NAN] {
        check(&[1.0, 2.0], bad, &[NAN, NAN]);
    }
    assert!(EmaState::with_alpha(0.0).alpha().is_nan());
}

#[test]
fn value_keeps_last_after_skipped_input() {
    let mut s = SmaState::new(2);
    s.update(1.0);
    s.update(3.0);
    assert!(s.update(NAN).is_nan());
    assert_eq!(s.value(), 2.0);
    assert_eq!(s.period(), 2);
    let mut e = EmaState::new(1);
    e.update(4.0);
    assert!(e.update(NAN).is_nan());
    assert_eq!(e.value(), 4.0);
}
