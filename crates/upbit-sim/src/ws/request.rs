//! WebSocket request messages: `[{"ticket"}, {"type","codes",…}…, {"format"}]`,
//! their error names (`WRONG_FORMAT`, `NO_TICKET`, `NO_TYPE`, `NO_CODES`,
//! `INVALID_PARAM`, `INVALID_AUTH`), and the SIMPLE-format key abbreviations.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::units::CandleUnit;

/// A stream type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ticker`.
    Ticker,
    /// `trade`.
    Trade,
    /// `orderbook`.
    Orderbook,
    /// `candle.*`.
    Candle(CandleUnit),
    /// `myOrder` (private).
    MyOrder,
    /// `myAsset` (private).
    MyAsset,
}

impl Kind {
    fn name(self) -> String {
        match self {
            Self::Ticker => "ticker".into(),
            Self::Trade => "trade".into(),
            Self::Orderbook => "orderbook".into(),
            Self::Candle(u) => u.ws_name().unwrap_or_default(),
            Self::MyOrder => "myOrder".into(),
            Self::MyAsset => "myAsset".into(),
        }
    }

    fn private(self) -> bool {
        matches!(self, Self::MyOrder | Self::MyAsset)
    }
}

/// The message format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Full keys, one object per message.
    Default,
    /// Abbreviated keys.
    Simple,
    /// Full keys, messages as arrays.
    JsonList,
    /// Abbreviated keys, messages as arrays.
    SimpleList,
}

/// One type subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeSub {
    /// Stream type.
    pub kind: Kind,
    /// Codes with the orderbook depth (`KRW-BTC.5` → 5; default 30).
    pub codes: Vec<(String, usize)>,
    /// Orderbook aggregation level.
    pub level: Decimal,
    /// Snapshot only.
    pub only_snapshot: bool,
    /// Realtime only.
    pub only_realtime: bool,
}

impl TypeSub {
    /// The `LIST_SUBSCRIPTIONS` entry.
    pub fn describe(&self) -> Value {
        let codes: Vec<String> = self
            .codes
            .iter()
            .map(|(c, d)| {
                if self.kind == Kind::Orderbook && *d != 30 {
                    format!("{c}.{d}")
                } else {
                    c.clone()
                }
            })
            .collect();
        json!({ "type": self.kind.name(), "codes": codes, "level": self.level.to_string().parse::<f64>().unwrap_or(0.0) })
    }
}

/// A whole subscription (a request replaces the previous one).
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// The ticket.
    pub ticket: String,
    /// Types.
    pub types: Vec<TypeSub>,
    /// Format.
    pub format: Format,
}

impl Subscription {
    /// The realtime subscription of `kind` covering `code`, if any.
    pub fn wants(&self, kind: Kind, code: &str) -> Option<&TypeSub> {
        self.types
            .iter()
            .find(|t| t.kind == kind && !t.only_snapshot && t.codes.iter().any(|(c, _)| c == code))
    }

    /// Private types: `myOrder` with no codes means every market.
    pub fn wants_private(&self, kind: Kind, code: Option<&str>) -> bool {
        self.types.iter().any(|t| {
            t.kind == kind
                && !t.only_snapshot
                && (t.codes.is_empty() || code.is_some_and(|c| t.codes.iter().any(|(x, _)| x == c)))
        })
    }
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Subscribe (replacing any previous subscription).
    Subscribe(Subscription),
    /// `{"method":"LIST_SUBSCRIPTIONS"}`.
    ListSubscriptions {
        /// The ticket.
        ticket: String,
    },
}

type Fail = (&'static str, String);

fn flag(obj: &Map<String, Value>, snake: &str, camel: &str) -> Result<bool, Fail> {
    match obj.get(snake).or_else(|| obj.get(camel)) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(("INVALID_PARAM", format!("{snake} must be a boolean"))),
    }
}

