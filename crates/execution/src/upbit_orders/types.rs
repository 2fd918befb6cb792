//! Typed order objects: exact money (`Price`/`Volume`/`Krw`), domain enums,
//! UTC instants, validated KRW markets; and their conversion from the wire.

use chrono::{DateTime, Utc};
use domain::{
    Krw, Market, OrdType, OrderIdentifier, OrderState, Price, Side, TimeInForce, ValidationError,
    Volume,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use upbit::{
    Balance,
    common::parse::offset_datetime,
    http::parse::{balance, price},
};

use super::models::{BatchCancelWire, ChanceWire, OrderRefWire, OrderTradeWire, OrderWire};

/// One fill of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTrade {
    /// Market.
    pub market: Market,
    /// Trade id.
    pub uuid: String,
    /// Fill price.
    pub price: Price,
    /// Fill volume.
    pub volume: Volume,
    /// `price × volume` in KRW.
    pub funds: Krw,
    /// `up` / `down`.
    pub trend: Option<String>,
    /// Our side.
    pub side: Side,
    /// Fill time.
    pub created_at: DateTime<Utc>,
}

/// An Upbit order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpbitOrder {
    /// Server order id.
    pub uuid: String,
    /// Client identifier (ours look like `t7-salt-120-0`).
    pub identifier: Option<String>,
    /// Market.
    pub market: Market,
    /// Side.
    pub side: Side,
    /// Order type.
    pub ord_type: OrdType,
    /// State (`cancel` with fills is a partial fill, not a failure).
    pub state: OrderState,
    /// Limit price, or the KRW total of a market/best buy.
    pub price: Option<Price>,
    /// Requested volume (absent on market/best buys).
    pub volume: Option<Volume>,
    /// Volume not yet filled.
    pub remaining_volume: Option<Volume>,
    /// Filled volume.
    pub executed_volume: Volume,
    /// Quote value filled (list endpoints only).
    pub executed_funds: Option<Krw>,
    /// Fee reserved at creation.
    pub reserved_fee: Krw,
    /// Reserved fee not yet used.
    pub remaining_fee: Krw,
    /// Fee charged so far.
    pub paid_fee: Krw,
    /// Still locked: KRW for a bid, base volume for an ask.
    pub locked: Decimal,
    /// SMP-cancelled volume.
    pub prevented_volume: Decimal,
    /// SMP-released amount.
    pub prevented_locked: Decimal,
    /// Number of fills.
    pub trades_count: u32,
    /// Time in force.
    pub time_in_force: Option<TimeInForce>,
    /// SMP type.
    pub smp_type: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Fills (single-order GET only).
    pub trades: Vec<OrderTrade>,
    /// Cancel-and-new: the replacement's uuid.
    pub new_order_uuid: Option<String>,
    /// Cancel-and-new: the replacement's identifier.
    pub new_order_identifier: Option<String>,
}

impl UpbitOrder {
    /// True once no more fills can happen (`done` / `cancel`).
    pub fn is_final(&self) -> bool {
        self.state.is_final()
    }

    /// KRW filled so far: `executed_funds` when sent, else the sum of the fills.
    pub fn filled_funds(&self) -> Krw {
        self.executed_funds
            .unwrap_or_else(|| self.trades.iter().map(|t| t.funds).sum())
    }

    /// Volume-weighted average fill price, when anything filled and the funds are known.
    pub fn average_fill_price(&self) -> Option<Price> {
        if self.executed_volume.is_zero() {
            return None;
        }
        let funds = self.filled_funds().get();
        Price::new(funds / self.executed_volume.get()).ok()
    }

    /// Our identifier, when it parses as one.
    pub fn order_identifier(&self) -> Option<OrderIdentifier> {
        self.identifier
            .as_deref()
            .and_then(|s| OrderIdentifier::parse("identifier", s).ok())
    }
}

/// Fees, limits and balances for one market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderChance {
    /// Market.
    pub market: Market,
    /// Taker buy fee rate (0.0005 = 0.05 %).
    pub bid_fee: Decimal,
    /// Taker sell fee rate.
    pub ask_fee: Decimal,
    /// Maker buy fee rate (taker rate when not sent).
    pub maker_bid_fee: Decimal,
    /// Maker sell fee rate (taker rate when not sent).
    pub maker_ask_fee: Decimal,
    /// Allowed buy types (`limit`, `price`, `best_ioc`, `limit_fok`, …).
    pub bid_types: Vec<String>,
    /// Allowed sell types.
    pub ask_types: Vec<String>,
    /// Minimum buy total.
    pub bid_min_total: Option<Krw>,
    /// Minimum sell total.
    pub ask_min_total: Option<Krw>,
    /// Maximum order total.
    pub max_total: Option<Krw>,
    /// Market state (`active`, …).
    pub state: Option<String>,
    /// KRW balance.
    pub bid_account: Balance,
    /// Base-currency balance.
    pub ask_account: Balance,
}

