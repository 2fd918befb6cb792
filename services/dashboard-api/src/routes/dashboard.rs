//! DASHBOARD (UI-2): `GET /dashboard` (CURRENT REGIME and the trader
//! counts), `GET /dashboard/profit` (every trader's return on one chart),
//! `GET /events` (the action log's first page) and `GET /events/stream`
//! (the live action log, Server-Sent Events, resumable).

use std::collections::{HashMap, HashSet};

use axum::{
    Extension,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue},
    response::{
        IntoResponse, Response,
        sse::{KeepAlive, Sse},
    },
};
use chrono::{DateTime, Duration, Utc};
use domain::{Mode, TraderId};
use serde::Serialize;
use storage::{regimes::RegimeInputs, trades::EquitySnapshot};

use super::Routes;
use crate::{
    auth::{CurrentUser, session_ended},
    error::{ApiError, ApiResult, AppJson},
    events::EventView,
    state::AppState,
    views::return_pct,
};

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/dashboard", dashboard)
        .get("/dashboard/profit", profit)
        .get("/events", events)
        .get("/events/stream", stream)
}

/// Points per series in the profit chart (older points are thinned out).
const MAX_POINTS: usize = 720;
/// Default and largest page of `GET /events`.
const EVENTS_DEFAULT: u32 = 100;
const EVENTS_MAX: u32 = 1000;

#[derive(Serialize)]
struct RegimeView {
    label: domain::RegimeLabel,
    score: f64,
    ts: DateTime<Utc>,
    age_secs: i64,
    stale: bool,
    inputs: RegimeInputs,
}

#[derive(Serialize)]
struct Counts {
    total: usize,
    paper: usize,
    live: usize,
    /// Traders whose kill switch is on (RUN-4, MON-1's dashboard badge).
    kill_switch: usize,
}

#[derive(Serialize)]
struct Dashboard {
    regime: Option<RegimeView>,
    traders: Counts,
}

async fn dashboard(State(state): State<AppState>) -> ApiResult<AppJson<Dashboard>> {
    let now = state.now();
    let regime = state.store().regimes().latest().await?.map(|r| {
        let age = now - r.record.ts;
        RegimeView {
            label: r.record.label,
            score: r.record.regime_score,
            ts: r.record.ts,
            age_secs: age.num_seconds(),
            // A regime stamped in the future is as untrustworthy as an old one.
            stale: age.abs() > state.settings.regime_max_age,
            inputs: r.record.inputs,
        }
    });
    let traders = state.store().traders().list(false).await?;
    let live = traders
        .iter()
        .filter(|t| t.state.mode == Mode::Live)
        .count();
    let tripped: HashSet<TraderId> = state
        .store()
        .safety()
        .list()
        .await?
        .into_iter()
        .filter(|s| s.kill_switch)
        .map(|s| s.trader_id)
        .collect();
    Ok(AppJson(Dashboard {
        regime,
        traders: Counts {
            total: traders.len(),
            paper: traders.len() - live,
            live,
            kill_switch: traders.iter().filter(|t| tripped.contains(&t.id)).count(),
        },
    }))
}

/// Query parameters as given; each one is validated by hand so the 422
/// names it.
type Params = Query<HashMap<String, String>>;

fn int_param(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<i64>> {
    q.get(name)
        .map(|raw| {
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    ApiError::invalid(name, format!("must be a non-negative integer, got {raw:?}"))
                })
        })
        .transpose()
}

#[derive(Serialize)]
struct Point {
    ts: DateTime<Utc>,
    return_pct: f64,
}

#[derive(Serialize)]
struct Series {
    trader_id: TraderId,
    name: String,
    points: Vec<Point>,
}

#[derive(Serialize)]
struct Profit {
    series: Vec<Series>,
}

