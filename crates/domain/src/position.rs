//! Positions and closed trades, each owned by one trader (FIX-6: several
//! positions in the same market, from one trader or many, are allowed).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Krw, Market, Mode, Price, TraderId, Volume};

/// An open position of one trader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Owner.
    pub trader_id: TraderId,
    /// Market held.
    pub market: Market,
    /// When the first fill opened it.
    pub open_time: DateTime<Utc>,
    /// Volume-weighted average entry price, fees excluded.
    pub avg_entry_price: Price,
    /// Volume held.
    pub size: Volume,
    /// KRW paid including fees (cost basis for PnL).
    pub cost_krw: Krw,
    /// Current protective stop.
    pub stop_price: Price,
    /// Highest price seen since entry (trailing stop anchor).
    pub high_water: Price,
    /// Free-form tags (entry reason codes, scale-out stage).
    pub tags: Vec<String>,
}

impl Position {
    /// Unrealised PnL at `mark`, before exit fees.
    pub fn unrealised(&self, mark: Price) -> Krw {
        mark * self.size - self.cost_krw
    }

    /// The loss if the stop is hit (before fees); zero when the stop is above cost.
    pub fn risk_to_stop(&self) -> Krw {
        (self.cost_krw - self.stop_price * self.size).max(Krw::ZERO)
    }
}

/// A closed (or partly closed) round trip, for the `trades` audit table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Owner.
    pub trader_id: TraderId,
    /// Market.
    pub market: Market,
    /// Entry time.
    pub entry_time: DateTime<Utc>,
    /// Average entry price.
    pub entry_price: Price,
    /// Volume closed by this record.
    pub size: Volume,
    /// Stop in force when closed.
    pub stop_price: Price,
    /// Exit time.
    pub exit_time: DateTime<Utc>,
    /// Average exit price.
    pub exit_price: Price,
    /// Realised PnL after all fees.
    pub pnl: Krw,
    /// PAPER or LIVE.
    pub mode: Mode,
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn pnl_and_risk() {
        let p = Position {
            trader_id: TraderId::new(1).unwrap(),
            market: "KRW-BTC".parse().unwrap(),
            open_time: DateTime::<Utc>::default(),
            avg_entry_price: Price::new(dec!(100_000_000)).unwrap(),
            size: Volume::new(dec!(0.001)).unwrap(),
            cost_krw: Krw::from_decimal(dec!(100_050)),
            stop_price: Price::new(dec!(98_000_000)).unwrap(),
            high_water: Price::new(dec!(100_000_000)).unwrap(),
            tags: vec![],
        };
        assert_eq!(
            p.unrealised(Price::new(dec!(101_000_000)).unwrap()).get(),
            dec!(950)
        );
        assert_eq!(p.risk_to_stop().get(), dec!(2050));
    }
}
