//! Correlation clusters (RISK-5): markets whose return series correlate above
//! `corr_high` share a cluster (single linkage: correlation is followed
//! transitively), and at most `max_per_cluster` open positions may sit in one
//! cluster. Built once per evaluation cycle from the candidates' and held
//! markets' return series, then consulted per order (PRE-5).

use std::collections::BTreeMap;

use domain::{Market, Position};
use serde::Serialize;

/// Fewer overlapping finite return pairs than this: correlation unknown.
pub const MIN_OVERLAP: usize = 20;

/// Pearson correlation of two return series aligned on their most recent
/// values (the common tail). Pairs where either value is not finite are
/// skipped. `None` with fewer than [`MIN_OVERLAP`] pairs or a flat series.
pub fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len().min(b.len());
    let a = a.get(a.len() - n..)?;
    let b = b.get(b.len() - n..)?;
    let pairs = || {
        a.iter()
            .zip(b)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let count = pairs().count();
    if count < MIN_OVERLAP {
        return None;
    }
    let c = count as f64;
    let (sa, sb) = pairs().fold((0.0, 0.0), |(sa, sb), (x, y)| (sa + x, sb + y));
    let (ma, mb) = (sa / c, sb / c);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in pairs() {
        let (dx, dy) = (x - ma, y - mb);
        cov += dx * dy;
        va += dx * dx;
        vb += dy * dy;
    }
    let denom = (va * vb).sqrt();
    if !(denom.is_finite() && denom > f64::EPSILON * c) {
        return None;
    }
    Some((cov / denom).clamp(-1.0, 1.0))
}

/// Markets grouped by correlation. Markets not given to [`Clusters::build`]
/// are each their own cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clusters {
    corr_high: f64,
    markets: Vec<Market>,
    #[serde(skip)]
    index: BTreeMap<Market, usize>,
    /// Cluster id per market index: the smallest member index.
    cluster: Vec<usize>,
    /// Dense `n × n` correlation matrix, NaN where unknown.
    #[serde(skip)]
    corr: Vec<f64>,
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

impl Clusters {
    /// No correlation data: every market is its own cluster.
    pub fn none(corr_high: f64) -> Self {
        Self::build(&[], corr_high)
    }

    /// Builds clusters from return series (e.g. 5-minute returns over a day).
    /// Duplicate markets keep their first series. Deterministic: markets are
    /// processed in code order.
    pub fn build(series: &[(Market, &[f64])], corr_high: f64) -> Self {
        let mut by_market: BTreeMap<&Market, &[f64]> = BTreeMap::new();
        for (m, s) in series {
            by_market.entry(m).or_insert(s);
        }
        let markets: Vec<Market> = by_market.keys().map(|m| (*m).clone()).collect();
        let data: Vec<&[f64]> = by_market.values().copied().collect();
        let n = markets.len();
        let mut corr = vec![f64::NAN; n * n];
        let mut parent: Vec<usize> = (0..n).collect();
        for i in 0..n {
            corr[i * n + i] = 1.0;
            for j in (i + 1)..n {
                let c = correlation(data[i], data[j]).unwrap_or(f64::NAN);
                corr[i * n + j] = c;
                corr[j * n + i] = c;
                if c > corr_high {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    if ri != rj {
                        // The smaller index becomes the root: ids are deterministic.
                        let (lo, hi) = if ri < rj { (ri, rj) } else { (rj, ri) };
                        parent[hi] = lo;
                    }
                }
            }
        }
        let cluster: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
        let index = markets
            .iter()
            .enumerate()
            .map(|(i, m)| (m.clone(), i))
            .collect();
        Self {
            corr_high,
            markets,
            index,
            cluster,
            corr,
        }
    }

    /// The threshold used.
    pub fn corr_high(&self) -> f64 {
        self.corr_high
    }

    /// The cluster id of a known market.
    pub fn cluster_of(&self, market: &Market) -> Option<usize> {
        self.index.get(market).map(|&i| self.cluster[i])
    }

    /// True when both are the same market or in the same cluster.
    pub fn same_cluster(&self, a: &Market, b: &Market) -> bool {
        a == b
            || matches!(
                (self.cluster_of(a), self.cluster_of(b)),
                (Some(x), Some(y)) if x == y
            )
    }

    /// The correlation of two known markets, `None` if unknown.
    pub fn correlation(&self, a: &Market, b: &Market) -> Option<f64> {
        let row = *self.index.get(a)?;
        let col = *self.index.get(b)?;
        let c = self.corr[row * self.markets.len() + col];
        c.is_finite().then_some(c)
    }

    /// How many open positions sit in `market`'s cluster (the same market counts).
    pub fn open_in_cluster(&self, market: &Market, positions: &[Position]) -> usize {
        positions
            .iter()
            .filter(|p| self.same_cluster(market, &p.market))
            .count()
    }

