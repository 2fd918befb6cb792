//! Conformance: the client against the project's Upbit simulator (a real
//! HTTP + WebSocket server started in-process) for every endpoint this crate
//! knows, including the error paths — auth failures, unknown markets, bad
//! parameters, 5xx, 429 and 418, timeouts — and the rate limiter keeping a
//! busy client below Upbit's limits (the simulator counts every refusal).

use std::{
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, TimeZone, Utc};
use domain::{Currency, Market, Secret};
use futures_util::future::join_all;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use upbit::{
    ApiErrorKind, ApiRequest, CandleInterval, Credential, ErrorCategory, HttpConfig, JwtAlgorithm,
    MinuteUnit, MyOrderState, Params, RateGroup, RateLimiter, RateLimits, RetryPolicy, StreamType,
    Subscription, SystemClock, UpbitClient, UpbitError, UpbitTransport, UpbitUrls, UpbitWebSocket,
    WsConfig, WsEvent, WsMessage, http::query::TradesQuery, http::rate_limit::Limit,
};
use upbit_sim::{AccountSpec, MarketSource, Scenario, SimConfig, SimHandle, Simulator};

const AK: &str = "conformance-access";
const SK: &str = "conformance-secret-0123456789";

fn data_file() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../upbit-sim/tests/data/upbit_krw_3mkts_1m_2025-09-01_5h.csv")
}

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, h, m, 0).single().unwrap()
}

fn market(code: &str) -> Market {
    Market::parse("market", code).unwrap()
}

/// The real 3-market replay at 03:00 UTC, frozen sim time, real wall clock
/// (rate windows), Upbit's limits enforced, one funded account.
async fn replay(edit: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut c = SimConfig::new(MarketSource::Files(vec![data_file()]));
    c.speed = 0.0;
    c.start = Some(t(3, 0));
    c.seed = 7;
    c.accounts = vec![AccountSpec::new(
        AK,
        SK,
        &[("KRW", "1000000"), ("BTC", "0.5")],
    )];
    edit(&mut c);
    Simulator::start(c).await.unwrap()
}

fn config(h: &SimHandle) -> HttpConfig {
    let mut c = HttpConfig::with_urls(UpbitUrls::new(&h.base_url(), &h.ws_url()).unwrap());
    c.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
    };
    c
}

fn transport(c: HttpConfig) -> UpbitTransport {
    UpbitTransport::new(c, SystemClock::shared()).unwrap()
}

fn client(h: &SimHandle) -> UpbitClient {
    UpbitClient::new(transport(config(h)))
}

fn signed(h: &SimHandle, ak: &str, sk: &str) -> UpbitClient {
    let cred = Credential::new(ak, Secret::new(sk)).unwrap();
    UpbitClient::new(transport(config(h)).with_credential(cred))
}

async fn admin(h: &SimHandle, path: &str, body: Option<Value>) -> Value {
    let http = reqwest::Client::new();
    let url = format!("{}/_sim{path}", h.base_url());
    let req = match body {
        Some(b) => http.post(url).json(&b),
        None => http.get(url),
    };
    req.send().await.unwrap().json().await.unwrap()
}

/// `(429, 418)` answers the simulator gave so far.
async fn refusals(h: &SimHandle) -> (u64, u64) {
    let v = admin(h, "/health", None).await;
    (
        v["rate_limited"]["429"].as_u64().unwrap(),
        v["rate_limited"]["418"].as_u64().unwrap(),
    )
}

fn kind(e: &UpbitError) -> ApiErrorKind {
    e.api_kind()
        .cloned()
        .unwrap_or_else(|| panic!("not an API error: {e:?}"))
}

#[tokio::test]
async fn market_list_with_warning_and_caution_flags() {
    let h = replay(|_| {}).await;
    let c = client(&h);
    let list = c.krw_markets(false).await.unwrap();
    let codes: Vec<&str> = list.iter().map(|m| m.market.as_str()).collect();
    assert_eq!(codes, ["KRW-BTC", "KRW-ETH", "KRW-XRP"]);
    assert_eq!(list[0].korean_name, "비트코인");
    assert!(list.iter().all(|m| !m.warning && m.cautions.is_empty()));
    admin(
        &h,
        "/markets/KRW-XRP",
        Some(json!({"warning": true, "caution": {"TRADING_VOLUME_SOARING": true}})),
    )
    .await;
    let list = c.krw_markets(true).await.unwrap();
    let xrp = list
        .iter()
        .find(|m| m.market.as_str() == "KRW-XRP")
        .unwrap();
    assert!(xrp.warning);
    assert_eq!(xrp.cautions.get("TRADING_VOLUME_SOARING"), Some(&true));
    assert_eq!(xrp.cautions.get("PRICE_FLUCTUATIONS"), Some(&false));
    assert_eq!(xrp.cautions.len(), 5);
}

