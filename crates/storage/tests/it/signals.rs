//! Signals (STR-6): scores, module breakdown, regime and reason codes read
//! back exactly; reads by trader and time and by id; bad input refused
//! naming the field with nothing written; a stored row that no longer
//! validates is an error naming the column, never a panic.

use chrono::Duration;
use domain::{Market, ReasonCode, RegimeLabel, SignalAction, TraderId};
use serde_json::json;
use storage::{
    StorageError,
    signals::{NewSignal, SignalRecord},
};

use crate::{
    fixtures::{market, missing_trader, t0, trader},
    harness::TestDb,
};

/// Parses one bad value from outside; the field its error names.
type FieldOfError = fn() -> Option<String>;

fn signal(trader: TraderId, n: i64, total_score: f64) -> NewSignal {
    NewSignal {
        trader_id: trader,
        market: market(if n % 2 == 0 { "BTC" } else { "ETH" }),
        ts: t0() + Duration::minutes(n),
        total_score,
        scores: json!({"tp": 81.5, "vcb": 40, "ema_gap_pct": "0.0123", "bb_width": 0.5}),
        regime: (n % 3 != 0).then_some(RegimeLabel::Trend),
        action: if n % 2 == 0 {
            SignalAction::Enter
        } else {
            SignalAction::Refused
        },
        reason_codes: vec![
            ReasonCode::new_static("TP_PULLBACK"),
            ReasonCode::parse("reason_code", "SPREAD_TOO_WIDE").unwrap(),
        ],
    }
}

async fn round_trip_by_trader_time_and_id(db: TestDb) {
    let store = &db.store;
    let a = trader(store, "a").await;
    let b = trader(store, "b").await;
    // Scores are f64 by design (indicators); they must come back bit-exact.
    let scores = [73.456_789_012_345_67, -0.0, 1e-300, 0.1, f64::MAX, -12.5];
    let mut mine = Vec::new();
    for (n, score) in (0_i64..).zip(scores) {
        let s = signal(a.id, n, score);
        let id = store.signals().append(&s).await.unwrap();
        mine.push(SignalRecord { id, signal: s });
    }
    let other = signal(b.id, 0, 50.0);
    let other_id = store.signals().append(&other).await.unwrap();

    let got = store.signals().list(a.id, t0(), 100).await.unwrap();
    assert_eq!(got, mine, "-0.0 == 0.0, so this compares values");
    for (g, s) in got.iter().zip(scores) {
        // Neither backend keeps the sign of zero; every other value is exact.
        let want = if s == 0.0 { 0.0_f64 } else { s };
        assert_eq!(g.signal.total_score.to_bits(), want.to_bits(), "{s}");
    }
    // `from` is inclusive and bounds the time range; `limit` bounds the page.
    let from = t0() + Duration::minutes(2);
    assert_eq!(
        store.signals().list(a.id, from, 100).await.unwrap(),
        mine[2..].to_vec()
    );
    assert_eq!(
        store.signals().list(a.id, from, 2).await.unwrap(),
        mine[2..4].to_vec()
    );
    // The trainer's incremental read spans traders, by id.
    let after = store.signals().list_after(mine[4].id, 100).await.unwrap();
    assert_eq!(
        after,
        vec![
            mine[5].clone(),
            SignalRecord {
                id: other_id,
                signal: other
            }
        ]
    );
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "t").await;
    let good = signal(t.id, 0, 70.0);
    for (s, field) in [
        (
            NewSignal {
                total_score: f64::NAN,
                ..good.clone()
            },
            "total_score",
        ),
        (
            NewSignal {
                total_score: f64::NEG_INFINITY,
                ..good.clone()
            },
            "total_score",
        ),
        (
            NewSignal {
                trader_id: missing_trader(),
                ..good.clone()
            },
            "trader_id",
        ),
    ] {
        let err = store.signals().append(&s).await.unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("signals").await, 0);

    // What a signal is built from, as text from outside: each bad value is
    // refused by its constructor naming the field, so no `NewSignal` (and no
    // row) can exist with it.
    let wire: [(&str, FieldOfError); 4] = [
        ("market", || {
            Market::parse("market", "KRW-btc").err().map(|e| e.field)
        }),
        ("action", || {
            SignalAction::parse("action", "BUY").err().map(|e| e.field)
        }),
        ("regime", || {
            "SIDEWAYS".parse::<RegimeLabel>().err().map(|e| e.field)
        }),
        ("reason_code", || {
            ReasonCode::parse("reason_code", "tp pullback")
                .err()
                .map(|e| e.field)
        }),
    ];
    for (field, check) in wire {
        assert_eq!(check().as_deref(), Some(field));
    }
    assert_eq!(db.count("signals").await, 0);
}

async fn a_corrupt_stored_row_is_an_error_naming_the_column(db: TestDb) {
    let store = &db.store;
    let first = trader(store, "valid").await;
    store
        .signals()
        .append(&signal(first.id, 0, 70.0))
        .await
        .unwrap();
    // Rows written past the API (a bug elsewhere, a manual edit): one per
    // trader, each with one column that no longer validates.
    for (name, column, market, action) in [
        ("bad-action", "action", "'KRW-BTC'", "'BUY'"),
        ("bad-market", "market", "'krw-btc'", "'ENTER'"),
        ("bad-regime", "regime", "'KRW-BTC'", "'ENTER'"),
    ] {
        let t = trader(store, name).await;
        let regime = if column == "regime" {
            "'SIDEWAYS'"
        } else {
            "NULL"
        };
        db.raw_exec(&format!(
            "INSERT INTO signals (trader_id, market, ts, total_score, scores, regime, action, \
             reason_codes) VALUES ({}, {market}, 1, 1.0, '{{}}', {regime}, {action}, '[]')",
            t.id
        ))
        .await
        .unwrap();
        let err = store
            .signals()
            .list(t.id, chrono::DateTime::UNIX_EPOCH, 10)
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
        assert_eq!(err.field(), Some(column), "{err}");
        assert!(
            err.to_string().contains("signals"),
            "names the table: {err}"
        );
    }
    // Valid rows still read.
    assert_eq!(
        store
            .signals()
            .list(first.id, t0(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

both_backends!(
    round_trip_by_trader_time_and_id,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
    a_corrupt_stored_row_is_an_error_naming_the_column,
);
