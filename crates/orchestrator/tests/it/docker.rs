//! The docker backend against a real Docker-API engine (podman here): the
//! lifecycle of one trader container, restart by the engine, forced stop, a
//! command override, a missing image, and reconcile repairing drift. Each test
//! has its own scope and network and removes them at the end.

use std::{collections::HashMap, time::Duration};

use bollard::{
    Docker,
    models::{ContainerCreateBody, HostConfig},
    query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder},
};
use futures_util::StreamExt;
use orchestrator::{
    DesiredTrader, DockerConfig, DockerRuntime, OrchestratorError, RemovalReason, RuntimeStatus,
    TraderRuntime,
    docker::{
        DEFAULT_MEMORY_BYTES, LABEL_CONFIG_HASH, LABEL_FINGERPRINT, LABEL_MANAGED, LABEL_SCOPE,
        LABEL_TRADER_ID,
    },
};

use crate::support::{
    LogCapture, cleanup, docker_or_skip, eventually, id, probe_image, scope, spec, sweep_stale,
};

const WAIT: Duration = Duration::from_secs(20);

/// One test's engine, scope, network and image.
struct Env {
    docker: Docker,
    scope: String,
    network: String,
    image: String,
}

impl Env {
    async fn new(test: &str) -> Option<Self> {
        let docker = docker_or_skip(test)?;
        sweep_stale(&docker).await;
        let image = probe_image(&docker).await;
        let scope = scope();
        Some(Self {
            network: format!("upbit-{scope}"),
            docker,
            scope,
            image,
        })
    }

    fn config(&self) -> DockerConfig {
        let mut cfg = DockerConfig::new(&self.image);
        cfg.network.clone_from(&self.network);
        cfg.scope.clone_from(&self.scope);
        cfg.stop_timeout = Duration::from_secs(5);
        cfg
    }

    fn runtime(&self, cfg: DockerConfig) -> DockerRuntime {
        DockerRuntime::with_client(self.docker.clone(), cfg).unwrap()
    }

    async fn inspect(&self, name: &str) -> Option<bollard::models::ContainerInspectResponse> {
        self.docker
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .ok()
    }

    /// Runs `sh -c script` in a running container and returns its stdout.
    async fn exec(&self, name: &str, script: &str) -> String {
        let exec = self
            .docker
            .create_exec(
                name,
                bollard::models::ExecConfig {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
                    ..bollard::models::ExecConfig::default()
                },
            )
            .await
            .unwrap();
        let mut out = String::new();
        if let bollard::exec::StartExecResults::Attached { mut output, .. } =
            self.docker.start_exec(&exec.id, None).await.unwrap()
        {
            while let Some(chunk) = output.next().await {
                out.push_str(&chunk.unwrap().to_string());
            }
        }
        out
    }

    async fn cleanup(&self) {
        cleanup(&self.docker, &self.scope, &self.network).await;
    }
}

fn label(c: &bollard::models::ContainerInspectResponse, key: &str) -> Option<String> {
    c.config.as_ref()?.labels.as_ref()?.get(key).cloned()
}

async fn wait_status(rt: &DockerRuntime, n: i64, want: RuntimeStatus) {
    eventually(&format!("trader {n} {want:?}"), WAIT, || async {
        (rt.status(id(n)).await.ok()? == want).then_some(())
    })
    .await;
}

async fn wait_log(rt: &DockerRuntime, n: i64, needle: &str) -> Vec<String> {
    eventually(&format!("log line {needle:?}"), WAIT, || async {
        let lines = rt.logs(id(n), 200).await.ok()?;
        lines.iter().any(|l| l.contains(needle)).then_some(lines)
    })
    .await
}

