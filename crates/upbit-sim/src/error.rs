//! Upbit's error envelope (`upbit-api.md` §5): `{"error":{"name":…,"message":…}}`
//! with a **string** name on Exchange APIs and an **integer** name (the HTTP
//! status) on Quotation APIs.

use axum::http::StatusCode;
use serde::Serialize;

/// The `name` of an error: a code string (Exchange) or the status (Quotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ErrorName {
    /// Exchange API: `"insufficient_funds_bid"`, `"jwt_verification"`, …
    Code(String),
    /// Quotation API: `400`, `404`, `429`, …
    Status(u16),
}

/// An error answer in Upbit's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {name:?}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.name`.
    pub name: ErrorName,
    /// `error.message`.
    pub message: String,
    /// Seconds to wait (429/418 answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An Exchange-API error with a string name.
    pub fn exchange(status: StatusCode, name: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            name: ErrorName::Code(name.to_owned()),
            message: message.into(),
            retry_after: None,
        }
    }

    /// A Quotation-API error whose name is the status code.
    pub fn quotation(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            name: ErrorName::Status(status.as_u16()),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `validation_error` naming a parameter in Upbit's phrasing.
    pub fn validation(field: &str) -> Self {
        Self::exchange(
            StatusCode::BAD_REQUEST,
            "validation_error",
            format!("{field} is missing, {field} does not have a valid value"),
        )
    }

    /// 400 `validation_error` with a free message.
    pub fn validation_msg(message: impl Into<String>) -> Self {
        Self::exchange(StatusCode::BAD_REQUEST, "validation_error", message)
    }

    /// Quotation 400 "Invalid parameter".
    pub fn invalid_parameter() -> Self {
        Self::quotation(
            StatusCode::BAD_REQUEST,
            "Invalid parameter. Check the given value!",
        )
    }

    /// Quotation 400 "Type mismatch".
    pub fn type_mismatch() -> Self {
        Self::quotation(
            StatusCode::BAD_REQUEST,
            "Type mismatch error. Check the parameters type!",
        )
    }

    /// Quotation 400 "Missing request parameter".
    pub fn missing_parameter() -> Self {
        Self::quotation(
            StatusCode::BAD_REQUEST,
            "Missing request parameter error. Check the required parameters!",
        )
    }

    /// Quotation 404 "Code not found" (unknown market).
    pub fn code_not_found() -> Self {
        Self::quotation(StatusCode::NOT_FOUND, "Code not found")
    }

    /// 404 `order_not_found`.
    pub fn order_not_found() -> Self {
        Self::exchange(
            StatusCode::NOT_FOUND,
            "order_not_found",
            "주문을 찾지 못했습니다.",
        )
    }

    /// The error name as text (for logs and the admin order log).
    pub fn name_text(&self) -> String {
        match &self.name {
            ErrorName::Code(c) => c.clone(),
            ErrorName::Status(s) => s.to_string(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "name": self.name, "message": self.message } })
    }
}
