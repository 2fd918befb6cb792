//! The action log (`events`, the stream the dashboard shows over SSE) and
//! alerts (STAB-3): every event is written to the database; WARN and
//! CRITICAL ones also go to the notifier (Telegram when configured). When
//! the database is down (RUN-2) the notifier still hears about it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{AlertLevel, TraderId};
use notify::{Alert, SharedNotifier};
use serde_json::Value;
use storage::{
    Store,
    events::{EventLevel, NewEvent},
};

/// Writes the action log and sends alerts for one trader.
#[derive(Debug, Clone)]
pub struct Journal {
    store: Store,
    trader: TraderId,
    name: Arc<str>,
    notifier: SharedNotifier,
}

impl Journal {
    /// A journal for `trader` (named `name` in alerts).
    pub fn new(store: Store, trader: TraderId, name: &str, notifier: SharedNotifier) -> Self {
        Self {
            store,
            trader,
            name: Arc::from(name),
            notifier,
        }
    }

    /// Sends an alert without touching the database.
    pub fn alert(&self, level: AlertLevel, title: &str, message: &str) {
        self.notifier
            .notify(Alert::new(level, title, message).for_trader(self.name.as_ref()));
    }

    /// Appends an event (and alerts on WARN / CRITICAL). A database failure
    /// is logged and returned; the alert is sent either way.
    pub async fn event(
        &self,
        ts: DateTime<Utc>,
        level: EventLevel,
        kind: &str,
        message: impl Into<String>,
        data: Value,
    ) -> Result<(), storage::StorageError> {
        let message = message.into();
        match level {
            EventLevel::Info => tracing::info!(trader_id = %self.trader, kind, "{message}"),
            EventLevel::Warn => tracing::warn!(trader_id = %self.trader, kind, "{message}"),
            EventLevel::Critical => tracing::error!(trader_id = %self.trader, kind, "{message}"),
        }
        let alert_level = match level {
            EventLevel::Info => None,
            EventLevel::Warn => Some(AlertLevel::Warn),
            EventLevel::Critical => Some(AlertLevel::Critical),
        };
        if let Some(l) = alert_level {
            self.alert(l, kind, &message);
        }
        let e = NewEvent {
            ts,
            trader_id: Some(self.trader),
            level,
            kind: kind.to_owned(),
            message,
            data,
        };
        self.store
            .events()
            .append(&e)
            .await
            .map(|_| ())
            .inspect_err(|err| {
                tracing::warn!(error = %err, kind, "failed to write an event");
            })
    }

    /// [`Self::event`] for places where a lost event must not stop the work
    /// (the failure is logged; the database health check notices outages).
    pub async fn note(
        &self,
        ts: DateTime<Utc>,
        level: EventLevel,
        kind: &str,
        message: impl Into<String>,
        data: Value,
    ) {
        // Logged inside `event`; the caller carries on.
        let _ = self.event(ts, level, kind, message, data).await;
    }
}
