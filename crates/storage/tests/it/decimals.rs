//! Money is exact on both backends: every money column is `DECIMAL(40,20)`
//! in MariaDB and canonical decimal text in SQLite; the largest and the
//! finest values a column holds come back digit for digit through every
//! repository that stores money; values a column could not hold exactly are
//! refused naming the field instead of being rounded; amounts finer than
//! Upbit allows never become a value at all.

use std::str::FromStr;

use chrono::Duration;
use domain::{Krw, Mode, Position, Price, TradeRecord, Volume};
use rust_decimal::Decimal;
use storage::{
    Backend, StorageError,
    market_data::{Candle, CandleInterval},
    trades::EquitySnapshot,
};

use crate::{
    fixtures::{market, t0, trader},
    harness::TestDb,
};

/// Money columns of the schema: (table, column).
const MONEY_COLUMNS: [(&str, &str); 33] = [
    ("traders", "seed_krw"),
    ("candles", "open"),
    ("candles", "high"),
    ("candles", "low"),
    ("candles", "close"),
    ("candles", "volume"),
    ("candles", "value_krw"),
    ("orders", "price"),
    ("orders", "volume"),
    ("orders", "executed_volume"),
    ("orders", "executed_funds"),
    ("orders", "paid_fee"),
    ("order_events", "executed_volume"),
    ("order_events", "executed_funds"),
    ("order_events", "paid_fee"),
    ("fills", "price"),
    ("fills", "volume"),
    ("fills", "funds"),
    ("fills", "fee"),
    ("positions", "avg_entry_price"),
    ("positions", "size"),
    ("positions", "cost_krw"),
    ("positions", "stop_price"),
    ("positions", "high_water"),
    ("positions", "mark_price"),
    ("trades", "entry_price"),
    ("trades", "size"),
    ("trades", "stop_price"),
    ("trades", "exit_price"),
    ("trades", "pnl"),
    ("equity_snapshots", "equity_krw"),
    ("equity_snapshots", "cash_krw"),
    ("trader_safety_state", "daily_loss_krw"),
];

