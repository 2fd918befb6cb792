//! The names of every environment variable the platform reads, declared once.
//! Each service's `clap` config refers to these constants (`env = env::X`), and
//! `.env.example` documents each one. A tidy test checks that every name here
//! appears in `.env.example`.

/// Database URL: `sqlite://PATH?mode=rwc` (embedded default) or `mysql://…` (MariaDB).
pub const DATABASE_URL: &str = "DATABASE_URL";
/// Directory for the embedded SQLite file, keys and logs (default `./data`).
pub const DATA_DIR: &str = "DATA_DIR";
/// Base64 of the 32-byte master key that encrypts secrets at rest.
pub const MASTER_KEY: &str = "MASTER_KEY";
/// Path of a file holding the master key (alternative to `MASTER_KEY`).
pub const MASTER_KEY_FILE: &str = "MASTER_KEY_FILE";
/// Upbit REST base URL (`https://api.upbit.com` or the simulator's address).
pub const UPBIT_API_URL: &str = "UPBIT_API_URL";
/// Upbit WebSocket base URL (`wss://api.upbit.com/websocket/v1` or the simulator's).
pub const UPBIT_WS_URL: &str = "UPBIT_WS_URL";
/// Listen address of the dashboard-api (e.g. `0.0.0.0:8080`).
pub const API_LISTEN: &str = "API_LISTEN";
/// Initial admin password (hashed with argon2 on first start; never stored in clear).
pub const ADMIN_PASSWORD: &str = "ADMIN_PASSWORD";
/// Directory of the built web UI that the dashboard-api serves.
pub const WEB_DIR: &str = "WEB_DIR";
/// Mark the session cookie `Secure` (`true` when the UI is served over HTTPS).
pub const COOKIE_SECURE: &str = "COOKIE_SECURE";
/// Trader runtime backend: `process` (local child processes) or `docker`.
pub const TRADER_RUNTIME: &str = "TRADER_RUNTIME";
/// Docker image used for trader containers.
pub const TRADER_IMAGE: &str = "TRADER_IMAGE";
/// Docker network trader containers join.
pub const TRADER_NETWORK: &str = "TRADER_NETWORK";
/// Path of the trader binary for the process backend.
pub const TRADER_BIN: &str = "TRADER_BIN";
/// Memory limit of one trader container in MiB (docker backend).
pub const TRADER_MEMORY_MB: &str = "TRADER_MEMORY_MB";
/// Database URL handed to traders when it differs from `DATABASE_URL`.
pub const TRADER_DATABASE_URL: &str = "TRADER_DATABASE_URL";
/// The trader id a trader process runs as.
pub const TRADER_ID: &str = "TRADER_ID";
/// Telegram bot token (alerts, STAB-3). Empty disables Telegram.
pub const TELEGRAM_BOT_TOKEN: &str = "TELEGRAM_BOT_TOKEN";
/// Telegram chat id that receives alerts.
pub const TELEGRAM_CHAT_ID: &str = "TELEGRAM_CHAT_ID";
/// Telegram Bot API base URL (tests point it at a local fake).
pub const TELEGRAM_API_URL: &str = "TELEGRAM_API_URL";
/// `json` for JSON logs, anything else for text.
pub const LOG_FORMAT: &str = "LOG_FORMAT";

/// Every name above, for the tidy test that checks `.env.example`.
pub const ALL: &[&str] = &[
    DATABASE_URL,
    DATA_DIR,
    MASTER_KEY,
    MASTER_KEY_FILE,
    UPBIT_API_URL,
    UPBIT_WS_URL,
    API_LISTEN,
    ADMIN_PASSWORD,
    WEB_DIR,
    COOKIE_SECURE,
    TRADER_RUNTIME,
    TRADER_IMAGE,
    TRADER_NETWORK,
    TRADER_BIN,
    TRADER_MEMORY_MB,
    TRADER_DATABASE_URL,
    TRADER_ID,
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_CHAT_ID,
    TELEGRAM_API_URL,
    LOG_FORMAT,
];
