//! The per-trader sub-ledger: cash and position lots as exact folds over the
//! trader's own fills.
//!
//! Several traders may share one Upbit account (one credential). Each
//! trader's orders carry identifiers with its own prefix
//! (`t{trader}-{salt}-…`), so its fills — and therefore its cash, positions
//! and PnL — are its own:
//!
//! * **cash** = seed − Σ buys (funds + fee) + Σ sells (funds − fee);
//! * a **lot** is one position (FIX-6: several lots in one market are fine),
//!   the fold of the fills of one order family (an entry and its exits
//!   share the family id, the `intent` part of the identifier). A buy opens
//!   or adds to the lot; a sell reduces it and yields a closed part with its
//!   PnL; the cost basis of a sold part is the lot's cost × sold / held,
//!   rounded to 8 decimal places, and the last sale takes whatever cost is
//!   left — so the parts' PnL add up exactly to proceeds − cost.
//!
//! Because both are pure folds, a restarted trader rebuilds them from the
//! fills table and gets exactly the state it had (crash safety).

use chrono::{DateTime, Utc};
use domain::{Fill, Krw, Price, Side, Volume};
use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of a sold part's cost basis.
pub const COST_SCALE: u32 = 8;
/// Decimal places of a lot's average entry price.
pub const PRICE_SCALE: u32 = 8;

/// A fill the ledger cannot apply (the exchange and our records disagree).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A sell of more than the lot holds.
    #[error("selling {sold} from a lot holding {held}")]
    Oversold {
        /// Volume sold.
        sold: Volume,
        /// Volume held.
        held: Volume,
    },
}

/// Cash of one trader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashBook {
    /// Seed money.
    pub seed: Krw,
    /// Cash now.
    pub cash: Krw,
    /// Fees paid.
    pub fees: Krw,
}

impl CashBook {
    /// A fresh book holding the seed.
    pub fn new(seed: Krw) -> Self {
        Self {
            seed,
            cash: seed,
            fees: Krw::ZERO,
        }
    }

    /// Applies one fill.
    pub fn apply(&mut self, fill: &Fill) {
        match fill.side {
            Side::Bid => self.cash -= fill.funds + fill.fee,
            Side::Ask => self.cash += fill.funds - fill.fee,
        }
        self.fees += fill.fee;
    }

    /// The book after `fills`.
    pub fn replay<'a>(seed: Krw, fills: impl IntoIterator<Item = &'a Fill>) -> Self {
        let mut b = Self::new(seed);
        for f in fills {
            b.apply(f);
        }
        b
    }
}

/// The closed part of a lot that one sell produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedPart {
    /// Volume sold.
    pub size: Volume,
    /// Sale price.
    pub exit_price: Price,
    /// Sale time.
    pub exit_time: DateTime<Utc>,
    /// The lot's average entry price at the sale.
    pub entry_price: Price,
    /// The lot's open time.
    pub entry_time: DateTime<Utc>,
    /// Cost basis of the sold part (entry fees included).
    pub cost: Krw,
    /// Proceeds after the sale's fee.
    pub proceeds: Krw,
    /// `proceeds − cost`.
    pub pnl: Krw,
}

/// What one fill did to a lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LotEffect {
    /// The first buy of an empty lot.
    Opened,
    /// A further buy.
    Added,
    /// A sale that left something.
    Reduced(ClosedPart),
    /// A sale of everything.
    Closed(ClosedPart),
}

/// One lot as a fold over its fills.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LotState {
    /// Volume held.
    pub size: Volume,
    /// KRW paid for what is held, fees included.
    pub cost: Krw,
    /// Σ buy funds since the lot (re)opened (fees excluded).
    pub bought_funds: Krw,
    /// Σ buy volume since the lot (re)opened.
    pub bought_volume: Volume,
    /// First buy since the lot (re)opened.
    pub open_time: Option<DateTime<Utc>>,
}

impl LotState {
    /// True while something is held.
    pub fn is_open(&self) -> bool {
        !self.size.is_zero()
    }

    /// Volume-weighted average buy price (fees excluded), 8 decimal places.
    pub fn avg_entry_price(&self) -> Option<Price> {
        if self.bought_volume.is_zero() {
            return None;
        }
        let avg = (self.bought_funds.get() / self.bought_volume.get())
            .round_dp_with_strategy(PRICE_SCALE, RoundingStrategy::MidpointNearestEven);
        Price::new(avg).ok()
    }

