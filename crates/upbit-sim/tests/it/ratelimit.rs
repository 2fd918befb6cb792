//! Rate limits over HTTP: `Remaining-Req` per group counting down, 429 when
//! a window is used up (Quotation per IP, Exchange per key), 418 with a
//! growing block after continued 429s, the 1-per-2-s cancel-all group and
//! the `Origin` policy. Windows run on the simulator's (frozen) wall clock.

use chrono::Duration;
use reqwest::{Method, StatusCode};

use crate::support::{Key, Sim, replay_with};

async fn limited(block_after: u32) -> Sim {
    replay_with(|c| {
        c.rate.enabled = true;
        c.rate.block_after = block_after;
        c.rate.block_base_secs = 60;
    })
    .await
}

#[tokio::test]
async fn quotation_windows_then_429_then_418() {
    let sim = limited(3).await;
    for left in (0..10).rev() {
        let r = sim.get("/v1/ticker?markets=KRW-BTC").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.remaining(), format!("group=ticker; min=600; sec={left}"));
    }
    let r = sim.get("/v1/ticker?markets=KRW-BTC").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.error_name(), "429");
    assert_eq!(r.remaining(), "group=ticker; min=600; sec=0");
    assert_eq!(r.headers.get("retry-after").unwrap(), "1");
    // Groups are independent (and an allowed request ends the 429 streak).
    let r = sim.get("/v1/candles/minutes/1?market=KRW-BTC").await;
    assert_eq!(r.remaining(), "group=candles; min=600; sec=9");
    // Three 429s in a row block the IP for every group.
    for _ in 0..2 {
        assert_eq!(
            sim.get("/v1/ticker?markets=KRW-BTC").await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let r = sim.get("/v1/ticker?markets=KRW-BTC").await;
    assert_eq!(r.status, StatusCode::IM_A_TEAPOT, "{}", r.body);
    assert_eq!(r.error_name(), "418");
    assert_eq!(r.headers.get("retry-after").unwrap(), "60");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("60 seconds")
    );
    let r = sim.get("/v1/market/all").await;
    assert_eq!(r.status, StatusCode::IM_A_TEAPOT);
    // The block ends; the windows start over.
    sim.wall.advance(Duration::seconds(61));
    let r = sim.get("/v1/ticker?markets=KRW-BTC").await;
    assert_eq!(
        (r.status, r.remaining()),
        (StatusCode::OK, "group=ticker; min=600; sec=9".to_owned())
    );
    // The next block lasts twice as long.
    for _ in 0..9 {
        sim.get("/v1/ticker?markets=KRW-BTC").await;
    }
    for _ in 0..2 {
        sim.get("/v1/ticker?markets=KRW-BTC").await;
    }
    let r = sim.get("/v1/ticker?markets=KRW-BTC").await;
    assert_eq!(r.status, StatusCode::IM_A_TEAPOT);
    assert_eq!(r.headers.get("retry-after").unwrap(), "120");
}

#[tokio::test]
async fn exchange_windows_count_per_key_and_group() {
    let sim = limited(10).await;
    let a = Key::new("rate-a");
    let b = Key::new("rate-b");
    sim.add_account(&a, &[("KRW", "1000000")]);
    sim.add_account(&b, &[("KRW", "1000000")]);
    for left in (0..30).rev() {
        let r = sim.private(&a, Method::GET, "/v1/accounts", &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.remaining(),
            format!("group=default; min=1800; sec={left}")
        );
    }
    let r = sim.private(&a, Method::GET, "/v1/orders/open", &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.remaining(), "group=default; min=1800; sec=0");
    // Another key has its own budget; the order group is separate.
    let r = sim.private(&b, Method::GET, "/v1/accounts", &[]).await;
    assert_eq!(r.remaining(), "group=default; min=1800; sec=29");
    let bad = [("market", "KRW-XRP"), ("side", "nope")];
    for left in (0..12).rev() {
        let r = sim.create(&a, &bad).await;
        assert_eq!(r.error_name(), "validation_error");
        assert_eq!(r.remaining(), format!("group=order; min=720; sec={left}"));
    }
    assert_eq!(
        sim.create(&a, &bad).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Batch cancel of open orders: one call per two seconds.
    let r = sim
        .private(&b, Method::DELETE, "/v1/orders/open", &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.remaining(), "group=order-cancel-all; min=30; sec=0");
    let r = sim
        .private(&b, Method::DELETE, "/v1/orders/open", &[])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    sim.wall.advance(Duration::seconds(2));
    let r = sim
        .private(&b, Method::DELETE, "/v1/orders/open", &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A new second: key A's default window is full again.
    let r = sim.private(&a, Method::GET, "/v1/accounts", &[]).await;
    assert_eq!(r.remaining(), "group=default; min=1800; sec=29");
}

#[tokio::test]
async fn an_origin_header_drops_quotation_to_one_call_per_ten_seconds() {
    let sim = limited(10).await;
    let call = || {
        sim.http
            .get(format!("{}/v1/ticker?markets=KRW-BTC", sim.base))
            .header("Origin", "https://example.com")
            .send()
    };
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        call().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Without the header the ticker group still has budget.
    assert_eq!(
        sim.get("/v1/ticker?markets=KRW-BTC").await.status,
        StatusCode::OK
    );
    sim.wall.advance(Duration::seconds(10));
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
}
