//! Base URLs. Both are configurable so tests and PAPER can point the clients at
//! the simulator (`UPBIT_API_URL`, `UPBIT_WS_URL`); the defaults are Upbit
//! Korea's.

use domain::ValidationError;
use url::Url;

/// Upbit Korea's REST base.
pub const DEFAULT_REST_BASE: &str = "https://api.upbit.com";
/// Upbit Korea's WebSocket base (public streams; private is `…/private`).
pub const DEFAULT_WS_BASE: &str = "wss://api.upbit.com/websocket/v1";

/// Where the REST API and the WebSocket live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpbitUrls {
    rest: String,
    ws: String,
}

impl Default for UpbitUrls {
    fn default() -> Self {
        Self::production()
    }
}

impl UpbitUrls {
    /// `https://api.upbit.com` and `wss://api.upbit.com/websocket/v1`.
    pub fn production() -> Self {
        Self {
            rest: DEFAULT_REST_BASE.to_owned(),
            ws: DEFAULT_WS_BASE.to_owned(),
        }
    }

    /// Custom bases, e.g. `http://127.0.0.1:18080` and
    /// `ws://127.0.0.1:18080/websocket/v1` for the simulator. A trailing `/`
    /// is ignored; the REST base may carry a path prefix.
    pub fn new(rest: &str, ws: &str) -> Result<Self, ValidationError> {
        let rest = check(rest, "rest_url", &["http", "https"])?;
        let ws = check(ws, "ws_url", &["ws", "wss"])?;
        Ok(Self { rest, ws })
    }

    /// The REST base without a trailing slash.
    pub fn rest_base(&self) -> &str {
        &self.rest
    }

    /// The full URL of a REST path (`/v1/…`).
    pub fn rest(&self, path: &str) -> String {
        format!("{}{path}", self.rest)
    }

    /// The public WebSocket URL.
    pub fn ws_public(&self) -> &str {
        &self.ws
    }

    /// The private WebSocket URL (`…/private`).
    pub fn ws_private(&self) -> String {
        format!("{}/private", self.ws)
    }
}

fn check(raw: &str, field: &str, schemes: &[&str]) -> Result<String, ValidationError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed)
        .map_err(|e| ValidationError::new(field, format!("not a URL ({e}): {raw:?}")))?;
    if !schemes.contains(&url.scheme()) {
        return Err(ValidationError::new(
            field,
            format!("scheme must be one of {}, got {raw:?}", schemes.join("/")),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ValidationError::new(
            field,
            "must not carry a query or fragment",
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_validates() {
        let u = UpbitUrls::production();
        assert_eq!(u.rest("/v1/ticker"), "https://api.upbit.com/v1/ticker");
        assert_eq!(u.ws_private(), "wss://api.upbit.com/websocket/v1/private");
        let sim =
            UpbitUrls::new("http://127.0.0.1:9000/", "ws://127.0.0.1:9000/websocket/v1").unwrap();
        assert_eq!(
            sim.rest("/v1/accounts"),
            "http://127.0.0.1:9000/v1/accounts"
        );
        assert_eq!(sim.ws_public(), "ws://127.0.0.1:9000/websocket/v1");
        assert_eq!(
            UpbitUrls::new("ftp://x", "ws://x").unwrap_err().field,
            "rest_url"
        );
        assert_eq!(
            UpbitUrls::new("http://x", "http://x").unwrap_err().field,
            "ws_url"
        );
        assert!(UpbitUrls::new("http://x?a=1", "ws://x").is_err());
        assert!(UpbitUrls::new("not a url", "ws://x").is_err());
    }
}
