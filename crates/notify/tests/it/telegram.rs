//! The notifier delivers in order, filters by level, retries a 429 and never
//! puts the token in an error message.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::post,
};
use domain::{AlertLevel, Secret};
use notify::{Alert, Notifier, TelegramConfig, TelegramNotifier};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Fake {
    got: Arc<Mutex<Vec<(String, Value)>>>,
    throttle_first: Arc<Mutex<bool>>,
}

async fn send_message(
    State(f): State<Fake>,
    Path(bot): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    {
        let mut t = f.throttle_first.lock().unwrap();
        if *t {
            *t = false;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Json(
                    json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
                ),
            );
        }
    }
    f.got.lock().unwrap().push((bot, body));
    (
        StatusCode::OK,
        Json(json!({"ok": true, "result": {"message_id": 1}})),
    )
}

async fn start_fake(throttle_first: bool) -> (String, Fake) {
    let fake = Fake {
        throttle_first: Arc::new(Mutex::new(throttle_first)),
        ..Fake::default()
    };
    let app = Router::new()
        .route("/{bot}/sendMessage", post(send_message))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), fake)
}

fn config(api_url: String, min_level: AlertLevel) -> TelegramConfig {
    TelegramConfig {
        api_url,
        token: Secret::new("123:SECRET-TOKEN"),
        chat_id: "42".into(),
        min_level,
        min_interval: Duration::from_millis(10),
    }
}

async fn wait_for(f: &Fake, n: usize) -> Vec<(String, Value)> {
    for _ in 0..300 {
        if f.got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f.got.lock().unwrap().clone()
}

#[tokio::test]
async fn delivers_in_order_and_filters_by_level() {
    let (url, fake) = start_fake(false).await;
    let n = TelegramNotifier::spawn(config(url, AlertLevel::Warn));
    n.notify(Alert::new(AlertLevel::Info, "ignored", "below min level"));
    n.notify(Alert::new(AlertLevel::Warn, "first", "a").for_trader("alpha"));
    n.notify(Alert::new(AlertLevel::Critical, "second", "b"));
    let got = wait_for(&fake, 2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "bot123:SECRET-TOKEN");
    assert_eq!(got[0].1["chat_id"], "42");
    assert!(
        got[0].1["text"]
            .as_str()
            .unwrap()
            .contains("[WARN] alpha: first")
    );
    assert!(
        got[1].1["text"]
            .as_str()
            .unwrap()
            .contains("[CRITICAL] second")
    );
}

#[tokio::test]
async fn retries_after_429() {
    let (url, fake) = start_fake(true).await;
    let n = TelegramNotifier::spawn(config(url, AlertLevel::Info));
    n.notify(Alert::new(AlertLevel::Info, "hello", "after a throttle"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        fake.got.lock().unwrap().is_empty(),
        "must wait retry_after before resending"
    );
    let got = wait_for(&fake, 1).await;
    assert_eq!(got.len(), 1);
}

#[tokio::test]
async fn transport_errors_do_not_leak_the_token() {
    let http = reqwest::Client::new();
    // Nothing listens on port 9 (discard) on loopback.
    let cfg = config("http://127.0.0.1:9".into(), AlertLevel::Info);
    let err = TelegramNotifier::send_text(&http, &cfg, "x")
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert!(!err.to_string().contains("SECRET-TOKEN"), "{err}");
}
