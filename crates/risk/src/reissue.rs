//! Re-issuing an approval (EXE-1): the executor splits an approved entry into
//! tranches, retries it under a new identifier after a failed attempt, or
//! sells the rest of an approved exit at market. Each of these is a new
//! `OrderRequest`, and an executor accepts only a [`RiskApproved`]; this is
//! the one place such derived orders get their approval, and only when they
//! commit no more than the original did:
//!
//! * same market and side;
//! * a buy stays a buy of the same type, never at a higher limit price, and
//!   the parts together buy no more volume (KRW for a market buy) than approved;
//! * a sell may become a limit sell at or above the approved price, or a market
//!   sell (exits are always allowed, REG-4 / RUN-4), and the parts together
//!   sell no more volume than approved.
//!
//! The parts keep the original's check results (they are what approved it).

use domain::{OrdType, OrderRequest, Side};
use rust_decimal::Decimal;

use crate::RiskApproved;

/// Why a re-issue was refused. Nothing is approved in that case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReissueError {
    /// No parts were given.
    #[error("a re-issue needs at least one order")]
    Empty,
    /// A part is for another market or side.
    #[error(
        "part {index} is a {side} on {market}, the approval is a {approved_side} on {approved_market}"
    )]
    Mismatch {
        /// Part index.
        index: usize,
        /// Its market.
        market: String,
        /// Its side.
        side: Side,
        /// The approved market.
        approved_market: String,
        /// The approved side.
        approved_side: Side,
    },
    /// A part has an order type the approval does not cover.
    #[error("part {index} is a {ord_type} order; a {approved} approval cannot become one")]
    OrdType {
        /// Part index.
        index: usize,
        /// Its type.
        ord_type: OrdType,
        /// The approved type.
        approved: OrdType,
    },
    /// A part's limit price is worse for the trader than the approved one.
    #[error("part {index} has limit {price}, beyond the approved {approved}")]
    Price {
        /// Part index.
        index: usize,
        /// Its price.
        price: Decimal,
        /// The approved price.
        approved: Decimal,
    },
    /// The parts together commit more than the approval.
    #[error("the parts total {total}, more than the approved {approved}")]
    Exceeds {
        /// What the parts add up to (volume, or KRW for market buys).
        total: Decimal,
        /// What was approved.
        approved: Decimal,
    },
}

/// The amount an order commits in the unit the rules compare: KRW for a
/// market buy, volume otherwise.
fn amount(o: &OrderRequest) -> Decimal {
    match o.ord_type() {
        OrdType::Price => o.price().map_or(Decimal::ZERO, domain::Price::get),
        _ => o.volume().map_or(Decimal::ZERO, domain::Volume::get),
    }
}

fn check_part(
    index: usize,
    part: &OrderRequest,
    approved: &OrderRequest,
) -> Result<(), ReissueError> {
    if part.market() != approved.market() || part.side() != approved.side() {
        return Err(ReissueError::Mismatch {
            index,
            market: part.market().to_string(),
            side: part.side(),
            approved_market: approved.market().to_string(),
            approved_side: approved.side(),
        });
    }
    let type_ok = match approved.side() {
        Side::Bid => part.ord_type() == approved.ord_type(),
        Side::Ask => matches!(part.ord_type(), OrdType::Limit | OrdType::Market),
    };
    if !type_ok {
        return Err(ReissueError::OrdType {
            index,
            ord_type: part.ord_type(),
            approved: approved.ord_type(),
        });
    }
    if part.ord_type() == OrdType::Limit
        && approved.ord_type() == OrdType::Limit
        && let (Some(p), Some(a)) = (part.price(), approved.price())
    {
        let worse = match approved.side() {
            Side::Bid => p > a,
            Side::Ask => p < a,
        };
        if worse {
            return Err(ReissueError::Price {
                index,
                price: p.get(),
                approved: a.get(),
            });
        }
    }
    Ok(())
}

