//! Matching over HTTP: resting limit orders filled when the replayed market
//! trades through them, partial fills, market orders walking the book, the
//! 0.05 % fee reserved and charged, `locked` and `avg_buy_price`, self-match
//! prevention, and the tick / minimum-total / funds / depth rejections with
//! Upbit's error names in Upbit's order.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};

use crate::support::{Key, Sim, dec, replay};

const XRP: &str = "KRW-XRP";
const FEE: Decimal = dec!(0.0005);

/// `(low, high)` of `market` over the real minutes `[from, to)` after 03:00
/// UTC, straight from the data file.
fn range(market: &str, from: u32, to: u32) -> (Decimal, Decimal) {
    let text = std::fs::read_to_string(crate::support::data_file()).unwrap();
    let mut low = Decimal::MAX;
    let mut high = Decimal::MIN;
    for m in from..to {
        let prefix = format!("{market},2025-09-01T{:02}:{:02}:00Z,", 3 + m / 60, m % 60);
        let row: Vec<Decimal> = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap()
            .split(',')
            .skip(2)
            .take(4)
            .map(|v| v.parse().unwrap())
            .collect();
        high = high.max(row[1]);
        low = low.min(row[2]);
    }
    (low, high)
}

fn sum(o: &Value, field: &str) -> Decimal {
    o["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| dec(&t[field]))
        .sum()
}

fn limit<'a>(side: &'a str, price: &'a str, volume: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("market", XRP),
        ("side", side),
        ("volume", volume),
        ("price", price),
        ("ord_type", "limit"),
    ]
}

async fn funded(balances: &[(&str, &str)]) -> (Sim, Key) {
    let sim = replay().await;
    let k = Key::new("match");
    sim.add_account(&k, balances);
    (sim, k)
}

