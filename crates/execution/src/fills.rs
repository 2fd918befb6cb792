//! From an order snapshot to the fills not yet recorded, with exact fees.
//!
//! Upbit's order view lists every fill (`trades[]`) but states only the
//! order's cumulative `paid_fee`, not each fill's fee. The fees of the new
//! fills are therefore the order's `paid_fee` minus the fees already
//! recorded, spread over the new fills in proportion to their funds; the last
//! new fill takes the remainder. With one fee rate per order (Upbit KRW:
//! 0.05 % maker and taker) every fill's fee is exactly `funds × rate`, and
//! in every case the recorded fees of an order add up to its `paid_fee` to
//! the last unit. A snapshot whose fill list does not add up to its executed
//! volume is refused (ask again later), so a half-written answer never
//! becomes a ledger entry.

use domain::{Fill, Krw, Volume};
use rust_decimal::Decimal;

use crate::executor::ExecOrder;

/// The largest number of decimal places a stored amount keeps (`DECIMAL(40,20)`).
pub const MONEY_SCALE: u32 = 20;

/// Why a snapshot cannot be turned into fills (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    /// The answer carried no fill list.
    #[error("the order answer has no fill list")]
    NoTrades,
    /// The fills do not add up to the executed volume.
    #[error("fills add up to {fills}, the order says {executed} executed")]
    Inconsistent {
        /// Σ fill volumes.
        fills: Volume,
        /// The order's executed volume.
        executed: Volume,
    },
    /// The exchange's cumulative fee is below what is already recorded.
    #[error("paid_fee {paid} is below the {recorded} already recorded")]
    FeeWentDown {
        /// The order's paid fee.
        paid: Krw,
        /// Σ recorded fees.
        recorded: Krw,
    },
    /// A recorded fill is missing from the exchange's list.
    #[error("recorded fill {uuid} is not in the exchange's fill list")]
    UnknownRecordedFill {
        /// The fill's uuid.
        uuid: String,
    },
}

