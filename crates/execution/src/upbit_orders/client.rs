//! [`UpbitOrderClient`]: raw (wire) and typed calls of every order endpoint,
//! on the `upbit` crate's signing, rate-limited transport, plus
//! [`UpbitOrderClient::create_or_recover`], which makes a retried create safe.
//!
//! Rate groups: creates count in `order`, test orders in `order-test`, the
//! batch cancel of open orders in `order-cancel-all`, everything else in
//! `default`. GETs are retried by the transport; POSTs and DELETEs are sent
//! once (a retry is the caller's decision, see `create_or_recover`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{Currency, Market, OrderIdentifier, OrderRequest, OrderState, ValidationError};
use serde::de::DeserializeOwned;
use upbit::{
    ApiErrorKind, ApiRequest, ErrorCategory, Params, RateGroup, UpbitError, UpbitTransport,
    common::parse::format_utc, http::parse::decode_json,
};

use super::{
    models::{BatchCancelWire, ChanceWire, OrderWire},
    types::{self, BatchCancel, OrderChance, UpbitOrder},
};

/// How to name one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderKey {
    /// The server's uuid.
    Uuid(String),
    /// Our identifier.
    Identifier(OrderIdentifier),
}

impl OrderKey {
    fn params(&self) -> Params {
        match self {
            Self::Uuid(u) => Params::new().push("uuid", u),
            Self::Identifier(i) => Params::new().push("identifier", i),
        }
    }
}

/// Several orders, by uuids or by identifiers (not both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderKeys {
    /// Server uuids.
    Uuids(Vec<String>),
    /// Our identifiers.
    Identifiers(Vec<OrderIdentifier>),
}

impl OrderKeys {
    fn len(&self) -> usize {
        match self {
            Self::Uuids(v) => v.len(),
            Self::Identifiers(v) => v.len(),
        }
    }

    fn params(&self, params: Params) -> Params {
        match self {
            Self::Uuids(v) => params.push_many("uuids", v),
            Self::Identifiers(v) => params.push_many("identifiers", v),
        }
    }

    fn check(&self, max: usize) -> Result<(), ValidationError> {
        let n = self.len();
        if n == 0 || n > max {
            return Err(ValidationError::new(
                "uuids",
                format!("between 1 and {max} ids are required, got {n}"),
            ));
        }
        Ok(())
    }
}

/// Sort order of list endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    /// Oldest first.
    Asc,
    /// Newest first (Upbit's default).
    Desc,
}

impl OrderBy {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// Filter of open orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOrdersQuery {
    /// Only this market.
    pub market: Option<Market>,
    /// `wait` and/or `watch` (empty = Upbit's default, `wait`).
    pub states: Vec<OrderState>,
    /// Page (1-based).
    pub page: Option<u32>,
    /// 1–100.
    pub limit: Option<u16>,
    /// Sort order.
    pub order_by: Option<OrderBy>,
}

impl OpenOrdersQuery {
    fn params(&self) -> Result<Params, ValidationError> {
        if self.states.iter().any(|s| s.is_final()) {
            return Err(ValidationError::new(
                "states",
                "open orders are wait or watch",
            ));
        }
        check_limit(self.limit, 100)?;
        Ok(states(
            Params::new().push_opt("market", self.market.as_ref()),
            &self.states,
        )
        .push_opt("page", self.page)
        .push_opt("limit", self.limit)
        .push_opt("order_by", self.order_by.map(OrderBy::as_str)))
    }
}

/// Filter of closed orders (a window of at most 7 days).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClosedOrdersQuery {
    /// Only this market.
    pub market: Option<Market>,
    /// `done` and/or `cancel` (empty = both).
    pub states: Vec<OrderState>,
    /// Window start.
    pub start_time: Option<DateTime<Utc>>,
    /// Window end.
    pub end_time: Option<DateTime<Utc>>,
    /// 1–1000.
    pub limit: Option<u16>,
    /// Sort order.
    pub order_by: Option<OrderBy>,
}

