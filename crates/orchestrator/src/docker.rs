//! The docker backend: one container per trader through the Docker Engine API
//! (bollard), so it works with Docker and with podman's compatible service.
//!
//! Containers are named `upbit-trader-<id>` (`upbit-trader-<scope>-<id>` outside
//! the default scope), carry the labels below, join the configured network
//! (created if missing), get the spec's environment plus `TRADER_ID`, a memory
//! limit and the `unless-stopped` restart policy, so the engine restarts a
//! crashed trader and `stop` is final. Environment values are never logged.
//!
//! The engine is reached through `DOCKER_HOST` (`unix://…`, `tcp://…`) or the
//! default socket; the API version is negotiated on first use (podman 4.3
//! reports 1.41), and nothing is contacted when the runtime is constructed.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use bollard::{
    Docker,
    container::LogOutput,
    models::{
        ContainerCreateBody, ContainerInspectResponse, ContainerState, ContainerStateStatusEnum,
        HostConfig, HostConfigLogConfig, NetworkCreateRequest, RestartPolicy,
        RestartPolicyNameEnum,
    },
    query_parameters::{
        CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
        RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
    },
};
use domain::{TraderId, ValidationError};
use futures_util::StreamExt;
use tokio::sync::OnceCell;

use crate::{
    OrchestratorError, TraderRuntime,
    locks::TraderLocks,
    reconcile::{self, Backend, Instance},
    spec::{DesiredTrader, ReconcileReport, RuntimeEntry, RuntimeStatus, TraderSpec, fingerprint},
};

/// Label present (`true`) on every container this platform manages.
pub const LABEL_MANAGED: &str = "io.upbit-platform.managed";
/// Label holding the trader id.
pub const LABEL_TRADER_ID: &str = "io.upbit-platform.trader-id";
/// Label holding the spec's config hash.
pub const LABEL_CONFIG_HASH: &str = "io.upbit-platform.config-hash";
/// Label holding the fingerprint (config hash, image, command, network, memory,
/// environment) used to detect a stale container.
pub const LABEL_FINGERPRINT: &str = "io.upbit-platform.fingerprint";
/// Label holding the runtime's scope, so two deployments (or parallel test
/// runs) sharing one engine never touch each other's containers.
pub const LABEL_SCOPE: &str = "io.upbit-platform.scope";

/// The scope of a normal deployment.
pub const DEFAULT_SCOPE: &str = "default";
/// Network trader containers join unless configured otherwise.
pub const DEFAULT_NETWORK: &str = "upbit-platform";
/// Memory limit per trader container: 256 MiB.
pub const DEFAULT_MEMORY_BYTES: i64 = 256 * 1024 * 1024;
/// Grace period between SIGTERM and SIGKILL.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Docker backend settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfig {
    /// Image of trader containers (`TRADER_IMAGE`).
    pub image: String,
    /// Network to join, created as a bridge network if missing (`TRADER_NETWORK`).
    pub network: String,
    /// Scope label and name part: `[a-z0-9-]`, 1–32 characters.
    pub scope: String,
    /// Memory limit in bytes (swap is limited to the same, i.e. none).
    pub memory_bytes: i64,
    /// SIGTERM → SIGKILL grace period, whole seconds.
    pub stop_timeout: Duration,
    /// Overrides the image's command when set.
    pub command: Option<Vec<String>>,
    /// Rotate container logs at this size (`json-file` driver option, e.g.
    /// `10m`); `None` leaves the engine's default log settings.
    pub log_max_size: Option<String>,
}

