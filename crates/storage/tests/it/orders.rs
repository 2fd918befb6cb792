//! Orders (EXE-1): the intent is persisted before anything is sent, with an
//! identifier built from the trader's salt; every state change appends to
//! the order's history; fills are append-only and idempotent on the trade
//! uuid; refusals name the field and write nothing.

use chrono::{DateTime, Duration, Utc};
use domain::{
    Fill, Krw, OrdType, OrderIdentifier, OrderRequest, Price, Side, TimeInForce, TraderEvent,
    TraderId, Volume,
};
use rust_decimal_macros::dec;
use storage::{
    StorageError, Store,
    orders::{Attempt, Inserted, OrderRecord, OrderStatus, OrderUpdate, UUID_MAX},
    truncate_to_millis,
};

use crate::{
    fixtures::{market, missing_trader, t0, trader},
    harness::TestDb,
};

/// Builds a request with the allocated identifier.
type Builder = fn(OrderIdentifier) -> Result<OrderRequest, domain::ValidationError>;

fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

fn price(p: i64) -> Price {
    Price::new(p.into()).unwrap()
}

fn volume(v: &str) -> Volume {
    Volume::parse("volume", v).unwrap()
}

/// A limit buy of 0.002 KRW-BTC at 148,601,000.
async fn limit_buy(store: &Store, trader: TraderId, attempt: Attempt) -> OrderRecord {
    store
        .orders()
        .insert_intent(trader, attempt, t0(), |id| {
            OrderRequest::limit(
                market("BTC"),
                Side::Bid,
                price(148_601_000),
                volume("0.002"),
                Some(TimeInForce::PostOnly),
                id,
            )
        })
        .await
        .unwrap()
}

fn update(
    status: OrderStatus,
    uuid: Option<&str>,
    vol: &str,
    funds: i64,
    fee: &str,
) -> OrderUpdate {
    OrderUpdate {
        uuid: uuid.map(str::to_owned),
        status,
        executed_volume: volume(vol),
        executed_funds: Krw::from_i64(funds),
        paid_fee: fee.parse().unwrap(),
        error: None,
    }
}

fn fill(o: &OrderRecord, trade_uuid: &str, vol: &str, seconds: i64) -> Fill {
    let v = volume(vol);
    let p = price(148_601_000);
    Fill {
        trade_uuid: trade_uuid.to_owned(),
        order_uuid: "ord-uuid-1".into(),
        identifier: o.identifier.clone(),
        market: o.market.clone(),
        side: o.side,
        price: p,
        volume: v,
        funds: p * v,
        fee: (p * v).times(dec!(0.0005)),
        ts: at(seconds),
    }
}