#[tokio::test]
async fn lifecycle_create_start_recreate_stop_remove() {
    let Some(env) = Env::new("docker::lifecycle").await else {
        return;
    };
    let logs = LogCapture::global();
    let rt = env.runtime(env.config());
    let name = rt.container_name(id(1));

    // FIX-4: a new runtime has created nothing, not even its network.
    assert!(rt.list().await.unwrap().is_empty());
    assert!(
        env.docker
            .inspect_network(
                &env.network,
                None::<bollard::query_parameters::InspectNetworkOptions>
            )
            .await
            .is_err()
    );

    // FIX-5: create makes the container without starting it.
    let s1 = spec(
        1,
        "h1",
        &[("PROBE_ECHO", "hello"), ("MASTER_KEY", "s3cr3t-value")],
    );
    rt.create(&s1).await.unwrap();
    assert_eq!(
        rt.status(id(1)).await.unwrap(),
        RuntimeStatus::Stopped { exit_code: None }
    );

    rt.start(&s1).await.unwrap();
    wait_status(&rt, 1, RuntimeStatus::Running).await;
    let c1 = env.inspect(&name).await.unwrap();
    let id1 = c1.id.clone().unwrap();
    assert_eq!(label(&c1, LABEL_MANAGED).as_deref(), Some("true"));
    assert_eq!(label(&c1, LABEL_TRADER_ID).as_deref(), Some("1"));
    assert_eq!(label(&c1, LABEL_CONFIG_HASH).as_deref(), Some("h1"));
    assert_eq!(label(&c1, LABEL_SCOPE), Some(env.scope.clone()));
    assert!(label(&c1, LABEL_FINGERPRINT).is_some_and(|f| f.len() == 64));
    let host = c1.host_config.clone().unwrap();
    assert_eq!(host.memory, Some(DEFAULT_MEMORY_BYTES));
    assert_eq!(
        host.restart_policy
            .and_then(|p| p.name)
            .map(|n| n.to_string())
            .as_deref(),
        Some("unless-stopped")
    );
    let nets = c1
        .network_settings
        .clone()
        .and_then(|n| n.networks)
        .unwrap_or_default();
    assert!(
        nets.contains_key(&env.network),
        "networks: {:?}",
        nets.keys()
    );
    let container_env = c1.config.clone().and_then(|c| c.env).unwrap_or_default();
    assert!(
        container_env.contains(&"TRADER_ID=1".to_owned()),
        "{container_env:?}"
    );
    // The memory limit is enforced by the kernel (cgroup v2 or v1), not just recorded.
    let limit = env
        .exec(
            &name,
            "cat /sys/fs/cgroup/memory.max 2>/dev/null \
             || cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
        )
        .await;
    assert_eq!(limit.trim(), DEFAULT_MEMORY_BYTES.to_string());
    // The trader runs as the image's non-root user.
    assert_eq!(env.exec(&name, "id -u").await.trim(), "10001");

    let lines = wait_log(&rt, 1, "probe echo hello").await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("probe started trader_id=1")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("probe stderr line")),
        "stderr too: {lines:?}"
    );
    let tail = rt.logs(id(1), 2).await.unwrap();
    assert_eq!(tail.len(), 2, "{tail:?}");

    // Idempotent start: same container.
    rt.start(&s1).await.unwrap();
    assert_eq!(env.inspect(&name).await.unwrap().id, Some(id1.clone()));
    let entries = rt.list().await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].instance_id, id1);

    // FIX-12: recreate → a new container with the new label, running.
    rt.recreate(&spec(1, "h2", &[])).await.unwrap();
    wait_status(&rt, 1, RuntimeStatus::Running).await;
    let c2 = env.inspect(&name).await.unwrap();
    assert_ne!(c2.id, Some(id1.clone()));
    assert_eq!(label(&c2, LABEL_CONFIG_HASH).as_deref(), Some("h2"));
    assert!(env.inspect(&id1).await.is_none(), "old container removed");

    // start with another config recreates as well.
    rt.start(&spec(1, "h3", &[])).await.unwrap();
    let c3 = env.inspect(&name).await.unwrap();
    assert_ne!(c3.id, c2.id);
    assert_eq!(label(&c3, LABEL_CONFIG_HASH).as_deref(), Some("h3"));
    assert_eq!(rt.list().await.unwrap().len(), 1, "never two containers");

    // Graceful stop: SIGTERM, the probe exits 0, the engine does not restart it.
    wait_log(&rt, 1, "probe started").await;
    rt.stop(id(1)).await.unwrap();
    assert_eq!(
        rt.status(id(1)).await.unwrap(),
        RuntimeStatus::Stopped { exit_code: Some(0) }
    );
    wait_log(&rt, 1, "probe stopping on SIGTERM").await;
    rt.stop(id(1)).await.unwrap(); // idempotent
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rt.status(id(1)).await.unwrap(),
        RuntimeStatus::Stopped { exit_code: Some(0) },
        "a stopped container stays stopped"
    );

    rt.remove(id(1)).await.unwrap();
    assert_eq!(rt.status(id(1)).await.unwrap(), RuntimeStatus::Missing);
    assert!(env.inspect(&name).await.is_none());
    assert!(matches!(
        rt.logs(id(1), 5).await,
        Err(OrchestratorError::NotFound(_))
    ));
    rt.remove(id(1)).await.unwrap(); // idempotent

    let text = logs.text();
    assert!(!text.contains("s3cr3t-value"), "secret in our logs: {text}");
    assert!(
        text.lines().any(|l| l.contains("created trader container")
            && l.contains(&name)
            && l.contains("MASTER_KEY")),
        "variable names are logged: {text}"
    );
    env.cleanup().await;
}