/// Parses a request; `private` says which endpoint received it.
pub fn parse(text: &str, private: bool) -> Result<Parsed, Fail> {
    let v: Value = serde_json::from_str(text).map_err(|_| {
        (
            "WRONG_FORMAT",
            "the request must be a JSON array".to_owned(),
        )
    })?;
    let Value::Array(items) = v else {
        return Err((
            "WRONG_FORMAT",
            "the request must be a JSON array".to_owned(),
        ));
    };
    let mut ticket = None;
    let mut format = Format::Default;
    let mut types = Vec::new();
    let mut list = false;
    for item in &items {
        let Value::Object(obj) = item else {
            return Err(("WRONG_FORMAT", "every element must be an object".to_owned()));
        };
        if let Some(t) = obj.get("ticket") {
            ticket = Some(t.as_str().map_or_else(|| t.to_string(), str::to_owned));
            continue;
        }
        if let Some(f) = obj.get("format") {
            format = match f.as_str() {
                Some("DEFAULT") => Format::Default,
                Some("SIMPLE") => Format::Simple,
                Some("JSON_LIST") => Format::JsonList,
                Some("SIMPLE_LIST") => Format::SimpleList,
                _ => return Err(("WRONG_FORMAT", format!("unknown format {f}"))),
            };
            continue;
        }
        if obj.get("method").and_then(Value::as_str) == Some("LIST_SUBSCRIPTIONS") {
            list = true;
            continue;
        }
        let Some(ty) = obj.get("type").and_then(Value::as_str) else {
            return Err((
                "WRONG_FORMAT",
                "an element has neither ticket, type nor format".to_owned(),
            ));
        };
        let kind = match ty {
            "ticker" => Kind::Ticker,
            "trade" => Kind::Trade,
            "orderbook" => Kind::Orderbook,
            "myOrder" => Kind::MyOrder,
            "myAsset" => Kind::MyAsset,
            other => Kind::Candle(
                CandleUnit::from_ws_name(other)
                    .ok_or(("INVALID_PARAM", format!("unknown type {other:?}")))?,
            ),
        };
        if kind.private() && !private {
            return Err((
                "INVALID_AUTH",
                format!("{ty} needs the private endpoint /websocket/v1/private"),
            ));
        }
        if !kind.private() && private {
            return Err(("INVALID_PARAM", format!("{ty} is served on /websocket/v1")));
        }
        let codes_raw: Vec<String> = match obj.get("codes") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|c| {
                    c.as_str()
                        .map(str::to_owned)
                        .ok_or(("WRONG_FORMAT", "codes must be strings".to_owned()))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(("WRONG_FORMAT", "codes must be an array".to_owned())),
        };
        if kind == Kind::MyAsset && obj.contains_key("codes") {
            return Err(("WRONG_FORMAT", "myAsset does not take codes".to_owned()));
        }
        if !kind.private() && codes_raw.is_empty() {
            return Err(("NO_CODES", format!("{ty} needs codes")));
        }
        let codes = codes_raw
            .into_iter()
            .map(|c| match (kind, c.rsplit_once('.')) {
                (Kind::Orderbook, Some((code, n))) => {
                    let depth = n
                        .parse::<usize>()
                        .ok()
                        .filter(|d| [1, 5, 15, 30].contains(d))
                        .unwrap_or(30);
                    (code.to_owned(), depth)
                }
                _ => (c, 30),
            })
            .collect();
        let level = match obj.get("level") {
            None | Some(Value::Null) => Decimal::ZERO,
            Some(l) => Decimal::from_str_exact(l.to_string().trim_matches('"'))
                .map_err(|_| ("INVALID_PARAM", "level must be a number".to_owned()))?
                .normalize(),
        };
        types.push(TypeSub {
            kind,
            codes,
            level,
            only_snapshot: flag(obj, "is_only_snapshot", "isOnlySnapshot")?,
            only_realtime: flag(obj, "is_only_realtime", "isOnlyRealtime")?,
        });
    }
    let Some(ticket) = ticket else {
        return Err((
            "NO_TICKET",
            "the first element must carry a ticket".to_owned(),
        ));
    };
    if list {
        return Ok(Parsed::ListSubscriptions { ticket });
    }
    if types.is_empty() {
        return Err(("NO_TYPE", "no type requested".to_owned()));
    }
    Ok(Parsed::Subscribe(Subscription {
        ticket,
        types,
        format,
    }))
}

