//! CONFIG (UI-7): the Upbit credentials (listed masked; added after a check
//! against the exchange's `GET /v1/accounts` when it is reachable; deleted
//! unless a trader uses them) and the config-change audit.

use std::{collections::HashMap, time::Duration};

use axum::{
    Extension,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use domain::{CredentialId, Secret};
use serde::Deserialize;
use serde_json::json;
use storage::{StorageError, credentials::NewCredential, events::EventLevel};
use upbit::{ErrorCategory, HttpConfig, RetryPolicy, UpbitClient, UpbitTransport};

use super::Routes;
use crate::{
    auth::CurrentUser,
    error::{ApiError, ApiResult, AppJson, IdPath},
    events::new_event,
    state::AppState,
    views::{AuditView, CredentialView},
};

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/credentials", list)
        .post("/credentials", create)
        .delete("/credentials/{id}", remove)
        .get("/audit", audit)
}

async fn list(State(state): State<AppState>) -> ApiResult<AppJson<Vec<CredentialView>>> {
    let traders = state.store().traders().list(false).await?;
    let creds = state.store().credentials().list().await?;
    Ok(AppJson(
        creds
            .iter()
            .map(|c| CredentialView::new(c, &traders))
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    access_key: String,
    secret_key: String,
}

/// What the exchange said about a key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// `GET /v1/accounts` answered with the balances.
    Ok,
    /// No answer (network, timeout, 5xx, rate limit): stored unchecked.
    Unreachable,
}

/// Calls `GET /v1/accounts` with the keys. A refusal of the keys is a 422
/// naming `access_key` (or `secret_key` when Upbit says the signature is
/// wrong); no answer is `Unreachable`.
async fn check_keys(state: &AppState, access_key: &str, secret: &Secret) -> ApiResult<Check> {
    let credential = upbit::Credential::new(access_key, secret.clone())?;
    let timeout = state.settings.credential_check_timeout;
    let config = HttpConfig {
        timeout,
        connect_timeout: timeout.min(Duration::from_secs(3)),
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        max_wait: Duration::from_secs(1),
        ..HttpConfig::with_urls(state.upbit.clone())
    };
    let transport = UpbitTransport::new(config, state.clock.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("failed to build the Upbit client: {e}")))?
        .with_credential(credential);
    match UpbitClient::new(transport).accounts().await {
        Ok(_) => Ok(Check::Ok),
        Err(e) => match e.category() {
            ErrorCategory::Auth | ErrorCategory::Permission => {
                let name = match &e {
                    upbit::UpbitError::Api { name, .. } => name.clone(),
                    _ => String::new(),
                };
                let field = if name.contains("jwt") || name.contains("signature") {
                    "secret_key"
                } else {
                    "access_key"
                };
                let detail = if name.is_empty() {
                    String::new()
                } else {
                    format!(" ({name})")
                };
                tracing::info!(error = %e, "the exchange rejected a credential");
                Err(ApiError::invalid(
                    field,
                    format!("the exchange rejected these keys{detail}"),
                ))
            }
            _ => {
                tracing::warn!(error = %e, "credential check: the exchange did not answer");
                Ok(Check::Unreachable)
            }
        },
    }
}

async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    AppJson(body): AppJson<Create>,
) -> ApiResult<Response> {
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let access_key = body.access_key.trim().to_owned();
    let secret = Secret::new(body.secret_key.trim().to_owned());
    for (field, value) in [
        ("access_key", access_key.as_str()),
        ("secret_key", secret.expose()),
    ] {
        if value.is_empty() {
            return Err(ApiError::invalid(field, "must not be empty"));
        }
        if value.chars().any(char::is_whitespace) {
            return Err(ApiError::invalid(field, "must not contain whitespace"));
        }
    }
    if state
        .store()
        .credentials()
        .list()
        .await?
        .iter()
        .any(|c| c.name == name)
    {
        return Err(ApiError::Conflict {
            code: "name_taken",
            message: format!("name: a credential named {name:?} already exists"),
            field: Some("name".to_owned()),
            remaining_secs: None,
        });
    }
    let check = check_keys(&state, &access_key, &secret).await?;
    let new = NewCredential {
        name,
        access_key,
        secret,
    };
    let summary = state
        .store()
        .credentials()
        .create(&new, &state.master_key, &user.username, state.now())
        .await
        .map_err(|e| match e {
            StorageError::Invalid(v) if v.field == "secret" => {
                ApiError::Validation(v.in_field("secret_key"))
            }
            other => other.into(),
        })?;
    state
        .hub
        .record(new_event(
            state.now(),
            None,
            EventLevel::Info,
            "CREDENTIAL_ADDED",
            format!(
                "credential {} ({}) added; exchange check: {}",
                summary.name,
                summary.access_key_masked,
                if check == Check::Ok {
                    "ok"
                } else {
                    "unreachable"
                }
            ),
            json!({"credential_id": summary.id}),
        ))
        .await;
    let mut view = CredentialView::new(&summary, &[]);
    view.check = Some(if check == Check::Ok {
        "ok"
    } else {
        "unreachable"
    });
    Ok((StatusCode::CREATED, AppJson(view)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    let id = CredentialId::new(id).map_err(|e| e.in_field("id"))?;
    let Some(existing) = state.store().credentials().get(id).await? else {
        return Err(ApiError::not_found(format!("credential {id}")));
    };
    match state
        .store()
        .credentials()
        .delete(id, &user.username, state.now())
        .await
    {
        Ok(()) => {}
        Err(StorageError::Conflict {
            field: "credential_id",
            ..
        }) => {
            let users: Vec<String> = state
                .store()
                .traders()
                .list(false)
                .await?
                .into_iter()
                .filter(|t| t.credential_id == Some(id))
                .map(|t| t.name)
                .collect();
            return Err(ApiError::Conflict {
                code: "credential_in_use",
                message: format!(
                    "credential {} is used by {}; remove those traders first",
                    existing.name,
                    users.join(", ")
                ),
                field: None,
                remaining_secs: None,
            });
        }
        Err(e) => return Err(e.into()),
    }
    state
        .hub
        .record(new_event(
            state.now(),
            None,
            EventLevel::Info,
            "CREDENTIAL_DELETED",
            format!("credential {} deleted", existing.name),
            json!({"credential_id": id}),
        ))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<AppJson<Vec<AuditView>>> {
    let limit = match q.get("limit") {
        None => 100,
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(n) if n >= 1 => n.min(1000),
            _ => {
                return Err(ApiError::invalid(
                    "limit",
                    format!("must be an integer from 1 to 1000, got {raw:?}"),
                ));
            }
        },
    };
    let rows = state.store().config_audit().list(limit).await?;
    Ok(AppJson(rows.into_iter().map(AuditView::from).collect()))
}
