//! TRADERS: create (and its runtime instance, FIX-5), every validation error
//! naming its field, RUN / STOP with real processes, PAPER → LIVE refused
//! during the 24 h protection (STAB-4) with the time left, LIVE needing a
//! credential, ARM with the password (FIX-8), DISARM, REMOVE, liveness from
//! heartbeats, profit from equity snapshots, and the audit rows.

use std::time::Duration as StdDuration;

use chrono::Duration;
use domain::{Krw, TraderId};
use http::{Method, StatusCode};
use orchestrator::{RuntimeStatus, TraderRuntime};
use serde_json::{Value, json};
use storage::trades::EquitySnapshot;

use crate::support::{Db, PASSWORD, Session, TestApp, alive, both, eventually};

pub(crate) async fn create_trader(
    app: &TestApp,
    s: &Session,
    name: &str,
    credential: Option<i64>,
) -> Value {
    app.req(Method::POST, "/api/v1/traders")
        .auth(s)
        .json(json!({"name": name, "strategy_id": 2, "seed_krw": "1000000", "credential_id": credential}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .json
}

fn tid(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn pid_of(app: &TestApp, id: i64) -> u32 {
    let id = TraderId::new(id).unwrap();
    eventually("a trader process", StdDuration::from_secs(10), || async {
        app.runtime.pid(id)
    })
    .await
}

async fn event_kinds(app: &TestApp, trader: i64) -> Vec<String> {
    app.store
        .events()
        .list_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.trader_id.map(TraderId::get) == Some(trader))
        .map(|e| e.kind)
        .collect()
}

async fn create_validates_every_field(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let ok =
        json!({"name": "alpha", "strategy_id": 2, "seed_krw": "1000000", "credential_id": null});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (without("name"), "name"),
        (with("name", json!("")), "name"),
        (with("name", json!("x".repeat(65))), "name"),
        (with("name", json!(7)), "name"),
        (without("strategy_id"), "strategy_id"),
        (with("strategy_id", json!(999)), "strategy_id"),
        (with("strategy_id", json!(-1)), "strategy_id"),
        (with("strategy_id", json!("two")), "strategy_id"),
        (without("seed_krw"), "seed_krw"),
        (with("seed_krw", json!("0")), "seed_krw"),
        (with("seed_krw", json!("-5")), "seed_krw"),
        (with("seed_krw", json!("1000.5")), "seed_krw"),
        (with("seed_krw", json!("lots")), "seed_krw"),
        (with("credential_id", json!(999)), "credential_id"),
        (with("credential_id", json!(0)), "credential_id"),
        (with("extra", json!(1)), "extra"),
        (json!([1, 2]), "body"),
    ];
    for (body, field) in cases {
        app.req(Method::POST, "/api/v1/traders")
            .auth(&s)
            .json(body.clone())
            .send()
            .await
            .expect_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_error",
                Some(field),
            );
    }
    assert!(
        app.store.traders().list(true).await.unwrap().is_empty(),
        "nothing was written"
    );
    // credential_id may be omitted for PAPER.
    let t = app
        .req(Method::POST, "/api/v1/traders")
        .auth(&s)
        .json(without("credential_id"))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .json;
    assert_eq!(t["credential_id"], Value::Null);
    app.req(Method::POST, "/api/v1/traders")
        .auth(&s)
        .json(ok)
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "name_taken", None);
    // Path ids.
    for (path, status, code) in [
        (
            "/api/v1/traders/abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
        ),
        (
            "/api/v1/traders/0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
        ),
        (
            "/api/v1/traders/-3",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
        ),
        ("/api/v1/traders/9999", StatusCode::NOT_FOUND, "not_found"),
    ] {
        app.req(Method::GET, path)
            .auth(&s)
            .send()
            .await
            .expect_error(status, code, None);
    }
    for action in ["run", "stop", "disarm"] {
        app.req(Method::POST, &format!("/api/v1/traders/9999/{action}"))
            .auth(&s)
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    }
    app.req(Method::DELETE, "/api/v1/traders/9999")
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    app.shutdown().await;
}
both!(create_validates_every_field);

