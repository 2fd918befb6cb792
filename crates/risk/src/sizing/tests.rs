//! Unit tests for sizing: one table, every limit binding once, every refusal.

use domain::{Position, RiskProfile};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::testutil::{deep_book, krw, lvl, position, price};

struct Case {
    name: &'static str,
    equity: i64,
    cash: i64,
    reserved: i64,
    open: Vec<Position>,
    entry: Decimal,
    stop: Decimal,
    book: Option<OrderBook>,
    /// `max_position_fraction` (1 = off, so the other limits show).
    cap: Decimal,
    want: Result<(Decimal, SizeLimit), &'static str>,
}

fn base() -> Case {
    Case {
        name: "",
        equity: 10_000_000,
        cash: 10_000_000,
        reserved: 0,
        open: vec![],
        entry: dec!(1000),
        stop: dec!(980),
        book: None,
        cap: Decimal::ONE,
        want: Ok((dec!(5000), SizeLimit::RiskPerTrade)),
    }
}

fn check(c: &Case) {
    let mut params = RiskParams::builtin(RiskProfile::Standard);
    params.max_position_fraction = c.cap;
    let req = SizingRequest {
        params: &params,
        equity: krw(c.equity),
        cash: krw(c.cash),
        reserved: krw(c.reserved),
        open_positions: &c.open,
        entry_price: price(c.entry),
        stop_price: c.stop,
        book: c.book.as_ref(),
    };
    let got = size_position(&req);
    match (&got, c.want) {
        (Ok(s), Ok((volume, limit))) => {
            assert_eq!(s.volume.get(), volume, "{}: {s:?}", c.name);
            assert_eq!(s.limited_by, limit, "{}", c.name);
            // invariants of every success
            assert!(s.stop_price < s.entry_price, "{}", c.name);
            assert_eq!(s.expected_order_krw, s.entry_price * s.volume, "{}", c.name);
            assert!(s.expected_order_krw.get() >= dec!(5000), "{}", c.name);
            let cost = s.expected_order_krw + s.estimated_fee;
            assert!(cost <= krw(c.cash) - krw(c.reserved), "{}", c.name);
            assert!(
                s.expected_order_krw <= krw(c.equity).times(c.cap),
                "{}",
                c.name
            );
            let cap = krw(c.equity).times(params.max_portfolio_risk);
            assert!(
                crate::portfolio::open_risk(&c.open) + s.risk_to_stop <= cap,
                "{}",
                c.name
            );
        }
        (Err(e), Err(code)) => assert_eq!(e.reason_code().as_str(), code, "{}: {e}", c.name),
        _ => panic!("{}: got {got:?}, want {:?}", c.name, c.want),
    }
}

