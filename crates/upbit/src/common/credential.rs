//! An Upbit API credential and the JWT Upbit expects on every Exchange call.
//!
//! Token layout (upbit-api.md §4): header `{"alg":"HS256"|"HS512","typ":"JWT"}`,
//! payload `{"access_key", "nonce" (fresh UUID v4), "query_hash",
//! "query_hash_alg":"SHA512"}` where the two hash fields appear only when the
//! request has parameters. `query_hash` is the lowercase hex SHA-512 of the
//! **unencoded** parameter string (`key=value&…`, arrays as `k[]=a&k[]=b`; for
//! JSON bodies the top-level fields in body order) — see
//! [`crate::http::query::Params::hash_input`]. The HMAC key is the secret's raw
//! UTF-8 bytes.
//!
//! The secret lives in a [`Secret`](domain::Secret); `Debug` shows only a masked access key.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use domain::{Secret, ValidationError, secret::mask_key};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256, Sha512};

/// The JWT signature algorithm. Upbit accepts both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 (Upbit's code samples).
    #[default]
    Hs256,
    /// HMAC-SHA512 (the KR docs' example token).
    Hs512,
}

impl JwtAlgorithm {
    /// The JOSE `alg` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs512 => "HS512",
        }
    }
}

/// An access key with its secret key.
#[derive(Clone)]
pub struct Credential {
    access_key: String,
    secret: Secret,
    algorithm: JwtAlgorithm,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key", &mask_key(&self.access_key))
            .field("secret", &self.secret)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

#[derive(Serialize)]
struct Header {
    alg: &'static str,
    typ: &'static str,
}

#[derive(Serialize)]
struct Payload<'a> {
    access_key: &'a str,
    nonce: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_hash_alg: Option<&'static str>,
}

impl Credential {
    /// A credential signing with HS256. Both keys must be non-empty and free
    /// of whitespace.
    pub fn new(access_key: impl Into<String>, secret: Secret) -> Result<Self, ValidationError> {
        let access_key = access_key.into();
        check_key("access_key", &access_key)?;
        check_key("secret_key", secret.expose())?;
        Ok(Self {
            access_key,
            secret,
            algorithm: JwtAlgorithm::Hs256,
        })
    }

    /// The same credential signing with `algorithm`.
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: JwtAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The access key (not secret, but mask it in listings).
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// A JWT with a fresh UUID v4 nonce. `hash_input` is the unencoded
    /// parameter string, or `None` for a request without parameters (and for
    /// the private WebSocket handshake).
    pub fn token(&self, hash_input: Option<&str>) -> String {
        let nonce = uuid::Uuid::new_v4().to_string();
        self.token_with_nonce(&nonce, hash_input)
    }

    /// `Bearer <jwt>` with a fresh nonce, for the `Authorization` header.
    pub fn authorization(&self, hash_input: Option<&str>) -> String {
        format!("Bearer {}", self.token(hash_input))
    }

    /// A JWT with a caller-chosen nonce (deterministic; tests and vectors).
    pub fn token_with_nonce(&self, nonce: &str, hash_input: Option<&str>) -> String {
        let header = Header {
            alg: self.algorithm.as_str(),
            typ: "JWT",
        };
        let payload = Payload {
            access_key: &self.access_key,
            nonce,
            query_hash: hash_input.filter(|s| !s.is_empty()).map(query_hash),
            query_hash_alg: hash_input.filter(|s| !s.is_empty()).map(|_| "SHA512"),
        };
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(to_json(&header)),
            URL_SAFE_NO_PAD.encode(to_json(&payload)),
        );
        let signature = self.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let key = self.secret.expose().as_bytes();
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail;
        // an empty signature (rejected by the server) is the impossible fallback.
        match self.algorithm {
            JwtAlgorithm::Hs256 => Hmac::<Sha256>::new_from_slice(key)
                .map(|mut m| {
                    m.update(msg);
                    m.finalize().into_bytes().to_vec()
                })
                .unwrap_or_default(),
            JwtAlgorithm::Hs512 => Hmac::<Sha512>::new_from_slice(key)
                .map(|mut m| {
                    m.update(msg);
                    m.finalize().into_bytes().to_vec()
                })
                .unwrap_or_default(),
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    // Serialising a struct of strings cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

fn check_key(field: &str, key: &str) -> Result<(), ValidationError> {
    if key.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if key.chars().any(char::is_whitespace) {
        return Err(ValidationError::new(field, "must not contain whitespace"));
    }
    Ok(())
}

/// Lowercase hex SHA-512 of the unencoded parameter string.
pub fn query_hash(hash_input: &str) -> String {
    hex::encode(Sha512::digest(hash_input.as_bytes()))
}

#[cfg(test)]
mod tests;
