//! Order books: the synthetic liquidity generated around the last trade price
//! (deterministic per market and book version), and the merged view that also
//! shows the simulator's resting client orders.

use domain::{Side, tick::tick_size};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};
use rust_decimal::{Decimal, RoundingStrategy, prelude::FromPrimitive};

use crate::series::mix;

/// Upbit's maximum depth per side.
pub const MAX_LEVELS: usize = 30;

/// One price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Price.
    pub price: Decimal,
    /// Resting base volume.
    pub size: Decimal,
}

/// A book snapshot: asks ascending, bids descending, best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Book {
    /// Ask levels, lowest first.
    pub asks: Vec<Level>,
    /// Bid levels, highest first.
    pub bids: Vec<Level>,
}

impl Book {
    /// Best ask price.
    pub fn best_ask(&self) -> Option<Decimal> {
        self.asks.first().map(|l| l.price)
    }

    /// Best bid price.
    pub fn best_bid(&self) -> Option<Decimal> {
        self.bids.first().map(|l| l.price)
    }

    /// Aggregates levels into buckets of `unit` KRW (asks rounded up, bids
    /// down), as Upbit's `level` parameter does.
    #[must_use]
    pub fn aggregated(&self, unit: Decimal) -> Self {
        if unit <= Decimal::ZERO {
            return self.clone();
        }
        let group = |levels: &[Level], up: bool| {
            let mut out: Vec<Level> = Vec::new();
            for l in levels {
                // A unit so small that the bucket overflows cannot be shown.
                let Some(steps) = l.price.checked_div(unit) else {
                    continue;
                };
                let steps = if up { steps.ceil() } else { steps.floor() };
                let Some(p) = steps.checked_mul(unit) else {
                    continue;
                };
                let p = p.normalize();
                match out.last_mut() {
                    Some(last) if last.price == p => last.size += l.size,
                    _ => out.push(Level {
                        price: p,
                        size: l.size,
                    }),
                }
            }
            out
        };
        Self {
            asks: group(&self.asks, true),
            bids: group(&self.bids, false),
        }
    }
}

/// Per-market parameters of the synthetic book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookProfile {
    /// Spread between best bid and best ask, in ticks (≥ 1).
    pub spread_ticks: u32,
    /// Mean base volume per level.
    pub level_mean: Decimal,
    /// Seed for level sizes and gaps.
    pub seed: u64,
}

/// The tick that applies just below `p` (smaller at a band boundary).
fn tick_below(p: Decimal) -> Decimal {
    tick_size(p - Decimal::new(1, 12))
}

/// Rounds up / down onto the tick grid.
fn to_grid(p: Decimal, up: bool) -> Decimal {
    let tick = tick_size(p);
    let steps = p / tick;
    let steps = if up { steps.ceil() } else { steps.floor() };
    (steps * tick).normalize()
}

/// Generates the synthetic book around `last` after a print whose taker was
/// `taker` (a buyer prints at the ask, a seller at the bid).
pub fn synth(profile: &BookProfile, last: Decimal, taker: Side, version: u64) -> Book {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(profile.seed, version));
    let spread = profile.spread_ticks.max(1);
    let (mut ask, mut bid);
    if taker == Side::Bid {
        ask = to_grid(last, true);
        bid = ask;
        for _ in 0..spread {
            bid -= tick_below(bid);
        }
    } else {
        bid = to_grid(last, false);
        ask = bid;
        for _ in 0..spread {
            ask += tick_size(ask);
        }
    }
    let mut book = Book::default();
    for k in 0..MAX_LEVELS {
        book.asks.push(Level {
            price: ask.normalize(),
            size: level_size(profile.level_mean, k, &mut rng),
        });
        let gap = gap(&mut rng);
        for _ in 0..gap {
            ask += tick_size(ask);
        }
    }
    for k in 0..MAX_LEVELS {
        if bid <= Decimal::ZERO {
            break;
        }
        book.bids.push(Level {
            price: bid.normalize(),
            size: level_size(profile.level_mean, k, &mut rng),
        });
        let gap = gap(&mut rng);
        for _ in 0..gap {
            let t = tick_below(bid);
            if bid - t <= Decimal::ZERO {
                bid = Decimal::ZERO;
                break;
            }
            bid -= t;
        }
    }
    book
}

