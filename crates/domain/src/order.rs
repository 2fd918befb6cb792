//! Orders and fills: the enums Upbit uses on the wire, a validated
//! [`OrderRequest`] (tick grid and order-total limits enforced before anything
//! is sent) and [`Fill`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    Krw, Market, OrderIdentifier, Price, ValidationError, Volume,
    profile::string_enum,
    tick::{check_limit_order, check_order_total},
};

string_enum!(
    /// Order side, with Upbit's wire names.
    Side, "side" {
        /// Buy.
        Bid => "bid",
        /// Sell.
        Ask => "ask",
    }
);

string_enum!(
    /// Upbit order types.
    OrdType, "ord_type" {
        /// Limit order: `price` + `volume`.
        Limit => "limit",
        /// Market buy: `price` is the KRW total to spend, no `volume`.
        Price => "price",
        /// Market sell: `volume`, no `price`.
        Market => "market",
        /// Best-price order (with `time_in_force` ioc/fok).
        Best => "best",
    }
);

string_enum!(
    /// Upbit `time_in_force` options.
    TimeInForce, "time_in_force" {
        /// Immediate or cancel: the unfilled rest is cancelled.
        Ioc => "ioc",
        /// Fill or kill: all or nothing.
        Fok => "fok",
        /// Maker only: cancelled if it would cross.
        PostOnly => "post_only",
    }
);

string_enum!(
    /// Upbit order states.
    OrderState, "state" {
        /// Open (also while partially filled).
        Wait => "wait",
        /// Reserved (stop) order waiting for its trigger.
        Watch => "watch",
        /// Completely filled.
        Done => "done",
        /// Cancelled (possibly after partial fills).
        Cancel => "cancel",
    }
);

impl Side {
    /// The opposite side.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Bid => Self::Ask,
            Self::Ask => Self::Bid,
        }
    }
}

impl OrderState {
    /// True once no more fills can happen.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Cancel)
    }
}

/// A validated order, ready for an executor. Construct it with one of the
/// named constructors; each enforces Upbit's rules for its order type so an
/// invalid order is never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    market: Market,
    side: Side,
    ord_type: OrdType,
    /// Limit price, or for `OrdType::Price` / best buys the KRW total.
    price: Option<Price>,
    volume: Option<Volume>,
    time_in_force: Option<TimeInForce>,
    identifier: OrderIdentifier,
}

impl OrderRequest {
    /// A limit order. `price` must be on the tick grid and `price × volume`
    /// within 5,000 – 1e9 KRW. `post_only` may not be combined with ioc/fok
    /// (a single `time_in_force` value enforces that).
    pub fn limit(
        market: Market,
        side: Side,
        price: Price,
        volume: Volume,
        time_in_force: Option<TimeInForce>,
        identifier: OrderIdentifier,
    ) -> Result<Self, ValidationError> {
        check_limit_order(price, volume)?;
        Ok(Self {
            market,
            side,
            ord_type: OrdType::Limit,
            price: Some(price),
            volume: Some(volume),
            time_in_force,
            identifier,
        })
    }

    /// A market buy spending `funds` KRW (fee on top), Upbit `ord_type=price`.
    pub fn market_buy(
        market: Market,
        funds: Krw,
        identifier: OrderIdentifier,
    ) -> Result<Self, ValidationError> {
        check_order_total("funds", funds)?;
        let price = Price::new(funds.get()).map_err(|e| e.in_field("funds"))?;
        Ok(Self {
            market,
            side: Side::Bid,
            ord_type: OrdType::Price,
            price: Some(price),
            volume: None,
            time_in_force: None,
            identifier,
        })
    }

    /// A market sell of `volume`, Upbit `ord_type=market`. `reference_price`
    /// (e.g. the best bid) is used to enforce the minimum order total.
    pub fn market_sell(
        market: Market,
        volume: Volume,
        reference_price: Price,
        identifier: OrderIdentifier,
    ) -> Result<Self, ValidationError> {
        if volume.is_zero() {
            return Err(ValidationError::new("volume", "must be greater than zero"));
        }
        check_order_total("volume", reference_price * volume)?;
        Ok(Self {
            market,
            side: Side::Ask,
            ord_type: OrdType::Market,
            price: None,
            volume: Some(volume),
            time_in_force: None,
            identifier,
        })
    }

