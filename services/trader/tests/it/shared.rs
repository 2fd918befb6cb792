//! Two LIVE traders on one Upbit account (one credential): each trader's
//! cash, positions and PnL are its own — attributed by its identifiers'
//! prefix — never exceed its seed money, and together they equal the
//! account's balances to the last unit.

use std::time::Duration;

use chrono::DateTime;
use domain::{Krw, Mode};
use rust_decimal::Decimal;
use upbit_sim::Scenario;

use crate::{
    checks::{check_account, check_against_sim, check_book, tables},
    support::{ACCOUNT_KRW, Db, TraderProc, World, test_definition},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_traders_share_an_account_with_separate_ledgers() {
    let mut w = World::start(Db::Sqlite, Scenario::Mixed, 6, 31).await;
    let cred = w.credential().await;
    let s1 = w.strategy(&test_definition(55.0)).await;
    let s2 = w.strategy(&test_definition(58.0)).await;
    let seeds = [(3_000_000, s1), (4_000_000, s2)];
    let mut ids = Vec::new();
    for (seed, s) in seeds {
        ids.push(w.trader(s, seed, Mode::Live, true, Some(cred)).await);
    }
    let procs: Vec<TraderProc> = ids
        .iter()
        .map(|id| TraderProc::spawn(&w, *id, None))
        .collect();
    let minutes = std::env::var("IT_SHARED_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    for k in 0..minutes {
        w.step().await;
        for (id, p) in ids.iter().zip(&procs) {
            assert!(
                w.wait_cycle(*id, w.now, Duration::from_mins(1)).await,
                "minute {k} of {id}\n{}",
                p.log_tail()
            );
        }
    }
    for p in procs {
        assert!(p.terminate().await.success());
    }
    let mut books = Vec::new();
    for ((seed, _), id) in seeds.iter().zip(&ids) {
        let t = tables(&w.db.store, *id).await;
        assert!(!t.fills.is_empty(), "trader {id} traded");
        let row = w.db.store.traders().get(*id).await.unwrap().unwrap();
        let prefix = format!("t{id}-{}-", row.order_salt);
        // Every order of this trader carries its prefix; the simulator's
        // orders with that prefix are exactly its orders.
        assert!(
            t.orders
                .iter()
                .all(|o| o.identifier.as_str().starts_with(&prefix))
        );
        check_against_sim(&w, &t, &prefix);
        let seed = Krw::from_i64(*seed);
        let book = check_book(&t, *id, Mode::Live, seed);
        // Never beyond its own seed: its cash stayed non-negative at every
        // minute, and what it spent on open lots came out of its own seed.
        let series =
            w.db.store
                .equity()
                .series(*id, DateTime::UNIX_EPOCH, 10_000)
                .await
                .unwrap();
        assert!(
            series.iter().all(|e| !e.cash.is_negative()),
            "trader {id} spent beyond its seed"
        );
        assert!(
            !book.cash.cash.is_negative(),
            "trader {id} ends below zero cash"
        );
        books.push((book, seed));
    }
    let refs: Vec<(&trader::portfolio::Portfolio, Krw)> =
        books.iter().map(|(b, s)| (b, *s)).collect();
    check_account(&w, &refs, Decimal::from(ACCOUNT_KRW));
    w.db.cleanup().await;
}
