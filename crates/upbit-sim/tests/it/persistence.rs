//! The state file: accounts, orders (resting ones back in the book), fills,
//! burned identifiers, the admin order log and the sim time survive a
//! restart; an unreadable file stops the start with a clear error.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use upbit_sim::{SimError, Simulator};

use crate::support::{Key, replay_config, start};

#[tokio::test]
async fn accounts_and_orders_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim-state.json");
    let k = Key::new("persist");

    let (mut c, wall) = replay_config();
    c.state_file = Some(path.clone());
    let sim = start(c, wall).await;
    sim.add_account(&k, &[("KRW", "1000000"), ("XRP", "50")]);
    let (asks, bids) = sim.book("KRW-XRP").await;
    let bp = (bids[0].0 - Decimal::TEN).to_string();
    let resting = sim
        .place(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "10"),
                ("price", &bp),
                ("ord_type", "limit"),
                ("identifier", "keep-1"),
            ],
        )
        .await;
    let ap = asks[0].0.to_string();
    let filled = sim
        .place(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2"),
                ("price", &ap),
                ("ord_type", "limit"),
                ("identifier", "keep-2"),
            ],
        )
        .await;
    sim.step(30);
    let before_resting = sim.order(&k, &resting).await;
    let before_filled = sim.order(&k, &filled).await;
    assert_eq!(before_filled["state"], "done");
    let krw = sim.balance(&k, "KRW").await;
    let xrp = sim.balance(&k, "XRP").await;
    let log = sim.admin(Method::GET, "/orders", None).await.body;
    let now = sim.handle.now();
    sim.handle.shutdown().await.unwrap();
    assert!(path.exists());

    // Restart from the file, without a start time: the clock resumes. The
    // same key configured again does not reset the saved account.
    let (mut c, wall) = replay_config();
    c.state_file = Some(path.clone());
    c.start = None;
    c.accounts = vec![upbit_sim::AccountSpec::new(
        &k.access,
        &k.secret,
        &[("KRW", "1")],
    )];
    let sim = start(c, wall).await;
    assert_eq!(sim.handle.now(), now);
    assert_eq!(sim.balance(&k, "KRW").await, krw);
    assert_eq!(sim.balance(&k, "XRP").await, xrp);
    assert_eq!(sim.order(&k, &resting).await, before_resting);
    assert_eq!(sim.order(&k, &filled).await, before_filled);
    let by_id = sim
        .private(&k, Method::GET, "/v1/order", &[("identifier", "keep-2")])
        .await;
    assert_eq!(by_id.body["uuid"], filled.as_str());
    assert_eq!(sim.admin(Method::GET, "/orders", None).await.body, log);
    // The resting order is back in the book and can still be cancelled.
    let (_, bids_after) = sim.book("KRW-XRP").await;
    assert!(
        bids_after
            .iter()
            .any(|(p, s)| p.to_string() == bp && *s >= dec!(10))
    );
    let r = sim
        .private(&k, Method::DELETE, "/v1/order", &[("uuid", &resting)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Identifiers stay burned; new orders get fresh uuids.
    let again = sim
        .create(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2"),
                ("price", &bp),
                ("ord_type", "limit"),
                ("identifier", "keep-1"),
            ],
        )
        .await;
    assert_eq!(again.error_name(), "validation_error");
    let fresh = sim
        .place(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2"),
                ("price", &bp),
                ("ord_type", "limit"),
            ],
        )
        .await;
    assert!(fresh != resting && fresh != filled);
    // The file is rewritten on shutdown and read again.
    sim.handle.shutdown().await.unwrap();
    let (mut c, wall) = replay_config();
    c.state_file = Some(path.clone());
    c.start = None;
    let sim = start(c, wall).await;
    assert_eq!(sim.order(&k, &resting).await["state"], "cancel");
    assert_eq!(sim.order(&k, &fresh).await["state"], "wait");
}

#[tokio::test]
async fn a_broken_state_file_is_a_clear_start_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("garbage.json", "{not json"),
        (
            "version.json",
            r#"{"version":99,"sim_time":0,"accounts":[],"orders":[],"identifiers":[],"tape":{},"order_log":[]}"#,
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let (mut c, _) = replay_config();
        c.state_file = Some(path.clone());
        let err = Simulator::start(c).await.unwrap_err();
        assert!(matches!(err, SimError::State(_)), "{err}");
        assert!(err.to_string().contains(name), "{err}");
    }
}
