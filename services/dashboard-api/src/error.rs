//! [`ApiError`]: the one error type of every handler (ENGINEERING practice 6).
//!
//! Client errors become a 4xx with the contract's body
//! `{"error": {"code", "message", "field"?, "remaining_secs"?}}`; anything
//! else becomes a bare 500 `internal` whose detail goes to the log only. No
//! variant can carry a secret: messages are built from field names and our
//! own words, never from request bodies.
//!
//! The extractors here ([`AppJson`], [`IdPath`]) turn axum's rejections into
//! a 422 naming the offending field (`definition.thresholds.exit`,
//! `seed_krw`, `id`), found through `serde_path_to_error`.

use axum::{
    extract::{
        FromRequest, FromRequestParts,
        rejection::{JsonRejection, PathRejection},
    },
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::{TransitionError, ValidationError};
use orchestrator::OrchestratorError;
use serde::Serialize;
use serde_json::json;
use storage::StorageError;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No session, or an expired one (401 `unauthenticated`).
    #[error("log in first")]
    Unauthenticated,
    /// Wrong username or password (401 `invalid_credentials`).
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Missing or wrong `X-CSRF-Token` (403 `csrf`).
    #[error("missing or wrong X-CSRF-Token header")]
    Csrf,
    /// Unknown id or path (404 `not_found`).
    #[error("{0}")]
    NotFound(String),
    /// A state conflict (409) with its contract code.
    #[error("{message}")]
    Conflict {
        /// `protection_active`, `not_allowed`, `name_taken`, `credential_in_use`, `cooldown_active`.
        code: &'static str,
        /// Plain words.
        message: String,
        /// The field concerned, when there is one.
        field: Option<String>,
        /// Seconds left (`protection_active`, `cooldown_active`).
        remaining_secs: Option<i64>,
    },
    /// A bad body or parameter (422 `validation_error`); nothing was changed.
    #[error("{0}")]
    Validation(ValidationError),
    /// Too many login (or ARM password) attempts (429 `rate_limited`).
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: i64,
    },
    /// The trader runtime (Docker engine, child processes) failed; the
    /// database state was kept consistent (503 `runtime_unavailable`).
    #[error("the trader runtime failed: {0}")]
    Runtime(#[source] OrchestratorError),
    /// The database is unreachable or busy (503 `unavailable`).
    #[error("the database is unavailable")]
    Unavailable(#[source] StorageError),
    /// Anything else (500 `internal`); the detail is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// 422 naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(ValidationError::new(field, message))
    }

    /// 404 with a message.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    /// 409 with a code and message.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
            field: None,
            remaining_secs: None,
        }
    }

    /// An unexpected failure, logged at answer time.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Runtime(_) | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The contract's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Csrf => "csrf",
            Self::NotFound(_) => "not_found",
            Self::Conflict { code, .. } => code,
            Self::Validation(_) => "validation_error",
            Self::RateLimited { .. } => "rate_limited",
            Self::Runtime(_) => "runtime_unavailable",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_secs: Option<i64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, field, remaining_secs) = match &self {
            Self::Validation(v) => (v.to_string(), Some(v.field.as_str()), None),
            Self::Conflict {
                message,
                field,
                remaining_secs,
                ..
            } => (message.clone(), field.as_deref(), *remaining_secs),
            Self::Runtime(e) => {
                tracing::error!(error = %e, "trader runtime failure");
                (
                    "the trader runtime could not carry this out (details are in the server log); \
                     nothing else was changed — try again"
                        .to_owned(),
                    None,
                    None,
                )
            }
            Self::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable");
                (
                    "the database is unavailable; try again shortly".to_owned(),
                    None,
                    None,
                )
            }
            Self::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                (
                    "internal error; the details are in the server log".to_owned(),
                    None,
                    None,
                )
            }
            other => (other.to_string(), None, None),
        };
        let body = json!({ "error": Body { code: self.code(), message, field, remaining_secs } });
        let mut res = (status, axum::Json(body)).into_response();
        if let Self::RateLimited { retry_after_secs } = self
            && let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.max(1).to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::Validation(e)
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::ProtectionActive { remaining_secs } => Self::Conflict {
                code: "protection_active",
                message: format!(
                    "the strategy version is in its 24 h PAPER protection period (STAB-4); \
                     LIVE is refused for {remaining_secs} more seconds"
                ),
                field: None,
                remaining_secs: Some(remaining_secs),
            },
            TransitionError::CooldownActive { remaining_secs } => Self::Conflict {
                code: "cooldown_active",
                message: format!("redeploy cooldown active; {remaining_secs} s left"),
                field: None,
                remaining_secs: Some(remaining_secs),
            },
            TransitionError::NotAllowed { .. } => Self::conflict("not_allowed", e.to_string()),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Invalid(v) => Self::Validation(v),
            StorageError::NotFound { entity, key } => {
                Self::NotFound(format!("{entity} {key} not found"))
            }
            StorageError::Transition(t) => t.into(),
            StorageError::Conflict {
                field,
                message,
                retryable,
            } => {
                let code = match (field, retryable) {
                    ("credential_id", false) => "credential_in_use",
                    ("name", false) => "name_taken",
                    _ => "not_allowed",
                };
                Self::Conflict {
                    code,
                    message: format!("{field}: {message}"),
                    field: Some(field.to_owned()),
                    remaining_secs: None,
                }
            }
            e if e.is_retryable() => Self::Unavailable(e),
            e => Self::Internal(e.into()),
        }
    }
}

