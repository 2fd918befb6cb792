//! The HTTP surface: Upbit's `/v1/…` paths (one dispatcher so unknown paths
//! and methods also answer in Upbit's error shape), the WebSocket routes and
//! the admin API under `/_sim/`. Every `/v1` answer carries `Remaining-Req`.

/// The admin API (`/_sim/…`).
pub mod admin;
/// Exchange (private) endpoints.
pub mod exchange;
/// Quotation (public) endpoints.
pub mod quotation;

use std::{io::Write, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use flate2::{Compression, write::GzEncoder};
use rand::Rng;
use serde_json::Value;

use crate::{
    auth::Scope,
    error::ApiError,
    params::{Origin, Params},
    ratelimit::{Group, Verdict, header_value},
    server::Shared,
    units::{CandleUnit, MINUTE_UNITS},
};

/// The full router.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/{*rest}", any(api))
        .route("/websocket/v1", get(crate::ws::public))
        .route("/websocket/v1/private", get(crate::ws::private))
        .nest("/_sim", admin::router())
        .fallback(not_found)
        .with_state(shared)
}

async fn not_found() -> Response {
    error_response(
        &ApiError::quotation(StatusCode::NOT_FOUND, "Not Found"),
        None,
    )
}

/// Every `/v1` endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// GET /v1/market/all
    MarketAll,
    /// GET /v1/candles/…
    Candles(CandleUnit),
    /// GET /v1/ticker
    Ticker,
    /// GET /v1/ticker/all
    TickerAll,
    /// GET /v1/orderbook
    Orderbook,
    /// GET /v1/orderbook/instruments
    Instruments,
    /// GET /v1/trades/ticks
    Trades,
    /// GET /v1/accounts
    Accounts,
    /// GET /v1/orders/chance
    Chance,
    /// POST /v1/orders
    CreateOrder,
    /// POST /v1/orders/test
    TestOrder,
    /// GET /v1/order
    GetOrder,
    /// DELETE /v1/order
    CancelOrder,
    /// GET /v1/orders/open
    OpenOrders,
    /// GET /v1/orders/closed
    ClosedOrders,
    /// GET /v1/orders/uuids
    OrdersByIds,
    /// DELETE /v1/orders/uuids
    CancelByIds,
    /// DELETE /v1/orders/open
    CancelOpen,
    /// POST /v1/orders/cancel_and_new
    CancelAndNew,
    /// GET /v1/orders (deprecated list, still used by pyupbit)
    LegacyOrders,
}

