//! Start-up pieces: the five built-in strategies (one per risk profile,
//! FIX-10), the master key and how traders get it, the runtime backend and
//! the environment of the trader process contract.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use domain::RiskProfile;
use orchestrator::{DockerConfig, ProcessConfig, RuntimeConfig};
use runtime::env;
use storage::{MasterKey, StorageError, Store, strategies::NewStrategy};
use strategy::StrategyDefinition;

use crate::{
    config::{Config, RuntimeKind, non_empty},
    control::SYSTEM_ACTOR,
    state::TraderEnv,
};

/// Creates any of the five built-in strategies that is missing (by name:
/// `SAFETY FIRST`, …). Returns how many were created.
pub async fn seed_strategies(store: &Store, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let existing: Vec<String> = store
        .strategies()
        .list()
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut created = 0;
    for profile in RiskProfile::ALL {
        let name = profile.display_name();
        if existing.iter().any(|n| n == name) {
            continue;
        }
        let definition = serde_json::to_value(StrategyDefinition::builtin(*profile))
            .context("failed to serialise a built-in strategy")?;
        let new = NewStrategy {
            name: name.to_owned(),
            definition,
            risk_profile: *profile,
        };
        match store.strategies().create(&new, SYSTEM_ACTOR, now).await {
            Ok(_) => created += 1,
            // Another instance created it at the same moment.
            Err(StorageError::Conflict { field: "name", .. }) => {}
            Err(e) => return Err(e).context("failed to create a built-in strategy"),
        }
    }
    Ok(created)
}

/// The master key and the variable that hands it to traders.
#[derive(Debug)]
pub struct KeySetup {
    /// The key.
    pub key: MasterKey,
    /// `(MASTER_KEY or MASTER_KEY_FILE, value)` for the trader environment.
    pub trader_var: (&'static str, String),
}

/// `MASTER_KEY`, else `MASTER_KEY_FILE`, else `DATA_DIR/master.key` (read or
/// created). Containers cannot see host files, so the docker runtime always
/// hands traders the key itself; child processes get the file's path.
pub fn master_key(cfg: &Config, data_dir: &Path) -> anyhow::Result<KeySetup> {
    if let Some(b64) = non_empty(cfg.master_key.as_ref()) {
        let key = MasterKey::from_base64(env::MASTER_KEY, b64)?;
        return Ok(KeySetup {
            trader_var: (env::MASTER_KEY, b64.trim().to_owned()),
            key,
        });
    }
    let (key, path) = match cfg
        .master_key_file
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        Some(path) => (
            MasterKey::from_env_or_file(None, Some(path))?,
            absolute(path),
        ),
        None => (
            MasterKey::load_or_create(data_dir)
                .context("failed to read or create the master key file")?,
            data_dir.join(storage::secrets::KEY_FILE_NAME),
        ),
    };
    let trader_var = match cfg.trader_runtime {
        RuntimeKind::Docker => (env::MASTER_KEY, key.to_base64().expose().to_owned()),
        RuntimeKind::Process => (env::MASTER_KEY_FILE, path.display().to_string()),
    };
    Ok(KeySetup { key, trader_var })
}

/// `path` made absolute against the current directory (children may run
/// elsewhere).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The environment of the trader process contract (besides `TRADER_ID`).
pub fn trader_env(cfg: &Config, database_url: &str, key: &KeySetup) -> TraderEnv {
    let mut m = BTreeMap::new();
    let db = non_empty(cfg.trader_database_url.as_ref()).unwrap_or(database_url);
    m.insert(env::DATABASE_URL.to_owned(), db.to_owned());
    m.insert(env::UPBIT_API_URL.to_owned(), cfg.upbit_api_url.clone());
    m.insert(env::UPBIT_WS_URL.to_owned(), cfg.upbit_ws_url.clone());
    m.insert(key.trader_var.0.to_owned(), key.trader_var.1.clone());
    m.insert(env::LOG_FORMAT.to_owned(), cfg.log_format.clone());
    for (name, value) in [
        (env::TELEGRAM_BOT_TOKEN, &cfg.telegram_bot_token),
        (env::TELEGRAM_CHAT_ID, &cfg.telegram_chat_id),
        (env::TELEGRAM_API_URL, &cfg.telegram_api_url),
    ] {
        if let Some(v) = non_empty(value.as_ref()) {
            m.insert(name.to_owned(), v.to_owned());
        }
    }
    TraderEnv(m)
}

/// The runtime backend from `TRADER_RUNTIME` and friends.
pub fn runtime_config(cfg: &Config, data_dir: &Path) -> RuntimeConfig {
    match cfg.trader_runtime {
        RuntimeKind::Process => {
            RuntimeConfig::Process(ProcessConfig::new(absolute(&cfg.trader_bin()), data_dir))
        }
        RuntimeKind::Docker => {
            let mut d = DockerConfig::new(cfg.trader_image.clone());
            d.network.clone_from(&cfg.trader_network);
            d.memory_bytes = i64::from(cfg.trader_memory_mb) * 1024 * 1024;
            RuntimeConfig::Docker(d)
        }
    }
}
