//! Portfolio properties through the public API: the regime's position count
//! (RISK-4: BASE_BY_REGIME scaled by the profile, capped at 10), correlation
//! clusters (RISK-5: at most `max_per_cluster` — 2 for STANDARD at
//! corr > 0.7), the portfolio risk cap (RISK-1) and the budget hold over a
//! whole sequence of sized and approved entries; and no approval once the
//! day's loss is past the limit, even before the guard was told.

use chrono::Duration;
use domain::{
    Krw, OrderRequest, Position, Price, RegimeLabel, RiskProfile, Side, TraderId, Volume,
};
use proptest::prelude::*;
use risk::{
    ApiStatus, Clusters, EntryContext, MarketStatus, RiskParams, RuntimeGuard, SizingRequest,
    approve_entry, portfolio::open_risk, size_position,
};
use rust_decimal::Decimal;

use crate::support::{book, ident, krw, m, position, t0};

/// SPEC §4 Decision, written out here independently of the code.
fn base_by_regime(label: RegimeLabel) -> u32 {
    match label {
        RegimeLabel::BreakoutRotation => 7,
        RegimeLabel::Trend => 5,
        RegimeLabel::Range => 3,
        RegimeLabel::Chop | RegimeLabel::Panic => 0,
    }
}

fn profiles() -> impl Strategy<Value = RiskProfile> {
    prop::sample::select(RiskProfile::ALL.to_vec())
}

fn labels() -> impl Strategy<Value = RegimeLabel> {
    prop::sample::select(RegimeLabel::ALL.to_vec())
}

/// A 500,000 KRW limit buy of `market` at 1,000.
fn buy(market: &str, volume: i64) -> OrderRequest {
    OrderRequest::limit(
        m(market),
        Side::Bid,
        Price::new(Decimal::from(1000)).unwrap(),
        Volume::new(Decimal::from(volume)).unwrap(),
        None,
        ident(),
    )
    .unwrap()
}

/// Every code of every failed check.
fn codes(checks: &[risk::CheckResult]) -> Vec<String> {
    checks
        .iter()
        .flat_map(|c| c.reasons().iter().map(|r| r.code.to_string()))
        .collect()
}

#[test]
fn standard_max_positions_are_base_by_regime() {
    let p = RiskParams::builtin(RiskProfile::Standard);
    for label in RegimeLabel::ALL {
        assert_eq!(p.max_positions(*label), base_by_regime(*label), "{label}");
    }
}

proptest! {
    /// RISK-4: with `n` small, uncorrelated positions open, an entry is
    /// approved exactly when `n < min(round(BASE_BY_REGIME × scale), 10)`.
    #[test]
    fn max_positions_follow_the_regime_capped_at_10(
        profile in profiles(),
        label in labels(),
        n in 0usize..12,
        scale in prop_oneof![Just(None), (10u32..=200).prop_map(Some)],
    ) {
        let mut params = RiskParams::builtin(profile);
        if let Some(s) = scale {
            params.positions_scale = f64::from(s) / 100.0;
        }
        let want = ((f64::from(base_by_regime(label)) * params.positions_scale).round() as u32).min(10);
        prop_assert_eq!(params.max_positions(label), want);
        prop_assert!(want <= 10);

        let codes_of_markets = ["KRW-A", "KRW-B", "KRW-C", "KRW-D", "KRW-E", "KRW-F",
            "KRW-G", "KRW-H", "KRW-I", "KRW-J", "KRW-K", "KRW-L"];
        // 10 KRW of risk each: far inside every cap.
        let open: Vec<Position> = codes_of_markets[..n]
            .iter()
            .map(|c| position(c, 1000, 1, 990))
            .collect();
        let b = book("KRW-XRP", 1000, 10_000, 10);
        let clusters = Clusters::none(params.corr_high);
        let guard = RuntimeGuard::new(krw(10_000_000), t0());
        let ctx = EntryContext {
            params: &params,
            now: t0(),
            equity: krw(10_000_000),
            cash: krw(10_000_000),
            reserved: krw(0),
            open_positions: &open,
            stop_price: Price::new(Decimal::from(980)).unwrap(),
            regime: label,
            regime_stale: false,
            total_score: 90.0,
            entry_threshold: 70.0,
            book: &b,
            clusters: &clusters,
            guard: &guard,
            api: ApiStatus::default(),
            market_status: MarketStatus::default(),
        };
        match approve_entry(buy("KRW-XRP", 500), &ctx) {
            Ok(_) => {
                prop_assert!(n < want as usize, "approved with {n} open, max {want}");
                prop_assert!(label.allows_entries());
            }
            Err(refused) => {
                let c = codes(&refused.checks);
                prop_assert_eq!(
                    c.iter().any(|x| x == "PRE8_MAX_POSITIONS"),
                    n >= want as usize,
                    "{:?}", c
                );
                // nothing else stands in the way outside CHOP and PANIC
                if label.allows_entries() {
                    prop_assert_eq!(c, vec!["PRE8_MAX_POSITIONS".to_owned()]);
                }
            }
        }
    }

    /// RISK-6: an equity past the daily loss limit (against the day's start
    /// equity) is refused even when the guard has not been marked with it yet.
    #[test]
    fn no_approval_past_the_daily_loss_limit_even_before_the_guard_knows(
        profile in profiles(),
        over_bp in 1i64..5_000,
        next_day in any::<bool>(),
    ) {
        let params = RiskParams::builtin(profile);
        let start = 10_000_000i64;
        let limit_bp = (params.daily_loss_limit * Decimal::from(10_000))
            .trunc()
            .to_string()
            .parse::<i64>()
            .unwrap();
        let equity = start - start * (limit_bp + over_bp) / 10_000;
        let guard = RuntimeGuard::new(krw(start), t0());
        // On a later day without a Tick, the day starts at the last marked equity.
        let now = if next_day { t0() + Duration::days(1) } else { t0() };
        let open: Vec<Position> = Vec::new();
        let b = book("KRW-XRP", 1000, 10_000, 10);
        let clusters = Clusters::none(params.corr_high);
        let ctx = EntryContext {
            params: &params,
            now,
            equity: krw(equity),
            cash: krw(equity),
            reserved: krw(0),
            open_positions: &open,
            stop_price: Price::new(Decimal::from(990)).unwrap(),
            regime: RegimeLabel::Trend,
            regime_stale: false,
            total_score: 90.0,
            entry_threshold: 70.0,
            book: &b,
            clusters: &clusters,
            guard: &guard,
            api: ApiStatus::default(),
            market_status: MarketStatus::default(),
        };
        let refused = approve_entry(buy("KRW-XRP", 100), &ctx).unwrap_err();
        prop_assert!(codes(&refused.checks).contains(&"PRE8_DAILY_LOSS_LIMIT".to_owned()),
            "{}", refused);
        // just inside the limit the same entry passes
        let inside = start - start * limit_bp / 10_000;
        let ctx = EntryContext { equity: krw(inside), cash: krw(inside), ..ctx };
        prop_assert!(approve_entry(buy("KRW-XRP", 100), &ctx).is_ok());
    }
}