impl ClosedOrdersQuery {
    fn params(&self) -> Result<Params, ValidationError> {
        if self.states.iter().any(|s| !s.is_final()) {
            return Err(ValidationError::new(
                "states",
                "closed orders are done or cancel",
            ));
        }
        if let (Some(s), Some(e)) = (self.start_time, self.end_time)
            && (e < s || e - s > chrono::Duration::days(7))
        {
            return Err(ValidationError::new(
                "end_time",
                "the window must be at most 7 days and end after it starts",
            ));
        }
        check_limit(self.limit, 1000)?;
        Ok(states(
            Params::new().push_opt("market", self.market.as_ref()),
            &self.states,
        )
        .push_opt("start_time", self.start_time.map(format_utc))
        .push_opt("end_time", self.end_time.map(format_utc))
        .push_opt("limit", self.limit)
        .push_opt("order_by", self.order_by.map(OrderBy::as_str)))
    }
}

/// Which side a batch cancel of open orders hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelSide {
    /// Both sides.
    All,
    /// Sells.
    Ask,
    /// Buys.
    Bid,
}

/// Filter of the batch cancel of open (`wait`) orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CancelAllQuery {
    /// Side (default both).
    pub cancel_side: Option<CancelSide>,
    /// Only these markets (≤ 20).
    pub pairs: Vec<Market>,
    /// Keep these markets (≤ 20).
    pub excluded_pairs: Vec<Market>,
    /// All markets of these quote currencies (not with `pairs`).
    pub quote_currencies: Vec<Currency>,
    /// At most this many orders (1–300, default 20).
    pub count: Option<u16>,
    /// Which first.
    pub order_by: Option<OrderBy>,
}

fn join<T: std::fmt::Display>(v: &[T]) -> Option<String> {
    (!v.is_empty()).then(|| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

impl CancelAllQuery {
    fn params(&self) -> Result<Params, ValidationError> {
        if self.pairs.len() > 20 || self.excluded_pairs.len() > 20 {
            return Err(ValidationError::new("pairs", "at most 20 pairs"));
        }
        if !self.pairs.is_empty() && !self.quote_currencies.is_empty() {
            return Err(ValidationError::new(
                "quote_currencies",
                "cannot be combined with pairs",
            ));
        }
        check_limit(self.count, 300)?;
        let side = self.cancel_side.map(|s| match s {
            CancelSide::All => "all",
            CancelSide::Ask => "ask",
            CancelSide::Bid => "bid",
        });
        Ok(Params::new()
            .push_opt("cancel_side", side)
            .push_opt("pairs", join(&self.pairs))
            .push_opt("excluded_pairs", join(&self.excluded_pairs))
            .push_opt("quote_currencies", join(&self.quote_currencies))
            .push_opt("count", self.count)
            .push_opt("order_by", self.order_by.map(OrderBy::as_str)))
    }
}

fn check_limit(v: Option<u16>, max: u16) -> Result<(), ValidationError> {
    match v {
        Some(n) if n == 0 || n > max => Err(ValidationError::new(
            "limit",
            format!("must be 1-{max}, got {n}"),
        )),
        _ => Ok(()),
    }
}

fn states(params: Params, states: &[OrderState]) -> Params {
    match states {
        [] => params,
        [one] => params.push("state", one),
        many => params.push_many("states", many),
    }
}

/// The JSON body of a create: `market, side, volume?, price?, ord_type,
/// time_in_force?, identifier` — the `query_hash` covers these fields in this order.
pub fn order_body(req: &OrderRequest) -> Params {
    Params::new()
        .push("market", req.market())
        .push("side", req.side())
        .push_opt("volume", req.volume())
        .push_opt("price", req.price())
        .push("ord_type", req.ord_type())
        .push_opt("time_in_force", req.time_in_force())
        .push("identifier", req.identifier())
}

/// How a [`UpbitOrderClient::create_or_recover`] call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The create call answered with the new order.
    Created(UpbitOrder),
    /// The create call's answer was lost (or refused as a duplicate), and the
    /// order was found by its identifier: it exists exactly once.
    Recovered(UpbitOrder),
}

impl CreateOutcome {
    /// The order.
    pub fn order(&self) -> &UpbitOrder {
        match self {
            Self::Created(o) | Self::Recovered(o) => o,
        }
    }

    /// The order, by value.
    pub fn into_order(self) -> UpbitOrder {
        match self {
            Self::Created(o) | Self::Recovered(o) => o,
        }
    }
}

/// Retry settings of [`UpbitOrderClient::create_or_recover_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoverPolicy {
    /// Create attempts in total.
    pub create_attempts: u32,
    /// Lookups by identifier after an ambiguous failure.
    pub lookup_attempts: u32,
    /// Pause before a lookup (lets an in-flight create land) and between retries.
    pub pause: Duration,
}

