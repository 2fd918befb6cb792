//! Positions (POS-1, FIX-6): open lots read back exactly, several lots in
//! one market, every change in the lot's append-only history, partial and
//! full exits recorded with their trade in one transaction; closed trades
//! and equity snapshots; refusals name the field and write nothing.

use chrono::{DateTime, Duration, Utc};
use domain::{Krw, Mode, Position, Price, TradeRecord, TraderId, Volume};
use rust_decimal_macros::dec;
use storage::{
    StorageError,
    positions::{PositionEventKind, PositionRecord},
    trades::EquitySnapshot,
    truncate_to_millis,
};

use crate::{
    fixtures::{market, missing_trader, t0, trader},
    harness::TestDb,
};

fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

fn lot(trader: TraderId, base: &str, size: &str) -> Position {
    let size = Volume::parse("size", size).unwrap();
    let entry = Price::new(dec!(3_150)).unwrap();
    Position {
        trader_id: trader,
        market: market(base),
        open_time: at(0),
        avg_entry_price: entry,
        size,
        cost_krw: (entry * size).times(dec!(1.0005)),
        stop_price: Price::new(dec!(3_050)).unwrap(),
        high_water: entry,
        tags: vec!["TP_PULLBACK".into(), "레짐:TREND".into()],
    }
}

fn trade(p: &Position, size: Volume, exit: Price, minutes: i64) -> TradeRecord {
    TradeRecord {
        trader_id: p.trader_id,
        market: p.market.clone(),
        entry_time: p.open_time,
        entry_price: p.avg_entry_price,
        size,
        stop_price: p.stop_price,
        exit_time: at(minutes),
        exit_price: exit,
        pnl: exit * size - p.avg_entry_price * size,
        mode: Mode::Paper,
    }
}

async fn lots_history_and_exits(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "t").await;
    let u = trader(store, "u").await;
    let a = lot(t.id, "XRP", "100.12345678");
    // FIX-6: a second lot in the same market, and another trader's.
    let b = lot(t.id, "XRP", "3");
    let c = lot(u.id, "XRP", "50");
    let a_id = store.positions().open(&a, at(0)).await.unwrap();
    let b_id = store.positions().open(&b, at(1)).await.unwrap();
    let c_id = store.positions().upsert(None, &c, at(1)).await.unwrap();
    let rec = |id, p: &Position, m| PositionRecord {
        id,
        position: p.clone(),
        mark_price: None,
        updated_at: truncate_to_millis(at(m)),
    };
    assert_eq!(
        store.positions().get(a_id).await.unwrap(),
        Some(rec(a_id, &a, 0))
    );
    assert_eq!(
        store.positions().list(t.id).await.unwrap(),
        vec![rec(a_id, &a, 0), rec(b_id, &b, 1)]
    );
    assert_eq!(store.positions().list_all().await.unwrap().len(), 3);
    assert_eq!(
        store.positions().list(u.id).await.unwrap(),
        vec![rec(c_id, &c, 1)]
    );

    // Trailing stop and high-water move; the mark price is not an event.
    let trailed = Position {
        stop_price: Price::new(dec!(3_120)).unwrap(),
        high_water: Price::new(dec!(3_300)).unwrap(),
        ..a.clone()
    };
    store
        .positions()
        .update(a_id, &trailed, PositionEventKind::Update, at(2))
        .await
        .unwrap();
    store
        .positions()
        .mark(a_id, Price::new(dec!(3_290.5)).unwrap())
        .await
        .unwrap();
    // Marking the same price again is not "not found".
    store
        .positions()
        .mark(a_id, Price::new(dec!(3_290.5)).unwrap())
        .await
        .unwrap();
    let got = store.positions().get(a_id).await.unwrap().unwrap();
    assert_eq!(got.position, trailed);
    assert_eq!(got.mark_price, Some(Price::new(dec!(3_290.5)).unwrap()));
    assert_eq!(
        got.unrealised(),
        Some(Price::new(dec!(3_290.5)).unwrap() * trailed.size - trailed.cost_krw)
    );

    // Scale out half of a: trade + REDUCE in one transaction.
    let half = Volume::parse("size", "50.06172839").unwrap();
    let rest = Position {
        size: trailed.size.checked_sub(half).unwrap(),
        cost_krw: trailed.cost_krw - (trailed.avg_entry_price * half),
        ..trailed.clone()
    };
    let exit = Price::new(dec!(3_295)).unwrap();
    let t1 = trade(&trailed, half, exit, 3);
    let t1_id = store
        .positions()
        .close(a_id, &t1, Some(&rest), at(3))
        .await
        .unwrap();
    assert_eq!(
        store.positions().get(a_id).await.unwrap().unwrap().position,
        rest
    );
    // Close the rest: the lot leaves the current view.
    let t2 = trade(&rest, rest.size, exit, 4);
    let t2_id = store
        .positions()
        .close(a_id, &t2, None, at(4))
        .await
        .unwrap();
    assert_eq!(store.positions().get(a_id).await.unwrap(), None);
    assert_eq!(
        store.positions().list(t.id).await.unwrap(),
        vec![rec(b_id, &b, 1)]
    );

    // The lot's whole history survives its closing.
    let history = store.positions().history(a_id).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.kind).collect::<Vec<_>>(),
        [
            PositionEventKind::Open,
            PositionEventKind::Update,
            PositionEventKind::Reduce,
            PositionEventKind::Close
        ]
    );
    assert_eq!(history[0].snapshot.as_ref(), Some(&a));
    assert_eq!(history[1].snapshot.as_ref(), Some(&trailed));
    assert_eq!(history[2].snapshot.as_ref(), Some(&rest));
    assert_eq!(history[3].snapshot, None);
    assert_eq!(history[3].ts, truncate_to_millis(at(4)));
    assert!(
        history
            .iter()
            .all(|h| h.trader_id == t.id && h.position_id == a_id)
    );

    let trades = store.trades().list(t.id, t0(), 10).await.unwrap();
    assert_eq!(
        trades
            .iter()
            .map(|r| (r.id, r.position_id, r.trade.clone()))
            .collect::<Vec<_>>(),
        vec![
            (t1_id, Some(a_id), t1.clone()),
            (t2_id, Some(a_id), t2.clone())
        ]
    );
    // (3,295 − 3,150) × 50.06172839, exactly.
    assert_eq!(trades[0].trade.pnl.get(), dec!(7258.95061655));
}

