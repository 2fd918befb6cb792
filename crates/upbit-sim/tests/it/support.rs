//! Helpers: start an in-process simulator on port 0 (frozen clock, frozen
//! wall clock), sign JWTs with `jsonwebtoken` directly, call the REST API.

use std::{path::PathBuf, str::FromStr, sync::Arc};

use chrono::{DateTime, Duration, TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode, header::HeaderMap};
use runtime::TestClock;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};
use upbit_sim::{AccountSpec, MarketSource, SimConfig, SimHandle, Simulator};

/// The real-data slice (see `tests/data/README.md`).
pub(crate) fn data_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/upbit_krw_3mkts_1m_2025-09-01_5h.csv")
}

/// 2025-09-01T03:00:00Z — three hours into the data.
pub(crate) fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 3, 0, 0).single().unwrap()
}

/// A running simulator plus a client.
pub(crate) struct Sim {
    pub(crate) handle: SimHandle,
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) wall: TestClock,
    nonce: std::sync::atomic::AtomicU64,
}

/// A replay config over the real slice: frozen sim clock, frozen wall clock,
/// no rate limits.
pub(crate) fn replay_config() -> (SimConfig, TestClock) {
    let wall = TestClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap());
    let mut c = SimConfig::new(MarketSource::Files(vec![data_file()]));
    c.speed = 0.0;
    c.start = Some(start_time());
    c.wall_clock = Arc::new(wall.clone());
    c.rate.enabled = false;
    c.seed = 42;
    (c, wall)
}

pub(crate) async fn start(config: SimConfig, wall: TestClock) -> Sim {
    let handle = Simulator::start(config).await.expect("simulator starts");
    let base = handle.base_url();
    Sim {
        handle,
        http: reqwest::Client::new(),
        base,
        wall,
        nonce: std::sync::atomic::AtomicU64::new(1),
    }
}

pub(crate) async fn replay() -> Sim {
    let (c, wall) = replay_config();
    start(c, wall).await
}

/// An API key pair.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) access: String,
    pub(crate) secret: String,
}

impl Key {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            access: format!("access-{name}"),
            secret: format!("secret-{name}-0123456789"),
        }
    }
}

pub(crate) fn sha512(s: &str) -> String {
    hex::encode(Sha512::digest(s.as_bytes()))
}

/// Signs a JWT for `hashed` (the parameter string; `None` = no parameters).
pub(crate) fn sign(key: &Key, nonce: &str, hashed: Option<&str>, alg: Algorithm) -> String {
    let mut claims = json!({ "access_key": key.access, "nonce": nonce });
    if let Some(h) = hashed {
        claims["query_hash"] = json!(sha512(h));
        claims["query_hash_alg"] = json!("SHA512");
    }
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(key.secret.as_bytes()),
    )
    .unwrap()
}