/// `(open, high, low, close, volume)` of the real rows in `[from, to)` minutes.
fn real(code: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> [Decimal; 5] {
    let text = std::fs::read_to_string(data_file()).unwrap();
    let rows: Vec<Vec<Decimal>> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let ts: DateTime<Utc> = f[1].parse().ok()?;
            (f[0] == code && ts >= from && ts < to)
                .then(|| f[2..7].iter().map(|v| v.parse().unwrap()).collect())
        })
        .collect();
    [
        rows[0][0],
        rows.iter().map(|r| r[1]).max().unwrap(),
        rows.iter().map(|r| r[2]).min().unwrap(),
        rows[rows.len() - 1][3],
        rows.iter().map(|r| r[4]).sum(),
    ]
}

#[tokio::test]
async fn candles_of_every_interval_reproduce_the_replayed_data() {
    let h = replay(|_| {}).await;
    let c = client(&h);
    let btc = market("KRW-BTC");
    let units = [
        (MinuteUnit::M1, 1),
        (MinuteUnit::M3, 3),
        (MinuteUnit::M5, 5),
        (MinuteUnit::M10, 10),
        (MinuteUnit::M15, 15),
        (MinuteUnit::M30, 30),
        (MinuteUnit::M60, 60),
        (MinuteUnit::M240, 240),
    ];
    for (unit, minutes) in units {
        let iv = CandleInterval::Minutes(unit);
        let list = c.candles(&btc, iv, Some(t(3, 0)), 200).await.unwrap();
        assert_eq!(list.len(), (180 / minutes).max(1) as usize, "{unit:?}");
        assert!(list.windows(2).all(|w| w[0].open_time < w[1].open_time));
        let last = list.last().unwrap();
        assert_eq!(last.interval, iv);
        let from = last.open_time;
        let to = (from + chrono::Duration::minutes(i64::from(minutes))).min(t(3, 0));
        let [o, hi, lo, cl, v] = real("KRW-BTC", from, to);
        assert_eq!(
            (
                last.open.get(),
                last.high.get(),
                last.low.get(),
                last.close.get(),
                last.volume.get()
            ),
            (o, hi, lo, cl, v),
            "{unit:?} candle at {from}"
        );
    }
    let year_start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().unwrap();
    for (iv, open_time) in [
        (CandleInterval::Days, t(0, 0)),
        (CandleInterval::Weeks, t(0, 0)),
        (CandleInterval::Months, t(0, 0)),
        (CandleInterval::Years, year_start),
    ] {
        let list = c.candles(&btc, iv, None, 5).await.unwrap();
        assert_eq!(list.len(), 1, "{iv:?}");
        assert_eq!(list[0].open_time, open_time, "{iv:?}");
        let [o, hi, lo, cl, _] = real("KRW-BTC", t(0, 0), t(3, 0));
        let got = &list[0];
        assert_eq!(
            (
                got.open.get(),
                got.high.get(),
                got.low.get(),
                got.close.get()
            ),
            (o, hi, lo, cl),
            "{iv:?}"
        );
    }
    // Seconds candles exist for the replayed trade prints.
    let secs = c
        .candles(&btc, CandleInterval::Seconds, None, 10)
        .await
        .unwrap();
    assert!(!secs.is_empty());
    assert!(
        secs.iter()
            .all(|s| s.open_time < t(3, 0) + chrono::Duration::seconds(1))
    );
    // Local validation: nothing is sent for an impossible count.
    let err = c
        .candles(&btc, CandleInterval::Days, None, 201)
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Local);
}

