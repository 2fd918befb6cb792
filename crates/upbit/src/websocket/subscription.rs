//! The WebSocket request message (upbit-api.md §8.2): a JSON array of a
//! ticket object, one object per subscribed type, and a format object.

use domain::{Market, ValidationError};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::common::enums::CandleInterval;

/// What to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// Tickers.
    Ticker,
    /// Public trades.
    Trade,
    /// Order books; `depth` ∈ 1, 5, 15, 30 (default 30), `level` KRW aggregation.
    Orderbook {
        /// Levels per side.
        depth: Option<u8>,
        /// Aggregation unit (0 = native tick).
        level: Option<Decimal>,
    },
    /// Candles (seconds or minutes).
    Candle(CandleInterval),
    /// Private: own order events (empty `markets` = all markets).
    MyOrder,
    /// Private: own balance changes (takes no markets).
    MyAsset,
}

impl Channel {
    /// True for the private channels (need the private URL and a JWT).
    pub const fn is_private(&self) -> bool {
        matches!(self, Self::MyOrder | Self::MyAsset)
    }
}

/// One type object of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The channel.
    pub channel: Channel,
    /// Markets (upper-case codes).
    pub markets: Vec<Market>,
    /// Only the snapshot, no realtime updates.
    pub only_snapshot: bool,
    /// Only realtime updates, no snapshot.
    pub only_realtime: bool,
}

impl Subscription {
    /// A subscription with snapshot and realtime updates.
    pub fn new(channel: Channel, markets: Vec<Market>) -> Self {
        Self {
            channel,
            markets,
            only_snapshot: false,
            only_realtime: false,
        }
    }

    /// Tickers of `markets`.
    pub fn ticker(markets: Vec<Market>) -> Self {
        Self::new(Channel::Ticker, markets)
    }

    /// Trades of `markets`.
    pub fn trade(markets: Vec<Market>) -> Self {
        Self::new(Channel::Trade, markets)
    }

    /// Order books of `markets` (30 levels).
    pub fn orderbook(markets: Vec<Market>) -> Self {
        Self::new(
            Channel::Orderbook {
                depth: None,
                level: None,
            },
            markets,
        )
    }

    /// Candles of `markets`.
    pub fn candle(interval: CandleInterval, markets: Vec<Market>) -> Self {
        Self::new(Channel::Candle(interval), markets)
    }

    /// Own orders (empty = all markets).
    pub fn my_order(markets: Vec<Market>) -> Self {
        Self::new(Channel::MyOrder, markets)
    }

    /// Own balances.
    pub fn my_asset() -> Self {
        Self::new(Channel::MyAsset, Vec::new())
    }

    /// Realtime updates only.
    #[must_use]
    pub fn realtime_only(mut self) -> Self {
        self.only_realtime = true;
        self.only_snapshot = false;
        self
    }

    fn type_object(&self) -> Result<Value, ValidationError> {
        let mut obj = Map::new();
        let codes = |suffix: Option<String>| -> Vec<Value> {
            self.markets
                .iter()
                .map(|m| {
                    Value::String(match &suffix {
                        Some(s) => format!("{m}{s}"),
                        None => m.to_string(),
                    })
                })
                .collect()
        };
        let needs_codes = !matches!(self.channel, Channel::MyOrder | Channel::MyAsset);
        if needs_codes && self.markets.is_empty() {
            return Err(ValidationError::new(
                "codes",
                "at least one market is required",
            ));
        }
        match &self.channel {
            Channel::Ticker => {
                obj.insert("type".into(), json!("ticker"));
                obj.insert("codes".into(), Value::Array(codes(None)));
            }
            Channel::Trade => {
                obj.insert("type".into(), json!("trade"));
                obj.insert("codes".into(), Value::Array(codes(None)));
            }
            Channel::Orderbook { depth, level } => {
                if let Some(d) = depth
                    && ![1, 5, 15, 30].contains(d)
                {
                    return Err(ValidationError::new(
                        "depth",
                        format!("must be 1, 5, 15 or 30, got {d}"),
                    ));
                }
                obj.insert("type".into(), json!("orderbook"));
                obj.insert(
                    "codes".into(),
                    Value::Array(codes(depth.map(|d| format!(".{d}")))),
                );
                if let Some(l) = level {
                    let n: serde_json::Number = l
                        .normalize()
                        .to_string()
                        .parse()
                        .map_err(|_| ValidationError::new("level", format!("bad level {l}")))?;
                    obj.insert("level".into(), Value::Number(n));
                }
            }
            Channel::Candle(iv) => {
                let ty = iv.ws_type().ok_or_else(|| {
                    ValidationError::new(
                        "interval",
                        format!("{iv} candles are not streamed; use seconds or minutes"),
                    )
                })?;
                obj.insert("type".into(), json!(ty));
                obj.insert("codes".into(), Value::Array(codes(None)));
            }
            Channel::MyOrder => {
                obj.insert("type".into(), json!("myOrder"));
                if !self.markets.is_empty() {
                    obj.insert("codes".into(), Value::Array(codes(None)));
                }
            }
            Channel::MyAsset => {
                if !self.markets.is_empty() {
                    return Err(ValidationError::new(
                        "codes",
                        "myAsset takes no codes (Upbit answers WRONG_FORMAT)",
                    ));
                }
                obj.insert("type".into(), json!("myAsset"));
            }
        }
        if self.only_snapshot {
            obj.insert("is_only_snapshot".into(), json!(true));
        }
        if self.only_realtime {
            obj.insert("is_only_realtime".into(), json!(true));
        }
        Ok(Value::Object(obj))
    }
}