impl Default for RecoverPolicy {
    fn default() -> Self {
        Self {
            create_attempts: 3,
            lookup_attempts: 3,
            pause: Duration::from_millis(300),
        }
    }
}

/// Raw and typed order calls. Needs a transport with a credential.
#[derive(Debug, Clone)]
pub struct UpbitOrderClient {
    transport: UpbitTransport,
}

fn invalid(context: &str) -> impl Fn(ValidationError) -> UpbitError + '_ {
    move |e| UpbitError::decode(context, e.to_string())
}

/// Decodes an object that the docs sometimes show wrapped in a one-element array.
fn object_or_first<T: DeserializeOwned>(context: &str, body: &[u8]) -> Result<T, UpbitError> {
    match decode_json::<T>(context, body) {
        Ok(v) => Ok(v),
        Err(first) => decode_json::<Vec<T>>(context, body)
            .ok()
            .and_then(|v| v.into_iter().next())
            .ok_or(first),
    }
}

impl UpbitOrderClient {
    /// Wraps a transport that carries a credential.
    pub fn new(transport: UpbitTransport) -> Result<Self, UpbitError> {
        if transport.credential().is_none() {
            return Err(UpbitError::Config(
                "the order client needs a transport with a credential".to_owned(),
            ));
        }
        Ok(Self { transport })
    }

    /// The transport.
    pub fn transport(&self) -> &UpbitTransport {
        &self.transport
    }

    // ---- raw ---------------------------------------------------------------

    /// `GET /v1/orders/chance?market=…`.
    pub async fn raw_chance(&self, market: &Market) -> Result<ChanceWire, UpbitError> {
        let req = ApiRequest::get("/v1/orders/chance", RateGroup::Default)
            .params(Params::new().push("market", market))
            .signed();
        let body = self.transport.request_bytes(&req).await?;
        object_or_first(&req.path, &body)
    }

    /// `POST /v1/orders` with a prepared body (sent once).
    pub async fn raw_create(&self, body: Params) -> Result<OrderWire, UpbitError> {
        let req = ApiRequest::post("/v1/orders", RateGroup::Order)
            .params(body)
            .signed();
        self.transport.request(&req).await
    }

    /// `POST /v1/orders/test` with a prepared body: validated, nothing created.
    pub async fn raw_create_test(&self, body: Params) -> Result<OrderWire, UpbitError> {
        let req = ApiRequest::post("/v1/orders/test", RateGroup::OrderTest)
            .params(body)
            .signed();
        self.transport.request(&req).await
    }

    /// `GET /v1/order?uuid=…|identifier=…` (with `trades[]`).
    pub async fn raw_get(&self, key: &OrderKey) -> Result<OrderWire, UpbitError> {
        let req = ApiRequest::get("/v1/order", RateGroup::Default)
            .params(key.params())
            .signed();
        self.transport.request(&req).await
    }

    /// `DELETE /v1/order?uuid=…|identifier=…`: the pre-cancel snapshot.
    pub async fn raw_cancel(&self, key: &OrderKey) -> Result<OrderWire, UpbitError> {
        let req = ApiRequest::delete("/v1/order", RateGroup::Default)
            .params(key.params())
            .signed();
        let body = self.transport.request_bytes(&req).await?;
        object_or_first(&req.path, &body)
    }

    /// `GET /v1/orders/open`.
    pub async fn raw_open(&self, query: &OpenOrdersQuery) -> Result<Vec<OrderWire>, UpbitError> {
        let req = ApiRequest::get("/v1/orders/open", RateGroup::Default)
            .params(query.params()?)
            .signed();
        self.transport.request(&req).await
    }