#[tokio::test]
async fn backfill_pages_through_thousands_of_candles_within_the_rate_limit() {
    let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().unwrap();
    let mut c = SimConfig::new(MarketSource::Synthetic {
        scenario: Scenario::Range,
        markets: 2,
        seed: 11,
        history_minutes: 3000,
    });
    c.start = Some(start);
    c.speed = 0.0;
    let h = Simulator::start(c).await.unwrap();
    let client = client(&h);
    let btc = market("KRW-BTC");
    let m1 = CandleInterval::Minutes(MinuteUnit::M1);
    let from = start - chrono::Duration::minutes(2900);
    let started = Instant::now();
    let list = client.candles_between(&btc, m1, from, start).await.unwrap();
    assert_eq!(list.len(), 2900, "every synthetic minute trades");
    assert_eq!(list[0].open_time, from);
    assert_eq!(list[2899].open_time, start - chrono::Duration::minutes(1));
    assert!(
        list.windows(2)
            .all(|w| w[1].open_time - w[0].open_time == chrono::Duration::minutes(1))
    );
    // Fifteen pages of 200, then three more: 18 calls of a 10-per-second group.
    let latest = client.latest_candles(&btc, m1, 450, None).await.unwrap();
    assert_eq!(latest.len(), 450);
    assert!(latest[449].open_time >= start - chrono::Duration::minutes(1));
    assert!(latest.windows(2).all(|w| w[0].open_time < w[1].open_time));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(refusals(&h).await, (0, 0), "the limiter never overshoots");
}

#[tokio::test]
async fn ticker_orderbook_instruments_and_trades() {
    let h = replay(|_| {}).await;
    let c = client(&h);
    let (btc, eth, xrp) = (market("KRW-BTC"), market("KRW-ETH"), market("KRW-XRP"));
    let tickers = c.tickers(&[btc.clone(), eth.clone()]).await.unwrap();
    assert_eq!(tickers.len(), 2);
    assert_eq!(tickers[1].market, eth);
    let last = c
        .trades(&TradesQuery::latest(btc.clone(), 1))
        .await
        .unwrap();
    assert_eq!(tickers[0].trade_price, last[0].price);
    assert_eq!(
        tickers[0].opening_price.get(),
        real("KRW-BTC", t(0, 0), t(0, 1))[0]
    );
    assert_eq!(
        tickers[0].signed_change_price,
        tickers[0].trade_price.get() - tickers[0].prev_closing_price.get()
    );
    let all = c.raw().ticker_all(&[Currency::krw()]).await.unwrap();
    assert_eq!(all.len(), 3);

    let books = c
        .orderbooks(&[btc.clone(), xrp.clone()], Some(5))
        .await
        .unwrap();
    assert_eq!(books.len(), 2);
    for b in &books {
        assert_eq!((b.asks.len(), b.bids.len()), (5, 5));
        assert!(b.asks.windows(2).all(|w| w[0].price < w[1].price));
        assert!(b.bids.windows(2).all(|w| w[0].price > w[1].price));
        assert!(b.bids[0].price < b.asks[0].price);
        let total: Decimal = b.asks.iter().map(|l| l.size.get()).sum();
        assert_eq!(b.total_ask_size.get(), total);
    }
    let full = c.orderbook(&xrp).await.unwrap();
    assert_eq!(full.asks.len(), 30);
    let inst = c.instruments(&[btc.clone(), xrp.clone()]).await.unwrap();
    assert_eq!(inst[0].tick_size.get(), dec!(1000));
    assert_eq!(inst[1].tick_size.get(), Decimal::ONE);
    assert_eq!(inst[0].supported_levels[1], dec!(10000));
    // Every level is on the instrument's tick.
    for l in full.asks.iter().chain(&full.bids) {
        assert!((l.price.get() % inst[1].tick_size.get()).is_zero());
    }

    // Trades page backwards with the cursor; older days are empty.
    let page1 = c
        .trades(&TradesQuery::latest(btc.clone(), 50))
        .await
        .unwrap();
    assert_eq!(page1.len(), 50);
    assert!(
        page1
            .windows(2)
            .all(|w| w[0].sequential_id > w[1].sequential_id)
    );
    let mut q = TradesQuery::latest(btc.clone(), 50);
    q.cursor = Some(page1[49].sequential_id);
    let page2 = c.trades(&q).await.unwrap();
    assert!(page2[0].sequential_id < page1[49].sequential_id);
    assert!(page2[0].traded_at <= page1[49].traded_at);
    let mut q = TradesQuery::latest(btc.clone(), 5);
    q.to = Some("01:00:00".to_owned());
    let early = c.trades(&q).await.unwrap();
    assert!(early.iter().all(|tr| tr.traded_at < t(1, 0)));
    let mut q = TradesQuery::latest(btc, 5);
    q.days_ago = Some(1);
    assert!(c.trades(&q).await.unwrap().is_empty());
}