    /// The market.
    pub fn market(&self) -> &Market {
        &self.market
    }
    /// Buy or sell.
    pub fn side(&self) -> Side {
        self.side
    }
    /// The Upbit order type.
    pub fn ord_type(&self) -> OrdType {
        self.ord_type
    }
    /// Limit price (limit orders) or KRW total (market buys).
    pub fn price(&self) -> Option<Price> {
        self.price
    }
    /// Volume (limit orders and market sells).
    pub fn volume(&self) -> Option<Volume> {
        self.volume
    }
    /// Time in force, if any.
    pub fn time_in_force(&self) -> Option<TimeInForce> {
        self.time_in_force
    }
    /// The unique client identifier.
    pub fn identifier(&self) -> &OrderIdentifier {
        &self.identifier
    }

    /// The KRW the order commits before fees: `price × volume` for a limit
    /// order, the total for a market buy, `None` for a market sell.
    pub fn notional(&self) -> Option<Krw> {
        match (self.ord_type, self.price, self.volume) {
            (OrdType::Limit, Some(p), Some(v)) => Some(p * v),
            (OrdType::Price | OrdType::Best, Some(p), None) => Some(Krw::from_decimal(p.get())),
            _ => None,
        }
    }
}

/// One execution (trade) of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The exchange's trade id (unique per fill).
    pub trade_uuid: String,
    /// The exchange's order uuid.
    pub order_uuid: String,
    /// Our identifier of the order.
    pub identifier: OrderIdentifier,
    /// Market.
    pub market: Market,
    /// Side of our order.
    pub side: Side,
    /// Execution price.
    pub price: Price,
    /// Executed volume.
    pub volume: Volume,
    /// `price × volume`.
    pub funds: Krw,
    /// Fee charged for this fill.
    pub fee: Krw,
    /// When the exchange executed it.
    pub ts: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::TraderId;

    fn ident() -> OrderIdentifier {
        OrderIdentifier::for_attempt(TraderId::new(1).unwrap(), "s", 1, 0).unwrap()
    }

    #[test]
    fn limit_order_enforces_tick_and_total() {
        let m = Market::parse("market", "KRW-BTC").unwrap();
        let off_tick = Price::new(dec!(100_000_050)).unwrap();
        let v = Volume::new(dec!(0.001)).unwrap();
        let err =
            OrderRequest::limit(m.clone(), Side::Bid, off_tick, v, None, ident()).unwrap_err();
        assert_eq!(err.field, "price");
        let p = Price::new(dec!(100_000_000)).unwrap();
        let tiny = Volume::new(dec!(0.00001)).unwrap();
        let err = OrderRequest::limit(m.clone(), Side::Bid, p, tiny, None, ident()).unwrap_err();
        assert!(err.message.contains("minimum"), "{err}");
        let ok =
            OrderRequest::limit(m, Side::Bid, p, v, Some(TimeInForce::PostOnly), ident()).unwrap();
        assert_eq!(ok.notional().unwrap().get(), dec!(100_000));
    }

    #[test]
    fn market_orders() {
        let m = Market::parse("market", "KRW-XRP").unwrap();
        assert!(OrderRequest::market_buy(m.clone(), Krw::from_i64(4_999), ident()).is_err());
        let b = OrderRequest::market_buy(m.clone(), Krw::from_i64(5_000), ident()).unwrap();
        assert_eq!(b.ord_type(), OrdType::Price);
        assert_eq!(b.volume(), None);
        let ref_p = Price::new(dec!(3000)).unwrap();
        assert!(
            OrderRequest::market_sell(m.clone(), Volume::new(dec!(1)).unwrap(), ref_p, ident())
                .is_err()
        );
        let s =
            OrderRequest::market_sell(m, Volume::new(dec!(2)).unwrap(), ref_p, ident()).unwrap();
        assert_eq!(s.price(), None);
    }
}
