//! JWT authentication of Exchange requests (`upbit-api.md` §4): HS256 and
//! HS512 with the raw secret, `query_hash` recomputed from the parameters,
//! one-time nonces per key, key expiry, permissions and allowed IPs, with
//! Upbit's error names in its verification order.

use std::{collections::HashSet, net::IpAddr};

use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha512};

use crate::{engine::Engine, error::ApiError, params::Params, wire::Millis};

/// What a request needs permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Balances and `orders/chance`.
    Accounts,
    /// Reading orders.
    ReadOrders,
    /// Creating and cancelling orders.
    Trade,
    /// The private WebSocket (any permission).
    Any,
}

#[derive(Debug, Deserialize)]
struct Claims {
    access_key: Option<String>,
    nonce: Option<String>,
    query_hash: Option<String>,
    query_hash_alg: Option<String>,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Account index.
    pub account: usize,
    /// Its access key.
    pub access_key: String,
}

fn unauthorized(name: &str, message: &str) -> ApiError {
    ApiError::exchange(StatusCode::UNAUTHORIZED, name, message)
}

fn jwt_error() -> ApiError {
    unauthorized("jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The access key claimed by a token, without verifying it (for logs).
pub fn claimed_key(headers: &HeaderMap) -> Option<String> {
    let token = bearer(headers)?.strip_prefix("Bearer ")?.trim();
    let mut v = Validation::new(Algorithm::HS256);
    v.insecure_disable_signature_validation();
    v.algorithms = vec![Algorithm::HS256, Algorithm::HS512];
    v.required_spec_claims = HashSet::new();
    v.validate_exp = false;
    v.validate_aud = false;
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(b""), &v)
        .ok()
        .and_then(|d| d.claims.access_key)
}

/// Lowercase hex SHA-512.
pub fn sha512_hex(s: &str) -> String {
    hex::encode(Sha512::digest(s.as_bytes()))
}

/// Verifies the `Authorization` header. `params = None` skips the query
/// hash (WebSocket handshake).
pub fn authenticate(
    engine: &mut Engine,
    headers: &HeaderMap,
    params: Option<&Params>,
    remote: IpAddr,
    now: Millis,
    scope: Scope,
) -> Result<Caller, ApiError> {
    let Some(raw) = bearer(headers) else {
        return Err(unauthorized(
            "no_authorization_token",
            "Authorization 헤더가 없습니다.",
        ));
    };
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .ok_or_else(jwt_error)?
        .trim();
    let header = jsonwebtoken::decode_header(token).map_err(|_| jwt_error())?;
    if !matches!(header.alg, Algorithm::HS256 | Algorithm::HS512) {
        return Err(jwt_error());
    }
    let mut v = Validation::new(header.alg);
    v.algorithms = vec![header.alg];
    v.required_spec_claims = HashSet::new();
    v.validate_exp = false;
    v.validate_aud = false;
    let mut insecure = v.clone();
    insecure.insecure_disable_signature_validation();
    let claims = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(b""), &insecure)
        .map_err(|_| jwt_error())?
        .claims;
    let access_key = claims.access_key.ok_or_else(jwt_error)?;
    let account = engine
        .account_index(&access_key)
        .ok_or_else(|| unauthorized("invalid_access_key", "잘못된 엑세스 키입니다."))?;
    let acct = engine.account(account).ok_or_else(jwt_error)?;
    let key = DecodingKey::from_secret(acct.secret.expose().as_bytes());
    jsonwebtoken::decode::<Claims>(token, &key, &v).map_err(|_| jwt_error())?;
    if acct.expires_at.is_some_and(|t| t <= now) {
        return Err(unauthorized(
            "expired_access_key",
            "API키가 만료되었습니다.",
        ));
    }
    if let Some(params) = params {
        check_query_hash(
            params,
            claims.query_hash.as_deref(),
            claims.query_hash_alg.as_deref(),
        )?;
    }
    let nonce = claims
        .nonce
        .filter(|n| !n.is_empty())
        .ok_or_else(jwt_error)?;
    let acct = engine.account_mut(account).ok_or_else(jwt_error)?;
    if !acct.use_nonce(&nonce) {
        return Err(unauthorized(
            "nonce_used",
            "이미 요청한 nonce값이 다시 사용되었습니다.",
        ));
    }
    let allowed = match scope {
        Scope::Accounts => acct.permissions.view_accounts,
        Scope::ReadOrders => acct.permissions.view_orders,
        Scope::Trade => acct.permissions.make_orders,
        Scope::Any => true,
    };
    if !allowed {
        return Err(ApiError::exchange(
            StatusCode::FORBIDDEN,
            "out_of_scope",
            "권한이 부족합니다.",
        ));
    }
    if !acct.allowed_ips.is_empty() && !acct.allowed_ips.contains(&remote) {
        return Err(unauthorized(
            "no_authorization_i_p",
            "허용되지 않은 IP 주소입니다.",
        ));
    }
    Ok(Caller {
        account,
        access_key,
    })
}

fn check_query_hash(
    params: &Params,
    hash: Option<&str>,
    alg: Option<&str>,
) -> Result<(), ApiError> {
    let bad = || {
        unauthorized(
            "invalid_query_payload",
            "Jwt의 query를 검증하는데 실패하였습니다.",
        )
    };
    if alg.is_some_and(|a| !a.eq_ignore_ascii_case("SHA512")) {
        return Err(bad());
    }
    match hash {
        None if params.is_empty() => Ok(()),
        None => Err(bad()),
        Some(h) => {
            let h = h.to_ascii_lowercase();
            let candidates = params.hash_candidates();
            let ok = if candidates.is_empty() {
                h == sha512_hex("")
            } else {
                candidates.iter().any(|c| sha512_hex(c) == h)
            };
            if ok { Ok(()) } else { Err(bad()) }
        }
    }
}

#[cfg(test)]
mod tests;
