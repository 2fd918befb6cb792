//! Ordered request parameters.
//!
//! One ordered list feeds all three renderings, so what is hashed is always
//! what is sent (upbit-api.md §4):
//! - [`Params::to_query_string`](crate::http::query::Params::to_query_string): the URL query, values percent-encoded, array
//!   names kept as raw `key[]`;
//! - [`Params::hash_input`](crate::http::query::Params::hash_input): the same string **unencoded**, which the JWT's
//!   `query_hash` covers;
//! - [`Params::to_json_body`](crate::http::query::Params::to_json_body): a JSON object with the same fields in the same
//!   order (POST bodies), values as strings.
//!
//! Also the typed query builders of the read-only endpoints.

use std::fmt::{self, Display, Write as _};

use chrono::{DateTime, Utc};
use domain::{Market, ValidationError};
use url::form_urlencoded::byte_serialize;

use crate::common::parse::format_utc;

/// One parameter value: a scalar or an array (`key[]=a&key[]=b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// `key=value`.
    One(String),
    /// `key[]=v1&key[]=v2`.
    Many(Vec<String>),
}

/// An ordered list of request parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, ParamValue)>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `key=value`.
    #[must_use]
    pub fn push(mut self, key: &str, value: impl Display) -> Self {
        self.0
            .push((key.to_owned(), ParamValue::One(value.to_string())));
        self
    }

    /// Appends `key=value` when `value` is `Some`.
    #[must_use]
    pub fn push_opt<V: Display>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.push(key, v),
            None => self,
        }
    }

    /// Appends an array parameter; `key` is given without `[]`.
    #[must_use]
    pub fn push_many<I, V>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Display,
    {
        let values: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
        self.0.push((key.to_owned(), ParamValue::Many(values)));
        self
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, ParamValue)> {
        self.0.iter()
    }

    fn render(&self, encode: bool) -> String {
        let mut out = String::new();
        let mut first = true;
        let mut add = |out: &mut String, key: &str, array: bool, value: &str| {
            if !first {
                out.push('&');
            }
            first = false;
            if encode {
                out.extend(byte_serialize(key.as_bytes()));
            } else {
                out.push_str(key);
            }
            if array {
                out.push_str("[]");
            }
            out.push('=');
            if encode {
                out.extend(byte_serialize(value.as_bytes()));
            } else {
                out.push_str(value);
            }
        };
        for (key, value) in &self.0 {
            match value {
                ParamValue::One(v) => add(&mut out, key, false, v),
                ParamValue::Many(vs) => {
                    for v in vs {
                        add(&mut out, key, true, v);
                    }
                }
            }
        }
        out
    }

    /// The percent-encoded query string to send (without `?`).
    pub fn to_query_string(&self) -> String {
        self.render(true)
    }

    /// The unencoded `key=value&…` string the JWT `query_hash` covers.
    pub fn hash_input(&self) -> String {
        self.render(false)
    }

    /// A JSON object with the fields in order, values as strings (arrays as
    /// arrays of strings). The hash of a POST covers [`Params::hash_input`]
    /// of the same list, i.e. these fields in this order.
    pub fn to_json_body(&self) -> String {
        let mut out = String::from("{");
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(&mut out, key);
            out.push(':');
            match value {
                ParamValue::One(v) => push_json_str(&mut out, v),
                ParamValue::Many(vs) => {
                    out.push('[');
                    for (j, v) in vs.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        push_json_str(&mut out, v);
                    }
                    out.push(']');
                }
            }
        }
        out.push('}');
        out
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hash_input())
    }
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Joins market codes with commas (`markets=KRW-BTC,KRW-ETH`).
pub fn join_markets(markets: &[Market]) -> Result<String, ValidationError> {
    if markets.is_empty() {
        return Err(ValidationError::new(
            "markets",
            "at least one market is required",
        ));
    }
    Ok(markets
        .iter()
        .map(Market::as_str)
        .collect::<Vec<_>>()
        .join(","))
}

/// Maximum candles per request.
pub const MAX_CANDLES_PER_REQUEST: u16 = 200;
/// Maximum trades per `trades/ticks` request.
pub const MAX_TRADES_PER_REQUEST: u16 = 500;
/// Maximum order-book levels.
pub const MAX_ORDERBOOK_LEVELS: u8 = 30;

/// Parameters of a candle request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandleQuery {
    /// Market.
    pub market: Market,
    /// Exclusive end: candles that start before it. `None` = latest.
    pub to: Option<DateTime<Utc>>,
    /// 1–200.
    pub count: u16,
}

impl CandleQuery {
    /// Validates `count` and renders the parameters.
    pub fn to_params(&self) -> Result<Params, ValidationError> {
        check_count("count", self.count, MAX_CANDLES_PER_REQUEST)?;
        Ok(Params::new()
            .push("market", &self.market)
            .push_opt("to", self.to.map(format_utc))
            .push("count", self.count))
    }
}

