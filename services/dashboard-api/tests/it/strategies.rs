//! STRATEGY: the five built-in strategies, versions, validation of
//! definitions naming the nested field, FIX-12 (a new version recreates the
//! traders on it, LIVE ones go back to PAPER — STAB-4), new strategies and
//! the risk profiles.

use std::time::Duration as StdDuration;

use chrono::Duration;
use domain::TraderId;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    support::{Db, PASSWORD, TestApp, alive, both, eventually},
    traders::create_trader,
};

async fn builtins_versions_and_validation(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let list = app
        .req(Method::GET, "/api/v1/strategies")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "SAFETY FIRST",
            "STANDARD",
            "PROFIT FIRST",
            "CRAZY",
            "AI MODE"
        ]
    );
    let profiles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["risk_profile"].as_str().unwrap())
        .collect();
    assert_eq!(
        profiles,
        [
            "SAFETY_FIRST",
            "STANDARD",
            "PROFIT_FIRST",
            "CRAZY",
            "AI_MODE"
        ]
    );
    for st in list.as_array().unwrap() {
        assert_eq!(st["version"], 1);
        assert_eq!(st["protection_until"], Value::Null);
        assert_eq!(st["definition"]["risk_profile"], st["risk_profile"]);
        for k in ["id", "created_at", "updated_at"] {
            assert!(!st[k].is_null(), "{k}");
        }
    }
    let std = app
        .req(Method::GET, "/api/v1/strategies/2")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(std["name"], "STANDARD");
    assert_eq!(
        std["definition"]["thresholds"],
        json!({"entry": 70.0, "exit": 40.0})
    );
    app.req(Method::GET, "/api/v1/strategies/99")
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    app.req(Method::GET, "/api/v1/strategies/x/versions")
        .auth(&s)
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("id"),
        );

    // A new version.
    let mut def = std["definition"].clone();
    def["thresholds"]["entry"] = json!(72.0);
    let v2 = app
        .req(Method::PUT, "/api/v1/strategies/2")
        .auth(&s)
        .json(json!({"definition": def}))
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["definition"]["thresholds"]["entry"], 72.0);
    let versions = app
        .req(Method::GET, "/api/v1/strategies/2/versions")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let nums: Vec<i64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(nums, [2, 1], "newest first");
    assert_eq!(versions[0]["created_by"], "admin");
    assert_eq!(versions[1]["created_by"], "system");

    // Invalid definitions: 422 naming the nested field; nothing saved.
    let base = v2["definition"].clone();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut d = base.clone();
        f(&mut d);
        json!({"definition": d})
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            edit(&|d| d["thresholds"]["exit"] = json!(80.0)),
            "definition.thresholds.exit",
        ),
        (
            edit(&|d| d["thresholds"]["entry"] = json!(120.0)),
            "definition.thresholds.entry",
        ),
        (
            edit(&|d| d["thresholds"]["entry"] = json!("high")),
            "definition.thresholds.entry",
        ),
        (
            edit(&|d| d["weights"]["TP"] = json!(-1.0)),
            "definition.weights.TP",
        ),
        (
            edit(&|d| d["smoothing"]["alpha"] = json!(0.0)),
            "definition.smoothing.alpha",
        ),
        (edit(&|d| d["surprise"] = json!(1)), "definition.surprise"),
        (
            edit(&|d| {
                d.as_object_mut().unwrap().remove("exits");
            }),
            "definition.exits",
        ),
        (
            edit(&|d| d["risk"]["risk_per_trade"] = json!("0.5")),
            "definition.risk.risk_per_trade",
        ),
        (json!({"definition": [1]}), "definition"),
        (json!({"definition": "x"}), "definition"),
        (json!({}), "definition"),
        (json!({"definition": base.clone(), "extra": true}), "extra"),
    ];
    for (body, field) in cases {
        app.req(Method::PUT, "/api/v1/strategies/2")
            .auth(&s)
            .json(body)
            .send()
            .await
            .expect_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_error",
                Some(field),
            );
    }
    let again = app
        .req(Method::GET, "/api/v1/strategies/2")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(again["version"], 2, "no invalid version was saved");
    app.req(Method::PUT, "/api/v1/strategies/77")
        .auth(&s)
        .json(json!({"definition": base}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);

    // New strategies.
    let c = app
        .req(Method::POST, "/api/v1/strategies")
        .auth(&s)
        .json(json!({"name": "MY CRAZY", "risk_profile": "CRAZY"}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .json;
    assert_eq!(c["version"], 1);
    assert_eq!(c["risk_profile"], "CRAZY");
    assert_eq!(c["definition"]["name"], "MY CRAZY");
    app.req(Method::POST, "/api/v1/strategies")
        .auth(&s)
        .json(json!({"name": "MY CRAZY", "risk_profile": "CRAZY"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "name_taken", None);
    for (body, field) in [
        (json!({"name": "x", "risk_profile": "YOLO"}), "risk_profile"),
        (json!({"risk_profile": "CRAZY"}), "name"),
        (json!({"name": " ", "risk_profile": "CRAZY"}), "name"),
        (
            json!({"name": "x", "risk_profile": "CRAZY", "definition": std["definition"]}),
            "definition.risk_profile",
        ),
    ] {
        app.req(Method::POST, "/api/v1/strategies")
            .auth(&s)
            .json(body)
            .send()
            .await
            .expect_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_error",
                Some(field),
            );
    }

    // Risk profiles.
    let rp = app
        .req(Method::GET, "/api/v1/risk-profiles")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let ids: Vec<&str> = rp
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "SAFETY_FIRST",
            "STANDARD",
            "PROFIT_FIRST",
            "CRAZY",
            "AI_MODE"
        ]
    );
    assert_eq!(rp[0]["name"], "SAFETY FIRST");
    assert_eq!(rp[1]["params"]["risk_per_trade"], "0.01");

    // Audit: the strategy change with old → new.
    let audit = app
        .req(Method::GET, "/api/v1/audit")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let row = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["entity"] == "strategy" && r["entity_id"] == "2" && r["action"] == "update")
        .expect("strategy update audit row");
    assert_eq!(row["old"]["version"], 1);
    assert_eq!(row["new"]["version"], 2);
    app.shutdown().await;
}
both!(builtins_versions_and_validation);

