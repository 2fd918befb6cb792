//! Exchange endpoints (`upbit-api.md` §3): authentication, per-key rate
//! limits, accounts, chance, order creation, queries, cancels. Errors carry
//! a string `name`.

use std::{net::IpAddr, sync::Arc};

use axum::{
    http::{HeaderMap, StatusCode},
    response::Response,
};
use domain::{OrderState, Side};
use serde_json::{Value, json};

use super::{Endpoint, blocked, body_rejected, error_response, json_response, too_many};
use crate::{
    auth::{Scope, authenticate, claimed_key},
    engine::{Order, create::OrderInput},
    error::ApiError,
    params::Params,
    ratelimit::{Group, Verdict},
    server::Shared,
    views,
    wire::{DAY_MS, Millis},
    world::{LogEntry, World},
};

/// Authenticates, rate-limits and runs an Exchange endpoint.
pub fn handle(
    sh: &Arc<Shared>,
    ep: Endpoint,
    scope: Scope,
    params: &Params,
    headers: &HeaderMap,
    ip: IpAddr,
    group: Group,
) -> Response {
    let now = sh.now();
    let wall = sh.wall();
    let (fill_delay, cancel_delay) = sh
        .faults
        .lock()
        .map_or((0, 0), |f| (f.fill_delay_ms, f.cancel_delay_ms));
    let mut w = sh.world();
    let caller = match authenticate(&mut w.engine, headers, Some(params), ip, now, scope) {
        Ok(c) => c,
        Err(e) => {
            if let Some(endpoint) = ep.logged() {
                w.log_attempt(entry(endpoint, claimed_key(headers), params, &e), now);
            }
            let left = sh
                .rate
                .lock()
                .map_or(0, |r| r.peek(group, &ip.to_string(), wall));
            return error_response(&e, Some((group, left)));
        }
    };
    let verdict = sh
        .rate
        .lock()
        .map_or(Verdict::Ok { remaining: 0 }, |mut r| {
            r.check(group, &caller.access_key, wall)
        });
    let remaining = match verdict {
        Verdict::Ok { remaining } => remaining,
        Verdict::TooMany => return too_many(Some(scope), group),
        Verdict::Blocked { until } => return blocked(Some(scope), group, until - wall),
    };
    let delay = |ms: u64| (ms > 0).then(|| wall + i64::try_from(ms).unwrap_or(0));
    let ctx = Ctx {
        account: caller.account,
        now,
        fill_due: delay(fill_delay),
        cancel_due: delay(cancel_delay),
    };
    let result = run(&mut w, ep, params, &ctx);
    if let Some(endpoint) = ep.logged() {
        let mut e = match &result {
            Ok((_, v)) => LogEntry {
                seq: 0,
                received_at: String::new(),
                access_key: Some(caller.access_key.clone()),
                endpoint: endpoint.to_owned(),
                params: params.pairs().to_vec(),
                status: 201,
                error: None,
                uuid: v
                    .get(if ep == Endpoint::CancelAndNew {
                        "new_order_uuid"
                    } else {
                        "uuid"
                    })
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            Err(err) => entry(endpoint, Some(caller.access_key.clone()), params, err),
        };
        e.access_key = Some(caller.access_key.clone());
        w.log_attempt(e, now);
    }
    let events = w.flush(sh.streams());
    drop(w);
    sh.publish(events);
    match result {
        Ok((status, v)) => json_response(status, &v, Some((group, remaining)), false),
        Err(e) => error_response(&e, Some((group, remaining))),
    }
}

fn entry(endpoint: &str, key: Option<String>, params: &Params, e: &ApiError) -> LogEntry {
    LogEntry {
        seq: 0,
        received_at: String::new(),
        access_key: key,
        endpoint: endpoint.to_owned(),
        params: params.pairs().to_vec(),
        status: e.status.as_u16(),
        error: Some(e.name_text()),
        uuid: None,
    }
}

struct Ctx {
    account: usize,
    now: Millis,
    fill_due: Option<Millis>,
    cancel_due: Option<Millis>,
}

type Answer = Result<(StatusCode, Value), ApiError>;

#[allow(
    clippy::unnecessary_wraps,
    reason = "keeps every endpoint arm of `run` the same shape"
)]
fn ok(v: Value) -> Answer {
    Ok((StatusCode::OK, v))
}

