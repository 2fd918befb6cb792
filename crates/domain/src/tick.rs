//! Upbit KRW-market trading rules (`upbit-api.md` §7): tick sizes, rounding
//! towards the safe side, volume precision and order-total limits.
//!
//! The table is the one in force since 2025-07-31. `GET /v1/orderbook/instruments`
//! is the per-market source of truth; callers that have a market-specific tick
//! use [`round_to_tick`] with it, everyone else uses [`tick_size`].

use rust_decimal::{Decimal, RoundingStrategy};

use crate::{Krw, Price, Side, ValidationError, Volume};

/// Upbit's volume precision: at most 8 decimal places.
pub const VOLUME_DECIMALS: u32 = 8;

/// Minimum order total on KRW markets: 5,000 KRW.
pub const MIN_ORDER_TOTAL_KRW: i64 = 5_000;

/// Maximum order total on KRW markets: 1,000,000,000 KRW.
pub const MAX_ORDER_TOTAL_KRW: i64 = 1_000_000_000;

/// `(lower bound inclusive, tick)` rows, highest band first.
const TICK_TABLE: [(Decimal, Decimal); 15] = [
    (
        Decimal::from_parts(1_000_000, 0, 0, false, 0),
        Decimal::from_parts(1000, 0, 0, false, 0),
    ),
    (
        Decimal::from_parts(500_000, 0, 0, false, 0),
        Decimal::from_parts(500, 0, 0, false, 0),
    ),
    (
        Decimal::from_parts(100_000, 0, 0, false, 0),
        Decimal::from_parts(100, 0, 0, false, 0),
    ),
    (
        Decimal::from_parts(50_000, 0, 0, false, 0),
        Decimal::from_parts(50, 0, 0, false, 0),
    ),
    (
        Decimal::from_parts(10_000, 0, 0, false, 0),
        Decimal::from_parts(10, 0, 0, false, 0),
    ),
    (
        Decimal::from_parts(5_000, 0, 0, false, 0),
        Decimal::from_parts(5, 0, 0, false, 0),
    ),
    (
        Decimal::from_parts(100, 0, 0, false, 0),
        Decimal::from_parts(1, 0, 0, false, 0),
    ),
    (
        Decimal::from_parts(10, 0, 0, false, 0),
        Decimal::from_parts(1, 0, 0, false, 1),
    ),
    (
        Decimal::from_parts(1, 0, 0, false, 0),
        Decimal::from_parts(1, 0, 0, false, 2),
    ),
    (
        Decimal::from_parts(1, 0, 0, false, 1),
        Decimal::from_parts(1, 0, 0, false, 3),
    ),
    (
        Decimal::from_parts(1, 0, 0, false, 2),
        Decimal::from_parts(1, 0, 0, false, 4),
    ),
    (
        Decimal::from_parts(1, 0, 0, false, 3),
        Decimal::from_parts(1, 0, 0, false, 5),
    ),
    (
        Decimal::from_parts(1, 0, 0, false, 4),
        Decimal::from_parts(1, 0, 0, false, 6),
    ),
    (
        Decimal::from_parts(1, 0, 0, false, 5),
        Decimal::from_parts(1, 0, 0, false, 7),
    ),
    (Decimal::ZERO, Decimal::from_parts(1, 0, 0, false, 8)),
];

/// The KRW tick for an order at `price` (the band is chosen by the price itself).
pub fn tick_size(price: Decimal) -> Decimal {
    TICK_TABLE
        .iter()
        .find(|(lower, _)| price >= *lower)
        .map_or(TICK_TABLE[TICK_TABLE.len() - 1].1, |(_, tick)| *tick)
}

/// True when `price` lies exactly on the KRW tick grid.
pub fn is_on_tick(price: Decimal) -> bool {
    price > Decimal::ZERO && (price % tick_size(price)).is_zero()
}