#[tokio::test]
async fn accounts_and_every_auth_failure() {
    let h = replay(|c| {
        let mut expired = AccountSpec::new("expired-key", SK, &[]);
        expired.expires_at = Some(t(2, 0));
        let mut ip_bound = AccountSpec::new("ip-key", SK, &[]);
        ip_bound.allowed_ips = vec!["10.9.8.7".parse::<IpAddr>().unwrap()];
        let mut trade_only = AccountSpec::new("trade-only", SK, &[]);
        trade_only.permissions = Some(vec!["make_orders".to_owned()]);
        c.accounts.extend([expired, ip_bound, trade_only]);
    })
    .await;
    let balances = signed(&h, AK, SK).accounts().await.unwrap();
    assert_eq!(balances.len(), 2);
    assert_eq!(balances[0].currency, Currency::krw());
    assert_eq!(balances[0].balance, dec!(1000000));
    assert_eq!(balances[1].balance, dec!(0.5));
    assert_eq!(balances[1].avg_buy_price, None);
    // HS512 tokens are accepted too.
    let cred = Credential::new(AK, Secret::new(SK))
        .unwrap()
        .with_algorithm(JwtAlgorithm::Hs512);
    let hs512 = UpbitClient::new(transport(config(&h)).with_credential(cred));
    assert_eq!(hs512.accounts().await.unwrap().len(), 2);

    for (ak, sk, want, category, status) in [
        (
            AK,
            "wrong-secret",
            ApiErrorKind::JwtVerification,
            ErrorCategory::Auth,
            401,
        ),
        (
            "unknown-key",
            SK,
            ApiErrorKind::InvalidAccessKey,
            ErrorCategory::Auth,
            401,
        ),
        (
            "expired-key",
            SK,
            ApiErrorKind::ExpiredAccessKey,
            ErrorCategory::Auth,
            401,
        ),
        (
            "ip-key",
            SK,
            ApiErrorKind::NoAuthorizationIp,
            ErrorCategory::Permission,
            401,
        ),
        (
            "trade-only",
            SK,
            ApiErrorKind::OutOfScope,
            ErrorCategory::Permission,
            403,
        ),
    ] {
        let err = signed(&h, ak, sk).accounts().await.unwrap_err();
        assert_eq!(kind(&err), want, "{ak}: {err}");
        assert_eq!(err.category(), category, "{ak}");
        assert!(!err.is_retryable(), "{ak}");
        assert!(
            matches!(err, UpbitError::Api { status: s, .. } if s == status),
            "{err:?}"
        );
    }
    // An unsigned private call.
    let t = transport(config(&h));
    let err = t
        .request::<Value>(&ApiRequest::get("/v1/accounts", RateGroup::Default))
        .await
        .unwrap_err();
    assert_eq!(kind(&err), ApiErrorKind::NoAuthorizationToken);
    // A signed call on a transport without a credential fails locally.
    let err = t
        .request::<Value>(&ApiRequest::get("/v1/accounts", RateGroup::Default).signed())
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Local);
}

#[tokio::test]
async fn quotation_errors_are_typed() {
    let h = replay(|_| {}).await;
    let c = client(&h);
    let err = c
        .candles(&market("KRW-DOGE"), CandleInterval::Days, None, 1)
        .await
        .unwrap_err();
    assert_eq!(kind(&err), ApiErrorKind::Quotation(404));
    assert_eq!(err.category(), ErrorCategory::NotFound);
    let err = c.tickers(&[market("KRW-NOPE")]).await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::NotFound);
    for params in [
        Params::new().push("market", "KRW-BTC").push("count", "abc"),
        Params::new().push("count", "5"),
        Params::new()
            .push("market", "KRW-BTC")
            .push("to", "yesterday"),
    ] {
        let err = c
            .transport()
            .request::<Value>(
                &ApiRequest::get("/v1/candles/minutes/1", RateGroup::Candles).params(params),
            )
            .await
            .unwrap_err();
        assert_eq!(kind(&err), ApiErrorKind::Quotation(400), "{err}");
        assert_eq!(err.category(), ErrorCategory::BadRequest);
    }
    let err = c
        .transport()
        .request::<Value>(&ApiRequest::get("/v1/no/such/path", RateGroup::Default))
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::NotFound);
}