/// An order reference in a batch-cancel result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRef {
    /// Order uuid.
    pub uuid: String,
    /// Market code (kept as text: the account may hold other markets; empty
    /// when Upbit names none, e.g. for an id it does not know).
    pub market: String,
    /// Client identifier.
    pub identifier: Option<String>,
}

/// Result of a batch cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCancel {
    /// Cancels accepted.
    pub succeeded: Vec<OrderRef>,
    /// Cancels refused.
    pub failed: Vec<OrderRef>,
    /// Count reported for `succeeded`.
    pub success_count: u32,
    /// Count reported for `failed`.
    pub failed_count: u32,
}

fn volume(field: &str, v: Decimal) -> Result<Volume, ValidationError> {
    Volume::new(v).map_err(|e| e.in_field(field))
}

fn opt_volume(field: &str, v: Option<Decimal>) -> Result<Option<Volume>, ValidationError> {
    v.map(|d| volume(field, d)).transpose()
}

fn krw(v: Option<Decimal>) -> Krw {
    Krw::from_decimal(v.unwrap_or_default())
}

/// Converts one fill.
pub fn order_trade(w: &OrderTradeWire) -> Result<OrderTrade, ValidationError> {
    Ok(OrderTrade {
        market: Market::parse("trades.market", &w.market)?,
        uuid: w.uuid.clone(),
        price: price("trades.price", w.price)?,
        volume: volume("trades.volume", w.volume)?,
        funds: Krw::from_decimal(w.funds),
        trend: w.trend.clone(),
        side: Side::parse("trades.side", &w.side)?,
        created_at: offset_datetime("trades.created_at", &w.created_at)?,
    })
}

/// Converts one order.
pub fn order(w: &OrderWire) -> Result<UpbitOrder, ValidationError> {
    Ok(UpbitOrder {
        uuid: w.uuid.clone(),
        identifier: w.identifier.clone(),
        market: Market::parse("market", &w.market)?,
        side: Side::parse("side", &w.side)?,
        ord_type: OrdType::parse("ord_type", &w.ord_type)?,
        state: OrderState::parse("state", &w.state)?,
        price: w.price.map(|p| price("price", p)).transpose()?,
        volume: opt_volume("volume", w.volume)?,
        remaining_volume: opt_volume("remaining_volume", w.remaining_volume)?,
        executed_volume: volume("executed_volume", w.executed_volume.unwrap_or_default())?,
        executed_funds: w.executed_funds.map(Krw::from_decimal),
        reserved_fee: krw(w.reserved_fee),
        remaining_fee: krw(w.remaining_fee),
        paid_fee: krw(w.paid_fee),
        locked: w.locked.unwrap_or_default(),
        prevented_volume: w.prevented_volume.unwrap_or_default(),
        prevented_locked: w.prevented_locked.unwrap_or_default(),
        trades_count: w.trades_count.unwrap_or(0),
        time_in_force: w
            .time_in_force
            .as_deref()
            .map(|s| TimeInForce::parse("time_in_force", s))
            .transpose()?,
        smp_type: w.smp_type.clone(),
        created_at: offset_datetime("created_at", &w.created_at)?,
        trades: w.trades.iter().map(order_trade).collect::<Result<_, _>>()?,
        new_order_uuid: w.new_order_uuid.clone(),
        new_order_identifier: w.new_order_identifier.clone(),
    })
}

/// Converts the chance response.
pub fn chance(w: &ChanceWire) -> Result<OrderChance, ValidationError> {
    Ok(OrderChance {
        market: Market::parse("market.id", &w.market.id)?,
        bid_fee: w.bid_fee,
        ask_fee: w.ask_fee,
        maker_bid_fee: w.maker_bid_fee.unwrap_or(w.bid_fee),
        maker_ask_fee: w.maker_ask_fee.unwrap_or(w.ask_fee),
        bid_types: w.market.bid_types.clone(),
        ask_types: w.market.ask_types.clone(),
        bid_min_total: w.market.bid.min_total.map(Krw::from_decimal),
        ask_min_total: w.market.ask.min_total.map(Krw::from_decimal),
        max_total: w.market.max_total.map(Krw::from_decimal),
        state: w.market.state.clone(),
        bid_account: balance(&w.bid_account).map_err(|e| e.in_field("bid_account"))?,
        ask_account: balance(&w.ask_account).map_err(|e| e.in_field("ask_account"))?,
    })
}

fn order_ref(w: &OrderRefWire) -> OrderRef {
    OrderRef {
        uuid: w.uuid.clone(),
        market: w.market.clone(),
        identifier: w.identifier.clone(),
    }
}

/// Converts a batch-cancel response.
pub fn batch_cancel(w: &BatchCancelWire) -> BatchCancel {
    BatchCancel {
        succeeded: w.success.orders.iter().map(order_ref).collect(),
        failed: w.failed.orders.iter().map(order_ref).collect(),
        success_count: w.success.count,
        failed_count: w.failed.count,
    }
}
