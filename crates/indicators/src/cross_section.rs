//! Statistics across markets at one instant (one value per market; NaN entries
//! are ignored) and the whipsaw rate of one series.

/// Fraction of finite returns that are strictly positive, in `[0, 1]`
/// (NaN when there is no finite entry).
pub fn breadth_up(returns: &[f64]) -> f64 {
    let (mut n, mut up) = (0_usize, 0_usize);
    for &r in returns.iter().filter(|r| r.is_finite()) {
        n += 1;
        if r > 0.0 {
            up += 1;
        }
    }
    if n == 0 {
        f64::NAN
    } else {
        up as f64 / n as f64
    }
}

/// Cross-sectional population standard deviation of the finite entries
/// (NaN below two entries: one market has no dispersion to speak of).
pub fn dispersion(returns: &[f64]) -> f64 {
    let finite = || returns.iter().copied().filter(|r| r.is_finite());
    let n = finite().count();
    if n < 2 {
        return f64::NAN;
    }
    let mean = finite().sum::<f64>() / n as f64;
    let var = finite().map(|r| (r - mean) * (r - mean)).sum::<f64>() / n as f64;
    var.sqrt()
}

/// Share of the `n` largest values in the total, in `[0, 1]`. Entries that
/// are not finite or negative are ignored; NaN when the total is zero or
/// there is no usable entry.
pub fn top_n_value_share(values: &[f64], n: usize) -> f64 {
    let mut v: Vec<f64> = values
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .collect();
    let total: f64 = v.iter().sum();
    if v.is_empty() || total <= 0.0 || !total.is_finite() {
        return f64::NAN;
    }
    let n = n.min(v.len());
    if n == 0 {
        return 0.0;
    }
    if n < v.len() {
        // Partition so the n largest come first; no full sort needed.
        v.select_nth_unstable_by(n - 1, |a, b| b.total_cmp(a));
    }
    let top: f64 = v[..n].iter().sum();
    (top / total).clamp(0.0, 1.0)
}

/// Direction-change rate of a close series, in `[0, 1]`: among consecutive
/// non-zero moves, the fraction whose sign differs from the previous move.
/// A random walk gives about 0.5, a clean trend near 0, a saw-tooth 1.
/// Non-finite closes are skipped and flat moves are ignored. NaN with fewer
/// than three finite closes; 0 when there are fewer than two non-zero moves
/// (nothing changed direction).
pub fn whipsaw(closes: &[f64]) -> f64 {
    let mut finite = 0_usize;
    let mut prev_close = f64::NAN;
    let mut prev_sign = 0_i8;
    let (mut pairs, mut changes) = (0_usize, 0_usize);
    for &c in closes.iter().filter(|c| c.is_finite()) {
        finite += 1;
        if prev_close.is_finite() {
            let sign = if c > prev_close {
                1
            } else if c < prev_close {
                -1
            } else {
                0
            };
            if sign != 0 {
                if prev_sign != 0 {
                    pairs += 1;
                    if sign != prev_sign {
                        changes += 1;
                    }
                }
                prev_sign = sign;
            }
        }
        prev_close = c;
    }
    if finite < 3 {
        f64::NAN
    } else if pairs == 0 {
        0.0
    } else {
        changes as f64 / pairs as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f64 = f64::NAN;

    fn check(name: &str, got: f64, want: f64) {
        if want.is_nan() {
            assert!(got.is_nan(), "{name}: want NaN, got {got}");
        } else {
            assert!((got - want).abs() < 1e-12, "{name}: want {want}, got {got}");
        }
    }

    #[test]
    fn breadth() {
        for (input, want) in [
            (&[0.1, -0.1, 0.0, 0.2][..], 0.5),
            (&[NAN, 0.1, f64::INFINITY][..], 1.0),
            (&[][..], NAN),
            (&[NAN][..], NAN),
            (&[0.0, 0.0][..], 0.0),
        ] {
            check(&format!("breadth {input:?}"), breadth_up(input), want);
        }
    }

    #[test]
    fn dispersion_cases() {
        for (input, want) in [
            (&[1.0, 3.0][..], 1.0),
            (&[1.0, NAN, 3.0, 2.0][..], (2.0f64 / 3.0).sqrt()),
            (&[5.0][..], NAN),
            (&[][..], NAN),
            (&[2.0, 2.0, 2.0][..], 0.0),
        ] {
            check(&format!("dispersion {input:?}"), dispersion(input), want);
        }
    }

    #[test]
    fn top_n_share() {
        for (input, n, want) in [
            (&[1.0, 2.0, 3.0, 4.0][..], 2, 0.7),
            (&[1.0, 2.0, 3.0, 4.0][..], 10, 1.0),
            (&[1.0, 2.0, 3.0, 4.0][..], 0, 0.0),
            (&[4.0, NAN, -3.0, 4.0][..], 1, 0.5),
            (&[0.0, 0.0][..], 1, NAN),
            (&[][..], 5, NAN),
            (&[7.0][..], 5, 1.0),
            (&[f64::INFINITY, 1.0][..], 1, 1.0),
        ] {
            check(
                &format!("top{n} {input:?}"),
                top_n_value_share(input, n),
                want,
            );
        }
    }

    #[test]
    fn whipsaw_cases() {
        for (input, want) in [
            (&[1.0, 2.0, 3.0, 4.0][..], 0.0),
            (&[1.0, 2.0, 1.0, 2.0, 1.0][..], 1.0),
            (&[1.0, 2.0, 3.0, 2.0, 3.0][..], 2.0 / 3.0),
            // flat moves are ignored: up, (flat), down, up → 2 changes of 2 pairs
            (&[1.0, 2.0, 2.0, 1.0, 2.0][..], 1.0),
            (&[1.0, NAN, 2.0, 1.0][..], 1.0),
            (&[5.0, 5.0, 5.0][..], 0.0),
            (&[1.0, 2.0][..], NAN),
            (&[][..], NAN),
            (&[1.0, NAN, NAN][..], NAN),
        ] {
            check(&format!("whipsaw {input:?}"), whipsaw(input), want);
        }
    }
}