#[tokio::test]
async fn resting_limits_fill_when_the_market_trades_through_them() {
    let (sim, k) = funded(&[("KRW", "1000000"), ("XRP", "0")]).await;
    let (asks, bids) = sim.book(XRP).await;
    // The market trades one tick below this bid within the next two minutes.
    let (low, _) = range(XRP, 0, 2);
    let bid = low + Decimal::ONE;
    assert!(bid < asks[0].0, "precondition: the bid must rest");
    let bp = bid.to_string();
    let buy = sim.place(&k, &limit("bid", &bp, "100")).await;
    let notional = bid * dec!(100);
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (
            dec!(1000000) - notional * (Decimal::ONE + FEE),
            notional * (Decimal::ONE + FEE),
            Decimal::ZERO
        )
    );
    // Nothing happens while the clock stands still.
    assert_eq!(sim.order(&k, &buy).await["state"], "wait");
    sim.step(120);
    let o = sim.order(&k, &buy).await;
    assert_eq!(o["state"], "done", "{o}");
    assert_eq!(o["executed_volume"], "100");
    assert_eq!(o["remaining_volume"], "0");
    assert_eq!(o["locked"], "0");
    assert_eq!(o["remaining_fee"], "0");
    assert_eq!(dec(&o["paid_fee"]), notional * FEE);
    // Filled at its own price (maker), never better or worse.
    for t in o["trades"].as_array().unwrap() {
        assert_eq!(dec(&t["price"]), bid);
        assert_eq!(t["side"], "bid");
        assert!(t["created_at"].as_str().unwrap().ends_with("+09:00"));
        assert!(
            t["created_at"].as_str().unwrap().contains('.'),
            "fractional seconds"
        );
    }
    assert_eq!(sum(&o, "funds"), notional);
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (
            dec!(1000000) - notional * (Decimal::ONE + FEE),
            Decimal::ZERO,
            Decimal::ZERO
        )
    );
    assert_eq!(
        sim.balance(&k, "XRP").await,
        (dec!(100), Decimal::ZERO, bid)
    );

    // A resting ask fills when the market trades above it; the fee comes
    // out of the proceeds and nothing is reserved.
    let (_, high) = range(XRP, 2, 8);
    let ask = high - Decimal::ONE;
    let (_, bids_now) = sim.book(XRP).await;
    assert!(ask > bids_now[0].0 && ask > bids[0].0);
    let ap = ask.to_string();
    let sell = sim.place(&k, &limit("ask", &ap, "100")).await;
    let placed = sim.order(&k, &sell).await;
    assert_eq!(placed["reserved_fee"], "0");
    assert_eq!(placed["locked"], "100");
    assert_eq!(
        sim.balance(&k, "XRP").await,
        (Decimal::ZERO, dec!(100), bid)
    );
    sim.step(360);
    let o = sim.order(&k, &sell).await;
    assert_eq!(o["state"], "done", "{o}");
    let funds = ask * dec!(100);
    assert_eq!(dec(&o["paid_fee"]), funds * FEE);
    let krw = dec!(1000000) - notional * (Decimal::ONE + FEE) + funds * (Decimal::ONE - FEE);
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (krw, Decimal::ZERO, Decimal::ZERO)
    );
    // The holding went to zero: XRP is no longer listed.
    let r = sim.private(&k, Method::GET, "/v1/accounts", &[]).await;
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["currency"] != "XRP"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn partial_fills_accumulate_and_release_funds_proportionally() {
    let (sim, k) = funded(&[("KRW", "900000000")]).await;
    let (asks, _) = sim.book(XRP).await;
    let (p0, s0) = asks[0];
    // A bid at the best ask for more than that level: it takes the level and
    // rests with the remainder.
    let volume = (s0 + dec!(1000)).round_dp(8);
    let (ps, vs) = (p0.to_string(), volume.to_string());
    let u = sim.place(&k, &limit("bid", &ps, &vs)).await;
    let o = sim.order(&k, &u).await;
    assert_eq!(o["state"], "wait", "{o}");
    assert_eq!(o["trades_count"], 1);
    assert_eq!(dec(&o["executed_volume"]), s0);
    assert_eq!(dec(&o["remaining_volume"]), dec!(1000));
    let reserved = p0 * volume * FEE;
    assert_eq!(dec(&o["reserved_fee"]), reserved);
    assert_eq!(dec(&o["paid_fee"]), p0 * s0 * FEE);
    assert_eq!(dec(&o["remaining_fee"]), p0 * dec!(1000) * FEE);
    assert_eq!(dec(&o["locked"]), p0 * dec!(1000) * (Decimal::ONE + FEE));
    let listed = sim.private(&k, Method::GET, "/v1/orders/open", &[]).await;
    assert_eq!(dec(&listed.body[0]["executed_funds"]), p0 * s0);
    let (krw, locked, _) = sim.balance(&k, "KRW").await;
    assert_eq!(locked, dec(&o["locked"]));
    assert_eq!(
        krw,
        dec!(900000000) - p0 * s0 * (Decimal::ONE + FEE) - locked
    );
    assert_eq!(sim.balance(&k, "XRP").await, (s0, Decimal::ZERO, p0));
    // It now shows in the book at its price.
    let (_, bids) = sim.book(XRP).await;
    assert_eq!(bids[0].0, p0);
    assert!(bids[0].1 >= dec!(1000));

    // Cancelling the rest releases exactly what is still locked; the fills stay.
    let r = sim
        .private(&k, Method::DELETE, "/v1/order", &[("uuid", &u)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let o = sim.order(&k, &u).await;
    assert_eq!(o["state"], "cancel");
    assert_eq!(
        dec(&o["executed_volume"]),
        s0,
        "cancel after a partial fill"
    );
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (
            dec!(900000000) - p0 * s0 * (Decimal::ONE + FEE),
            Decimal::ZERO,
            Decimal::ZERO
        )
    );
}

#[tokio::test]
async fn market_orders_walk_the_book() {
    let (sim, k) = funded(&[("KRW", "900000000"), ("XRP", "0")]).await;
    let (asks, _) = sim.book(XRP).await;
    // Spend the whole first level plus part of the second.
    let total = (asks[0].0 * asks[0].1 + asks[1].0 * asks[1].1 / Decimal::TWO).round_dp(0);
    let ts = total.to_string();
    let u = sim
        .place(
            &k,
            &[
                ("market", XRP),
                ("side", "bid"),
                ("price", &ts),
                ("ord_type", "price"),
            ],
        )
        .await;
    let o = sim.order(&k, &u).await;
    assert_eq!(o["ord_type"], "price");
    assert!(
        o.get("volume").is_none() && o.get("remaining_volume").is_none(),
        "{o}"
    );
    assert!(
        ["done", "cancel"].contains(&o["state"].as_str().unwrap()),
        "{o}"
    );
    let trades = o["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 2, "{o}");
    assert_eq!(dec(&trades[0]["price"]), asks[0].0);
    assert_eq!(dec(&trades[0]["volume"]), asks[0].1);
    assert_eq!(dec(&trades[1]["price"]), asks[1].0);
    let funds = sum(&o, "funds");
    let volume = sum(&o, "volume");
    assert!(funds <= total && total - funds < asks[1].0 * dec!(0.00000001) + dec!(0.00000001));
    assert_eq!(dec(&o["executed_volume"]), volume);
    assert_eq!(dec(&o["paid_fee"]), funds * FEE);
    assert_eq!(o["locked"], "0");
    // Fees are not rounded: KRW balances keep every digit.
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (
            dec!(900000000) - funds * (Decimal::ONE + FEE),
            Decimal::ZERO,
            Decimal::ZERO
        )
    );
    let (xrp, _, avg) = sim.balance(&k, "XRP").await;
    assert_eq!(xrp, volume);
    assert_eq!(avg, (funds / volume).round_dp(8));

    // A second buy at a different price re-weights avg_buy_price.
    let (asks2, _) = sim.book(XRP).await;
    let p = asks2[0].0.to_string();
    sim.place(&k, &limit("bid", &p, "10")).await;
    let (xrp2, _, avg2) = sim.balance(&k, "XRP").await;
    assert_eq!(xrp2, volume + dec!(10));
    assert_eq!(
        avg2,
        ((avg * volume + asks2[0].0 * dec!(10)) / xrp2).round_dp(8)
    );

    // Market sell of more than the best bid level: two levels, done.
    let (_, bids) = sim.book(XRP).await;
    let sell = (bids[0].1 + dec!(5)).min(xrp2);
    let sv = sell.to_string();
    let krw_before = sim.balance(&k, "KRW").await.0;
    let u = sim
        .place(
            &k,
            &[
                ("market", XRP),
                ("side", "ask"),
                ("volume", &sv),
                ("ord_type", "market"),
            ],
        )
        .await;
    let o = sim.order(&k, &u).await;
    assert_eq!(o["state"], "done", "{o}");
    assert!(o.get("price").is_none());
    let trades = o["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 2, "{o}");
    assert_eq!(dec(&trades[0]["price"]), bids[0].0);
    assert_eq!(dec(&trades[1]["price"]), bids[1].0);
    assert_eq!(trades[0]["trend"], "down");
    let funds = sum(&o, "funds");
    assert_eq!(dec(&o["paid_fee"]), funds * FEE);
    let (krw_after, _, _) = sim.balance(&k, "KRW").await;
    assert_eq!(krw_after - krw_before, funds * (Decimal::ONE - FEE));
    // Selling leaves avg_buy_price alone.
    assert_eq!(sim.balance(&k, "XRP").await.2, avg2);
    // The tape shows the simulator's own trades.
    let tape = sim.get("/v1/trades/ticks?market=KRW-XRP&count=2").await;
    assert_eq!(dec(&tape.body[0]["trade_price"]), bids[1].0);
    assert_eq!(tape.body[0]["ask_bid"], "ASK");
}

#[tokio::test]
async fn self_match_prevention() {
    let (sim, k) = funded(&[("KRW", "900000000"), ("XRP", "1000")]).await;
    // Our own ask joins the best ask level (behind the synthetic liquidity
    // there); a bid of ours that takes the level then meets it.
    for (mode, maker_state, maker_left, taker_prevented) in [
        ("cancel_maker", "cancel", "0", "0"),
        ("reduce", "wait", "6", "4"),
        ("cancel_taker", "wait", "10", "4"),
    ] {
        let (asks, _) = sim.book(XRP).await;
        let p0 = asks[0].0;
        let ps = p0.to_string();
        let maker = sim.place(&k, &limit("ask", &ps, "10")).await;
        let (asks, _) = sim.book(XRP).await;
        let shown = asks[0].1;
        assert_eq!(asks[0].0, p0);
        let synthetic = shown - dec!(10);
        let vol = (synthetic + dec!(4)).to_string();
        let mut taker = limit("bid", &ps, &vol);
        taker.extend([("time_in_force", "ioc"), ("smp_type", mode)]);
        let t = sim.place(&k, &taker).await;
        let m = sim.order(&k, &maker).await;
        let o = sim.order(&k, &t).await;
        assert_eq!(
            m["trades_count"], 0,
            "{mode}: never traded with itself: {m}"
        );
        assert_eq!(m["state"], maker_state, "{mode}: {m}");
        assert_eq!(m["remaining_volume"], maker_left, "{mode}: {m}");
        assert_eq!(o["smp_type"], mode);
        assert_eq!(dec(&o["executed_volume"]), synthetic, "{mode}: {o}");
        assert_eq!(o["prevented_volume"], taker_prevented, "{mode}: {o}");
        assert_eq!(o["state"], "cancel");
        // Clean up the maker for the next round.
        if m["state"] == "wait" {
            sim.private(&k, Method::DELETE, "/v1/order", &[("uuid", &maker)])
                .await;
        }
    }
    assert_eq!(sim.balance(&k, "XRP").await.1, Decimal::ZERO);
    // post_only cannot be combined with smp_type.
    let mut bad = limit("bid", "3000", "4");
    bad.extend([("time_in_force", "post_only"), ("smp_type", "reduce")]);
    assert_eq!(sim.create(&k, &bad).await.error_name(), "create_bid_error");
}

#[tokio::test]
async fn rejections_carry_upbit_names_in_upbit_order() {
    let (sim, k) = funded(&[("KRW", "100000"), ("XRP", "10"), ("BTC", "0.001")]).await;
    let expect = |r: crate::support::Resp, name: &str| {
        assert_eq!(
            (r.status, r.error_name()),
            (StatusCode::BAD_REQUEST, name.to_owned()),
            "{}",
            r.body
        );
    };
    // Tick grid per price band (1 KRW for XRP, 1000 KRW for BTC and ETH).
    expect(
        sim.create(&k, &limit("bid", "3800.5", "2")).await,
        "invalid_price_bid",
    );
    expect(
        sim.create(&k, &limit("ask", "3800.5", "2")).await,
        "invalid_price_ask",
    );
    for (market, price) in [("KRW-BTC", "149800500"), ("KRW-ETH", "6100500")] {
        let r = sim
            .create(
                &k,
                &[
                    ("market", market),
                    ("side", "bid"),
                    ("volume", "0.0001"),
                    ("price", price),
                    ("ord_type", "limit"),
                ],
            )
            .await;
        expect(r, "invalid_price_bid");
    }
    // Volume precision: at most 8 decimals.
    expect(
        sim.create(&k, &limit("bid", "3800", "2.123456789")).await,
        "invalid_volume_bid",
    );
    // Minimum order total 5,000 KRW on every path.
    expect(
        sim.create(&k, &limit("bid", "3000", "1")).await,
        "under_min_total_bid",
    );
    expect(
        sim.create(&k, &limit("ask", "4000", "1")).await,
        "under_min_total_ask",
    );
    expect(
        sim.create(
            &k,
            &[
                ("market", XRP),
                ("side", "bid"),
                ("price", "4999"),
                ("ord_type", "price"),
            ],
        )
        .await,
        "under_min_total_bid",
    );
    let r = sim
        .create(
            &k,
            &[
                ("market", XRP),
                ("side", "ask"),
                ("volume", "1"),
                ("ord_type", "market"),
            ],
        )
        .await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("매수 1호가"),
        "{}",
        r.body
    );
    expect(r, "under_min_total_market_ask");
    // Exactly the minimum is fine (when affordable).
    let ok = sim.create(&k, &limit("bid", "2500", "2")).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    // Funds include the reserved fee.
    let (krw, _, _) = sim.balance(&k, "KRW").await;
    let vol = (krw / dec!(2000)).round_dp(8);
    expect(
        sim.create(&k, &limit("bid", "2000", &vol.to_string()))
            .await,
        "insufficient_funds_bid",
    );
    expect(
        sim.create(&k, &limit("ask", "5000", "11")).await,
        "insufficient_funds_ask",
    );
    // Maximum order total.
    let r = sim
        .create(
            &k,
            &[
                ("market", "KRW-BTC"),
                ("side", "bid"),
                ("volume", "10"),
                ("price", "150000000"),
                ("ord_type", "limit"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error_name().starts_with("over_max_total"), "{}", r.body);
    // Precedence: a tick error wins over the minimum total, the minimum over funds.
    expect(
        sim.create(&k, &limit("bid", "100.5", "1")).await,
        "invalid_price_bid",
    );
    expect(
        sim.create(&k, &limit("ask", "100", "20")).await,
        "under_min_total_ask",
    );
    // A market under maintenance answers 403 market_offline.
    let r = sim
        .admin(
            Method::POST,
            "/markets/KRW-XRP",
            Some(json!({"offline": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = sim.create(&k, &limit("bid", "3000", "2")).await;
    assert_eq!(
        (r.status.as_u16(), r.error_name().as_str()),
        (403, "market_offline")
    );
    let c = sim
        .private(&k, Method::GET, "/v1/orders/chance", &[("market", XRP)])
        .await;
    assert_eq!(c.body["market"]["state"], "inactive");
}

#[tokio::test]
async fn market_orders_must_fit_in_the_visible_depth() {
    // Upbit counts 30 levels; three keep the amounts within one account's reach.
    let sim = crate::support::replay_with(|c| c.limits.depth_levels = 3).await;
    let k = Key::new("depth");
    sim.add_account(&k, &[("KRW", "1000000000"), ("XRP", "100000000")]);
    let expect = |r: crate::support::Resp, name: &str| {
        assert_eq!(
            (r.status, r.error_name()),
            (StatusCode::BAD_REQUEST, name.to_owned()),
            "{}",
            r.body
        );
    };
    let (asks, bids) = sim.book(XRP).await;
    let ask_value: Decimal = asks[..3].iter().map(|(p, s)| p * s).sum();
    let bid_volume: Decimal = bids[..3].iter().map(|(_, s)| *s).sum();
    let over = (ask_value + dec!(1000)).round_dp(0).to_string();
    let r = sim
        .create(
            &k,
            &[
                ("market", XRP),
                ("side", "bid"),
                ("price", &over),
                ("ord_type", "price"),
            ],
        )
        .await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1~30"),
        "{}",
        r.body
    );
    expect(r, "create_bid_error");
    let over = (bid_volume + dec!(1)).to_string();
    expect(
        sim.create(
            &k,
            &[
                ("market", XRP),
                ("side", "ask"),
                ("volume", &over),
                ("ord_type", "market"),
            ],
        )
        .await,
        "create_ask_error",
    );
    // Just inside the depth is accepted and fills.
    let inside = (ask_value - dec!(1000)).round_dp(0).to_string();
    let u = sim
        .place(
            &k,
            &[
                ("market", XRP),
                ("side", "bid"),
                ("price", &inside),
                ("ord_type", "price"),
            ],
        )
        .await;
    let o = sim.order(&k, &u).await;
    assert_eq!(o["trades_count"], 3, "{o}");
}
