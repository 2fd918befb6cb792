//! [`Config`]: every setting of the dashboard-api, from flags or the
//! environment (names declared once in `runtime::env`), with the embedded
//! defaults of a local run: SQLite under `./data`, the trader binary next to
//! this one, child processes as the trader runtime.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, ValueEnum};
use runtime::env;

/// The control plane of the Upbit platform: REST + SSE for the UI, traders,
/// strategies and credentials. It never places orders (FIX-11).
#[derive(Clone, Parser)]
#[command(name = "dashboard-api", version, about)]
pub struct Config {
    /// Database URL (`sqlite://PATH?mode=rwc` or `mysql://…`). Default: SQLite
    /// under DATA_DIR.
    #[arg(long, env = env::DATABASE_URL, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory of the embedded database, the generated master key and the
    /// trader logs of the process runtime.
    #[arg(long, env = env::DATA_DIR, default_value = "./data")]
    pub data_dir: PathBuf,

    /// Base64 of the 32-byte master key that seals credentials.
    #[arg(long, env = env::MASTER_KEY, hide_env_values = true)]
    pub master_key: Option<String>,

    /// File holding the master key (used when MASTER_KEY is empty). With
    /// neither, DATA_DIR/master.key is read or created.
    #[arg(long, env = env::MASTER_KEY_FILE)]
    pub master_key_file: Option<PathBuf>,

    /// Upbit REST base URL (real Upbit or the simulator); traders get it too.
    #[arg(long, env = env::UPBIT_API_URL, default_value = "https://api.upbit.com")]
    pub upbit_api_url: String,

    /// Upbit WebSocket base URL; traders get it too.
    #[arg(long, env = env::UPBIT_WS_URL, default_value = "wss://api.upbit.com/websocket/v1")]
    pub upbit_ws_url: String,

    /// Address to listen on.
    #[arg(long, env = env::API_LISTEN, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Admin password set on first start (generated and logged once when empty).
    #[arg(long, env = env::ADMIN_PASSWORD, hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Directory of the built web UI to serve (SPA fallback to index.html).
    #[arg(long, env = env::WEB_DIR, default_value = "web/dist")]
    pub web_dir: PathBuf,

    /// Mark the session cookie `Secure`: set it when the UI is reached over
    /// HTTPS (a browser drops a Secure cookie on plain http, except on
    /// localhost). Off by default for the local http run.
    #[arg(
        long,
        env = env::COOKIE_SECURE,
        default_value = "false",
        value_parser = clap::builder::BoolishValueParser::new(),
        action = clap::ArgAction::Set,
    )]
    pub cookie_secure: bool,

    /// How traders run: local child processes or Docker containers.
    #[arg(long, env = env::TRADER_RUNTIME, value_enum, default_value = "process")]
    pub trader_runtime: RuntimeKind,

    /// Image of trader containers (docker runtime).
    #[arg(long, env = env::TRADER_IMAGE, default_value = "upbit-platform/trader:latest")]
    pub trader_image: String,

    /// Network trader containers join (docker runtime).
    #[arg(long, env = env::TRADER_NETWORK, default_value = orchestrator::docker::DEFAULT_NETWORK)]
    pub trader_network: String,

    /// Memory limit of a trader container in MiB (docker runtime).
    #[arg(long, env = env::TRADER_MEMORY_MB, default_value_t = 256)]
    pub trader_memory_mb: u32,

    /// The trader binary (process runtime). Default: `trader` beside this binary.
    #[arg(long, env = env::TRADER_BIN)]
    pub trader_bin: Option<PathBuf>,

    /// Database URL handed to traders when it differs from DATABASE_URL
    /// (e.g. another host name inside the container network).
    #[arg(long, env = env::TRADER_DATABASE_URL, hide_env_values = true)]
    pub trader_database_url: Option<String>,

    /// Telegram bot token, handed to traders for alerts (STAB-3).
    #[arg(long, env = env::TELEGRAM_BOT_TOKEN, hide_env_values = true)]
    pub telegram_bot_token: Option<String>,

    /// Telegram chat id, handed to traders.
    #[arg(long, env = env::TELEGRAM_CHAT_ID)]
    pub telegram_chat_id: Option<String>,

    /// Telegram Bot API base URL, handed to traders.
    #[arg(long, env = env::TELEGRAM_API_URL)]
    pub telegram_api_url: Option<String>,

    /// `json` for JSON log lines; anything else for text.
    #[arg(long, env = env::LOG_FORMAT, default_value = "text")]
    pub log_format: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |o: &Option<String>| o.as_ref().map(|_| "***");
        f.debug_struct("Config")
            .field("database_url", &set(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("master_key", &set(&self.master_key))
            .field("master_key_file", &self.master_key_file)
            .field("upbit_api_url", &self.upbit_api_url)
            .field("upbit_ws_url", &self.upbit_ws_url)
            .field("listen", &self.listen)
            .field("admin_password", &set(&self.admin_password))
            .field("web_dir", &self.web_dir)
            .field("cookie_secure", &self.cookie_secure)
            .field("trader_runtime", &self.trader_runtime)
            .field("trader_image", &self.trader_image)
            .field("trader_network", &self.trader_network)
            .field("trader_memory_mb", &self.trader_memory_mb)
            .field("trader_bin", &self.trader_bin)
            .field("trader_database_url", &set(&self.trader_database_url))
            .field("telegram_bot_token", &set(&self.telegram_bot_token))
            .field("telegram_chat_id", &self.telegram_chat_id)
            .field("telegram_api_url", &self.telegram_api_url)
            .field("log_format", &self.log_format)
            .finish()
    }
}

/// The trader runtime backend (`TRADER_RUNTIME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeKind {
    /// Child processes of this service (the local run).
    Process,
    /// Containers through the Docker Engine API (docker-compose).
    Docker,
}

/// Treats an empty string (`VAR=` in an env file) as unset.
pub(crate) fn non_empty(v: Option<&String>) -> Option<&str> {
    v.map(String::as_str).filter(|s| !s.trim().is_empty())
}

impl Config {
    /// The database URL: `DATABASE_URL`, or SQLite under `DATA_DIR`.
    pub fn database_url(&self) -> String {
        non_empty(self.database_url.as_ref()).map_or_else(
            || storage::default_sqlite_url(&self.data_dir),
            str::to_owned,
        )
    }

    /// True when logs should be JSON lines.
    pub fn log_json(&self) -> bool {
        self.log_format.eq_ignore_ascii_case("json")
    }

    /// The trader binary for the process runtime: `TRADER_BIN`, else `trader`
    /// beside this executable.
    pub fn trader_bin(&self) -> PathBuf {
        if let Some(p) = self
            .trader_bin
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            return p.clone();
        }
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("trader")))
            .unwrap_or_else(|| PathBuf::from("trader"))
    }
}

#[cfg(test)]
mod tests;