fn gap(rng: &mut ChaCha8Rng) -> u32 {
    if rng.gen_bool(0.75) {
        1
    } else {
        rng.gen_range(2..=4)
    }
}

fn level_size(mean: Decimal, k: usize, rng: &mut ChaCha8Rng) -> Decimal {
    let e: f64 = Exp1.sample(rng);
    let factor = (0.3 + e) * (1.0 + k as f64 / 15.0);
    let raw = Decimal::from_f64(factor).unwrap_or(Decimal::ONE) * mean;
    let v = raw.round_dp_with_strategy(8, RoundingStrategy::ToZero);
    v.max(Decimal::new(1, 8))
}

#[cfg(test)]
mod tests {
    use domain::tick::is_on_tick;
    use rust_decimal_macros::dec;

    use super::*;

    fn profile() -> BookProfile {
        BookProfile {
            spread_ticks: 1,
            level_mean: dec!(0.5),
            seed: 7,
        }
    }

    #[test]
    fn book_brackets_the_last_price_on_the_grid() {
        for (last, taker) in [
            (dec!(148_601_000), Side::Bid),
            (dec!(148_601_000), Side::Ask),
            (dec!(1_000_000), Side::Ask),
            (dec!(999_750), Side::Bid),
            (dec!(3_141.5), Side::Ask),
            (dec!(0.0234), Side::Bid),
        ] {
            let b = synth(&profile(), last, taker, 3);
            let (ask, bid) = (b.best_ask().unwrap(), b.best_bid().unwrap());
            assert!(bid < ask, "{last}: {bid} !< {ask}");
            assert!(bid <= last && (last <= ask || taker == Side::Ask));
            assert_eq!(b.asks.len(), MAX_LEVELS);
            for w in b.asks.windows(2) {
                assert!(w[0].price < w[1].price);
            }
            for w in b.bids.windows(2) {
                assert!(w[0].price > w[1].price);
            }
            for l in b.asks.iter().chain(&b.bids) {
                assert!(is_on_tick(l.price), "{} off tick", l.price);
                assert!(l.size > Decimal::ZERO && l.size.scale() <= 8);
            }
        }
    }

    #[test]
    fn deterministic_per_version() {
        let a = synth(&profile(), dec!(5000), Side::Bid, 1);
        let b = synth(&profile(), dec!(5000), Side::Bid, 1);
        let c = synth(&profile(), dec!(5000), Side::Bid, 2);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn aggregation_rounds_asks_up_and_bids_down() {
        let book = Book {
            asks: vec![
                Level {
                    price: dec!(148_601_000),
                    size: dec!(1),
                },
                Level {
                    price: dec!(148_605_000),
                    size: dec!(2),
                },
                Level {
                    price: dec!(148_611_000),
                    size: dec!(3),
                },
            ],
            bids: vec![
                Level {
                    price: dec!(148_599_000),
                    size: dec!(1),
                },
                Level {
                    price: dec!(148_590_000),
                    size: dec!(2),
                },
            ],
        };
        let agg = book.aggregated(dec!(10_000));
        assert_eq!(
            agg.asks,
            vec![
                Level {
                    price: dec!(148_610_000),
                    size: dec!(3)
                },
                Level {
                    price: dec!(148_620_000),
                    size: dec!(3)
                },
            ]
        );
        assert_eq!(
            agg.bids,
            vec![Level {
                price: dec!(148_590_000),
                size: dec!(3)
            }]
        );
    }
}