fn run(w: &mut World, ep: Endpoint, p: &Params, c: &Ctx) -> Answer {
    match ep {
        Endpoint::Accounts => ok(accounts(w, c)),
        Endpoint::Chance => chance(w, p, c).and_then(ok),
        Endpoint::CreateOrder | Endpoint::TestOrder => {
            let input = order_input(p, "");
            let v = w.create_order(
                c.account,
                &input,
                ep == Endpoint::TestOrder,
                c.now,
                c.fill_due,
            )?;
            Ok((StatusCode::CREATED, v))
        }
        Endpoint::GetOrder => {
            let oi = w.find_order(c.account, p.get("uuid"), p.get("identifier"))?;
            let o = w.engine.order(oi).ok_or_else(ApiError::order_not_found)?;
            ok(views::order(o, true, false))
        }
        Endpoint::CancelOrder => {
            let oi = w.find_order(c.account, p.get("uuid"), p.get("identifier"))?;
            w.cancel_order(c.account, oi, c.now, c.cancel_due)
                .and_then(ok)
        }
        Endpoint::OpenOrders => open_orders(w, p, c).and_then(ok),
        Endpoint::ClosedOrders => closed_orders(w, p, c).and_then(ok),
        Endpoint::OrdersByIds => by_ids(w, p, c).and_then(ok),
        Endpoint::CancelByIds => cancel_by_ids(w, p, c).and_then(ok),
        Endpoint::CancelOpen => cancel_open(w, p, c).and_then(ok),
        Endpoint::CancelAndNew => {
            let old = w
                .find_order(
                    c.account,
                    p.get("prev_order_uuid"),
                    p.get("prev_order_identifier"),
                )
                .map_err(|e| {
                    if p.has("prev_order_uuid") || p.has("prev_order_identifier") {
                        e
                    } else {
                        ApiError::validation("prev_order_uuid")
                    }
                })?;
            if !p.has("new_ord_type") {
                return Err(ApiError::validation("new_ord_type"));
            }
            let input = order_input(p, "new_");
            let v = w.cancel_and_new(c.account, old, input, c.now, c.cancel_due)?;
            Ok((StatusCode::CREATED, v))
        }
        Endpoint::LegacyOrders => legacy_orders(w, p, c).and_then(ok),
        _ => Err(ApiError::validation_msg("not an Exchange endpoint")),
    }
}

fn order_input(p: &Params, prefix: &str) -> OrderInput {
    let get = |k: &str| p.get(&format!("{prefix}{k}")).map(str::to_owned);
    OrderInput {
        market: p.get("market").map(str::to_owned),
        side: p.get("side").map(str::to_owned),
        ord_type: get("ord_type"),
        price: get("price"),
        volume: get("volume"),
        time_in_force: get("time_in_force"),
        smp_type: get("smp_type"),
        identifier: get("identifier"),
    }
}

fn accounts(w: &World, c: &Ctx) -> Value {
    let Some(a) = w.engine.account(c.account) else {
        return Value::Array(Vec::new());
    };
    let mut items = vec![views::account_item("KRW", &a.balance("KRW"))];
    for (cur, b) in &a.balances {
        if cur != "KRW" && !(b.balance + b.locked).is_zero() {
            items.push(views::account_item(cur, b));
        }
    }
    Value::Array(items)
}

fn chance(w: &mut World, p: &Params, c: &Ctx) -> Result<Value, ApiError> {
    let code = p
        .get("market")
        .ok_or_else(|| ApiError::validation("market"))?;
    let i = w
        .market_index(code)
        .ok_or_else(|| ApiError::validation("market"))?;
    let m = &w.markets[i];
    let base = m.info.market.base().as_str().to_owned();
    let fees = w.engine.fees;
    let limits = w.engine.limits;
    let a = w
        .engine
        .account(c.account)
        .ok_or_else(|| ApiError::validation("access_key"))?;
    Ok(json!({
        "bid_fee": views::dec_value(fees.bid_fee),
        "ask_fee": views::dec_value(fees.ask_fee),
        "maker_bid_fee": views::dec_value(fees.maker_bid_fee),
        "maker_ask_fee": views::dec_value(fees.maker_ask_fee),
        "market": {
            "id": code,
            "name": format!("{base}/KRW"),
            "order_types": ["limit"],
            "order_sides": ["ask", "bid"],
            "bid_types": ["best_fok", "best_ioc", "limit", "limit_fok", "limit_ioc", "price"],
            "ask_types": ["best_fok", "best_ioc", "limit", "limit_fok", "limit_ioc", "market"],
            "bid": { "currency": "KRW", "min_total": views::dec_value(limits.min_total) },
            "ask": { "currency": base, "min_total": views::dec_value(limits.min_total) },
            "max_total": views::dec_value(limits.max_total),
            "state": if m.info.offline { "inactive" } else { "active" },
        },
        "bid_account": views::account_item("KRW", &a.balance("KRW")),
        "ask_account": views::account_item(&base, &a.balance(&base)),
    }))
}