/// Three independent return factors; a market follows one of them plus a
/// little noise of its own, so markets of one factor correlate above 0.9 and
/// markets of different factors near 0.
fn returns_of(factor: usize, market: usize) -> Vec<f64> {
    let freq = [0.31, 0.97, 1.83][factor];
    (0..120)
        .map(|i| {
            let x = f64::from(i);
            (x * freq).sin() * 0.01 + (x * (2.3 + 0.37 * market as f64)).sin() * 0.001
        })
        .collect()
}

const MARKETS: [&str; 9] = [
    "KRW-A", "KRW-B", "KRW-C", "KRW-D", "KRW-E", "KRW-F", "KRW-G", "KRW-H", "KRW-I",
];

/// What a session did: the markets entered, in order, and every refusal's codes.
struct Session {
    entered: Vec<String>,
    refusals: Vec<Vec<String>>,
}

/// Runs a session of entry attempts `(market index, stop distance in ‰)`:
/// each is sized (RISK-1/2/3) and approved (PRE-1..8) against the positions
/// entered so far, filled at its limit and added to them. Asserts after every
/// step that the position count is within the regime's maximum (and 10), no
/// correlation cluster — here: return factor — holds more than
/// `max_per_cluster`, open risk is within the portfolio cap, the position
/// within the per-position cap, and the cost within the remaining cash.
fn run_session(
    params: &RiskParams,
    label: RegimeLabel,
    factor_of: &[usize],
    attempts: &[(usize, i64)],
    cash0: i64,
) -> Result<Session, TestCaseError> {
    let series: Vec<Vec<f64>> = factor_of
        .iter()
        .enumerate()
        .map(|(i, f)| returns_of(*f, i))
        .collect();
    let named: Vec<(domain::Market, &[f64])> = MARKETS
        .iter()
        .zip(&series)
        .map(|(c, s)| (m(c), s.as_slice()))
        .collect();
    let clusters = Clusters::build(&named, params.corr_high);
    // the clusters are exactly the factors
    for i in 0..MARKETS.len() {
        for j in 0..MARKETS.len() {
            prop_assert_eq!(
                clusters.same_cluster(&m(MARKETS[i]), &m(MARKETS[j])),
                factor_of[i] == factor_of[j]
            );
        }
    }
    let max_positions = params.max_positions(label) as usize;
    let mut cash = krw(cash0);
    let mut open: Vec<Position> = Vec::new();
    let mut out = Session {
        entered: Vec::new(),
        refusals: Vec::new(),
    };
    let guard = RuntimeGuard::new(krw(cash0), t0());
    for (k, &(idx, stop_permille)) in attempts.iter().enumerate() {
        let market = MARKETS[idx];
        let equity = cash + open.iter().map(|p| p.avg_entry_price * p.size).sum::<Krw>();
        let b = book(market, 1000, 50_000, 10);
        let entry = Price::new(Decimal::from(1000)).unwrap();
        let stop = Decimal::from(1000) * (Decimal::ONE - Decimal::new(stop_permille, 3));
        let sized = size_position(&SizingRequest {
            params,
            equity,
            cash,
            reserved: Krw::ZERO,
            open_positions: &open,
            entry_price: entry,
            stop_price: stop,
            book: Some(&b),
        });
        let s = match sized {
            Ok(s) => s,
            Err(e) => {
                out.refusals.push(vec![e.reason_code().to_string()]);
                continue;
            }
        };
        let order = OrderRequest::limit(
            m(market),
            Side::Bid,
            s.entry_price,
            s.volume,
            None,
            domain::OrderIdentifier::for_attempt(
                TraderId::new(1).unwrap(),
                "session",
                i64::try_from(k).unwrap() + 1,
                0,
            )
            .unwrap(),
        )
        .unwrap();
        let ctx = EntryContext {
            params,
            now: t0(),
            equity,
            cash,
            reserved: Krw::ZERO,
            open_positions: &open,
            stop_price: s.stop_price,
            regime: label,
            regime_stale: false,
            total_score: 85.0,
            entry_threshold: 70.0,
            book: &b,
            clusters: &clusters,
            guard: &guard,
            api: ApiStatus::default(),
            market_status: MarketStatus::default(),
        };
        let approved = match approve_entry(order, &ctx) {
            Ok(a) => a,
            Err(refused) => {
                out.refusals.push(codes(&refused.checks));
                continue;
            }
        };
        let o = approved.into_inner();
        let (price, volume) = (o.price().unwrap(), o.volume().unwrap());
        let cost = (price * volume).times(Decimal::ONE + params.fee_rate);
        prop_assert!(cost <= cash, "{} > {}", cost, cash);
        prop_assert!(price * volume <= equity.times(params.max_position_fraction));
        cash -= cost;
        open.push(Position {
            trader_id: TraderId::new(1).unwrap(),
            market: m(market),
            open_time: t0(),
            avg_entry_price: price,
            size: volume,
            cost_krw: cost,
            stop_price: s.stop_price,
            high_water: price,
            tags: vec![],
        });
        out.entered.push(market.to_owned());
        prop_assert!(open.len() <= max_positions && open.len() <= 10);
        prop_assert!(open_risk(&open) <= equity.times(params.max_portfolio_risk));
        for f in 0..3 {
            let in_factor = open
                .iter()
                .filter(|p| {
                    let i = MARKETS
                        .iter()
                        .position(|c| *c == p.market.as_str())
                        .unwrap();
                    factor_of[i] == f
                })
                .count();
            prop_assert!(
                in_factor <= params.max_per_cluster as usize,
                "{} positions in one cluster, max {}",
                in_factor,
                params.max_per_cluster
            );
        }
    }
    prop_assert!(cash >= Krw::ZERO);
    if !label.allows_entries() {
        prop_assert!(out.entered.is_empty());
    }
    Ok(out)
}