/// SIMPLE-format key for a DEFAULT key (`type` of the message decides
/// between `tdt`/`td` for `trade_date`).
#[allow(
    clippy::match_same_arms,
    reason = "a table of Upbit's SIMPLE names, which reuse some abbreviations (ask_price and avg_price are both `ap`)"
)]
fn abbreviation(key: &str, ty: &str) -> Option<&'static str> {
    Some(match key {
        "type" => "ty",
        "code" => "cd",
        "opening_price" => "op",
        "high_price" => "hp",
        "low_price" => "lp",
        "trade_price" => "tp",
        "prev_closing_price" => "pcp",
        "change" => "c",
        "change_price" => "cp",
        "signed_change_price" => "scp",
        "change_rate" => "cr",
        "signed_change_rate" => "scr",
        "trade_volume" => "tv",
        "acc_trade_volume" => "atv",
        "acc_trade_volume_24h" => "atv24h",
        "acc_trade_price" => "atp",
        "acc_trade_price_24h" => "atp24h",
        "trade_date" if ty == "trade" => "td",
        "trade_date" => "tdt",
        "trade_time" => "ttm",
        "trade_timestamp" => "ttms",
        "ask_bid" => "ab",
        "acc_ask_volume" => "aav",
        "acc_bid_volume" => "abv",
        "highest_52_week_price" => "h52wp",
        "highest_52_week_date" => "h52wdt",
        "lowest_52_week_price" => "l52wp",
        "lowest_52_week_date" => "l52wdt",
        "market_state" => "ms",
        "is_trading_suspended" => "its",
        "delisting_date" => "dd",
        "market_warning" => "mw",
        "timestamp" => "tms",
        "stream_type" => "st",
        "sequential_id" => "sid",
        "best_ask_price" => "bap",
        "best_ask_size" => "bas",
        "best_bid_price" => "bbp",
        "best_bid_size" => "bbs",
        "total_ask_size" => "tas",
        "total_bid_size" => "tbs",
        "orderbook_units" => "obu",
        "ask_price" => "ap",
        "bid_price" => "bp",
        "ask_size" => "as",
        "bid_size" => "bs",
        "level" => "lv",
        "candle_date_time_utc" => "cdttmu",
        "candle_date_time_kst" => "cdttmk",
        "candle_acc_trade_volume" => "catv",
        "candle_acc_trade_price" => "catp",
        "uuid" => "uid",
        "order_type" => "ot",
        "state" => "s",
        "trade_uuid" => "tuid",
        "price" => "p",
        "avg_price" => "ap",
        "volume" => "v",
        "remaining_volume" => "rv",
        "executed_volume" => "ev",
        "trades_count" => "tc",
        "reserved_fee" => "rsf",
        "remaining_fee" => "rmf",
        "paid_fee" => "pf",
        "locked" => "l",
        "executed_funds" => "ef",
        "time_in_force" => "tif",
        "trade_fee" => "tf",
        "is_maker" => "im",
        "identifier" => "id",
        "smp_type" => "smpt",
        "prevented_volume" => "pv",
        "prevented_locked" => "pl",
        "order_timestamp" => "otms",
        "asset_uuid" => "astuid",
        "assets" => "ast",
        "currency" => "cu",
        "balance" => "b",
        "asset_timestamp" => "asttms",
        _ => return None,
    })
}