impl Endpoint {
    /// Resolves a method and path.
    pub fn resolve(method: &Method, path: &str) -> Result<Self, ApiError> {
        use Endpoint as E;
        let path = path.trim_end_matches('/');
        let found = match path {
            "/v1/market/all" => [(Method::GET, E::MarketAll)].to_vec(),
            "/v1/candles/seconds" => [(Method::GET, E::Candles(CandleUnit::Seconds))].to_vec(),
            "/v1/candles/days" => [(Method::GET, E::Candles(CandleUnit::Days))].to_vec(),
            "/v1/candles/weeks" => [(Method::GET, E::Candles(CandleUnit::Weeks))].to_vec(),
            "/v1/candles/months" => [(Method::GET, E::Candles(CandleUnit::Months))].to_vec(),
            "/v1/candles/years" => [(Method::GET, E::Candles(CandleUnit::Years))].to_vec(),
            "/v1/ticker" => [(Method::GET, E::Ticker)].to_vec(),
            "/v1/ticker/all" => [(Method::GET, E::TickerAll)].to_vec(),
            "/v1/orderbook" => [(Method::GET, E::Orderbook)].to_vec(),
            "/v1/orderbook/instruments" => [(Method::GET, E::Instruments)].to_vec(),
            "/v1/trades/ticks" => [(Method::GET, E::Trades)].to_vec(),
            "/v1/accounts" => [(Method::GET, E::Accounts)].to_vec(),
            "/v1/orders/chance" => [(Method::GET, E::Chance)].to_vec(),
            "/v1/orders" => [
                (Method::POST, E::CreateOrder),
                (Method::GET, E::LegacyOrders),
            ]
            .to_vec(),
            "/v1/orders/test" => [(Method::POST, E::TestOrder)].to_vec(),
            "/v1/order" => [(Method::GET, E::GetOrder), (Method::DELETE, E::CancelOrder)].to_vec(),
            "/v1/orders/open" => [
                (Method::GET, E::OpenOrders),
                (Method::DELETE, E::CancelOpen),
            ]
            .to_vec(),
            "/v1/orders/closed" => [(Method::GET, E::ClosedOrders)].to_vec(),
            "/v1/orders/uuids" => [
                (Method::GET, E::OrdersByIds),
                (Method::DELETE, E::CancelByIds),
            ]
            .to_vec(),
            "/v1/orders/cancel_and_new" => [(Method::POST, E::CancelAndNew)].to_vec(),
            p => match p
                .strip_prefix("/v1/candles/minutes/")
                .map(str::parse::<u32>)
            {
                Some(Ok(n)) if MINUTE_UNITS.contains(&n) => {
                    [(Method::GET, E::Candles(CandleUnit::Minutes(n)))].to_vec()
                }
                _ => Vec::new(),
            },
        };
        if found.is_empty() {
            return Err(ApiError::quotation(StatusCode::NOT_FOUND, "Not Found"));
        }
        found
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, e)| *e)
            .ok_or_else(|| {
                ApiError::quotation(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            })
    }

    /// The rate-limit group.
    pub fn group(self) -> Group {
        use Endpoint as E;
        match self {
            E::MarketAll => Group::Market,
            E::Candles(_) => Group::Candles,
            E::Ticker | E::TickerAll => Group::Ticker,
            E::Orderbook | E::Instruments => Group::Orderbook,
            E::Trades => Group::Trade,
            E::CreateOrder | E::CancelAndNew => Group::Order,
            E::TestOrder => Group::OrderTest,
            E::CancelOpen => Group::OrderCancelAll,
            _ => Group::Default,
        }
    }

    /// The permission an Exchange endpoint needs (`None` = Quotation).
    pub fn scope(self) -> Option<Scope> {
        use Endpoint as E;
        match self {
            E::MarketAll
            | E::Candles(_)
            | E::Ticker
            | E::TickerAll
            | E::Orderbook
            | E::Instruments
            | E::Trades => None,
            E::Accounts | E::Chance => Some(Scope::Accounts),
            E::GetOrder | E::OpenOrders | E::ClosedOrders | E::OrdersByIds | E::LegacyOrders => {
                Some(Scope::ReadOrders)
            }
            E::CreateOrder
            | E::TestOrder
            | E::CancelOrder
            | E::CancelByIds
            | E::CancelOpen
            | E::CancelAndNew => Some(Scope::Trade),
        }
    }

    /// Endpoints whose attempts are logged for `GET /_sim/orders`.
    fn logged(self) -> Option<&'static str> {
        match self {
            Self::CreateOrder => Some("POST /v1/orders"),
            Self::TestOrder => Some("POST /v1/orders/test"),
            Self::CancelAndNew => Some("POST /v1/orders/cancel_and_new"),
            _ => None,
        }
    }
}

