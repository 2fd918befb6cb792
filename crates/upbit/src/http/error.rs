//! [`UpbitError`](crate::http::error::UpbitError): every way a call to Upbit can fail, each with a retry class.
//!
//! - Transport failures, timeouts, 5xx and 429 are **retryable** (a 429 with
//!   the time the group is stopped for);
//! - 418 is a **block** (IP/account) with its duration when the server gives
//!   one: do not retry before it ends;
//! - API errors keep Upbit's `name` as an [`ApiErrorKind`](crate::http::error::ApiErrorKind) (unknown names as
//!   [`ApiErrorKind::Unknown`](crate::http::error::ApiErrorKind::Unknown)) and map to an [`ErrorCategory`](crate::http::error::ErrorCategory) the runbook
//!   (RUN-1..3) acts on;
//! - a body that does not decode is [`UpbitError::Decode`](crate::http::error::UpbitError::Decode), never a panic.
//!
//! Exchange errors carry `name` as a string, Quotation errors as the HTTP
//! status number; 429/418 bodies may be plain text.

use std::time::Duration;

use domain::ValidationError;
use serde::Deserialize;

use crate::http::rate_limit::RateGroup;

/// Upbit's error `name`, classified. Unknown names are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// `create_bid_error`: invalid buy parameters.
    CreateBidError,
    /// `create_ask_error`: invalid sell parameters.
    CreateAskError,
    /// `insufficient_funds_bid`.
    InsufficientFundsBid,
    /// `insufficient_funds_ask`.
    InsufficientFundsAsk,
    /// `under_min_total_bid`.
    UnderMinTotalBid,
    /// `under_min_total_ask`, and `under_min_total_market_ask` (a market sell
    /// valued at volume × best bid below the minimum; the raw name stays in
    /// [`UpbitError::Api`]'s `name`).
    UnderMinTotalAsk,
    /// `invalid_price_bid`: off the tick grid.
    InvalidPriceBid,
    /// `invalid_price_ask`: off the tick grid.
    InvalidPriceAsk,
    /// `invalid_volume_bid`: volume precision.
    InvalidVolumeBid,
    /// `invalid_volume_ask`: volume precision.
    InvalidVolumeAsk,
    /// `validation_error`: missing/invalid parameter.
    ValidationError,
    /// `invalid_parameter`.
    InvalidParameter,
    /// `not_supported_ord_type`.
    NotSupportedOrdType,
    /// `volume_too_large`.
    VolumeTooLarge,
    /// `invalid_funds`.
    InvalidFunds,
    /// `jwt_verification`: bad token or signature.
    JwtVerification,
    /// `invalid_query_payload`: `query_hash` mismatch.
    InvalidQueryPayload,
    /// `invalid_access_key`.
    InvalidAccessKey,
    /// `expired_access_key`.
    ExpiredAccessKey,
    /// `nonce_used`.
    NonceUsed,
    /// `no_authorization_token`: header missing.
    NoAuthorizationToken,
    /// `no_authorization_i_p` / `no_authorization_ip`: caller IP not allow-listed.
    NoAuthorizationIp,
    /// `out_of_scope`: the key lacks the permission.
    OutOfScope,
    /// `thirdparty_agreement_required`.
    ThirdpartyAgreementRequired,
    /// `market_offline`: maintenance.
    MarketOffline,
    /// `order_not_found`.
    OrderNotFound,
    /// A Quotation error, whose `name` is the HTTP status (400, 404 …).
    Quotation(u16),
    /// Any other name.
    Unknown(String),
}

impl ApiErrorKind {
    /// Classifies a string `name`.
    pub fn from_name(name: &str) -> Self {
        match name {
            "create_bid_error" => Self::CreateBidError,
            "create_ask_error" => Self::CreateAskError,
            "insufficient_funds_bid" => Self::InsufficientFundsBid,
            "insufficient_funds_ask" => Self::InsufficientFundsAsk,
            "under_min_total_bid" => Self::UnderMinTotalBid,
            "under_min_total_ask" | "under_min_total_market_ask" => Self::UnderMinTotalAsk,
            "invalid_price_bid" => Self::InvalidPriceBid,
            "invalid_price_ask" => Self::InvalidPriceAsk,
            "invalid_volume_bid" => Self::InvalidVolumeBid,
            "invalid_volume_ask" => Self::InvalidVolumeAsk,
            "validation_error" => Self::ValidationError,
            "invalid_parameter" => Self::InvalidParameter,
            "not_supported_ord_type" => Self::NotSupportedOrdType,
            "volume_too_large" => Self::VolumeTooLarge,
            "invalid_funds" => Self::InvalidFunds,
            "jwt_verification" => Self::JwtVerification,
            "invalid_query_payload" => Self::InvalidQueryPayload,
            "invalid_access_key" => Self::InvalidAccessKey,
            "expired_access_key" => Self::ExpiredAccessKey,
            "nonce_used" => Self::NonceUsed,
            "no_authorization_token" => Self::NoAuthorizationToken,
            "no_authorization_i_p" | "no_authorization_ip" => Self::NoAuthorizationIp,
            "out_of_scope" => Self::OutOfScope,
            "thirdparty_agreement_required" => Self::ThirdpartyAgreementRequired,
            "market_offline" => Self::MarketOffline,
            "order_not_found" => Self::OrderNotFound,
            other => match other.parse::<u16>() {
                Ok(code) => Self::Quotation(code),
                Err(_) => Self::Unknown(other.to_owned()),
            },
        }
    }