impl From<OrchestratorError> for ApiError {
    fn from(e: OrchestratorError) -> Self {
        Self::Runtime(e)
    }
}

/// Where inside a JSON body deserialisation failed, as a dotted path
/// (`definition.weights.TP`), and the message without serde's position suffix.
fn field_and_message(path: &str, message: &str) -> ValidationError {
    // serde_json appends " at line L column C".
    let message = match message.rfind(" at line ") {
        Some(i) if message[i + 9..].contains(" column ") => &message[..i],
        _ => message,
    };
    let path = if path == "." { "" } else { path };
    let join = |tail: &str| {
        if path.is_empty() {
            tail.to_owned()
        } else {
            format!("{path}.{tail}")
        }
    };
    // `missing field `x``, `unknown field `x`, expected …`: the field is named
    // in backticks and belongs under the current path.
    for lead in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(lead)
            && let Some(end) = rest.find('`')
        {
            let name = &rest[..end];
            // serde_path_to_error already ends the path of an unknown field
            // with its name.
            let field = if path == name || path.ends_with(&format!(".{name}")) {
                path.to_owned()
            } else {
                join(name)
            };
            return ValidationError::new(field, message.replace('`', "'"));
        }
    }
    // Our validated types (`ValidationError` through `TryFrom`/`custom`)
    // print `field: message`; the field is relative to where serde stood.
    if let Some((head, tail)) = message.split_once(": ")
        && !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
    {
        let field = if path == head || path.ends_with(&format!(".{head}")) {
            path.to_owned()
        } else {
            join(head)
        };
        return ValidationError::new(field, tail.to_owned());
    }
    let field = if path.is_empty() { "body" } else { path };
    ValidationError::new(field, message.replace('`', "'"))
}

/// A deserialisation error with its path, from `serde_path_to_error`.
pub fn from_path_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ValidationError {
    field_and_message(&e.path().to_string(), &e.inner().to_string())
}

/// Deserialises a JSON value into `T`, naming the failing field under `prefix`.
pub fn from_value<T: serde::de::DeserializeOwned>(
    prefix: &str,
    value: serde_json::Value,
) -> Result<T, ValidationError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let v = from_path_error(&e);
        if v.field == "body" {
            v.in_field(prefix)
        } else {
            let field = format!("{prefix}.{}", v.field);
            v.in_field(field)
        }
    })
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        // The path-aware error sits in the rejection's source chain.
        let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&r);
        while let Some(s) = source {
            if let Some(e) = s.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
                let v = from_path_error(e);
                if v.field.starts_with('[') {
                    // serde reads a struct from an array too; the contract
                    // wants an object.
                    return Self::invalid("body", "expected a JSON object");
                }
                return match r {
                    JsonRejection::JsonSyntaxError(_) => {
                        Self::invalid("body", format!("invalid JSON: {}", v.message))
                    }
                    _ => Self::Validation(v),
                };
            }
            source = s.source();
        }
        match r {
            JsonRejection::MissingJsonContentType(_) => Self::invalid(
                "body",
                "expected a JSON body with Content-Type: application/json",
            ),
            JsonRejection::JsonSyntaxError(e) => {
                Self::invalid("body", format!("invalid JSON: {}", e.body_text()))
            }
            other => Self::invalid("body", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::invalid(
            "id",
            format!("must be a positive integer id ({})", r.body_text()),
        )
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s (422 naming the field).
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A positive integer id from the path (`/traders/{id}`); anything else is a
/// 422 naming `id`.
#[derive(Debug, Clone, Copy)]
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await?;
        match raw.parse::<i64>() {
            Ok(v) if v > 0 => Ok(Self(v)),
            _ => Err(ApiError::invalid(
                "id",
                format!("must be a positive integer id, got {raw:?}"),
            )),
        }
    }
}

/// Results of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests;
