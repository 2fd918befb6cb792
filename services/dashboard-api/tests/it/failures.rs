//! Failures outside the request: the trader runtime cannot start a trader
//! (503 `runtime_unavailable`, the trader stays STOPPED, an event says so),
//! and the database goes away (`/health` degraded, reads 503 `unavailable`
//! with no detail in the answer).

use std::{path::PathBuf, sync::Arc};

use http::{Method, StatusCode};
use orchestrator::{ProcessConfig, ProcessRuntime, TraderRuntime};
use serde_json::json;

use crate::{
    support::{Db, Options, TestApp, both},
    traders::create_trader,
};

async fn runtime_failure_leaves_the_trader_stopped(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let broken = ProcessRuntime::new(
        ProcessConfig::new(PathBuf::from("/nonexistent/bin/trader"), dir.path()),
        Arc::new(runtime::SystemClock),
    )
    .unwrap();
    let app = TestApp::with(
        db,
        Options {
            runtime: Some(Arc::new(broken) as Arc<dyn TraderRuntime>),
            ..Options::default()
        },
    )
    .await;
    let s = app.login().await;
    let id = create_trader(&app, &s, "broken", None).await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .req(Method::POST, &format!("/api/v1/traders/{id}/run"))
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::SERVICE_UNAVAILABLE, "runtime_unavailable", None);
    assert!(
        !r.text.contains("/nonexistent"),
        "no detail in the answer: {}",
        r.text
    );
    let t = app
        .req(Method::GET, &format!("/api/v1/traders/{id}"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(t["run_state"], "STOPPED", "RUN was reverted");
    let kinds: Vec<String> = app
        .store
        .events()
        .list_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"RUNTIME_ERROR".to_owned()), "{kinds:?}");
    // Both transitions are audited (RUN by admin, the revert by the system).
    let audit = app
        .req(Method::GET, "/api/v1/audit")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    let actors: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["entity"] == "trader" && r["action"] == "update")
        .map(|r| r["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["system", "admin"]);
    app.shutdown().await;
}
both!(runtime_failure_leaves_the_trader_stopped);

async fn database_gone(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    app.req(Method::GET, "/api/v1/health")
        .send()
        .await
        .expect(StatusCode::OK);
    app.store.close().await;
    let r = app.req(Method::GET, "/api/v1/health").send().await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json, json!({"status": "degraded", "db": "unreachable"}));
    // A read that needs the database: 503 without any detail.
    let r = app
        .req(Method::GET, "/api/v1/credentials")
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", None);
    assert!(!r.text.to_lowercase().contains("pool"), "{}", r.text);
    app.shutdown().await;
}
both!(database_gone);
