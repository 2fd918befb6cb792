//! The process backend (the embedded default for a local run): one child
//! process of the configured trader binary per running trader.
//!
//! - The child gets a clean environment: a few pass-through variables (`PATH`,
//!   `HOME`, `RUST_LOG`, …), the spec's variables and `TRADER_ID`. Other
//!   secrets of the parent (e.g. `ADMIN_PASSWORD`) do not leak into traders.
//! - stdout and stderr are appended to `<data_dir>/traders/trader-<id>.log`
//!   (rotated to `.log.1` past `log_max_bytes`); [`TraderRuntime::logs`] reads
//!   its tail. The runtime adds `[orchestrator]` lines (start, exit, restart).
//! - A child that exits while it should run is restarted with an exponential
//!   back-off (reset after a run of `stable_after`), like `unless-stopped`.
//! - Stop is graceful: SIGTERM, then SIGKILL after `stop_timeout`.
//! - No orphans: [`TraderRuntime::shutdown`] stops every child; dropping the
//!   runtime kills them; and children of a runtime that was itself killed are
//!   found through their pid files and ended by the next `reconcile`.

pub(crate) mod logfile;
mod pidfile;
mod supervisor;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use domain::{TraderId, ValidationError};
use nix::sys::signal::Signal;
use runtime::SharedClock;

use self::supervisor::{ChildState, Ctx, SharedState, Supervisor};
use crate::{
    OrchestratorError, TraderRuntime,
    locks::TraderLocks,
    reconcile::{self, Backend, Instance},
    spec::{DesiredTrader, ReconcileReport, RuntimeEntry, RuntimeStatus, TraderSpec, fingerprint},
};

/// Variables a child inherits from the runtime's own environment by default.
pub const DEFAULT_PASS_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "LOG_FORMAT",
];

/// Process backend settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    /// The trader binary (`TRADER_BIN`).
    pub binary: PathBuf,
    /// Arguments passed to it.
    pub args: Vec<String>,
    /// Logs and pid files go to `<data_dir>/traders/` (`DATA_DIR`).
    pub data_dir: PathBuf,
    /// SIGTERM → SIGKILL grace period.
    pub stop_timeout: Duration,
    /// First restart delay after a crash.
    pub backoff_initial: Duration,
    /// Longest restart delay (the delay doubles per consecutive crash).
    pub backoff_max: Duration,
    /// A run at least this long resets the delay to `backoff_initial`.
    pub stable_after: Duration,
    /// A log file larger than this is rotated to `.log.1`.
    pub log_max_bytes: u64,
    /// Variables inherited from the runtime's environment.
    pub pass_env: Vec<String>,
}

impl ProcessConfig {
    /// Defaults: no arguments, 10 s stop timeout, back-off 1 s doubling to
    /// 60 s (reset after 60 s of running), logs rotated at 10 MiB.
    pub fn new(binary: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            args: Vec::new(),
            data_dir: data_dir.into(),
            stop_timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_mins(1),
            stable_after: Duration::from_mins(1),
            log_max_bytes: 10 * 1024 * 1024,
            pass_env: DEFAULT_PASS_ENV.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if self.binary.as_os_str().is_empty() {
            return Err(ValidationError::new("binary", "must not be empty"));
        }
        if self.binary.file_name().is_none() {
            return Err(ValidationError::new("binary", "must name a file"));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ValidationError::new("data_dir", "must not be empty"));
        }
        if self.backoff_initial.is_zero() || self.backoff_max < self.backoff_initial {
            return Err(ValidationError::new(
                "backoff_initial",
                "must be positive and at most backoff_max",
            ));
        }
        if self.log_max_bytes == 0 {
            return Err(ValidationError::new("log_max_bytes", "must be positive"));
        }
        Ok(())
    }
}

/// One trader known to the runtime.
#[derive(Debug)]
struct Slot {
    spec: TraderSpec,
    fingerprint: String,
    state: SharedState,
    supervisor: Option<Supervisor>,
}

impl Slot {
    fn status(&self) -> RuntimeStatus {
        match supervisor::read(&self.state) {
            ChildState::Running { .. } => RuntimeStatus::Running,
            ChildState::Restarting => RuntimeStatus::Restarting,
            ChildState::Stopped { exit_code } => RuntimeStatus::Stopped { exit_code },
        }
    }

