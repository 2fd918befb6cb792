//! [`UpbitTransport`](crate::http::transport::UpbitTransport): the one place a REST request leaves the process.
//!
//! Per attempt: wait for the [`RateLimiter`](crate::http::rate_limit::RateLimiter) (or fail fast during a 418
//! block), build the URL from the configured base, sign with a fresh nonce
//! when asked, send **without an `Origin` header** (reqwest adds none; an
//! `Origin` drops Quotation calls to 1 request / 10 s), feed `Remaining-Req`
//! back to the limiter, read the body with a size cap and map failures to
//! [`UpbitError`](crate::http::error::UpbitError). Idempotent requests (GETs by default) are retried on
//! retryable errors with exponential back-off; POST and DELETE are sent once
//! unless the caller opts in.
//!
//! This is a public building block: `crates/execution` builds the order
//! endpoints on it, so the paths themselves never appear in this crate.

use std::{fmt, sync::Arc, time::Duration};

use bytes::{Bytes, BytesMut};
use runtime::SharedClock;
use serde::de::DeserializeOwned;

use crate::{
    common::{credential::Credential, urls::UpbitUrls},
    http::{
        error::{UpbitError, error_from_response},
        parse::decode_json,
        query::Params,
        rate_limit::{RateGroup, RateLimiter, RateLimits, RemainingReq},
    },
};

/// Retry settings for idempotent requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (1 = no retry).
    pub max_attempts: u32,
    /// First back-off; doubles per attempt.
    pub initial_backoff: Duration,
    /// Cap on the back-off.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// Transport settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// REST (and WebSocket) base URLs.
    pub urls: UpbitUrls,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// Rate limits per group.
    pub limits: RateLimits,
    /// Longest the limiter may make a request wait before failing with
    /// `RateLimited` instead.
    pub max_wait: Duration,
    /// Largest response body accepted.
    pub max_body_bytes: usize,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            urls: UpbitUrls::production(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            limits: RateLimits::default(),
            max_wait: Duration::from_secs(5),
            max_body_bytes: 32 * 1024 * 1024,
            user_agent: concat!("upbit-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl HttpConfig {
    /// Defaults with custom base URLs (simulator, tests).
    pub fn with_urls(urls: UpbitUrls) -> Self {
        Self {
            urls,
            ..Self::default()
        }
    }
}

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET: parameters in the query string.
    Get,
    /// POST: parameters as a JSON body.
    Post,
    /// DELETE: parameters in the query string.
    Delete,
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// Method.
    pub method: Method,
    /// Path starting with `/v1/`.
    pub path: String,
    /// Rate-limit group it counts in.
    pub group: RateGroup,
    /// Query (GET/DELETE) or body (POST) parameters, in order.
    pub params: Params,
    /// Sign with the credential's JWT.
    pub signed: bool,
    /// Retry on retryable errors.
    pub retry: bool,
}

impl ApiRequest {
    fn new(method: Method, path: &str, group: RateGroup, retry: bool) -> Self {
        Self {
            method,
            path: path.to_owned(),
            group,
            params: Params::new(),
            signed: false,
            retry,
        }
    }

    /// A GET (retried by default).
    pub fn get(path: &str, group: RateGroup) -> Self {
        Self::new(Method::Get, path, group, true)
    }

    /// A POST with a JSON body (never retried by default).
    pub fn post(path: &str, group: RateGroup) -> Self {
        Self::new(Method::Post, path, group, false)
    }

    /// A DELETE (never retried by default).
    pub fn delete(path: &str, group: RateGroup) -> Self {
        Self::new(Method::Delete, path, group, false)
    }

    /// Sets the parameters.
    #[must_use]
    pub fn params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// Signs the request with the transport's credential.
    #[must_use]
    pub fn signed(mut self) -> Self {
        self.signed = true;
        self
    }

    /// Overrides whether retryable errors are retried.
    #[must_use]
    pub fn retry(mut self, retry: bool) -> Self {
        self.retry = retry;
        self
    }
}

struct Inner {
    http: reqwest::Client,
    config: HttpConfig,
    limiter: Arc<RateLimiter>,
    credential: Option<Credential>,
    clock: SharedClock,
}

/// Signing, rate-limited, error-mapping REST transport. Cheap to clone.
#[derive(Clone)]
pub struct UpbitTransport {
    inner: Arc<Inner>,
}

impl fmt::Debug for UpbitTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpbitTransport")
            .field("rest", &self.inner.config.urls.rest_base())
            .field("credential", &self.inner.credential)
            .finish_non_exhaustive()
    }
}

impl UpbitTransport {
    /// A transport with its own rate limiter.
    pub fn new(config: HttpConfig, clock: SharedClock) -> Result<Self, UpbitError> {
        let limiter = Arc::new(RateLimiter::new(config.limits.clone(), clock.clone()));
        Self::with_limiter(config, clock, limiter)
    }

