//! The LIVE executor against the simulator: FIX-8 (no `Armed`, no create
//! request — counted by the simulator; reads and cancels need only the
//! credential), an answer lost after the
//! order was created is found by its identifier (never placed twice), a
//! failed create is classified as creating nothing, and the read/cancel
//! calls the trader's reconciliation uses.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use domain::{
    Krw, Market, Mode, OrderIdentifier, OrderRequest, OrderState, Position, Price, RunState,
    Secret, Side, TimeInForce, TraderId, TraderState, Volume,
};
use execution::{ExecError, LiveConfig, LiveExecutor, OrderExecutor};
use risk::{RiskApproved, approve_exit};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use upbit::{Credential, HttpConfig, RetryPolicy, SystemClock, UpbitTransport, UpbitUrls};
use upbit_sim::{AccountSpec, Scenario, SimConfig, SimHandle, Simulator};

const AK: &str = "live-exec-ak";
const SK: &str = "live-exec-secret-0123456789";

async fn sim() -> SimHandle {
    let mut c = SimConfig::synthetic(Scenario::Range, 3, 21);
    c.speed = 0.0;
    c.start = Some(Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap());
    c.accounts = vec![AccountSpec::new(
        AK,
        SK,
        &[("KRW", "10000000"), ("XRP", "1000")],
    )];
    Simulator::start(c).await.unwrap()
}

fn executor(h: &SimHandle, timeout: Duration) -> LiveExecutor {
    let mut c = HttpConfig::with_urls(UpbitUrls::new(&h.base_url(), &h.ws_url()).unwrap());
    c.timeout = timeout;
    c.retry = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
    };
    let t = UpbitTransport::new(c, SystemClock::shared())
        .unwrap()
        .with_credential(Credential::new(AK, Secret::new(SK)).unwrap());
    LiveExecutor::new(
        execution::upbit_orders::UpbitOrderClient::new(t).unwrap(),
        LiveConfig {
            lookup_attempts: 3,
            lookup_pause: Duration::from_millis(50),
        },
    )
}

fn xrp() -> Market {
    "KRW-XRP".parse().unwrap()
}

fn ident(intent: i64) -> OrderIdentifier {
    OrderIdentifier::for_attempt(TraderId::new(9).unwrap(), "live", intent, 0).unwrap()
}

/// An approved sell of `volume` XRP at `price` (exits are approved by
/// `risk::approve_exit` against a held position).
fn approved_sell(
    price: Decimal,
    volume: Decimal,
    tif: Option<TimeInForce>,
    intent: i64,
) -> RiskApproved<OrderRequest> {
    let v = Volume::new(volume).unwrap();
    let p = Price::new(price).unwrap();
    let pos = Position {
        trader_id: TraderId::new(9).unwrap(),
        market: xrp(),
        open_time: Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap(),
        avg_entry_price: p,
        size: Volume::new(dec!(100000)).unwrap(),
        cost_krw: Krw::from_i64(1),
        stop_price: Price::new(dec!(1)).unwrap(),
        high_water: p,
        tags: vec![],
    };
    approve_exit(
        OrderRequest::limit(xrp(), Side::Ask, p, v, tif, ident(intent)).unwrap(),
        &pos,
    )
    .unwrap()
}

async fn admin(h: &SimHandle, path: &str, body: Option<Value>) -> Value {
    let http = reqwest::Client::new();
    let url = format!("{}/_sim{path}", h.base_url());
    let r = match body {
        Some(b) => http.post(url).json(&b).send().await.unwrap(),
        None => http.get(url).send().await.unwrap(),
    };
    r.json().await.unwrap()
}

fn best(h: &SimHandle) -> (Decimal, Decimal) {
    let mut w = h.shared().world();
    let i = w.market_index("KRW-XRP").unwrap();
    let upbit_sim::world::World {
        engine, markets, ..
    } = &mut *w;
    let b = engine.merged_book(i, &mut markets[i]);
    (b.asks[0].price, b.bids[0].price)
}

fn armed() -> domain::Armed {
    TraderState::restore(RunState::Running, Mode::Live, true)
        .armed_proof()
        .unwrap()
}

