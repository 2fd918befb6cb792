//! Exchange endpoints over HTTP: accounts, chance, the order lifecycle by
//! uuid and identifier, every `ord_type` and `time_in_force`, the lists, the
//! batch cancels, the test endpoint, cancel-and-new, and the three ways real
//! clients send parameters (query string, form body, JSON body).

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{Key, Sim, dec, enc, replay};

const XRP: &str = "KRW-XRP";

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A replay simulator with one funded account.
async fn funded(name: &str, balances: &[(&str, &str)]) -> (Sim, Key) {
    let sim = replay().await;
    let k = Key::new(name);
    sim.add_account(&k, balances);
    (sim, k)
}

/// Borrows owned parameter values.
fn refs<'a>(params: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    params.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn uuids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o["uuid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn accounts_list_krw_and_held_assets_as_decimal_strings() {
    let (sim, k) = funded(
        "acct",
        &[("KRW", "1000000.5"), ("BTC", "0.25"), ("ETH", "0")],
    )
    .await;
    let r = sim.private(&k, Method::GET, "/v1/accounts", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.remaining(), "group=default; min=1800; sec=29");
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 2, "zero holdings are not listed: {}", r.body);
    let krw = &list[0];
    assert_eq!(krw["currency"], "KRW");
    assert_eq!(krw["balance"], "1000000.5");
    assert_eq!(krw["locked"], "0");
    assert_eq!(krw["avg_buy_price"], "0");
    assert_eq!(krw["avg_buy_price_modified"], false);
    assert_eq!(krw["unit_currency"], "KRW");
    assert_eq!(list[1]["currency"], "BTC");
    assert_eq!(list[1]["balance"], "0.25");
}