async fn new_version_recreates_traders(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let c = app
        .req(Method::POST, "/api/v1/credentials")
        .auth(&s)
        .json(
            json!({"name": "k", "access_key": "AKEY0123456789", "secret_key": "SKEY0123456789abc"}),
        )
        .send()
        .await
        .expect(StatusCode::CREATED)
        .json;
    let paper = create_trader(&app, &s, "paper", None).await["id"]
        .as_i64()
        .unwrap();
    let live = create_trader(&app, &s, "live", c["id"].as_i64()).await["id"]
        .as_i64()
        .unwrap();
    let idle = create_trader(&app, &s, "idle", None).await["id"]
        .as_i64()
        .unwrap();
    for id in [paper, live] {
        app.req(Method::POST, &format!("/api/v1/traders/{id}/run"))
            .auth(&s)
            .send()
            .await
            .expect(StatusCode::OK);
    }
    // Version 1 served its protection; `live` goes LIVE and is armed.
    app.clock.advance(Duration::hours(25));
    let s = app.login().await;
    app.req(Method::POST, &format!("/api/v1/traders/{live}/mode"))
        .auth(&s)
        .json(json!({"mode": "LIVE"}))
        .send()
        .await
        .expect(StatusCode::OK);
    app.req(Method::POST, &format!("/api/v1/traders/{live}/arm"))
        .auth(&s)
        .json(json!({"password": PASSWORD}))
        .send()
        .await
        .expect(StatusCode::OK);
    let pid = |id: i64| app.runtime.pid(TraderId::new(id).unwrap());
    let before_paper = eventually("paper pid", StdDuration::from_secs(10), || async {
        pid(paper)
    })
    .await;
    let before_live = eventually("live pid", StdDuration::from_secs(10), || async {
        pid(live)
    })
    .await;

    let def = app
        .req(Method::GET, "/api/v1/strategies/2")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json["definition"]
        .clone();
    let mut def = def;
    def["thresholds"]["exit"] = json!(35.0);
    let st = app
        .req(Method::PUT, "/api/v1/strategies/2")
        .auth(&s)
        .json(json!({"definition": def}))
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(st["version"], 2);
    // STAB-4: the new version's protection restarts (it runs in PAPER now).
    let until: chrono::DateTime<chrono::Utc> =
        st["protection_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(until, app.clock_now() + Duration::hours(24));

    // FIX-12: running traders got a new process; the LIVE one is back in
    // PAPER and disarmed; the stopped one stays stopped.
    let after_paper = eventually("new paper pid", StdDuration::from_secs(10), || async {
        pid(paper).filter(|p| *p != before_paper)
    })
    .await;
    let after_live = eventually("new live pid", StdDuration::from_secs(10), || async {
        pid(live).filter(|p| *p != before_live)
    })
    .await;
    assert!(!alive(before_paper) && !alive(before_live));
    assert!(alive(after_paper) && alive(after_live));
    let traders = app
        .req(Method::GET, "/api/v1/traders")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    for t in traders.as_array().unwrap() {
        assert_eq!(t["strategy"]["version"], 2, "{t}");
        assert_eq!(t["mode"], "PAPER", "{t}");
        assert_eq!(t["armed"], false, "{t}");
    }
    let idle_t = traders
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == idle)
        .unwrap();
    assert_eq!(idle_t["run_state"], "STOPPED");
    assert!(pid(idle).is_none());
    // And LIVE is refused again until version 2 has 24 h of PAPER.
    let r = app
        .req(Method::POST, &format!("/api/v1/traders/{live}/mode"))
        .auth(&s)
        .json(json!({"mode": "LIVE"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "protection_active", None);
    assert_eq!(r.json["error"]["remaining_secs"], 24 * 3600);
    let kinds: Vec<String> = app
        .store
        .events()
        .list_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"STRATEGY_UPDATED".to_owned()));
    assert_eq!(kinds.iter().filter(|k| *k == "TRADER_RECREATED").count(), 3);
    app.shutdown().await;
}
both!(new_version_recreates_traders);
