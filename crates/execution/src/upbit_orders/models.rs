//! Wire structs of Upbit's order endpoints (upbit-api.md §3.2–§3.9), exactly
//! as sent: amounts are decimal strings (read through `upbit`'s one
//! number-or-string parser), omitted-when-null fields are `Option`s,
//! `trades_count` is an integer (sometimes quoted).

use rust_decimal::Decimal;
use serde::Deserialize;
use upbit::{
    common::parse::{decimal, int, opt_decimal, opt_int},
    http::models::AccountWire,
};

/// An order object (create, get, cancel, lists, cancel-and-new).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderWire {
    /// Server order id.
    pub uuid: String,
    /// `bid` / `ask`.
    pub side: String,
    /// `limit` / `price` / `market` / `best`.
    pub ord_type: String,
    /// Limit price, or the KRW total of a market/best buy; absent on market sells.
    #[serde(default, with = "opt_decimal")]
    pub price: Option<Decimal>,
    /// `wait` / `watch` / `done` / `cancel`.
    pub state: String,
    /// Market code.
    pub market: String,
    /// KST ISO-8601 with offset.
    pub created_at: String,
    /// Requested volume; absent on market/best buys.
    #[serde(default, with = "opt_decimal")]
    pub volume: Option<Decimal>,
    /// Volume not yet filled.
    #[serde(default, with = "opt_decimal")]
    pub remaining_volume: Option<Decimal>,
    /// Filled volume.
    #[serde(default, with = "opt_decimal")]
    pub executed_volume: Option<Decimal>,
    /// Quote value filled (list endpoints).
    #[serde(default, with = "opt_decimal")]
    pub executed_funds: Option<Decimal>,
    /// Fee reserved at creation.
    #[serde(default, with = "opt_decimal")]
    pub reserved_fee: Option<Decimal>,
    /// Reserved fee not yet used.
    #[serde(default, with = "opt_decimal")]
    pub remaining_fee: Option<Decimal>,
    /// Fee charged so far.
    #[serde(default, with = "opt_decimal")]
    pub paid_fee: Option<Decimal>,
    /// Amount still locked by the order.
    #[serde(default, with = "opt_decimal")]
    pub locked: Option<Decimal>,
    /// SMP-cancelled volume.
    #[serde(default, with = "opt_decimal")]
    pub prevented_volume: Option<Decimal>,
    /// SMP-released amount.
    #[serde(default, with = "opt_decimal")]
    pub prevented_locked: Option<Decimal>,
    /// Number of fills.
    #[serde(default, with = "opt_int")]
    pub trades_count: Option<u32>,
    /// `ioc` / `fok` / `post_only`.
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// Self-match prevention type.
    #[serde(default)]
    pub smp_type: Option<String>,
    /// Client identifier.
    #[serde(default)]
    pub identifier: Option<String>,
    /// Fills (single-order GET only).
    #[serde(default)]
    pub trades: Vec<OrderTradeWire>,
    /// Cancel-and-new: the replacement's uuid.
    #[serde(default)]
    pub new_order_uuid: Option<String>,
    /// Cancel-and-new: the replacement's identifier.
    #[serde(default)]
    pub new_order_identifier: Option<String>,
}

/// One fill inside an order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderTradeWire {
    /// Market code.
    pub market: String,
    /// Trade id.
    pub uuid: String,
    /// Fill price.
    #[serde(with = "decimal")]
    pub price: Decimal,
    /// Fill volume.
    #[serde(with = "decimal")]
    pub volume: Decimal,
    /// `price × volume`.
    #[serde(with = "decimal")]
    pub funds: Decimal,
    /// `up` (a buy took) / `down` (a sell took).
    #[serde(default)]
    pub trend: Option<String>,
    /// Fill time, KST with fraction.
    pub created_at: String,
    /// Our side.
    pub side: String,
}

/// Fees, limits and balances for one market.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChanceWire {
    /// Taker buy fee rate.
    #[serde(with = "decimal")]
    pub bid_fee: Decimal,
    /// Taker sell fee rate.
    #[serde(with = "decimal")]
    pub ask_fee: Decimal,
    /// Maker buy fee rate.
    #[serde(default, with = "opt_decimal")]
    pub maker_bid_fee: Option<Decimal>,
    /// Maker sell fee rate.
    #[serde(default, with = "opt_decimal")]
    pub maker_ask_fee: Option<Decimal>,
    /// Market rules.
    pub market: ChanceMarketWire,
    /// Quote (KRW) balance.
    pub bid_account: AccountWire,
    /// Base balance.
    pub ask_account: AccountWire,
}

/// `market` of the chance response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChanceMarketWire {
    /// `KRW-BTC`.
    pub id: String,
    /// `BTC/KRW`.
    #[serde(default)]
    pub name: String,
    /// Deprecated.
    #[serde(default)]
    pub order_types: Vec<String>,
    /// `ask`, `bid`.
    #[serde(default)]
    pub order_sides: Vec<String>,
    /// Buy order types (`limit`, `price`, `best_ioc`, …).
    #[serde(default)]
    pub bid_types: Vec<String>,
    /// Sell order types.
    #[serde(default)]
    pub ask_types: Vec<String>,
    /// Buy-side limits.
    pub bid: ChanceSideWire,
    /// Sell-side limits.
    pub ask: ChanceSideWire,
    /// Maximum order value.
    #[serde(default, with = "opt_decimal")]
    pub max_total: Option<Decimal>,
    /// `active`, …
    #[serde(default)]
    pub state: Option<String>,
}

/// One side's limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChanceSideWire {
    /// Currency.
    pub currency: String,
    /// Minimum order value (string now, number in older examples).
    #[serde(default, with = "opt_decimal")]
    pub min_total: Option<Decimal>,
    /// Older responses: price unit (usually null).
    #[serde(default, with = "opt_decimal")]
    pub price_unit: Option<Decimal>,
}

/// Response of both batch cancels.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BatchCancelWire {
    /// Accepted cancels.
    pub success: BatchPartWire,
    /// Refused cancels (already filled/cancelled, market suspended).
    pub failed: BatchPartWire,
}

/// One half of a batch-cancel response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BatchPartWire {
    /// Number of orders.
    #[serde(with = "int")]
    pub count: u32,
    /// The orders.
    #[serde(default)]
    pub orders: Vec<OrderRefWire>,
}

/// An order reference in a batch-cancel response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderRefWire {
    /// Order uuid.
    pub uuid: String,
    /// Market code (empty when the answer names none, e.g. for an unknown id).
    #[serde(default)]
    pub market: String,
    /// Client identifier, if set.
    #[serde(default)]
    pub identifier: Option<String>,
}
