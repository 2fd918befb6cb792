//! Request parameters in every form real clients send: the query string,
//! a form body (pyupbit's private GETs), or a JSON body (POST, pyupbit's
//! cancels). Array names arrive as `states[]` raw or `%5B%5D`; lists as
//! `markets=A,B`, `markets=A&markets=B` or `markets[]=A`. Also the exact
//! strings a client may have hashed into `query_hash` (`upbit-api.md` §4).

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// Where the parameters came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// None at all.
    Empty,
    /// The URL query string.
    Query,
    /// An `application/x-www-form-urlencoded` body.
    Form,
    /// A JSON object body.
    Json,
}

/// Parsed parameters, in the order received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
    origin: Origin,
    body_present: bool,
    hash_candidates: Vec<String>,
}

/// Why the parameters could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed request parameters: {0}")]
pub struct BadParams(pub String);

/// A JSON object whose entries keep their order.
struct Ordered(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Percent-decodes without turning `+` into a space (Python's `unquote`).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

impl Params {
    /// Parses the query string and body. A body is used only when the query
    /// string is empty (DELETE batch endpoints reject bodies elsewhere).
    pub fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self, BadParams> {
        let query = query.unwrap_or("");
        let body_text = std::str::from_utf8(body)
            .map_err(|_| BadParams("body is not UTF-8".to_owned()))?
            .trim();
        let body_present = !body_text.is_empty();
        if !query.is_empty() {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_str(query).map_err(|e| BadParams(e.to_string()))?;
            let mut hash = Vec::new();
            push_unique(&mut hash, percent_decode(query));
            push_unique(&mut hash, query.to_owned());
            push_unique(&mut hash, query.replace("%5B%5D", "[]"));
            return Ok(Self {
                pairs,
                origin: Origin::Query,
                body_present,
                hash_candidates: hash,
            });
        }
        if !body_present {
            return Ok(Self {
                pairs: Vec::new(),
                origin: Origin::Empty,
                body_present,
                hash_candidates: Vec::new(),
            });
        }
        let looks_json = body_text.starts_with('{')
            || content_type.is_some_and(|c| c.to_ascii_lowercase().contains("json"));
        if looks_json {
            let Ordered(entries) = serde_json::from_str(body_text)
                .map_err(|e| BadParams(format!("body is not a JSON object: {e}")))?;
            let mut pairs = Vec::new();
            for (k, v) in entries {
                match &v {
                    Value::Array(items) => {
                        let key = if k.ends_with("[]") {
                            k.clone()
                        } else {
                            format!("{k}[]")
                        };
                        for item in items {
                            if let Some(s) = scalar(item) {
                                pairs.push((key.clone(), s));
                            }
                        }
                    }
                    other => {
                        if let Some(s) = scalar(other) {
                            pairs.push((k, s));
                        }
                    }
                }
            }
            let raw = pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            let mut hash = vec![raw];
            if let Ok(enc) = serde_urlencoded::to_string(&pairs) {
                push_unique(&mut hash, enc.replace("%5B%5D=", "[]="));
                push_unique(&mut hash, enc);
            }
            return Ok(Self {
                pairs,
                origin: Origin::Json,
                body_present,
                hash_candidates: hash,
            });
        }
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(body_text).map_err(|e| BadParams(e.to_string()))?;
        let mut hash = Vec::new();
        push_unique(&mut hash, percent_decode(body_text));
        push_unique(&mut hash, body_text.to_owned());
        push_unique(&mut hash, body_text.replace("%5B%5D", "[]"));
        Ok(Self {
            pairs,
            origin: Origin::Form,
            body_present,
            hash_candidates: hash,
        })
    }

    /// Where the parameters came from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// True when a non-empty body was sent.
    pub fn body_present(&self) -> bool {
        self.body_present
    }

    /// True without any parameter.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The strings a client may have hashed (decoded first).
    pub fn hash_candidates(&self) -> &[String] {
        &self.hash_candidates
    }

    /// All pairs in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `key` (also accepts the `key[]` spelling).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key || k.strip_suffix("[]") == Some(key))
            .map(|(_, v)| v.as_str())
    }

    /// True when `key` was sent at all.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Every value of `key`, `key[]` and comma-separated lists, in order.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key || k.strip_suffix("[]") == Some(key))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Values sent under the array name `key[]` only (e.g. `states[]`).
    pub fn array(&self, key: &str) -> Vec<String> {
        let arr = format!("{key}[]");
        self.pairs
            .iter()
            .filter(|(k, _)| *k == arr)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_arrays_raw_and_encoded() {
        for q in [
            "market=KRW-BTC&states[]=wait&states[]=watch",
            "market=KRW-BTC&states%5B%5D=wait&states%5B%5D=watch",
        ] {
            let p = Params::parse(Some(q), None, b"").unwrap();
            assert_eq!(p.array("states"), vec!["wait", "watch"]);
            assert_eq!(p.get("market"), Some("KRW-BTC"));
            assert_eq!(
                p.hash_candidates()[0],
                "market=KRW-BTC&states[]=wait&states[]=watch"
            );
        }
    }

    #[test]
    fn lists_in_every_spelling() {
        for q in [
            "markets=KRW-BTC,KRW-ETH",
            "markets=KRW-BTC%2CKRW-ETH",
            "markets=KRW-BTC&markets=KRW-ETH",
            "markets[]=KRW-BTC&markets[]=KRW-ETH",
        ] {
            let p = Params::parse(Some(q), None, b"").unwrap();
            assert_eq!(p.list("markets"), vec!["KRW-BTC", "KRW-ETH"], "{q}");
        }
    }

    #[test]
    fn json_body_keeps_order_for_the_hash() {
        let body = br#"{"market":"KRW-BTC","side":"bid","volume":"0.01","price":"100000000","ord_type":"limit"}"#;
        let p = Params::parse(None, Some("application/json"), body).unwrap();
        assert_eq!(p.origin(), Origin::Json);
        assert_eq!(
            p.hash_candidates()[0],
            "market=KRW-BTC&side=bid&volume=0.01&price=100000000&ord_type=limit"
        );
        let p = Params::parse(None, None, br#"{"uuids":["a","b"],"n":5}"#).unwrap();
        assert_eq!(p.array("uuids"), vec!["a", "b"]);
        assert_eq!(p.get("n"), Some("5"));
        assert!(Params::parse(None, Some("application/json"), b"[1,2]").is_err());
    }

    #[test]
    fn form_body_and_decoding() {
        let p = Params::parse(
            None,
            Some("application/x-www-form-urlencoded"),
            b"uuid=abc&to=2025-06-24T13%3A56%3A53%2B09%3A00",
        )
        .unwrap();
        assert_eq!(p.origin(), Origin::Form);
        assert_eq!(p.get("to"), Some("2025-06-24T13:56:53+09:00"));
        assert_eq!(
            p.hash_candidates()[0],
            "uuid=abc&to=2025-06-24T13:56:53+09:00"
        );
        assert_eq!(percent_decode("a+b%2Bc%5B%5D%zz%4"), "a+b+c[]%zz%4");
        assert!(Params::parse(None, None, b"").unwrap().is_empty());
    }
}
