//! `POST /auth/login` (public, rate-limited), `POST /auth/logout`,
//! `GET /auth/me`.

use axum::{
    Extension,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::Secret;
use serde::{Deserialize, Serialize};

use super::Routes;
use crate::{
    auth::{
        ClientKey, CurrentUser, check_password, random_token, session_clear_cookie,
        session_set_cookie,
    },
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub(super) fn public(r: Routes) -> Routes {
    r.post("/auth/login", login)
}

pub(super) fn protected(r: Routes) -> Routes {
    r.post("/auth/logout", logout).get("/auth/me", me)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
}

/// `{"username","csrf_token"}`.
#[derive(Serialize)]
struct Me {
    username: String,
    csrf_token: String,
}

async fn login(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    AppJson(body): AppJson<Login>,
) -> ApiResult<Response> {
    if body.username.trim().is_empty() {
        return Err(ApiError::invalid("username", "must not be empty"));
    }
    if body.password.is_empty() {
        return Err(ApiError::invalid("password", "must not be empty"));
    }
    let now = state.now();
    let key = format!("login:{client}");
    state
        .limiter
        .check(&key, now)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let admin_id = match check_password(state.store(), &body.username, &body.password).await {
        Ok(id) => id,
        Err(e) => {
            if matches!(e, ApiError::InvalidCredentials) {
                state.limiter.fail(&key, now);
                tracing::warn!(client = %client, "failed login attempt");
            }
            return Err(e);
        }
    };
    state.limiter.reset(&key);
    let token = Secret::new(random_token());
    let csrf = Secret::new(random_token());
    let ttl = state.settings.session_ttl;
    let session = state
        .store()
        .auth()
        .create_session(admin_id, &token, &csrf, now + ttl, now)
        .await?;
    if let Err(e) = state.store().auth().purge_expired(now).await {
        tracing::warn!(error = %e, "failed to purge expired sessions");
    }
    tracing::info!(username = %session.username, "logged in");
    let cookie = session_set_cookie(&token, ttl.num_seconds(), state.settings.secure_cookie);
    Ok((
        [(header::SET_COOKIE, cookie)],
        AppJson(Me {
            username: session.username,
            csrf_token: csrf.expose().to_owned(),
        }),
    )
        .into_response())
}

async fn logout(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> ApiResult<Response> {
    state.sessions.remove(user.token.expose());
    state.store().auth().delete_session(&user.token).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_clear_cookie())],
    )
        .into_response())
}

async fn me(Extension(user): Extension<CurrentUser>) -> AppJson<Me> {
    AppJson(Me {
        username: user.username,
        csrf_token: user.csrf_token.expose().to_owned(),
    })
}
