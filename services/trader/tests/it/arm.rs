//! FIX-8 end to end: a LIVE trader that is not armed sends zero order
//! requests (the simulator counts every create attempt), arming lets it
//! trade, and a disarm takes effect at once.

use std::time::Duration;

use domain::{Mode, TraderEvent};
use rust_decimal::Decimal;
use upbit_sim::Scenario;

use crate::{
    checks::{check_account, check_against_sim, check_book, tables},
    support::{ACCOUNT_KRW, Db, TraderProc, World, test_definition},
};

async fn minutes(w: &mut World, id: domain::TraderId, n: usize, p: &TraderProc) {
    for _ in 0..n {
        w.step().await;
        assert!(
            w.wait_cycle(id, w.now, Duration::from_mins(1)).await,
            "minute {} did not finish\n{}",
            w.now,
            p.log_tail()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unarmed_live_sends_no_order_request() {
    let mut w = World::start(Db::Sqlite, Scenario::Trend, 6, 7).await;
    let s = w.strategy(&test_definition(55.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, false, Some(cred)).await;
    let p = TraderProc::spawn(&w, id, None);
    // The same market and strategy trade within the first minutes when armed
    // (see the PAPER/LIVE day); unarmed, nothing may reach the exchange.
    minutes(&mut w, id, 45, &p).await;
    assert!(
        w.create_attempts().await.is_empty(),
        "a create attempt before ARM"
    );
    assert!(w.sim.shared().world().engine.orders().is_empty());
    assert!(w.db.store.orders().list(id, 100).await.unwrap().is_empty());
    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 1000)
            .await
            .unwrap();
    assert!(
        events.iter().any(|e| e.kind == "NOT_ARMED"),
        "the log says why"
    );
    assert!(
        !events.iter().any(|e| e.kind == "RECONCILED"),
        "no order endpoint was read either"
    );

    // ARM: it reconciles and trades.
    w.arm(id).await;
    minutes(&mut w, id, 30, &p).await;
    let attempts = w.create_attempts().await.len();
    assert!(attempts > 0, "armed, it trades");

    // DISARM: not one more create attempt.
    w.db.store
        .traders()
        .update_state(id, TraderEvent::Disarm, "test", w.now)
        .await
        .unwrap();
    minutes(&mut w, id, 30, &p).await;
    assert_eq!(
        w.create_attempts().await.len(),
        attempts,
        "an order after DISARM"
    );

    let status = p.terminate().await;
    assert!(status.success());
    // Disarmed, it left its open orders alone (cancelling is an order request
    // too); arm again to let a new process reconcile and cancel them.
    let t = tables(&w.db.store, id).await;
    let open: Vec<_> = t.orders.iter().filter(|o| !o.status.is_final()).collect();
    if !open.is_empty() {
        w.arm(id).await;
        let p = TraderProc::spawn(&w, id, None);
        minutes(&mut w, id, 2, &p).await;
        assert!(p.terminate().await.success());
    }
    let t = tables(&w.db.store, id).await;
    let book = check_book(&t, id, Mode::Live, domain::Krw::from_i64(5_000_000));
    let row = w.db.store.traders().get(id).await.unwrap().unwrap();
    check_against_sim(&w, &t, &format!("t{id}-{}-", row.order_salt));
    check_account(
        &w,
        &[(&book, domain::Krw::from_i64(5_000_000))],
        Decimal::from(ACCOUNT_KRW),
    );
    w.db.cleanup().await;
}
