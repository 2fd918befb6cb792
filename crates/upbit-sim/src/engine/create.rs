//! Order requests: parsing the parameters, Upbit's validation order
//! (`upbit-api.md` §9 item 8) with its error names, and placing the order
//! (locking funds). Matching happens separately in `matching`.

use axum::http::StatusCode;
use domain::{OrdType, OrderState, Side, TimeInForce, VOLUME_DECIMALS};
use rust_decimal::Decimal;

use super::{Engine, Order, OrderEventKind, SmpType};
use crate::{error::ApiError, market::MarketState, wire::Millis};

/// The raw order parameters as received (all optional text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderInput {
    /// `market`.
    pub market: Option<String>,
    /// `side`.
    pub side: Option<String>,
    /// `ord_type` (Upbit's default is `limit`).
    pub ord_type: Option<String>,
    /// `price`.
    pub price: Option<String>,
    /// `volume`.
    pub volume: Option<String>,
    /// `time_in_force`.
    pub time_in_force: Option<String>,
    /// `smp_type`.
    pub smp_type: Option<String>,
    /// `identifier`.
    pub identifier: Option<String>,
}

/// A validated order, ready to be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Market index.
    pub market: usize,
    /// Side.
    pub side: Side,
    /// Type.
    pub ord_type: OrdType,
    /// Limit price or KRW total.
    pub price: Option<Decimal>,
    /// Volume.
    pub volume: Option<Decimal>,
    /// Time in force.
    pub time_in_force: Option<TimeInForce>,
    /// SMP mode.
    pub smp_type: Option<SmpType>,
    /// Client identifier.
    pub identifier: Option<String>,
    /// For best orders: the opposite best price at validation.
    pub best_limit: Option<Decimal>,
}

/// Funds an order being replaced will release (cancel_and_new).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// Currency released.
    pub currency: String,
    /// Amount released.
    pub amount: Decimal,
}

fn suffix(side: Side) -> &'static str {
    match side {
        Side::Bid => "bid",
        Side::Ask => "ask",
    }
}

fn create_error(side: Side) -> ApiError {
    ApiError::exchange(
        StatusCode::BAD_REQUEST,
        &format!("create_{}_error", suffix(side)),
        "주문 요청 정보가 올바르지 않습니다.",
    )
}

fn parse_amount(field: &str, raw: Option<&String>) -> Result<Option<Decimal>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let d = Decimal::from_str_exact(raw.trim()).map_err(|_| ApiError::validation(field))?;
    if d <= Decimal::ZERO {
        return Err(ApiError::validation(field));
    }
    Ok(Some(d.normalize()))
}

