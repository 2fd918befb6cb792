//! The screener (universe selection, STR-1 / SPEC §11): per-market liquidity
//! and volatility numbers in, candidates
//! `[{market, value_24h, spread, avg_depth5, volatility, reason_flags}]` out,
//! in a deterministic order (24 h traded value descending, then market code).
//!
//! Filters, all from [`UniverseSettings`]: Upbit market warning (when
//! excluded), minimum 24 h value, maximum spread, minimum average top-5 ask
//! depth, volatility band; then the `top_n` highest-value survivors are kept.
//! Every market that is not a candidate is reported with every reason.

use chrono::{DateTime, Duration, Utc};
use domain::{Market, ReasonCode};
use indicators::Candle;
use risk::{OrderBook, checks::DEPTH_LEVELS};
use serde::{Deserialize, Serialize};

use crate::definition::UniverseSettings;

/// The volatility window: standard deviation of 1-minute log returns over this many minutes.
pub const VOLATILITY_MINUTES: usize = 60;

/// The screener's input for one market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketSnapshot {
    /// Market.
    pub market: Market,
    /// Traded KRW over the last 24 h.
    pub value_24h: f64,
    /// Relative spread `(ask − bid) / mid`.
    pub spread: f64,
    /// Mean KRW per level over the top-5 asks.
    pub avg_depth5: f64,
    /// Standard deviation of 1-minute log returns over the last hour.
    pub volatility: f64,
    /// Upbit market warning (CAUTION) in force.
    pub warning: bool,
}

impl MarketSnapshot {
    /// Builds the snapshot from 1-minute candles (oldest first) and an order
    /// book. The 24 h value sums `value` (or `close × volume` where `value` is
    /// not positive, e.g. data without turnover) over candles opened within
    /// 24 h before `now`. A missing book gives NaN spread and zero depth
    /// (which the filters reject).
    pub fn from_data(
        market: Market,
        candles_1m: &[Candle],
        book: Option<&OrderBook>,
        warning: bool,
        now: DateTime<Utc>,
    ) -> Self {
        let since = now - Duration::hours(24);
        let value_24h = candles_1m
            .iter()
            .rev()
            .take_while(|c| c.ts >= since)
            .filter(|c| c.ts < now)
            .map(|c| {
                if c.value > 0.0 {
                    c.value
                } else {
                    c.close * c.volume
                }
            })
            .filter(|v| v.is_finite())
            .sum();
        let (spread, avg_depth5) = book.map_or((f64::NAN, 0.0), |b| {
            (
                b.spread().unwrap_or(f64::NAN),
                b.ask_depth_avg(DEPTH_LEVELS).to_f64_lossy(),
            )
        });
        Self {
            market,
            value_24h,
            spread,
            avg_depth5,
            volatility: minute_volatility(candles_1m),
            warning,
        }
    }
}

/// Standard deviation of the last [`VOLATILITY_MINUTES`] 1-minute log returns
/// (NaN with fewer than 10 usable returns).
pub fn minute_volatility(candles_1m: &[Candle]) -> f64 {
    let tail = &candles_1m[candles_1m.len().saturating_sub(VOLATILITY_MINUTES + 1)..];
    let r: Vec<f64> = tail
        .windows(2)
        .map(|w| (w[1].close / w[0].close).ln())
        .filter(|x| x.is_finite())
        .collect();
    if r.len() < 10 {
        return f64::NAN;
    }
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// A selected market (SPEC §11 screener output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Market.
    pub market: Market,
    /// 1-based rank by 24 h value among the candidates.
    pub rank: usize,
    /// Traded KRW over 24 h.
    pub value_24h: f64,
    /// Relative spread.
    pub spread: f64,
    /// Mean KRW per level, top-5 asks.
    pub avg_depth5: f64,
    /// 1-minute volatility.
    pub volatility: f64,
    /// Notes: `SCR_TOP_N`, and `SCR_NEAR_SPREAD_LIMIT` / `SCR_NEAR_DEPTH_LIMIT`
    /// when within 20 % of a limit.
    pub reason_flags: Vec<ReasonCode>,
}

/// A market left out, with every reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// Market.
    pub market: Market,
    /// Every failed filter.
    pub reasons: Vec<ReasonCode>,
}

/// The screener's result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Screening {
    /// Selected markets, best first.
    pub candidates: Vec<Candidate>,
    /// Everything else, in input-independent order (value desc, then code).
    pub rejected: Vec<Rejection>,
}

fn code(c: &'static str) -> ReasonCode {
    ReasonCode::new_static(c)
}

/// Runs the filters and the top-N cut. Duplicate markets keep the first snapshot.
pub fn screen(snapshots: &[MarketSnapshot], u: &UniverseSettings) -> Screening {
    let mut sorted: Vec<&MarketSnapshot> = snapshots.iter().collect();
    // Highest value first; NaN values last; ties by market code.
    sorted.sort_by(|a, b| {
        let va = if a.value_24h.is_nan() {
            f64::NEG_INFINITY
        } else {
            a.value_24h
        };
        let vb = if b.value_24h.is_nan() {
            f64::NEG_INFINITY
        } else {
            b.value_24h
        };
        vb.total_cmp(&va).then_with(|| a.market.cmp(&b.market))
    });
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Screening::default();
    for s in sorted {
        if !seen.insert(&s.market) {
            continue;
        }
        let mut reasons = Vec::new();
        let numbers = [s.value_24h, s.spread, s.avg_depth5, s.volatility];
        if numbers.iter().any(|v| !v.is_finite()) {
            reasons.push(code("SCR_BAD_INPUT"));
        }
        if u.exclude_warnings && s.warning {
            reasons.push(code("SCR_MARKET_WARNING"));
        }
        // Written so that a NaN fails every filter it takes part in.
        let value_ok = s.value_24h >= u.min_value_24h_krw;
        let spread_ok = s.spread <= u.max_spread;
        let depth_ok = s.avg_depth5 >= u.min_avg_depth5_krw && s.avg_depth5 > 0.0;
        let vol_ok = s.volatility >= u.min_volatility;
        if !value_ok {
            reasons.push(code("SCR_VALUE_TOO_LOW"));
        }
        if !spread_ok {
            reasons.push(code("SCR_SPREAD_TOO_WIDE"));
        }
        if !depth_ok {
            reasons.push(code("SCR_DEPTH_TOO_THIN"));
        }
        if !vol_ok {
            reasons.push(code("SCR_VOLATILITY_TOO_LOW"));
        }
        if s.volatility > u.max_volatility {
            reasons.push(code("SCR_VOLATILITY_TOO_HIGH"));
        }
        if reasons.is_empty() && out.candidates.len() >= u.top_n {
            reasons.push(code("SCR_OUTSIDE_TOP_N"));
        }
        if reasons.is_empty() {
            let mut flags = vec![code("SCR_TOP_N")];
            if s.spread > 0.8 * u.max_spread {
                flags.push(code("SCR_NEAR_SPREAD_LIMIT"));
            }
            if s.avg_depth5 < 1.2 * u.min_avg_depth5_krw {
                flags.push(code("SCR_NEAR_DEPTH_LIMIT"));
            }
            out.candidates.push(Candidate {
                market: s.market.clone(),
                rank: out.candidates.len() + 1,
                value_24h: s.value_24h,
                spread: s.spread,
                avg_depth5: s.avg_depth5,
                volatility: s.volatility,
                reason_flags: flags,
            });
        } else {
            out.rejected.push(Rejection {
                market: s.market.clone(),
                reasons,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
