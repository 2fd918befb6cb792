//! An order-book snapshot and the liquidity numbers risk needs from it: top-5
//! average depth (PRE-3, the screener's `avg_depth5`) and the expected slippage
//! of a buy by walking the asks (RISK-3), exactly in `Decimal`.

use domain::{Krw, Market, Price, ValidationError, Volume};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookLevel {
    /// Level price.
    pub price: Price,
    /// Volume resting at that price.
    pub volume: Volume,
}

impl BookLevel {
    /// `price × volume` in KRW.
    pub fn krw(&self) -> Krw {
        self.price * self.volume
    }
}

/// A validated snapshot: asks strictly ascending, bids strictly descending,
/// not crossed, zero-volume levels dropped. Either side may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderBook {
    market: Market,
    asks: Vec<BookLevel>,
    bids: Vec<BookLevel>,
}

/// The outcome of walking the asks for a KRW amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BuyEstimate {
    /// KRW the walk could spend (the full amount unless the book ran out).
    pub spent: Krw,
    /// Volume bought (exact, not floored).
    pub volume: Decimal,
    /// Volume-weighted average price, `None` when nothing could be bought.
    pub avg_price: Option<Decimal>,
    /// `(avg_price − best_ask) / best_ask`, `None` when nothing could be bought.
    pub slippage: Option<Decimal>,
    /// False when the visible book is too thin for the whole amount.
    pub complete: bool,
}

impl OrderBook {
    /// Validates and builds a snapshot. `asks` must be ascending and `bids`
    /// descending by price (Upbit's order); levels with zero volume are dropped.
    pub fn new(
        market: Market,
        asks: Vec<BookLevel>,
        bids: Vec<BookLevel>,
    ) -> Result<Self, ValidationError> {
        let asks: Vec<BookLevel> = asks.into_iter().filter(|l| !l.volume.is_zero()).collect();
        let bids: Vec<BookLevel> = bids.into_iter().filter(|l| !l.volume.is_zero()).collect();
        if asks.windows(2).any(|w| w[0].price >= w[1].price) {
            return Err(ValidationError::new(
                "asks",
                "ask prices must be strictly ascending",
            ));
        }
        if bids.windows(2).any(|w| w[0].price <= w[1].price) {
            return Err(ValidationError::new(
                "bids",
                "bid prices must be strictly descending",
            ));
        }
        if let (Some(a), Some(b)) = (asks.first(), bids.first())
            && b.price >= a.price
        {
            return Err(ValidationError::new(
                "bids",
                format!(
                    "book is crossed: best bid {} ≥ best ask {}",
                    b.price, a.price
                ),
            ));
        }
        Ok(Self { market, asks, bids })
    }

    /// The market.
    pub fn market(&self) -> &Market {
        &self.market
    }

    /// Asks, best (lowest) first.
    pub fn asks(&self) -> &[BookLevel] {
        &self.asks
    }

    /// Bids, best (highest) first.
    pub fn bids(&self) -> &[BookLevel] {
        &self.bids
    }

    /// Lowest ask.
    pub fn best_ask(&self) -> Option<Price> {
        self.asks.first().map(|l| l.price)
    }

    /// Highest bid.
    pub fn best_bid(&self) -> Option<Price> {
        self.bids.first().map(|l| l.price)
    }

    /// Relative spread `(ask − bid) / mid` as `f64` (a screener feature), `None`
    /// when a side is empty.
    pub fn spread(&self) -> Option<f64> {
        let a = self.best_ask()?.get();
        let b = self.best_bid()?.get();
        let mid = (a + b) / Decimal::TWO;
        rust_decimal::prelude::ToPrimitive::to_f64(&((a - b) / mid))
    }

    /// Mean KRW per level over the best `levels` asks — the depth a buy
    /// consumes (PRE-3's `avg_depth`, the screener's `avg_depth5` with 5).
    /// Zero for an empty side or `levels == 0`.
    pub fn ask_depth_avg(&self, levels: usize) -> Krw {
        avg_depth(&self.asks, levels)
    }

    /// Mean KRW per level over the best `levels` bids (what an exit consumes).
    pub fn bid_depth_avg(&self, levels: usize) -> Krw {
        avg_depth(&self.bids, levels)
    }

    /// Walks the asks to spend `krw` (fees excluded) and reports the average
    /// price and slippage versus the best ask (RISK-3).
    pub fn estimate_buy(&self, krw: Krw) -> BuyEstimate {
        let mut remaining = krw.get().max(Decimal::ZERO);
        let mut spent = Decimal::ZERO;
        let mut volume = Decimal::ZERO;
        for level in &self.asks {
            if remaining.is_zero() {
                break;
            }
            let p = level.price.get();
            let level_krw = p * level.volume.get();
            if level_krw <= remaining {
                spent += level_krw;
                volume += level.volume.get();
                remaining -= level_krw;
            } else {
                spent += remaining;
                volume += remaining / p;
                remaining = Decimal::ZERO;
            }
        }
        let avg_price = (!volume.is_zero()).then(|| spent / volume);
        let slippage = match (avg_price, self.best_ask()) {
            (Some(avg), Some(best)) => Some((avg - best.get()) / best.get()),
            _ => None,
        };
        BuyEstimate {
            spent: Krw::from_decimal(spent),
            volume,
            avg_price,
            slippage,
            complete: remaining.is_zero(),
        }
    }