/// `state` or `states[]` (not both), each in `allowed`; `default` otherwise.
fn states(
    p: &Params,
    allowed: &[OrderState],
    default: &[OrderState],
) -> Result<Vec<OrderState>, ApiError> {
    let single = p
        .pairs()
        .iter()
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.clone())
        .collect::<Vec<_>>();
    let many = p.array("states");
    if !single.is_empty() && !many.is_empty() {
        return Err(ApiError::validation_msg(
            "state and states[] cannot be used together",
        ));
    }
    let raw = if many.is_empty() { single } else { many };
    if raw.is_empty() {
        return Ok(default.to_vec());
    }
    raw.iter()
        .map(|s| {
            OrderState::parse("state", s)
                .ok()
                .filter(|st| allowed.contains(st))
                .ok_or_else(|| ApiError::validation("state"))
        })
        .collect()
}

fn order_by_desc(p: &Params) -> Result<bool, ApiError> {
    match p.get("order_by") {
        None | Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(_) => Err(ApiError::validation("order_by")),
    }
}

fn positive(p: &Params, key: &str, default: usize, max: usize) -> Result<usize, ApiError> {
    match p.get(key) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1 && *n <= max)
            .ok_or_else(|| ApiError::validation(key)),
    }
}

fn sorted(mut list: Vec<&Order>, desc: bool) -> Vec<&Order> {
    list.sort_by_key(|o| o.created_at);
    if desc {
        list.reverse();
    }
    list
}

fn list_json(list: &[&Order]) -> Value {
    Value::Array(list.iter().map(|o| views::order(o, false, true)).collect())
}

fn mine<'a>(w: &'a World, c: &Ctx, market: Option<&'a str>) -> impl Iterator<Item = &'a Order> {
    w.engine
        .orders()
        .iter()
        .filter(move |o| o.account == c.account && market.is_none_or(|m| o.market_code == m))
}

fn open_orders(w: &World, p: &Params, c: &Ctx) -> Result<Value, ApiError> {
    let st = states(
        p,
        &[OrderState::Wait, OrderState::Watch],
        &[OrderState::Wait],
    )?;
    let page = positive(p, "page", 1, usize::MAX)?;
    let limit = positive(p, "limit", 100, 100)?;
    let desc = order_by_desc(p)?;
    let list = sorted(
        mine(w, c, p.get("market"))
            .filter(|o| st.contains(&o.state))
            .collect(),
        desc,
    );
    let page: Vec<&Order> = list
        .into_iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .collect();
    Ok(list_json(&page))
}

fn time_param(raw: &str) -> Option<Millis> {
    let raw = raw.trim();
    if let Ok(ms) = raw.parse::<i64>() {
        return Some(ms);
    }
    super::quotation::parse_to(raw)
}

fn closed_orders(w: &World, p: &Params, c: &Ctx) -> Result<Value, ApiError> {
    let st = states(
        p,
        &[OrderState::Done, OrderState::Cancel],
        &[OrderState::Done, OrderState::Cancel],
    )?;
    let limit = positive(p, "limit", 100, 1000)?;
    let desc = order_by_desc(p)?;
    let start = p
        .get("start_time")
        .map(|r| time_param(r).ok_or_else(|| ApiError::validation("start_time")))
        .transpose()?;
    let end = p
        .get("end_time")
        .map(|r| time_param(r).ok_or_else(|| ApiError::validation("end_time")))
        .transpose()?;
    let week = 7 * DAY_MS;
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s.saturating_add(week)),
        (None, Some(e)) => (e.saturating_sub(week), e),
        (None, None) => (c.now - week, c.now),
    };
    if to < from || to.saturating_sub(from) > week {
        return Err(ApiError::validation_msg(
            "the start_time ~ end_time window must be at most 7 days",
        ));
    }
    let list = sorted(
        mine(w, c, p.get("market"))
            .filter(|o| st.contains(&o.state) && o.created_at >= from && o.created_at <= to)
            .collect(),
        desc,
    );
    Ok(list_json(&list.into_iter().take(limit).collect::<Vec<_>>()))
}

