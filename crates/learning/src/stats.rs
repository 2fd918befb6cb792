//! Small descriptive statistics over `f64` samples, shared by the gate
//! metrics (OPT-2) and the drift rules (STAB-2). Callers pass finite values.

/// Mean and sample standard deviation (n − 1). The mean is `None` for an empty
/// sample; the deviation is `None` below two values. When every value is
/// identical the mean is that value exactly and the deviation exactly 0 (the
/// two-pass formula would otherwise leave rounding dust such as 1e-17, which
/// would turn a degenerate sample into an enormous Sharpe ratio).
#[allow(
    clippy::float_cmp,
    reason = "exact equality is the point: identical samples"
)]
pub(crate) fn mean_sd(xs: &[f64]) -> (Option<f64>, Option<f64>) {
    let Some(&first) = xs.first() else {
        return (None, None);
    };
    if xs.iter().all(|&x| x == first) {
        return (Some(first), (xs.len() >= 2).then_some(0.0));
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (Some(mean), None);
    }
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    (Some(mean), Some((ss / (n - 1.0)).sqrt()))
}

/// The `p`-quantile of an ascending slice by linear interpolation between
/// order statistics (Hyndman & Fan type 7, numpy's default): position
/// `p × (n − 1)`. `None` for an empty slice.
pub(crate) fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = p.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// Sorted copy of the values (total order; callers pass finite values).
pub(crate) fn sorted(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-12,
            (None, None) => true,
            _ => false,
        }
    }

    #[test]
    fn mean_sd_table() {
        let cases: &[(&[f64], Option<f64>, Option<f64>)] = &[
            (&[], None, None),
            (&[0.3], Some(0.3), None),
            (&[0.1, 0.1, 0.1], Some(0.1), Some(0.0)),
            (
                &[1.0, 2.0, 3.0, 4.0],
                Some(2.5),
                Some(1.290_994_448_735_805_6),
            ),
            (&[-0.01, 0.01], Some(0.0), Some(0.014_142_135_623_730_95)),
        ];
        for (xs, mean, sd) in cases {
            let (m, s) = mean_sd(xs);
            assert!(close(m, *mean), "{xs:?}: mean {m:?} want {mean:?}");
            assert!(close(s, *sd), "{xs:?}: sd {s:?} want {sd:?}");
        }
    }

    #[test]
    fn quantile_table() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let cases = [
            (0.0, Some(1.0)),
            (0.05, Some(1.2)),
            (0.5, Some(3.0)),
            (0.95, Some(4.8)),
            (1.0, Some(5.0)),
        ];
        for (p, want) in cases {
            assert!(close(quantile_sorted(&xs, p), want), "p {p}");
        }
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(quantile_sorted(&[7.0], 0.01), Some(7.0));
    }
}
