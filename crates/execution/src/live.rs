//! The LIVE executor: real Upbit orders through [`UpbitOrderClient`].
//!
//! FIX-8 by construction: the one method that can create an order
//! ([`LiveExecutor::place`]) takes an [`Armed`] proof by value, and `domain`
//! builds one only for a LIVE trader in the ARMED state. The
//! [`OrderExecutor`] impl turns a missing proof into [`ExecError::NotArmed`]
//! before any request is built. Reads and cancels need only the credential:
//! they never add exposure, and a disarmed trader must still watch, record
//! and withdraw what it has resting.
//!
//! A create is sent once per identifier. When the answer is lost or
//! ambiguous (network failure after connecting, 5xx, an unknown error name,
//! `validation_error`, an undecodable body) the order is looked up by its
//! identifier before anything else happens: found → it is the answer; not
//! found → the failure is reported as one that created nothing, so the
//! caller may try again under a **new** identifier; lookup failed too → the
//! outcome is [`ExecError::Unknown`] and the caller must look again later.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{Armed, Mode, OrderIdentifier, OrderRequest};
use risk::RiskApproved;
use upbit::{ApiErrorKind, ErrorCategory, UpbitClient, UpbitError};

use crate::{
    executor::{AccountBalance, ExecError, ExecOrder, ExecTrade, OrderExecutor, Refusal},
    upbit_orders::{
        ClosedOrdersQuery, OpenOrdersQuery, OrderBy, OrderKey, UpbitOrder, UpbitOrderClient,
    },
};

/// Lookup settings after an ambiguous create.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Lookups by identifier before giving the outcome up as unknown.
    pub lookup_attempts: u32,
    /// Pause before each lookup (lets an in-flight create land).
    pub lookup_pause: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            lookup_attempts: 3,
            lookup_pause: Duration::from_millis(300),
        }
    }
}

/// Places real orders. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LiveExecutor {
    client: UpbitOrderClient,
    config: LiveConfig,
}

/// Upbit's limit on one page of open orders.
const OPEN_PAGE: u16 = 100;
/// Pages of open orders read at most (10,000 orders).
const OPEN_PAGES: u32 = 100;

impl LiveExecutor {
    /// An executor over an order client (whose transport carries the credential).
    pub fn new(client: UpbitOrderClient, config: LiveConfig) -> Self {
        Self { client, config }
    }

    /// The order client.
    pub fn client(&self) -> &UpbitOrderClient {
        &self.client
    }

    /// Places one approved order (see the module docs for ambiguous answers).
    pub async fn place(
        &self,
        _armed: Armed,
        order: RiskApproved<OrderRequest>,
    ) -> Result<ExecOrder, ExecError> {
        let request = order.into_inner();
        let err = match self.client.create(&request).await {
            Ok(o) => return convert(o, false),
            Err(e) => e,
        };
        tracing::warn!(identifier = %request.identifier(), error = %err, "order create failed");
        if proves_nothing_created(&err) {
            return Err(classify(&err));
        }
        match self.lookup(request.identifier()).await {
            Ok(Some(o)) => {
                tracing::info!(identifier = %request.identifier(), uuid = %o.uuid, "order found after an ambiguous create");
                Ok(o)
            }
            Ok(None) => Err(match classify(&err) {
                e @ (ExecError::RateLimited { .. } | ExecError::Unavailable { .. }) => e,
                other => ExecError::Refused {
                    kind: Refusal::Other,
                    message: other.to_string(),
                },
            }),
            Err(lookup) => Err(ExecError::Unknown {
                message: format!("create failed ({err}); lookup failed too ({lookup})"),
            }),
        }
    }