fn d(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

/// Signed values at the edges of `DECIMAL(40,20)` ∩ `Decimal` (28 digits).
const EXTREMES: [&str; 9] = [
    "99999999999999999999.99999999",
    "-99999999999999999999.99999999",
    "0.00000000000000000001",
    "-0.00000000000000000001",
    "12345678.12345678901234567891",
    "1.00000000000000000001",
    "0.1",
    "163000000000",
    "0",
];

async fn every_money_column_is_exact_decimal(db: TestDb) {
    for (table, column) in MONEY_COLUMNS {
        let sql = match db.backend() {
            Backend::MariaDb => format!(
                "SELECT CONCAT(DATA_TYPE, '(', NUMERIC_PRECISION, ',', NUMERIC_SCALE, ')') \
                 FROM information_schema.columns WHERE table_schema = DATABASE() \
                 AND table_name = '{table}' AND column_name = '{column}'"
            ),
            Backend::Sqlite => {
                format!("SELECT type FROM pragma_table_info('{table}') WHERE name = '{column}'")
            }
        };
        let rows = db.raw_bytes(&sql).await;
        assert_eq!(rows.len(), 1, "{table}.{column} exists");
        let kind = String::from_utf8(rows[0].clone()).unwrap();
        let want = match db.backend() {
            Backend::MariaDb => "decimal(40,20)",
            Backend::Sqlite => "TEXT",
        };
        assert_eq!(kind, want, "{table}.{column}");
    }
    // And no other column is a decimal (or a float holding money) by mistake:
    // MariaDB's catalogue lists exactly these decimal columns.
    if db.backend() == Backend::MariaDb {
        let mut listed: Vec<String> = db
            .raw_bytes(
                "SELECT CONCAT(table_name, '.', column_name) FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND data_type = 'decimal'",
            )
            .await
            .into_iter()
            .map(|b| String::from_utf8(b).unwrap())
            .collect();
        listed.sort();
        let mut want: Vec<String> = MONEY_COLUMNS
            .iter()
            .map(|(t, c)| format!("{t}.{c}"))
            .collect();
        want.sort();
        want.dedup();
        assert_eq!(want.len(), MONEY_COLUMNS.len(), "no duplicates in the list");
        assert_eq!(listed, want);
    }
}

async fn extremes_survive_every_money_repository(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "exact").await;
    for (i, raw) in (0_i64..).zip(EXTREMES) {
        let v = d(raw);
        let ts = t0() + Duration::seconds(i);
        // Signed KRW: equity, cash, daily loss, trade pnl.
        let snap = EquitySnapshot {
            trader_id: t.id,
            ts,
            equity: Krw::from_decimal(v),
            cash: Krw::from_decimal(-v),
        };
        store.equity().append(&snap).await.unwrap();
        let back = store.equity().latest(t.id).await.unwrap().unwrap();
        assert_eq!(back.equity.get(), v, "{raw}");
        assert_eq!(back.cash.get(), -v, "{raw}");
        assert_eq!(back.equity.to_string(), v.normalize().to_string());

        let mut safety = storage::safety::SafetyState::new(t.id, ts.date_naive(), ts);
        safety.daily_loss = Krw::from_decimal(v);
        store.safety().put(&safety).await.unwrap();
        assert_eq!(
            store
                .safety()
                .get(t.id)
                .await
                .unwrap()
                .unwrap()
                .daily_loss
                .get(),
            v,
            "{raw}"
        );
    }

    // Positive prices and volumes at their edges.
    let positive: Vec<Decimal> = EXTREMES
        .iter()
        .map(|s| d(s))
        .filter(|v| *v > Decimal::ZERO)
        .collect();
    for (i, p) in (0_i64..).zip(&positive) {
        let price = Price::new(*p).unwrap();
        // Volumes carry at most 8 decimals (Upbit): the largest and finest.
        let size = Volume::new(if i % 2 == 0 {
            d("99999999999999999999.99999999")
        } else {
            d("0.00000001")
        })
        .unwrap();
        let position = Position {
            trader_id: t.id,
            market: market("BTC"),
            open_time: t0(),
            avg_entry_price: price,
            size,
            cost_krw: Krw::from_decimal(d("12345678.12345678901234567891")),
            stop_price: price,
            high_water: price,
            tags: vec![],
        };
        let id = store.positions().open(&position, t0()).await.unwrap();
        store.positions().mark(id, price).await.unwrap();
        let back = store.positions().get(id).await.unwrap().unwrap();
        assert_eq!(back.position, position, "{p}");
        assert_eq!(back.mark_price, Some(price));

        let trade = TradeRecord {
            trader_id: t.id,
            market: market("BTC"),
            entry_time: t0(),
            entry_price: price,
            size,
            stop_price: price,
            exit_time: t0() + Duration::seconds(i),
            exit_price: price,
            pnl: Krw::from_decimal(-*p),
            mode: Mode::Live,
        };
        let trade_id = store
            .positions()
            .close(id, &trade, None, t0())
            .await
            .unwrap();
        let stored = store.trades().list(t.id, t0(), 100).await.unwrap();
        let row = stored.iter().find(|r| r.id == trade_id).unwrap();
        assert_eq!(row.trade, trade, "{p}");

        let candle = Candle {
            market: market("ETH"),
            interval: CandleInterval::M1,
            ts: t0() + Duration::minutes(i),
            open: price,
            high: price,
            low: price,
            close: price,
            volume: size,
            value: Some(Krw::from_decimal(*p)),
        };
        store
            .candles()
            .upsert_many(std::slice::from_ref(&candle))
            .await
            .unwrap();
        let got = store
            .candles()
            .range(
                &candle.market,
                CandleInterval::M1,
                candle.ts,
                candle.ts + Duration::minutes(1),
                1,
            )
            .await
            .unwrap();
        assert_eq!(got, vec![candle], "{p}");
    }
}