#[tokio::test]
async fn injected_faults_map_to_retry_classes() {
    let h = replay(|_| {}).await;
    let btc = [market("KRW-BTC")];
    let c = client(&h);

    admin(&h, "/faults", Some(json!({"error_rate": 1.0}))).await;
    let err = c.tickers(&btc).await.unwrap_err();
    assert!(
        matches!(err, UpbitError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable() && err.outcome_unknown());

    // One 429: the group pauses for the server's Retry-After, then the retry succeeds.
    admin(&h, "/faults", Some(json!({"reset": true, "force_429": 1}))).await;
    let started = Instant::now();
    assert_eq!(c.tickers(&btc).await.unwrap().len(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // More 429s than attempts: a RateLimited error naming the group.
    admin(&h, "/faults", Some(json!({"force_429": 10}))).await;
    let err = client(&h).tickers(&btc).await.unwrap_err();
    assert!(
        matches!(
            err,
            UpbitError::RateLimited {
                group: Some(RateGroup::Ticker),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.category(), ErrorCategory::RateLimited);

    // Latency beyond the client's timeout.
    admin(
        &h,
        "/faults",
        Some(json!({"reset": true, "latency_ms": 800})),
    )
    .await;
    let mut cfg = config(&h);
    cfg.timeout = Duration::from_millis(250);
    cfg.retry.max_attempts = 1;
    let slow = UpbitClient::new(transport(cfg));
    let err = slow.tickers(&btc).await.unwrap_err();
    assert!(
        matches!(
            err,
            UpbitError::Transport {
                timeout: true,
                maybe_sent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.category(), ErrorCategory::Transient);
    admin(&h, "/faults", Some(json!({"reset": true}))).await;
    assert_eq!(c.tickers(&btc).await.unwrap().len(), 1);
}

/// A replay whose rate windows run on a frozen wall clock: every request
/// falls into the same one-second window, deterministically.
async fn frozen_windows(block_after: u32) -> SimHandle {
    replay(|c| {
        c.wall_clock = Arc::new(upbit::TestClock::new(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap(),
        ));
        c.rate.block_after = block_after;
        c.rate.block_base_secs = 60;
    })
    .await
}

#[tokio::test]
async fn a_418_block_stops_every_group_until_it_ends() {
    let h = frozen_windows(1).await;
    let btc = [market("KRW-BTC")];
    // Process A uses the IP's whole ticker window...
    let a = client(&h);
    let all = join_all((0..10).map(|_| a.tickers(&btc))).await;
    assert!(all.iter().all(Result::is_ok));
    // ...process B on the same IP cannot know and is blocked.
    let b = client(&h);
    let err = b.tickers(&btc).await.unwrap_err();
    assert!(
        matches!(err, UpbitError::Blocked { retry_after: Some(d), .. } if d == Duration::from_mins(1)),
        "{err:?}"
    );
    assert_eq!(err.category(), ErrorCategory::Blocked);
    assert!(!err.is_retryable());
    assert_eq!(refusals(&h).await, (0, 1));
    // B now refuses every group locally, without asking the server.
    let err = b
        .candles(&btc[0], CandleInterval::Days, None, 1)
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Blocked);
    assert!(b.transport().limiter().blocked_until().is_some());
    assert_eq!(refusals(&h).await, (0, 1), "nothing was sent");
    // A learns of the block from the server on its next call.
    let err = a
        .candles(&btc[0], CandleInterval::Days, None, 1)
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Blocked);
    assert_eq!(refusals(&h).await, (0, 2));
}

#[tokio::test]
async fn a_busy_client_stays_within_the_limits() {
    let h = replay(|_| {}).await;
    let c = signed(&h, AK, SK);
    let btc = [market("KRW-BTC")];
    let started = Instant::now();
    let (quotes, private) = tokio::join!(
        join_all((0..25).map(|_| c.tickers(&btc))),
        join_all((0..35).map(|_| c.accounts())),
    );
    assert!(quotes.iter().all(Result::is_ok));
    assert!(private.iter().all(Result::is_ok));
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "25 tickers need three windows: {:?}",
        started.elapsed()
    );
    assert_eq!(refusals(&h).await, (0, 0));
}

#[tokio::test]
async fn an_over_eager_client_is_refused_and_stops_the_group() {
    let h = frozen_windows(1000).await;
    let btc = [market("KRW-BTC")];
    // This client believes the order-book group allows 50 calls a second.
    let mut cfg = config(&h);
    cfg.limits = RateLimits::default().with_limit(RateGroup::Orderbook, Limit::per_second(50));
    cfg.retry.max_attempts = 1;
    let eager = UpbitClient::new(transport(cfg));
    let all = join_all((0..25).map(|_| eager.orderbooks(&btc, Some(1)))).await;
    let refused: Vec<&UpbitError> = all.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(refused.len(), 15);
    assert!(
        refused
            .iter()
            .all(|e| e.category() == ErrorCategory::RateLimited)
    );
    assert_eq!(refusals(&h).await, (15, 0));
    assert!(
        eager
            .transport()
            .limiter()
            .stopped_until(RateGroup::Orderbook)
            .is_some()
    );
    // Other groups carry on.
    assert_eq!(eager.tickers(&btc).await.unwrap().len(), 1);
}

async fn next_event(rx: &mut mpsc::Receiver<WsEvent>) -> WsEvent {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event within 5 s")
        .expect("the task is running")
}

async fn until_event(rx: &mut mpsc::Receiver<WsEvent>, pred: impl Fn(&WsEvent) -> bool) -> WsEvent {
    loop {
        let e = next_event(rx).await;
        if pred(&e) {
            return e;
        }
    }
}

fn ws_config(mut c: WsConfig) -> WsConfig {
    c.reconnect_initial = Duration::from_millis(50);
    c.reconnect_max = Duration::from_millis(200);
    c.ping_interval = Duration::from_millis(500);
    c
}

#[tokio::test]
async fn public_streams_with_reconnect_resubscribe_and_gap() {
    let h = replay(|_| {}).await;
    let urls = UpbitUrls::new(&h.base_url(), &h.ws_url()).unwrap();
    let (btc, eth, xrp) = (market("KRW-BTC"), market("KRW-ETH"), market("KRW-XRP"));
    let subs = vec![
        Subscription::ticker(vec![btc.clone()]),
        Subscription::trade(vec![eth.clone()]),
        Subscription::orderbook(vec![xrp.clone()]),
        Subscription::candle(CandleInterval::Minutes(MinuteUnit::M1), vec![btc.clone()]),
    ];
    let limiter = Arc::new(RateLimiter::new(
        RateLimits::default(),
        SystemClock::shared(),
    ));
    let (handle, mut rx) = UpbitWebSocket::spawn(
        ws_config(WsConfig::public(&urls, subs)),
        limiter,
        SystemClock::shared(),
    )
    .unwrap();
    assert!(matches!(
        next_event(&mut rx).await,
        WsEvent::Connected { .. }
    ));
    let mut got = [false; 4];
    while !got.iter().all(|g| *g) {
        match next_event(&mut rx).await {
            WsEvent::Message(WsMessage::Ticker { ticker, stream }) => {
                assert_eq!(
                    (ticker.market.as_str(), stream),
                    ("KRW-BTC", StreamType::Snapshot)
                );
                got[0] = true;
            }
            WsEvent::Message(WsMessage::Trade { trade, .. }) => {
                assert_eq!(trade.market, eth);
                got[1] = true;
            }
            WsEvent::Message(WsMessage::Orderbook { orderbook, .. }) => {
                assert_eq!(
                    (orderbook.market.as_str(), orderbook.asks.len()),
                    ("KRW-XRP", 30)
                );
                got[2] = true;
            }
            WsEvent::Message(WsMessage::Candle { candle, .. }) => {
                assert_eq!(candle.open_time, t(2, 59));
                got[3] = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Realtime after the clock moves.
    h.step(chrono::Duration::seconds(30)).unwrap();
    until_event(&mut rx, |e| {
        matches!(
            e,
            WsEvent::Message(WsMessage::Trade {
                stream: StreamType::Realtime,
                ..
            })
        )
    })
    .await;
    // The server drops every connection: reconnect, resubscribe, report the gap.
    admin(&h, "/faults", Some(json!({"drop_ws": true}))).await;
    assert!(matches!(
        until_event(&mut rx, |e| matches!(e, WsEvent::Disconnected { .. })).await,
        WsEvent::Disconnected { .. }
    ));
    let WsEvent::Reconnected { gap, .. } =
        until_event(&mut rx, |e| matches!(e, WsEvent::Reconnected { .. })).await
    else {
        unreachable!()
    };
    assert!(gap.from <= gap.to);
    until_event(&mut rx, |e| {
        matches!(
            e,
            WsEvent::Message(WsMessage::Ticker {
                stream: StreamType::Snapshot,
                ..
            })
        )
    })
    .await;
    handle.close().await;
}

#[tokio::test]
async fn private_streams_report_own_orders_and_balances() {
    let h = replay(|_| {}).await;
    let urls = UpbitUrls::new(&h.base_url(), &h.ws_url()).unwrap();
    let cred = Credential::new(AK, Secret::new(SK)).unwrap();
    let limiter = Arc::new(RateLimiter::new(
        RateLimits::default(),
        SystemClock::shared(),
    ));
    let (handle, mut rx) = UpbitWebSocket::spawn(
        ws_config(WsConfig::private(
            &urls,
            cred.clone(),
            vec![Subscription::my_order(vec![]), Subscription::my_asset()],
        )),
        limiter.clone(),
        SystemClock::shared(),
    )
    .unwrap();
    assert!(matches!(
        next_event(&mut rx).await,
        WsEvent::Connected { .. }
    ));
    // Place a resting bid through the signed transport.
    let t = transport(config(&h)).with_credential(cred);
    let book = client(&h).orderbook(&market("KRW-XRP")).await.unwrap();
    let price = book.bids[0].price.get() - Decimal::TEN;
    let body = Params::new()
        .push("market", "KRW-XRP")
        .push("side", "bid")
        .push("volume", "10")
        .push("price", price)
        .push("ord_type", "limit");
    let order: Value = t
        .request(
            &ApiRequest::post("/v1/orders", RateGroup::Order)
                .params(body)
                .signed(),
        )
        .await
        .unwrap();
    let uuid = order["uuid"].as_str().unwrap().to_owned();
    let WsEvent::Message(WsMessage::MyOrder(o)) = until_event(&mut rx, |e| {
        matches!(e, WsEvent::Message(WsMessage::MyOrder(_)))
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(
        (o.uuid.as_str(), o.state),
        (uuid.as_str(), MyOrderState::Wait)
    );
    assert_eq!(o.price, Some(price));
    let WsEvent::Message(WsMessage::MyAsset(a)) = until_event(&mut rx, |e| {
        matches!(e, WsEvent::Message(WsMessage::MyAsset(_)))
    })
    .await
    else {
        unreachable!()
    };
    let locked = price * Decimal::TEN * dec!(1.0005);
    assert_eq!(a.assets[0].currency, Currency::krw());
    assert_eq!(
        (a.assets[0].balance, a.assets[0].locked),
        (dec!(1000000) - locked, locked)
    );
    let _: Value = t
        .request(
            &ApiRequest::delete("/v1/order", RateGroup::Default)
                .params(Params::new().push("uuid", &uuid))
                .signed(),
        )
        .await
        .unwrap();
    let WsEvent::Message(WsMessage::MyOrder(o)) = until_event(&mut rx, |e| {
        matches!(e, WsEvent::Message(WsMessage::MyOrder(_)))
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(o.state, MyOrderState::Cancel);
    handle.close().await;

    // A wrong secret: the server's INVALID_AUTH, then the connection drops.
    let bad = Credential::new(AK, Secret::new("wrong")).unwrap();
    let (handle, mut rx) = UpbitWebSocket::spawn(
        ws_config(WsConfig::private(
            &urls,
            bad,
            vec![Subscription::my_asset()],
        )),
        limiter,
        SystemClock::shared(),
    )
    .unwrap();
    let e = until_event(&mut rx, |e| {
        matches!(e, WsEvent::Message(WsMessage::Error { .. }))
    })
    .await;
    assert!(matches!(e, WsEvent::Message(WsMessage::Error { name, .. }) if name == "INVALID_AUTH"));
    assert!(matches!(
        until_event(&mut rx, |e| matches!(e, WsEvent::Disconnected { .. })).await,
        WsEvent::Disconnected { .. }
    ));
    handle.close().await;
}