#[tokio::test]
async fn engine_restarts_a_crashed_trader() {
    let Some(env) = Env::new("docker::restart").await else {
        return;
    };
    let rt = env.runtime(env.config());
    rt.start(&spec(
        2,
        "h",
        &[("PROBE_EXIT_AFTER_MS", "300"), ("PROBE_EXIT_CODE", "3")],
    ))
    .await
    .unwrap();
    let name = rt.container_name(id(2));
    let restarts = eventually("a restart by the engine", WAIT, || async {
        let c = env.inspect(&name).await?;
        c.restart_count.filter(|&n| n >= 1)
    })
    .await;
    assert!(restarts >= 1);
    let lines = wait_log(&rt, 2, "probe crashing with code 3").await;
    assert!(
        lines.iter().filter(|l| l.contains("probe started")).count() >= 2,
        "{lines:?}"
    );
    rt.stop(id(2)).await.unwrap();
    let st = rt.status(id(2)).await.unwrap();
    assert!(matches!(st, RuntimeStatus::Stopped { .. }), "{st:?}");
    env.cleanup().await;
}

#[tokio::test]
async fn stop_escalates_to_kill_and_command_can_be_overridden() {
    let Some(env) = Env::new("docker::kill").await else {
        return;
    };
    let mut cfg = env.config();
    cfg.stop_timeout = Duration::from_secs(1);
    cfg.command = Some(vec![
        "/usr/local/bin/orchestrator-probe".to_owned(),
        "--tag".to_owned(),
        "custom-cmd".to_owned(),
    ]);
    let rt = env.runtime(cfg);
    rt.start(&spec(3, "h", &[("PROBE_IGNORE_SIGTERM", "1")]))
        .await
        .unwrap();
    wait_log(&rt, 3, r#"args=["--tag", "custom-cmd"]"#).await;
    rt.stop(id(3)).await.unwrap();
    assert_eq!(
        rt.status(id(3)).await.unwrap(),
        RuntimeStatus::Stopped {
            exit_code: Some(137)
        }
    );
    wait_log(&rt, 3, "probe ignoring SIGTERM").await;
    env.cleanup().await;
}

#[tokio::test]
async fn a_missing_image_is_reported_as_such() {
    let Some(env) = Env::new("docker::missing_image").await else {
        return;
    };
    let mut cfg = env.config();
    cfg.image = "localhost/upbit-no-such-image:never".to_owned();
    let rt = env.runtime(cfg);
    let err = rt.start(&spec(4, "h", &[])).await.unwrap_err();
    assert!(
        matches!(err, OrchestratorError::ImageNotFound { .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(rt.status(id(4)).await.unwrap(), RuntimeStatus::Missing);
    env.cleanup().await;
}

/// A labelled container made behind the runtime's back.
async fn foreign_container(env: &Env, name: &str, trader: &str, scope: &str) -> String {
    let labels = HashMap::from([
        (LABEL_MANAGED.to_owned(), "true".to_owned()),
        (LABEL_SCOPE.to_owned(), scope.to_owned()),
        (LABEL_TRADER_ID.to_owned(), trader.to_owned()),
        (LABEL_CONFIG_HASH.to_owned(), "x".to_owned()),
    ]);
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        labels: Some(labels),
        host_config: Some(HostConfig {
            network_mode: Some(env.network.clone()),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let opts = CreateContainerOptionsBuilder::new().name(name).build();
    let id = env
        .docker
        .create_container(Some(opts), body)
        .await
        .unwrap()
        .id;
    env.docker
        .start_container(
            &id,
            None::<bollard::query_parameters::StartContainerOptions>,
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn reconcile_repairs_drift() {
    let Some(env) = Env::new("docker::reconcile").await else {
        return;
    };
    let rt = env.runtime(env.config());
    // 11: running, then deleted behind the runtime's back → recreated.
    // 12: running an old config → recreated with the new one.
    // 13: running but should be stopped → stopped.
    // 14: exists in no desired set → removed (orphan).
    // 15: should exist stopped, missing → created.
    // plus a second container claiming trader 12 → removed (duplicate),
    // an unreadable trader label → removed, and another scope's container →
    // untouched.
    rt.start(&spec(11, "a", &[])).await.unwrap();
    rt.start(&spec(12, "old", &[])).await.unwrap();
    rt.start(&spec(13, "a", &[])).await.unwrap();
    rt.start(&spec(14, "a", &[])).await.unwrap();
    let rm = RemoveContainerOptionsBuilder::new().force(true).build();
    env.docker
        .remove_container(&rt.container_name(id(11)), Some(rm))
        .await
        .unwrap();
    let dup_name = format!("{}-dup", rt.container_name(id(12)));
    foreign_container(&env, &dup_name, "12", &env.scope).await;
    let bad_name = format!("upbit-trader-{}-bad", env.scope);
    foreign_container(&env, &bad_name, "not-a-number", &env.scope).await;
    let other_scope = format!("{}-other", env.scope);
    let other_name = format!("upbit-trader-{other_scope}-11");
    foreign_container(&env, &other_name, "11", &other_scope).await;
    let old12 = env.inspect(&rt.container_name(id(12))).await.unwrap().id;

    let desired = [
        DesiredTrader {
            spec: spec(11, "a", &[]),
            run: true,
        },
        DesiredTrader {
            spec: spec(12, "new", &[]),
            run: true,
        },
        DesiredTrader {
            spec: spec(13, "a", &[]),
            run: false,
        },
        DesiredTrader {
            spec: spec(15, "a", &[]),
            run: false,
        },
    ];
    let report = rt.reconcile(&desired).await.unwrap();
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(report.started, vec![id(11)], "{report:?}");
    assert_eq!(report.recreated, vec![id(12)], "{report:?}");
    assert_eq!(report.stopped, vec![id(13)], "{report:?}");
    assert_eq!(report.created, vec![id(15)], "{report:?}");
    let mut removed: Vec<_> = report
        .removed
        .iter()
        .map(|r| (r.name.clone(), r.reason))
        .collect();
    removed.sort();
    let mut want = vec![
        (dup_name.clone(), RemovalReason::Duplicate),
        (bad_name.clone(), RemovalReason::Orphan),
        (rt.container_name(id(14)), RemovalReason::Orphan),
    ];
    want.sort();
    assert_eq!(removed, want);

    assert!(env.inspect(&dup_name).await.is_none());
    assert!(env.inspect(&bad_name).await.is_none());
    assert!(env.inspect(&rt.container_name(id(14))).await.is_none());
    assert!(
        env.inspect(&other_name).await.is_some(),
        "other scope untouched"
    );
    let new12 = env.inspect(&rt.container_name(id(12))).await.unwrap();
    assert_ne!(new12.id, old12);
    assert_eq!(label(&new12, LABEL_CONFIG_HASH).as_deref(), Some("new"));

    let mut got: Vec<_> = rt
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.trader_id.get(), e.status.is_up(), e.config_hash))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (11, true, "a".to_owned()),
            (12, true, "new".to_owned()),
            (13, false, "a".to_owned()),
            (15, false, "a".to_owned()),
        ]
    );

    // A second pass finds nothing to do.
    let again = rt.reconcile(&desired).await.unwrap();
    assert_eq!(again.unchanged.len(), 4, "{again:?}");
    assert!(again.removed.is_empty() && again.started.is_empty() && again.recreated.is_empty());

    cleanup(&env.docker, &other_scope, "-").await;
    env.cleanup().await;
}