    /// `GET /v1/orders/closed`.
    pub async fn raw_closed(
        &self,
        query: &ClosedOrdersQuery,
    ) -> Result<Vec<OrderWire>, UpbitError> {
        let req = ApiRequest::get("/v1/orders/closed", RateGroup::Default)
            .params(query.params()?)
            .signed();
        self.transport.request(&req).await
    }

    /// `GET /v1/orders/uuids` (≤ 100 ids).
    pub async fn raw_by_ids(
        &self,
        ids: &OrderKeys,
        market: Option<&Market>,
        order_by: Option<OrderBy>,
    ) -> Result<Vec<OrderWire>, UpbitError> {
        ids.check(100)?;
        let params = ids
            .params(Params::new().push_opt("market", market))
            .push_opt("order_by", order_by.map(OrderBy::as_str));
        let req = ApiRequest::get("/v1/orders/uuids", RateGroup::Default)
            .params(params)
            .signed();
        self.transport.request(&req).await
    }

    /// `DELETE /v1/orders/uuids` (≤ 20 ids, query string only).
    pub async fn raw_cancel_by_ids(&self, ids: &OrderKeys) -> Result<BatchCancelWire, UpbitError> {
        ids.check(20)?;
        let req = ApiRequest::delete("/v1/orders/uuids", RateGroup::Default)
            .params(ids.params(Params::new()))
            .signed();
        self.transport.request(&req).await
    }

    /// `DELETE /v1/orders/open`: batch cancel of `wait` orders (1 call / 2 s).
    pub async fn raw_cancel_all(
        &self,
        query: &CancelAllQuery,
    ) -> Result<BatchCancelWire, UpbitError> {
        let req = ApiRequest::delete("/v1/orders/open", RateGroup::OrderCancelAll)
            .params(query.params()?)
            .signed();
        self.transport.request(&req).await
    }

    // ---- typed -------------------------------------------------------------

    /// Fees, limits and balances for `market`.
    pub async fn chance(&self, market: &Market) -> Result<OrderChance, UpbitError> {
        let w = self.raw_chance(market).await?;
        types::chance(&w).map_err(invalid("orders/chance"))
    }

    /// Places `request` (sent once; see [`Self::create_or_recover`] for retries).
    pub async fn create(&self, request: &OrderRequest) -> Result<UpbitOrder, UpbitError> {
        let w = self.raw_create(order_body(request)).await?;
        types::order(&w).map_err(invalid("orders"))
    }

    /// Validates `request` with Upbit's test endpoint; nothing is created and
    /// the returned uuid cannot be queried.
    pub async fn create_test(&self, request: &OrderRequest) -> Result<UpbitOrder, UpbitError> {
        let w = self.raw_create_test(order_body(request)).await?;
        types::order(&w).map_err(invalid("orders/test"))
    }

    /// One order with its fills.
    pub async fn get(&self, key: &OrderKey) -> Result<UpbitOrder, UpbitError> {
        let w = self.raw_get(key).await?;
        types::order(&w).map_err(invalid("order"))
    }

    /// Requests a cancel; returns the snapshot before it (usually still `wait`).
    pub async fn cancel(&self, key: &OrderKey) -> Result<UpbitOrder, UpbitError> {
        let w = self.raw_cancel(key).await?;
        types::order(&w).map_err(invalid("order"))
    }

    /// Open orders.
    pub async fn open_orders(
        &self,
        query: &OpenOrdersQuery,
    ) -> Result<Vec<UpbitOrder>, UpbitError> {
        let w = self.raw_open(query).await?;
        w.iter()
            .map(types::order)
            .collect::<Result<_, _>>()
            .map_err(invalid("orders/open"))
    }

    /// Closed orders.
    pub async fn closed_orders(
        &self,
        query: &ClosedOrdersQuery,
    ) -> Result<Vec<UpbitOrder>, UpbitError> {
        let w = self.raw_closed(query).await?;
        w.iter()
            .map(types::order)
            .collect::<Result<_, _>>()
            .map_err(invalid("orders/closed"))
    }

    /// Orders by ids.
    pub async fn orders_by_ids(
        &self,
        ids: &OrderKeys,
        market: Option<&Market>,
        order_by: Option<OrderBy>,
    ) -> Result<Vec<UpbitOrder>, UpbitError> {
        let w = self.raw_by_ids(ids, market, order_by).await?;
        w.iter()
            .map(types::order)
            .collect::<Result<_, _>>()
            .map_err(invalid("orders/uuids"))
    }