async fn intent_to_done_with_history_and_fills(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "buyer").await;
    let o = limit_buy(store, t.id, Attempt::First).await;
    assert_eq!(o.attempt, 0);
    assert_eq!(o.trader_id, t.id);
    assert_eq!(o.status, OrderStatus::Intent);
    assert_eq!(o.identifier.trader(), Some(t.id));
    assert_eq!(
        o.identifier.parts(),
        Some((t.order_salt.as_str(), o.intent_id, 0))
    );
    assert_eq!(o.ord_type, OrdType::Limit);
    assert_eq!(o.price, Some(price(148_601_000)));
    assert_eq!(o.volume, Some(volume("0.002")));
    assert_eq!(o.time_in_force, Some(TimeInForce::PostOnly));
    assert_eq!(o.created_at, truncate_to_millis(t0()));
    assert_eq!(
        store
            .orders()
            .get_by_identifier(&o.identifier)
            .await
            .unwrap(),
        Some(o.clone())
    );
    assert_eq!(
        store.orders().list_open(t.id).await.unwrap(),
        vec![o.clone()]
    );

    // The exchange acknowledges it.
    let wait = store
        .orders()
        .update_state(
            &o.identifier,
            &update(OrderStatus::Wait, Some("ord-uuid-1"), "0", 0, "0"),
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(wait.uuid.as_deref(), Some("ord-uuid-1"));
    assert_eq!(wait.updated_at, truncate_to_millis(at(1)));
    assert_eq!(
        store.orders().get_by_uuid("ord-uuid-1").await.unwrap(),
        Some(wait.clone())
    );

    // Two partial fills, each with the order state it leads to.
    let f1 = fill(&o, "trade-1", "0.0005", 2);
    let r1 = store
        .orders()
        .apply_fill(
            t.id,
            &f1,
            &OrderUpdate {
                uuid: None,
                status: OrderStatus::Wait,
                executed_volume: f1.volume,
                executed_funds: f1.funds,
                paid_fee: f1.fee,
                error: None,
            },
            at(2),
        )
        .await
        .unwrap();
    assert!(matches!(r1, Inserted::New(_)));
    let f2 = fill(&o, "trade-2", "0.0015", 3);
    let done = OrderUpdate {
        uuid: None,
        status: OrderStatus::Done,
        executed_volume: volume("0.002"),
        executed_funds: f1.funds + f2.funds,
        paid_fee: f1.fee + f2.fee,
        error: None,
    };
    store
        .orders()
        .apply_fill(t.id, &f2, &done, at(3))
        .await
        .unwrap();

    let final_ = store
        .orders()
        .get_by_identifier(&o.identifier)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_.status, OrderStatus::Done);
    assert_eq!(final_.uuid.as_deref(), Some("ord-uuid-1"), "uuid kept");
    assert_eq!(final_.executed_volume, volume("0.002"));
    assert_eq!(final_.executed_funds.get(), dec!(297202));
    assert_eq!(final_.paid_fee.get(), dec!(148.601));
    assert_eq!(final_.avg_price(), Some(price(148_601_000)));
    assert!(store.orders().list_open(t.id).await.unwrap().is_empty());

    let history = store.orders().history(&o.identifier).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.status).collect::<Vec<_>>(),
        [
            OrderStatus::Intent,
            OrderStatus::Wait,
            OrderStatus::Wait,
            OrderStatus::Done
        ]
    );
    assert_eq!(history[0].uuid, None);
    assert_eq!(history[2].executed_volume, volume("0.0005"));
    assert_eq!(history[3].paid_fee.get(), dec!(148.601));
    assert!(
        history
            .iter()
            .all(|h| h.order_id == o.id && h.trader_id == t.id)
    );

    let fills = store.fills().list_for_order(&o.identifier).await.unwrap();
    assert_eq!(
        fills.iter().map(|f| f.fill.clone()).collect::<Vec<_>>(),
        vec![f1.clone(), f2.clone()]
    );
    assert_eq!(store.fills().list(t.id, at(3), 10).await.unwrap().len(), 1);
    assert_eq!(store.fills().list(t.id, t0(), 10).await.unwrap(), fills);

    // A repeated fill (reconnect, replay) writes nothing.
    let again = store
        .orders()
        .apply_fill(t.id, &f2, &done, at(9))
        .await
        .unwrap();
    assert_eq!(again, Inserted::Duplicate);
    assert_eq!(
        store.fills().insert(t.id, &f1).await.unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(db.count("fills").await, 2);
    assert_eq!(
        store.orders().history(&o.identifier).await.unwrap().len(),
        4
    );

    // A final order accepts the same final status as a no-op, nothing else.
    let same = store
        .orders()
        .update_state(&o.identifier, &done, at(10))
        .await
        .unwrap();
    assert_eq!(same, final_);
    let err = store
        .orders()
        .update_state(
            &o.identifier,
            &update(OrderStatus::Cancel, None, "0.002", 0, "0"),
            at(10),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
    assert_eq!(err.field(), Some("status"));
    assert_eq!(
        store.orders().history(&o.identifier).await.unwrap().len(),
        4
    );
}

async fn market_orders_retries_and_listing(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "t").await;
    let buy = store
        .orders()
        .insert_intent(t.id, Attempt::First, t0(), |id| {
            OrderRequest::market_buy(market("XRP"), Krw::from_i64(50_000), id)
        })
        .await
        .unwrap();
    assert_eq!(buy.ord_type, OrdType::Price);
    assert_eq!(
        buy.price,
        Some(price(50_000)),
        "a market buy stores its KRW total"
    );
    assert_eq!(buy.volume, None);
    let sell = store
        .orders()
        .insert_intent(t.id, Attempt::First, t0(), |id| {
            OrderRequest::market_sell(market("XRP"), volume("12.34567891"), price(3_000), id)
        })
        .await
        .unwrap();
    assert_eq!(sell.ord_type, OrdType::Market);
    assert_eq!(sell.price, None);
    assert_eq!(sell.volume, Some(volume("12.34567891")));
    assert_ne!(sell.intent_id, buy.intent_id);

    // RUN-1 retry: same intent, next attempt, new identifier.
    let retry = store
        .orders()
        .insert_intent(
            t.id,
            Attempt::Retry {
                intent_id: buy.intent_id,
                attempt: 1,
            },
            at(5),
            |id| OrderRequest::market_buy(market("XRP"), Krw::from_i64(50_000), id),
        )
        .await
        .unwrap();
    assert_eq!(retry.intent_id, buy.intent_id);
    assert_eq!(retry.attempt, 1);
    assert_ne!(retry.identifier, buy.identifier);
    assert_eq!(
        retry.identifier.parts(),
        Some((t.order_salt.as_str(), buy.intent_id, 1))
    );
    // The same attempt twice is a conflict; nothing more is written.
    let err = store
        .orders()
        .insert_intent(
            t.id,
            Attempt::Retry {
                intent_id: buy.intent_id,
                attempt: 1,
            },
            at(6),
            |id| OrderRequest::market_buy(market("XRP"), Krw::from_i64(50_000), id),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
    assert_eq!(err.field(), Some("attempt"));

    let recent = store.orders().list(t.id, 10).await.unwrap();
    assert_eq!(recent, vec![retry.clone(), sell.clone(), buy.clone()]);
    assert_eq!(store.orders().list(t.id, 2).await.unwrap().len(), 2);
    assert_eq!(
        store.orders().list_open(t.id).await.unwrap(),
        vec![buy.clone(), sell.clone(), retry.clone()]
    );

    // The first attempt failed at the exchange; the error text is kept (clipped).
    let failed = store
        .orders()
        .update_state(
            &buy.identifier,
            &OrderUpdate {
                error: Some("insufficient_funds_bid: 주문가능한 금액(KRW)이 부족합니다.".into()),
                ..update(OrderStatus::Failed, None, "0", 0, "0")
            },
            at(7),
        )
        .await
        .unwrap();
    assert_eq!(
        failed.error.as_deref(),
        Some("insufficient_funds_bid: 주문가능한 금액(KRW)이 부족합니다.")
    );
    let long = store
        .orders()
        .update_state(
            &sell.identifier,
            &OrderUpdate {
                error: Some("e".repeat(5000)),
                ..update(OrderStatus::Failed, None, "0", 0, "0")
            },
            at(7),
        )
        .await
        .unwrap();
    assert_eq!(long.error.unwrap().len(), storage::orders::ERROR_MAX);
    assert_eq!(store.orders().list_open(t.id).await.unwrap(), vec![retry]);
    assert_eq!(
        store
            .orders()
            .get_by_identifier(&buy.identifier)
            .await
            .unwrap()
            .unwrap(),
        failed
    );
}

/// Rows in the order tables: intents, orders, order events, fills.
async fn counts(db: &TestDb) -> (i64, i64, i64, i64) {
    (
        db.count("order_intents").await,
        db.count("orders").await,
        db.count("order_events").await,
        db.count("fills").await,
    )
}

async fn refusals_name_the_field_and_write_nothing(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "t").await;
    let other = trader(store, "other").await;
    // The request builder refuses (off-tick price, total below 5,000 KRW,
    // a volume finer than Upbit's 8 decimals): nothing is written, not
    // even the intent.
    let builders: [(&str, Builder); 4] = [
        ("price", |id| {
            OrderRequest::limit(
                market("BTC"),
                Side::Bid,
                price(148_601_500),
                volume("0.001"),
                None,
                id,
            )
        }),
        ("volume", |id| {
            OrderRequest::limit(
                market("BTC"),
                Side::Bid,
                price(148_601_000),
                volume("0.00000001"),
                None,
                id,
            )
        }),
        ("funds", |id| {
            OrderRequest::market_buy(market("BTC"), Krw::from_i64(4_999), id)
        }),
        ("volume", |id| {
            Volume::parse("volume", "0.123456789")
                .and_then(|v| OrderRequest::market_sell(market("BTC"), v, price(148_601_000), id))
        }),
    ];
    for (field, build) in builders {
        let err = store
            .orders()
            .insert_intent(t.id, Attempt::First, t0(), build)
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    // A request built with another identifier is refused.
    let foreign = OrderIdentifier::parse("identifier", "t1-zzzzzzzz-1-0").unwrap();
    let err = store
        .orders()
        .insert_intent(t.id, Attempt::First, t0(), move |_| {
            OrderRequest::market_buy(market("BTC"), Krw::from_i64(10_000), foreign)
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("identifier"), "{err}");
    assert_eq!(counts(&db).await, (0, 0, 0, 0));

    // Retrying someone else's intent, or "retry" number 0.
    let o = limit_buy(store, t.id, Attempt::First).await;
    for (attempt, trader_id, field) in [
        (
            Attempt::Retry {
                intent_id: o.intent_id,
                attempt: 1,
            },
            other.id,
            "intent_id",
        ),
        (
            Attempt::Retry {
                intent_id: 987_654,
                attempt: 1,
            },
            t.id,
            "intent_id",
        ),
        (
            Attempt::Retry {
                intent_id: o.intent_id,
                attempt: 0,
            },
            t.id,
            "attempt",
        ),
    ] {
        let err = store
            .orders()
            .insert_intent(trader_id, attempt, t0(), |id| {
                OrderRequest::market_buy(market("BTC"), Krw::from_i64(10_000), id)
            })
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
    }
    let err = store
        .orders()
        .insert_intent(missing_trader(), Attempt::First, t0(), |id| {
            OrderRequest::market_buy(market("BTC"), Krw::from_i64(10_000), id)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    let before = counts(&db).await;
    assert_eq!(before, (1, 1, 1, 0));

    // Bad updates.
    for (u, field) in [
        (update(OrderStatus::Wait, Some(""), "0", 0, "0"), "uuid"),
        (
            update(
                OrderStatus::Wait,
                Some(&"u".repeat(UUID_MAX + 1)),
                "0",
                0,
                "0",
            ),
            "uuid",
        ),
        (
            update(OrderStatus::Wait, None, "0", -1, "0"),
            "executed_funds",
        ),
        (update(OrderStatus::Wait, None, "0", 0, "-0.5"), "paid_fee"),
        (
            update(OrderStatus::Wait, None, "0", 0, "0.000000000000000000001"),
            "paid_fee",
        ),
    ] {
        let err = store
            .orders()
            .update_state(&o.identifier, &u, at(1))
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    store
        .orders()
        .update_state(
            &o.identifier,
            &update(OrderStatus::Wait, Some("u-1"), "0.001", 148_601, "0"),
            at(1),
        )
        .await
        .unwrap();
    let err = store
        .orders()
        .update_state(
            &o.identifier,
            &update(OrderStatus::Wait, None, "0.0005", 0, "0"),
            at(2),
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("executed_volume"), "{err}");
    let unknown = OrderIdentifier::parse("identifier", "t9-nope-1-0").unwrap();
    let err = store
        .orders()
        .update_state(
            &unknown,
            &update(OrderStatus::Wait, None, "0", 0, "0"),
            at(2),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    // Another order may not take an exchange uuid already in use.
    let second = limit_buy(store, t.id, Attempt::First).await;
    let err = store
        .orders()
        .update_state(
            &second.identifier,
            &update(OrderStatus::Wait, Some("u-1"), "0", 0, "0"),
            at(2),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
    assert_eq!(err.field(), Some("uuid"));
    assert_eq!(counts(&db).await, (2, 2, 3, 0));

    // Fills that do not match their order, or are malformed.
    let good = fill(&o, "trade-x", "0.0005", 3);
    let wait = update(OrderStatus::Wait, None, "0.0015", 222_901, "0");
    let cases: Vec<(TraderId, Fill, &str)> = vec![
        (other.id, good.clone(), "trader_id"),
        (
            t.id,
            Fill {
                market: market("ETH"),
                ..good.clone()
            },
            "market",
        ),
        (
            t.id,
            Fill {
                side: Side::Ask,
                ..good.clone()
            },
            "side",
        ),
        (
            t.id,
            Fill {
                volume: Volume::ZERO,
                ..good.clone()
            },
            "volume",
        ),
        (
            t.id,
            Fill {
                trade_uuid: String::new(),
                ..good.clone()
            },
            "trade_uuid",
        ),
        (
            t.id,
            Fill {
                fee: Krw::from_i64(-1),
                ..good.clone()
            },
            "fee",
        ),
    ];
    for (trader_id, f, field) in cases {
        let err = store
            .orders()
            .apply_fill(trader_id, &f, &wait, at(3))
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    let err = store
        .fills()
        .insert(missing_trader(), &good)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("trader_id"), "{err}");
    assert_eq!(counts(&db).await, (2, 2, 3, 0));

    // A removed trader gets no new intents.
    store
        .traders()
        .update_state(other.id, TraderEvent::Remove, "admin", t0())
        .await
        .unwrap();
    let err = store
        .orders()
        .insert_intent(other.id, Attempt::First, t0(), |id| {
            OrderRequest::market_buy(market("BTC"), Krw::from_i64(10_000), id)
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("trader_id"), "{err}");
    assert_eq!(counts(&db).await, (2, 2, 3, 0));
    // Unknown status text is refused naming the field.
    let err = "filled".parse::<OrderStatus>().unwrap_err();
    assert_eq!(err.field, "status");
    assert!(OrderStatus::Done.is_final() && !OrderStatus::Watch.is_final());
}

both_backends!(
    intent_to_done_with_history_and_fills,
    market_orders_retries_and_listing,
    refusals_name_the_field_and_write_nothing,
);