/// Renders the request: `[{"ticket":…}, {type…}…, {"format":"DEFAULT"}]`.
pub fn request_message(
    ticket: &str,
    subscriptions: &[Subscription],
) -> Result<String, ValidationError> {
    if subscriptions.is_empty() {
        return Err(ValidationError::new(
            "subscriptions",
            "at least one is required",
        ));
    }
    let mut items = Vec::with_capacity(subscriptions.len() + 2);
    items.push(json!({ "ticket": ticket }));
    for s in subscriptions {
        items.push(s.type_object()?);
    }
    items.push(json!({ "format": "DEFAULT" }));
    Ok(Value::Array(items).to_string())
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::common::enums::MinuteUnit;

    fn m(s: &str) -> Market {
        Market::parse("market", s).unwrap()
    }

    #[test]
    fn renders_the_documented_example() {
        let subs = [
            Subscription::ticker(vec![m("KRW-BTC"), m("KRW-ETH")]),
            Subscription::new(
                Channel::Orderbook {
                    depth: Some(15),
                    level: Some(dec!(10000)),
                },
                vec![m("KRW-BTC")],
            ),
            Subscription::candle(CandleInterval::Minutes(MinuteUnit::M1), vec![m("KRW-BTC")])
                .realtime_only(),
        ];
        let got: Value = serde_json::from_str(
            &request_message("0e66c0ac-7e13-43ef-91fb-2a87c2956c49", &subs).unwrap(),
        )
        .unwrap();
        let want: Value = serde_json::from_slice(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/test_data/ws_request_example.json"
        )))
        .unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn private_channels_and_validation() {
        let msg = request_message(
            "t",
            &[Subscription::my_order(vec![]), Subscription::my_asset()],
        )
        .unwrap();
        assert_eq!(
            msg,
            r#"[{"ticket":"t"},{"type":"myOrder"},{"type":"myAsset"},{"format":"DEFAULT"}]"#
        );
        assert!(Channel::MyOrder.is_private());
        assert!(!Channel::Trade.is_private());
        let mut bad = Subscription::my_asset();
        bad.markets.push(m("KRW-BTC"));
        assert_eq!(request_message("t", &[bad]).unwrap_err().field, "codes");
        assert_eq!(
            request_message("t", &[Subscription::ticker(vec![])])
                .unwrap_err()
                .field,
            "codes"
        );
        assert_eq!(
            request_message(
                "t",
                &[Subscription::candle(
                    CandleInterval::Days,
                    vec![m("KRW-BTC")]
                )]
            )
            .unwrap_err()
            .field,
            "interval"
        );
        let deep = Subscription::new(
            Channel::Orderbook {
                depth: Some(7),
                level: None,
            },
            vec![m("KRW-BTC")],
        );
        assert_eq!(request_message("t", &[deep]).unwrap_err().field, "depth");
        assert_eq!(
            request_message("t", &[]).unwrap_err().field,
            "subscriptions"
        );
    }
}