    /// The highest correlation between `market` and any open position's market
    /// (other than itself), `None` when none is known.
    pub fn max_corr_with_open(&self, market: &Market, positions: &[Position]) -> Option<f64> {
        positions
            .iter()
            .filter(|p| &p.market != market)
            .filter_map(|p| self.correlation(market, &p.market))
            .reduce(f64::max)
    }

    /// Mean pairwise correlation among distinct `markets` (MON-1 `avg_corr`),
    /// over the pairs whose correlation is known.
    pub fn avg_corr(&self, markets: &[Market]) -> Option<f64> {
        let mut distinct: Vec<&Market> = markets.iter().collect();
        distinct.sort();
        distinct.dedup();
        let mut sum = 0.0;
        let mut count = 0usize;
        for (i, a) in distinct.iter().enumerate() {
            for b in &distinct[i + 1..] {
                if let Some(c) = self.correlation(a, b) {
                    sum += c;
                    count += 1;
                }
            }
        }
        (count > 0).then(|| sum / count as f64)
    }

    /// Every multi-market cluster, members in code order (for logs and the UI).
    pub fn groups(&self) -> Vec<Vec<Market>> {
        let mut groups: BTreeMap<usize, Vec<Market>> = BTreeMap::new();
        for (i, m) in self.markets.iter().enumerate() {
            groups.entry(self.cluster[i]).or_default().push(m.clone());
        }
        groups.into_values().filter(|g| g.len() > 1).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Market {
        s.parse().unwrap()
    }

    fn wave(n: usize, phase: f64, noise: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let x = i as f64;
                (x * 0.7 + phase).sin() * 0.01 + (x * 1.3).cos() * noise
            })
            .collect()
    }

    #[test]
    fn correlation_edge_cases() {
        let a = wave(50, 0.0, 0.0);
        assert!((correlation(&a, &a).unwrap() - 1.0).abs() < 1e-12);
        let neg: Vec<f64> = a.iter().map(|x| -x).collect();
        assert!((correlation(&a, &neg).unwrap() + 1.0).abs() < 1e-12);
        // too short, flat, NaN-riddled
        assert_eq!(correlation(&a[..5], &a[..5]), None);
        assert_eq!(correlation(&[0.0; 50], &a), None);
        let mut holes = a.clone();
        for v in holes.iter_mut().step_by(2) {
            *v = f64::NAN;
        }
        assert!(correlation(&holes, &a).is_some()); // 25 finite pairs
        for v in holes.iter_mut().step_by(3) {
            *v = f64::NAN;
        }
        assert_eq!(correlation(&holes, &a), None);
        assert_eq!(correlation(&[], &a), None);
        // aligned on the tail: a longer series is cut to the common recent part
        let long: Vec<f64> = [vec![5.0; 30], a.clone()].concat();
        assert!((correlation(&long, &a).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn clusters_follow_correlation_transitively() {
        let base = wave(100, 0.0, 0.0);
        let near = wave(100, 0.05, 0.001);
        let nearer = wave(100, 0.1, 0.001);
        let other = wave(100, 2.0, 0.0);
        let series = [
            (m("KRW-BTC"), base.as_slice()),
            (m("KRW-ETH"), near.as_slice()),
            (m("KRW-SOL"), nearer.as_slice()),
            (m("KRW-XRP"), other.as_slice()),
        ];
        let c = Clusters::build(&series, 0.7);
        assert!(c.same_cluster(&m("KRW-BTC"), &m("KRW-ETH")));
        assert!(c.same_cluster(&m("KRW-BTC"), &m("KRW-SOL")));
        assert!(!c.same_cluster(&m("KRW-BTC"), &m("KRW-XRP")));
        assert!(!c.same_cluster(&m("KRW-BTC"), &m("KRW-DOGE")));
        assert!(c.same_cluster(&m("KRW-DOGE"), &m("KRW-DOGE")));
        assert_eq!(c.groups().len(), 1);
        assert_eq!(c.groups()[0].len(), 3);
        // input order does not matter
        let mut rev = series.to_vec();
        rev.reverse();
        assert_eq!(Clusters::build(&rev, 0.7), c);
        let none = Clusters::none(0.7);
        assert!(!none.same_cluster(&m("KRW-BTC"), &m("KRW-ETH")));
        assert!(none.avg_corr(&[m("KRW-BTC"), m("KRW-ETH")]).is_none());
        let avg = c
            .avg_corr(&[m("KRW-BTC"), m("KRW-ETH"), m("KRW-BTC")])
            .unwrap();
        assert!(avg > 0.9, "{avg}");
    }
}
