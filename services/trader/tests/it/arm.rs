//! FIX-8 end to end: a LIVE trader that was never armed sends zero requests
//! to any order endpoint (the simulator counts every Exchange API request);
//! once it has orders on record it reconciles and watches them whether armed
//! or not (reads need only the credential); arming lets it
//! trade; a DISARM takes effect at once — resting entries are cancelled,
//! fills that happened before the cancel are recorded, nothing more is
//! created, and a WARN event names the positions left unmanaged.

use std::time::Duration;

use domain::{Krw, Mode, OrderState, Side, TraderEvent, TraderId};
use rust_decimal::Decimal;
use storage::events::EventLevel;
use upbit_sim::Scenario;

use crate::{
    checks::{check_account, check_against_sim, check_book, tables},
    support::{ACCOUNT_KRW, Db, TraderProc, World, test_definition},
};

async fn minutes(w: &mut World, id: TraderId, n: usize, p: &TraderProc) {
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

/// Create requests (`POST /v1/orders`) the simulator received.
async fn creates(w: &World) -> usize {
    let log = w.create_attempts().await;
    // The log holds only create endpoints; say which.
    assert!(
        log.iter().all(|e| e["endpoint"] == "POST /v1/orders"),
        "{log:?}"
    );
    log.len()
}

async fn disarm(w: &World, id: TraderId) {
    w.db.store
        .traders()
        .update_state(id, TraderEvent::Disarm, "test", w.now)
        .await
        .unwrap();
}

async fn prefix(w: &World, id: TraderId) -> String {
    let row = w.db.store.traders().get(id).await.unwrap().unwrap();
    format!("t{id}-{}-", row.order_salt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unarmed_live_sends_no_order_request() {
    let mut w = World::start(Db::Sqlite, Scenario::Trend, 6, 7).await;
    let s = w.strategy(&test_definition(55.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, false, Some(cred)).await;
    let p = TraderProc::spawn(&w, id, None);
    // The same market and strategy trade within the first minutes when armed
    // (see the PAPER/LIVE day); unarmed, no create may reach the exchange.
    minutes(&mut w, id, 45, &p).await;
    assert_eq!(creates(&w).await, 0, "a create request before ARM");
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
    // Never armed and nothing on record: not one request reached any order
    // endpoint — no create, and no read or cancel either.
    assert_eq!(
        w.exchange_requests().await,
        serde_json::json!({}),
        "an order endpoint was called before the first ARM"
    );

    // ARM: it reconciles again and trades.
    w.arm(id).await;
    minutes(&mut w, id, 30, &p).await;
    let armed_creates = creates(&w).await;
    assert!(armed_creates > 0, "armed, it trades");

    // DISARM: not one more create request; every resting order is withdrawn
    // at once and the event says so.
    disarm(&w, id).await;
    minutes(&mut w, id, 1, &p).await;
    let pre = prefix(&w, id).await;
    assert!(
        w.sim_orders(&pre).values().all(|o| o.state.is_final()),
        "an order of ours still rests after DISARM"
    );
    minutes(&mut w, id, 29, &p).await;
    assert_eq!(creates(&w).await, armed_creates, "a create after DISARM");
    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 5000)
            .await
            .unwrap();
    let d: Vec<_> = events.iter().filter(|e| e.kind == "DISARMED").collect();
    assert_eq!(d.len(), 1, "one DISARMED event");
    assert_eq!(d[0].level, EventLevel::Warn);

    let status = p.terminate().await;
    assert!(status.success());
    let t = tables(&w.db.store, id).await;
    let book = check_book(&t, id, Mode::Live, Krw::from_i64(5_000_000));
    check_against_sim(&w, &t, &pre);
    check_account(
        &w,
        &[(&book, Krw::from_i64(5_000_000))],
        Decimal::from(ACCOUNT_KRW),
    );
    w.db.cleanup().await;
}

/// A DISARM while an entry rests on the exchange: the trader is frozen
/// (SIGSTOP) while the market fills part of it, then disarmed and resumed.
/// It records the fill it had not seen, cancels the rest, creates nothing
/// more, and names its unmanaged positions in a WARN event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disarm_cancels_resting_entries_and_records_earlier_fills() {
    let mut w = World::start(Db::Sqlite, Scenario::Mixed, 6, 29).await;
    let mut def = test_definition(55.0);
    // Entries rest until something cancels them (here: the DISARM).
    def.execution.entry_timeout_secs = 3600;
    let s = w.strategy(&def).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, true, Some(cred)).await;
    let p = TraderProc::spawn(&w, id, None);
    let pre = prefix(&w, id).await;
    let resting = |w: &World| -> Vec<upbit_sim::engine::Order> {
        w.sim_orders(&pre)
            .into_values()
            .filter(|o| o.side == Side::Bid && o.state == OrderState::Wait)
            .collect()
    };
    let mut k = 0;
    while resting(&w).is_empty() {
        k += 1;
        assert!(k <= 120, "no entry rested within two hours");
        minutes(&mut w, id, 1, &p).await;
    }
    // Let the trader record what it sees, then freeze it.
    minutes(&mut w, id, 1, &p).await;
    let seen = tables(&w.db.store, id).await;
    let pid = nix::unistd::Pid::from_raw(p.pid());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    // Frozen: the market moves until a resting entry gets a fill the trader
    // has not seen, while another (or the same, partly filled) still rests.
    let unseen = |w: &World| -> Vec<String> {
        w.sim_orders(&pre)
            .values()
            .filter(|o| o.side == Side::Bid)
            .flat_map(|o| o.trades.iter().map(|t| t.uuid.to_string()))
            .filter(|u| !seen.fills.iter().any(|f| &f.fill.trade_uuid == u))
            .collect()
    };
    let mut k = 0;
    while unseen(&w).is_empty() || resting(&w).is_empty() {
        k += 1;
        assert!(
            k <= 240 && !resting(&w).is_empty(),
            "no fill on a resting entry while frozen"
        );
        w.step().await;
    }
    let filled_unseen = unseen(&w);
    let still_resting: Vec<String> = resting(&w)
        .iter()
        .filter_map(|o| o.identifier.clone())
        .collect();
    let creates_before = creates(&w).await;
    disarm(&w, id).await;
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    minutes(&mut w, id, 3, &p).await;

    // Nothing created after DISARM; nothing of ours rests on the exchange.
    assert_eq!(creates(&w).await, creates_before, "a create after DISARM");
    assert!(resting(&w).is_empty(), "an entry still rests after DISARM");
    let t = tables(&w.db.store, id).await;
    for u in &filled_unseen {
        assert!(
            t.fills.iter().any(|f| &f.fill.trade_uuid == u),
            "fill {u} that happened before the cancel was not recorded"
        );
    }
    // The DISARMED event: WARN, the cancelled entries, every open position.
    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 5000)
            .await
            .unwrap();
    let d = events
        .iter()
        .find(|e| e.kind == "DISARMED")
        .unwrap_or_else(|| panic!("no DISARMED event\n{}", p.log_tail()));
    assert_eq!(d.level, EventLevel::Warn);
    let cancelled: Vec<String> = d.data["cancelled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    for r in &still_resting {
        assert!(
            cancelled.contains(r),
            "{r} not cancelled by the DISARM: {cancelled:?}"
        );
        let o = &w.sim_orders(&pre)[r];
        assert_eq!(o.state, OrderState::Cancel, "{r}");
    }
    // `positions` holds the open lots.
    let open = &t.positions;
    assert!(!open.is_empty(), "the filled entries left positions");
    assert!(d.message.contains("unmanaged"), "{}", d.message);
    for pos in open {
        assert!(
            d.message.contains(pos.position.market.as_str()),
            "{} not named in {:?}",
            pos.position.market,
            d.message
        );
    }
    assert_eq!(d.data["unmanaged"].as_array().unwrap().len(), open.len());

    let status = p.terminate().await;
    assert!(status.success());
    let t = tables(&w.db.store, id).await;
    let book = check_book(&t, id, Mode::Live, Krw::from_i64(5_000_000));
    check_against_sim(&w, &t, &pre);
    check_account(
        &w,
        &[(&book, Krw::from_i64(5_000_000))],
        Decimal::from(ACCOUNT_KRW),
    );
    w.db.cleanup().await;
}