impl DockerConfig {
    /// Defaults for `image`: default network and scope, 256 MiB, 10 s, the
    /// image's own command, logs rotated at 10 MB × 3 files.
    pub fn new(image: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            network: DEFAULT_NETWORK.to_owned(),
            scope: DEFAULT_SCOPE.to_owned(),
            memory_bytes: DEFAULT_MEMORY_BYTES,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
            command: None,
            log_max_size: Some("10m".to_owned()),
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if self.image.trim().is_empty() {
            return Err(ValidationError::new("image", "must not be empty"));
        }
        if self.network.trim().is_empty() {
            return Err(ValidationError::new("network", "must not be empty"));
        }
        if self.scope.is_empty()
            || self.scope.len() > 32
            || !self
                .scope
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ValidationError::new(
                "scope",
                "must be 1-32 characters of a-z, 0-9 and '-'",
            ));
        }
        if self.memory_bytes < 6 * 1024 * 1024 {
            return Err(ValidationError::new(
                "memory_bytes",
                "must be at least 6 MiB (the engine's minimum)",
            ));
        }
        if self.command.as_ref().is_some_and(Vec::is_empty) {
            return Err(ValidationError::new(
                "command",
                "must not be empty when given",
            ));
        }
        Ok(())
    }
}

/// Where the engine client comes from.
#[derive(Debug)]
enum Source {
    /// `DOCKER_HOST` or the default socket, resolved on first use.
    Env,
    /// A client built by the caller.
    Client(Docker),
}

/// Trader containers through the Docker Engine API.
#[derive(Debug)]
pub struct DockerRuntime {
    source: Source,
    client: OnceCell<Docker>,
    cfg: DockerConfig,
    locks: TraderLocks,
}

impl DockerRuntime {
    /// A runtime reaching the engine through `DOCKER_HOST` (`unix://…`,
    /// `tcp://…`) or the default socket. Validates the config; the engine is
    /// looked up and contacted on first use, so a missing socket is a
    /// retryable [`OrchestratorError::Unavailable`] of that call, not a
    /// start-up failure.
    pub fn connect(cfg: DockerConfig) -> Result<Self, OrchestratorError> {
        Self::new(Source::Env, cfg)
    }

    /// A runtime over an existing bollard client. Contacts nothing.
    pub fn with_client(docker: Docker, cfg: DockerConfig) -> Result<Self, OrchestratorError> {
        Self::new(Source::Client(docker), cfg)
    }