impl Engine {
    /// Validates `input` for `account` in Upbit's order of checks. `market`
    /// is the resolved market (index and state); `released` is what a
    /// cancel_and_new would free before the new order is placed.
    pub fn validate(
        &self,
        account: usize,
        input: &OrderInput,
        market: Option<(usize, &mut MarketState)>,
        released: Option<&Released>,
    ) -> Result<NewOrder, ApiError> {
        if input.market.is_none() {
            return Err(ApiError::validation("market"));
        }
        let Some((midx, m)) = market else {
            return Err(ApiError::validation("market"));
        };
        if m.info.offline {
            return Err(ApiError::exchange(
                StatusCode::FORBIDDEN,
                "market_offline",
                "시스템 점검 중입니다. 점검이 완료된 후에 다시 시도해주세요.",
            ));
        }
        let side = match input.side.as_deref() {
            Some("bid") => Side::Bid,
            Some("ask") => Side::Ask,
            _ => return Err(ApiError::validation("side")),
        };
        let ord_type = match input.ord_type.as_deref() {
            None => OrdType::Limit,
            Some(raw) => {
                OrdType::parse("ord_type", raw).map_err(|_| ApiError::validation("ord_type"))?
            }
        };
        let tif = match input.time_in_force.as_deref() {
            None => None,
            Some(raw) => Some(
                TimeInForce::parse("time_in_force", raw)
                    .map_err(|_| ApiError::validation("time_in_force"))?,
            ),
        };
        let smp = match input.smp_type.as_deref() {
            None => None,
            Some(raw) => Some(SmpType::parse(raw).ok_or_else(|| ApiError::validation("smp_type"))?),
        };
        if let Some(id) = &input.identifier
            && (id.is_empty() || id.len() > 100)
        {
            return Err(ApiError::validation("identifier"));
        }
        let price = parse_amount("price", input.price.as_ref())?;
        let volume = parse_amount("volume", input.volume.as_ref())?;

        // Parameter combination per ord_type.
        match ord_type {
            OrdType::Limit => {
                if price.is_none() {
                    return Err(ApiError::validation("price"));
                }
                if volume.is_none() {
                    return Err(ApiError::validation("volume"));
                }
                if tif == Some(TimeInForce::PostOnly) && smp.is_some() {
                    return Err(create_error(side));
                }
            }
            OrdType::Price => {
                if side != Side::Bid || volume.is_some() || tif.is_some() {
                    return Err(create_error(side));
                }
                if price.is_none() {
                    return Err(ApiError::validation("price"));
                }
            }
            OrdType::Market => {
                if side != Side::Ask || price.is_some() || tif.is_some() {
                    return Err(create_error(side));
                }
                if volume.is_none() {
                    return Err(ApiError::validation("volume"));
                }
            }
            OrdType::Best => {
                if !matches!(tif, Some(TimeInForce::Ioc | TimeInForce::Fok)) {
                    return Err(create_error(side));
                }
                match side {
                    Side::Bid if volume.is_some() => return Err(create_error(side)),
                    Side::Bid if price.is_none() => return Err(ApiError::validation("price")),
                    Side::Ask if price.is_some() => return Err(create_error(side)),
                    Side::Ask if volume.is_none() => return Err(ApiError::validation("volume")),
                    _ => {}
                }
            }
        }

        // Tick alignment of limit prices.
        if ord_type == OrdType::Limit
            && let Some(p) = price
            && !(p % m.tick(p)).is_zero()
        {
            return Err(ApiError::exchange(
                StatusCode::BAD_REQUEST,
                &format!("invalid_price_{}", suffix(side)),
                "주문가격 단위를 잘못 입력하셨습니다. 확인 후 시도해주세요.",
            ));
        }
        // Volume precision.
        if volume.is_some_and(|v| v.scale() > VOLUME_DECIMALS) {
            return Err(ApiError::exchange(
                StatusCode::BAD_REQUEST,
                &format!("invalid_volume_{}", suffix(side)),
                "주문수량 단위를 잘못 입력하셨습니다.",
            ));
        }

        let book = self.merged_book(midx, m);
        let best_bid = book.best_bid();
        let best_ask = book.best_ask();

        // Order value (a product beyond `Decimal`'s range is over any maximum).
        let value = match ord_type {
            OrdType::Limit => price
                .zip(volume)
                .map(|(p, v)| p.checked_mul(v).unwrap_or(Decimal::MAX)),
            OrdType::Price => price,
            OrdType::Market | OrdType::Best => match side {
                Side::Bid => price,
                Side::Ask => volume.map(|v| {
                    v.checked_mul(best_bid.unwrap_or_default())
                        .unwrap_or(Decimal::MAX)
                }),
            },
        }
        .unwrap_or_default();
        if value < self.limits.min_total {
            let name = if ord_type == OrdType::Market {
                "under_min_total_market_ask".to_owned()
            } else {
                format!("under_min_total_{}", suffix(side))
            };
            let message = if ord_type == OrdType::Market {
                format!(
                    "최소 주문 금액은 {}.0 KRW입니다. 시장가 매도시 주문금액은 주문 수량 * 매수 1호가로 계산합니다.",
                    self.limits.min_total
                )
            } else {
                "최소주문금액 이상으로 주문해주세요".to_owned()
            };
            return Err(ApiError::exchange(StatusCode::BAD_REQUEST, &name, message));
        }
        if value > self.limits.max_total {
            return Err(ApiError::exchange(
                StatusCode::BAD_REQUEST,
                &format!("over_max_total_{}", suffix(side)),
                format!(
                    "최대주문금액({} KRW) 이하로 주문해주세요",
                    self.limits.max_total
                ),
            ));
        }

        // Available balance (fee included on bids).
        let acct = self
            .account(account)
            .ok_or_else(|| ApiError::validation("access_key"))?;
        let (currency, need) = match side {
            Side::Bid => ("KRW".to_owned(), value + value * self.fees.bid_fee),
            Side::Ask => (
                m.info.market.base().as_str().to_owned(),
                volume.unwrap_or_default(),
            ),
        };
        let mut available = acct.balance(&currency).balance;
        if let Some(r) = released
            && r.currency == currency
        {
            available += r.amount;
        }
        if need > available {
            return Err(ApiError::exchange(
                StatusCode::BAD_REQUEST,
                &format!("insufficient_funds_{}", suffix(side)),
                format!("주문가능한 금액({currency})이 부족합니다."),
            ));
        }

        // Market orders must fit inside the visible depth (levels 1–30).
        let depth = self.limits.depth_levels;
        match ord_type {
            OrdType::Price => {
                let resting: Decimal = book.asks.iter().take(depth).map(|l| l.price * l.size).sum();
                if value > resting {
                    return Err(depth_error(side));
                }
            }
            OrdType::Market => {
                let resting: Decimal = book.bids.iter().take(depth).map(|l| l.size).sum();
                if volume.unwrap_or_default() > resting {
                    return Err(depth_error(side));
                }
            }
            _ => {}
        }
        let best_limit = match (ord_type, side) {
            (OrdType::Best, Side::Bid) => Some(best_ask.ok_or_else(|| create_error(side))?),
            (OrdType::Best, Side::Ask) => Some(best_bid.ok_or_else(|| create_error(side))?),
            _ => None,
        };

        if let Some(id) = &input.identifier
            && self.identifier_used(account, id)
        {
            return Err(ApiError::validation_msg(format!(
                "identifier {id:?} has already been used; identifiers are unique per account"
            )));
        }

        Ok(NewOrder {
            market: midx,
            side,
            ord_type,
            price,
            volume,
            time_in_force: tif,
            smp_type: smp,
            identifier: input.identifier.clone(),
            best_limit,
        })
    }