/// The fills of `order` that are not among `recorded` (matched by trade
/// uuid), oldest first, with fees as described in the module docs.
pub fn new_fills(order: &ExecOrder, recorded: &[Fill]) -> Result<Vec<Fill>, FillError> {
    let trades = order.trades.as_ref().ok_or(FillError::NoTrades)?;
    let total: Volume = trades.iter().fold(Volume::ZERO, |acc, t| acc + t.volume);
    if total != order.executed_volume {
        return Err(FillError::Inconsistent {
            fills: total,
            executed: order.executed_volume,
        });
    }
    if let Some(missing) = recorded
        .iter()
        .find(|f| !trades.iter().any(|t| t.uuid == f.trade_uuid))
    {
        return Err(FillError::UnknownRecordedFill {
            uuid: missing.trade_uuid.clone(),
        });
    }
    let fresh: Vec<_> = trades
        .iter()
        .filter(|t| !recorded.iter().any(|f| f.trade_uuid == t.uuid))
        .collect();
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let recorded_fee: Krw = recorded.iter().map(|f| f.fee).sum();
    let stated: Krw = fresh.iter().filter_map(|t| t.fee).sum();
    let unstated: Vec<usize> = fresh
        .iter()
        .enumerate()
        .filter(|(_, t)| t.fee.is_none())
        .map(|(i, _)| i)
        .collect();
    // Fee left for the fills that do not state one.
    let left = order.paid_fee - recorded_fee - stated;
    if !unstated.is_empty() && left.is_negative() {
        return Err(FillError::FeeWentDown {
            paid: order.paid_fee,
            recorded: recorded_fee + stated,
        });
    }
    let unstated_funds: Decimal = unstated.iter().map(|&i| fresh[i].funds.get()).sum();
    let mut allocated = Krw::ZERO;
    let mut fees = vec![Krw::ZERO; fresh.len()];
    for (n, &i) in unstated.iter().enumerate() {
        let fee = if n + 1 == unstated.len() {
            left - allocated
        } else if unstated_funds.is_zero() {
            Krw::ZERO
        } else {
            let share = fresh[i].funds.get() * left.get() / unstated_funds;
            Krw::from_decimal(share.round_dp(MONEY_SCALE))
        };
        allocated += fee;
        fees[i] = fee;
    }
    Ok(fresh
        .iter()
        .zip(fees)
        .map(|(t, allocated_fee)| Fill {
            trade_uuid: t.uuid.clone(),
            order_uuid: order.uuid.clone(),
            identifier: order.identifier.clone(),
            market: order.market.clone(),
            side: order.side,
            price: t.price,
            volume: t.volume,
            funds: t.funds,
            fee: t.fee.unwrap_or(allocated_fee),
            ts: t.ts,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use domain::{OrdType, OrderIdentifier, OrderState, Price, Side, TraderId};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::executor::ExecTrade;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_756_684_800 + s, 0).single().unwrap()
    }

    fn trade(uuid: &str, p: Decimal, v: Decimal, fee: Option<Decimal>) -> ExecTrade {
        let price = Price::new(p).unwrap();
        let volume = Volume::new(v).unwrap();
        ExecTrade {
            uuid: uuid.to_owned(),
            price,
            volume,
            funds: price * volume,
            fee: fee.map(Krw::from_decimal),
            ts: t(0),
        }
    }

    fn order(trades: Option<Vec<ExecTrade>>, executed: Decimal, paid: Decimal) -> ExecOrder {
        let executed_funds = trades
            .as_ref()
            .map_or(Krw::ZERO, |ts| ts.iter().map(|t| t.funds).sum());
        ExecOrder {
            uuid: "u1".to_owned(),
            identifier: OrderIdentifier::for_attempt(TraderId::new(3).unwrap(), "s", 1, 0).unwrap(),
            market: "KRW-XRP".parse().unwrap(),
            side: Side::Bid,
            ord_type: OrdType::Limit,
            price: Some(Price::new(dec!(1000)).unwrap()),
            volume: Some(Volume::new(dec!(100)).unwrap()),
            time_in_force: None,
            state: OrderState::Wait,
            executed_volume: Volume::new(executed).unwrap(),
            executed_funds,
            paid_fee: Krw::from_decimal(paid),
            trades,
            created_at: t(0),
        }
    }

    #[test]
    fn fees_add_up_to_paid_fee_exactly() {
        // 0.05 % of 30,000 and of 19,980: 15 and 9.99.
        let o = order(
            Some(vec![
                trade("a", dec!(1000), dec!(30), None),
                trade("b", dec!(999), dec!(20), None),
            ]),
            dec!(50),
            dec!(24.99),
        );
        let fills = new_fills(&o, &[]).unwrap();
        assert_eq!(fills.len(), 2);
        assert_eq!(fills[0].fee.get(), dec!(15));
        assert_eq!(fills[1].fee.get(), dec!(9.99));
        // The next snapshot adds one fill; only it is new.
        let mut o2 = order(
            Some(vec![
                trade("a", dec!(1000), dec!(30), None),
                trade("b", dec!(999), dec!(20), None),
                trade("c", dec!(998), dec!(3), None),
            ]),
            dec!(53),
            dec!(26.487),
        );
        o2.state = OrderState::Cancel;
        let more = new_fills(&o2, &fills).unwrap();
        assert_eq!(more.len(), 1);
        assert_eq!(more[0].trade_uuid, "c");
        assert_eq!(more[0].fee.get(), dec!(1.497));
        let sum: Krw = fills.iter().chain(&more).map(|f| f.fee).sum();
        assert_eq!(sum, o2.paid_fee);
    }

    #[test]
    fn stated_fees_are_kept() {
        let o = order(
            Some(vec![trade("a", dec!(1000), dec!(10), Some(dec!(5)))]),
            dec!(10),
            dec!(5),
        );
        assert_eq!(new_fills(&o, &[]).unwrap()[0].fee.get(), dec!(5));
    }

    #[test]
    fn refuses_snapshots_that_do_not_add_up() {
        let cases: Vec<(ExecOrder, Vec<Fill>, &str)> = vec![
            (order(None, dec!(0), dec!(0)), vec![], "no fill list"),
            (
                order(
                    Some(vec![trade("a", dec!(1000), dec!(10), None)]),
                    dec!(20),
                    dec!(10),
                ),
                vec![],
                "add up to 10",
            ),
            (
                order(
                    Some(vec![trade("a", dec!(1000), dec!(10), None)]),
                    dec!(10),
                    dec!(5),
                ),
                {
                    let mut f = new_fills(
                        &order(
                            Some(vec![trade("z", dec!(1000), dec!(10), None)]),
                            dec!(10),
                            dec!(5),
                        ),
                        &[],
                    )
                    .unwrap();
                    f[0].trade_uuid = "z".to_owned();
                    f
                },
                "not in the exchange",
            ),
        ];
        for (o, rec, want) in cases {
            let err = new_fills(&o, &rec).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
        // a fee that went down
        let first = order(
            Some(vec![trade("a", dec!(1000), dec!(10), None)]),
            dec!(10),
            dec!(5),
        );
        let rec = new_fills(&first, &[]).unwrap();
        let second = order(
            Some(vec![
                trade("a", dec!(1000), dec!(10), None),
                trade("b", dec!(1000), dec!(10), None),
            ]),
            dec!(20),
            dec!(4),
        );
        assert!(matches!(
            new_fills(&second, &rec),
            Err(FillError::FeeWentDown { .. })
        ));
        // nothing new
        assert!(new_fills(&first, &rec).unwrap().is_empty());
    }
}