/// Parameters of a `trades/ticks` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradesQuery {
    /// Market.
    pub market: Market,
    /// 1–500.
    pub count: u16,
    /// End time within the target UTC day, `HHmmss` or `HH:mm:ss`.
    pub to: Option<String>,
    /// A `sequential_id`: trades before it.
    pub cursor: Option<u64>,
    /// 1–7: which UTC day back.
    pub days_ago: Option<u8>,
}

impl TradesQuery {
    /// The latest `count` trades of `market`.
    pub fn latest(market: Market, count: u16) -> Self {
        Self {
            market,
            count,
            to: None,
            cursor: None,
            days_ago: None,
        }
    }

    /// Validates and renders the parameters.
    pub fn to_params(&self) -> Result<Params, ValidationError> {
        check_count("count", self.count, MAX_TRADES_PER_REQUEST)?;
        if let Some(d) = self.days_ago
            && !(1..=7).contains(&d)
        {
            return Err(ValidationError::new(
                "days_ago",
                format!("must be 1-7, got {d}"),
            ));
        }
        if let Some(to) = &self.to {
            let ok = (to.len() == 6 && to.bytes().all(|b| b.is_ascii_digit()))
                || (to.len() == 8
                    && to.bytes().enumerate().all(|(i, b)| {
                        if i == 2 || i == 5 {
                            b == b':'
                        } else {
                            b.is_ascii_digit()
                        }
                    }));
            if !ok {
                return Err(ValidationError::new(
                    "to",
                    format!("must be HHmmss or HH:mm:ss, got {to:?}"),
                ));
            }
        }
        Ok(Params::new()
            .push("market", &self.market)
            .push_opt("to", self.to.as_deref())
            .push("count", self.count)
            .push_opt("cursor", self.cursor)
            .push_opt("days_ago", self.days_ago))
    }
}

pub(crate) fn check_count(field: &str, count: u16, max: u16) -> Result<(), ValidationError> {
    if count == 0 || count > max {
        return Err(ValidationError::new(
            field,
            format!("must be 1-{max}, got {count}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn m(s: &str) -> Market {
        Market::parse("market", s).unwrap()
    }

    #[test]
    fn renders_query_hash_input_and_body_from_one_list() {
        let p = Params::new()
            .push("market", "KRW-BTC")
            .push("to", "2025-06-24T13:56:53+09:00")
            .push_many("uuids", ["a", "b"]);
        assert_eq!(
            p.to_query_string(),
            "market=KRW-BTC&to=2025-06-24T13%3A56%3A53%2B09%3A00&uuids[]=a&uuids[]=b"
        );
        assert_eq!(
            p.hash_input(),
            "market=KRW-BTC&to=2025-06-24T13:56:53+09:00&uuids[]=a&uuids[]=b"
        );
        assert_eq!(
            p.to_json_body(),
            r#"{"market":"KRW-BTC","to":"2025-06-24T13:56:53+09:00","uuids":["a","b"]}"#
        );
        let weird = Params::new().push("k", "a\"b\\c\n\u{1}");
        let back: serde_json::Value = serde_json::from_str(&weird.to_json_body()).unwrap();
        assert_eq!(back["k"], "a\"b\\c\n\u{1}");
        assert!(Params::new().is_empty());
        assert_eq!(Params::new().to_json_body(), "{}");
    }

    #[test]
    fn candle_and_trade_queries_validate() {
        let to = Utc.with_ymd_and_hms(2025, 6, 24, 4, 56, 53).unwrap();
        let q = CandleQuery {
            market: m("KRW-BTC"),
            to: Some(to),
            count: 200,
        };
        assert_eq!(
            q.to_params().unwrap().hash_input(),
            "market=KRW-BTC&to=2025-06-24T04:56:53Z&count=200"
        );
        for bad in [0, 201] {
            let q = CandleQuery {
                market: m("KRW-BTC"),
                to: None,
                count: bad,
            };
            assert_eq!(q.to_params().unwrap_err().field, "count");
        }
        let mut t = TradesQuery::latest(m("KRW-ETH"), 500);
        t.cursor = Some(17_510_687_993_360_000);
        t.to = Some("23:59:59".into());
        t.days_ago = Some(1);
        assert_eq!(
            t.to_params().unwrap().hash_input(),
            "market=KRW-ETH&to=23:59:59&count=500&cursor=17510687993360000&days_ago=1"
        );
        t.days_ago = Some(8);
        assert_eq!(t.to_params().unwrap_err().field, "days_ago");
        t.days_ago = None;
        t.to = Some("2359".into());
        assert_eq!(t.to_params().unwrap_err().field, "to");
        assert_eq!(join_markets(&[]).unwrap_err().field, "markets");
        assert_eq!(
            join_markets(&[m("KRW-BTC"), m("KRW-ETH")]).unwrap(),
            "KRW-BTC,KRW-ETH"
        );
    }
}