async fn sums_of_stored_values_are_exact(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "sums").await;
    // 0.1 + 0.2 is 0.3 in decimal, not 0.30000000000000004.
    for (i, v) in ["0.1", "0.2"].iter().enumerate() {
        store
            .equity()
            .append(&EquitySnapshot {
                trader_id: t.id,
                ts: t0() + Duration::seconds(i64::try_from(i).unwrap()),
                equity: Krw::from_decimal(d(v)),
                cash: Krw::ZERO,
            })
            .await
            .unwrap();
    }
    let series = store.equity().series(t.id, t0(), 10).await.unwrap();
    let total: Krw = series.iter().map(|s| s.equity).sum();
    assert_eq!(total.get(), d("0.3"));
    assert_eq!(total.to_string(), "0.3");
    // The stored text itself is exact, not a float's rendering.
    let raw = db
        .raw_bytes("SELECT CAST(equity_krw AS CHAR) FROM equity_snapshots ORDER BY id")
        .await
        .into_iter()
        .map(|b| String::from_utf8(b).unwrap())
        .collect::<Vec<_>>();
    let want: Vec<&str> = match db.backend() {
        Backend::MariaDb => vec!["0.10000000000000000000", "0.20000000000000000000"],
        Backend::Sqlite => vec!["0.1", "0.2"],
    };
    assert_eq!(raw, want);
}

async fn unrepresentable_amounts_are_refused_not_rounded(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "refuse").await;
    // 21 decimal places or 21 integer digits do not fit DECIMAL(40,20).
    for (raw, want) in [
        ("0.000000000000000000001", "decimal places"),
        ("100000000000000000000", "integer digits"),
        ("-123456789012345678901.5", "integer digits"),
    ] {
        let err = store
            .equity()
            .append(&EquitySnapshot {
                trader_id: t.id,
                ts: t0(),
                equity: Krw::from_i64(1),
                cash: Krw::from_decimal(d(raw)),
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{raw}: {err}");
        assert_eq!(err.field(), Some("cash_krw"), "{err}");
        assert!(err.to_string().contains(want), "{err}");
    }
    assert_eq!(db.count("equity_snapshots").await, 0);

    // An amount finer than Upbit allows never becomes a value: a volume
    // with 9 decimals, a seed with fractional won.
    let err = Volume::from_str("0.123456789").unwrap_err();
    assert!(err.message.contains("8 decimal places"), "{err}");
    let err = Volume::parse("volume", "1.000000001").unwrap_err();
    assert_eq!(err.field, "volume");
    let err = Krw::parse_positive("seed_krw", "1000000.5", 0).unwrap_err();
    assert_eq!(err.field, "seed_krw");
    let err = Krw::parse_positive("seed_krw", "-1000000", 0).unwrap_err();
    assert_eq!(err.field, "seed_krw");
    assert_eq!(db.count("equity_snapshots").await, 0);

    // A stored volume finer than Upbit's 8 decimals (written past the API)
    // is an error naming the column when read, not a silently rounded value.
    store
        .candles()
        .upsert_many(&[Candle {
            market: market("BTC"),
            interval: CandleInterval::M1,
            ts: t0(),
            open: Price::new(d("100")).unwrap(),
            high: Price::new(d("100")).unwrap(),
            low: Price::new(d("100")).unwrap(),
            close: Price::new(d("100")).unwrap(),
            volume: Volume::new(d("1")).unwrap(),
            value: None,
        }])
        .await
        .unwrap();
    db.raw_exec("INSERT INTO candles (market, interval_code, ts, open, high, low, close, volume, value_krw) \
                 VALUES ('KRW-BTC', '1m', 1, '100', '100', '100', '100', '0.123456789', NULL)")
        .await
        .unwrap();
    let err = store
        .candles()
        .latest(&market("BTC"), CandleInterval::M1, 10)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
    assert_eq!(err.field(), Some("volume"), "{err}");
}

both_backends!(
    every_money_column_is_exact_decimal,
    extremes_survive_every_money_repository,
    sums_of_stored_values_are_exact,
    unrepresentable_amounts_are_refused_not_rounded,
);