/// `uuids[]` or `identifiers[]` (exactly one kind, at most `max`).
fn ids(w: &World, p: &Params, c: &Ctx, max: usize) -> Result<Vec<Result<usize, String>>, ApiError> {
    let uuids = p.array("uuids");
    let idents = p.array("identifiers");
    let (list, by_uuid) = match (uuids.is_empty(), idents.is_empty()) {
        (false, true) => (uuids, true),
        (true, false) => (idents, false),
        (false, false) => {
            return Err(ApiError::validation_msg(
                "uuids[] and identifiers[] cannot be used together",
            ));
        }
        (true, true) => return Err(ApiError::validation("uuids")),
    };
    if list.len() > max {
        return Err(ApiError::validation_msg(format!(
            "at most {max} ids per request"
        )));
    }
    Ok(list
        .into_iter()
        .map(|id| {
            let found = if by_uuid {
                w.engine.find_uuid(&id)
            } else {
                w.engine.find_identifier(c.account, &id)
            };
            found
                .filter(|&i| w.engine.order(i).is_some_and(|o| o.account == c.account))
                .ok_or(id)
        })
        .collect())
}

fn by_ids(w: &World, p: &Params, c: &Ctx) -> Result<Value, ApiError> {
    let desc = order_by_desc(p)?;
    let market = p.get("market");
    let list: Vec<&Order> = ids(w, p, c, 100)?
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|i| w.engine.order(i))
        .filter(|o| market.is_none_or(|m| o.market_code == m))
        .collect();
    Ok(list_json(&sorted(list, desc)))
}

fn cancel_by_ids(w: &mut World, p: &Params, c: &Ctx) -> Result<Value, ApiError> {
    if body_rejected(p) {
        return Err(ApiError::validation_msg(
            "this endpoint takes query-string parameters only",
        ));
    }
    let list = ids(w, p, c, 20)?;
    Ok(w.cancel_many(c.account, &list, c.now))
}

fn cancel_open(w: &mut World, p: &Params, c: &Ctx) -> Result<Value, ApiError> {
    if body_rejected(p) {
        return Err(ApiError::validation_msg(
            "this endpoint takes query-string parameters only",
        ));
    }
    let side = match p.get("cancel_side") {
        None | Some("all") => None,
        Some("bid") => Some(Side::Bid),
        Some("ask") => Some(Side::Ask),
        Some(_) => return Err(ApiError::validation("cancel_side")),
    };
    let pairs = p.list("pairs");
    let excluded = p.list("excluded_pairs");
    let quotes = p.list("quote_currencies");
    if pairs.len() > 20 || excluded.len() > 20 {
        return Err(ApiError::validation_msg("at most 20 pairs"));
    }
    if !pairs.is_empty() && !quotes.is_empty() {
        return Err(ApiError::validation_msg(
            "pairs and quote_currencies cannot be used together",
        ));
    }
    let count = positive(p, "count", 20, 300)?;
    let desc = order_by_desc(p)?;
    let mut list: Vec<&Order> = mine(w, c, None)
        .filter(|o| o.state == OrderState::Wait)
        .filter(|o| side.is_none_or(|s| o.side == s))
        .filter(|o| pairs.is_empty() || pairs.contains(&o.market_code))
        .filter(|o| !excluded.contains(&o.market_code))
        .filter(|o| {
            quotes.is_empty()
                || quotes
                    .iter()
                    .any(|q| o.market_code.starts_with(&format!("{q}-")))
        })
        .collect();
    list = sorted(list, desc);
    let targets: Vec<Result<usize, String>> = list
        .into_iter()
        .take(count)
        .filter_map(|o| w.engine.find_uuid(&o.uuid.to_string()))
        .map(Ok)
        .collect();
    Ok(w.cancel_many(c.account, &targets, c.now))
}

fn legacy_orders(w: &World, p: &Params, c: &Ctx) -> Result<Value, ApiError> {
    let all = [
        OrderState::Wait,
        OrderState::Watch,
        OrderState::Done,
        OrderState::Cancel,
    ];
    let st = states(p, &all, &[OrderState::Wait])?;
    let page = positive(p, "page", 1, usize::MAX)?;
    let limit = positive(p, "limit", 100, 100)?;
    let desc = order_by_desc(p)?;
    let uuids = p.array("uuids");
    let idents = p.array("identifiers");
    let list = sorted(
        mine(w, c, p.get("market"))
            .filter(|o| st.contains(&o.state))
            .filter(|o| uuids.is_empty() || uuids.contains(&o.uuid.to_string()))
            .filter(|o| {
                idents.is_empty() || o.identifier.as_ref().is_some_and(|i| idents.contains(i))
            })
            .collect(),
        desc,
    );
    let page: Vec<&Order> = list
        .into_iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .collect();
    Ok(list_json(&page))
}
