//! Authentication: the one admin account (argon2 hash in the database,
//! password from `ADMIN_PASSWORD` or generated on first start), login
//! sessions in an HttpOnly SameSite=Strict cookie, the CSRF token every
//! non-GET request must echo in `X-CSRF-Token`, and the login limiter.

/// Failed-attempt limiter for login and ARM.
pub mod limiter;

use std::net::SocketAddr;

use argon2::{
    Argon2, PasswordHasher, PasswordVerifier,
    password_hash::{PasswordHash, SaltString, rand_core::OsRng},
};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::Response,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use domain::Secret;
use rand::{Rng, RngCore, distributions::Alphanumeric};
use storage::{Store, auth::Session};

use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
};

/// The one admin account's username.
pub const ADMIN_USERNAME: &str = "admin";
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "session";
/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The logged-in user of a request (inserted by [`require_session`]).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Username (the actor in audit rows).
    pub username: String,
    /// The session's CSRF token.
    pub csrf_token: Secret,
    /// The session token (for logout).
    pub token: Secret,
}

/// Hashes a password with argon2id (PHC string). CPU-heavy: call from a
/// blocking task.
pub fn hash_password(password: &str) -> anyhow::Result<Secret> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("failed to hash the password: {e}"))?;
    Ok(Secret::new(hash.to_string()))
}

/// Checks a password against a PHC hash; false for a wrong password or an
/// unreadable hash. CPU-heavy: call from a blocking task.
pub fn verify_password(password: &str, hash: &Secret) -> bool {
    PasswordHash::new(hash.expose()).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of a random password, verified against when the user does not
/// exist, so a wrong username costs as much time as a wrong password.
fn dummy_hash() -> &'static Secret {
    static DUMMY: std::sync::OnceLock<Secret> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password(&random_token()).unwrap_or_else(|_| Secret::new(String::new()))
    })
}

/// 32 random bytes from the OS CSPRNG, base64url.
pub fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A generated admin password: 20 letters and digits.
fn generate_password() -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// What [`ensure_admin`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminSetup {
    /// The admin already existed; `ADMIN_PASSWORD` was not used.
    Existing,
    /// Created with the password from `ADMIN_PASSWORD`.
    FromEnv,
    /// Created with a generated password, which the caller shows once.
    Generated(Secret),
}

/// First start: creates the admin account from `password` (or a generated
/// one). Later starts leave it alone.
pub async fn ensure_admin(
    store: &Store,
    password: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<AdminSetup> {
    if store.auth().admin(ADMIN_USERNAME).await?.is_some() {
        return Ok(AdminSetup::Existing);
    }
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => (p.to_owned(), false),
        None => (generate_password(), true),
    };
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&to_hash)).await??;
    store
        .auth()
        .create_admin(ADMIN_USERNAME, &hash, now)
        .await?;
    Ok(if generated {
        AdminSetup::Generated(Secret::new(password))
    } else {
        AdminSetup::FromEnv
    })
}

/// Verifies `password` for `username` off the async threads. Unknown users
/// take the same time as wrong passwords.
pub async fn check_password(store: &Store, username: &str, password: &str) -> ApiResult<i64> {
    let admin = store.auth().admin(username).await?;
    let (hash, id) = match &admin {
        Some(a) => (a.password_hash.clone(), Some(a.id)),
        None => (dummy_hash().clone(), None),
    };
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    match (ok, id) {
        (true, Some(id)) => Ok(id),
        _ => Err(ApiError::InvalidCredentials),
    }
}

/// The client's address (for the login limiter); `unknown` in-process.
#[derive(Debug, Clone)]
pub struct ClientKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}

/// The value of the `session` cookie, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<Secret> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| Secret::new(value.trim().to_owned()))
        .filter(|s| !s.is_empty())
}

/// `Set-Cookie` for a new session.
pub fn session_set_cookie(token: &Secret, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}",
        token.expose()
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("session=; Path=/; Max-Age=0"))
}

/// `Set-Cookie` that clears the session cookie.
pub fn session_clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static("session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure")
    } else {
        HeaderValue::from_static("session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
    }
}

/// The live session of `token` (from the session cache, else the
/// database); None when it does not exist or has expired.
pub async fn lookup_session(state: &AppState, token: &Secret) -> ApiResult<Option<Session>> {
    let now = state.now();
    let ttl = state.settings.session_cache_ttl;
    if let Some(s) = state.sessions.get(token.expose(), ttl, now) {
        return Ok(Some(s));
    }
    let Some(s) = state.store().auth().session(token, now).await? else {
        return Ok(None);
    };
    if !ttl.is_zero() {
        state.sessions.put(token.expose(), s.clone(), now);
    }
    Ok(Some(s))
}

/// Resolves when the session of `token` has ended: at once after a logout
/// (any logout makes every stream look again), else within
/// `sse_session_check` of its expiry or deletion. A database that does not
/// answer ends nothing.
pub async fn session_ended(state: AppState, token: Secret) {
    let mut logouts = state.logouts.subscribe();
    let mut tick = tokio::time::interval(state.settings.sse_session_check);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            changed = logouts.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tick.tick() => {}
        }
        match state.store().auth().session(&token, state.now()).await {
            Ok(None) => return,
            Ok(Some(_)) => {}
            Err(e) => {
                tracing::debug!(error = %e, "event stream: session check failed; the stream stays");
            }
        }
    }
}

/// Equality in time independent of where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware of every protected route: a valid session cookie (else 401),
/// and on any method but GET/HEAD the session's CSRF token in
/// `X-CSRF-Token` (else 403). Adds [`CurrentUser`] to the request.
pub async fn require_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = session_cookie(req.headers()).ok_or(ApiError::Unauthenticated)?;
    let session = lookup_session(&state, &token)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        if !constant_time_eq(sent, session.csrf_token.expose().as_bytes()) {
            return Err(ApiError::Csrf);
        }
    }
    req.extensions_mut().insert(CurrentUser {
        username: session.username,
        csrf_token: session.csrf_token,
        token,
    });
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_parsing_table() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&[], None),
            (&["session=abc"], Some("abc")),
            (&["a=1; session=xyz; b=2"], Some("xyz")),
            (&["a=1", "session=two"], Some("two")),
            (&["sessionx=1; xsession=2"], None),
            (&["session="], None),
        ];
        for (headers, want) in cases {
            let mut h = HeaderMap::new();
            for v in *headers {
                h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
            }
            let got = session_cookie(&h);
            assert_eq!(got.as_ref().map(Secret::expose), *want, "{headers:?}");
        }
    }

    #[test]
    fn password_hash_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.expose().starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsE", &h));
        assert!(!verify_password("x", &Secret::new("not a hash".to_owned())));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
