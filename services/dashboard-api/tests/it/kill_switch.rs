//! The kill switch and the runtime guard (RUN-4, STAB-1, MON-1): every trader
//! shows its persisted guard (kill switch with reason and since, the reasons
//! new entries are blocked, the day's PnL, the loss streak, blacklisted
//! markets); an operator trips or resumes it with the password re-entered,
//! which writes `trader_safety_state` (the trader adopts it), an audit row
//! and an event; the dashboard counts tripped traders.

use std::collections::BTreeMap;

use chrono::Duration;
use domain::{Krw, Market, TraderId};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use storage::{
    events::{EventLevel, NewEvent},
    safety::SafetyState,
    trades::EquitySnapshot,
};

use crate::{
    support::{Db, PASSWORD, Session, TestApp, both},
    traders::create_trader,
};

async fn get(app: &TestApp, s: &Session, id: i64) -> Value {
    app.req(Method::GET, &format!("/api/v1/traders/{id}"))
        .auth(s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json
}

async fn kill(app: &TestApp, s: &Session, id: i64, body: Value) -> crate::support::Resp {
    app.req(Method::POST, &format!("/api/v1/traders/{id}/kill-switch"))
        .auth(s)
        .json(body)
        .send()
        .await
}

async fn dashboard_count(app: &TestApp, s: &Session) -> Value {
    app.req(Method::GET, "/api/v1/dashboard")
        .auth(s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json["traders"]["kill_switch"]
        .clone()
}

async fn trip_resume_and_guard_view(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let a = create_trader(&app, &s, "alpha", None).await["id"]
        .as_i64()
        .unwrap();
    let b = create_trader(&app, &s, "beta", None).await["id"]
        .as_i64()
        .unwrap();
    let aid = TraderId::new(a).unwrap();

    // Before the trader wrote anything: off, nothing blocked, the limits of
    // its strategy (STANDARD: 5 % daily loss, 5 losses in a row).
    let g = get(&app, &s, a).await["guard"].clone();
    assert_eq!(
        g,
        json!({
            "kill_switch": {"on": false, "reason": null, "since": null, "liquidate": false},
            "blocked_entries": [],
            "trading_day": null,
            "daily_pnl_krw": "0",
            "daily_pnl_pct": 0.0,
            "daily_loss_limit_pct": 5.0,
            "consecutive_losses": 0,
            "consecutive_loss_limit": 5,
            "blacklist": [],
            "updated_at": null,
        })
    );
    assert_eq!(dashboard_count(&app, &s).await, 0);

    // Bad requests name the field and change nothing.
    for (body, field) in [
        (json!({"action": "trip"}), "password"),
        (json!({"action": "trip", "password": ""}), "password"),
        (json!({"action": "pause", "password": PASSWORD}), "action"),
        (json!({"password": PASSWORD}), "action"),
        (
            json!({"action": "resume", "liquidate": true, "password": PASSWORD}),
            "liquidate",
        ),
        (
            json!({"action": "trip", "liquidate": "yes", "password": PASSWORD}),
            "liquidate",
        ),
        (
            json!({"action": "trip", "password": PASSWORD, "reason": "x"}),
            "reason",
        ),
    ] {
        kill(&app, &s, a, body.clone()).await.expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some(field),
        );
    }
    app.req(Method::POST, "/api/v1/traders/abc/kill-switch")
        .auth(&s)
        .json(json!({"action": "trip", "password": PASSWORD}))
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("id"),
        );
    kill(
        &app,
        &s,
        999,
        json!({"action": "trip", "password": PASSWORD}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    app.req(Method::POST, &format!("/api/v1/traders/{a}/kill-switch"))
        .cookie_only(&s)
        .json(json!({"action": "trip", "password": PASSWORD}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "csrf", None);
    // A wrong password: 401, the session stays, nothing written.
    kill(&app, &s, a, json!({"action": "trip", "password": "wrong"}))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials", None);
    get(&app, &s, a).await;
    assert_eq!(app.store.safety().get(aid).await.unwrap(), None);
    // Nothing to resume.
    let r = kill(
        &app,
        &s,
        a,
        json!({"action": "resume", "password": PASSWORD}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "not_allowed", None);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not on"),
        "{}",
        r.text
    );

    // Trip a trader that never ran: a clean row with the kill switch on.
    let trip_at = app.clock_now();
    let t = kill(&app, &s, a, json!({"action": "trip", "password": PASSWORD}))
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(t["id"], a);
    let ks = &t["guard"]["kill_switch"];
    assert_eq!(ks["on"], true);
    assert_eq!(ks["liquidate"], false);
    assert!(
        ks["reason"].as_str().unwrap().contains("tripped by admin"),
        "{ks}"
    );
    let since: chrono::DateTime<chrono::Utc> = ks["since"].as_str().unwrap().parse().unwrap();
    assert_eq!(since, trip_at);
    assert_eq!(
        t["guard"]["blocked_entries"],
        json!([{"code": "GUARD_KILL_SWITCH", "message": "kill switch on: no new entries until an operator resumes"}])
    );
    let row = app.store.safety().get(aid).await.unwrap().unwrap();
    assert!(row.kill_switch);
    assert!(
        !risk::asks_liquidation(row.kill_reason.as_deref().unwrap()),
        "the trader liquidates only when the reason asks for it"
    );
    assert_eq!(row.trading_day, trip_at.date_naive());
    assert_eq!(dashboard_count(&app, &s).await, 1);
    // Already on.
    kill(&app, &s, a, json!({"action": "trip", "password": PASSWORD}))
        .await
        .expect_error(StatusCode::CONFLICT, "not_allowed", None);

    // The trader adopts it and keeps writing its figures (as it does every
    // cycle): the view reads them as the trader restores them.
    app.clock.advance(Duration::minutes(2));
    let now = app.clock_now();
    app.store
        .equity()
        .append(&EquitySnapshot {
            trader_id: aid,
            ts: now,
            equity: Krw::from_i64(940_000),
            cash: Krw::from_i64(940_000),
        })
        .await
        .unwrap();
    let mut blacklist = BTreeMap::new();
    let xrp = Market::parse("market", "KRW-XRP").unwrap();
    blacklist.insert(xrp.clone(), now + Duration::minutes(7));
    blacklist.insert(
        Market::parse("market", "KRW-ETH").unwrap(),
        now - Duration::minutes(1),
    );
    let adopted = SafetyState {
        trading_day: now.date_naive(),
        daily_loss: Krw::from_i64(60_000),
        consecutive_losses: 5,
        kill_switch: true,
        kill_reason: Some(format!("operator: {}", row.kill_reason.clone().unwrap())),
        blacklist,
        updated_at: now,
        trader_id: aid,
    };
    app.store.safety().put(&adopted).await.unwrap();
    app.store
        .events()
        .append(&NewEvent {
            ts: now,
            trader_id: Some(aid),
            level: EventLevel::Critical,
            kind: "KILL_SWITCH".to_owned(),
            message: "kill switch tripped".to_owned(),
            data: Value::Null,
        })
        .await
        .unwrap();
    let g = get(&app, &s, a).await["guard"].clone();
    assert_eq!(
        g["kill_switch"]["since"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        trip_at,
        "since: when it went on, not when the trader adopted it"
    );
    assert_eq!(g["daily_pnl_krw"], "-60000");
    assert_eq!(g["daily_pnl_pct"], -6.0, "60,000 of the day's 1,000,000");
    assert_eq!(g["consecutive_losses"], 5);
    let codes: Vec<&str> = g["blocked_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["GUARD_KILL_SWITCH", "GUARD_CONSECUTIVE_LOSSES"]);
    assert_eq!(
        g["blocked_entries"][1]["message"],
        "5 losing trades in a row (limit 5): no new entries until the next UTC day"
    );
    let bl = g["blacklist"].as_array().unwrap();
    assert_eq!(bl.len(), 1, "expired entries are left out: {bl:?}");
    assert_eq!(bl[0]["market"], xrp.as_str());
    assert_eq!(
        bl[0]["until"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        now + Duration::minutes(7)
    );
    assert_eq!(g["trading_day"], now.date_naive().to_string());
    // The list shows the same.
    let list = app
        .req(Method::GET, "/api/v1/traders")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(list[0]["guard"], g);
    assert_eq!(list[1]["guard"]["kill_switch"]["on"], false);

    // Resume: off, the day's loss and the streak cleared (as the guard's
    // confirmed resume does), the blacklist kept.
    let resumed = kill(
        &app,
        &s,
        a,
        json!({"action": "resume", "password": PASSWORD}),
    )
    .await
    .expect(StatusCode::OK)
    .json;
    assert_eq!(
        resumed["guard"]["kill_switch"],
        json!({"on": false, "reason": null, "since": null, "liquidate": false})
    );
    assert_eq!(resumed["guard"]["blocked_entries"], json!([]));
    assert_eq!(resumed["guard"]["daily_pnl_krw"], "0");
    assert_eq!(resumed["guard"]["consecutive_losses"], 0);
    let row = app.store.safety().get(aid).await.unwrap().unwrap();
    assert_eq!(
        row,
        SafetyState {
            kill_switch: false,
            kill_reason: None,
            daily_loss: Krw::ZERO,
            consecutive_losses: 0,
            ..adopted
        }
    );
    assert_eq!(dashboard_count(&app, &s).await, 0);

    // Trip with liquidation: the reason asks the trader to sell everything.
    let t = kill(
        &app,
        &s,
        b,
        json!({"action": "trip", "liquidate": true, "password": PASSWORD}),
    )
    .await
    .expect(StatusCode::OK)
    .json;
    assert_eq!(t["guard"]["kill_switch"]["liquidate"], true);
    let row = app
        .store
        .safety()
        .get(TraderId::new(b).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(row.kill_reason.unwrap().contains("liquidate"));
    assert_eq!(dashboard_count(&app, &s).await, 1);

    // Events and audit rows.
    let events: Vec<_> = app
        .store
        .events()
        .list_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.starts_with("KILL_SWITCH_"))
        .map(|e| (e.trader_id.unwrap().get(), e.kind, e.level))
        .collect();
    assert_eq!(
        events,
        [
            (
                a,
                "KILL_SWITCH_TRIP_REQUESTED".to_owned(),
                EventLevel::Critical
            ),
            (
                a,
                "KILL_SWITCH_RESUME_REQUESTED".to_owned(),
                EventLevel::Warn
            ),
            (
                b,
                "KILL_SWITCH_TRIP_REQUESTED".to_owned(),
                EventLevel::Critical
            ),
        ]
    );
    let audit = app
        .req(Method::GET, "/api/v1/audit")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let rows: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["entity"] == "kill_switch")
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["entity_id"], b.to_string());
    assert_eq!(rows[0]["action"], "update");
    assert_eq!(rows[0]["actor"], "admin");
    assert_eq!(rows[0]["new"]["liquidate"], true);
    assert_eq!(rows[1]["old"]["on"], true);
    assert_eq!(rows[1]["new"], json!({"on": false}));

    // A removed trader has no kill switch to change.
    app.req(Method::DELETE, &format!("/api/v1/traders/{b}"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    kill(
        &app,
        &s,
        b,
        json!({"action": "resume", "password": PASSWORD}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(
        dashboard_count(&app, &s).await,
        0,
        "removed traders are not counted"
    );
    app.shutdown().await;
}
both!(trip_resume_and_guard_view);

/// Wrong passwords for the kill switch count with ARM's: the sixth attempt
/// is refused even with the right password.
async fn password_failures_are_limited(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let a = create_trader(&app, &s, "alpha", None).await["id"]
        .as_i64()
        .unwrap();
    for _ in 0..5 {
        kill(&app, &s, a, json!({"action": "trip", "password": "nope"}))
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials", None);
    }
    kill(&app, &s, a, json!({"action": "trip", "password": PASSWORD}))
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
    app.req(Method::POST, &format!("/api/v1/traders/{a}/arm"))
        .auth(&s)
        .json(json!({"password": PASSWORD}))
        .send()
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
    assert_eq!(
        app.store
            .safety()
            .get(TraderId::new(a).unwrap())
            .await
            .unwrap(),
        None
    );
    app.shutdown().await;
}
both!(password_failures_are_limited);
