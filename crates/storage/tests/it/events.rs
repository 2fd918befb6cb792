//! The action log: append and read back exactly (unicode, JSON, levels),
//! SSE-style resumption by id, per-trader filtering, the initial screen, and
//! refusals that name the field and write nothing.

use chrono::Duration;
use serde_json::json;
use storage::{
    StorageError,
    events::{Event, EventLevel, KIND_MAX, MESSAGE_MAX, NewEvent},
};

use crate::{
    fixtures::{missing_trader, t0, trader},
    harness::TestDb,
};

fn event(n: i64, trader: Option<domain::TraderId>, level: EventLevel) -> NewEvent {
    NewEvent {
        ts: t0() + Duration::seconds(n),
        trader_id: trader,
        level,
        kind: format!("KIND_{n}"),
        message: format!("event {n}"),
        data: json!({"n": n}),
    }
}

fn stored(id: i64, e: &NewEvent) -> Event {
    Event {
        id,
        ts: e.ts,
        trader_id: e.trader_id,
        level: e.level,
        kind: e.kind.clone(),
        message: e.message.clone(),
        data: e.data.clone(),
    }
}

async fn append_and_read_back_exactly(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "logger").await;
    let unicode = NewEvent {
        ts: t0(),
        trader_id: Some(t.id),
        level: EventLevel::Critical,
        kind: "KILL_SWITCH".into(),
        // 4-byte characters must survive MariaDB's utf8mb4 as well as SQLite.
        message: "손실 한도 초과 🚨 — kill switch engaged\nline two\t\"quoted\" \0 nul \u{7f} 'single' \\ back".into(),
        data: json!({
            "daily_loss": "-30000.5",
            "markets": ["KRW-BTC", "KRW-ETH"],
            "nested": {"ok": true, "none": null, "f": 0.125},
        }),
    };
    let platform = NewEvent {
        ts: t0() + Duration::milliseconds(1),
        trader_id: None,
        level: EventLevel::Warn,
        kind: "DB_SLOW".into(),
        message: String::new(),
        data: serde_json::Value::Null,
    };
    let max = NewEvent {
        ts: t0() + Duration::milliseconds(2),
        trader_id: None,
        level: EventLevel::Info,
        kind: "K".repeat(KIND_MAX),
        message: "가".repeat(MESSAGE_MAX),
        data: json!([]),
    };
    let a = store.events().append(&unicode).await.unwrap();
    let b = store.events().append(&platform).await.unwrap();
    let c = store.events().append(&max).await.unwrap();
    assert!(a < b && b < c, "ids increase: {a} {b} {c}");

    let all = store.events().list_after(0, 100).await.unwrap();
    assert_eq!(
        all,
        vec![stored(a, &unicode), stored(b, &platform), stored(c, &max)]
    );
    // Every level round-trips through its wire string.
    for level in EventLevel::ALL {
        assert_eq!(level.as_str().parse::<EventLevel>().unwrap(), *level);
    }
}

async fn resume_by_id_filter_by_trader_and_latest(db: TestDb) {
    let store = &db.store;
    let t1 = trader(store, "one").await;
    let t2 = trader(store, "two").await;
    let mut ids = Vec::new();
    let mut events = Vec::new();
    for n in 0..12 {
        let who = match n % 3 {
            0 => Some(t1.id),
            1 => Some(t2.id),
            _ => None,
        };
        let e = event(n, who, EventLevel::Info);
        ids.push(store.events().append(&e).await.unwrap());
        events.push(e);
    }
    // SSE resume: everything after the 5th delivered id, in pages of 4.
    let page1 = store.events().list_after(ids[4], 4).await.unwrap();
    assert_eq!(
        page1.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[5..9].to_vec()
    );
    let page2 = store
        .events()
        .list_after(page1.last().unwrap().id, 4)
        .await
        .unwrap();
    assert_eq!(
        page2.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[9..12].to_vec()
    );
    assert!(
        store
            .events()
            .list_after(ids[11], 4)
            .await
            .unwrap()
            .is_empty()
    );

    let mine = store.events().list_after_for(t1.id, 0, 100).await.unwrap();
    assert_eq!(
        mine,
        (0..12)
            .step_by(3)
            .map(|n| stored(ids[n], &events[n]))
            .collect::<Vec<_>>()
    );
    let mine_after = store
        .events()
        .list_after_for(t2.id, ids[4], 100)
        .await
        .unwrap();
    assert_eq!(
        mine_after.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[7], ids[10]]
    );

    // One trader's newest events of some kinds, newest first.
    let kinds = store
        .events()
        .latest_of_kinds(t1.id, &["KIND_3", "KIND_9", "KIND_4"], 10)
        .await
        .unwrap();
    assert_eq!(
        kinds,
        vec![stored(ids[9], &events[9]), stored(ids[3], &events[3])],
        "KIND_4 is another trader's"
    );
    let newest = store
        .events()
        .latest_of_kinds(t1.id, &["KIND_3", "KIND_9"], 1)
        .await
        .unwrap();
    assert_eq!(
        newest.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[9]]
    );
    assert!(
        store
            .events()
            .latest_of_kinds(t1.id, &[], 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The initial screen: the newest n, oldest first.
    let latest = store.events().latest(3).await.unwrap();
    assert_eq!(
        latest.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[9..12].to_vec()
    );
    // A zero limit is clamped to one row, never "everything".
    assert_eq!(store.events().latest(0).await.unwrap().len(), 1);
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    let good = event(1, None, EventLevel::Info);
    let cases: Vec<(NewEvent, &str)> = vec![
        (
            NewEvent {
                kind: String::new(),
                ..good.clone()
            },
            "kind",
        ),
        (
            NewEvent {
                kind: "K".repeat(KIND_MAX + 1),
                ..good.clone()
            },
            "kind",
        ),
        (
            NewEvent {
                kind: "TWO\nLINES".into(),
                ..good.clone()
            },
            "kind",
        ),
        (
            NewEvent {
                message: "m".repeat(MESSAGE_MAX + 1),
                ..good.clone()
            },
            "message",
        ),
        (
            NewEvent {
                trader_id: Some(missing_trader()),
                ..good.clone()
            },
            "trader_id",
        ),
    ];
    for (e, field) in cases {
        let err = store.events().append(&e).await.unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("events").await, 0);
    // An unknown level string is refused naming the field, before any write.
    let err = "FATAL".parse::<EventLevel>().unwrap_err();
    assert_eq!(err.field, "level");
    assert!(err.message.contains("INFO, WARN, CRITICAL"), "{err}");
    assert!(serde_json::from_str::<EventLevel>("\"info\"").is_err());
}

both_backends!(
    append_and_read_back_exactly,
    resume_by_id_filter_by_trader_and_latest,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
);
