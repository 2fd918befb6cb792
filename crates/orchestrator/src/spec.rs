//! What a runtime is asked to run ([`TraderSpec`], [`DesiredTrader`]) and what it
//! reports back ([`RuntimeStatus`], [`RuntimeEntry`], [`ReconcileReport`]).
//!
//! A spec's environment may hold secrets (`MASTER_KEY`, a database password), so
//! its `Debug` prints the variable names only, never their values.

use std::{collections::BTreeMap, fmt};

use domain::{TraderId, ValidationError};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Longest accepted `config_hash` (it becomes a container label).
pub const MAX_CONFIG_HASH_LEN: usize = 128;

/// Everything needed to run one trader. Construct with [`TraderSpec::new`],
/// which validates the config hash and the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct TraderSpec {
    trader_id: TraderId,
    config_hash: String,
    env: BTreeMap<String, String>,
}

impl TraderSpec {
    /// A validated spec. `config_hash` must change whenever what the trader reads
    /// once at start changes (strategy version, mode, ARM state): a runtime whose
    /// instance carries another hash recreates it (FIX-12). It is 1 to
    /// [`MAX_CONFIG_HASH_LEN`] characters of `[A-Za-z0-9._:-]`. Environment names
    /// are non-empty, without `=` or NUL; values have no NUL. `TRADER_ID` is set by
    /// the runtime itself and may not be given.
    pub fn new(
        trader_id: TraderId,
        config_hash: impl Into<String>,
        env: BTreeMap<String, String>,
    ) -> Result<Self, ValidationError> {
        let config_hash = config_hash.into();
        if config_hash.is_empty() || config_hash.len() > MAX_CONFIG_HASH_LEN {
            return Err(ValidationError::new(
                "config_hash",
                format!("must be 1-{MAX_CONFIG_HASH_LEN} characters"),
            ));
        }
        if !config_hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        {
            return Err(ValidationError::new(
                "config_hash",
                "may use only letters, digits, '.', '_', ':' and '-'",
            ));
        }
        for (name, value) in &env {
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(ValidationError::new(
                    "env",
                    format!("invalid variable name {name:?}"),
                ));
            }
            if name == runtime::env::TRADER_ID {
                return Err(ValidationError::new(
                    "env",
                    "TRADER_ID is set by the runtime from trader_id",
                ));
            }
            if value.contains('\0') {
                return Err(ValidationError::new(
                    "env",
                    format!("value of {name} contains a NUL byte"),
                ));
            }
        }
        Ok(Self {
            trader_id,
            config_hash,
            env,
        })
    }

    /// The trader this spec runs.
    pub fn trader_id(&self) -> TraderId {
        self.trader_id
    }

    /// The caller's configuration hash.
    pub fn config_hash(&self) -> &str {
        &self.config_hash
    }

    /// The environment given by the caller (without `TRADER_ID`).
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// The environment the trader actually gets: the caller's plus `TRADER_ID`.
    pub fn full_env(&self) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        env.insert(
            runtime::env::TRADER_ID.to_owned(),
            self.trader_id.to_string(),
        );
        env
    }
}

impl fmt::Debug for TraderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraderSpec")
            .field("trader_id", &self.trader_id)
            .field("config_hash", &self.config_hash)
            .field("env", &RedactedEnv(&self.env))
            .finish()
    }
}

/// Prints `{NAME=***, …}`.
struct RedactedEnv<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for RedactedEnv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut set = f.debug_set();
        for k in self.0.keys() {
            set.entry(&format_args!("{k}=***"));
        }
        set.finish()
    }
}

/// One trader as the database wants it: its spec and whether it should run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredTrader {
    /// What to run.
    pub spec: TraderSpec,
    /// `true` for RUN, `false` for STOP (the instance exists but is stopped).
    pub run: bool,
}

/// The state of a trader's runtime instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RuntimeStatus {
    /// The trader process is running.
    Running,
    /// It exited while it should run; the runtime restarts it after a back-off.
    Restarting,
    /// The instance exists but does not run and will not restart by itself:
    /// never started (`exit_code: None`), stopped, or exited.
    Stopped {
        /// The last exit code, when there was one.
        exit_code: Option<i64>,
    },
    /// No instance exists.
    Missing,
}

impl RuntimeStatus {
    /// Running or about to be restarted: the runtime is keeping it up.
    pub fn is_up(self) -> bool {
        matches!(self, Self::Running | Self::Restarting)
    }
}

/// One managed trader instance, as listed by a runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeEntry {
    /// The trader.
    pub trader_id: TraderId,
    /// Its state.
    pub status: RuntimeStatus,
    /// The config hash the instance was created with.
    pub config_hash: String,
    /// The backend's handle: a container id, or `pid:N` for a process.
    pub instance_id: String,
}

/// Why reconcile removed an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// Its trader no longer exists (or its label cannot be read).
    Orphan,
    /// A second instance for a trader that already has its canonical one.
    Duplicate,
}

/// An instance removed by reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedInstance {
    /// The trader it claimed to run, when its label was readable.
    pub trader_id: Option<TraderId>,
    /// Container name, or `trader-N (pid M)` for a leftover process.
    pub name: String,
    /// Why it went.
    pub reason: RemovalReason,
}

/// A trader reconcile could not bring to its desired state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileFailure {
    /// The trader, when the failure concerns one.
    pub trader_id: Option<TraderId>,
    /// What went wrong.
    pub error: String,
}

/// What [`crate::TraderRuntime::reconcile`] changed. One failing trader does not
/// stop the others; its error lands in `failures`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Missing instances created (stopped) for traders that should not run.
    pub created: Vec<TraderId>,
    /// Traders started (created first when missing).
    pub started: Vec<TraderId>,
    /// Stale instances (another config) replaced; started when they should run.
    pub recreated: Vec<TraderId>,
    /// Running instances stopped because their trader should not run.
    pub stopped: Vec<TraderId>,
    /// Orphan and duplicate instances removed.
    pub removed: Vec<RemovedInstance>,
    /// Traders already as desired.
    pub unchanged: Vec<TraderId>,
    /// What could not be done.
    pub failures: Vec<ReconcileFailure>,
}

/// Stable SHA-256 over length-prefixed parts: the "fingerprint" a backend stores
/// on an instance so it can tell a stale one (other config, image, binary or
/// environment) from a current one.
pub(crate) fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests;