#[test]
fn sizing_table() {
    let thin_book = OrderBook::new(
        "KRW-XRP".parse().unwrap(),
        vec![lvl(dec!(1000), dec!(1000)), lvl(dec!(1100), dec!(100_000))],
        vec![lvl(dec!(999), dec!(1000))],
    )
    .unwrap();
    let cases = vec![
        Case {
            name: "risk per trade binds: 100,000 KRW / 20 KRW per unit",
            ..base()
        },
        Case {
            name: "stop off the tick grid is snapped up (979.4 -> 980)",
            stop: dec!(979.4),
            ..base()
        },
        Case {
            name: "entry off the tick grid is snapped down (1000.5 -> 1000)",
            entry: dec!(1000.5),
            ..base()
        },
        Case {
            name: "position cap binds: 20 % of 10,000,000 at 1,000",
            cap: dec!(0.2),
            want: Ok((dec!(2000), SizeLimit::PositionCap)),
            ..base()
        },
        Case {
            name: "budget binds, fees included: 1,000,000 / 1000.5",
            cash: 1_000_000,
            want: Ok((dec!(999.50024987), SizeLimit::Budget)),
            ..base()
        },
        Case {
            name: "reserved KRW is not budget",
            cash: 10_000_000,
            reserved: 9_000_000,
            want: Ok((dec!(999.50024987), SizeLimit::Budget)),
            ..base()
        },
        Case {
            name: "budget too small for the 5,000 KRW minimum",
            reserved: 9_999_000,
            want: Err("SIZE_BELOW_MIN_ORDER"),
            ..base()
        },
        Case {
            name: "nothing left",
            reserved: 10_000_000,
            want: Err("SIZE_NO_BUDGET"),
            ..base()
        },
        Case {
            name: "portfolio cap binds: (500,000 - 480,000) / 20.5",
            open: vec![position("KRW-BTC", dec!(100), dec!(24000), dec!(80))],
            want: Ok((dec!(975.60975609), SizeLimit::PortfolioCap)),
            ..base()
        },
        Case {
            name: "portfolio cap reached",
            open: vec![position("KRW-BTC", dec!(100), dec!(25000), dec!(80))],
            want: Err("SIZE_PORTFOLIO_CAP_REACHED"),
            ..base()
        },
        Case {
            name: "stop equal to entry",
            stop: dec!(1000),
            want: Err("SIZE_STOP_NOT_BELOW_ENTRY"),
            ..base()
        },
        Case {
            name: "stop above entry",
            stop: dec!(1200),
            want: Err("SIZE_STOP_NOT_BELOW_ENTRY"),
            ..base()
        },
        Case {
            name: "stop below the smallest tick",
            stop: dec!(-1),
            want: Err("SIZE_INVALID_STOP"),
            ..base()
        },
        Case {
            name: "no equity",
            equity: 0,
            want: Err("SIZE_NO_EQUITY"),
            ..base()
        },
        Case {
            name: "slippage binds: only the first level fits in 0.5 %",
            book: Some(thin_book),
            // ceiling 1005; next level 1100: q = (1005·1000 − 1,000,000)/(1100 − 1005) = 52.63…,
            // spent 1,000,000 + 1100·q → volume spent/1000 = 1057.894736…
            want: Ok((dec!(1057.89473684), SizeLimit::Slippage)),
            ..base()
        },
        Case {
            name: "a deep book does not bind",
            book: Some(deep_book("KRW-XRP")),
            ..base()
        },
        Case {
            name: "Upbit's 1e9 KRW maximum binds",
            equity: 1_000_000_000_000,
            cash: 1_000_000_000_000,
            stop: dec!(999),
            want: Ok((dec!(1_000_000), SizeLimit::MaxOrderTotal)),
            ..base()
        },
    ];
    for c in &cases {
        check(c);
    }
}

#[test]
fn sizing_reports_fee_risk_and_slippage() {
    let params = RiskParams::builtin(RiskProfile::Standard);
    let book = deep_book("KRW-XRP");
    let s = size_position(&SizingRequest {
        params: &params,
        equity: krw(10_000_000),
        cash: krw(10_000_000),
        reserved: krw(0),
        open_positions: &[],
        entry_price: price(dec!(1000)),
        stop_price: dec!(980),
        book: Some(&book),
    })
    .unwrap();
    // STANDARD's 20 % position cap binds before the 1 % risk (5,000 units)
    assert_eq!(s.limited_by, SizeLimit::PositionCap);
    assert_eq!(s.expected_order_krw, krw(2_000_000));
    assert_eq!(s.estimated_fee, krw(1_000));
    assert_eq!(s.risk_krw, krw(100_000));
    // 2,000,000 + 1,000 − 980 × 2,000
    assert_eq!(s.risk_to_stop, krw(41_000));
    assert_eq!(s.expected_slippage, Some(Decimal::ZERO));
}

#[test]
fn safety_first_risks_half() {
    let mut params = RiskParams::builtin(RiskProfile::SafetyFirst);
    params.max_position_fraction = Decimal::ONE;
    let s = size_position(&SizingRequest {
        params: &params,
        equity: krw(10_000_000),
        cash: krw(10_000_000),
        reserved: krw(0),
        open_positions: &[],
        entry_price: price(dec!(1000)),
        stop_price: dec!(980),
        book: None,
    })
    .unwrap();
    // 10 M × 0.005 × 0.9 = 45,000 KRW / 20
    assert_eq!(s.volume.get(), dec!(2250));
}