    async fn lookup(&self, identifier: &OrderIdentifier) -> Result<Option<ExecOrder>, UpbitError> {
        let key = OrderKey::Identifier(identifier.clone());
        let mut tries = 0;
        loop {
            tries += 1;
            tokio::time::sleep(self.config.lookup_pause).await;
            match self.client.get(&key).await {
                Ok(o) => {
                    return convert(o, true)
                        .map(Some)
                        .map_err(|e| UpbitError::decode("order", e.to_string()));
                }
                Err(e) if e.api_kind() == Some(&ApiErrorKind::OrderNotFound) => return Ok(None),
                Err(e) if tries < self.config.lookup_attempts.max(1) && e.is_retryable() => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The order with its fills, `None` when Upbit has no such order.
    pub async fn get(&self, identifier: &OrderIdentifier) -> Result<Option<ExecOrder>, ExecError> {
        match self
            .client
            .get(&OrderKey::Identifier(identifier.clone()))
            .await
        {
            Ok(o) => convert(o, true).map(Some),
            Err(e) if e.api_kind() == Some(&ApiErrorKind::OrderNotFound) => Ok(None),
            Err(e) => Err(classify(&e)),
        }
    }

    /// Requests a cancel (no ARM proof: a cancel never adds exposure).
    pub async fn cancel_order(&self, identifier: &OrderIdentifier) -> Result<ExecOrder, ExecError> {
        match self
            .client
            .cancel(&OrderKey::Identifier(identifier.clone()))
            .await
        {
            Ok(o) => convert(o, false),
            Err(e) if e.api_kind() == Some(&ApiErrorKind::OrderNotFound) => {
                Err(ExecError::NotFound {
                    identifier: identifier.to_string(),
                })
            }
            Err(e) => Err(classify(&e)),
        }
    }

    /// Open orders with our prefix.
    pub async fn list_open(&self, prefix: &str) -> Result<Vec<ExecOrder>, ExecError> {
        let mut out = Vec::new();
        for page in 1..=OPEN_PAGES {
            let q = OpenOrdersQuery {
                page: Some(page),
                limit: Some(OPEN_PAGE),
                order_by: Some(OrderBy::Asc),
                ..OpenOrdersQuery::default()
            };
            let list = self
                .client
                .open_orders(&q)
                .await
                .map_err(|e| classify(&e))?;
            let n = list.len();
            out.extend(ours(list, prefix)?);
            if n < usize::from(OPEN_PAGE) {
                break;
            }
        }
        Ok(out)
    }

    /// Closed orders with our prefix in the 7 days from `since` (the caller
    /// keeps `since` within the last 7 days).
    pub async fn list_closed(
        &self,
        prefix: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<ExecOrder>, ExecError> {
        // Only a start: Upbit answers the 7 days from it.
        let q = ClosedOrdersQuery {
            start_time: Some(since),
            limit: Some(1000),
            order_by: Some(OrderBy::Asc),
            ..ClosedOrdersQuery::default()
        };
        let list = self
            .client
            .closed_orders(&q)
            .await
            .map_err(|e| classify(&e))?;
        if list.len() >= 1000 {
            tracing::warn!(
                "1000 closed orders in the reconciliation window; older ones not checked"
            );
        }
        ours(list, prefix)
    }

    /// The account's balances.
    pub async fn account(&self) -> Result<Vec<AccountBalance>, ExecError> {
        let client = UpbitClient::new(self.client.transport().clone());
        let list = client.accounts().await.map_err(|e| classify(&e))?;
        Ok(list
            .into_iter()
            .map(|b| AccountBalance {
                currency: b.currency,
                balance: b.balance,
                locked: b.locked,
            })
            .collect())
    }
}

fn ours(list: Vec<UpbitOrder>, prefix: &str) -> Result<Vec<ExecOrder>, ExecError> {
    list.into_iter()
        .filter(|o| {
            o.identifier
                .as_deref()
                .is_some_and(|i| i.starts_with(prefix))
        })
        .map(|o| convert(o, false))
        .collect()
}

/// True when the error proves the create never produced an order.
fn proves_nothing_created(err: &UpbitError) -> bool {
    match err {
        UpbitError::Transport { maybe_sent, .. } => !maybe_sent,
        UpbitError::InvalidRequest(_) | UpbitError::Config(_) => true,
        UpbitError::Decode { .. } | UpbitError::Server { .. } => false,
        _ => matches!(
            err.category(),
            ErrorCategory::InsufficientFunds
                | ErrorCategory::OrderRejected
                | ErrorCategory::Auth
                | ErrorCategory::Permission
                | ErrorCategory::MarketOffline
                | ErrorCategory::RateLimited
                | ErrorCategory::Blocked
                | ErrorCategory::Local
                | ErrorCategory::NotFound
        ),
    }
}

/// Maps an Upbit error to the executor's classes.
fn classify(err: &UpbitError) -> ExecError {
    let message = err.to_string();
    match err.category() {
        ErrorCategory::RateLimited => ExecError::RateLimited {
            retry_after: err.retry_after(),
        },
        ErrorCategory::Transient => ExecError::Unavailable { message },
        ErrorCategory::InsufficientFunds => ExecError::Refused {
            kind: Refusal::InsufficientFunds,
            message,
        },
        ErrorCategory::OrderRejected => ExecError::Refused {
            kind: Refusal::OrderRejected,
            message,
        },
        ErrorCategory::Auth | ErrorCategory::Permission => ExecError::Refused {
            kind: Refusal::Auth,
            message,
        },
        ErrorCategory::MarketOffline => ExecError::Refused {
            kind: Refusal::MarketOffline,
            message,
        },
        ErrorCategory::Blocked => ExecError::Refused {
            kind: Refusal::Blocked,
            message,
        },
        ErrorCategory::NotFound => ExecError::NotFound {
            identifier: message,
        },
        ErrorCategory::Decode | ErrorCategory::Local => ExecError::Invalid(message),
        ErrorCategory::BadRequest | ErrorCategory::Unknown => ExecError::Refused {
            kind: Refusal::Other,
            message,
        },
    }
}

/// Converts Upbit's order view. `with_trades` says the answer lists every
/// fill (the single-order GET does); otherwise the list is known only when
/// nothing executed yet.
fn convert(o: UpbitOrder, with_trades: bool) -> Result<ExecOrder, ExecError> {
    let identifier = o
        .order_identifier()
        .ok_or_else(|| ExecError::Invalid(format!("order {} has no identifier of ours", o.uuid)))?;
    let executed_funds = o.filled_funds();
    let trades = if with_trades {
        Some(
            o.trades
                .iter()
                .map(|t| ExecTrade {
                    uuid: t.uuid.clone(),
                    price: t.price,
                    volume: t.volume,
                    funds: t.funds,
                    fee: None,
                    ts: t.created_at,
                })
                .collect(),
        )
    } else if o.executed_volume.is_zero() {
        Some(Vec::new())
    } else {
        None
    };
    Ok(ExecOrder {
        uuid: o.uuid,
        identifier,
        market: o.market,
        side: o.side,
        ord_type: o.ord_type,
        price: o.price,
        volume: o.volume,
        time_in_force: o.time_in_force,
        state: o.state,
        executed_volume: o.executed_volume,
        executed_funds,
        paid_fee: o.paid_fee,
        trades,
        created_at: o.created_at,
    })
}

fn need(armed: Option<Armed>) -> Result<Armed, ExecError> {
    armed.ok_or(ExecError::NotArmed)
}

#[async_trait]
impl OrderExecutor for LiveExecutor {
    fn mode(&self) -> Mode {
        Mode::Live
    }

    async fn submit(
        &self,
        armed: Option<Armed>,
        order: RiskApproved<OrderRequest>,
    ) -> Result<ExecOrder, ExecError> {
        let armed = need(armed)?;
        self.place(armed, order).await
    }

    async fn fetch(&self, identifier: &OrderIdentifier) -> Result<Option<ExecOrder>, ExecError> {
        self.get(identifier).await
    }

    async fn cancel(&self, identifier: &OrderIdentifier) -> Result<ExecOrder, ExecError> {
        self.cancel_order(identifier).await
    }

    async fn open_orders(&self, prefix: &str) -> Result<Vec<ExecOrder>, ExecError> {
        self.list_open(prefix).await
    }

    async fn closed_orders(
        &self,
        prefix: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<ExecOrder>, ExecError> {
        self.list_closed(prefix, since).await
    }

    async fn balances(&self) -> Result<Vec<AccountBalance>, ExecError> {
        self.account().await
    }
}
