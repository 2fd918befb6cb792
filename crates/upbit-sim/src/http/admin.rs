//! The admin API under `/_sim/` (never on Upbit's paths): accounts, the log
//! of every create attempt, every Exchange API request counted by endpoint,
//! the clock, fault injection, market flags, health.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Duration, Utc};
use runtime::Clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    server::{AccountSpec, Faults, Shared},
    synthetic::universe::CAUTION_KEYS,
    views,
    wire::kst_seconds,
};

/// Routes under `/_sim`.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/health", get(health))
        .route("/accounts", post(upsert_account).get(list_accounts))
        .route("/orders", get(orders))
        .route("/requests", get(requests))
        .route("/clock", post(set_clock).get(get_clock))
        .route("/faults", post(set_faults).get(get_faults))
        .route("/markets/{market}", post(set_market))
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": { "name": "invalid_admin_request", "message": message.into() } })),
    )
        .into_response()
}

#[allow(
    clippy::result_large_err,
    reason = "the error is the ready 400 response the handler returns"
)]
fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, Response> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            bad(format!("invalid JSON body: {inner}"))
        } else {
            bad(format!("invalid JSON body at {path}: {inner}"))
        }
    })
}

async fn health(State(sh): State<Arc<Shared>>) -> Response {
    let now = sh.clock.now();
    let (refused, blocked) = sh.rate.lock().map_or((0, 0), |r| r.refusals());
    let w = sh.world();
    Json(json!({
        "status": "ok",
        "now": now.to_rfc3339(),
        "now_kst": kst_seconds(now.timestamp_millis()),
        "speed": sh.clock.speed(),
        "markets": w.markets.len(),
        "accounts": w.engine.accounts().len(),
        "orders": w.engine.orders().len(),
        "ws_sessions": sh.events.receiver_count(),
        "rate_limited": { "429": refused, "418": blocked },
    }))
    .into_response()
}

async fn upsert_account(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let spec: AccountSpec = match parse(&body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match sh.upsert_account(&spec) {
        Ok(()) => (
            StatusCode::CREATED,
            Json(json!({ "access_key": spec.access_key })),
        )
            .into_response(),
        Err(e) => bad(e),
    }
}

async fn list_accounts(State(sh): State<Arc<Shared>>) -> Response {
    let w = sh.world();
    let list: Vec<Value> = w
        .engine
        .accounts()
        .iter()
        .map(|a| {
            json!({
                "access_key": a.access_key,
                "permissions": a.permissions,
                "balances": a.balances.iter().map(|(c, b)| views::account_item(c, b)).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(Value::Array(list)).into_response()
}

async fn orders(State(sh): State<Arc<Shared>>) -> Response {
    let w = sh.world();
    Json(json!(w.order_log)).into_response()
}

/// Every Exchange API request received, by `METHOD /path`
/// (`{"GET /v1/orders/open": 3, …}`): reads, creates and cancels alike.
async fn requests(State(sh): State<Arc<Shared>>) -> Response {
    Json(json!(sh.exchange_requests())).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    step_seconds: Option<i64>,
    step_minutes: Option<i64>,
    set: Option<DateTime<Utc>>,
    speed: Option<f64>,
}

async fn get_clock(State(sh): State<Arc<Shared>>) -> Response {
    Json(json!({ "now": sh.clock.now().to_rfc3339(), "speed": sh.clock.speed() })).into_response()
}

async fn set_clock(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: ClockRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    // Bring everything up to now before the jump.
    drop(sh.world());
    let step = req
        .step_seconds
        .unwrap_or(0)
        .checked_mul(1000)
        .zip(req.step_minutes.unwrap_or(0).checked_mul(60_000))
        .and_then(|(a, b)| a.checked_add(b))
        .and_then(Duration::try_milliseconds);
    let Some(step) = step else {
        return bad("step_seconds / step_minutes: too large");
    };
    if !step.is_zero()
        && let Err(e) = sh.clock.step(step)
    {
        return bad(e);
    }
    if let Some(at) = req.set
        && let Err(e) = sh.clock.set(at)
    {
        return bad(e);
    }
    if let Some(speed) = req.speed {
        match crate::server::check_speed(speed) {
            Ok(v) => sh.clock.set_speed(v),
            Err(e) => return bad(e),
        }
    }
    // Replay everything in between (fills, streams).
    drop(sh.world());
    get_clock(State(sh)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    latency_ms: Option<u64>,
    error_rate: Option<f64>,
    force_429: Option<u32>,
    fill_delay_ms: Option<u64>,
    cancel_delay_ms: Option<u64>,
    create_response_delay_ms: Option<u64>,
    drop_ws: Option<bool>,
    reset: Option<bool>,
}

async fn get_faults(State(sh): State<Arc<Shared>>) -> Response {
    let f = sh.faults.lock().map(|f| f.clone()).unwrap_or_default();
    Json(json!(f)).into_response()
}

async fn set_faults(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: FaultRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.error_rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
        return bad("error_rate must be within 0..1");
    }
    {
        let Ok(mut f) = sh.faults.lock() else {
            return bad("fault state unavailable");
        };
        if req.reset == Some(true) {
            *f = Faults::default();
        }
        if let Some(v) = req.latency_ms {
            f.latency_ms = v;
        }
        if let Some(v) = req.error_rate {
            f.error_rate = v;
        }
        if let Some(v) = req.force_429 {
            f.force_429 = v;
        }
        if let Some(v) = req.fill_delay_ms {
            f.fill_delay_ms = v;
        }
        if let Some(v) = req.cancel_delay_ms {
            f.cancel_delay_ms = v;
        }
        if let Some(v) = req.create_response_delay_ms {
            f.create_response_delay_ms = v;
        }
    }
    if req.drop_ws == Some(true) {
        sh.ws_drop.send_modify(|g| *g += 1);
    }
    get_faults(State(sh)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarketRequest {
    warning: Option<bool>,
    caution: Option<std::collections::BTreeMap<String, bool>>,
    offline: Option<bool>,
}

async fn set_market(
    State(sh): State<Arc<Shared>>,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let req: MarketRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut w = sh.world();
    let Some(i) = w.market_index(&code) else {
        return bad(format!("unknown market {code}"));
    };
    if let Some(c) = &req.caution
        && let Some(k) = c.keys().find(|k| !CAUTION_KEYS.contains(&k.as_str()))
    {
        return bad(format!("unknown caution key {k}"));
    }
    let info = &mut w.markets[i].info;
    if let Some(v) = req.warning {
        info.warning = v;
    }
    if let Some(c) = req.caution {
        for (k, v) in c {
            if let Some(pos) = CAUTION_KEYS.iter().position(|x| *x == k) {
                info.caution[pos] = v;
            }
        }
    }
    if let Some(v) = req.offline {
        info.offline = v;
    }
    Json(views::market_all_item(info, true)).into_response()
}
