//! Unit tests of the PAPER matching rules on hand-made order books (the
//! simulator-backed tests live in `tests/it/paper.rs`).

use chrono::TimeZone;
use domain::TraderId;
use rust_decimal_macros::dec;
use upbit::{HttpConfig, OrderbookLevel, TestClock, UpbitUrls};

use super::*;

fn level(p: Decimal, v: Decimal) -> OrderbookLevel {
    OrderbookLevel {
        price: Price::new(p).unwrap(),
        size: Volume::new(v).unwrap(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
}

fn book() -> Orderbook {
    Orderbook {
        market: "KRW-XRP".parse().unwrap(),
        timestamp: now(),
        asks: vec![
            level(dec!(1000), dec!(10)),
            level(dec!(1001), dec!(10)),
            level(dec!(1002), dec!(100)),
        ],
        bids: vec![level(dec!(999), dec!(5)), level(dec!(998), dec!(50))],
        total_ask_size: Volume::new(dec!(120)).unwrap(),
        total_bid_size: Volume::new(dec!(55)).unwrap(),
        level: Decimal::ZERO,
    }
}

fn executor() -> PaperExecutor {
    let clock = TestClock::new(now());
    let urls = UpbitUrls::new("http://127.0.0.1:9", "ws://127.0.0.1:9/websocket/v1").unwrap();
    let shared: SharedClock = std::sync::Arc::new(clock);
    let quotes = UpbitClient::from_config(HttpConfig::with_urls(urls), shared.clone()).unwrap();
    PaperExecutor::new(quotes, shared, PaperConfig::default())
}

fn paper(
    side: Side,
    ord_type: OrdType,
    price: Option<Decimal>,
    volume: Option<Decimal>,
    tif: Option<TimeInForce>,
) -> PaperOrder {
    let id = OrderIdentifier::for_attempt(TraderId::new(1).unwrap(), "s", 1, 0).unwrap();
    PaperOrder {
        order: ExecOrder {
            uuid: "paper".to_owned(),
            identifier: id,
            market: "KRW-XRP".parse().unwrap(),
            side,
            ord_type,
            price: price.map(|p| Price::new(p).unwrap()),
            volume: volume.map(|v| Volume::new(v).unwrap()),
            time_in_force: tif,
            state: OrderState::Wait,
            executed_volume: Volume::ZERO,
            executed_funds: Krw::ZERO,
            paid_fee: Krw::ZERO,
            trades: Some(Vec::new()),
            created_at: now(),
        },
        remaining: Volume::new(volume.unwrap_or_default()).unwrap(),
        resting: false,
        cursor: None,
    }
}

struct Case {
    name: &'static str,
    order: PaperOrder,
    state: OrderState,
    resting: bool,
    executed: Decimal,
    funds: Decimal,
}

#[test]
fn taker_phase_walks_the_book_like_upbit() {
    let cases = [
        Case {
            name: "limit inside the first level",
            order: paper(
                Side::Bid,
                OrdType::Limit,
                Some(dec!(1000)),
                Some(dec!(4)),
                None,
            ),
            state: OrderState::Done,
            resting: false,
            executed: dec!(4),
            funds: dec!(4000),
        },
        Case {
            name: "limit walks two levels, rest rests",
            order: paper(
                Side::Bid,
                OrdType::Limit,
                Some(dec!(1001)),
                Some(dec!(25)),
                None,
            ),
            state: OrderState::Wait,
            resting: true,
            executed: dec!(20),
            funds: dec!(20010),
        },
        Case {
            name: "ioc cancels the rest",
            order: paper(
                Side::Bid,
                OrdType::Limit,
                Some(dec!(1001)),
                Some(dec!(25)),
                Some(TimeInForce::Ioc),
            ),
            state: OrderState::Cancel,
            resting: false,
            executed: dec!(20),
            funds: dec!(20010),
        },
        Case {
            name: "fok all or nothing",
            order: paper(
                Side::Bid,
                OrdType::Limit,
                Some(dec!(1001)),
                Some(dec!(25)),
                Some(TimeInForce::Fok),
            ),
            state: OrderState::Cancel,
            resting: false,
            executed: dec!(0),
            funds: dec!(0),
        },
        Case {
            name: "post-only that would cross is cancelled",
            order: paper(
                Side::Bid,
                OrdType::Limit,
                Some(dec!(1000)),
                Some(dec!(5)),
                Some(TimeInForce::PostOnly),
            ),
            state: OrderState::Cancel,
            resting: false,
            executed: dec!(0),
            funds: dec!(0),
        },
        Case {
            name: "post-only below the ask rests",
            order: paper(
                Side::Bid,
                OrdType::Limit,
                Some(dec!(999)),
                Some(dec!(5)),
                Some(TimeInForce::PostOnly),
            ),
            state: OrderState::Wait,
            resting: true,
            executed: dec!(0),
            funds: dec!(0),
        },
        Case {
            name: "market sell walks the bids",
            order: paper(Side::Ask, OrdType::Market, None, Some(dec!(7)), None),
            state: OrderState::Done,
            resting: false,
            executed: dec!(7),
            funds: dec!(6991),
        },
        Case {
            name: "market buy spends its total",
            order: paper(Side::Bid, OrdType::Price, Some(dec!(15005)), None, None),
            state: OrderState::Done,
            resting: false,
            executed: dec!(15),
            funds: dec!(15005),
        },
    ];
    let ex = executor();
    for mut c in cases {
        ex.execute(&mut c.order, &book(), now());
        assert_eq!(c.order.order.state, c.state, "{}", c.name);
        assert_eq!(c.order.resting, c.resting, "{}", c.name);
        assert_eq!(
            c.order.order.executed_volume.get(),
            c.executed,
            "{}",
            c.name
        );
        assert_eq!(c.order.order.executed_funds.get(), c.funds, "{}", c.name);
        // 0.05 % fee on every fill, exactly
        assert_eq!(
            c.order.order.paid_fee.get(),
            c.funds * dec!(0.0005),
            "{}",
            c.name
        );
        let trades = c.order.order.trades.as_ref().unwrap();
        let sum: Decimal = trades.iter().map(|t| t.volume.get()).sum();
        assert_eq!(sum, c.executed, "{}", c.name);
    }
}
