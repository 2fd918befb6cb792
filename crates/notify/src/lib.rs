//! Alerts: Notifier trait, Telegram Bot API client with INFO/WARN/CRITICAL levels.