/// Keeps at most `max` points, evenly spaced, always including the last.
fn thin<T>(points: Vec<T>, max: usize) -> Vec<T> {
    let n = points.len();
    if n <= max || max < 2 {
        return points;
    }
    let step = (n - 1) as f64 / (max - 1) as f64;
    let keep: std::collections::BTreeSet<usize> = (0..max)
        .map(|i| ((i as f64) * step).round() as usize)
        .collect();
    points
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| keep.contains(&i).then_some(p))
        .collect()
}

async fn profit(State(state): State<AppState>, Query(q): Params) -> ApiResult<AppJson<Profit>> {
    let range = q.get("range").map_or("24h", String::as_str);
    let span = match range {
        "24h" => Some(Duration::hours(24)),
        "7d" => Some(Duration::days(7)),
        "30d" => Some(Duration::days(30)),
        "all" => None,
        other => {
            return Err(ApiError::invalid(
                "range",
                format!("must be one of 24h, 7d, 30d, all; got {other:?}"),
            ));
        }
    };
    let from = span.map_or(DateTime::<Utc>::UNIX_EPOCH, |s| state.now() - s);
    let mut series = Vec::new();
    for t in state.store().traders().list(false).await? {
        let mut snaps: Vec<EquitySnapshot> = Vec::new();
        let mut cursor = from;
        loop {
            let page = state.store().equity().series(t.id, cursor, 10_000).await?;
            let full = page.len() == 10_000;
            if let Some(last) = page.last() {
                cursor = last.ts + Duration::milliseconds(1);
            }
            snaps.extend(page);
            if !full {
                break;
            }
        }
        let points = thin(snaps, MAX_POINTS)
            .into_iter()
            .map(|s| Point {
                ts: s.ts,
                return_pct: return_pct(s.equity - t.seed_krw, t.seed_krw),
            })
            .collect();
        series.push(Series {
            trader_id: t.id,
            name: t.name,
            points,
        });
    }
    Ok(AppJson(Profit { series }))
}

async fn events(
    State(state): State<AppState>,
    Query(q): Params,
) -> ApiResult<AppJson<Vec<EventView>>> {
    let limit = match int_param(&q, "limit")? {
        None => EVENTS_DEFAULT,
        Some(0) => return Err(ApiError::invalid("limit", "must be at least 1")),
        Some(n) => u32::try_from(n).unwrap_or(EVENTS_MAX).min(EVENTS_MAX),
    };
    let rows = match int_param(&q, "after")? {
        Some(after) => state.store().events().list_after(after, limit).await?,
        None => state.store().events().latest(limit).await?,
    };
    Ok(AppJson(state.hub.views(rows).await?))
}

async fn stream(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    headers: HeaderMap,
    Query(q): Params,
) -> ApiResult<Response> {
    let after = match headers.get("last-event-id") {
        Some(v) => {
            let raw = v.to_str().unwrap_or_default().trim();
            Some(raw.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                ApiError::invalid("Last-Event-ID", "must be a non-negative integer event id")
            })?)
        }
        None => int_param(&q, "last_event_id")?,
    };
    // The stream ends with its session (logout or expiry).
    let until = session_ended(state.clone(), user.token);
    let sse = Sse::new(state.hub.stream(after, until).await?).keep_alive(
        KeepAlive::new()
            .interval(state.settings.sse_keep_alive)
            .text("keep-alive"),
    );
    let mut res = sse.into_response();
    // Proxies (nginx in dashboard-web) must not buffer the stream.
    res.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::thin;

    #[test]
    fn thinning_keeps_ends_and_bounds() {
        let cases: &[(usize, usize, &[usize])] = &[
            (0, 5, &[]),
            (3, 5, &[0, 1, 2]),
            (5, 5, &[0, 1, 2, 3, 4]),
            (9, 5, &[0, 2, 4, 6, 8]),
            (10, 3, &[0, 5, 9]),
        ];
        for (n, max, want) in cases {
            let got = thin((0..*n).collect::<Vec<_>>(), *max);
            assert_eq!(got, *want, "n={n} max={max}");
        }
    }
}