    /// A transport sharing `limiter` (one per IP / account in a process).
    pub fn with_limiter(
        config: HttpConfig,
        clock: SharedClock,
        limiter: Arc<RateLimiter>,
    ) -> Result<Self, UpbitError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|e| UpbitError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config,
                limiter,
                credential: None,
                clock,
            }),
        })
    }

    /// The same transport (connection pool, limiter) signing with `credential`.
    #[must_use]
    pub fn with_credential(&self, credential: Credential) -> Self {
        Self {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                config: self.inner.config.clone(),
                limiter: self.inner.limiter.clone(),
                credential: Some(credential),
                clock: self.inner.clock.clone(),
            }),
        }
    }

    /// The credential, if any.
    pub fn credential(&self) -> Option<&Credential> {
        self.inner.credential.as_ref()
    }

    /// The shared rate limiter.
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        &self.inner.limiter
    }

    /// The base URLs.
    pub fn urls(&self) -> &UpbitUrls {
        &self.inner.config.urls
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// The injected clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Sends `req` (with retries when allowed) and decodes the JSON body.
    pub async fn request<T: DeserializeOwned>(&self, req: &ApiRequest) -> Result<T, UpbitError> {
        let body = self.request_bytes(req).await?;
        decode_json(&req.path, &body)
    }

    /// Sends `req` (with retries when allowed) and returns the raw body.
    pub async fn request_bytes(&self, req: &ApiRequest) -> Result<Bytes, UpbitError> {
        let policy = &self.inner.config.retry;
        let attempts = if req.retry {
            policy.max_attempts.max(1)
        } else {
            1
        };
        let mut backoff = policy.initial_backoff;
        let mut attempt = 1;
        loop {
            match self.send_once(req).await {
                Ok(body) => return Ok(body),
                Err(e) if attempt < attempts && e.is_retryable() => {
                    // After a 429 the limiter itself holds the group until the
                    // second rolls over, so no extra sleep is needed then.
                    let delay = match e {
                        UpbitError::RateLimited { .. } => Duration::ZERO,
                        _ => backoff,
                    };
                    tracing::warn!(
                        path = %req.path,
                        attempt,
                        error = %e,
                        delay_ms = delay.as_millis() as u64,
                        "retrying Upbit request"
                    );
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    backoff = backoff.saturating_mul(2).min(policy.max_backoff);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends `req` exactly once (after the limiter allows it).
    pub async fn send_once(&self, req: &ApiRequest) -> Result<Bytes, UpbitError> {
        let inner = &self.inner;
        let auth = if req.signed {
            let cred = inner
                .credential
                .as_ref()
                .ok_or_else(|| UpbitError::Config(format!("{} needs a credential", req.path)))?;
            Some(cred)
        } else {
            None
        };
        inner
            .limiter
            .acquire(req.group, inner.config.max_wait)
            .await?;

        let mut url = inner.config.urls.rest(&req.path);
        let mut builder = match req.method {
            Method::Get | Method::Delete => {
                if !req.params.is_empty() {
                    url.push('?');
                    url.push_str(&req.params.to_query_string());
                }
                if req.method == Method::Get {
                    inner.http.get(&url)
                } else {
                    inner.http.delete(&url)
                }
            }
            Method::Post => inner
                .http
                .post(&url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/json; charset=utf-8",
                )
                .body(req.params.to_json_body()),
        };
        builder = builder.header(reqwest::header::ACCEPT, "application/json");
        if let Some(cred) = auth {
            let input = req.params.hash_input();
            let input = (!input.is_empty()).then_some(input.as_str());
            builder = builder.header(reqwest::header::AUTHORIZATION, cred.authorization(input));
        }

        let resp = builder.send().await.map_err(|e| transport_error(&e))?;
        let status = resp.status().as_u16();
        let remaining = resp
            .headers()
            .get("remaining-req")
            .and_then(|v| v.to_str().ok())
            .and_then(RemainingReq::parse);
        if let Some(rr) = &remaining {
            inner.limiter.observe(rr);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_body(resp, inner.config.max_body_bytes).await?;

        if (200..300).contains(&status) {
            inner.limiter.on_success();
            return Ok(body);
        }
        let group = remaining
            .as_ref()
            .and_then(RemainingReq::rate_group)
            .unwrap_or(req.group);
        let retry_after = match status {
            429 => {
                inner.limiter.on_429(group, retry_after);
                retry_after
            }
            418 => Some(inner.limiter.on_418(retry_after)),
            _ => retry_after,
        };
        let err = error_from_response(status, &body, retry_after, Some(group));
        tracing::debug!(path = %req.path, status, error = %err, "Upbit request failed");
        Err(err)
    }
}

fn transport_error(e: &reqwest::Error) -> UpbitError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    UpbitError::Transport {
        message,
        timeout: e.is_timeout(),
        maybe_sent: !e.is_connect() && !e.is_builder(),
    }
}

async fn read_body(mut resp: reqwest::Response, max: usize) -> Result<Bytes, UpbitError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&e))? {
        if buf.len() + chunk.len() > max {
            return Err(UpbitError::decode(
                resp.url().path().to_owned(),
                format!("response body larger than {max} bytes"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