async fn trades_and_equity_round_trip(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "t").await;
    let u = trader(store, "u").await;
    let p = lot(t.id, "BTC", "0.0001");
    let loss = TradeRecord {
        pnl: Krw::from_decimal(dec!(-1234.56789)),
        mode: Mode::Live,
        ..trade(&p, p.size, Price::new(dec!(3_000)).unwrap(), 10)
    };
    let win = trade(
        &lot(u.id, "ETH", "2"),
        Volume::parse("size", "2").unwrap(),
        Price::new(dec!(3_500)).unwrap(),
        20,
    );
    let loss_id = store.trades().append(&loss).await.unwrap();
    let win_id = store.trades().append(&win).await.unwrap();
    let mine = store.trades().list(t.id, t0(), 10).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].id, mine[0].position_id), (loss_id, None));
    assert_eq!(mine[0].trade, loss);
    let all = store.trades().list_all(t0(), 10).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![loss_id, win_id]
    );
    assert_eq!(store.trades().list_all(at(15), 10).await.unwrap().len(), 1);

    let snaps: Vec<EquitySnapshot> = (0..4)
        .map(|i| EquitySnapshot {
            trader_id: if i == 2 { u.id } else { t.id },
            ts: at(i),
            equity: Krw::from_decimal(dec!(1_000_000.5) + rust_decimal::Decimal::from(i)),
            cash: Krw::from_decimal(dec!(-0.00000001)),
        })
        .collect();
    for s in &snaps {
        store.equity().append(s).await.unwrap();
    }
    assert_eq!(
        store.equity().series(t.id, t0(), 10).await.unwrap(),
        vec![snaps[0], snaps[1], snaps[3]]
    );
    assert_eq!(
        store.equity().series(t.id, at(1), 1).await.unwrap(),
        vec![snaps[1]]
    );
    assert_eq!(store.equity().series_all(t0(), 10).await.unwrap(), snaps);
    assert_eq!(store.equity().latest(t.id).await.unwrap(), Some(snaps[3]));
    assert_eq!(store.equity().latest(missing_trader()).await.unwrap(), None);
}