/// Converts a DEFAULT message to SIMPLE keys (recursively).
pub fn simplify(v: &Value) -> Value {
    let ty = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    rename(v, &ty)
}

fn rename(v: &Value, ty: &str) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, val)| {
                    let key = abbreviation(k, ty).map_or_else(|| k.clone(), str::to_owned);
                    (key, rename(val, ty))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| rename(x, ty)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, private: bool) -> &'static str {
        parse(text, private).unwrap_err().0
    }

    #[test]
    fn parses_the_documented_request() {
        let text = r#"[{"ticket":"t1"},{"type":"ticker","codes":["KRW-BTC","KRW-ETH"]},
            {"type":"orderbook","codes":["KRW-BTC.15"],"level":10000},
            {"type":"candle.1m","codes":["KRW-BTC"],"isOnlyRealtime":true},{"format":"SIMPLE"}]"#;
        let Parsed::Subscribe(s) = parse(text, false).unwrap() else {
            panic!("expected a subscription");
        };
        assert_eq!(s.ticket, "t1");
        assert_eq!(s.format, Format::Simple);
        assert_eq!(s.types.len(), 3);
        assert_eq!(s.types[1].codes, vec![("KRW-BTC".to_owned(), 15)]);
        assert_eq!(s.types[1].level, Decimal::from(10_000));
        assert!(s.types[2].only_realtime);
        assert!(s.wants(Kind::Ticker, "KRW-ETH").is_some());
        assert!(s.wants(Kind::Ticker, "KRW-XRP").is_none());
    }

    #[test]
    fn error_names() {
        assert_eq!(err("hello", false), "WRONG_FORMAT");
        assert_eq!(err(r#"{"ticket":"x"}"#, false), "WRONG_FORMAT");
        assert_eq!(
            err(r#"[{"type":"ticker","codes":["KRW-BTC"]}]"#, false),
            "NO_TICKET"
        );
        assert_eq!(err(r#"[{"ticket":"x"}]"#, false), "NO_TYPE");
        assert_eq!(
            err(r#"[{"ticket":"x"},{"type":"ticker"}]"#, false),
            "NO_CODES"
        );
        assert_eq!(
            err(
                r#"[{"ticket":"x"},{"type":"candle.2m","codes":["KRW-BTC"]}]"#,
                false
            ),
            "INVALID_PARAM"
        );
        assert_eq!(
            err(r#"[{"ticket":"x"},{"type":"myOrder"}]"#, false),
            "INVALID_AUTH"
        );
        assert_eq!(
            err(
                r#"[{"ticket":"x"},{"type":"myAsset","codes":["KRW-BTC"]}]"#,
                true
            ),
            "WRONG_FORMAT"
        );
        assert_eq!(
            err(
                r#"[{"ticket":"x"},{"type":"ticker","codes":["KRW-BTC"]},{"format":"XML"}]"#,
                false
            ),
            "WRONG_FORMAT"
        );
        assert!(matches!(
            parse(r#"[{"ticket":"x"},{"method":"LIST_SUBSCRIPTIONS"}]"#, false),
            Ok(Parsed::ListSubscriptions { .. })
        ));
        let Ok(Parsed::Subscribe(s)) = parse(r#"[{"ticket":"x"},{"type":"myOrder"}]"#, true) else {
            panic!("myOrder without codes is valid");
        };
        assert!(s.wants_private(Kind::MyOrder, Some("KRW-BTC")));
    }

    #[test]
    fn simple_keys() {
        let v = json!({"type":"trade","code":"KRW-BTC","trade_date":"2025-07-04","orderbook_units":[{"ask_price":1}]});
        let s = simplify(&v);
        assert_eq!(s["ty"], "trade");
        assert_eq!(s["td"], "2025-07-04");
        assert_eq!(s["obu"][0]["ap"], 1);
        let t = simplify(&json!({"type":"ticker","trade_date":"20250704"}));
        assert_eq!(t["tdt"], "20250704");
    }
}
