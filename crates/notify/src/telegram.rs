//! Telegram Bot API notifier. `notify` only enqueues (bounded, never blocks);
//! a worker task sends `sendMessage` requests in order, at most one per
//! second per chat (Telegram's limit), retrying 429 (honouring
//! `retry_after`) and 5xx a bounded number of times. The bot token is part of
//! the request URL, so transport errors are logged without their URL.

use std::time::Duration;

use domain::{AlertLevel, Secret};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::{Alert, Notifier};

/// Queue capacity; beyond it alerts are dropped with a log line.
const QUEUE: usize = 256;
/// Attempts per message.
const ATTEMPTS: u32 = 4;

/// Telegram settings.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// Bot API base URL (`https://api.telegram.org`, or a local fake in tests).
    pub api_url: String,
    /// Bot token.
    pub token: Secret,
    /// Chat that receives alerts.
    pub chat_id: String,
    /// Alerts below this level are not sent.
    pub min_level: AlertLevel,
    /// Minimum spacing between two messages.
    pub min_interval: Duration,
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// Network problem (retryable).
    #[error("telegram transport error: {0}")]
    Transport(String),
    /// Telegram answered with an error.
    #[error("telegram API error {status}: {description}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Telegram's description.
        description: String,
        /// Seconds to wait (429).
        retry_after: Option<u64>,
    },
}

impl TelegramError {
    /// True when trying again may help (network, 429, 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Api { status, .. } => *status == 429 || *status >= 500,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ApiReply {
    ok: bool,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<ReplyParameters>,
}

#[derive(Debug, Deserialize)]
struct ReplyParameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

/// Sends alerts to a Telegram chat through a background worker.
#[derive(Debug, Clone)]
pub struct TelegramNotifier {
    tx: mpsc::Sender<Alert>,
    min_level: AlertLevel,
}

impl TelegramNotifier {
    /// Starts the sending worker on the current tokio runtime.
    pub fn spawn(config: TelegramConfig) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let min_level = config.min_level;
        tokio::spawn(worker(config, rx));
        Self { tx, min_level }
    }

    /// Sends one message now (used by the worker and by `check`).
    pub async fn send_text(
        http: &reqwest::Client,
        config: &TelegramConfig,
        text: &str,
    ) -> Result<(), TelegramError> {
        let url = format!(
            "{}/bot{}/sendMessage",
            config.api_url.trim_end_matches('/'),
            config.token.expose()
        );
        let body = serde_json::json!({
            "chat_id": config.chat_id,
            "text": text,
            "disable_web_page_preview": true,
        });
        let resp = http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| TelegramError::Transport(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let reply: Option<ApiReply> = resp.json().await.ok();
        match reply {
            Some(r) if r.ok && status < 300 => Ok(()),
            Some(r) => Err(TelegramError::Api {
                status,
                description: r.description.unwrap_or_default(),
                retry_after: r.parameters.and_then(|p| p.retry_after),
            }),
            None => Err(TelegramError::Api {
                status,
                description: "unreadable reply".into(),
                retry_after: None,
            }),
        }
    }
}

fn level_rank(l: AlertLevel) -> u8 {
    match l {
        AlertLevel::Info => 0,
        AlertLevel::Warn => 1,
        AlertLevel::Critical => 2,
    }
}

impl Notifier for TelegramNotifier {
    fn notify(&self, alert: Alert) {
        if level_rank(alert.level) < level_rank(self.min_level) {
            return;
        }
        if let Err(e) = self.tx.try_send(alert) {
            tracing::warn!(error = %e, "telegram alert queue full or closed; alert dropped");
        }
    }
}

async fn worker(config: TelegramConfig, mut rx: mpsc::Receiver<Alert>) {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the Telegram HTTP client; alerts go to the log only");
            return;
        }
    };
    while let Some(alert) = rx.recv().await {
        let text = alert.render();
        for attempt in 1..=ATTEMPTS {
            match TelegramNotifier::send_text(&http, &config, &text).await {
                Ok(()) => break,
                Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                    let wait = match &e {
                        TelegramError::Api {
                            retry_after: Some(s),
                            ..
                        } => Duration::from_secs(*s),
                        _ => Duration::from_millis(500 * u64::from(attempt)),
                    };
                    tracing::warn!(error = %e, attempt, "telegram send failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, title = %alert.title, "telegram alert not delivered");
                    break;
                }
            }
        }
        tokio::time::sleep(config.min_interval).await;
    }
}
