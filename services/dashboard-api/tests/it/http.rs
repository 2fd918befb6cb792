//! Over real HTTP (a socket, reqwest): the SSE action log (live events,
//! resumption with `Last-Event-ID` and `?last_event_id=` without loss or
//! repetition, keep-alive comments), the login limit per client address, and
//! the web UI with its SPA fallback and security headers.

use std::{net::SocketAddr, time::Duration};

use futures_util::StreamExt;
use http::StatusCode;
use serde_json::{Value, json};
use storage::events::{EventLevel, NewEvent};

use crate::support::{Db, Options, PASSWORD, TestApp, both};

/// Serves `app` on a loopback port; returns its base URL.
async fn serve(app: &TestApp, web_dir: Option<&std::path::Path>) -> String {
    let router = dashboard_api::app(app.state.clone(), web_dir);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

/// A client that sends the session cookie, and the CSRF token.
async fn login(base: &str) -> (reqwest::Client, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    (client, csrf)
}

/// One parsed SSE frame: `(id, event, data)`, or a comment.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    Event { id: i64, event: String, data: Value },
    Comment(String),
}

/// Reads frames from an SSE response until `want` returns true (or 10 s).
struct SseReader {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl SseReader {
    fn new(r: reqwest::Response) -> Self {
        Self {
            stream: Box::pin(r.bytes_stream()),
            buf: String::new(),
        }
    }

    async fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..i + 2).collect();
                let mut id = None;
                let mut event = String::new();
                let mut data = String::new();
                let mut comment = None;
                for line in block.lines() {
                    if let Some(c) = line.strip_prefix(':') {
                        comment = Some(c.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        v.clone_into(&mut event);
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if let Some(id) = id {
                    return Some(Frame::Event {
                        id,
                        event,
                        data: serde_json::from_str(&data).unwrap(),
                    });
                }
                if let Some(c) = comment {
                    return Some(Frame::Comment(c));
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .ok()??
                .ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// True when the stream ends (the server closed it) within `within`;
    /// false when it is still open then (keep-alives keep arriving).
    async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_))) => return true,
                Ok(Some(Ok(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
            }
        }
    }

    /// The next `n` events (skipping comments).
    async fn events(&mut self, n: usize) -> Vec<(i64, String, Value)> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.next().await.expect("stream ended early") {
                Frame::Event { id, event, data } => out.push((id, event, data)),
                Frame::Comment(_) => {}
            }
        }
        out
    }
}

async fn append(app: &TestApp, n: usize, tag: &str) {
    for i in 0..n {
        app.store
            .events()
            .append(&NewEvent {
                ts: app.clock_now(),
                trader_id: None,
                level: EventLevel::Info,
                kind: "test".to_owned(),
                message: format!("{tag} {i}"),
                data: json!({"tag": tag, "i": i}),
            })
            .await
            .unwrap();
    }
}