/// Rounds `price` onto a fixed `tick`, towards the safe side for `side`: a buy
/// never above the intended limit, a sell never below it.
pub fn round_to_tick(price: Decimal, tick: Decimal, side: Side) -> Decimal {
    let steps = price / tick;
    let steps = match side {
        Side::Bid => steps.round_dp_with_strategy(0, RoundingStrategy::ToNegativeInfinity),
        Side::Ask => steps.round_dp_with_strategy(0, RoundingStrategy::ToPositiveInfinity),
    };
    (steps * tick).normalize()
}

/// Rounds an intended limit price onto the KRW tick grid for `side` (buy: down,
/// sell: up). Errors when a buy would round to zero (price below the smallest tick).
pub fn round_price(intended: Decimal, side: Side) -> Result<Price, ValidationError> {
    if intended <= Decimal::ZERO {
        return Err(ValidationError::new(
            "price",
            format!("must be greater than zero, got {intended}"),
        ));
    }
    // Rounding down can cross into a lower band whose tick is finer; the result
    // is still a multiple of the lower band's tick because every band boundary
    // is a multiple of the ticks on both sides. Rounding up across a boundary
    // lands on the boundary itself, which is valid in the upper band. The
    // property tests below pin both claims.
    let p = round_to_tick(intended, tick_size(intended), side);
    if p <= Decimal::ZERO {
        return Err(ValidationError::new(
            "price",
            format!("{intended} is below the smallest tick and rounds to zero"),
        ));
    }
    Price::new(p)
}

/// Checks that a limit price is already on the tick grid (the simulator and the
/// pre-send check use this; Upbit answers `invalid_price_*` otherwise).
pub fn check_tick(field: &str, price: Price) -> Result<(), ValidationError> {
    if is_on_tick(price.get()) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!(
                "price {price} is not a multiple of the tick size {}",
                tick_size(price.get())
            ),
        ))
    }
}

/// Checks an order total against Upbit's KRW limits (5,000 ≤ total ≤ 1e9).
pub fn check_order_total(field: &str, total: Krw) -> Result<(), ValidationError> {
    if total.get() < Decimal::from(MIN_ORDER_TOTAL_KRW) {
        return Err(ValidationError::new(
            field,
            format!("order total {total} KRW is below the minimum of {MIN_ORDER_TOTAL_KRW} KRW"),
        ));
    }
    if total.get() > Decimal::from(MAX_ORDER_TOTAL_KRW) {
        return Err(ValidationError::new(
            field,
            format!("order total {total} KRW is above the maximum of {MAX_ORDER_TOTAL_KRW} KRW"),
        ));
    }
    Ok(())
}