impl RiskApproved<OrderRequest> {
    /// Re-issues this approval as `parts` (tranches, a retry under a new
    /// identifier, a market sell of an exit's rest) under the rules in the
    /// module docs. On success every part is approved with the original's
    /// check results; on refusal nothing is.
    pub fn reissue(
        self,
        parts: Vec<OrderRequest>,
    ) -> Result<Vec<RiskApproved<OrderRequest>>, ReissueError> {
        if parts.is_empty() {
            return Err(ReissueError::Empty);
        }
        let (approved, checks) = self.into_parts();
        for (i, p) in parts.iter().enumerate() {
            check_part(i, p, &approved)?;
        }
        let total: Decimal = parts.iter().map(amount).sum();
        let limit = amount(&approved);
        if total > limit {
            return Err(ReissueError::Exceeds {
                total,
                approved: limit,
            });
        }
        Ok(parts
            .into_iter()
            .map(|p| RiskApproved::new(p, checks.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use domain::{Krw, Market, OrderIdentifier, Price, TimeInForce, TraderId, Volume};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::approve_exit;
    use crate::testutil::position;

    fn id(attempt: u32) -> OrderIdentifier {
        OrderIdentifier::for_attempt(TraderId::new(1).unwrap(), "s", 9, attempt).unwrap()
    }

    fn m(code: &str) -> Market {
        code.parse().unwrap()
    }

    fn limit(side: Side, p: Decimal, v: Decimal, tif: Option<TimeInForce>, a: u32) -> OrderRequest {
        OrderRequest::limit(
            m("KRW-XRP"),
            side,
            Price::new(p).unwrap(),
            Volume::new(v).unwrap(),
            tif,
            id(a),
        )
        .unwrap()
    }

    /// An approved sell of 100 at 1000 (exits are approved by `approve_exit`).
    fn approved_sell() -> RiskApproved<OrderRequest> {
        let pos = position("KRW-XRP", dec!(900), dec!(100), dec!(850));
        approve_exit(limit(Side::Ask, dec!(1000), dec!(100), None, 0), &pos).unwrap()
    }

    fn approved_buy() -> RiskApproved<OrderRequest> {
        // A buy cannot be approved through PRE-1..8 in a unit test without a
        // whole context; the internal constructor stands in for it here.
        RiskApproved::new(limit(Side::Bid, dec!(1000), dec!(100), None, 0), Vec::new())
    }

    #[test]
    fn splits_and_retries_within_the_approval() {
        let parts = approved_buy()
            .reissue(vec![
                limit(Side::Bid, dec!(1000), dec!(60), None, 1),
                limit(
                    Side::Bid,
                    dec!(999),
                    dec!(40),
                    Some(TimeInForce::PostOnly),
                    2,
                ),
            ])
            .unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].get().identifier(), &id(2));
        // an exit's rest at market
        let parts = approved_sell()
            .reissue(vec![
                OrderRequest::market_sell(
                    m("KRW-XRP"),
                    Volume::new(dec!(30)).unwrap(),
                    Price::new(dec!(990)).unwrap(),
                    id(1),
                )
                .unwrap(),
            ])
            .unwrap();
        assert_eq!(parts[0].get().ord_type(), OrdType::Market);
    }

    #[test]
    fn refuses_anything_that_commits_more() {
        type Case = (
            fn() -> RiskApproved<OrderRequest>,
            Vec<OrderRequest>,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (approved_buy, vec![], "at least one"),
            (
                approved_buy,
                vec![limit(Side::Bid, dec!(1001), dec!(10), None, 1)],
                "beyond the approved",
            ),
            (
                approved_buy,
                vec![
                    limit(Side::Bid, dec!(1000), dec!(60), None, 1),
                    limit(Side::Bid, dec!(1000), dec!(41), None, 2),
                ],
                "more than the approved",
            ),
            (
                approved_buy,
                vec![limit(Side::Ask, dec!(1000), dec!(10), None, 1)],
                "is a ask",
            ),
            (
                approved_buy,
                vec![OrderRequest::market_buy(m("KRW-XRP"), Krw::from_i64(10_000), id(1)).unwrap()],
                "cannot become",
            ),
            (
                approved_sell,
                vec![limit(Side::Ask, dec!(999), dec!(10), None, 1)],
                "beyond the approved",
            ),
            (
                approved_sell,
                vec![
                    OrderRequest::limit(
                        m("KRW-BTC"),
                        Side::Ask,
                        Price::new(dec!(100_000_000)).unwrap(),
                        Volume::new(dec!(0.001)).unwrap(),
                        None,
                        id(1),
                    )
                    .unwrap(),
                ],
                "KRW-BTC",
            ),
        ];
        for (make, parts, want) in cases {
            let err = make().reissue(parts).unwrap_err();
            assert!(err.to_string().contains(want), "{err} vs {want}");
        }
    }
}
