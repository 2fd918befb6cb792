//! A LIVE trader through the simulator's fault injection: bursts of 5xx
//! answers, a run of 429s (RUN-3: the loop slows down), delayed fills and
//! cancels, added latency and dropped WebSocket connections. Nothing may be
//! lost or doubled: at the end every order and fill equals the simulator's
//! record and the account equals the ledger.

use std::time::Duration;

use domain::{Krw, Mode, SignalAction};
use rust_decimal::Decimal;
use serde_json::json;
use upbit_sim::Scenario;

use crate::{
    checks::{check_account, check_against_sim, check_book, tables},
    support::{ACCOUNT_KRW, Db, TraderProc, World, test_definition},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_trader_survives_exchange_faults() {
    let mut w = World::start(Db::Sqlite, Scenario::Mixed, 6, 41).await;
    let s = w.strategy(&test_definition(52.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, true, Some(cred)).await;
    let p = TraderProc::spawn(&w, id, None);
    let plan: &[(i64, serde_json::Value)] = &[
        (20, json!({"error_rate": 0.3})),
        (50, json!({"reset": true})),
        (60, json!({"force_429": 25})),
        (80, json!({"fill_delay_ms": 400, "cancel_delay_ms": 400})),
        (110, json!({"reset": true})),
        (120, json!({"drop_ws": true})),
        (130, json!({"latency_ms": 150, "error_rate": 0.1})),
        (160, json!({"reset": true})),
        (170, json!({"error_rate": 1.0})),
        (175, json!({"reset": true})),
    ];
    for k in 0..240 {
        for (at, f) in plan {
            if *at == k {
                w.faults(f.clone()).await;
            }
        }
        w.step().await;
        assert!(
            w.wait_cycle(id, w.now, Duration::from_secs(90)).await,
            "minute {k} ({}) did not finish\n{}",
            w.now,
            p.log_tail()
        );
    }
    assert!(p.terminate().await.success());

    let t = tables(&w.db.store, id).await;
    let book = check_book(&t, id, Mode::Live, Krw::from_i64(5_000_000));
    let row = w.db.store.traders().get(id).await.unwrap().unwrap();
    check_against_sim(&w, &t, &format!("t{id}-{}-", row.order_salt));
    check_account(
        &w,
        &[(&book, Krw::from_i64(5_000_000))],
        Decimal::from(ACCOUNT_KRW),
    );
    assert!(
        t.fills.len() >= 5,
        "it traded through the faults: {} fills",
        t.fills.len()
    );

    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 10_000)
            .await
            .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    // RUN-3: the 429 run was noticed and slowed entries down.
    let limited: Vec<_> = events.iter().filter(|e| e.kind == "RATE_LIMITED").collect();
    assert!(!limited.is_empty(), "no RATE_LIMITED event: {kinds:?}");
    let signals =
        w.db.store
            .signals()
            .list(id, chrono::DateTime::UNIX_EPOCH, 10_000)
            .await
            .unwrap();
    for e in &limited {
        let until: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(e.data["until"].clone()).unwrap();
        assert!(
            !signals
                .iter()
                .any(|s| s.signal.action == SignalAction::Enter
                    && s.signal.ts > e.ts
                    && s.signal.ts < until),
            "an entry during the RUN-3 back-off after {}",
            e.ts
        );
    }
    // The dropped WebSocket was noticed and came back; nothing was lost (above).
    assert!(kinds.contains(&"WS_DISCONNECTED"), "{kinds:?}");
    assert!(kinds.contains(&"WS_RECONNECTED"), "{kinds:?}");
    // STAB-1: the 5xx bursts marked the API failing, and it recovered.
    assert!(kinds.contains(&"HEALTH_FAILING"), "{kinds:?}");
    assert!(kinds.contains(&"HEALTH_OK"), "{kinds:?}");
    w.db.cleanup().await;
}
