//! One task per running trader: owns the child process, restarts it with an
//! exponential back-off when it exits while it should run, rotates its log, and
//! on request stops it gracefully (SIGTERM, then SIGKILL after the timeout).
//!
//! Only this task waits on the child, so a pid is never signalled after it was
//! reaped. Dropping (aborting) the task drops the child, which tokio kills
//! (`kill_on_drop`).

use std::{
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use chrono::SecondsFormat;
use nix::sys::signal::Signal;
use runtime::SharedClock;
use tokio::{
    process::{Child, Command},
    sync::oneshot,
    task::JoinHandle,
    time::Instant,
};

use super::{ProcessConfig, logfile, pidfile};
use crate::{OrchestratorError, spec::TraderSpec};

/// How often a running child's log size is checked for rotation.
const ROTATE_CHECK: Duration = Duration::from_secs(30);

/// What the supervisor last saw of its child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildState {
    /// Running as `pid`.
    Running { pid: i32 },
    /// Exited; waiting out the back-off before the next start.
    Restarting,
    /// Not running and not going to be restarted.
    Stopped { exit_code: Option<i64> },
}

/// Shared view of a trader's child state.
pub(crate) type SharedState = Arc<Mutex<ChildState>>;

pub(crate) fn read(state: &SharedState) -> ChildState {
    *state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn set(state: &SharedState, to: ChildState) {
    *state.lock().unwrap_or_else(PoisonError::into_inner) = to;
}

/// Everything the supervisor needs, owned by its task.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) cfg: Arc<ProcessConfig>,
    pub(crate) clock: SharedClock,
    pub(crate) spec: TraderSpec,
    pub(crate) fingerprint: String,
    pub(crate) dir: PathBuf,
    pub(crate) log_path: PathBuf,
    pub(crate) state: SharedState,
}

impl Ctx {
    /// Appends an `[orchestrator]` line to the trader's log.
    fn note(&self, msg: &str) {
        let ts = self
            .clock
            .now()
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        if let Err(e) = logfile::note(&self.log_path, &format!("{ts} [orchestrator] {msg}")) {
            tracing::warn!(trader_id = %self.spec.trader_id(), error = %e, "failed to write trader log");
        }
    }

    /// Spawns the trader binary with the spec's environment, output appended to
    /// the log file, then records its pid (state first, pid file second, so a
    /// pid file always belongs to a known child).
    fn spawn(&self) -> Result<(Child, PathBuf), OrchestratorError> {
        let log_err = |action, e| OrchestratorError::io(action, &self.log_path, e);
        if let Err(e) = logfile::rotate_if_larger(&self.log_path, self.cfg.log_max_bytes) {
            tracing::warn!(trader_id = %self.spec.trader_id(), error = %e, "log rotation failed");
        }
        let out = logfile::open_append(&self.log_path).map_err(|e| log_err("open", e))?;
        let err = out.try_clone().map_err(|e| log_err("open", e))?;
        let mut cmd = Command::new(&self.cfg.binary);
        cmd.args(&self.cfg.args).env_clear();
        for name in &self.cfg.pass_env {
            if let Some(v) = std::env::var_os(name) {
                cmd.env(name, v);
            }
        }
        cmd.envs(self.spec.full_env())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            // Own process group: a Ctrl-C in the terminal reaches only the
            // runtime, which then stops its traders in order.
            .process_group(0)
            .kill_on_drop(true);
        let child = cmd.spawn().map_err(|source| OrchestratorError::Spawn {
            binary: self.cfg.binary.display().to_string(),
            source,
        })?;
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or_default();
        set(&self.state, ChildState::Running { pid });
        let pid_file = pidfile::write(
            &self.dir,
            self.spec.trader_id(),
            pid,
            self.spec.config_hash(),
            &self.fingerprint,
        )
        .map_err(|e| OrchestratorError::io("write pid file in", &self.dir, e))?;
        self.note(&format!(
            "started {} as pid {pid} (config_hash {})",
            self.cfg.binary.display(),
            self.spec.config_hash()
        ));
        tracing::info!(trader_id = %self.spec.trader_id(), pid, config_hash = self.spec.config_hash(), "trader process started");
        Ok((child, pid_file))
    }
}

/// A running supervisor task.
#[derive(Debug)]
pub(crate) struct Supervisor {
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<()>,
}

