//! Leader-Follower (LF, STR-3): when the leader (KRW-BTC) moves up and a
//! correlated market has not followed yet, the follower is expected to catch
//! up — a long setup; a falling leader drags correlated markets down.
//!
//! On candles aligned by open time (the last 36 log returns): `corr`, `beta`
//! and per-candle volatilities `σ_L`, `σ_F`; over the last 3 candles the
//! leader's move `z_L = r_L / (σ_L √3)` and the follower's lag
//! `lag = (beta × r_L − r_F) / (σ_F √3)`. With `M = clamp(z_L / 2)`,
//! `C = ramp(corr, 0.3, 0.8)` and `G = clamp(lag / 1.5)`: signal
//! `C × M × (0.5 + 0.5 × G)` when the leader rises, `C × M` otherwise; score
//! `50 + 50 × signal`. The leader itself scores a neutral 50.

use indicators::Candle;

use super::common::{ramp, signed_unit, to_score};
use crate::score::{ModuleInput, ModuleScore, ScoreModule};

/// The Leader-Follower module.
#[derive(Debug, Clone)]
pub struct LeaderFollower {
    /// Returns used for correlation, beta and volatility.
    pub corr_window: usize,
    /// Candles over which the leader's move and the follower's lag are measured.
    pub move_bars: usize,
}

impl Default for LeaderFollower {
    fn default() -> Self {
        Self {
            corr_window: 36,
            move_bars: 3,
        }
    }
}

/// Closes of the candles both series have (same open time), oldest first.
fn aligned(follower: &[Candle], leader: &[Candle]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(follower.len().min(leader.len()));
    let (mut i, mut j) = (0, 0);
    while i < follower.len() && j < leader.len() {
        match follower[i].ts.cmp(&leader[j].ts) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push((follower[i].close, leader[j].close));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

impl ScoreModule for LeaderFollower {
    fn id(&self) -> &'static str {
        crate::definition::module_ids::LF
    }

    fn min_candles(&self) -> usize {
        self.corr_window.max(self.move_bars) + 1
    }

    fn score(&self, input: &ModuleInput<'_>) -> ModuleScore {
        if input.market == input.leader_market {
            return ModuleScore::new(50.0).reason("LF_IS_LEADER");
        }
        let Some(leader) = input.leader_candles.filter(|l| !l.is_empty()) else {
            return ModuleScore::new(0.0).reason("LF_NO_LEADER_DATA");
        };
        let pairs = aligned(input.candles, leader);
        let need = self.min_candles();
        if pairs.len() < need || self.corr_window < 3 || self.move_bars == 0 {
            return ModuleScore::new(0.0)
                .reason("LF_INSUFFICIENT_DATA")
                .metric("aligned_bars", pairs.len() as f64);
        }
        let pairs = &pairs[pairs.len() - need..];
        let log_ret = |a: f64, b: f64| (b / a).ln();
        let rf: Vec<f64> = pairs.windows(2).map(|w| log_ret(w[0].0, w[1].0)).collect();
        let rl: Vec<f64> = pairs.windows(2).map(|w| log_ret(w[0].1, w[1].1)).collect();
        if rf.iter().chain(&rl).any(|r| !r.is_finite()) {
            return ModuleScore::new(0.0).reason("LF_INSUFFICIENT_DATA");
        }
        let rf = &rf[rf.len() - self.corr_window..];
        let rl = &rl[rl.len() - self.corr_window..];
        let (mf, sf) = mean_std(rf);
        let (ml, sl) = mean_std(rl);
        if !(sf > 0.0 && sl > 0.0) {
            return ModuleScore::new(0.0).reason("LF_FLAT_MARKET");
        }
        let cov = rf
            .iter()
            .zip(rl)
            .map(|(f, l)| (f - mf) * (l - ml))
            .sum::<f64>()
            / (rf.len() as f64 - 1.0);
        let corr = (cov / (sf * sl)).clamp(-1.0, 1.0);
        let beta = cov / (sl * sl);
        let k = pairs.len() - 1;
        let m = self.move_bars;
        let r_l = log_ret(pairs[k - m].1, pairs[k].1);
        let r_f = log_ret(pairs[k - m].0, pairs[k].0);
        let root = (m as f64).sqrt();
        let z_l = r_l / (sl * root);
        let lag = (beta * r_l - r_f) / (sf * root);
        let mom = signed_unit(z_l / 2.0);
        let c = ramp(corr, 0.3, 0.8);
        let g = signed_unit(lag / 1.5);
        let signal = if mom > 0.0 {
            c * mom * (0.5 + 0.5 * g)
        } else {
            c * mom
        };
        ModuleScore::new(to_score(signal))
            .reason(if z_l >= 1.0 {
                "LF_LEADER_UP"
            } else if z_l <= -1.0 {
                "LF_LEADER_DOWN"
            } else {
                "LF_LEADER_FLAT"
            })
            .reason(if corr >= 0.5 {
                "LF_CORRELATED"
            } else {
                "LF_UNCORRELATED"
            })
            .reason_if(lag >= 0.5, "LF_FOLLOWER_LAGGING")
            .reason_if(lag <= -0.5, "LF_FOLLOWER_AHEAD")
            .metric("leader_ret_pct", r_l.exp_m1() * 100.0)
            .metric("follower_ret_pct", r_f.exp_m1() * 100.0)
            .metric("corr", corr)
            .metric("beta", beta)
            .metric("leader_z", z_l)
            .metric("lag_z", lag)
    }
}

#[cfg(test)]
mod tests;
