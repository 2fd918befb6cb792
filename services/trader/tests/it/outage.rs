//! RUN-2: MariaDB unavailable for a minute mid-run. The trader reaches the
//! database through a TCP proxy the test cuts (the machine's MariaDB keeps
//! running for everyone else): no order is sent while it is gone, a CRITICAL
//! alert goes out (Telegram), and afterwards the trader recovers, records
//! what happened meanwhile, and the ledger equals the exchange.

use std::time::{Duration, Instant};

use domain::{Krw, Mode};
use rust_decimal::Decimal;
use upbit_sim::Scenario;

use crate::{
    checks::{check_account, check_against_sim, check_book, tables},
    support::{ACCOUNT_KRW, Db, Proxy, TraderProc, World, fake_telegram, test_definition},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_outage_stops_orders_and_recovers() {
    let mut w = World::start(Db::MariaDb, Scenario::Mixed, 6, 53).await;
    let s = w.strategy(&test_definition(52.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, true, Some(cred)).await;
    let proxy = Proxy::start().await;
    let (tg_url, tg) = fake_telegram().await;
    let url = w.db.url_via(proxy.port);
    let p = TraderProc::spawn_with(
        &w,
        id,
        Some(&url),
        &[
            ("TELEGRAM_BOT_TOKEN", "123:test".to_owned()),
            ("TELEGRAM_CHAT_ID", "42".to_owned()),
            ("TELEGRAM_API_URL", tg_url),
        ],
    );
    for k in 0..60 {
        w.step().await;
        assert!(
            w.wait_cycle(id, w.now, Duration::from_mins(1)).await,
            "minute {k}\n{}",
            p.log_tail()
        );
    }
    let before = w.create_attempts().await.len();
    assert!(before > 0, "it traded before the outage");

    // One minute of wall time without the database; the market moves on
    // (the collector writes directly), resting orders may fill meanwhile.
    proxy.cut();
    let cut = Instant::now();
    while cut.elapsed() < Duration::from_mins(1) {
        w.step().await;
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    assert_eq!(
        w.create_attempts().await.len(),
        before,
        "an order was sent while the database was down"
    );
    proxy.restore();
    let after_outage = w.create_attempts().await.len();
    for k in 0..30 {
        w.step().await;
        assert!(
            w.wait_cycle(id, w.now, Duration::from_mins(2)).await,
            "minute {k} after the outage\n{}",
            p.log_tail()
        );
    }
    assert!(
        w.create_attempts().await.len() > after_outage,
        "trading resumed after the outage"
    );
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
    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 100_000)
            .await
            .unwrap();
    assert!(
        events.iter().any(|e| e.kind == "DB_RECOVERED"),
        "recovery is logged"
    );
    let sent = tg.lock().unwrap().clone();
    assert!(
        sent.iter()
            .any(|m| m.contains("CRITICAL") && m.contains("DB_UNREACHABLE")),
        "no CRITICAL alert: {sent:?}"
    );
    w.db.cleanup().await;
}
