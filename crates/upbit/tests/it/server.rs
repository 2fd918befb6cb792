//! A tiny in-process HTTP server that answers with recorded Upbit payloads
//! and records every request it receives (method, path, raw query, headers,
//! body) so tests can assert what the client sent.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Recorded {
    /// A query parameter, percent-decoded (first occurrence).
    pub(crate) fn param(&self, key: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

/// The answer to one request.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) delay: Duration,
}

impl Reply {
    pub(crate) fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json; charset=utf-8".to_owned())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "text/plain".to_owned())],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub(crate) fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

type Handler = Arc<dyn Fn(&Recorded, usize) -> Reply + Send + Sync>;

/// A running server.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    /// Starts a server; `handler(request, n)` gets the request and how many
    /// requests came before it.
    pub(crate) async fn start(
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        let app = {
            let log = log.clone();
            Router::new().fallback(
                move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let log = log.clone();
                    let handler = handler.clone();
                    async move {
                        let rec = Recorded {
                            method,
                            path: uri.path().to_owned(),
                            query: uri.query().map(str::to_owned),
                            headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        };
                        let n = {
                            let mut l = log.lock().unwrap();
                            l.push(rec.clone());
                            l.len() - 1
                        };
                        let reply = handler(&rec, n);
                        if !reply.delay.is_zero() {
                            tokio::time::sleep(reply.delay).await;
                        }
                        let mut resp: Response =
                            (StatusCode::from_u16(reply.status).unwrap(), reply.body)
                                .into_response();
                        for (k, v) in reply.headers {
                            resp.headers_mut().insert(k, v.parse().unwrap());
                        }
                        resp
                    }
                },
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, log }
    }

    /// The REST base URL.
    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}