#[tokio::test]
async fn chance_reports_fees_limits_and_both_balances() {
    let (sim, k) = funded("chance", &[("KRW", "10000"), ("BTC", "0.001")]).await;
    let r = sim
        .private(
            &k,
            Method::GET,
            "/v1/orders/chance",
            &[("market", "KRW-BTC")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = &r.body;
    for f in ["bid_fee", "ask_fee", "maker_bid_fee", "maker_ask_fee"] {
        assert_eq!(c[f], "0.0005", "{f}");
    }
    let m = &c["market"];
    assert_eq!(m["id"], "KRW-BTC");
    assert_eq!(m["name"], "BTC/KRW");
    assert_eq!(m["bid"]["currency"], "KRW");
    assert_eq!(m["bid"]["min_total"], "5000");
    assert_eq!(m["ask"]["currency"], "BTC");
    assert_eq!(m["max_total"], "1000000000");
    assert_eq!(m["state"], "active");
    assert!(
        m["bid_types"]
            .as_array()
            .unwrap()
            .contains(&Value::from("price"))
    );
    assert!(
        m["ask_types"]
            .as_array()
            .unwrap()
            .contains(&Value::from("market"))
    );
    assert_eq!(c["bid_account"]["balance"], "10000");
    assert_eq!(c["ask_account"]["currency"], "BTC");
    assert_eq!(c["ask_account"]["balance"], "0.001");
    for params in [&[("market", "KRW-NOPE")][..], &[][..]] {
        let r = sim
            .private(&k, Method::GET, "/v1/orders/chance", params)
            .await;
        assert_eq!(
            (r.status, r.error_name().as_str()),
            (StatusCode::BAD_REQUEST, "validation_error"),
            "{params:?}"
        );
        assert!(
            r.body["error"]["name"].is_string(),
            "Exchange names are strings"
        );
    }
}

#[tokio::test]
async fn limit_order_lifecycle_by_uuid_and_identifier() {
    let (sim, k) = funded("life", &[("KRW", "1000000")]).await;
    let (_, bids) = sim.book(XRP).await;
    let price = bids[0].0 - Decimal::TWO;
    let p = price.to_string();
    let r = sim
        .create(
            &k,
            &[
                ("market", XRP),
                ("side", "bid"),
                ("volume", "10"),
                ("price", &p),
                ("ord_type", "limit"),
                ("identifier", "life-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.remaining(), "group=order; min=720; sec=11");
    let o = &r.body;
    let notional = price * Decimal::TEN;
    let fee = notional * dec!(0.0005);
    assert_eq!(o["state"], "wait");
    assert_eq!(o["side"], "bid");
    assert_eq!(o["ord_type"], "limit");
    assert_eq!(o["market"], XRP);
    assert_eq!(o["price"], p.as_str());
    assert_eq!(o["volume"], "10");
    assert_eq!(o["remaining_volume"], "10");
    assert_eq!(o["executed_volume"], "0");
    assert_eq!(dec(&o["reserved_fee"]), fee);
    assert_eq!(dec(&o["remaining_fee"]), fee);
    assert_eq!(o["paid_fee"], "0");
    assert_eq!(dec(&o["locked"]), notional + fee);
    assert_eq!(o["trades_count"], 0);
    assert_eq!(o["identifier"], "life-1");
    assert_eq!(o["created_at"], "2025-09-01T12:00:00+09:00");
    for absent in ["executed_funds", "trades", "time_in_force", "smp_type"] {
        assert!(o.get(absent).is_none(), "{absent} must be omitted: {o}");
    }
    let uuid = o["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (d("1000000") - notional - fee, notional + fee, Decimal::ZERO)
    );

    // GET by uuid and by identifier: the same order, with `trades`.
    let by_uuid = sim.order(&k, &uuid).await;
    assert_eq!(by_uuid["trades"], Value::Array(vec![]));
    let by_id = sim
        .private(&k, Method::GET, "/v1/order", &[("identifier", "life-1")])
        .await;
    assert_eq!(by_id.status, StatusCode::OK);
    assert_eq!(by_id.body, by_uuid);

    // Listed as open, with executed_funds.
    let open = sim
        .private(&k, Method::GET, "/v1/orders/open", &[("market", XRP)])
        .await;
    assert_eq!(uuids(&open.body), vec![uuid.clone()]);
    assert_eq!(open.body[0]["executed_funds"], "0");

    // Cancel by identifier: the answer is the snapshot before the cancel.
    let c = sim
        .private(&k, Method::DELETE, "/v1/order", &[("identifier", "life-1")])
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    assert_eq!(c.body["state"], "wait");
    assert_eq!(c.body["uuid"], uuid.as_str());
    let after = sim.order(&k, &uuid).await;
    assert_eq!(after["state"], "cancel");
    assert_eq!(after["locked"], "0");
    assert_eq!(after["remaining_fee"], "0");
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (d("1000000"), Decimal::ZERO, Decimal::ZERO)
    );
    let closed = sim
        .private(&k, Method::GET, "/v1/orders/closed", &[("state", "cancel")])
        .await;
    assert_eq!(uuids(&closed.body), vec![uuid.clone()]);

    // Not found: cancelling twice, unknown ids, other accounts' orders.
    for (method, params) in [
        (Method::DELETE, vec![("uuid", uuid.as_str())]),
        (
            Method::GET,
            vec![("uuid", "00000000-0000-4000-8000-000000000000")],
        ),
        (Method::GET, vec![("identifier", "never-used")]),
    ] {
        let r = sim.private(&k, method, "/v1/order", &params).await;
        assert_eq!(
            (r.status, r.error_name().as_str()),
            (StatusCode::NOT_FOUND, "order_not_found"),
            "{params:?}"
        );
    }
    let other = Key::new("other");
    sim.add_account(&other, &[("KRW", "1000000")]);
    let r = sim
        .private(&other, Method::GET, "/v1/order", &[("uuid", &uuid)])
        .await;
    assert_eq!(r.error_name(), "order_not_found");
    let r = sim.private(&k, Method::GET, "/v1/order", &[]).await;
    assert_eq!(
        (r.status, r.error_name().as_str()),
        (StatusCode::BAD_REQUEST, "validation_error")
    );
}

#[tokio::test]
async fn identifiers_are_unique_forever_even_after_a_failed_order() {
    let (sim, k) = funded("ident", &[("KRW", "100000")]).await;
    let (_, bids) = sim.book(XRP).await;
    let p = (bids[0].0 - Decimal::TEN).to_string();
    let order = |id: &'static str, volume: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("market", XRP.to_owned()),
            ("side", "bid".to_owned()),
            ("volume", volume.to_owned()),
            ("price", p.clone()),
            ("ord_type", "limit".to_owned()),
            ("identifier", id.to_owned()),
        ]
    };
    sim.place(&k, &refs(&order("dup-1", "2"))).await;
    let again = sim.create(&k, &refs(&order("dup-1", "2"))).await;
    assert_eq!(
        (again.status, again.error_name().as_str()),
        (StatusCode::BAD_REQUEST, "validation_error"),
        "{}",
        again.body
    );
    // A refused order burns its identifier too.
    let poor = sim.create(&k, &refs(&order("burn-1", "1000"))).await;
    assert_eq!(poor.error_name(), "insufficient_funds_bid");
    let retry = sim.create(&k, &refs(&order("burn-1", "2"))).await;
    assert_eq!(retry.error_name(), "validation_error", "{}", retry.body);
    // Other accounts have their own identifier space.
    let k2 = Key::new("ident-2");
    sim.add_account(&k2, &[("KRW", "100000")]);
    sim.place(&k2, &refs(&order("dup-1", "2"))).await;
}

#[tokio::test]
async fn every_ord_type_and_time_in_force() {
    let (sim, k) = funded("types", &[("KRW", "900000000"), ("XRP", "1000000")]).await;
    let get = |uuid: String| {
        let sim = &sim;
        let k = &k;
        async move { sim.order(k, &uuid).await }
    };

    // limit + ioc larger than the best ask level: fills that level, cancels the rest.
    let (asks, _) = sim.book(XRP).await;
    let (p0, s0) = asks[0];
    let vol = (s0 + dec!(5)).to_string();
    let ps = p0.to_string();
    let u = sim
        .place(
            &k,
            &[
                ("market", XRP),
                ("side", "bid"),
                ("volume", &vol),
                ("price", &ps),
                ("ord_type", "limit"),
                ("time_in_force", "ioc"),
            ],
        )
        .await;
    let o = get(u).await;
    assert_eq!(o["state"], "cancel", "{o}");
    assert_eq!(o["time_in_force"], "ioc");
    assert_eq!(dec(&o["executed_volume"]), s0);
    assert_eq!(dec(&o["remaining_volume"]), dec!(5));
    assert_eq!(o["trades_count"], 1);
    assert_eq!(dec(&o["trades"][0]["price"]), p0);
    assert_eq!(o["trades"][0]["trend"], "up");
    assert_eq!(dec(&o["paid_fee"]), p0 * s0 * dec!(0.0005));
    assert_eq!(o["locked"], "0");

    // limit + fok: all or nothing.
    let (asks, _) = sim.book(XRP).await;
    let (p1, s1) = asks[0];
    let too_much = (s1 + dec!(1)).to_string();
    let ps = p1.to_string();
    for (vol, state, trades) in [(too_much.as_str(), "cancel", 0), ("2", "done", 1)] {
        let o = get(sim
            .place(
                &k,
                &[
                    ("market", XRP),
                    ("side", "bid"),
                    ("volume", vol),
                    ("price", &ps),
                    ("ord_type", "limit"),
                    ("time_in_force", "fok"),
                ],
            )
            .await)
        .await;
        assert_eq!(o["state"], state, "fok {vol}: {o}");
        assert_eq!(o["trades_count"], trades, "fok {vol}");
    }

    // post_only: cancelled without trading when it would cross, rests otherwise.
    let (asks, bids) = sim.book(XRP).await;
    let cross = asks[0].0.to_string();
    let rest = (bids[0].0 - Decimal::ONE).to_string();
    for (price, state) in [(&cross, "cancel"), (&rest, "wait")] {
        let o = get(sim
            .place(
                &k,
                &[
                    ("market", XRP),
                    ("side", "bid"),
                    ("volume", "3"),
                    ("price", price),
                    ("ord_type", "limit"),
                    ("time_in_force", "post_only"),
                ],
            )
            .await)
        .await;
        assert_eq!(o["state"], state, "{o}");
        assert_eq!(o["trades_count"], 0);
        assert_eq!(o["time_in_force"], "post_only");
    }

    // best + ioc buy (KRW total) and best + fok sell (volume).
    let (asks, bids) = sim.book(XRP).await;
    let o = get(sim
        .place(
            &k,
            &[
                ("market", XRP),
                ("side", "bid"),
                ("price", "20000"),
                ("ord_type", "best"),
                ("time_in_force", "ioc"),
            ],
        )
        .await)
    .await;
    assert_eq!(o["ord_type"], "best");
    assert!(o.get("volume").is_none(), "{o}");
    assert_eq!(dec(&o["trades"][0]["price"]), asks[0].0);
    assert!(dec(&o["executed_volume"]) > Decimal::ZERO);
    let o = get(sim
        .place(
            &k,
            &[
                ("market", XRP),
                ("side", "ask"),
                ("volume", "4"),
                ("ord_type", "best"),
                ("time_in_force", "fok"),
            ],
        )
        .await)
    .await;
    assert_eq!(o["state"], "done", "{o}");
    assert!(o.get("price").is_none(), "{o}");
    assert_eq!(dec(&o["trades"][0]["price"]), bids[0].0);
    assert_eq!(o["trades"][0]["trend"], "down");

    // Parameter combinations Upbit refuses, with its names.
    for (params, name) in [
        (
            vec![("side", "bid"), ("price", "10000"), ("ord_type", "best")],
            "create_bid_error",
        ),
        (
            vec![
                ("side", "ask"),
                ("volume", "3"),
                ("price", "3800"),
                ("ord_type", "market"),
            ],
            "create_ask_error",
        ),
        (
            vec![
                ("side", "bid"),
                ("volume", "3"),
                ("price", "10000"),
                ("ord_type", "price"),
            ],
            "create_bid_error",
        ),
        (
            vec![
                ("side", "bid"),
                ("price", "10000"),
                ("ord_type", "price"),
                ("time_in_force", "ioc"),
            ],
            "create_bid_error",
        ),
        (
            vec![("side", "bid"), ("price", "3800"), ("ord_type", "limit")],
            "validation_error",
        ),
        (
            vec![("side", "bid"), ("volume", "3"), ("ord_type", "limit")],
            "validation_error",
        ),
        (
            vec![
                ("side", "buy"),
                ("volume", "3"),
                ("price", "3800"),
                ("ord_type", "limit"),
            ],
            "validation_error",
        ),
        (
            vec![
                ("side", "bid"),
                ("volume", "3"),
                ("price", "3800"),
                ("ord_type", "stop"),
            ],
            "validation_error",
        ),
        (
            vec![
                ("side", "bid"),
                ("volume", "3"),
                ("price", "3800"),
                ("ord_type", "limit"),
                ("time_in_force", "gtc"),
            ],
            "validation_error",
        ),
        (
            vec![
                ("side", "bid"),
                ("volume", "-3"),
                ("price", "3800"),
                ("ord_type", "limit"),
            ],
            "validation_error",
        ),
        (
            vec![
                ("side", "bid"),
                ("volume", "abc"),
                ("price", "3800"),
                ("ord_type", "limit"),
            ],
            "validation_error",
        ),
    ] {
        let mut all = vec![("market", XRP)];
        all.extend(params.iter().copied());
        let r = sim.create(&k, &all).await;
        assert_eq!(
            (r.status, r.error_name().as_str()),
            (StatusCode::BAD_REQUEST, name),
            "{all:?}: {}",
            r.body
        );
    }
    for market in ["KRW-NOPE", "krw-xrp"] {
        let r = sim
            .create(
                &k,
                &[
                    ("market", market),
                    ("side", "bid"),
                    ("volume", "3"),
                    ("price", "3800"),
                    ("ord_type", "limit"),
                ],
            )
            .await;
        assert_eq!(r.error_name(), "validation_error", "{market}");
    }
}

#[tokio::test]
async fn open_closed_and_by_id_lists() {
    let (sim, k) = funded("lists", &[("KRW", "10000000")]).await;
    let (_, bids) = sim.book(XRP).await;
    let mut made = Vec::new();
    for i in 0..5u32 {
        let p = (bids[0].0 - Decimal::from(10 + i)).to_string();
        let id = format!("list-{i}");
        made.push(
            sim.place(
                &k,
                &[
                    ("market", XRP),
                    ("side", "bid"),
                    ("volume", "2"),
                    ("price", &p),
                    ("ord_type", "limit"),
                    ("identifier", &id),
                ],
            )
            .await,
        );
        // Distinct creation times for the sort order.
        sim.step(1);
    }
    // Newest first by default; asc reverses; limit and page cut.
    let open = sim.private(&k, Method::GET, "/v1/orders/open", &[]).await;
    let mut newest_first = made.clone();
    newest_first.reverse();
    assert_eq!(uuids(&open.body), newest_first);
    let asc = sim
        .private(&k, Method::GET, "/v1/orders/open", &[("order_by", "asc")])
        .await;
    assert_eq!(uuids(&asc.body), made);
    let page2 = sim
        .private(
            &k,
            Method::GET,
            "/v1/orders/open",
            &[("limit", "2"), ("page", "2")],
        )
        .await;
    assert_eq!(uuids(&page2.body), newest_first[2..4].to_vec());
    // states[] raw or percent-encoded, and state; not both.
    for q in [
        "states[]=wait&states[]=watch",
        "states%5B%5D=wait&states%5B%5D=watch",
        "state=wait",
    ] {
        let hashed = q.replace("%5B%5D", "[]");
        let token = crate::support::sign(
            &k,
            &sim.next_nonce(),
            Some(&hashed),
            jsonwebtoken::Algorithm::HS256,
        );
        let r = sim
            .raw(
                Method::GET,
                &format!("/v1/orders/open?{q}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        assert_eq!(r.body.as_array().unwrap().len(), 5, "{q}");
    }
    for params in [
        vec![("state", "wait"), ("states[]", "watch")],
        vec![("state", "done")],
        vec![("limit", "101")],
        vec![("order_by", "sideways")],
    ] {
        let r = sim
            .private(&k, Method::GET, "/v1/orders/open", &params)
            .await;
        assert_eq!(r.error_name(), "validation_error", "{params:?}");
    }

    // Cancel two; the closed list shows them, filtered by state and window.
    for u in &made[..2] {
        let r = sim
            .private(&k, Method::DELETE, "/v1/order", &[("uuid", u)])
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let closed = sim.private(&k, Method::GET, "/v1/orders/closed", &[]).await;
    assert_eq!(uuids(&closed.body), vec![made[1].clone(), made[0].clone()]);
    let done = sim
        .private(&k, Method::GET, "/v1/orders/closed", &[("state", "done")])
        .await;
    assert_eq!(done.body, Value::Array(vec![]));
    let window = sim
        .private(
            &k,
            Method::GET,
            "/v1/orders/closed",
            &[
                ("start_time", "2025-09-01T12:00:00+09:00"),
                ("end_time", "2025-09-01T03:00:00.500Z"),
            ],
        )
        .await;
    assert_eq!(
        uuids(&window.body),
        vec![made[0].clone()],
        "{}",
        window.body
    );
    let ms = sim
        .private(
            &k,
            Method::GET,
            "/v1/orders/closed",
            &[("start_time", "1756695601000")],
        )
        .await;
    assert_eq!(
        uuids(&ms.body),
        vec![made[1].clone()],
        "ms timestamps: {}",
        ms.body
    );
    for params in [
        vec![
            ("start_time", "2025-08-01T00:00:00Z"),
            ("end_time", "2025-09-01T00:00:00Z"),
        ],
        vec![("start_time", "yesterday")],
        vec![("state", "wait")],
        vec![("limit", "1001")],
    ] {
        let r = sim
            .private(&k, Method::GET, "/v1/orders/closed", &params)
            .await;
        assert_eq!(r.error_name(), "validation_error", "{params:?}");
    }

    // By uuids[] or identifiers[] (not both), unknown ids skipped.
    let r = sim
        .private(
            &k,
            Method::GET,
            "/v1/orders/uuids",
            &[
                ("uuids[]", &made[0]),
                ("uuids[]", &made[3]),
                ("uuids[]", "nope"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(uuids(&r.body), vec![made[3].clone(), made[0].clone()]);
    assert_eq!(r.body[1]["state"], "cancel");
    let r = sim
        .private(
            &k,
            Method::GET,
            "/v1/orders/uuids",
            &[("identifiers[]", "list-4"), ("order_by", "asc")],
        )
        .await;
    assert_eq!(uuids(&r.body), vec![made[4].clone()]);
    for params in [
        vec![("uuids[]", made[0].as_str()), ("identifiers[]", "list-1")],
        vec![],
    ] {
        let r = sim
            .private(&k, Method::GET, "/v1/orders/uuids", &params)
            .await;
        assert_eq!(r.error_name(), "validation_error", "{params:?}");
    }
}

#[tokio::test]
async fn batch_cancels_by_ids_and_of_open_orders() {
    let (sim, k) = funded("batch", &[("KRW", "10000000"), ("BTC", "1")]).await;
    let (_, xrp_bids) = sim.book(XRP).await;
    let (btc_asks, _) = sim.book("KRW-BTC").await;
    let xp = (xrp_bids[0].0 - Decimal::TEN).to_string();
    let bp = (btc_asks[0].0 + dec!(100000)).to_string();
    let mut xrp = Vec::new();
    for i in 0..3 {
        let id = format!("b-{i}");
        xrp.push(
            sim.place(
                &k,
                &[
                    ("market", XRP),
                    ("side", "bid"),
                    ("volume", "2"),
                    ("price", &xp),
                    ("ord_type", "limit"),
                    ("identifier", &id),
                ],
            )
            .await,
        );
    }
    let btc_ask = sim
        .place(
            &k,
            &[
                ("market", "KRW-BTC"),
                ("side", "ask"),
                ("volume", "0.001"),
                ("price", &bp),
                ("ord_type", "limit"),
            ],
        )
        .await;

    // By ids: the known ones succeed, unknown or already-cancelled ones fail.
    let r = sim
        .private(
            &k,
            Method::DELETE,
            "/v1/orders/uuids",
            &[
                ("uuids[]", &xrp[0]),
                ("uuids[]", "00000000-0000-4000-8000-000000000000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["success"]["count"], 1);
    assert_eq!(r.body["success"]["orders"][0]["uuid"], xrp[0].as_str());
    assert_eq!(r.body["success"]["orders"][0]["market"], XRP);
    assert_eq!(r.body["success"]["orders"][0]["identifier"], "b-0");
    assert_eq!(r.body["failed"]["count"], 1);
    let r = sim
        .private(
            &k,
            Method::DELETE,
            "/v1/orders/uuids",
            &[("identifiers[]", "b-0"), ("identifiers[]", "b-1")],
        )
        .await;
    assert_eq!(
        (
            r.body["success"]["count"].as_u64(),
            r.body["failed"]["count"].as_u64()
        ),
        (Some(1), Some(1)),
        "{}",
        r.body
    );
    // Query string only: a body is refused.
    let r = sim
        .private_body(
            &k,
            Method::DELETE,
            "/v1/orders/uuids",
            &[("uuids[]", &xrp[2])],
            true,
        )
        .await;
    assert_eq!(r.error_name(), "validation_error", "{}", r.body);
    let many: Vec<String> = (0..21).map(|i| format!("id-{i}")).collect();
    let params: Vec<(&str, &str)> = many.iter().map(|s| ("identifiers[]", s.as_str())).collect();
    let r = sim
        .private(&k, Method::DELETE, "/v1/orders/uuids", &params)
        .await;
    assert_eq!(r.error_name(), "validation_error", "at most 20 ids");

    // Cancel-all: only bids of the chosen pairs; the BTC ask survives.
    let r = sim
        .private(
            &k,
            Method::DELETE,
            "/v1/orders/open",
            &[("cancel_side", "bid"), ("pairs", "KRW-XRP,KRW-ETH")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.remaining(), "group=order-cancel-all; min=30; sec=0");
    assert_eq!(uuids(&r.body["success"]["orders"]), vec![xrp[2].clone()]);
    assert_eq!(sim.order(&k, &btc_ask).await["state"], "wait");
    let r = sim
        .private(
            &k,
            Method::DELETE,
            "/v1/orders/open",
            &[("quote_currencies", "KRW"), ("excluded_pairs", "KRW-BTC")],
        )
        .await;
    assert_eq!(r.body["success"]["count"], 0, "{}", r.body);
    let r = sim
        .private(&k, Method::DELETE, "/v1/orders/open", &[])
        .await;
    assert_eq!(uuids(&r.body["success"]["orders"]), vec![btc_ask.clone()]);
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (d("10000000"), Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(sim.balance(&k, "BTC").await.0, Decimal::ONE);
    for params in [
        vec![("cancel_side", "both")],
        vec![("pairs", "KRW-XRP"), ("quote_currencies", "KRW")],
        vec![("count", "301")],
    ] {
        let r = sim
            .private(&k, Method::DELETE, "/v1/orders/open", &params)
            .await;
        assert_eq!(r.error_name(), "validation_error", "{params:?}");
    }
}

#[tokio::test]
async fn test_orders_validate_without_creating_anything() {
    let (sim, k) = funded("test", &[("KRW", "100000")]).await;
    let (_, bids) = sim.book(XRP).await;
    let p = (bids[0].0 - Decimal::TEN).to_string();
    let body = [
        ("market", XRP),
        ("side", "bid"),
        ("volume", "5"),
        ("price", p.as_str()),
        ("ord_type", "limit"),
        ("identifier", "t-1"),
    ];
    let r = sim
        .private(&k, Method::POST, "/v1/orders/test", &body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.remaining(), "group=order-test; min=480; sec=7");
    assert_eq!(r.body["state"], "wait");
    let uuid = r.body["uuid"].as_str().unwrap();
    let get = sim
        .private(&k, Method::GET, "/v1/order", &[("uuid", uuid)])
        .await;
    assert_eq!(get.error_name(), "order_not_found");
    assert_eq!(
        sim.balance(&k, "KRW").await.1,
        Decimal::ZERO,
        "nothing locked"
    );
    // The identifier is still free for a real order.
    sim.place(&k, &body).await;
    let poor = [
        ("market", XRP),
        ("side", "bid"),
        ("volume", "500"),
        ("price", p.as_str()),
        ("ord_type", "limit"),
    ];
    let r = sim
        .private(&k, Method::POST, "/v1/orders/test", &poor)
        .await;
    assert_eq!(r.error_name(), "insufficient_funds_bid");
}

#[tokio::test]
async fn cancel_and_new_replaces_an_open_order() {
    let (sim, k) = funded("replace", &[("KRW", "1000000")]).await;
    let (_, bids) = sim.book(XRP).await;
    let old_price = bids[0].0 - Decimal::TEN;
    let new_price = bids[0].0 - Decimal::from(20);
    let op = old_price.to_string();
    let np = new_price.to_string();
    let old = sim
        .place(
            &k,
            &[
                ("market", XRP),
                ("side", "bid"),
                ("volume", "10"),
                ("price", &op),
                ("ord_type", "limit"),
                ("identifier", "cn-1"),
            ],
        )
        .await;
    let r = sim
        .private(
            &k,
            Method::POST,
            "/v1/orders/cancel_and_new",
            &[
                ("prev_order_uuid", &old),
                ("new_ord_type", "limit"),
                ("new_volume", "remain_only"),
                ("new_price", &np),
                ("new_identifier", "cn-2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.remaining(), "group=order; min=720; sec=10");
    assert_eq!(r.body["uuid"], old.as_str());
    assert_eq!(r.body["state"], "wait");
    assert_eq!(r.body["new_order_identifier"], "cn-2");
    let new_uuid = r.body["new_order_uuid"].as_str().unwrap().to_owned();
    assert_eq!(sim.order(&k, &old).await["state"], "cancel");
    let new = sim.order(&k, &new_uuid).await;
    assert_eq!(
        (new["state"].as_str(), new["volume"].as_str()),
        (Some("wait"), Some("10"))
    );
    assert_eq!(dec(&new["price"]), new_price);
    let locked = new_price * Decimal::TEN * dec!(1.0005);
    assert_eq!(sim.balance(&k, "KRW").await.1, locked);
    // The old identifier cannot be reused; a finished order cannot be replaced.
    let r = sim
        .private(
            &k,
            Method::POST,
            "/v1/orders/cancel_and_new",
            &[
                ("prev_order_identifier", "cn-2"),
                ("new_ord_type", "limit"),
                ("new_volume", "10"),
                ("new_price", &np),
                ("new_identifier", "cn-2"),
            ],
        )
        .await;
    assert_eq!(r.error_name(), "validation_error", "{}", r.body);
    let r = sim
        .private(
            &k,
            Method::POST,
            "/v1/orders/cancel_and_new",
            &[
                ("prev_order_uuid", &old),
                ("new_ord_type", "limit"),
                ("new_volume", "10"),
                ("new_price", &np),
            ],
        )
        .await;
    assert_eq!(r.error_name(), "order_not_found");
    let r = sim
        .private(
            &k,
            Method::POST,
            "/v1/orders/cancel_and_new",
            &[("prev_order_uuid", &new_uuid)],
        )
        .await;
    assert_eq!(
        r.error_name(),
        "validation_error",
        "new_ord_type is required"
    );
}

#[tokio::test]
async fn parameters_in_query_form_and_json_bodies() {
    let (sim, k) = funded("forms", &[("KRW", "1000000")]).await;
    let (_, bids) = sim.book(XRP).await;
    let p = (bids[0].0 - Decimal::TEN).to_string();
    // POST with a form body (older clients) creates the same order as JSON.
    let form = sim
        .private_body(
            &k,
            Method::POST,
            "/v1/orders",
            &[
                ("market", XRP),
                ("side", "bid"),
                ("volume", "2"),
                ("price", &p),
                ("ord_type", "limit"),
                ("identifier", "f-1"),
            ],
            false,
        )
        .await;
    assert_eq!(form.status, StatusCode::CREATED, "{}", form.body);
    let uuid = form.body["uuid"].as_str().unwrap().to_owned();
    // Private GET with a form body (pyupbit) and with a JSON body.
    for json in [false, true] {
        let r = sim
            .private_body(&k, Method::GET, "/v1/order", &[("uuid", &uuid)], json)
            .await;
        assert_eq!(r.status, StatusCode::OK, "json={json}: {}", r.body);
        assert_eq!(r.body["identifier"], "f-1");
    }
    // A percent-encoded value in the query string hashes decoded.
    let r = sim
        .private(
            &k,
            Method::GET,
            "/v1/orders/closed",
            &[("end_time", "2025-09-01T12:00:00+09:00")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(enc("+09:00").contains("%2B"));
    // DELETE /v1/order with a JSON body (pyupbit's cancel).
    let r = sim
        .private_body(&k, Method::DELETE, "/v1/order", &[("uuid", &uuid)], true)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(sim.order(&k, &uuid).await["state"], "cancel");
    // Malformed bodies answer Upbit's envelope: unreadable JSON is a 400
    // before authentication; garbage form text parses to junk pairs that
    // then fail the query hash.
    let token = crate::support::sign(
        &k,
        &sim.next_nonce(),
        Some("x"),
        jsonwebtoken::Algorithm::HS256,
    );
    for (ct, body, status, name) in [
        ("application/json", "{\"market\":", 400, "validation_error"),
        ("application/json", "[1,2,3]", 400, "validation_error"),
        (
            "application/x-www-form-urlencoded",
            "%%%=%%%&&==",
            401,
            "invalid_query_payload",
        ),
    ] {
        let r = sim
            .raw(
                Method::POST,
                "/v1/orders",
                Some(&token),
                Some((ct, body.to_owned())),
            )
            .await;
        assert_eq!(
            (r.status.as_u16(), r.error_name().as_str()),
            (status, name),
            "{body}: {}",
            r.body
        );
    }
}