/// A JSON answer with the `Remaining-Req` header; gzip when asked (Quotation).
pub fn json_response(
    status: StatusCode,
    body: &Value,
    remaining: Option<(Group, u32)>,
    gzip: bool,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8");
    if let Some((g, n)) = remaining {
        builder = builder.header("Remaining-Req", header_value(g, n));
    }
    let body = if gzip && bytes.len() > 256 {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        match enc.write_all(&bytes).and_then(|()| enc.finish()) {
            Ok(z) => {
                builder = builder.header(header::CONTENT_ENCODING, "gzip");
                z
            }
            Err(_) => bytes,
        }
    } else {
        bytes
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// An error answer in Upbit's envelope.
pub fn error_response(err: &ApiError, remaining: Option<(Group, u32)>) -> Response {
    let mut r = json_response(err.status, &err.body(), remaining, false);
    if let Some(secs) = err.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn quotation_style(
    scope: Option<Scope>,
    status: StatusCode,
    message: &str,
    name: &str,
) -> ApiError {
    match scope {
        None => ApiError::quotation(status, message),
        Some(_) => ApiError::exchange(status, name, message),
    }
}

/// The `/v1` dispatcher.
async fn api(
    State(sh): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ep = match Endpoint::resolve(&method, uri.path()) {
        Ok(ep) => ep,
        Err(e) => return error_response(&e, None),
    };
    let group = ep.group();
    let scope = ep.scope();
    let ip = peer.ip().to_string();
    if scope.is_some() {
        sh.count_exchange_request(format!("{method} {}", uri.path().trim_end_matches('/')));
    }

    // Injected faults.
    let faults = sh.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if faults.force_429 > 0 {
        if let Ok(mut f) = sh.faults.lock() {
            f.force_429 = f.force_429.saturating_sub(1);
        }
        return too_many(scope, group);
    }
    if faults.error_rate > 0.0 {
        let hit = sh
            .fault_rng
            .lock()
            .is_ok_and(|mut r| r.gen_bool(faults.error_rate.clamp(0.0, 1.0)));
        if hit {
            let e = quotation_style(
                scope,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error (injected)",
                "server_error",
            );
            return error_response(&e, Some((group, 0)));
        }
    }

    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = match Params::parse(uri.query(), content_type, &body) {
        Ok(p) => p,
        Err(e) => {
            let err = match scope {
                None => ApiError::invalid_parameter(),
                Some(_) => ApiError::validation_msg(e.to_string()),
            };
            return error_response(&err, Some((group, 0)));
        }
    };
    let gzip = scope.is_none()
        && headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("gzip"));

    match scope {
        None => {
            let wall = sh.wall();
            let origin_checked = headers.contains_key(header::ORIGIN);
            let verdict = {
                let mut rl = sh
                    .rate
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if origin_checked {
                    match rl.check(Group::Origin, &ip, wall) {
                        Verdict::Ok { .. } => rl.check(group, &ip, wall),
                        other => other,
                    }
                } else {
                    rl.check(group, &ip, wall)
                }
            };
            let remaining = match verdict {
                Verdict::Ok { remaining } => remaining,
                Verdict::TooMany => return too_many(scope, group),
                Verdict::Blocked { until } => return blocked(scope, group, until - wall),
            };
            let now = sh.now();
            let result = {
                let mut w = sh.world();
                quotation::handle(ep, &mut w, &params, now)
            };
            match result {
                Ok(v) => json_response(StatusCode::OK, &v, Some((group, remaining)), gzip),
                Err(e) => error_response(&e, Some((group, remaining))),
            }
        }
        Some(scope) => {
            let answer = exchange::handle(&sh, ep, scope, &params, &headers, peer.ip(), group);
            if faults.create_response_delay_ms > 0
                && matches!(ep, Endpoint::CreateOrder | Endpoint::CancelAndNew)
            {
                // The order already exists; only its answer is late.
                tokio::time::sleep(Duration::from_millis(faults.create_response_delay_ms)).await;
            }
            answer
        }
    }
}

fn too_many(scope: Option<Scope>, group: Group) -> Response {
    let mut e = ApiError::quotation(StatusCode::TOO_MANY_REQUESTS, "Too many API requests.");
    if scope.is_some() {
        e.name = crate::error::ErrorName::Status(429);
    }
    e.retry_after = Some(1);
    error_response(&e, Some((group, 0)))
}

fn blocked(scope: Option<Scope>, group: Group, left_ms: i64) -> Response {
    let secs = u64::try_from(left_ms.max(0))
        .unwrap_or(0)
        .div_ceil(1000)
        .max(1);
    let mut e = ApiError::quotation(
        StatusCode::IM_A_TEAPOT,
        format!("Too many API requests; blocked for {secs} seconds."),
    );
    let _ = scope;
    e.retry_after = Some(secs);
    error_response(&e, Some((group, 0)))
}

/// Parameter origin check for DELETE batch endpoints (query string only).
fn body_rejected(params: &Params) -> bool {
    params.body_present() && params.origin() != Origin::Query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_groups() {
        let get = Method::GET;
        assert_eq!(
            Endpoint::resolve(&get, "/v1/candles/minutes/240").unwrap(),
            Endpoint::Candles(CandleUnit::Minutes(240))
        );
        assert_eq!(
            Endpoint::resolve(&get, "/v1/candles/minutes/2")
                .unwrap_err()
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            Endpoint::resolve(&Method::PUT, "/v1/order")
                .unwrap_err()
                .status,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            Endpoint::resolve(&Method::DELETE, "/v1/orders/open").unwrap(),
            Endpoint::CancelOpen
        );
        assert_eq!(Endpoint::CancelOpen.group().name(), "order-cancel-all");
        assert_eq!(
            Endpoint::Candles(CandleUnit::Days).group().name(),
            "candles"
        );
        assert_eq!(Endpoint::TestOrder.group().name(), "order-test");
        assert_eq!(Endpoint::Accounts.scope(), Some(Scope::Accounts));
        assert_eq!(Endpoint::Ticker.scope(), None);
    }
}
