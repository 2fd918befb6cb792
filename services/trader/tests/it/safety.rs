//! The runtime guard and the kill switch are enforced by the trader and
//! persisted in `trader_safety_state` (STAB-1, RUN-4): an operator's kill
//! switch stops entries (and liquidates when asked), survives a restart, and
//! only a manual resume lets entries start again. A record the exchange
//! cannot explain stops trading with a CRITICAL event.

use std::time::Duration;

use domain::{Krw, Mode, OrderIdentifier, OrderRequest, Price, Secret, Side, TraderId, Volume};
use rust_decimal::Decimal;
use storage::safety::SafetyState;
use upbit::{Credential, HttpConfig, SystemClock, UpbitTransport, UpbitUrls};
use upbit_sim::Scenario;

use crate::{
    checks::{check_account, check_against_sim, check_book, tables},
    support::{ACCESS_KEY, ACCOUNT_KRW, Db, SECRET_KEY, TraderProc, World, test_definition},
};

async fn minutes(w: &mut World, id: TraderId, n: usize, p: &TraderProc) {
    for _ in 0..n {
        w.step().await;
        assert!(
            w.wait_cycle(id, w.now, Duration::from_mins(1)).await,
            "minute {}\n{}",
            w.now,
            p.log_tail()
        );
    }
}

async fn buys_since(w: &World, id: TraderId, since: chrono::DateTime<chrono::Utc>) -> usize {
    w.db.store
        .orders()
        .list(id, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|o| o.side == Side::Bid && o.created_at > since)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switch_liquidates_persists_and_needs_a_manual_resume() {
    let mut w = World::start(Db::Sqlite, Scenario::Trend, 6, 7).await;
    let s = w.strategy(&test_definition(52.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, true, Some(cred)).await;
    let mut p = TraderProc::spawn(&w, id, None);
    minutes(&mut w, id, 20, &p).await;
    assert!(
        !w.db.store.positions().list(id).await.unwrap().is_empty(),
        "it holds positions"
    );

    // The operator trips the kill switch and asks for liquidation (RUN-4).
    let mut state =
        w.db.store
            .safety()
            .get(id)
            .await
            .unwrap()
            .unwrap_or_else(|| SafetyState::new(id, w.now.date_naive(), w.now));
    state.kill_switch = true;
    state.kill_reason = Some(format!("tripped by an operator{}", risk::LIQUIDATE_MARK));
    w.db.store.safety().put(&state).await.unwrap();
    let tripped = w.now;
    minutes(&mut w, id, 5, &p).await;
    assert!(
        w.db.store.positions().list(id).await.unwrap().is_empty(),
        "liquidated"
    );
    // A restart does not clear it.
    p.kill().await;
    p = TraderProc::spawn(&w, id, None);
    minutes(&mut w, id, 30, &p).await;
    assert_eq!(
        buys_since(&w, id, tripped).await,
        0,
        "an entry with the kill switch on"
    );
    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 10_000)
            .await
            .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "KILL_SWITCH" && e.level == storage::events::EventLevel::Critical)
    );
    let stored = w.db.store.safety().get(id).await.unwrap().unwrap();
    assert!(stored.kill_switch, "still on in trader_safety_state");

    // A confirmed manual resume (the operator clears it) lets it trade again.
    let mut resumed = stored.clone();
    resumed.kill_switch = false;
    resumed.kill_reason = None;
    w.db.store.safety().put(&resumed).await.unwrap();
    let at = w.now;
    minutes(&mut w, id, 30, &p).await;
    assert!(buys_since(&w, id, at).await > 0, "entries resumed");
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
    w.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_the_records_cannot_explain_stops_trading() {
    let mut w = World::start(Db::Sqlite, Scenario::Trend, 6, 7).await;
    let s = w.strategy(&test_definition(52.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, true, Some(cred)).await;
    let row = w.db.store.traders().get(id).await.unwrap().unwrap();
    // Someone places an order with this trader's identifier prefix behind
    // its back (a restored old database would look the same).
    let t = UpbitTransport::new(
        HttpConfig::with_urls(UpbitUrls::new(&w.sim.base_url(), &w.sim.ws_url()).unwrap()),
        SystemClock::shared(),
    )
    .unwrap()
    .with_credential(Credential::new(ACCESS_KEY, Secret::new(SECRET_KEY)).unwrap());
    let client = execution::upbit_orders::UpbitOrderClient::new(t).unwrap();
    let foreign = OrderIdentifier::for_attempt(id, &row.order_salt, 999_999, 0).unwrap();
    client
        .create(
            &OrderRequest::limit(
                "KRW-XRP".parse().unwrap(),
                Side::Bid,
                Price::new(Decimal::from(1000)).unwrap(),
                Volume::new(Decimal::from(10)).unwrap(),
                None,
                foreign,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let p = TraderProc::spawn(&w, id, None);
    // Halted, it runs no cycle: step the market on and watch the log.
    let t0 = std::time::Instant::now();
    loop {
        let events =
            w.db.store
                .events()
                .list_after_for(id, 0, 10_000)
                .await
                .unwrap();
        if events.iter().any(|e| e.kind == "RECONCILE_MISMATCH") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no mismatch raised\n{}",
            p.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..10 {
        w.step().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        w.db.store.equity().latest(id).await.unwrap().is_none(),
        "a halted trader runs no cycle"
    );
    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 10_000)
            .await
            .unwrap();
    let critical: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "RECONCILE_MISMATCH")
        .collect();
    assert_eq!(critical.len(), 1, "one CRITICAL event");
    assert_eq!(critical[0].level, storage::events::EventLevel::Critical);
    assert!(
        critical[0].message.contains("not in our records"),
        "{}",
        critical[0].message
    );
    // It refused to trade: only the foreign order reached the exchange.
    assert_eq!(w.create_attempts().await.len(), 1);
    assert!(w.db.store.orders().list(id, 10).await.unwrap().is_empty());
    assert!(p.terminate().await.success());
    w.db.cleanup().await;
}