    /// The largest KRW amount whose expected slippage stays within `limit`
    /// (RISK-3 "shrink"), bounded by the visible book. Zero for an empty book.
    ///
    /// Levels are ascending, so the average price only rises while walking;
    /// the bound is reached inside the first level priced above
    /// `best × (1 + limit)`, where the fill `q` solves
    /// `(S + q·p) / (V + q) = best × (1 + limit)`.
    pub fn max_buy_within(&self, limit: Decimal) -> Krw {
        let Some(best) = self.best_ask() else {
            return Krw::ZERO;
        };
        let ceiling = best.get() * (Decimal::ONE + limit.max(Decimal::ZERO));
        let mut spent = Decimal::ZERO;
        let mut volume = Decimal::ZERO;
        for level in &self.asks {
            let p = level.price.get();
            if p <= ceiling {
                spent += p * level.volume.get();
                volume += level.volume.get();
            } else {
                let q = (ceiling * volume - spent) / (p - ceiling);
                let q = q.clamp(Decimal::ZERO, level.volume.get());
                spent += q * p;
                break;
            }
        }
        Krw::from_decimal(spent)
    }
}

fn avg_depth(side: &[BookLevel], levels: usize) -> Krw {
    let top = side.iter().take(levels);
    let n = top.len();
    if n == 0 {
        return Krw::ZERO;
    }
    let total: Krw = side.iter().take(levels).map(BookLevel::krw).sum();
    Krw::from_decimal(total.get() / Decimal::from(n))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn lvl(p: Decimal, v: Decimal) -> BookLevel {
        BookLevel {
            price: Price::new(p).unwrap(),
            volume: Volume::new(v).unwrap(),
        }
    }

    fn book() -> OrderBook {
        OrderBook::new(
            "KRW-XRP".parse().unwrap(),
            vec![
                lvl(dec!(1000), dec!(10)), // 10,000
                lvl(dec!(1001), dec!(10)), // 10,010
                lvl(dec!(1010), dec!(100)),
            ],
            vec![lvl(dec!(999), dec!(5)), lvl(dec!(998), dec!(5))],
        )
        .unwrap()
    }

    #[test]
    fn validation() {
        let m: Market = "KRW-XRP".parse().unwrap();
        let err = OrderBook::new(
            m.clone(),
            vec![lvl(dec!(2), dec!(1)), lvl(dec!(1), dec!(1))],
            vec![],
        )
        .unwrap_err();
        assert_eq!(err.field, "asks");
        let err = OrderBook::new(
            m.clone(),
            vec![lvl(dec!(2), dec!(1))],
            vec![lvl(dec!(2), dec!(1))],
        )
        .unwrap_err();
        assert!(err.message.contains("crossed"), "{err}");
        let b = OrderBook::new(
            m,
            vec![lvl(dec!(2), dec!(0)), lvl(dec!(3), dec!(1))],
            vec![],
        )
        .unwrap();
        assert_eq!(b.best_ask().unwrap().get(), dec!(3));
        assert_eq!(b.spread(), None);
    }

    #[test]
    fn depth_and_spread() {
        let b = book();
        // (10,000 + 10,010 + 101,000) / 3
        assert_eq!(b.ask_depth_avg(5).get(), dec!(121010) / dec!(3));
        assert_eq!(b.ask_depth_avg(1).get(), dec!(10000));
        assert_eq!(b.ask_depth_avg(0), Krw::ZERO);
        assert_eq!(b.bid_depth_avg(5).get(), dec!(4992.5));
        let s = b.spread().unwrap();
        assert!((s - 1.0 / 999.5).abs() < 1e-12, "{s}");
    }

    struct Case {
        krw: i64,
        complete: bool,
        slippage: Option<Decimal>,
    }

    #[test]
    fn walking_the_asks() {
        let b = book();
        let cases = [
            Case {
                krw: 5_000,
                complete: true,
                slippage: Some(dec!(0)),
            },
            Case {
                krw: 10_000,
                complete: true,
                slippage: Some(dec!(0)),
            },
            // 10,000 at 1000 + 10,010 at 1001: avg = 20,010 / 20 = 1000.5
            Case {
                krw: 20_010,
                complete: true,
                slippage: Some(dec!(0.0005)),
            },
            Case {
                krw: 10_000_000,
                complete: false,
                slippage: None, // checked separately
            },
            Case {
                krw: 0,
                complete: true,
                slippage: None,
            },
        ];
        for c in cases {
            let e = b.estimate_buy(Krw::from_i64(c.krw));
            assert_eq!(e.complete, c.complete, "{}", c.krw);
            if c.complete {
                assert_eq!(e.slippage, c.slippage, "{}", c.krw);
                assert_eq!(e.spent, Krw::from_i64(c.krw));
            } else {
                assert_eq!(e.spent.get(), dec!(121010));
            }
        }
    }

    #[test]
    fn shrink_to_the_slippage_limit() {
        let b = book();
        // ceiling 1000 × 1.005 = 1005: both first levels fit (20,010 KRW, 20 units);
        // at 1010: q = (1005 × 20 − 20,010) / (1010 − 1005) = 90 / 5 = 18.
        let max = b.max_buy_within(dec!(0.005));
        assert_eq!(max.get(), dec!(20010) + dec!(18) * dec!(1010));
        let e = b.estimate_buy(max);
        assert_eq!(e.slippage, Some(dec!(0.005)));
        // a tighter limit stops inside the second level
        let max = b.max_buy_within(dec!(0.0002));
        let e = b.estimate_buy(max);
        assert!(e.slippage.unwrap() <= dec!(0.0002));
        assert!(max.get() > dec!(10000));
        // the whole book within a generous limit
        assert_eq!(b.max_buy_within(dec!(0.5)).get(), dec!(121010));
        let empty = OrderBook::new("KRW-XRP".parse().unwrap(), vec![], vec![]).unwrap();
        assert_eq!(empty.max_buy_within(dec!(0.01)), Krw::ZERO);
        let e = empty.estimate_buy(Krw::from_i64(10_000));
        assert!(!e.complete);
        assert_eq!(e.slippage, None);
    }
}
