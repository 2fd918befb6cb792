//! The PAPER executor against the simulator's book and tape: a marketable
//! order fills exactly as walking the simulator's book says, a resting order
//! fills from the simulator's trade prints, fees are 0.05 % of funds, and
//! nothing ever reaches an order endpoint.

use std::{sync::Arc, time::Duration};

use chrono::{TimeZone, Utc};
use domain::{
    Krw, Market, OrderIdentifier, OrderRequest, OrderState, Position, Price, Side, TimeInForce,
    TraderId, Volume,
};
use execution::{OrderExecutor, PaperConfig, PaperExecutor};
use risk::{RiskApproved, approve_exit};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use upbit::{HttpConfig, SharedClock, SystemClock, TestClock, UpbitClient, UpbitUrls};
use upbit_sim::{Scenario, SimConfig, SimHandle, Simulator, book::Book};

async fn sim() -> SimHandle {
    let mut c = SimConfig::synthetic(Scenario::Chop, 3, 5);
    c.speed = 0.0;
    c.start = Some(Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap());
    Simulator::start(c).await.unwrap()
}

fn paper(h: &SimHandle, clock: &TestClock) -> PaperExecutor {
    let quotes = UpbitClient::from_config(
        HttpConfig::with_urls(UpbitUrls::new(&h.base_url(), &h.ws_url()).unwrap()),
        SystemClock::shared(),
    )
    .unwrap();
    let c: SharedClock = Arc::new(clock.clone());
    PaperExecutor::new(
        quotes,
        c,
        PaperConfig {
            latency: Duration::ZERO,
            ..PaperConfig::default()
        },
    )
}

fn xrp() -> Market {
    "KRW-XRP".parse().unwrap()
}

fn ident(intent: i64) -> OrderIdentifier {
    OrderIdentifier::for_attempt(TraderId::new(4).unwrap(), "pp", intent, 0).unwrap()
}

fn book(h: &SimHandle) -> Book {
    let mut w = h.shared().world();
    let i = w.market_index("KRW-XRP").unwrap();
    let upbit_sim::world::World {
        engine, markets, ..
    } = &mut *w;
    engine.merged_book(i, &mut markets[i])
}

/// PAPER orders need an approval like LIVE ones; a sell of a held position
/// is the simplest to approve.
fn approved(
    side: Side,
    price: Decimal,
    volume: Decimal,
    tif: Option<TimeInForce>,
    intent: i64,
) -> RiskApproved<OrderRequest> {
    let p = Price::new(price).unwrap();
    let pos = Position {
        trader_id: TraderId::new(4).unwrap(),
        market: xrp(),
        open_time: Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap(),
        avg_entry_price: p,
        size: Volume::new(dec!(100000)).unwrap(),
        cost_krw: Krw::from_i64(1),
        stop_price: Price::new(dec!(1)).unwrap(),
        high_water: p,
        tags: vec![],
    };
    assert_eq!(side, Side::Ask);
    approve_exit(
        OrderRequest::limit(
            xrp(),
            side,
            p,
            Volume::new(volume).unwrap(),
            tif,
            ident(intent),
        )
        .unwrap(),
        &pos,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketable_orders_walk_the_simulators_book() {
    let h = sim().await;
    let clock = TestClock::new(h.now());
    let ex = paper(&h, &clock);
    let b = book(&h);
    // Sell through the first two bid levels and a little of the third.
    let want = b.bids[0].size + b.bids[1].size + dec!(0.5);
    let limit = b.bids[2].price;
    let o = ex
        .submit(
            None,
            approved(Side::Ask, limit, want, Some(TimeInForce::Ioc), 1),
        )
        .await
        .unwrap();
    let fills: Vec<(Decimal, Decimal)> = o
        .trades
        .as_ref()
        .unwrap()
        .iter()
        .map(|t| (t.price.get(), t.volume.get()))
        .collect();
    assert_eq!(
        fills,
        vec![
            (b.bids[0].price.normalize(), b.bids[0].size.normalize()),
            (b.bids[1].price.normalize(), b.bids[1].size.normalize()),
            (b.bids[2].price.normalize(), dec!(0.5)),
        ]
    );
    assert_eq!(o.state, OrderState::Done);
    let funds: Decimal = fills.iter().map(|(p, v)| p * v).sum();
    assert_eq!(o.executed_funds.get(), funds);
    assert_eq!(o.paid_fee.get(), funds * dec!(0.0005));
    // Nothing reached the exchange's order endpoints.
    assert!(h.shared().world().engine.orders().is_empty());
    assert!(h.shared().world().order_log.is_empty());
    // A post-only order that would cross is cancelled without fills.
    let o = ex
        .submit(
            None,
            approved(
                Side::Ask,
                b.bids[0].price,
                dec!(3),
                Some(TimeInForce::PostOnly),
                2,
            ),
        )
        .await
        .unwrap();
    assert_eq!(o.state, OrderState::Cancel);
    assert!(o.executed_volume.is_zero());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resting_orders_fill_from_the_simulators_prints() {
    let h = sim().await;
    let clock = TestClock::new(h.now());
    let ex = paper(&h, &clock);
    let b = book(&h);
    // One tick above the best bid: rests, and fills when the market trades up to it.
    let tick = b.asks[0].price - b.bids[0].price;
    let price = b.asks[0].price + tick;
    let o = ex
        .submit(None, approved(Side::Ask, price, dec!(2), None, 3))
        .await
        .unwrap();
    assert_eq!(o.state, OrderState::Wait);
    let start = h.now().timestamp_millis();
    let mut done = None;
    for _ in 0..240 {
        let now = h.step(chrono::Duration::minutes(1)).unwrap();
        clock.set(now);
        let o = ex.fetch(&ident(3)).await.unwrap().unwrap();
        if !o.executed_volume.is_zero() {
            done = Some(o);
            break;
        }
    }
    let o = done.expect("the market traded up to the order within four hours");
    let prints = {
        let w = h.shared().world();
        let i = w.market_index("KRW-XRP").unwrap();
        w.markets[i].prints_between(
            start,
            h.now().timestamp_millis() + 1,
            h.now().timestamp_millis(),
        )
    };
    for t in o.trades.as_ref().unwrap() {
        assert_eq!(t.price.get(), price, "a resting order fills at its limit");
        let ts = t.ts.timestamp_millis();
        assert!(
            prints
                .iter()
                .any(|p| p.ts == ts
                    && (p.price > price || (p.price == price && p.taker == Side::Bid))),
            "no print through or at {price} at {}",
            t.ts
        );
        assert_eq!(t.fee.unwrap(), t.funds.times(dec!(0.0005)));
    }
    // Cancel what is left (if anything) and see it final.
    if o.state == OrderState::Wait {
        let c = ex.cancel(&ident(3)).await.unwrap();
        assert_eq!(c.state, OrderState::Cancel);
    }
    assert!(ex.open_orders("t4-pp-").await.unwrap().is_empty());
    assert!(h.shared().world().engine.orders().is_empty());
}