    /// The order object a new order would have (also the `orders/test` answer).
    pub fn draft(
        &mut self,
        account: usize,
        new: &NewOrder,
        market_code: &str,
        base: &str,
        now: Millis,
    ) -> Order {
        let reserve_rate = match new.side {
            Side::Bid => self.fees.bid_fee,
            Side::Ask => Decimal::ZERO,
        };
        let mut o = Order {
            uuid: self.new_uuid(),
            account,
            market: new.market,
            market_code: market_code.to_owned(),
            base: base.to_owned(),
            side: new.side,
            ord_type: new.ord_type,
            price: new.price,
            volume: new.volume,
            time_in_force: new.time_in_force,
            smp_type: new.smp_type,
            identifier: new.identifier.clone(),
            state: OrderState::Wait,
            created_at: now,
            remaining_volume: new.volume.unwrap_or_default(),
            executed_volume: Decimal::ZERO,
            executed_funds: Decimal::ZERO,
            reserved_fee: Decimal::ZERO,
            remaining_fee: Decimal::ZERO,
            paid_fee: Decimal::ZERO,
            locked: Decimal::ZERO,
            prevented_volume: Decimal::ZERO,
            prevented_locked: Decimal::ZERO,
            reserve_rate,
            best_limit: new.best_limit,
            trades: Vec::new(),
            resting: false,
            prevented: false,
        };
        o.reserved_fee = o.required_remaining_fee();
        o.remaining_fee = o.reserved_fee;
        o.locked = o.required_lock();
        o
    }

    /// Places a validated order: locks its funds and records it (state
    /// `wait`). Returns the order index. Matching is a separate step.
    pub fn place(&mut self, order: Order, now: Millis) -> usize {
        let i = self.orders.len();
        let (account, side, locked) = (order.account, order.side, order.locked);
        let currency = match side {
            Side::Bid => "KRW".to_owned(),
            Side::Ask => order.base.clone(),
        };
        if let Some(acct) = self.accounts.get_mut(account) {
            let b = acct.entry(&currency);
            b.balance -= locked;
            b.locked += locked;
        }
        self.by_uuid.insert(order.uuid, i);
        if let Some(id) = &order.identifier {
            self.by_identifier.insert((account, id.clone()), i);
            self.used_identifiers.insert((account, id.clone()));
        }
        self.orders.push(order);
        self.push_order_event(i, OrderEventKind::Created, now);
        self.push_asset_event(account, &[currency.as_str()], now);
        i
    }
}

fn depth_error(side: Side) -> ApiError {
    ApiError::exchange(
        StatusCode::BAD_REQUEST,
        &format!("create_{}_error", suffix(side)),
        "시장가 주문은 호가 1~30단계 잔량 이내에서만 가능합니다.",
    )
}