    fn new(source: Source, cfg: DockerConfig) -> Result<Self, OrchestratorError> {
        cfg.validate()?;
        Ok(Self {
            source,
            client: OnceCell::new(),
            cfg,
            locks: TraderLocks::default(),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &DockerConfig {
        &self.cfg
    }

    /// The canonical container name of a trader.
    pub fn container_name(&self, id: TraderId) -> String {
        if self.cfg.scope == DEFAULT_SCOPE {
            format!("upbit-trader-{id}")
        } else {
            format!("upbit-trader-{}-{id}", self.cfg.scope)
        }
    }

    /// The client, with the API version negotiated on first use.
    async fn docker(&self) -> Result<&Docker, OrchestratorError> {
        self.client
            .get_or_try_init(|| async {
                let base = match &self.source {
                    Source::Env => Docker::connect_with_defaults()?,
                    Source::Client(d) => d.clone(),
                };
                let d = base.negotiate_version().await?;
                tracing::debug!(version = ?d.client_version(), "docker API version negotiated");
                Ok::<_, OrchestratorError>(d)
            })
            .await
    }

    fn labels(&self, spec: &TraderSpec) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_MANAGED.to_owned(), "true".to_owned()),
            (LABEL_SCOPE.to_owned(), self.cfg.scope.clone()),
            (LABEL_TRADER_ID.to_owned(), spec.trader_id().to_string()),
            (LABEL_CONFIG_HASH.to_owned(), spec.config_hash().to_owned()),
            (
                LABEL_FINGERPRINT.to_owned(),
                Backend::fingerprint(self, spec),
            ),
        ])
    }

    /// The create body for `spec` (environment values included — never log it).
    fn create_body(&self, spec: &TraderSpec) -> ContainerCreateBody {
        let env = spec
            .full_env()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let log_config = self
            .cfg
            .log_max_size
            .as_ref()
            .map(|size| HostConfigLogConfig {
                typ: Some("json-file".to_owned()),
                config: Some(HashMap::from([
                    ("max-size".to_owned(), size.clone()),
                    ("max-file".to_owned(), "3".to_owned()),
                ])),
            });
        ContainerCreateBody {
            image: Some(self.cfg.image.clone()),
            cmd: self.cfg.command.clone(),
            env: Some(env),
            labels: Some(self.labels(spec)),
            stop_timeout: Some(self.stop_timeout_secs().into()),
            host_config: Some(HostConfig {
                memory: Some(self.cfg.memory_bytes),
                memory_swap: Some(self.cfg.memory_bytes),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                    maximum_retry_count: None,
                }),
                network_mode: Some(self.cfg.network.clone()),
                log_config,
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        }
    }

    fn stop_timeout_secs(&self) -> i32 {
        i32::try_from(self.cfg.stop_timeout.as_secs()).unwrap_or(i32::MAX)
    }

    async fn ensure_network(&self) -> Result<(), OrchestratorError> {
        let docker = self.docker().await?;
        match docker
            .inspect_network(
                &self.cfg.network,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if status_of_err(&e) == Some(404) => {}
            Err(e) => return Err(e.into()),
        }
        let req = NetworkCreateRequest {
            name: self.cfg.network.clone(),
            driver: Some("bridge".to_owned()),
            labels: Some(HashMap::from([(
                LABEL_MANAGED.to_owned(),
                "true".to_owned(),
            )])),
            ..NetworkCreateRequest::default()
        };
        match docker.create_network(req).await {
            Ok(_) => {
                tracing::info!(network = %self.cfg.network, "created trader network");
                Ok(())
            }
            // Created concurrently by someone else: fine.
            Err(e) if status_of_err(&e) == Some(409) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Managed containers of this scope, optionally of one trader, inspected.
    async fn find(&self, trader: Option<TraderId>) -> Result<Vec<Instance>, OrchestratorError> {
        let docker = self.docker().await?;
        let mut labels = vec![
            format!("{LABEL_MANAGED}=true"),
            format!("{LABEL_SCOPE}={}", self.cfg.scope),
        ];
        if let Some(id) = trader {
            labels.push(format!("{LABEL_TRADER_ID}={id}"));
        }
        let filters = HashMap::from([("label", labels)]);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = docker.list_containers(Some(opts)).await?;
        let inspections = futures_util::future::join_all(
            summaries.iter().filter_map(|s| s.id.as_deref()).map(|id| {
                docker.inspect_container(
                    id,
                    None::<bollard::query_parameters::InspectContainerOptions>,
                )
            }),
        )
        .await;
        let mut out = Vec::with_capacity(inspections.len());
        for r in inspections {
            match r {
                Ok(c) => out.push(self.instance_of(&c)),
                // Removed between list and inspect.
                Err(e) if status_of_err(&e) == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn instance_of(&self, c: &ContainerInspectResponse) -> Instance {
        let labels = c.config.as_ref().and_then(|cfg| cfg.labels.as_ref());
        let label = |k: &str| labels.and_then(|l| l.get(k)).cloned();
        let trader_id = label(LABEL_TRADER_ID).and_then(|v| v.parse::<TraderId>().ok());
        let name = c
            .name
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned();
        let canonical = trader_id.is_some_and(|id| name == self.container_name(id));
        Instance {
            trader_id,
            handle: c.id.clone().unwrap_or_else(|| name.clone()),
            name,
            canonical,
            fingerprint: label(LABEL_FINGERPRINT),
            config_hash: label(LABEL_CONFIG_HASH),
            status: c
                .state
                .as_ref()
                .map_or(RuntimeStatus::Missing, status_of_state),
        }
    }

    /// Makes sure the trader has exactly its canonical, current container;
    /// returns its id and status.
    async fn ensure_current(
        &self,
        spec: &TraderSpec,
    ) -> Result<(String, RuntimeStatus), OrchestratorError> {
        let want = Backend::fingerprint(self, spec);
        let mut current = None;
        for inst in self.find(Some(spec.trader_id())).await? {
            if inst.canonical && inst.fingerprint.as_deref() == Some(want.as_str()) {
                current = Some((inst.handle, inst.status));
            } else {
                tracing::info!(trader_id = %spec.trader_id(), container = %inst.name, canonical = inst.canonical, "replacing stale or duplicate container");
                self.remove_container(&inst.handle).await?;
            }
        }
        if let Some(found) = current {
            return Ok(found);
        }
        let id = self.create_container(spec).await?;
        Ok((id, RuntimeStatus::Stopped { exit_code: None }))
    }

    async fn create_container(&self, spec: &TraderSpec) -> Result<String, OrchestratorError> {
        self.ensure_network().await?;
        let name = self.container_name(spec.trader_id());
        let opts = CreateContainerOptionsBuilder::new().name(&name).build();
        match self
            .docker()
            .await?
            .create_container(Some(opts), self.create_body(spec))
            .await
        {
            Ok(r) => {
                tracing::info!(
                    trader_id = %spec.trader_id(),
                    container = %name,
                    image = %self.cfg.image,
                    config_hash = spec.config_hash(),
                    env_names = ?spec.env().keys().collect::<Vec<_>>(),
                    "created trader container"
                );
                Ok(r.id)
            }
            Err(e) => Err(match status_of_err(&e) {
                Some(409) => OrchestratorError::NameConflict { name },
                Some(404) if e.to_string().to_ascii_lowercase().contains("image") => {
                    OrchestratorError::ImageNotFound {
                        image: self.cfg.image.clone(),
                    }
                }
                _ => e.into(),
            }),
        }
    }

    async fn start_container(&self, handle: &str) -> Result<(), OrchestratorError> {
        match self
            .docker()
            .await?
            .start_container(
                handle,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
        {
            // 304: already running.
            Err(e) if status_of_err(&e) != Some(304) => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn stop_container(&self, handle: &str) -> Result<(), OrchestratorError> {
        let opts = StopContainerOptionsBuilder::new()
            .t(self.stop_timeout_secs())
            .build();
        match self
            .docker()
            .await?
            .stop_container(handle, Some(opts))
            .await
        {
            // 304: already stopped; 404: already gone.
            Err(e) if !matches!(status_of_err(&e), Some(304 | 404)) => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Graceful stop, then delete.
    async fn remove_container(&self, handle: &str) -> Result<(), OrchestratorError> {
        self.stop_container(handle).await?;
        let opts = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self
            .docker()
            .await?
            .remove_container(handle, Some(opts))
            .await
        {
            Err(e) if status_of_err(&e) != Some(404) => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl TraderRuntime for DockerRuntime {
    fn kind(&self) -> &'static str {
        "docker"
    }

    async fn create(&self, spec: &TraderSpec) -> Result<(), OrchestratorError> {
        let _guard = self.locks.lock(spec.trader_id()).await;
        self.ensure_current(spec).await.map(|_| ())
    }

    async fn start(&self, spec: &TraderSpec) -> Result<(), OrchestratorError> {
        let _guard = self.locks.lock(spec.trader_id()).await;
        let (handle, status) = self.ensure_current(spec).await?;
        if !status.is_up() {
            self.start_container(&handle).await?;
            tracing::info!(trader_id = %spec.trader_id(), container = %self.container_name(spec.trader_id()), "started trader container");
        }
        Ok(())
    }

    async fn recreate(&self, spec: &TraderSpec) -> Result<(), OrchestratorError> {
        let _guard = self.locks.lock(spec.trader_id()).await;
        for inst in self.find(Some(spec.trader_id())).await? {
            self.remove_container(&inst.handle).await?;
        }
        let handle = self.create_container(spec).await?;
        self.start_container(&handle).await?;
        tracing::info!(trader_id = %spec.trader_id(), config_hash = spec.config_hash(), "recreated trader container");
        Ok(())
    }

    async fn stop(&self, id: TraderId) -> Result<(), OrchestratorError> {
        let _guard = self.locks.lock(id).await;
        // Stop every instance, even one that looks exited: under a restart
        // policy an exited container may be about to be restarted by the engine,
        // and an explicit stop is what cancels that.
        for inst in self.find(Some(id)).await? {
            self.stop_container(&inst.handle).await?;
        }
        Ok(())
    }

    async fn remove(&self, id: TraderId) -> Result<(), OrchestratorError> {
        let _guard = self.locks.lock(id).await;
        for inst in self.find(Some(id)).await? {
            self.remove_container(&inst.handle).await?;
            tracing::info!(trader_id = %id, container = %inst.name, "removed trader container");
        }
        Ok(())
    }

    async fn status(&self, id: TraderId) -> Result<RuntimeStatus, OrchestratorError> {
        let found = self.find(Some(id)).await?;
        Ok(found
            .iter()
            .find(|i| i.canonical)
            .or_else(|| found.first())
            .map_or(RuntimeStatus::Missing, |i| i.status))
    }

    async fn list(&self) -> Result<Vec<RuntimeEntry>, OrchestratorError> {
        Ok(self
            .find(None)
            .await?
            .into_iter()
            .filter_map(|i| {
                Some(RuntimeEntry {
                    trader_id: i.trader_id?,
                    status: i.status,
                    config_hash: i.config_hash.unwrap_or_default(),
                    instance_id: i.handle,
                })
            })
            .collect())
    }

    async fn logs(&self, id: TraderId, tail: usize) -> Result<Vec<String>, OrchestratorError> {
        let found = self.find(Some(id)).await?;
        let Some(inst) = found.iter().find(|i| i.canonical).or_else(|| found.first()) else {
            return Err(OrchestratorError::NotFound(id));
        };
        if tail == 0 {
            return Ok(Vec::new());
        }
        let opts = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&tail.to_string())
            .build();
        let mut stream = self.docker().await?.logs(&inst.handle, Some(opts));
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk? {
                LogOutput::StdOut { message }
                | LogOutput::StdErr { message }
                | LogOutput::Console { message } => buf.extend_from_slice(&message),
                LogOutput::StdIn { .. } => {}
            }
        }
        Ok(crate::process::logfile::last_lines(&buf, tail))
    }

    async fn reconcile(
        &self,
        desired: &[DesiredTrader],
    ) -> Result<ReconcileReport, OrchestratorError> {
        reconcile::run(self, desired).await
    }

    async fn shutdown(&self) -> Result<(), OrchestratorError> {
        // Containers outlive the dashboard-api on purpose.
        Ok(())
    }
}

#[async_trait]
impl Backend for DockerRuntime {
    async fn instances(&self) -> Result<Vec<Instance>, OrchestratorError> {
        self.find(None).await
    }

    async fn remove_instance(&self, instance: &Instance) -> Result<(), OrchestratorError> {
        let _guard = match instance.trader_id {
            Some(id) => Some(self.locks.lock(id).await),
            None => None,
        };
        self.remove_container(&instance.handle).await
    }

    fn fingerprint(&self, spec: &TraderSpec) -> String {
        let env = spec.full_env();
        let command = self.cfg.command.as_ref().map(|c| c.join("\0"));
        let memory = self.cfg.memory_bytes.to_string();
        let mut parts = vec![
            "docker",
            spec.config_hash(),
            &self.cfg.image,
            command.as_deref().unwrap_or("<image default>"),
            &self.cfg.network,
            &memory,
        ];
        for (k, v) in &env {
            parts.push(k);
            parts.push(v);
        }
        fingerprint(parts)
    }
}

/// Maps an engine container state to ours.
pub(crate) fn status_of_state(s: &ContainerState) -> RuntimeStatus {
    use ContainerStateStatusEnum as S;
    match s.status {
        Some(S::RUNNING) if s.restarting == Some(true) => RuntimeStatus::Restarting,
        Some(S::RUNNING) => RuntimeStatus::Running,
        Some(S::RESTARTING) => RuntimeStatus::Restarting,
        Some(S::EXITED | S::DEAD) => RuntimeStatus::Stopped {
            exit_code: s.exit_code,
        },
        Some(S::REMOVING) => RuntimeStatus::Missing,
        Some(S::CREATED | S::PAUSED | S::EMPTY) | None => {
            RuntimeStatus::Stopped { exit_code: None }
        }
    }
}

fn status_of_err(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