async fn sse_stream_resumes_without_loss(db: Db) {
    let mut opts = Options::default();
    opts.settings.sse_keep_alive = Duration::from_millis(300);
    let app = TestApp::with(db, opts).await;
    append(&app, 3, "history").await;
    let base = serve(&app, None).await;
    let (client, csrf) = login(&base).await;

    // Without a session: 401.
    let r = reqwest::get(format!("{base}/api/v1/events/stream"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Fresh connection: only new events.
    let r = client
        .get(format!("{base}/api/v1/events/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut sse = SseReader::new(r);
    assert_eq!(
        sse.next().await,
        Some(Frame::Comment("connected".to_owned()))
    );
    append(&app, 4, "live").await;
    // An event written by the API itself reaches the stream too.
    let t = client
        .post(format!("{base}/api/v1/traders"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "streamed", "strategy_id": 1, "seed_krw": "500000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), StatusCode::CREATED);
    let got = sse.events(5).await;
    let msgs: Vec<&str> = got
        .iter()
        .map(|(_, _, d)| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs[..4], ["live 0", "live 1", "live 2", "live 3"]);
    assert_eq!(got[4].2["kind"], "TRADER_CREATED");
    assert_eq!(got[4].2["trader_name"], "streamed");
    for (id, event, data) in &got {
        assert_eq!(event, "action");
        assert_eq!(data["id"].as_i64(), Some(*id));
    }
    let ids: Vec<i64> = got.iter().map(|g| g.0).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // Idle: keep-alive comments.
    let mut comment = None;
    while comment.is_none() {
        if let Some(Frame::Comment(c)) = sse.next().await {
            comment = Some(c);
        }
    }
    assert_eq!(comment.as_deref(), Some("keep-alive"));
    drop(sse);

    // Missed while disconnected: resumed exactly after Last-Event-ID.
    let last = *ids.last().unwrap();
    append(&app, 3, "missed").await;
    let r = client
        .get(format!("{base}/api/v1/events/stream"))
        .header("last-event-id", last.to_string())
        .send()
        .await
        .unwrap();
    let mut sse = SseReader::new(r);
    let got = sse.events(3).await;
    let msgs: Vec<&str> = got
        .iter()
        .map(|(_, _, d)| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs, ["missed 0", "missed 1", "missed 2"]);
    assert_eq!(got[0].0, last + 1);
    append(&app, 1, "after").await;
    let got2 = sse.events(1).await;
    assert_eq!(
        got2[0].2["message"], "after 0",
        "no repeat after the backfill"
    );
    drop(sse);
    // The query form, from the very beginning.
    let r = client
        .get(format!("{base}/api/v1/events/stream?last_event_id=0"))
        .send()
        .await
        .unwrap();
    let mut sse = SseReader::new(r);
    let got = sse.events(3).await;
    let msgs: Vec<&str> = got
        .iter()
        .map(|(_, _, d)| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs, ["history 0", "history 1", "history 2"]);
    drop(sse);
    // A bad id is a 422 naming it.
    let r = client
        .get(format!("{base}/api/v1/events/stream"))
        .header("last-event-id", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["field"],
        "Last-Event-ID"
    );
    // Shutdown ends live streams (graceful HTTP shutdown can complete).
    let r = client
        .get(format!("{base}/api/v1/events/stream"))
        .send()
        .await
        .unwrap();
    let mut sse = SseReader::new(r);
    assert_eq!(
        sse.next().await,
        Some(Frame::Comment("connected".to_owned()))
    );
    app.shutdown().await;
    let mut ended = false;
    for _ in 0..20 {
        if sse.next().await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended, "the stream ends on shutdown");
}
both!(sse_stream_resumes_without_loss);

/// A live stream belongs to its session: logout ends it at once, expiry
/// within the session check; another session's stream is untouched; the
/// ended session cannot reconnect.
async fn sse_stream_ends_with_its_session(db: Db) {
    let mut opts = Options::default();
    opts.settings.sse_keep_alive = Duration::from_millis(200);
    opts.settings.sse_session_check = Duration::from_millis(100);
    let app = TestApp::with(db, opts).await;
    let base = serve(&app, None).await;
    let (alice, alice_csrf) = login(&base).await;
    let (bob, _) = login(&base).await;
    let open = |c: &reqwest::Client| c.get(format!("{base}/api/v1/events/stream")).send();
    let mut a = SseReader::new(open(&alice).await.unwrap());
    let mut b = SseReader::new(open(&bob).await.unwrap());
    for s in [&mut a, &mut b] {
        assert_eq!(s.next().await, Some(Frame::Comment("connected".to_owned())));
    }
    assert!(
        !a.ends_within(Duration::from_millis(600)).await,
        "open while logged in"
    );

    let out = alice
        .post(format!("{base}/api/v1/auth/logout"))
        .header("x-csrf-token", &alice_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        a.ends_within(Duration::from_secs(2)).await,
        "the stream ends with its session"
    );
    assert_eq!(
        open(&alice).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "and cannot be reopened"
    );
    // Bob's session and stream go on.
    append(&app, 1, "still").await;
    let got = b.events(1).await;
    assert_eq!(got[0].2["message"], "still 0");

    // Expiry (12 h) ends Bob's stream too.
    app.clock
        .advance(chrono::Duration::hours(12) + chrono::Duration::seconds(1));
    assert!(
        b.ends_within(Duration::from_secs(2)).await,
        "the stream ends when its session expires"
    );
    app.shutdown().await;
}
both!(sse_stream_ends_with_its_session);

#[tokio::test]
async fn login_limit_counts_per_client_address() {
    let app = TestApp::new(Db::Sqlite).await;
    let base = serve(&app, None).await;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let r = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": "no"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    app.shutdown().await;
}

#[tokio::test]
async fn serves_the_ui_with_spa_fallback() {
    let app = TestApp::new(Db::Sqlite).await;
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><div id=\"app\"></div>",
    )
    .unwrap();
    std::fs::create_dir(web.path().join("assets")).unwrap();
    std::fs::write(web.path().join("assets/app-1234.js"), "console.log(1)").unwrap();
    let base = serve(&app, Some(web.path())).await;
    let c = reqwest::Client::new();
    for path in ["/", "/index.html", "/traders", "/strategy/2"] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert!(r.text().await.unwrap().contains("id=\"app\""), "{path}");
    }
    let r = c
        .get(format!("{base}/assets/app-1234.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    // API paths never fall back to the UI.
    for path in ["/api/v1/nope", "/api/v2/traders", "/api/x"] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["code"],
            "not_found",
            "{path}"
        );
    }
    let r = c.get(format!("{base}/api/v1/health")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "ok", "db": "ok"})
    );
    app.shutdown().await;
}
