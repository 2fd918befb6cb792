//! `POST /auth/login` (public, rate-limited), `GET /auth/session` (public:
//! the UI's session probe, never a 401), `POST /auth/logout`, `GET /auth/me`.

use axum::{
    Extension,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::Secret;
use serde::{Deserialize, Serialize};

use super::Routes;
use crate::{
    auth::{
        ClientKey, CurrentUser, check_password, lookup_session, random_token, session_clear_cookie,
        session_cookie, session_set_cookie,
    },
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub(super) fn public(r: Routes) -> Routes {
    r.post("/auth/login", login).get("/auth/session", session)
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

/// `{"authenticated": false}`, or `true` with `username` and `csrf_token`.
#[derive(Serialize)]
struct SessionState {
    authenticated: bool,
    #[serde(flatten)]
    me: Option<Me>,
}

/// The UI's first question, answered without a 401 (a 401 is a console
/// error in the browser): is this cookie a live session? A stale cookie is
/// cleared.
async fn session(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let Some(token) = session_cookie(&headers) else {
        return Ok(AppJson(SessionState {
            authenticated: false,
            me: None,
        })
        .into_response());
    };
    Ok(match lookup_session(&state, &token).await? {
        Some(s) => AppJson(SessionState {
            authenticated: true,
            me: Some(Me {
                username: s.username,
                csrf_token: s.csrf_token.expose().to_owned(),
            }),
        })
        .into_response(),
        None => (
            [(
                header::SET_COOKIE,
                session_clear_cookie(state.settings.secure_cookie),
            )],
            AppJson(SessionState {
                authenticated: false,
                me: None,
            }),
        )
            .into_response(),
    })
}

async fn logout(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> ApiResult<Response> {
    state.sessions.remove(user.token.expose());
    state.store().auth().delete_session(&user.token).await?;
    // Live event streams of this session end now.
    state.logouts.send_modify(|n| *n = n.wrapping_add(1));
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            session_clear_cookie(state.settings.secure_cookie),
        )],
    )
        .into_response())
}

async fn me(Extension(user): Extension<CurrentUser>) -> AppJson<Me> {
    AppJson(Me {
        username: user.username,
        csrf_token: user.csrf_token.expose().to_owned(),
    })
}