    /// Applies one fill of this lot's family.
    pub fn apply(&mut self, fill: &Fill) -> Result<LotEffect, LedgerError> {
        match fill.side {
            Side::Bid => {
                let opened = !self.is_open();
                if opened {
                    *self = Self {
                        open_time: Some(fill.ts),
                        ..Self::default()
                    };
                }
                self.size += fill.volume;
                self.cost += fill.funds + fill.fee;
                self.bought_funds += fill.funds;
                self.bought_volume += fill.volume;
                Ok(if opened {
                    LotEffect::Opened
                } else {
                    LotEffect::Added
                })
            }
            Side::Ask => {
                let rest = self
                    .size
                    .checked_sub(fill.volume)
                    .ok_or(LedgerError::Oversold {
                        sold: fill.volume,
                        held: self.size,
                    })?;
                let cost = if rest.is_zero() {
                    self.cost
                } else {
                    Krw::from_decimal(
                        (self.cost.get() * fill.volume.get() / self.size.get())
                            .round_dp_with_strategy(
                                COST_SCALE,
                                RoundingStrategy::MidpointNearestEven,
                            ),
                    )
                };
                let proceeds = fill.funds - fill.fee;
                let part = ClosedPart {
                    size: fill.volume,
                    exit_price: fill.price,
                    exit_time: fill.ts,
                    entry_price: self.avg_entry_price().unwrap_or(fill.price),
                    entry_time: self.open_time.unwrap_or(fill.ts),
                    cost,
                    proceeds,
                    pnl: proceeds - cost,
                };
                self.size = rest;
                self.cost -= cost;
                if rest.is_zero() {
                    *self = Self::default();
                    Ok(LotEffect::Closed(part))
                } else {
                    Ok(LotEffect::Reduced(part))
                }
            }
        }
    }

    /// The lot after `fills` (in order), with the effect of each.
    pub fn replay<'a>(
        fills: impl IntoIterator<Item = &'a Fill>,
    ) -> Result<(Self, Vec<LotEffect>), LedgerError> {
        let mut lot = Self::default();
        let mut effects = Vec::new();
        for f in fills {
            effects.push(lot.apply(f)?);
        }
        Ok((lot, effects))
    }
}

/// The order family (`intent`) of a fill, from its identifier.
pub fn family_of(fill: &Fill) -> Option<i64> {
    fill.identifier.parts().map(|(_, intent, _)| intent)
}

/// Cost of `volume` at `price` with the fee rate on top (what a buy locks).
pub fn with_fee(krw: Krw, fee_rate: Decimal) -> Krw {
    krw + krw.times(fee_rate)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use domain::{OrderIdentifier, TraderId};
    use rust_decimal_macros::dec;

    use super::*;

    fn fill(n: u32, side: Side, p: Decimal, v: Decimal) -> Fill {
        let price = Price::new(p).unwrap();
        let volume = Volume::new(v).unwrap();
        let funds = price * volume;
        Fill {
            trade_uuid: format!("f{n}"),
            order_uuid: format!("o{n}"),
            identifier: OrderIdentifier::for_attempt(TraderId::new(2).unwrap(), "s", 5, n).unwrap(),
            market: "KRW-XRP".parse().unwrap(),
            side,
            price,
            volume,
            funds,
            fee: funds.times(dec!(0.0005)),
            ts: Utc
                .timestamp_opt(1_756_684_800 + i64::from(n) * 60, 0)
                .single()
                .unwrap(),
        }
    }

    #[test]
    fn a_lot_round_trip_sums_exactly() {
        let fills = [
            fill(0, Side::Bid, dec!(1000), dec!(3)),
            fill(1, Side::Bid, dec!(1010), dec!(4)),
            fill(2, Side::Ask, dec!(1100), dec!(2)),
            fill(3, Side::Ask, dec!(1050), dec!(5)),
        ];
        let (lot, effects) = LotState::replay(&fills).unwrap();
        assert!(!lot.is_open());
        assert!(matches!(effects[0], LotEffect::Opened));
        assert!(matches!(effects[1], LotEffect::Added));
        let parts: Vec<&ClosedPart> = effects
            .iter()
            .filter_map(|e| match e {
                LotEffect::Reduced(p) | LotEffect::Closed(p) => Some(p),
                _ => None,
            })
            .collect();
        assert!(matches!(effects[3], LotEffect::Closed(_)));
        let cost: Krw = fills[..2].iter().map(|f| f.funds + f.fee).sum();
        let proceeds: Krw = fills[2..].iter().map(|f| f.funds - f.fee).sum();
        let pnl: Krw = parts.iter().map(|p| p.pnl).sum();
        assert_eq!(pnl, proceeds - cost);
        assert_eq!(parts.iter().map(|p| p.cost).sum::<Krw>(), cost);
        // avg entry = (3000 + 4040) / 7
        assert_eq!(
            parts[0].entry_price.get(),
            (dec!(7040) / dec!(7)).round_dp(8)
        );
        // cash book over the same fills
        let book = CashBook::replay(Krw::from_i64(100_000), &fills);
        assert_eq!(book.cash, Krw::from_i64(100_000) - cost + proceeds);
        assert_eq!(book.fees, fills.iter().map(|f| f.fee).sum());
    }

    #[test]
    fn reopens_after_a_close_and_refuses_oversells() {
        let mut lot = LotState::default();
        lot.apply(&fill(0, Side::Bid, dec!(1000), dec!(2))).unwrap();
        assert!(matches!(
            lot.apply(&fill(1, Side::Ask, dec!(1000), dec!(2))).unwrap(),
            LotEffect::Closed(_)
        ));
        assert_eq!(
            lot.apply(&fill(2, Side::Bid, dec!(900), dec!(1))).unwrap(),
            LotEffect::Opened
        );
        assert_eq!(lot.avg_entry_price().unwrap().get(), dec!(900));
        let err = lot
            .apply(&fill(3, Side::Ask, dec!(900), dec!(1.5)))
            .unwrap_err();
        assert!(err.to_string().contains("selling 1.5"), "{err}");
        assert_eq!(family_of(&fill(3, Side::Ask, dec!(1), dec!(1))), Some(5));
    }
}
