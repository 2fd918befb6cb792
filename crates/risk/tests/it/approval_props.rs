//! Approval properties: never in CHOP or PANIC, never with the kill switch on
//! or past the daily loss limit, and the same inputs give the same decision.

use domain::{OrderRequest, Price, RegimeLabel, RiskProfile, Side, Volume};
use proptest::prelude::*;
use risk::{
    ApiStatus, Clusters, EntryContext, GuardEvent, MarketStatus, RiskParams, RuntimeGuard,
    approve_entry,
};
use rust_decimal::Decimal;

use crate::support::{book, ident, krw, m, positions, t0};

fn labels() -> impl Strategy<Value = RegimeLabel> {
    prop::sample::select(RegimeLabel::ALL.to_vec())
}

/// `(label, score, volume, equity)` — everything else is a passing context.
fn decide(
    label: RegimeLabel,
    score: f64,
    volume: i64,
    equity: i64,
    guard: &RuntimeGuard,
    open: &[domain::Position],
) -> Result<Vec<risk::CheckResult>, Vec<risk::CheckResult>> {
    let params = RiskParams::builtin(RiskProfile::Standard);
    let b = book("KRW-XRP", 1000, 10_000, 10);
    let clusters = Clusters::none(0.7);
    let order = OrderRequest::limit(
        m("KRW-XRP"),
        Side::Bid,
        Price::new(Decimal::from(1000)).unwrap(),
        Volume::new(Decimal::from(volume)).unwrap(),
        None,
        ident(),
    )
    .unwrap();
    let ctx = EntryContext {
        params: &params,
        now: t0(),
        equity: krw(equity),
        cash: krw(equity),
        reserved: krw(0),
        open_positions: open,
        stop_price: Price::new(Decimal::from(980)).unwrap(),
        regime: label,
        regime_stale: false,
        total_score: score,
        entry_threshold: 70.0,
        book: &b,
        clusters: &clusters,
        guard,
        api: ApiStatus::default(),
        market_status: MarketStatus::default(),
    };
    approve_entry(order, &ctx)
        .map(risk::RiskApproved::into_parts)
        .map(|(_, c)| c)
        .map_err(|r| r.checks)
}

proptest! {
    #[test]
    fn never_approved_in_chop_or_panic(
        label in prop::sample::select(vec![RegimeLabel::Chop, RegimeLabel::Panic]),
        score in 0.0f64..=100.0,
        volume in 5i64..5_000,
        equity in 1_000_000i64..100_000_000,
    ) {
        let guard = RuntimeGuard::new(krw(equity), t0());
        prop_assert!(decide(label, score, volume, equity, &guard, &[]).is_err());
    }

    #[test]
    fn never_approved_past_the_daily_loss_limit_or_with_the_kill_switch(
        label in labels(),
        score in 0.0f64..=100.0,
        volume in 5i64..5_000,
        equity in 1_000_000i64..100_000_000,
        loss_bp in 501i64..5_000,
        manual in any::<bool>(),
    ) {
        let params = RiskParams::builtin(RiskProfile::Standard);
        let mut guard = RuntimeGuard::new(krw(equity), t0());
        let event = if manual {
            GuardEvent::TripKillSwitch { operator: "ops".into(), reason: "prop".into() }
        } else {
            GuardEvent::EquityMarked { equity: krw(equity - equity * loss_bp / 10_000) }
        };
        guard.apply(event, t0(), &params).unwrap();
        let refused = decide(label, score, volume, equity, &guard, &[]).unwrap_err();
        prop_assert!(refused.iter().any(|c| c.reasons().iter().any(|r| r.code.as_str() == "PRE8_KILL_SWITCH")));
    }

    #[test]
    fn same_inputs_same_decision(
        label in labels(),
        score in 0.0f64..=100.0,
        volume in 5i64..5_000,
        equity in 1_000_000i64..100_000_000,
        open in positions(),
    ) {
        let guard = RuntimeGuard::new(krw(equity), t0());
        let a = decide(label, score, volume, equity, &guard, &open);
        let b = decide(label, score, volume, equity, &guard, &open);
        let ja = serde_json::to_string(&a).unwrap();
        let jb = serde_json::to_string(&b).unwrap();
        prop_assert_eq!(ja, jb);
        // an approval is always a full pass of the eight checks
        if let Ok(checks) = a {
            prop_assert_eq!(checks.len(), 8);
            prop_assert!(label.allows_entries());
            prop_assert!(score >= 70.0);
        }
    }
}
