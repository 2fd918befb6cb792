//! The [`Notifier`] trait and the simple notifiers: [`LogNotifier`] (tracing)
//! and [`RecordingNotifier`] (keeps every alert, for tests and the dashboard badge).

use std::sync::{Arc, Mutex, PoisonError};

use domain::AlertLevel;

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Severity.
    pub level: AlertLevel,
    /// Short title, e.g. `kill switch tripped`.
    pub title: String,
    /// Details in plain words (never a secret).
    pub message: String,
    /// The trader it concerns, by name, if any.
    pub trader: Option<String>,
}

impl Alert {
    /// Builds an alert.
    pub fn new(level: AlertLevel, title: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level,
            title: title.into(),
            message: message.into(),
            trader: None,
        }
    }

    /// Attaches the trader name.
    #[must_use]
    pub fn for_trader(mut self, name: impl Into<String>) -> Self {
        self.trader = Some(name.into());
        self
    }

    /// The text sent to a chat: `[LEVEL] trader: title — message`.
    pub fn render(&self) -> String {
        let icon = match self.level {
            AlertLevel::Info => "ℹ️",
            AlertLevel::Warn => "⚠️",
            AlertLevel::Critical => "🚨",
        };
        match &self.trader {
            Some(t) => format!(
                "{icon} [{}] {t}: {}\n{}",
                self.level, self.title, self.message
            ),
            None => format!("{icon} [{}] {}\n{}", self.level, self.title, self.message),
        }
    }
}

/// Something that delivers alerts. Implementations must not block the caller
/// for long: trading loops call this.
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Delivers (or queues) an alert. Never fails the caller: delivery
    /// problems are logged by the implementation.
    fn notify(&self, alert: Alert);
}

/// A notifier shared across tasks.
pub type SharedNotifier = Arc<dyn Notifier>;

/// Writes alerts to the log only (Telegram disabled).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn notify(&self, alert: Alert) {
        match alert.level {
            AlertLevel::Info => {
                tracing::info!(title = %alert.title, trader = ?alert.trader, "{}", alert.message);
            }
            AlertLevel::Warn => {
                tracing::warn!(title = %alert.title, trader = ?alert.trader, "{}", alert.message);
            }
            AlertLevel::Critical => {
                tracing::error!(title = %alert.title, trader = ?alert.trader, "{}", alert.message);
            }
        }
    }
}

/// Keeps every alert in memory (tests; also fans out to an inner notifier).
#[derive(Debug, Clone, Default)]
pub struct RecordingNotifier {
    seen: Arc<Mutex<Vec<Alert>>>,
}

impl RecordingNotifier {
    /// Every alert so far, oldest first.
    pub fn alerts(&self) -> Vec<Alert> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Notifier for RecordingNotifier {
    fn notify(&self, alert: Alert) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_and_record() {
        let a = Alert::new(
            AlertLevel::Critical,
            "kill switch",
            "daily loss 5.2 % > 5 %",
        )
        .for_trader("alpha");
        assert!(
            a.render().contains("[CRITICAL] alpha: kill switch"),
            "{}",
            a.render()
        );
        let r = RecordingNotifier::default();
        r.notify(a.clone());
        LogNotifier.notify(a.clone());
        assert_eq!(r.alerts(), vec![a]);
    }
}