    fn running_pid(&self) -> Option<i32> {
        match supervisor::read(&self.state) {
            ChildState::Running { pid } => Some(pid),
            _ => None,
        }
    }
}

/// Traders as supervised child processes.
#[derive(Debug)]
pub struct ProcessRuntime {
    cfg: Arc<ProcessConfig>,
    clock: SharedClock,
    locks: TraderLocks,
    slots: Mutex<HashMap<TraderId, Slot>>,
}

impl ProcessRuntime {
    /// A runtime with no traders. Validates the config; spawns nothing and
    /// touches no file (FIX-4).
    pub fn new(cfg: ProcessConfig, clock: SharedClock) -> Result<Self, OrchestratorError> {
        cfg.validate()?;
        Ok(Self {
            cfg: Arc::new(cfg),
            clock,
            locks: TraderLocks::default(),
            slots: Mutex::new(HashMap::new()),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &ProcessConfig {
        &self.cfg
    }

    /// Directory of the log and pid files.
    pub fn traders_dir(&self) -> PathBuf {
        self.cfg.data_dir.join("traders")
    }

    /// The log file of a trader.
    pub fn log_path(&self, id: TraderId) -> PathBuf {
        self.traders_dir().join(format!("trader-{id}.log"))
    }

    /// The pid of a trader's running child, if any.
    pub fn pid(&self, id: TraderId) -> Option<u32> {
        self.with_slots(|s| s.get(&id).and_then(Slot::running_pid))
            .and_then(|p| u32::try_from(p).ok())
    }

    fn with_slots<R>(&self, f: impl FnOnce(&mut HashMap<TraderId, Slot>) -> R) -> R {
        f(&mut self.slots.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn ensure_dir(&self) -> Result<PathBuf, OrchestratorError> {
        let dir = self.traders_dir();
        std::fs::create_dir_all(&dir).map_err(|e| OrchestratorError::io("create", &dir, e))?;
        Ok(dir)
    }

    /// Takes the trader's supervisor out of its slot and stops it.
    async fn stop_supervisor(&self, id: TraderId) {
        let sup = self.with_slots(|s| s.get_mut(&id).and_then(|slot| slot.supervisor.take()));
        if let Some(sup) = sup {
            sup.stop().await;
        }
    }

    /// Ends processes of `id` that are not our children (left by a runtime that
    /// was killed), and forgets their pid files.
    async fn end_leftovers(&self, id: TraderId) -> Result<(), OrchestratorError> {
        for inst in self.leftovers()? {
            if inst.trader_id == Some(id) {
                self.end_leftover(&inst).await;
            }
        }
        Ok(())
    }

    async fn end_leftover(&self, inst: &Instance) {
        let Some((pid, path)) = inst
            .handle
            .split_once(':')
            .and_then(|(p, path)| Some((p.parse::<i32>().ok()?, PathBuf::from(path))))
        else {
            return;
        };
        if let Some(id) = inst.trader_id
            && pidfile::is_trader_process(pid, id, &self.cfg.binary)
        {
            tracing::warn!(trader_id = %id, pid, "ending leftover trader process");
            pidfile::terminate_foreign(pid, self.cfg.stop_timeout).await;
        }
        pidfile::remove(&path);
    }

    /// Live trader processes found through pid files that no supervisor of
    /// ours owns. Stale pid files are deleted on the way.
    fn leftovers(&self) -> Result<Vec<Instance>, OrchestratorError> {
        let dir = self.traders_dir();
        let records = pidfile::scan(&dir).map_err(|e| OrchestratorError::io("read", &dir, e))?;
        let own: Vec<i32> = self.with_slots(|s| s.values().filter_map(Slot::running_pid).collect());
        let mut out = Vec::new();
        for r in records {
            if own.contains(&r.pid) {
                continue;
            }
            if !pidfile::is_trader_process(r.pid, r.trader_id, &self.cfg.binary) {
                pidfile::remove(&r.path);
                continue;
            }
            out.push(Instance {
                trader_id: Some(r.trader_id),
                handle: format!("{}:{}", r.pid, r.path.display()),
                name: format!("trader-{} (pid {})", r.trader_id, r.pid),
                canonical: false,
                fingerprint: Some(r.fingerprint),
                config_hash: Some(r.config_hash),
                status: RuntimeStatus::Running,
            });
        }
        Ok(out)
    }

    fn ctx(&self, spec: &TraderSpec, dir: PathBuf, state: SharedState) -> Ctx {
        Ctx {
            cfg: Arc::clone(&self.cfg),
            clock: Arc::clone(&self.clock),
            spec: spec.clone(),
            fingerprint: Backend::fingerprint(self, spec),
            log_path: self.log_path(spec.trader_id()),
            dir,
            state,
        }
    }

    /// Starts a fresh supervised child for `spec` (the caller holds the lock
    /// and has stopped any previous one).
    async fn launch(&self, spec: &TraderSpec) -> Result<(), OrchestratorError> {
        let id = spec.trader_id();
        self.end_leftovers(id).await?;
        let dir = self.ensure_dir()?;
        let state: SharedState = Arc::new(Mutex::new(ChildState::Stopped { exit_code: None }));
        let result = Supervisor::launch(self.ctx(spec, dir, Arc::clone(&state)));
        let fp = Backend::fingerprint(self, spec);
        let (supervisor, out) = match result {
            Ok(s) => (Some(s), Ok(())),
            Err(e) => (None, Err(e)),
        };
        self.with_slots(|s| {
            s.insert(
                id,
                Slot {
                    spec: spec.clone(),
                    fingerprint: fp,
                    state,
                    supervisor,
                },
            );
        });
        out
    }
}

#[async_trait]
impl TraderRuntime for ProcessRuntime {
    fn kind(&self) -> &'static str {
        "process"
    }

    async fn create(&self, spec: &TraderSpec) -> Result<(), OrchestratorError> {
        let id = spec.trader_id();
        let _guard = self.locks.lock(id).await;
        let fp = Backend::fingerprint(self, spec);
        let current = self.with_slots(|s| s.get(&id).is_some_and(|slot| slot.fingerprint == fp));
        if current {
            return Ok(());
        }
        self.stop_supervisor(id).await;
        self.end_leftovers(id).await?;
        self.ensure_dir()?;
        let log = self.log_path(id);
        logfile::open_append(&log).map_err(|e| OrchestratorError::io("create", &log, e))?;
        self.with_slots(|s| {
            s.insert(
                id,
                Slot {
                    spec: spec.clone(),
                    fingerprint: fp,
                    state: Arc::new(Mutex::new(ChildState::Stopped { exit_code: None })),
                    supervisor: None,
                },
            );
        });
        Ok(())
    }

    async fn start(&self, spec: &TraderSpec) -> Result<(), OrchestratorError> {
        let id = spec.trader_id();
        let _guard = self.locks.lock(id).await;
        let fp = Backend::fingerprint(self, spec);
        let running = self.with_slots(|s| {
            s.get(&id).is_some_and(|slot| {
                slot.fingerprint == fp
                    && slot.supervisor.as_ref().is_some_and(Supervisor::is_active)
            })
        });
        if running {
            return Ok(());
        }
        self.stop_supervisor(id).await;
        self.launch(spec).await
    }

    async fn recreate(&self, spec: &TraderSpec) -> Result<(), OrchestratorError> {
        let id = spec.trader_id();
        let _guard = self.locks.lock(id).await;
        self.stop_supervisor(id).await;
        self.launch(spec).await?;
        tracing::info!(trader_id = %id, config_hash = spec.config_hash(), "recreated trader process");
        Ok(())
    }

    async fn stop(&self, id: TraderId) -> Result<(), OrchestratorError> {
        let _guard = self.locks.lock(id).await;
        self.stop_supervisor(id).await;
        self.end_leftovers(id).await
    }

    async fn remove(&self, id: TraderId) -> Result<(), OrchestratorError> {
        let _guard = self.locks.lock(id).await;
        self.stop_supervisor(id).await;
        self.end_leftovers(id).await?;
        self.with_slots(|s| s.remove(&id));
        let log = self.log_path(id);
        for path in [logfile::rotated(&log), log] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(OrchestratorError::io("remove", &path, e)),
            }
        }
        tracing::info!(trader_id = %id, "removed trader process and its logs");
        Ok(())
    }

    async fn status(&self, id: TraderId) -> Result<RuntimeStatus, OrchestratorError> {
        if let Some(st) = self.with_slots(|s| s.get(&id).map(Slot::status)) {
            return Ok(st);
        }
        let leftover = self.leftovers()?.iter().any(|i| i.trader_id == Some(id));
        Ok(if leftover {
            RuntimeStatus::Running
        } else {
            RuntimeStatus::Missing
        })
    }

    async fn list(&self) -> Result<Vec<RuntimeEntry>, OrchestratorError> {
        Ok(Backend::instances(self)
            .await?
            .into_iter()
            .filter_map(|i| {
                Some(RuntimeEntry {
                    trader_id: i.trader_id?,
                    status: i.status,
                    config_hash: i.config_hash.unwrap_or_default(),
                    instance_id: if i.canonical {
                        i.handle
                    } else {
                        format!("pid:{}", i.handle.split(':').next().unwrap_or_default())
                    },
                })
            })
            .collect())
    }

    async fn logs(&self, id: TraderId, tail: usize) -> Result<Vec<String>, OrchestratorError> {
        let path = self.log_path(id);
        let known = self.with_slots(|s| s.contains_key(&id));
        let read_path = path.clone();
        let read = tokio::task::spawn_blocking(move || logfile::tail_file(&read_path, tail))
            .await
            .map_err(|e| OrchestratorError::io("read", &path, std::io::Error::other(e)))?;
        match read {
            Ok(lines) => Ok(lines),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && known => Ok(Vec::new()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(OrchestratorError::NotFound(id))
            }
            Err(e) => Err(OrchestratorError::io("read", &path, e)),
        }
    }

    async fn reconcile(
        &self,
        desired: &[DesiredTrader],
    ) -> Result<ReconcileReport, OrchestratorError> {
        reconcile::run(self, desired).await
    }

    async fn shutdown(&self) -> Result<(), OrchestratorError> {
        let sups: Vec<Supervisor> = self.with_slots(|s| {
            s.values_mut()
                .filter_map(|slot| slot.supervisor.take())
                .collect()
        });
        futures_util::future::join_all(sups.into_iter().map(Supervisor::stop)).await;
        Ok(())
    }
}

#[async_trait]
impl Backend for ProcessRuntime {
    async fn instances(&self) -> Result<Vec<Instance>, OrchestratorError> {
        let mut out: Vec<Instance> = self.with_slots(|s| {
            s.iter()
                .map(|(id, slot)| Instance {
                    trader_id: Some(*id),
                    handle: slot
                        .running_pid()
                        .map_or_else(|| format!("trader-{id}"), |pid| format!("pid:{pid}")),
                    name: format!("trader-{id}"),
                    canonical: true,
                    fingerprint: Some(slot.fingerprint.clone()),
                    config_hash: Some(slot.spec.config_hash().to_owned()),
                    status: slot.status(),
                })
                .collect()
        });
        out.sort_by_key(|i| i.trader_id);
        out.extend(self.leftovers()?);
        Ok(out)
    }

    async fn remove_instance(&self, instance: &Instance) -> Result<(), OrchestratorError> {
        match instance.trader_id {
            Some(id) if instance.canonical => self.remove(id).await,
            _ => {
                self.end_leftover(instance).await;
                Ok(())
            }
        }
    }

    fn fingerprint(&self, spec: &TraderSpec) -> String {
        let binary = self.cfg.binary.display().to_string();
        let env = spec.full_env();
        let mut parts = vec!["process", spec.config_hash(), binary.as_str()];
        parts.extend(self.cfg.args.iter().map(String::as_str));
        parts.push("--env--");
        for (k, v) in &env {
            parts.push(k);
            parts.push(v);
        }
        fingerprint(parts)
    }
}

impl Drop for ProcessRuntime {
    /// Kills every child now (SIGKILL) and ends the supervisor tasks, so a
    /// dropped runtime leaves no process behind. Use
    /// [`TraderRuntime::shutdown`] first for a graceful stop.
    fn drop(&mut self) {
        let slots = self.slots.get_mut().unwrap_or_else(PoisonError::into_inner);
        for slot in slots.values() {
            if let Some(sup) = &slot.supervisor {
                if let Some(pid) = slot.running_pid() {
                    pidfile::signal(pid, Signal::SIGKILL);
                }
                sup.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests;
