//! The trader's configuration: one `clap` struct read from the environment
//! (names declared once in `runtime::env`) plus operational flags that only
//! tests and demos change. Strategy and risk parameters are not here: they
//! are the strategy version in the database, read once at start (FIX-12).

use std::{fmt, path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};
use domain::{Secret, TraderId};
use runtime::env;

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockSource {
    /// The wall clock (production).
    System,
    /// Follow the Upbit simulator's clock at `UPBIT_API_URL/_sim/clock`
    /// (accelerated or stepped runs: demos and end-to-end tests).
    Simulator,
}

/// Everything the trader process reads at start.
#[derive(Clone, Parser)]
#[command(
    name = "trader",
    about = "One trader: screener → regime → scores → risk → executor → positions, every minute."
)]
pub struct Config {
    /// The trader this process runs as.
    #[arg(long, env = env::TRADER_ID)]
    pub trader_id: TraderId,
    /// Database URL (`sqlite://…` or `mysql://…`); never migrated by the trader.
    #[arg(long, env = env::DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
    /// Upbit REST base URL (real Upbit or the simulator).
    #[arg(long, env = env::UPBIT_API_URL, default_value = "https://api.upbit.com")]
    pub upbit_api_url: String,
    /// Upbit WebSocket base URL.
    #[arg(long, env = env::UPBIT_WS_URL, default_value = "wss://api.upbit.com/websocket/v1")]
    pub upbit_ws_url: String,
    /// Base64 master key that decrypts the credential (LIVE).
    #[arg(long, env = env::MASTER_KEY, hide_env_values = true)]
    pub master_key: Option<String>,
    /// File holding the master key.
    #[arg(long, env = env::MASTER_KEY_FILE)]
    pub master_key_file: Option<PathBuf>,
    /// `json` for JSON logs.
    #[arg(long, env = env::LOG_FORMAT, default_value = "text")]
    pub log_format: String,
    /// Telegram bot token (empty: alerts go to the log only).
    #[arg(long, env = env::TELEGRAM_BOT_TOKEN, hide_env_values = true)]
    pub telegram_bot_token: Option<String>,
    /// Telegram chat that receives WARN and CRITICAL alerts.
    #[arg(long, env = env::TELEGRAM_CHAT_ID)]
    pub telegram_chat_id: Option<String>,
    /// Telegram Bot API base URL.
    #[arg(long, env = env::TELEGRAM_API_URL, default_value = "https://api.telegram.org")]
    pub telegram_api_url: String,
    /// Clock source.
    #[arg(long, value_enum, default_value_t = ClockSource::System)]
    pub clock: ClockSource,
    /// How often open orders are watched between cycles (wall milliseconds).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(20..=60_000))]
    pub watch_interval_ms: u64,
    /// Heartbeat interval (wall seconds).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub heartbeat_secs: u64,
    /// Longest a cycle waits for the just-closed candle before running anyway (seconds of trader time).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(0..=55))]
    pub candle_wait_secs: i64,
    /// PAPER: simulated order latency (wall milliseconds).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub paper_latency_ms: u64,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.database_url.split(':').next().unwrap_or("");
        f.debug_struct("Config")
            .field("trader_id", &self.trader_id)
            .field("database_url", &format_args!("{scheme}://***"))
            .field("upbit_api_url", &self.upbit_api_url)
            .field("upbit_ws_url", &self.upbit_ws_url)
            .field("master_key", &self.master_key.as_ref().map(|_| "***"))
            .field("master_key_file", &self.master_key_file)
            .field("telegram", &self.telegram_bot_token.as_ref().map(|_| "***"))
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Watch interval.
    pub fn watch_interval(&self) -> Duration {
        Duration::from_millis(self.watch_interval_ms)
    }

    /// Telegram bot token as a secret, when set and non-empty.
    pub fn telegram_token(&self) -> Option<Secret> {
        self.telegram_bot_token
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Secret::new(t.trim().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_redacts_secrets() {
        let c = Config::try_parse_from([
            "trader",
            "--trader-id",
            "7",
            "--database-url",
            "mysql://root:pw@db/x",
            "--master-key",
            "c2VjcmV0",
            "--clock",
            "simulator",
        ])
        .unwrap();
        assert_eq!(c.trader_id.get(), 7);
        assert_eq!(c.clock, ClockSource::Simulator);
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("pw"), "{dbg}");
        assert!(!dbg.contains("c2VjcmV0"), "{dbg}");
        // bad input names the flag
        let err = Config::try_parse_from(["trader", "--trader-id", "0", "--database-url", "x"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("trader-id") || err.contains("trader_id"),
            "{err}"
        );
        let err = Config::try_parse_from([
            "trader",
            "--trader-id",
            "1",
            "--database-url",
            "x",
            "--watch-interval-ms",
            "5",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("watch-interval-ms"), "{err}");
    }
}