#[test]
fn a_standard_range_session_stops_at_two_per_cluster_and_three_positions() {
    let params = RiskParams::builtin(RiskProfile::Standard);
    assert_eq!(params.max_per_cluster, 2);
    assert!((params.corr_high - 0.7).abs() < 1e-12);
    assert_eq!(params.max_positions(RegimeLabel::Range), 3);
    // A, B, C follow factor 0; D, E factor 1; F..I factor 2.
    let factors = [0, 0, 0, 1, 1, 2, 2, 2, 2];
    // 2 % stops: each entry is held to 20 % of equity by the position cap.
    let attempts = [(0, 20), (1, 20), (2, 20), (3, 20), (4, 20), (0, 20)];
    let s = run_session(&params, RegimeLabel::Range, &factors, &attempts, 25_000_000).unwrap();
    assert_eq!(s.entered, ["KRW-A", "KRW-B", "KRW-D"]);
    assert_eq!(
        s.refusals,
        [
            // C: A and B already fill factor 0's cluster
            vec!["PRE5_CLUSTER_FULL".to_owned()],
            // E: its cluster holds only D, but RANGE allows three positions
            vec!["PRE8_MAX_POSITIONS".to_owned()],
            // A again: both at once
            vec![
                "PRE5_CLUSTER_FULL".to_owned(),
                "PRE8_MAX_POSITIONS".to_owned()
            ],
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_session_of_entries_keeps_every_portfolio_limit(
        profile in profiles(),
        label in labels(),
        factor_of in prop::collection::vec(0usize..3, MARKETS.len()),
        attempts in prop::collection::vec((0usize..MARKETS.len(), 5i64..60), 1..40),
        cash0 in 1_000_000i64..50_000_000,
    ) {
        let params = RiskParams::builtin(profile);
        run_session(&params, label, &factor_of, &attempts, cash0)?;
    }
}