async fn refusals_name_the_field_and_write_nothing(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "t").await;
    let u = trader(store, "u").await;
    let good = lot(t.id, "XRP", "10");
    for (p, field) in [
        (
            Position {
                size: Volume::ZERO,
                ..good.clone()
            },
            "size",
        ),
        (
            Position {
                tags: vec!["ok".into(), String::new()],
                ..good.clone()
            },
            "tags[1]",
        ),
        (
            Position {
                tags: vec!["t".repeat(65)],
                ..good.clone()
            },
            "tags[0]",
        ),
        (
            Position {
                cost_krw: Krw::from_decimal(dec!(0.000000000000000000001)),
                ..good.clone()
            },
            "cost_krw",
        ),
        (
            Position {
                trader_id: missing_trader(),
                ..good.clone()
            },
            "trader_id",
        ),
    ] {
        let err = store.positions().open(&p, at(0)).await.unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("positions").await, 0);
    assert_eq!(db.count("position_events").await, 0);

    let id = store.positions().open(&good, at(0)).await.unwrap();
    let err = store
        .positions()
        .update(id, &good, PositionEventKind::Open, at(1))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("kind"), "{err}");
    // A lot is only changed by its owner.
    let err = store
        .positions()
        .update(
            id,
            &Position {
                trader_id: u.id,
                ..good.clone()
            },
            PositionEventKind::Update,
            at(1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    let err = store
        .positions()
        .mark(987_654, Price::new(dec!(1)).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");

    let exit = Price::new(dec!(3_200)).unwrap();
    let ok = trade(&good, good.size, exit, 5);
    let cases: Vec<(TradeRecord, Option<Position>, &str)> = vec![
        (
            TradeRecord {
                size: Volume::ZERO,
                ..ok.clone()
            },
            None,
            "size",
        ),
        (
            TradeRecord {
                exit_time: at(-1),
                ..ok.clone()
            },
            None,
            "exit_time",
        ),
        (
            TradeRecord {
                market: market("BTC"),
                ..ok.clone()
            },
            None,
            "market",
        ),
        (
            ok.clone(),
            Some(Position {
                market: market("BTC"),
                ..good.clone()
            }),
            "market",
        ),
        (
            ok.clone(),
            Some(Position {
                trader_id: u.id,
                ..good.clone()
            }),
            "trader_id",
        ),
        (
            ok.clone(),
            Some(Position {
                size: Volume::ZERO,
                ..good.clone()
            }),
            "size",
        ),
    ];
    for (tr, rest, field) in cases {
        let err = store
            .positions()
            .close(id, &tr, rest.as_ref(), at(5))
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    // Another trader's trade cannot close this lot.
    let err = store
        .positions()
        .close(
            id,
            &TradeRecord {
                trader_id: u.id,
                ..ok.clone()
            },
            None,
            at(5),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    assert_eq!(db.count("trades").await, 0);
    assert_eq!(db.count("position_events").await, 1);
    assert_eq!(
        store.positions().get(id).await.unwrap().unwrap().position,
        good
    );

    let err = store
        .trades()
        .append(&TradeRecord {
            trader_id: missing_trader(),
            ..ok.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("trader_id"), "{err}");
    let err = store
        .equity()
        .append(&EquitySnapshot {
            trader_id: missing_trader(),
            ts: t0(),
            equity: Krw::ZERO,
            cash: Krw::ZERO,
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("trader_id"), "{err}");
    let err = store
        .equity()
        .append(&EquitySnapshot {
            trader_id: t.id,
            ts: t0(),
            equity: Krw::from_decimal(dec!(100000000000000000000)),
            cash: Krw::ZERO,
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("equity_krw"), "{err}");
    assert_eq!(db.count("trades").await, 0);
    assert_eq!(db.count("equity_snapshots").await, 0);
    assert_eq!(
        "SCALE_OUT".parse::<PositionEventKind>().unwrap_err().field,
        "kind"
    );
}

both_backends!(
    lots_history_and_exits,
    trades_and_equity_round_trip,
    refusals_name_the_field_and_write_nothing,
);
