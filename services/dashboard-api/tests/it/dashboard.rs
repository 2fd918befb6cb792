//! DASHBOARD: the current regime with its age and staleness, the trader
//! counts, and the action log page (`GET /events`) with its parameters.

use chrono::Duration;
use domain::{RegimeLabel, TraderId};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use storage::{
    events::{EventLevel, NewEvent},
    regimes::{RegimeInputs, RegimeRecord},
};

use crate::{
    support::{Db, TestApp, both},
    traders::create_trader,
};

async fn regime_and_counts(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let d = app
        .req(Method::GET, "/api/v1/dashboard")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(
        d,
        json!({"regime": null, "traders": {"total": 0, "paper": 0, "live": 0, "kill_switch": 0}})
    );

    let inputs = RegimeInputs {
        btc_adx_4h: 31.2,
        btc_atr_pct_4h: 1.1,
        breadth_up_1h: 0.62,
        dispersion_1h: 0.004,
        top5_value_share_1h: 0.55,
        whipsaw_5m: 0.3,
    };
    app.store
        .regimes()
        .insert(&RegimeRecord {
            ts: app.clock_now() - Duration::seconds(31),
            label: RegimeLabel::Trend,
            regime_score: 72.5,
            inputs,
            engine_version: "1.0".to_owned(),
        })
        .await
        .unwrap();
    create_trader(&app, &s, "a", None).await;
    create_trader(&app, &s, "b", None).await;
    let d = app
        .req(Method::GET, "/api/v1/dashboard")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let r = &d["regime"];
    assert_eq!(r["label"], "TREND");
    assert_eq!(r["score"], 72.5);
    assert_eq!(r["age_secs"], 31);
    assert_eq!(r["stale"], false);
    assert_eq!(r["inputs"]["btc_adx_4h"], 31.2);
    assert_eq!(r["inputs"]["whipsaw_5m"], 0.3);
    assert_eq!(
        d["traders"],
        json!({"total": 2, "paper": 2, "live": 0, "kill_switch": 0})
    );
    // Older than the traders' staleness policy (180 s): stale.
    app.clock.advance(Duration::seconds(150));
    let d = app
        .req(Method::GET, "/api/v1/dashboard")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(d["regime"]["age_secs"], 181);
    assert_eq!(d["regime"]["stale"], true);
    app.shutdown().await;
}
both!(regime_and_counts);

async fn events_page(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let t = create_trader(&app, &s, "named", None).await;
    let tid = TraderId::new(t["id"].as_i64().unwrap()).unwrap();
    for i in 0..150 {
        app.store
            .events()
            .append(&NewEvent {
                ts: app.clock_now(),
                trader_id: (i % 2 == 0).then_some(tid),
                level: if i % 10 == 0 {
                    EventLevel::Warn
                } else {
                    EventLevel::Info
                },
                kind: "test_event".to_owned(),
                message: format!("event {i}"),
                data: json!({"i": i}),
            })
            .await
            .unwrap();
    }
    let all = app.store.events().list_after(0, 1000).await.unwrap();
    let ids: Vec<i64> = all.iter().map(|e| e.id).collect();
    let get = |q: &str| app.req(Method::GET, &format!("/api/v1/events{q}")).auth(&s);
    // Default: the newest 100, oldest first.
    let page = get("").send().await.expect(StatusCode::OK).json;
    let got: Vec<i64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[ids.len() - 100..]);
    let page = get("?limit=5").send().await.expect(StatusCode::OK).json;
    let got: Vec<i64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[ids.len() - 5..]);
    let page = get(&format!("?after={}&limit=3", ids[10]))
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let got: Vec<i64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[11..14]);
    // The shape, with the trader's name.
    let e = page
        .as_array()
        .unwrap()
        .iter()
        .find(|e| !e["trader_id"].is_null())
        .unwrap();
    assert_eq!(e["trader_name"], "named");
    for k in [
        "id",
        "ts",
        "trader_id",
        "trader_name",
        "level",
        "kind",
        "message",
        "data",
    ] {
        assert!(e.get(k).is_some(), "{k} missing in {e}");
    }
    let e = page
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["trader_id"].is_null())
        .unwrap();
    assert_eq!(e["trader_name"], Value::Null);
    // limit is capped at 1000; bad parameters are 422 naming them.
    let page = get("?after=0&limit=5000")
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(page.as_array().unwrap().len(), ids.len());
    for (q, field) in [
        ("?limit=0", "limit"),
        ("?limit=x", "limit"),
        ("?after=-1", "after"),
        ("?after=1.5", "after"),
    ] {
        get(q).send().await.expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some(field),
        );
    }
    app.shutdown().await;
}
both!(events_page);
