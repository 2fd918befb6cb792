//! Leader-Follower: a lagging follower, a falling leader, the leader itself,
//! missing leader data, and SPEC §15.1 boundaries.

use super::*;
use crate::modules::fixtures::{boundary_series, check, from_closes, input, market, regime, wavy};

/// Correlated waves for leader (100) and follower (50); over the last three
/// candles the leader moves `leader_step` per candle, the follower `follower_step`.
fn pair(leader_step: f64, follower_step: f64) -> (Vec<Candle>, Vec<Candle>) {
    let base: Vec<f64> = (0..60)
        .map(|i| {
            let x = f64::from(i);
            1.0 + 0.003 * (x * 0.9).sin() + 0.002 * (x * 0.37).cos()
        })
        .collect();
    let mut lead: Vec<f64> = base.iter().map(|x| 100.0 * x).collect();
    let mut fol: Vec<f64> = base.iter().map(|x| 50.0 * x).collect();
    let (l0, f0) = (lead[59], fol[59]);
    for k in 1..=3 {
        lead.push(l0 * (1.0 + leader_step * f64::from(k)));
        fol.push(f0 * (1.0 + follower_step * f64::from(k)));
    }
    (
        from_closes(&lead, 0.001, 100.0),
        from_closes(&fol, 0.001, 100.0),
    )
}

#[test]
fn scenarios() {
    let btc = market("KRW-BTC");
    let xrp = market("KRW-XRP");
    let lf = LeaderFollower::default();
    let regime = regime(domain::RegimeLabel::Trend, 70.0);
    let cases = [
        (
            "leader up 1.2 %, follower flat",
            pair(0.004, 0.0005),
            (90.0, 100.0),
            &["LF_LEADER_UP", "LF_CORRELATED", "LF_FOLLOWER_LAGGING"][..],
        ),
        (
            "leader up, follower already ahead",
            pair(0.004, 0.008),
            (50.0, 80.0),
            &["LF_LEADER_UP", "LF_FOLLOWER_AHEAD"][..],
        ),
        (
            "leader down 1.2 %",
            pair(-0.004, -0.004),
            (0.0, 20.0),
            &["LF_LEADER_DOWN"][..],
        ),
    ];
    for (name, (leader, follower), range, codes) in cases {
        let inp = ModuleInput {
            market: &xrp,
            candles: &follower,
            leader_market: &btc,
            leader_candles: Some(&leader),
            regime,
        };
        check(&lf, name, &inp, range, codes);
    }
    let (leader, follower) = pair(0.004, 0.0);
    // the leader itself is neutral
    let inp = ModuleInput {
        market: &btc,
        candles: &leader,
        leader_market: &btc,
        leader_candles: Some(&leader),
        regime,
    };
    check(&lf, "leader", &inp, (50.0, 50.0), &["LF_IS_LEADER"]);
    // no leader candles, or no overlap in time, scores 0
    let mut inp = input(&xrp, &follower);
    inp.leader_market = &btc;
    check(&lf, "no leader", &inp, (0.0, 0.0), &["LF_NO_LEADER_DATA"]);
    let shifted: Vec<Candle> = leader
        .iter()
        .map(|c| Candle {
            ts: c.ts + chrono::Duration::seconds(30),
            ..*c
        })
        .collect();
    inp.leader_candles = Some(&shifted);
    check(
        &lf,
        "misaligned",
        &inp,
        (0.0, 0.0),
        &["LF_INSUFFICIENT_DATA"],
    );
}

#[test]
fn boundaries() {
    let btc = market("KRW-BTC");
    let xrp = market("KRW-XRP");
    let lf = LeaderFollower::default();
    // a leader over the whole span of the boundary series
    let leader = from_closes(&wavy(200, 100_000.0), 0.001, 100.0);
    for (name, candles) in boundary_series() {
        let inp = ModuleInput {
            market: &xrp,
            candles: &candles,
            leader_market: &btc,
            leader_candles: Some(&leader),
            regime: regime(domain::RegimeLabel::Trend, 70.0),
        };
        let (range, codes): ((f64, f64), &[&str]) = match name {
            "empty" | "single candle" | "NaN prices" => ((0.0, 0.0), &["LF_INSUFFICIENT_DATA"]),
            "flat market" => ((0.0, 0.0), &["LF_FLAT_MARKET"]),
            // LF reads closes only: no volume is no problem (same shape as the leader)
            "zero volume" => ((0.0, 100.0), &["LF_CORRELATED"]),
            // the 50 missing candles are skipped by the alignment on open time
            "gap" => ((0.0, 100.0), &[]),
            _ => unreachable!("{name}"),
        };
        let s = check(&lf, name, &inp, range, codes);
        if matches!(name, "zero volume" | "gap") {
            assert!(s.raw_metrics.contains_key("corr"), "{name}: {s:?}");
        }
    }
}
