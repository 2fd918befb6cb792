//! Migrations (applying twice is a no-op, `check_schema` refuses a database
//! that is behind or edited) and persistence across a pool restart (DB-1).

use chrono::Duration;
use domain::Krw;
use serde_json::json;
use storage::{
    StorageError,
    events::{EventLevel, NewEvent},
    market_data::{Candle, CandleInterval},
};

use crate::{
    fixtures::{market, t0, trader},
    harness::TestDb,
};

async fn migrate_twice_is_a_noop(db: TestDb) {
    let store = &db.store;
    let before = store.applied_migrations().await.unwrap();
    assert_eq!(before.len(), 6);
    assert!(before.iter().all(|m| m.success));
    assert_eq!(store.expected_schema_version(), 6);
    let t = trader(store, "keeps-data").await;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.applied_migrations().await.unwrap(), before);
    store.check_schema().await.unwrap();
    // Data written before the repeated migrations is untouched.
    assert_eq!(store.traders().get(t.id).await.unwrap().unwrap(), t);
}

async fn check_schema_refuses_behind_or_edited(db: TestDb) {
    let fresh = db.fresh_store().await;
    match fresh.check_schema().await {
        Err(StorageError::SchemaBehind { missing }) => assert_eq!(missing, vec![1, 2, 3, 4, 5, 6]),
        other => panic!("expected SchemaBehind, got {other:?}"),
    }
    fresh.migrate().await.unwrap();
    fresh.check_schema().await.unwrap();
    fresh.close().await;

    // Forget the newest migration: behind by one.
    db.raw_exec("DELETE FROM _sqlx_migrations WHERE version = 6")
        .await
        .unwrap();
    match db.store.check_schema().await {
        Err(StorageError::SchemaBehind { missing }) => assert_eq!(missing, vec![6]),
        other => panic!("expected SchemaBehind, got {other:?}"),
    }
    // An edited (re-hashed) applied file is refused.
    db.raw_exec("UPDATE _sqlx_migrations SET checksum = description WHERE version = 2")
        .await
        .unwrap();
    match db.store.check_schema().await {
        Err(StorageError::SchemaMismatch { version, .. }) => assert_eq!(version, 2),
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
}

async fn data_survives_closing_and_reopening_the_pool(mut db: TestDb) {
    let store = db.store.clone();
    let t = trader(&store, "durable").await;
    let event_id = store
        .events()
        .append(&NewEvent {
            ts: t0(),
            trader_id: Some(t.id),
            level: EventLevel::Info,
            kind: "TRADER_CREATED".into(),
            message: "created".into(),
            data: json!({"seed": "1000000"}),
        })
        .await
        .unwrap();
    let candle = Candle {
        market: market("BTC"),
        interval: CandleInterval::M1,
        ts: t0() - Duration::milliseconds(123),
        open: "148601000".parse().unwrap(),
        high: "148700000".parse().unwrap(),
        low: "148500000".parse().unwrap(),
        close: "148650000".parse().unwrap(),
        volume: "0.12345678".parse().unwrap(),
        value: Some(Krw::from_i64(18_350_000)),
    };
    store
        .candles()
        .upsert_many(std::slice::from_ref(&candle))
        .await
        .unwrap();

    let reopened = db.reopen().await;
    assert!(store.ping().await.is_err(), "the old pool is closed");
    reopened.ping().await.unwrap();
    reopened.check_schema().await.unwrap();
    assert_eq!(reopened.traders().get(t.id).await.unwrap().unwrap(), t);
    let events = reopened.events().list_after(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, event_id);
    let got = reopened
        .candles()
        .latest(&candle.market, CandleInterval::M1, 5)
        .await
        .unwrap();
    assert_eq!(got, vec![candle]);
}

/// DB-1 (SPEC §8): every table the spec names survives a pool restart —
/// written through the API, read back equal through a new pool.
async fn every_db1_table_survives_a_pool_restart(mut db: TestDb) {
    use domain::{
        Mode, ModelEvent, OrderRequest, Position, Price, ReasonCode, RegimeLabel, SignalAction,
        TradeRecord, Volume,
    };
    use storage::{
        learning::{
            BanditState, FeatureLabels, GateVerdict, NewFeatureSnapshot, NewModelCandidate,
            NewModelVersion, NewScanRun,
        },
        orders::Attempt,
        regimes::{RegimeInputs, RegimeRecord},
        safety::SafetyState,
        signals::NewSignal,
    };

    let store = db.store.clone();
    let t = trader(&store, "persistent").await;
    let regime = RegimeRecord {
        ts: t0(),
        label: RegimeLabel::Trend,
        regime_score: 64.5,
        inputs: RegimeInputs {
            btc_adx_4h: 31.0,
            btc_atr_pct_4h: 0.02,
            breadth_up_1h: 0.6,
            dispersion_1h: 0.01,
            top5_value_share_1h: 0.35,
            whipsaw_5m: 0.1,
        },
        engine_version: "1.0".into(),
    };
    store.regimes().insert(&regime).await.unwrap();
    let model = store
        .model_versions()
        .insert(
            &NewModelVersion {
                strategy_id: Some(t.strategy_id),
                params: json!({"threshold": 70}),
                metrics: json!({"E": 0.1}),
            },
            t0(),
        )
        .await
        .unwrap();
    store
        .model_versions()
        .transition(model.id, ModelEvent::GatePassed, "trainer", t0())
        .await
        .unwrap();
    let candidate = NewModelCandidate {
        tuning_run: "run-1".into(),
        model_version_id: Some(model.id),
        params: json!({"k": 3}),
        metrics: json!({"E": 0.2}),
        verdict: GateVerdict::Pass,
    };
    store
        .model_candidates()
        .insert(&candidate, t0())
        .await
        .unwrap();
    let scan = store
        .scan_runs()
        .insert(&NewScanRun {
            ts: t0(),
            trader_id: Some(t.id),
            regime: Some(RegimeLabel::Trend),
            markets_scanned: 120,
            data: json!({}),
        })
        .await
        .unwrap();
    let snapshot = NewFeatureSnapshot {
        scan_run_id: scan,
        market: market("ETH"),
        ts: t0(),
        features: json!({"rsi": 48}),
        score: Some(66.0),
    };
    let snap = store
        .feature_snapshots()
        .insert_many(std::slice::from_ref(&snapshot))
        .await
        .unwrap()[0];
    let labels = FeatureLabels {
        ret_60m: 0.01,
        ret_240m: 0.02,
        mfe_240m: 0.03,
        mae_240m: -0.01,
        dd_240m: 0.02,
    };
    store
        .feature_snapshots()
        .set_labels(snap, &labels, t0())
        .await
        .unwrap();
    let safety = SafetyState {
        kill_switch: true,
        kill_reason: Some("daily loss".into()),
        daily_loss: Krw::from_i64(30_000),
        ..SafetyState::new(t.id, t0().date_naive(), t0())
    };
    store.safety().put(&safety).await.unwrap();
    let bandit = BanditState {
        arm: "trend".into(),
        regime: RegimeLabel::Trend,
        alpha: 2.0,
        beta: 3.0,
        pulls: 3,
        updated_at: t0(),
    };
    store.bandit_states().upsert(&bandit).await.unwrap();
    let config = store
        .config_versions()
        .append("risk", &json!({"max_positions": 5}), "admin", t0())
        .await
        .unwrap();
    store
        .events()
        .append(&NewEvent {
            ts: t0(),
            trader_id: Some(t.id),
            level: EventLevel::Warn,
            kind: "KILL_SWITCH".into(),
            message: "engaged".into(),
            data: json!({}),
        })
        .await
        .unwrap();
    let signal = NewSignal {
        trader_id: t.id,
        market: market("ETH"),
        ts: t0(),
        total_score: 72.5,
        scores: json!({"tp": 80}),
        regime: Some(RegimeLabel::Trend),
        action: SignalAction::Enter,
        reason_codes: vec![ReasonCode::new_static("TP_PULLBACK")],
    };
    store.signals().append(&signal).await.unwrap();
    let order = store
        .orders()
        .insert_intent(t.id, Attempt::First, t0(), |id| {
            OrderRequest::market_buy(market("ETH"), Krw::from_i64(100_000), id)
        })
        .await
        .unwrap();
    let price = Price::new("3150000".parse().unwrap()).unwrap();
    let size = Volume::new("0.03174603".parse().unwrap()).unwrap();
    let position = Position {
        trader_id: t.id,
        market: market("ETH"),
        open_time: t0(),
        avg_entry_price: price,
        size,
        cost_krw: price * size,
        stop_price: price,
        high_water: price,
        tags: vec!["TP".into()],
    };
    let lot = store.positions().open(&position, t0()).await.unwrap();
    let trade = TradeRecord {
        trader_id: t.id,
        market: market("BTC"),
        entry_time: t0(),
        entry_price: price,
        size,
        stop_price: price,
        exit_time: t0() + Duration::hours(1),
        exit_price: price,
        pnl: Krw::from_i64(-150),
        mode: Mode::Paper,
    };
    store.trades().append(&trade).await.unwrap();
    let audit = store.config_audit().list(100).await.unwrap();

    let s = db.reopen().await;
    assert_eq!(s.traders().get(t.id).await.unwrap().unwrap(), t);
    assert_eq!(s.regimes().latest().await.unwrap().unwrap().record, regime);
    let m = s.model_versions().get(model.id).await.unwrap().unwrap();
    assert_eq!(m.stage, domain::ModelStage::Validated);
    assert_eq!(m.params, model.params);
    assert_eq!(
        s.model_transitions()
            .list(model.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.model_candidates().list_run("run-1").await.unwrap()[0].candidate,
        candidate
    );
    assert_eq!(
        s.scan_runs()
            .list(t0(), t0() + Duration::seconds(1), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let f = &s
        .feature_snapshots()
        .range(t0(), t0() + Duration::seconds(1), 10)
        .await
        .unwrap()[0];
    assert_eq!((&f.snapshot, f.labels), (&snapshot, Some(labels)));
    assert_eq!(s.safety().get(t.id).await.unwrap(), Some(safety));
    assert_eq!(
        s.bandit_states()
            .get("trend", RegimeLabel::Trend)
            .await
            .unwrap(),
        Some(bandit)
    );
    assert_eq!(
        s.config_versions().latest("risk").await.unwrap(),
        Some(config)
    );
    assert_eq!(
        s.events().list_after_for(t.id, 0, 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        s.signals().list(t.id, t0(), 10).await.unwrap()[0].signal,
        signal
    );
    assert_eq!(
        s.orders()
            .get_by_identifier(&order.identifier)
            .await
            .unwrap(),
        Some(order.clone())
    );
    assert_eq!(
        s.orders().history(&order.identifier).await.unwrap().len(),
        1
    );
    assert_eq!(
        s.positions().get(lot).await.unwrap().unwrap().position,
        position
    );
    assert_eq!(s.positions().history(lot).await.unwrap().len(), 1);
    assert_eq!(
        s.trades().list(t.id, t0(), 10).await.unwrap()[0].trade,
        trade
    );
    assert_eq!(s.config_audit().list(100).await.unwrap(), audit);
    assert_eq!(
        s.trader_transitions().list(t.id, 10).await.unwrap().len(),
        0,
        "no transition was made"
    );
}

async fn unsupported_url_names_only_the_scheme(_db: TestDb) {
    let err = storage::Store::connect("postgres://user:hunter2@host/db")
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::UnsupportedUrl { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("postgres"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the password never reaches a message: {text}"
    );
    assert_eq!(
        storage::default_sqlite_url("/var/lib/platform"),
        "sqlite:///var/lib/platform/platform.db?mode=rwc"
    );
}

both_backends!(
    migrate_twice_is_a_noop,
    check_schema_refuses_behind_or_edited,
    data_survives_closing_and_reopening_the_pool,
    every_db1_table_survives_a_pool_restart,
    unsupported_url_names_only_the_scheme,
);
