//! The one [`OrderExecutor`] trait both modes implement (ENGINEERING §3.8):
//! the trader's code path is the same for PAPER and LIVE up to the call into
//! it. It accepts only a [`RiskApproved`] order, and the one call that can
//! create an order ([`OrderExecutor::submit`]) carries the trader's
//! `Option<Armed>`: the LIVE executor refuses `None` before anything is sent
//! (FIX-8), PAPER ignores it. Reads (an order, open and closed lists,
//! balances) and cancels need only the credential the executor was built
//! with: a trader that is not armed must still watch what it has resting on
//! the exchange, record its fills and withdraw it.
//!
//! Orders are always named by our [`OrderIdentifier`] (unique per attempt),
//! never by the exchange's uuid, so a trader that lost an answer can always
//! ask again.

use std::{fmt, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    Armed, Currency, Krw, Market, Mode, OrdType, OrderIdentifier, OrderRequest, OrderState, Price,
    Side, TimeInForce, Volume,
};
use risk::RiskApproved;
use rust_decimal::Decimal;

/// One fill as the executor reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecTrade {
    /// The exchange's trade id (unique per fill).
    pub uuid: String,
    /// Execution price.
    pub price: Price,
    /// Executed volume.
    pub volume: Volume,
    /// `price × volume`.
    pub funds: Krw,
    /// The fee of this fill, when the source states it (PAPER does; Upbit's
    /// REST order view does not — see [`crate::fills`]).
    pub fee: Option<Krw>,
    /// When it executed.
    pub ts: DateTime<Utc>,
}

/// An order as the exchange (or the PAPER book) sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOrder {
    /// The exchange's uuid.
    pub uuid: String,
    /// Our identifier.
    pub identifier: OrderIdentifier,
    /// Market.
    pub market: Market,
    /// Side.
    pub side: Side,
    /// Order type.
    pub ord_type: OrdType,
    /// Limit price, or the KRW total of a market buy.
    pub price: Option<Price>,
    /// Requested volume.
    pub volume: Option<Volume>,
    /// Time in force.
    pub time_in_force: Option<TimeInForce>,
    /// State (`cancel` with fills is a partial fill).
    pub state: OrderState,
    /// Volume executed so far.
    pub executed_volume: Volume,
    /// KRW executed so far.
    pub executed_funds: Krw,
    /// Fees paid so far.
    pub paid_fee: Krw,
    /// Every fill so far, oldest first — `None` when the answer carried no
    /// fill list (Upbit's create answer): fetch the order to learn them.
    pub trades: Option<Vec<ExecTrade>>,
    /// When the order was created.
    pub created_at: DateTime<Utc>,
}

impl ExecOrder {
    /// True once no more fills can happen.
    pub fn is_final(&self) -> bool {
        self.state.is_final()
    }
}

/// A balance of the account behind the executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    /// Currency.
    pub currency: Currency,
    /// Free amount.
    pub balance: Decimal,
    /// Locked by open orders.
    pub locked: Decimal,
}

impl AccountBalance {
    /// `balance + locked`.
    pub fn total(&self) -> Decimal {
        self.balance + self.locked
    }
}

/// Why an exchange refused an order (nothing was created).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not enough free balance.
    InsufficientFunds,
    /// Tick, minimum total, volume or type rejected.
    OrderRejected,
    /// Credential or permission problem.
    Auth,
    /// The market is offline (maintenance).
    MarketOffline,
    /// The account or IP is blocked for a while (HTTP 418).
    Blocked,
    /// Any other refusal that proves nothing was created.
    Other,
}

/// Every way an executor call can fail, classified for the runbook
/// (RUN-1..3): whether anything may have been created, and whether a retry
/// can help.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecError {
    /// FIX-8: a LIVE create without an ARM proof. Nothing was sent.
    #[error("LIVE orders need an ARM proof; nothing was sent (FIX-8)")]
    NotArmed,
    /// The exchange refused; nothing was created.
    #[error("order refused ({kind:?}): {message}")]
    Refused {
        /// Why.
        kind: Refusal,
        /// The exchange's words.
        message: String,
    },
    /// Rate limited (RUN-3); nothing was created.
    #[error("rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// How long the exchange asked us to wait, when known.
        retry_after: Option<Duration>,
    },
    /// The exchange failed transiently and — for a create — a lookup by
    /// identifier proved nothing was created. Retrying can help.
    #[error("exchange unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
    },
    /// A create whose outcome is unknown (the answer was lost and the
    /// lookup failed too): the order may exist. Never retry it under a new
    /// identifier; look it up again later.
    #[error("outcome unknown: {message}")]
    Unknown {
        /// What failed.
        message: String,
    },
    /// No order with this identifier exists (or it is already final, for a cancel).
    #[error("order {identifier} not found")]
    NotFound {
        /// The identifier asked for.
        identifier: String,
    },
    /// The request or the exchange's answer did not validate.
    #[error("invalid: {0}")]
    Invalid(String),
}

impl ExecError {
    /// True when the call provably created nothing (a new attempt under a
    /// new identifier is safe).
    pub fn nothing_created(&self) -> bool {
        !matches!(self, Self::Unknown { .. })
    }

    /// True when repeating the call later can help.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Unavailable { .. } | Self::Unknown { .. }
        )
    }

    /// True for a rate-limit answer (RUN-3: slow down).
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::RateLimited { .. })
    }

    /// True when the exchange itself is failing (5xx, network): the runtime
    /// guard's API-health input (STAB-1).
    pub fn is_exchange_failure(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Unknown { .. })
    }
}

/// Executes approved orders. One implementation per mode ([`crate::LiveExecutor`],
/// [`crate::PaperExecutor`]); the trader holds a `dyn OrderExecutor`.
#[async_trait]
pub trait OrderExecutor: Send + Sync + fmt::Debug {
    /// PAPER or LIVE.
    fn mode(&self) -> Mode;

    /// Places one approved order under its identifier. LIVE needs `armed`
    /// (FIX-8): without it nothing is sent.
    async fn submit(
        &self,
        armed: Option<Armed>,
        order: RiskApproved<OrderRequest>,
    ) -> Result<ExecOrder, ExecError>;

    /// The order named `identifier` with every fill so far, or `None` when
    /// the exchange has no such order. Needs no ARM proof (a read).
    async fn fetch(&self, identifier: &OrderIdentifier) -> Result<Option<ExecOrder>, ExecError>;

    /// Cancels the open order `identifier`. Returns what the exchange
    /// answered (a cancel may take effect later: fetch to see the final state).
    /// Needs no ARM proof: withdrawing an order never adds exposure.
    async fn cancel(&self, identifier: &OrderIdentifier) -> Result<ExecOrder, ExecError>;

    /// Open orders whose identifier starts with `prefix` (reconciliation).
    async fn open_orders(&self, prefix: &str) -> Result<Vec<ExecOrder>, ExecError>;

    /// Closed orders since `since` (at most 7 days back) whose identifier
    /// starts with `prefix` (reconciliation).
    async fn closed_orders(
        &self,
        prefix: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<ExecOrder>, ExecError>;

    /// The account's balances (LIVE; PAPER has no account and returns none).
    async fn balances(&self) -> Result<Vec<AccountBalance>, ExecError>;
}