/// A decoded response.
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Resp {
    pub(crate) fn error_name(&self) -> String {
        match &self.body["error"]["name"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    pub(crate) fn remaining(&self) -> String {
        self.headers
            .get("remaining-req")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

pub(crate) fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap(),
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .unwrap(),
        other => panic!("not a decimal: {other}"),
    }
}

/// Percent-encodes a query value the way clients do.
pub(crate) fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_owned()
}

impl Sim {
    pub(crate) fn next_nonce(&self) -> String {
        let n = self
            .nonce
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("nonce-{n}-{}", self.base)
    }

    async fn read(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A public GET (`path_and_query` starts with `/v1/`).
    pub(crate) async fn get(&self, path_and_query: &str) -> Resp {
        Self::read(
            self.http
                .get(format!("{}{path_and_query}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A raw request with an optional bearer token and body.
    pub(crate) async fn raw(
        &self,
        method: Method,
        path_and_query: &str,
        token: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{path_and_query}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if let Some((ct, b)) = body {
            req = req.header("Content-Type", ct).body(b);
        }
        Self::read(req.send().await.unwrap()).await
    }

    /// A signed private call: GET/DELETE parameters in the query string,
    /// POST parameters as a JSON body (hash over `k=v&…` in body order).
    pub(crate) async fn private(
        &self,
        key: &Key,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
    ) -> Resp {
        let hashed: String = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let hashed_opt = (!params.is_empty()).then_some(hashed.as_str());
        let token = sign(key, &self.next_nonce(), hashed_opt, Algorithm::HS256);
        if method == Method::POST {
            // The JSON body keeps the parameters in hash order.
            self.raw(
                method,
                path,
                Some(&token),
                Some(("application/json; charset=utf-8", json_object(params))),
            )
            .await
        } else {
            let q: String = params
                .iter()
                .map(|(k, v)| format!("{k}={}", enc(v)))
                .collect::<Vec<_>>()
                .join("&");
            let pq = if q.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{q}")
            };
            self.raw(method, &pq, Some(&token), None).await
        }
    }

    pub(crate) fn add_account(&self, key: &Key, balances: &[(&str, &str)]) {
        self.handle
            .add_account(&AccountSpec::new(&key.access, &key.secret, balances))
            .unwrap();
    }

    /// Advances sim time (and processes the replay in between).
    pub(crate) fn step(&self, secs: i64) {
        self.handle.step(Duration::seconds(secs)).unwrap();
    }

    /// Balance `(balance, locked, avg_buy_price)` of a currency.
    pub(crate) async fn balance(&self, key: &Key, currency: &str) -> (Decimal, Decimal, Decimal) {
        let r = self.private(key, Method::GET, "/v1/accounts", &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["currency"] == currency)
            .map_or((Decimal::ZERO, Decimal::ZERO, Decimal::ZERO), |a| {
                (
                    dec(&a["balance"]),
                    dec(&a["locked"]),
                    dec(&a["avg_buy_price"]),
                )
            })
    }

    pub(crate) async fn order(&self, key: &Key, uuid: &str) -> Value {
        let r = self
            .private(key, Method::GET, "/v1/order", &[("uuid", uuid)])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    /// The merged order book `(asks, bids)` as `(price, size)`.
    pub(crate) async fn book(
        &self,
        market: &str,
    ) -> (Vec<(Decimal, Decimal)>, Vec<(Decimal, Decimal)>) {
        let r = self.get(&format!("/v1/orderbook?markets={market}")).await;
        let units = r.body[0]["orderbook_units"].as_array().unwrap().clone();
        let asks = units
            .iter()
            .map(|u| (dec(&u["ask_price"]), dec(&u["ask_size"])))
            .collect();
        let bids = units
            .iter()
            .map(|u| (dec(&u["bid_price"]), dec(&u["bid_size"])))
            .collect();
        (asks, bids)
    }
}

/// `{"k":"v",…}` with the keys in the given order (the order the hash uses).
pub(crate) fn json_object(params: &[(&str, &str)]) -> String {
    format!(
        "{{{}}}",
        params
            .iter()
            .map(|(k, v)| format!("{}:{}", json!(k), json!(v)))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// `k=v&…` without encoding (what the client hashes).
pub(crate) fn hash_input(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Starts a replay simulator after `edit` changed its configuration.
pub(crate) async fn replay_with(edit: impl FnOnce(&mut SimConfig)) -> Sim {
    let (mut c, wall) = replay_config();
    edit(&mut c);
    start(c, wall).await
}

impl Sim {
    /// A signed call whose parameters travel in a body of `content_type`
    /// (`form`: `k=v&…` url-encoded; `json`: a JSON object), whatever the method.
    pub(crate) async fn private_body(
        &self,
        key: &Key,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        json_body: bool,
    ) -> Resp {
        let token = sign(
            key,
            &self.next_nonce(),
            Some(&hash_input(params)),
            Algorithm::HS256,
        );
        let body = if json_body {
            ("application/json", json_object(params))
        } else {
            (
                "application/x-www-form-urlencoded",
                params
                    .iter()
                    .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            )
        };
        self.raw(method, path, Some(&token), Some(body)).await
    }

    /// `POST /v1/orders` with `params` (JSON body); asserts nothing.
    pub(crate) async fn create(&self, key: &Key, params: &[(&str, &str)]) -> Resp {
        self.private(key, Method::POST, "/v1/orders", params).await
    }

    /// Creates an order that must be accepted; returns its uuid.
    pub(crate) async fn place(&self, key: &Key, params: &[(&str, &str)]) -> String {
        let r = self.create(key, params).await;
        assert_eq!(r.status, StatusCode::CREATED, "{params:?}: {}", r.body);
        r.body["uuid"].as_str().unwrap().to_owned()
    }

    /// An admin call under `/_sim`.
    pub(crate) async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}/_sim{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.unwrap()).await
    }

    /// Adds an account through `POST /_sim/accounts` with extra fields.
    pub(crate) async fn admin_account(&self, spec: Value) -> Resp {
        self.admin(Method::POST, "/accounts", Some(spec)).await
    }
}
