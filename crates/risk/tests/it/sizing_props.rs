//! Sizing never exceeds the remaining budget (fees included) nor breaks the
//! portfolio risk cap (RISK-1), and always respects Upbit's order rules.

use domain::{MIN_ORDER_TOTAL_KRW, Price, RiskProfile, tick};
use proptest::prelude::*;
use risk::{RiskParams, SizingRequest, portfolio::open_risk, size_position};
use rust_decimal::Decimal;

use crate::support::{book, krw, positions};

fn profiles() -> impl Strategy<Value = RiskProfile> {
    prop::sample::select(RiskProfile::ALL.to_vec())
}

proptest! {
    #[test]
    fn size_respects_budget_cap_and_exchange_rules(
        profile in profiles(),
        equity in 1_000i64..10_000_000_000,
        cash_pct in 0i64..=100,
        reserved_pct in 0i64..=100,
        open in positions(),
        entry in 1i64..2_000_000,
        stop_pct in 1i64..1_000,
        use_book in any::<bool>(),
    ) {
        let params = RiskParams::builtin(profile);
        let cash = equity * cash_pct / 100;
        let reserved = cash * reserved_pct / 100;
        let entry_price = tick::round_price(Decimal::from(entry), domain::Side::Bid).unwrap();
        let stop = entry_price.get() * Decimal::from(stop_pct) / Decimal::from(1000);
        let b = book("KRW-XRP", entry.max(10), 50, 5);
        let req = SizingRequest {
            params: &params,
            equity: krw(equity),
            cash: krw(cash),
            reserved: krw(reserved),
            open_positions: &open,
            entry_price,
            stop_price: stop,
            book: use_book.then_some(&b),
        };
        if let Ok(s) = size_position(&req) {
            let budget = krw(cash) - krw(reserved);
            prop_assert!(s.expected_order_krw + s.estimated_fee <= budget);
            prop_assert!(s.expected_order_krw <= krw(equity).times(params.max_position_fraction));
            let cap = krw(equity).times(params.max_portfolio_risk);
            prop_assert!(open_risk(&open) + s.risk_to_stop <= cap);
            // the per-trade risk (before fees) is within the budget of RISK-2
            prop_assert!((s.entry_price.get() - s.stop_price.get()) * s.volume.get() <= s.risk_krw.get());
            prop_assert!(s.expected_order_krw.get() >= Decimal::from(MIN_ORDER_TOTAL_KRW));
            prop_assert!(s.volume.get().scale() <= 8);
            prop_assert!(tick::check_tick("price", s.entry_price).is_ok());
            prop_assert!(tick::check_tick("stop", s.stop_price).is_ok());
            prop_assert!(s.stop_price < s.entry_price);
            prop_assert!(s.entry_price <= entry_price);
            if let Some(slip) = s.expected_slippage {
                prop_assert!(slip <= params.slippage_limit);
            }
        }
        // deterministic
        prop_assert_eq!(size_position(&req), size_position(&req));
    }
}

#[test]
fn entry_price_is_never_raised() {
    let params = RiskParams::builtin(RiskProfile::Standard);
    let s = size_position(&SizingRequest {
        params: &params,
        equity: krw(10_000_000),
        cash: krw(10_000_000),
        reserved: krw(0),
        open_positions: &[],
        entry_price: Price::new(Decimal::from(100_050)).unwrap(), // tick 100
        stop_price: Decimal::from(95_000),
        book: None,
    })
    .unwrap();
    assert_eq!(s.entry_price.get(), Decimal::from(100_000));
}