    /// The category the runbook acts on.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::OrderNotFound | Self::Quotation(404) => ErrorCategory::NotFound,
            Self::Quotation(429) => ErrorCategory::RateLimited,
            Self::Quotation(418) => ErrorCategory::Blocked,
            Self::Quotation(c) if *c >= 500 => ErrorCategory::Transient,
            Self::InsufficientFundsBid | Self::InsufficientFundsAsk => {
                ErrorCategory::InsufficientFunds
            }
            Self::CreateBidError
            | Self::CreateAskError
            | Self::UnderMinTotalBid
            | Self::UnderMinTotalAsk
            | Self::InvalidPriceBid
            | Self::InvalidPriceAsk
            | Self::InvalidVolumeBid
            | Self::InvalidVolumeAsk
            | Self::NotSupportedOrdType
            | Self::VolumeTooLarge
            | Self::InvalidFunds => ErrorCategory::OrderRejected,
            Self::ValidationError | Self::InvalidParameter | Self::Quotation(_) => {
                ErrorCategory::BadRequest
            }
            Self::JwtVerification
            | Self::InvalidQueryPayload
            | Self::InvalidAccessKey
            | Self::ExpiredAccessKey
            | Self::NonceUsed
            | Self::NoAuthorizationToken => ErrorCategory::Auth,
            Self::NoAuthorizationIp | Self::OutOfScope | Self::ThirdpartyAgreementRequired => {
                ErrorCategory::Permission
            }
            Self::MarketOffline => ErrorCategory::MarketOffline,
            Self::Unknown(_) => ErrorCategory::Unknown,
        }
    }
}

/// What kind of failure it is, so the caller can decide (RUN-1..3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// Network failure, timeout, 5xx: retry with backoff.
    Transient,
    /// 429 (or the local limiter refused to wait that long): slow down (RUN-3).
    RateLimited,
    /// 418: blocked for a while; stop calling until the block ends.
    Blocked,
    /// The credential or token is wrong (`jwt_verification`, `invalid_access_key`,
    /// `nonce_used`, …). Retrying the same request will not help.
    Auth,
    /// The key lacks a permission or the caller IP is not allowed.
    Permission,
    /// Not enough free balance.
    InsufficientFunds,
    /// Upbit rejected the order's parameters (tick, minimum total, volume, type).
    OrderRejected,
    /// A generic invalid request (`validation_error`, Quotation 400).
    BadRequest,
    /// The order or market does not exist.
    NotFound,
    /// `market_offline`: maintenance; retry after it ends, not immediately.
    MarketOffline,
    /// A response that does not decode or holds invalid values.
    Decode,
    /// The request was invalid before sending, or the client is misconfigured.
    Local,
    /// An API error name we do not know.
    Unknown,
}