async fn lifecycle_paper_to_live_with_arm(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    // FIX-4: nothing runs on a fresh start.
    assert!(app.runtime.list().await.unwrap().is_empty());

    let t = create_trader(&app, &s, "alpha", None).await;
    let id = tid(&t);
    assert_eq!(t["name"], "alpha");
    assert_eq!(t["seed_krw"], "1000000");
    assert_eq!(t["mode"], "PAPER");
    assert_eq!(t["run_state"], "STOPPED");
    assert_eq!(t["armed"], false);
    assert_eq!(t["alive"], false);
    assert_eq!(t["profit_krw"], "0");
    assert_eq!(
        t["strategy"],
        json!({"id": 2, "name": "STANDARD", "version": 1})
    );
    assert_eq!(t["protection_until"], Value::Null);
    // FIX-5: its instance exists (stopped) as soon as it is added.
    let tid_ = TraderId::new(id).unwrap();
    assert_eq!(
        app.runtime.status(tid_).await.unwrap(),
        RuntimeStatus::Stopped { exit_code: None }
    );

    // RUN starts a process and the version's PAPER protection clock.
    let t = app
        .req(Method::POST, &format!("/api/v1/traders/{id}/run"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(t["run_state"], "RUNNING");
    let until: chrono::DateTime<chrono::Utc> =
        t["protection_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(until, app.clock_now() + Duration::hours(24));
    let pid = pid_of(&app, id).await;
    assert!(alive(pid));
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let env = String::from_utf8_lossy(&env);
    assert!(
        env.contains(&format!("TRADER_ID={id}")),
        "TRADER_ID is passed"
    );
    assert!(env.contains("DATABASE_URL="), "DATABASE_URL is passed");
    // RUN again changes nothing.
    app.req(Method::POST, &format!("/api/v1/traders/{id}/run"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(app.runtime.pid(tid_), Some(pid));

    // Liveness follows the heartbeat.
    app.store
        .traders()
        .heartbeat(tid_, app.clock_now())
        .await
        .unwrap();
    let t = get(&app, &s, id).await;
    assert_eq!(t["alive"], true);
    app.clock.advance(Duration::seconds(91));
    let t = get(&app, &s, id).await;
    assert_eq!(t["alive"], false);
    app.clock.advance(Duration::seconds(-91));

    // Bad mode bodies.
    for (body, field) in [
        (json!({"mode": "REAL"}), "mode"),
        (json!({}), "mode"),
        (json!({"mode": 1}), "mode"),
    ] {
        app.req(Method::POST, &format!("/api/v1/traders/{id}/mode"))
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
    // STAB-4: LIVE refused during the protection, with the time left.
    app.clock.advance(Duration::hours(1));
    let r = app
        .req(Method::POST, &format!("/api/v1/traders/{id}/mode"))
        .auth(&s)
        .json(json!({"mode": "LIVE"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "protection_active", None);
    assert_eq!(r.json["error"]["remaining_secs"], 23 * 3600);
    assert!(
        event_kinds(&app, id)
            .await
            .contains(&"LIVE_REFUSED".to_owned())
    );
    // After 24 h (a new login: sessions last 12 h): LIVE still needs a credential.
    app.clock
        .advance(Duration::hours(23) + Duration::seconds(1));
    let s = app.login().await;
    app.req(Method::POST, &format!("/api/v1/traders/{id}/mode"))
        .auth(&s)
        .json(json!({"mode": "LIVE"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "not_allowed", None);
    // ARM is only for LIVE traders.
    app.req(Method::POST, &format!("/api/v1/traders/{id}/arm"))
        .auth(&s)
        .json(json!({"password": PASSWORD}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "not_allowed", None);

    // A trader with a credential (checked against an unreachable exchange).
    let c = app
        .req(Method::POST, "/api/v1/credentials")
        .auth(&s)
        .json(json!({"name": "main", "access_key": "AKEYabcdef123456", "secret_key": "SECRETvalue987654321"}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .json;
    assert_eq!(c["check"], "unreachable");
    let t2 = create_trader(&app, &s, "beta", c["id"].as_i64()).await;
    let id2 = tid(&t2);
    app.req(Method::POST, &format!("/api/v1/traders/{id2}/run"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK);
    let pid2 = pid_of(&app, id2).await;
    // Same strategy version, protection already served: LIVE is allowed, and
    // the process is recreated (the trader reads its mode once at start).
    let t2 = app
        .req(Method::POST, &format!("/api/v1/traders/{id2}/mode"))
        .auth(&s)
        .json(json!({"mode": "LIVE"}))
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(t2["mode"], "LIVE");
    assert_eq!(t2["armed"], false);
    let new_pid = eventually(
        "a recreated process",
        StdDuration::from_secs(10),
        || async {
            app.runtime
                .pid(TraderId::new(id2).unwrap())
                .filter(|p| *p != pid2)
        },
    )
    .await;
    assert!(
        !alive(pid2),
        "the old process is gone before the new one trades"
    );
    assert!(alive(new_pid));
    // Same mode again: no change, no new process.
    app.req(Method::POST, &format!("/api/v1/traders/{id2}/mode"))
        .auth(&s)
        .json(json!({"mode": "LIVE"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(app.runtime.pid(TraderId::new(id2).unwrap()), Some(new_pid));

    // ARM: a wrong password is 401 but the session stays valid.
    app.req(Method::POST, &format!("/api/v1/traders/{id2}/arm"))
        .auth(&s)
        .json(json!({"password": "wrong"}))
        .send()
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials", None);
    app.req(Method::GET, "/api/v1/auth/me")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK);
    app.req(Method::POST, &format!("/api/v1/traders/{id2}/arm"))
        .auth(&s)
        .json(json!({}))
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("password"),
        );
    let t2 = app
        .req(Method::POST, &format!("/api/v1/traders/{id2}/arm"))
        .auth(&s)
        .json(json!({"password": PASSWORD}))
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(t2["armed"], true);
    // ARM does not recreate: the trader re-reads its flag before every order.
    assert_eq!(app.runtime.pid(TraderId::new(id2).unwrap()), Some(new_pid));
    app.req(Method::POST, &format!("/api/v1/traders/{id2}/arm"))
        .auth(&s)
        .json(json!({"password": PASSWORD}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "not_allowed", None);
    let d = app
        .req(Method::GET, "/api/v1/dashboard")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(
        d["traders"],
        json!({"total": 2, "paper": 1, "live": 1, "kill_switch": 0})
    );

    // DISARM (idempotent).
    for _ in 0..2 {
        let t2 = app
            .req(Method::POST, &format!("/api/v1/traders/{id2}/disarm"))
            .auth(&s)
            .send()
            .await
            .expect(StatusCode::OK)
            .json;
        assert_eq!(t2["armed"], false);
    }
    // STOP disarms and ends the process (idempotent).
    app.req(Method::POST, &format!("/api/v1/traders/{id2}/arm"))
        .auth(&s)
        .json(json!({"password": PASSWORD}))
        .send()
        .await
        .expect(StatusCode::OK);
    for _ in 0..2 {
        let t2 = app
            .req(Method::POST, &format!("/api/v1/traders/{id2}/stop"))
            .auth(&s)
            .send()
            .await
            .expect(StatusCode::OK)
            .json;
        assert_eq!(t2["run_state"], "STOPPED");
        assert_eq!(t2["armed"], false);
    }
    assert!(!alive(new_pid));
    // The credential cannot go while beta uses it.
    let cid = c["id"].as_i64().unwrap();
    let r = app
        .req(Method::DELETE, &format!("/api/v1/credentials/{cid}"))
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "credential_in_use", None);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("beta")
    );

    // REMOVE: process and trader gone, name free again, credential free.
    app.req(Method::DELETE, &format!("/api/v1/traders/{id}"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    assert!(!alive(pid));
    assert_eq!(
        app.runtime.status(tid_).await.unwrap(),
        RuntimeStatus::Missing
    );
    app.req(Method::GET, &format!("/api/v1/traders/{id}"))
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    app.req(Method::DELETE, &format!("/api/v1/traders/{id}"))
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    create_trader(&app, &s, "alpha", None).await;
    app.req(Method::DELETE, &format!("/api/v1/traders/{id2}"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    app.req(Method::DELETE, &format!("/api/v1/credentials/{cid}"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);

    // Events and audit rows of all that.
    let kinds = event_kinds(&app, id2).await;
    for k in [
        "TRADER_CREATED",
        "RUN_REQUESTED",
        "MODE_CHANGED",
        "ARMED",
        "DISARMED",
        "STOP_REQUESTED",
        "TRADER_REMOVED",
    ] {
        assert!(kinds.contains(&k.to_owned()), "{k} missing from {kinds:?}");
    }
    let audit = app
        .req(Method::GET, "/api/v1/audit?limit=1000")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let rows = audit.as_array().unwrap();
    let of = |entity: &str, eid: i64, action: &str| {
        let eid = eid.to_string();
        rows.iter()
            .filter(|r| {
                r["entity"] == entity && r["entity_id"] == eid.as_str() && r["action"] == action
            })
            .count()
    };
    assert_eq!(of("trader", id2, "create"), 1);
    assert!(of("trader", id2, "update") >= 6, "{audit}");
    assert_eq!(of("trader", id2, "delete"), 1);
    assert_eq!(of("credential", cid, "create"), 1);
    assert_eq!(of("credential", cid, "delete"), 1);
    let arm_row = rows
        .iter()
        .find(|r| r["entity"] == "trader" && r["new"]["armed"] == true)
        .expect("an ARM audit row");
    assert_eq!(arm_row["actor"], "admin");
    assert_eq!(arm_row["old"]["armed"], false);
    app.req(Method::GET, "/api/v1/audit?limit=0")
        .auth(&s)
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("limit"),
        );
    app.shutdown().await;
}
both!(lifecycle_paper_to_live_with_arm);

async fn get(app: &TestApp, s: &Session, id: i64) -> Value {
    app.req(Method::GET, &format!("/api/v1/traders/{id}"))
        .auth(s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json
}

async fn profit_and_list(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let a = tid(&create_trader(&app, &s, "a", None).await);
    let b = tid(&create_trader(&app, &s, "b", None).await);
    let now = app.clock_now();
    for (id, mins_ago, equity) in [
        (a, 30 * 60, 1_000_000),
        (a, 60, 1_010_000),
        (a, 1, 1_012_345),
        (b, 2 * 24 * 60, 990_000),
        (b, 10, 995_000),
    ] {
        app.store
            .equity()
            .append(&EquitySnapshot {
                trader_id: TraderId::new(id).unwrap(),
                ts: now - Duration::minutes(mins_ago),
                equity: Krw::from_i64(equity),
                cash: Krw::from_i64(equity),
            })
            .await
            .unwrap();
    }
    let list = app
        .req(Method::GET, "/api/v1/traders")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["profit_krw"], "12345");
    assert_eq!(list[0]["profit_pct"], 1.2345);
    assert_eq!(list[1]["profit_krw"], "-5000");
    assert_eq!(list[1]["profit_pct"], -0.5);

    let p = app
        .req(Method::GET, "/api/v1/dashboard/profit?range=24h")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let series = p["series"].as_array().unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(series[0]["name"], "a");
    let pts: Vec<f64> = series[0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["return_pct"].as_f64().unwrap())
        .collect();
    assert_eq!(pts, vec![1.0, 1.2345], "the 30 h old point is outside 24h");
    assert_eq!(series[1]["points"].as_array().unwrap().len(), 1);
    let p = app
        .req(Method::GET, "/api/v1/dashboard/profit?range=7d")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(p["series"][0]["points"].as_array().unwrap().len(), 3);
    assert_eq!(p["series"][1]["points"][0]["return_pct"], -1.0);
    let p = app
        .req(Method::GET, "/api/v1/dashboard/profit")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(
        p["series"][0]["points"].as_array().unwrap().len(),
        2,
        "default range is 24h"
    );
    for bad in ["1y", "", "ALL"] {
        app.req(
            Method::GET,
            &format!("/api/v1/dashboard/profit?range={bad}"),
        )
        .auth(&s)
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("range"),
        );
    }
    app.shutdown().await;
}
both!(profit_and_list);

impl TestApp {
    pub(crate) fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use runtime::Clock;
        self.clock.now()
    }
}