/// Create attempts the simulator logged (`POST /v1/orders`, `/v1/orders/test`,
/// `/v1/orders/cancel_and_new`).
async fn creates(h: &SimHandle) -> Vec<Value> {
    admin(h, "/orders", None).await.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_arm_no_create_request_reaches_the_exchange() {
    let h = sim().await;
    let ex = executor(&h, Duration::from_secs(5));
    let (_, bid) = best(&h);
    let id = ident(1);
    let err = ex
        .submit(None, approved_sell(bid + dec!(100), dec!(10), None, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, ExecError::NotArmed), "{err}");
    assert!(err.nothing_created() && !err.is_retryable());
    // The simulator saw no create attempt and holds no order.
    assert_eq!(creates(&h).await, Vec::<Value>::new());
    assert!(h.shared().world().engine.orders().is_empty());
    // Only a LIVE, armed (not removed) state yields the proof.
    for (run, mode, arm) in [
        (RunState::Running, Mode::Paper, true),
        (RunState::Running, Mode::Live, false),
        (RunState::Removed, Mode::Live, true),
    ] {
        assert!(TraderState::restore(run, mode, arm).armed_proof().is_none());
    }
    // Reads need only the credential: a trader that is not armed still sees
    // what it has on the exchange.
    assert!(ex.fetch(&id).await.unwrap().is_none());
    assert!(ex.open_orders("t9-").await.unwrap().is_empty());
    let since = Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap();
    assert!(ex.closed_orders("t9-", since).await.unwrap().is_empty());
    let bal = ex.balances().await.unwrap();
    assert!(bal.iter().any(|b| b.currency.as_str() == "XRP"));
    assert_eq!(creates(&h).await.len(), 0, "reads are not creates");
    // With the proof the same order goes through, once.
    let o = ex
        .submit(
            Some(armed()),
            approved_sell(bid + dec!(100), dec!(10), None, 1),
        )
        .await
        .unwrap();
    assert_eq!(o.identifier, id);
    assert_eq!(o.state, OrderState::Wait);
    assert_eq!(creates(&h).await.len(), 1);
    // A cancel needs no proof either (it never adds exposure), and is not a create.
    let seen = ex.open_orders("t9-").await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].identifier, id);
    ex.cancel(&id).await.unwrap();
    let c = ex.fetch(&id).await.unwrap().unwrap();
    assert_eq!(c.state, OrderState::Cancel);
    assert!(ex.open_orders("t9-").await.unwrap().is_empty());
    assert_eq!(creates(&h).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_found_by_identifier_not_placed_twice() {
    let h = sim().await;
    // The create is processed, its answer comes after the client gave up.
    admin(
        &h,
        "/faults",
        Some(json!({"create_response_delay_ms": 1500})),
    )
    .await;
    let ex = executor(&h, Duration::from_millis(400));
    let (_, bid) = best(&h);
    let o = ex
        .submit(
            Some(armed()),
            approved_sell(bid + dec!(50), dec!(7), None, 2),
        )
        .await
        .unwrap();
    assert_eq!(o.identifier, ident(2));
    let w = h.shared().world();
    let n = w
        .engine
        .orders()
        .iter()
        .filter(|x| x.identifier.as_deref() == Some(ident(2).as_str()))
        .count();
    assert_eq!(n, 1, "exactly one order for the identifier");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_classified_by_what_they_created() {
    let h = sim().await;
    let ex = executor(&h, Duration::from_secs(5));
    let (_, bid) = best(&h);
    // 429: nothing created, rate limited.
    admin(&h, "/faults", Some(json!({"force_429": 1}))).await;
    let e = ex
        .submit(
            Some(armed()),
            approved_sell(bid + dec!(10), dec!(5), None, 3),
        )
        .await
        .unwrap_err();
    assert!(e.is_rate_limited() && e.nothing_created(), "{e}");
    // Insufficient funds: a refusal.
    let e = ex
        .submit(
            Some(armed()),
            approved_sell(bid + dec!(10), dec!(5000), None, 4),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ExecError::Refused { .. }) && !e.is_retryable(),
        "{e}"
    );
    // 5xx bursts: every outcome is consistent with the exchange.
    admin(&h, "/faults", Some(json!({"error_rate": 0.5}))).await;
    let mut created = 0;
    let mut unavailable = 0;
    for i in 10..40 {
        let r = ex
            .submit(
                Some(armed()),
                approved_sell(bid + dec!(10), dec!(5), None, i),
            )
            .await;
        let exists = h
            .shared()
            .world()
            .engine
            .orders()
            .iter()
            .any(|x| x.identifier.as_deref() == Some(ident(i).as_str()));
        match r {
            Ok(_) => {
                assert!(exists, "{i}: ok but not on the exchange");
                created += 1;
            }
            Err(e) if e.nothing_created() => {
                assert!(!exists, "{i}: {e} but the order exists");
                unavailable += 1;
            }
            Err(e) => assert!(matches!(e, ExecError::Unknown { .. }), "{e}"),
        }
    }
    assert!(
        created > 0 && unavailable > 0,
        "{created} created, {unavailable} failed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_cancels_for_reconciliation() {
    let h = sim().await;
    let ex = executor(&h, Duration::from_secs(5));
    let (ask, bid) = best(&h);
    let a = armed();
    // A resting sell well above the market, and a marketable IOC sell.
    ex.submit(Some(a), approved_sell(ask + dec!(200), dec!(20), None, 50))
        .await
        .unwrap();
    let ioc = ex
        .submit(
            Some(a),
            approved_sell(bid, dec!(3), Some(TimeInForce::Ioc), 51),
        )
        .await
        .unwrap();
    let got = ex.fetch(&ioc.identifier).await.unwrap().unwrap();
    assert!(got.is_final());
    let trades = got.trades.as_ref().unwrap();
    let sum = trades.iter().fold(Volume::ZERO, |acc, t| acc + t.volume);
    assert_eq!(sum, got.executed_volume);
    let open = ex.open_orders("t9-live-").await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].identifier, ident(50));
    // Orders of other prefixes are not ours.
    assert!(ex.open_orders("t10-").await.unwrap().is_empty());
    ex.cancel(&ident(50)).await.unwrap();
    let c = ex.fetch(&ident(50)).await.unwrap().unwrap();
    assert_eq!(c.state, OrderState::Cancel);
    assert!(matches!(
        ex.cancel(&ident(50)).await,
        Err(ExecError::NotFound { .. })
    ));
    assert!(ex.fetch(&ident(99)).await.unwrap().is_none());
    let closed = ex
        .closed_orders("t9-live-", h.now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(closed.len(), 2);
    let bal = ex.balances().await.unwrap();
    assert!(bal.iter().any(|b| b.currency.as_str() == "XRP"));
}
