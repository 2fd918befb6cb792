//! FIX-12 for AI MODE (the learning contract): the config hash of a trader
//! on an AI MODE strategy carries the model version it should use
//! (`.m{id or 0}`: in PAPER the newest of its strategy's PAPER_DEPLOYED,
//! LIVE_ELIGIBLE or LIVE_ARMED models; in LIVE the newest LIVE_ELIGIBLE or
//! LIVE_ARMED), and the periodic reconcile recreates a RUNNING trader whose
//! hash changed, with a TRADER_RECREATED event naming the reason. Real
//! stored model versions moved through the real lifecycle, real processes.

use std::time::Duration as StdDuration;

use chrono::Duration;
use dashboard_api::{control, models::ActiveModels};
use domain::{Mode, ModelEvent, ModelVersionId, StrategyId, TraderId};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use storage::learning::NewModelVersion;

use crate::support::{Db, Session, TestApp, alive, both, eventually};

async fn strategy_named(app: &TestApp, s: &Session, name: &str) -> i64 {
    let all = app
        .req(Method::GET, "/api/v1/strategies")
        .auth(s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    all.as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn add_trader(app: &TestApp, s: &Session, name: &str, strategy: i64, run: bool) -> TraderId {
    let t = app
        .req(Method::POST, "/api/v1/traders")
        .auth(s)
        .json(json!({"name": name, "strategy_id": strategy, "seed_krw": "1000000"}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .json;
    let id = t["id"].as_i64().unwrap();
    if run {
        app.req(Method::POST, &format!("/api/v1/traders/{id}/run"))
            .auth(s)
            .send()
            .await
            .expect(StatusCode::OK);
    }
    TraderId::new(id).unwrap()
}

async fn hash_of(app: &TestApp, id: TraderId) -> String {
    app.state
        .runtime()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.trader_id == id)
        .map(|e| e.config_hash)
        .unwrap_or_default()
}

async fn pid_of(app: &TestApp, id: TraderId) -> u32 {
    eventually("a trader process", StdDuration::from_secs(10), || async {
        app.runtime.pid(id)
    })
    .await
}

/// A model for `strategy` moved DRAFT → VALIDATED → PAPER_DEPLOYED.
async fn deploy(app: &TestApp, strategy: i64, tag: &str) -> ModelVersionId {
    let m = app
        .store
        .model_versions()
        .insert(
            &NewModelVersion {
                strategy_id: Some(StrategyId::new(strategy).unwrap()),
                params: json!({"entry_threshold": 71.0, "tag": tag}),
                metrics: json!({}),
            },
            app.clock_now(),
        )
        .await
        .unwrap();
    for ev in [ModelEvent::GatePassed, ModelEvent::DeployPaper] {
        app.store
            .model_versions()
            .transition(m.id, ev, "trainer", app.clock_now())
            .await
            .unwrap();
    }
    m.id
}

async fn roll_back(app: &TestApp, id: ModelVersionId) {
    app.store
        .model_versions()
        .transition(
            id,
            ModelEvent::AutoRollback {
                reason: "drift".to_owned(),
            },
            "trainer",
            app.clock_now(),
        )
        .await
        .unwrap();
}

/// The TRADER_RECREATED events of `id`, oldest first: (message, data).
async fn recreated(app: &TestApp, id: TraderId) -> Vec<(String, Value)> {
    app.store
        .events()
        .list_after_for(id, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "TRADER_RECREATED")
        .map(|e| (e.message, e.data))
        .collect()
}

async fn model_changes_recreate_running_ai_traders(db: Db) {
    let app = TestApp::new(db).await;
    let s = app.login().await;
    let ai_strategy = strategy_named(&app, &s, "AI MODE").await;
    let std_strategy = strategy_named(&app, &s, "STANDARD").await;
    let ai = add_trader(&app, &s, "ai", ai_strategy, true).await;
    let standard = add_trader(&app, &s, "std", std_strategy, true).await;
    let idle = add_trader(&app, &s, "ai-idle", ai_strategy, false).await;
    let ai_pid = pid_of(&app, ai).await;
    let std_pid = pid_of(&app, standard).await;

    // AI MODE without a deployed model: `.m0`; other strategies: no model part.
    assert_eq!(
        hash_of(&app, ai).await,
        format!("s{ai_strategy}.v1.PAPER.c0.m0")
    );
    assert_eq!(
        hash_of(&app, standard).await,
        format!("s{std_strategy}.v1.PAPER.c0")
    );
    assert_eq!(
        hash_of(&app, idle).await,
        format!("s{ai_strategy}.v1.PAPER.c0.m0")
    );
    assert!(
        control::reconcile_running(&app.state)
            .await
            .unwrap()
            .is_empty()
    );

    // A model that is not deployed changes nothing.
    let draft = app
        .store
        .model_versions()
        .insert(
            &NewModelVersion {
                strategy_id: Some(StrategyId::new(ai_strategy).unwrap()),
                params: json!({}),
                metrics: json!({}),
            },
            app.clock_now(),
        )
        .await
        .unwrap();
    app.store
        .model_versions()
        .transition(draft.id, ModelEvent::GatePassed, "trainer", app.clock_now())
        .await
        .unwrap();
    assert!(
        control::reconcile_running(&app.state)
            .await
            .unwrap()
            .is_empty()
    );
    // A model of another strategy reaches none of them.
    deploy(&app, std_strategy, "std").await;
    assert!(
        control::reconcile_running(&app.state)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.runtime.pid(standard), Some(std_pid));

    // Deployed to PAPER: the running AI trader is recreated on it.
    let m1 = deploy(&app, ai_strategy, "m1").await;
    assert_eq!(
        control::reconcile_running(&app.state).await.unwrap(),
        vec![ai]
    );
    assert_eq!(
        hash_of(&app, ai).await,
        format!("s{ai_strategy}.v1.PAPER.c0.m{m1}")
    );
    let ai_pid2 = eventually("a new ai process", StdDuration::from_secs(10), || async {
        app.runtime.pid(ai).filter(|p| *p != ai_pid)
    })
    .await;
    assert!(!alive(ai_pid) && alive(ai_pid2));
    assert_eq!(
        app.runtime.pid(standard),
        Some(std_pid),
        "not AI MODE: untouched"
    );
    assert_eq!(
        hash_of(&app, idle).await,
        format!("s{ai_strategy}.v1.PAPER.c0.m0"),
        "a stopped trader picks its model up when it runs"
    );
    let events = recreated(&app, ai).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].0,
        format!("recreated: AI MODE model version {m1} is deployed for it")
    );
    assert_eq!(events[0].1["model_version_id"], m1.get());
    assert_eq!(
        events[0].1["old_config"],
        format!("s{ai_strategy}.v1.PAPER.c0.m0")
    );
    assert_eq!(
        events[0].1["new_config"],
        format!("s{ai_strategy}.v1.PAPER.c0.m{m1}")
    );
    // Once is enough: the next pass finds it up to date.
    assert!(
        control::reconcile_running(&app.state)
            .await
            .unwrap()
            .is_empty()
    );
    // RUN of the idle one starts it on the model.
    app.req(Method::POST, &format!("/api/v1/traders/{idle}/run"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        hash_of(&app, idle).await,
        format!("s{ai_strategy}.v1.PAPER.c0.m{m1}")
    );

    // A newer deployed model wins.
    let m2 = deploy(&app, ai_strategy, "m2").await;
    let mut again = control::reconcile_running(&app.state).await.unwrap();
    again.sort();
    assert_eq!(again, vec![ai, idle]);
    assert_eq!(
        recreated(&app, ai).await.last().unwrap().0,
        format!("recreated: AI MODE model version {m1} → {m2}")
    );

    // LIVE uses only LIVE_ELIGIBLE / LIVE_ARMED models; PAPER any of the three.
    let version = app
        .store
        .strategies()
        .latest_version(StrategyId::new(ai_strategy).unwrap())
        .await
        .unwrap()
        .unwrap();
    let models = ActiveModels::load(&app.store).await.unwrap();
    assert_eq!(
        models.for_trader(&version, Mode::Paper).map(|m| m.id),
        Some(m2)
    );
    assert_eq!(models.for_trader(&version, Mode::Live).map(|m| m.id), None);
    app.clock.advance(Duration::hours(25));
    let deployed_at = app
        .store
        .model_versions()
        .get(m1)
        .await
        .unwrap()
        .unwrap()
        .paper_deployed_at
        .unwrap();
    app.store
        .model_versions()
        .transition(
            m1,
            ModelEvent::PromoteEligible {
                paper_deployed_at: deployed_at,
            },
            "trainer",
            app.clock_now(),
        )
        .await
        .unwrap();
    let models = ActiveModels::load(&app.store).await.unwrap();
    assert_eq!(
        models.for_trader(&version, Mode::Paper).map(|m| m.id),
        Some(m2)
    );
    assert_eq!(
        models.for_trader(&version, Mode::Live).map(|m| m.id),
        Some(m1)
    );
    let std_version = app
        .store
        .strategies()
        .latest_version(StrategyId::new(std_strategy).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        models.for_trader(&std_version, Mode::Paper).is_none(),
        "only AI MODE strategies use models"
    );

    // Rolled back: back to the older one, then to the built-in numbers.
    roll_back(&app, m2).await;
    control::reconcile_running(&app.state).await.unwrap();
    assert_eq!(
        hash_of(&app, ai).await,
        format!("s{ai_strategy}.v1.PAPER.c0.m{m1}")
    );
    assert_eq!(
        recreated(&app, ai).await.last().unwrap().0,
        format!("recreated: AI MODE model version {m2} → {m1}")
    );
    roll_back(&app, m1).await;
    control::reconcile_running(&app.state).await.unwrap();
    assert_eq!(
        hash_of(&app, ai).await,
        format!("s{ai_strategy}.v1.PAPER.c0.m0")
    );
    let (msg, data) = recreated(&app, ai).await.pop().unwrap();
    assert_eq!(
        msg,
        format!(
            "recreated: AI MODE model version {m1} is no longer deployed for it; back to the built-in AI MODE numbers"
        )
    );
    assert_eq!(data["model_version_id"], Value::Null);
    assert_eq!(app.runtime.pid(standard), Some(std_pid), "never touched");

    // The periodic loop does the same by itself, and ends with the service.
    let handle = control::spawn_reconcile_loop(app.state.clone(), StdDuration::from_millis(100));
    let m3 = deploy(&app, ai_strategy, "m3").await;
    let want = format!("s{ai_strategy}.v1.PAPER.c0.m{m3}");
    eventually(
        "the loop recreates the AI trader",
        StdDuration::from_secs(10),
        || async { (hash_of(&app, ai).await == want).then_some(()) },
    )
    .await;
    // A STOPPED trader is left alone by the loop.
    app.req(Method::POST, &format!("/api/v1/traders/{idle}/stop"))
        .auth(&app.login().await)
        .send()
        .await
        .expect(StatusCode::OK);
    let stopped_hash = hash_of(&app, idle).await;
    roll_back(&app, m3).await;
    eventually(
        "the loop follows the rollback",
        StdDuration::from_secs(10),
        || async {
            hash_of(&app, ai)
                .await
                .rsplit('.')
                .next()
                .is_some_and(|m| m == "m0")
                .then_some(())
        },
    )
    .await;
    assert_eq!(hash_of(&app, idle).await, stopped_hash);
    app.shutdown().await;
    tokio::time::timeout(StdDuration::from_secs(5), handle)
        .await
        .expect("the loop ends on shutdown")
        .unwrap();
}
both!(model_changes_recreate_running_ai_traders);
