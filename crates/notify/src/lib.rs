//! Alerts (STAB-3): a [`Notifier`] trait with INFO / WARN / CRITICAL levels, a
//! Telegram Bot API implementation that never blocks the caller, a tracing
//! fallback when Telegram is not configured, and a recorder for tests.

/// The `Notifier` trait, `Alert`, and the log / recorder notifiers.
pub mod alert;
/// Telegram Bot API client with a bounded queue and a sending worker.
pub mod telegram;

pub use alert::{Alert, LogNotifier, Notifier, RecordingNotifier, SharedNotifier};
pub use telegram::{TelegramConfig, TelegramError, TelegramNotifier};
