//! Runtime guard properties over random event sequences: once tripped, the
//! kill switch stays on until a confirmed manual resume, whatever else
//! happens (days passing included); refused transitions change nothing.

use chrono::Duration;
use domain::{RegimeLabel, RiskProfile};
use proptest::prelude::*;
use risk::{GuardEvent, KillSwitch, RiskParams, RuntimeGuard};
use rust_decimal::Decimal;

use crate::support::{krw, m, t0};

fn event() -> impl Strategy<Value = GuardEvent> {
    prop_oneof![
        Just(GuardEvent::Tick),
        (5_000_000i64..12_000_000).prop_map(|e| GuardEvent::EquityMarked { equity: krw(e) }),
        (-100_000i64..100_000).prop_map(|p| GuardEvent::TradeClosed {
            market: m("KRW-XRP"),
            pnl: krw(p)
        }),
        (0i64..300).prop_map(|bp| GuardEvent::SlippageObserved {
            market: m("KRW-XRP"),
            slippage: Decimal::new(bp, 4)
        }),
        any::<bool>().prop_map(|ok| GuardEvent::ApiHealth { ok }),
        any::<bool>().prop_map(|ok| GuardEvent::DbHealth { ok }),
        prop::sample::select(RegimeLabel::ALL.to_vec())
            .prop_map(|label| GuardEvent::RegimeChanged { label }),
        Just(GuardEvent::OrderFailed {
            market: m("KRW-XRP")
        }),
        Just(GuardEvent::OrderSucceeded {
            market: m("KRW-XRP")
        }),
        Just(GuardEvent::TripKillSwitch {
            operator: "ops".into(),
            reason: "prop".into()
        }),
        any::<bool>().prop_map(|confirmed| GuardEvent::ManualResume {
            operator: "ops".into(),
            confirmed
        }),
    ]
}

proptest! {
    #[test]
    fn kill_switch_clears_only_by_confirmed_resume(
        events in prop::collection::vec((event(), 0i64..600), 1..60)
    ) {
        let params = RiskParams::builtin(RiskProfile::Standard);
        let mut g = RuntimeGuard::new(krw(10_000_000), t0());
        let mut now = t0();
        for (e, step) in events {
            now += Duration::minutes(step);
            let was_tripped = matches!(g.kill_switch(), KillSwitch::Tripped { .. });
            let before = g.clone();
            let confirmed_resume = matches!(e, GuardEvent::ManualResume { confirmed: true, .. });
            if let Ok(t) = g.apply(e, now, &params) {
                prop_assert_eq!(t.at, now);
                prop_assert_eq!(t.blocks_after, g.blocks(now, &params));
            } else {
                // refused: nothing changed at all
                prop_assert_eq!(&before, &g);
            }
            let is_tripped = matches!(g.kill_switch(), KillSwitch::Tripped { .. });
            if was_tripped && !is_tripped {
                prop_assert!(confirmed_resume);
            }
            if is_tripped {
                prop_assert!(!g.entries_allowed(now, &params));
            }
        }
    }
}