/// Every failure of a call to Upbit.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpbitError {
    /// The request did not complete (connect, TLS, reset, body read).
    /// `maybe_sent` is true when the server may have received it.
    #[error("transport error{}: {message}", if *timeout { " (timeout)" } else { "" })]
    Transport {
        /// What failed.
        message: String,
        /// True for a timeout.
        timeout: bool,
        /// True when the request may have reached the server (no connect error).
        maybe_sent: bool,
    },
    /// HTTP 5xx.
    #[error("server error {status}: {body}")]
    Server {
        /// Status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// HTTP 429, or the local limiter expects one.
    #[error("rate limited (group {group:?}, retry after {retry_after:?})")]
    RateLimited {
        /// The group, when known.
        group: Option<RateGroup>,
        /// How long the group is stopped.
        retry_after: Option<Duration>,
    },
    /// HTTP 418, or a block still in force locally.
    #[error("blocked by Upbit (HTTP 418), retry after {retry_after:?}: {message}")]
    Blocked {
        /// The block's remaining duration, if known.
        retry_after: Option<Duration>,
        /// Server message, if any.
        message: String,
    },
    /// An error response with Upbit's envelope.
    #[error("Upbit API error {status} {name}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Classified name.
        kind: ApiErrorKind,
        /// The raw `name` as text.
        name: String,
        /// Upbit's message (often Korean).
        message: String,
    },
    /// A non-success status whose body is not Upbit's envelope.
    #[error("unexpected HTTP {status}: {body}")]
    UnexpectedStatus {
        /// Status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A success body that does not decode, or holds invalid values.
    #[error("cannot decode {context}: {message}")]
    Decode {
        /// Which response (endpoint or message type).
        context: String,
        /// Why.
        message: String,
    },
    /// A request parameter was invalid; nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(#[from] ValidationError),
    /// The client is not set up for this call (e.g. no credential).
    #[error("client configuration: {0}")]
    Config(String),
    /// WebSocket handshake or protocol failure.
    #[error("websocket: {message}")]
    WebSocket {
        /// What failed.
        message: String,
    },
}

impl UpbitError {
    /// The runbook category.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::Transport { .. } | Self::Server { .. } | Self::WebSocket { .. } => {
                ErrorCategory::Transient
            }
            Self::RateLimited { .. } => ErrorCategory::RateLimited,
            Self::Blocked { .. } => ErrorCategory::Blocked,
            Self::Api { kind, .. } => kind.category(),
            Self::UnexpectedStatus { status, .. } => match status {
                404 => ErrorCategory::NotFound,
                401 => ErrorCategory::Auth,
                403 => ErrorCategory::Permission,
                _ => ErrorCategory::Unknown,
            },
            Self::Decode { .. } => ErrorCategory::Decode,
            Self::InvalidRequest(_) | Self::Config(_) => ErrorCategory::Local,
        }
    }

    /// True when repeating the same request later can succeed: transport
    /// failures, timeouts, 5xx and 429. A 418 is not (wait for the block).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.category(),
            ErrorCategory::Transient | ErrorCategory::RateLimited
        )
    }

    /// How long to wait before retrying, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Blocked { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The API error kind, for `Api` errors.
    pub fn api_kind(&self) -> Option<&ApiErrorKind> {
        match self {
            Self::Api { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// True when the request may have reached Upbit without us seeing the
    /// answer (transport failure after connecting, timeout, 5xx). An order
    /// create in this state must be looked up before it is retried.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Transport { maybe_sent, .. } => *maybe_sent,
            Self::Server { .. } => true,
            _ => false,
        }
    }

    /// A decode error for `context`.
    pub fn decode(context: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Decode {
            context: context.into(),
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeBody,
}

#[derive(Deserialize)]
struct EnvelopeBody {
    name: serde_json::Value,
    #[serde(default)]
    message: Option<serde_json::Value>,
}

/// The parts of an Upbit error envelope `{"error":{"name":…,"message":…}}`,
/// with `name` as text whether it was a string or a number.
pub fn parse_error_envelope(body: &[u8]) -> Option<(String, String)> {
    let env: Envelope = serde_json::from_slice(body).ok()?;
    let name = match env.error.name {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let message = match env.error.message {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Some((name, message))
}

/// The first `max` characters of a body, lossily decoded, for error text.
pub fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        s.push('…');
    }
    s
}

/// Maps a non-success response to an error. `retry_after` comes from the
/// `Retry-After` header; `group` from `Remaining-Req` or the request.
pub fn error_from_response(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    group: Option<RateGroup>,
) -> UpbitError {
    let envelope = parse_error_envelope(body);
    match status {
        429 => UpbitError::RateLimited {
            group,
            retry_after: Some(retry_after.unwrap_or(Duration::from_secs(1))),
        },
        418 => UpbitError::Blocked {
            retry_after,
            message: envelope.map_or_else(|| snippet(body, 200), |(_, m)| m),
        },
        s if s >= 500 => UpbitError::Server {
            status,
            body: snippet(body, 200),
        },
        _ => match envelope {
            Some((name, message)) => UpbitError::Api {
                status,
                kind: ApiErrorKind::from_name(&name),
                name,
                message,
            },
            None => UpbitError::UnexpectedStatus {
                status,
                body: snippet(body, 200),
            },
        },
    }
}

#[cfg(test)]
mod tests;