    /// Cancels orders by ids.
    pub async fn cancel_by_ids(&self, ids: &OrderKeys) -> Result<BatchCancel, UpbitError> {
        self.raw_cancel_by_ids(ids)
            .await
            .map(|w| types::batch_cancel(&w))
    }

    /// Cancels open orders matching `query`.
    pub async fn cancel_all(&self, query: &CancelAllQuery) -> Result<BatchCancel, UpbitError> {
        self.raw_cancel_all(query)
            .await
            .map(|w| types::batch_cancel(&w))
    }

    /// [`Self::create_or_recover_with`] with the default policy.
    pub async fn create_or_recover(
        &self,
        request: &OrderRequest,
    ) -> Result<CreateOutcome, UpbitError> {
        self.create_or_recover_with(request, &RecoverPolicy::default())
            .await
    }

    /// Places `request` such that retries can never make a second order.
    ///
    /// Every attempt sends the same body with the same `identifier` (Upbit
    /// refuses a second order with an identifier it has seen). When an attempt
    /// fails in a way that leaves the outcome unknown (transport failure after
    /// connecting, timeout, 5xx), or is refused in a way that may mean "this
    /// identifier exists" (unknown error name, `validation_error`), the order
    /// is looked up by identifier **before** anything else is sent: found →
    /// [`CreateOutcome::Recovered`]; not found → the create is retried (if the
    /// error is retryable). Errors that prove nothing was created (insufficient
    /// funds, tick/minimum/volume rejections, auth, 429, connect failures) are
    /// returned or retried without a lookup.
    ///
    /// If the lookup itself keeps failing the lookup's error is returned and
    /// the outcome is unknown: call this again with the **same** request.
    pub async fn create_or_recover_with(
        &self,
        request: &OrderRequest,
        policy: &RecoverPolicy,
    ) -> Result<CreateOutcome, UpbitError> {
        let key = OrderKey::Identifier(request.identifier().clone());
        let attempts = policy.create_attempts.max(1);
        let mut attempt = 1;
        loop {
            let err = match self.raw_create(order_body(request)).await {
                Ok(w) => {
                    return types::order(&w)
                        .map(CreateOutcome::Created)
                        .map_err(invalid("orders"));
                }
                Err(e) => e,
            };
            tracing::warn!(
                identifier = %request.identifier(),
                attempt,
                error = %err,
                "order create failed"
            );
            if may_exist(&err)
                && let Some(order) = self.lookup(&key, policy).await?
            {
                tracing::info!(
                    identifier = %request.identifier(),
                    uuid = %order.uuid,
                    "order recovered by identifier"
                );
                return Ok(CreateOutcome::Recovered(order));
            }
            if attempt >= attempts || !err.is_retryable() {
                return Err(err);
            }
            // A 429 is held by the limiter; other retries pause first.
            if err.category() != ErrorCategory::RateLimited {
                tokio::time::sleep(policy.pause).await;
            }
            attempt += 1;
        }
    }

    /// Looks an order up by identifier: `Some` if it exists, `None` on
    /// `order_not_found`, an error when it cannot be told.
    async fn lookup(
        &self,
        key: &OrderKey,
        policy: &RecoverPolicy,
    ) -> Result<Option<UpbitOrder>, UpbitError> {
        let mut tries = 0;
        loop {
            tries += 1;
            tokio::time::sleep(policy.pause).await;
            match self.get(key).await {
                Ok(o) => return Ok(Some(o)),
                Err(e) if e.api_kind() == Some(&ApiErrorKind::OrderNotFound) => return Ok(None),
                Err(e) if tries < policy.lookup_attempts.max(1) && e.is_retryable() => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// True when a failed create may nonetheless have created the order.
fn may_exist(err: &UpbitError) -> bool {
    if err.outcome_unknown() {
        return true;
    }
    matches!(
        err.category(),
        ErrorCategory::Unknown | ErrorCategory::BadRequest
    ) && matches!(
        err,
        UpbitError::Api { .. } | UpbitError::UnexpectedStatus { .. }
    )
}