impl Supervisor {
    /// Spawns the first child now (so a bad binary is reported to the caller),
    /// then hands it to a new supervisor task.
    pub(crate) fn launch(ctx: Ctx) -> Result<Self, OrchestratorError> {
        let (child, pid_file) = match ctx.spawn() {
            Ok(c) => c,
            Err(e) => {
                set(&ctx.state, ChildState::Stopped { exit_code: None });
                ctx.note(&format!("start failed: {e}"));
                return Err(e);
            }
        };
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(supervise(ctx, child, pid_file, rx));
        Ok(Self {
            stop: Some(tx),
            handle,
        })
    }

    /// False once the task has ended.
    pub(crate) fn is_active(&self) -> bool {
        !self.handle.is_finished()
    }

    /// Stops the child gracefully and waits for the task to end.
    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.stop.take()
            && tx.send(()).is_err()
        {
            tracing::debug!("trader supervisor had already ended");
        }
        if let Err(e) = (&mut self.handle).await
            && e.is_panic()
        {
            tracing::error!(error = %e, "trader supervisor panicked");
        }
    }

    /// Ends the task at once; its child is killed when dropped.
    pub(crate) fn abort(&self) {
        self.handle.abort();
    }
}

/// Exit code like the Docker engine reports it: the code, or 128 + signal.
fn exit_code(st: ExitStatus) -> Option<i64> {
    st.code()
        .map(i64::from)
        .or_else(|| st.signal().map(|s| 128 + i64::from(s)))
}

/// SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code.
async fn terminate(child: &mut Child, grace: Duration) -> Option<i64> {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        pidfile::signal(pid, Signal::SIGTERM);
    }
    if let Ok(r) = tokio::time::timeout(grace, child.wait()).await {
        return r.ok().and_then(exit_code);
    }
    if let Err(e) = child.start_kill() {
        tracing::warn!(error = %e, "SIGKILL failed");
    }
    child.wait().await.ok().and_then(exit_code)
}

async fn supervise(
    ctx: Ctx,
    mut child: Child,
    mut pid_file: PathBuf,
    mut stop: oneshot::Receiver<()>,
) {
    let id = ctx.spec.trader_id();
    let mut backoff = ctx.cfg.backoff_initial;
    let mut restarts: u64 = 0;
    let mut rotate = tokio::time::interval_at(Instant::now() + ROTATE_CHECK, ROTATE_CHECK);
    rotate.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let started = Instant::now();
        let exit = loop {
            tokio::select! {
                r = child.wait() => break r,
                _ = &mut stop => {
                    let code = terminate(&mut child, ctx.cfg.stop_timeout).await;
                    pidfile::remove(&pid_file);
                    set(&ctx.state, ChildState::Stopped { exit_code: code });
                    ctx.note(&format!("stopped (exit code {})", fmt_code(code)));
                    tracing::info!(trader_id = %id, exit_code = ?code, "trader process stopped");
                    return;
                }
                _ = rotate.tick() => {
                    if let Err(e) = logfile::rotate_if_larger(&ctx.log_path, ctx.cfg.log_max_bytes) {
                        tracing::warn!(trader_id = %id, error = %e, "log rotation failed");
                    }
                }
            }
        };
        pidfile::remove(&pid_file);
        let code = match exit {
            Ok(st) => exit_code(st),
            Err(e) => {
                tracing::warn!(trader_id = %id, error = %e, "waiting for trader process failed");
                None
            }
        };
        if started.elapsed() >= ctx.cfg.stable_after {
            backoff = ctx.cfg.backoff_initial;
        }
        restarts += 1;
        set(&ctx.state, ChildState::Restarting);
        ctx.note(&format!(
            "exited with code {}; restart #{restarts} in {} ms",
            fmt_code(code),
            backoff.as_millis()
        ));
        tracing::warn!(trader_id = %id, exit_code = ?code, restarts, backoff_ms = backoff.as_millis(), "trader process exited; restarting");
        loop {
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = &mut stop => {
                    set(&ctx.state, ChildState::Stopped { exit_code: code });
                    ctx.note("stopped while waiting to restart");
                    return;
                }
            }
            backoff = backoff.saturating_mul(2).min(ctx.cfg.backoff_max);
            match ctx.spawn() {
                Ok((c, p)) => {
                    child = c;
                    pid_file = p;
                    break;
                }
                Err(e) => {
                    set(&ctx.state, ChildState::Restarting);
                    ctx.note(&format!(
                        "restart failed: {e}; next try in {} ms",
                        backoff.as_millis()
                    ));
                    tracing::warn!(trader_id = %id, error = %e, "trader restart failed");
                }
            }
        }
    }
}

fn fmt_code(code: Option<i64>) -> String {
    code.map_or_else(|| "unknown".to_owned(), |c| c.to_string())
}
