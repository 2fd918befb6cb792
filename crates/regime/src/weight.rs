//! REG-3: how a per-label strategy weight `w` is applied given the regime's
//! confidence. At score 0 the weight is neutral (1), at 100 it is `w` in full.

/// `applied_weight = 1 + (w − 1) × score / 100` (REG-3). The score is clamped
/// to `[0, 100]`; a NaN `w` or score gives NaN (a caller comparing the result
/// against a threshold then refuses, which is the safe direction).
pub fn applied_weight(w: f64, regime_score: f64) -> f64 {
    1.0 + (w - 1.0) * (regime_score.clamp(0.0, 100.0) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(w: f64, score: f64, want: f64) {
        let got = applied_weight(w, score);
        if want.is_nan() {
            assert!(got.is_nan(), "w {w} score {score}: got {got}");
        } else {
            assert!(
                (got - want).abs() < 1e-12,
                "w {w} score {score}: want {want}, got {got}"
            );
        }
    }

    #[test]
    fn formula_table() {
        for (w, score, want) in [
            (1.5, 100.0, 1.5),
            (1.5, 0.0, 1.0),
            (1.5, 50.0, 1.25),
            (0.5, 50.0, 0.75),
            (0.0, 100.0, 0.0),
            (1.0, 73.0, 1.0),
            (2.0, 150.0, 2.0), // clamped to 100
            (2.0, -10.0, 1.0), // clamped to 0
            (f64::NAN, 50.0, f64::NAN),
            (1.5, f64::NAN, f64::NAN),
        ] {
            check(w, score, want);
        }
    }
}