/// Checks that a limit order `price × volume` satisfies tick and total rules.
pub fn check_limit_order(price: Price, volume: Volume) -> Result<(), ValidationError> {
    check_tick("price", price)?;
    if volume.is_zero() {
        return Err(ValidationError::new("volume", "must be greater than zero"));
    }
    check_order_total("volume", price * volume)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn table_rows() {
        for (price, tick) in [
            (dec!(163_000_000), dec!(1000)),
            (dec!(1_000_000), dec!(1000)),
            (dec!(999_999), dec!(500)),
            (dec!(500_000), dec!(500)),
            (dec!(100_000), dec!(100)),
            (dec!(99_999), dec!(50)),
            (dec!(10_000), dec!(10)),
            (dec!(5_000), dec!(5)),
            (dec!(4_999), dec!(1)),
            (dec!(100), dec!(1)),
            (dec!(99.9), dec!(0.1)),
            (dec!(1), dec!(0.01)),
            (dec!(0.5), dec!(0.001)),
            (dec!(0.05), dec!(0.0001)),
            (dec!(0.005), dec!(0.00001)),
            (dec!(0.0005), dec!(0.000001)),
            (dec!(0.00005), dec!(0.0000001)),
            (dec!(0.000005), dec!(0.00000001)),
        ] {
            assert_eq!(tick_size(price), tick, "{price}");
        }
    }

    #[test]
    fn rounding_examples() {
        assert_eq!(
            round_price(dec!(999_999), Side::Bid).unwrap().get(),
            dec!(999_500)
        );
        assert_eq!(
            round_price(dec!(999_999), Side::Ask).unwrap().get(),
            dec!(1_000_000)
        );
        assert_eq!(
            round_price(dec!(4_999.5), Side::Ask).unwrap().get(),
            dec!(5_000)
        );
        assert_eq!(
            round_price(dec!(148_601_234), Side::Bid).unwrap().get(),
            dec!(148_601_000)
        );
        assert!(round_price(dec!(0.000000001), Side::Bid).is_err());
        assert!(round_price(dec!(-1), Side::Ask).is_err());
    }

    #[test]
    fn order_checks_name_fields() {
        let p = Price::new(dec!(100_050)).unwrap();
        assert_eq!(check_tick("price", p).unwrap_err().field, "price");
        let p = Price::new(dec!(100_000)).unwrap();
        let small = Volume::new(dec!(0.01)).unwrap();
        let err = check_limit_order(p, small).unwrap_err();
        assert!(err.message.contains("minimum"), "{err}");
        assert!(check_limit_order(p, Volume::new(dec!(0.05)).unwrap()).is_ok());
    }

    fn price_strategy() -> impl Strategy<Value = Decimal> {
        // mantissa × 10^-scale covers every band from 1e-8 to ~1e10 KRW.
        (1i64..10_000_000_000, 0u32..=10).prop_map(|(m, s)| Decimal::new(m, s))
    }

    proptest! {
        #[test]
        fn buy_never_rounds_up_sell_never_down_always_on_tick(p in price_strategy()) {
            if let Ok(bid) = round_price(p, Side::Bid) {
                prop_assert!(bid.get() <= p);
                prop_assert!(is_on_tick(bid.get()), "bid {} off tick", bid);
                prop_assert!(p - bid.get() < tick_size(p), "bid moved more than a tick");
            }
            let ask = round_price(p, Side::Ask).unwrap();
            prop_assert!(ask.get() >= p);
            prop_assert!(is_on_tick(ask.get()), "ask {} off tick", ask);
            prop_assert!(ask.get() - p < tick_size(ask.get()), "ask moved more than a tick");
        }

        /// Prices within ±0.2 % of a band boundary, where the tick changes
        /// and rounding down can cross into the finer band below.
        #[test]
        fn rounding_near_band_edges_is_safe_and_on_tick(
            band in 0usize..TICK_TABLE.len() - 1,
            offset in -2_000i64..=2_000,
            extra in 0i64..1_000,
        ) {
            let edge = TICK_TABLE[band].0;
            let p = edge + edge * Decimal::new(offset, 6) + Decimal::new(extra, 12);
            prop_assume!(p > Decimal::ZERO);
            for side in [Side::Bid, Side::Ask] {
                let Ok(r) = round_price(p, side) else {
                    prop_assert_eq!(side, Side::Bid, "only a buy may round to zero");
                    continue;
                };
                prop_assert!(is_on_tick(r.get()), "{:?} {} -> {} off tick", side, p, r);
                match side {
                    Side::Bid => prop_assert!(r.get() <= p, "buy {} rounded up to {}", p, r),
                    Side::Ask => prop_assert!(r.get() >= p, "sell {} rounded down to {}", p, r),
                }
                prop_assert!(check_tick("price", r).is_ok());
            }
        }

        #[test]
        fn on_tick_prices_are_fixed_points(p in price_strategy()) {
            let on = round_price(p, Side::Bid);
            if let Ok(on) = on {
                prop_assert_eq!(round_price(on.get(), Side::Bid).unwrap(), on);
                prop_assert_eq!(round_price(on.get(), Side::Ask).unwrap(), on);
            }
        }
    }
}
