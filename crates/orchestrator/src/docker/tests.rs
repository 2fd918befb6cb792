//! Docker backend pieces that need no engine: config validation, names, the
//! create body (labels, limits, policy, environment), fingerprints and the
//! state mapping. The engine round trips are in `tests/it/docker.rs`.

use std::collections::BTreeMap;

use bollard::API_DEFAULT_VERSION;

use super::*;

/// A client that is never contacted.
fn runtime(cfg: DockerConfig) -> Result<DockerRuntime, OrchestratorError> {
    let docker = Docker::connect_with_http("http://127.0.0.1:9", 1, API_DEFAULT_VERSION).unwrap();
    DockerRuntime::with_client(docker, cfg)
}

fn spec(id: i64, hash: &str, env: &[(&str, &str)]) -> TraderSpec {
    TraderSpec::new(
        TraderId::new(id).unwrap(),
        hash,
        env.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
    .unwrap()
}

fn check_config(edit: impl FnOnce(&mut DockerConfig), expect: Result<(), &str>) {
    let mut cfg = DockerConfig::new("upbit-platform/trader:latest");
    edit(&mut cfg);
    let got = runtime(cfg).map(|_| ()).map_err(|e| match e {
        OrchestratorError::InvalidSpec(v) => v.field,
        other => panic!("unexpected {other}"),
    });
    assert_eq!(got, expect.map_err(str::to_owned));
}

#[test]
fn config_validation_names_the_field() {
    check_config(|_| {}, Ok(()));
    check_config(|c| c.image = " ".into(), Err("image"));
    check_config(|c| c.network = String::new(), Err("network"));
    check_config(|c| c.scope = "Upper".into(), Err("scope"));
    check_config(|c| c.scope = "x".repeat(33), Err("scope"));
    check_config(|c| c.scope = "it-123-4".into(), Ok(()));
    check_config(|c| c.memory_bytes = 1024, Err("memory_bytes"));
    check_config(|c| c.command = Some(Vec::new()), Err("command"));
}

#[test]
fn names_follow_the_scope() {
    let id = TraderId::new(12).unwrap();
    let rt = runtime(DockerConfig::new("img")).unwrap();
    assert_eq!(rt.container_name(id), "upbit-trader-12");
    let mut cfg = DockerConfig::new("img");
    cfg.scope = "it-7".into();
    assert_eq!(
        runtime(cfg).unwrap().container_name(id),
        "upbit-trader-it-7-12"
    );
}

#[test]
fn create_body_carries_labels_limits_policy_and_env() {
    let mut cfg = DockerConfig::new("upbit-platform/trader:1");
    cfg.network = "net-a".into();
    cfg.command = Some(vec!["/usr/local/bin/trader".into(), "--x".into()]);
    let rt = runtime(cfg).unwrap();
    let s = spec(5, "h1", &[("MASTER_KEY", "secret"), ("A", "1")]);
    let body = rt.create_body(&s);
    assert_eq!(body.image.as_deref(), Some("upbit-platform/trader:1"));
    assert_eq!(
        body.cmd,
        Some(vec!["/usr/local/bin/trader".to_owned(), "--x".to_owned()])
    );
    assert_eq!(
        body.env,
        Some(vec![
            "A=1".to_owned(),
            "MASTER_KEY=secret".to_owned(),
            "TRADER_ID=5".to_owned()
        ])
    );
    let labels = body.labels.unwrap();
    assert_eq!(labels[LABEL_MANAGED], "true");
    assert_eq!(labels[LABEL_TRADER_ID], "5");
    assert_eq!(labels[LABEL_CONFIG_HASH], "h1");
    assert_eq!(labels[LABEL_SCOPE], DEFAULT_SCOPE);
    assert_eq!(labels[LABEL_FINGERPRINT], Backend::fingerprint(&rt, &s));
    assert!(!labels.values().any(|v| v.contains("secret")));
    let host = body.host_config.unwrap();
    assert_eq!(host.memory, Some(DEFAULT_MEMORY_BYTES));
    assert_eq!(host.memory_swap, Some(DEFAULT_MEMORY_BYTES));
    assert_eq!(host.network_mode.as_deref(), Some("net-a"));
    assert_eq!(
        host.restart_policy.unwrap().name,
        Some(RestartPolicyNameEnum::UNLESS_STOPPED)
    );
    assert_eq!(body.stop_timeout, Some(10));
}

#[test]
fn fingerprint_tracks_what_the_container_runs() {
    let rt = runtime(DockerConfig::new("img:1")).unwrap();
    let base = Backend::fingerprint(&rt, &spec(1, "h", &[("A", "1")]));
    // Same input → same fingerprint.
    assert_eq!(
        base,
        Backend::fingerprint(&rt, &spec(1, "h", &[("A", "1")]))
    );
    // Config hash, environment and image each change it.
    assert_ne!(
        base,
        Backend::fingerprint(&rt, &spec(1, "h2", &[("A", "1")]))
    );
    assert_ne!(
        base,
        Backend::fingerprint(&rt, &spec(1, "h", &[("A", "2")]))
    );
    assert_ne!(
        base,
        Backend::fingerprint(&rt, &spec(2, "h", &[("A", "1")]))
    );
    let other_image = runtime(DockerConfig::new("img:2")).unwrap();
    assert_ne!(
        base,
        Backend::fingerprint(&other_image, &spec(1, "h", &[("A", "1")]))
    );
    // The stop timeout does not: it changes nothing inside the container.
    let mut cfg = DockerConfig::new("img:1");
    cfg.stop_timeout = Duration::from_secs(30);
    assert_eq!(
        base,
        Backend::fingerprint(&runtime(cfg).unwrap(), &spec(1, "h", &[("A", "1")]))
    );
}

fn check_state(
    status: ContainerStateStatusEnum,
    restarting: bool,
    code: i64,
    expect: RuntimeStatus,
) {
    let s = ContainerState {
        status: Some(status),
        restarting: Some(restarting),
        exit_code: Some(code),
        ..ContainerState::default()
    };
    assert_eq!(
        status_of_state(&s),
        expect,
        "{status:?} restarting={restarting}"
    );
}

#[test]
fn engine_states_map_to_ours() {
    use ContainerStateStatusEnum as S;
    check_state(S::RUNNING, false, 0, RuntimeStatus::Running);
    check_state(S::RUNNING, true, 0, RuntimeStatus::Restarting);
    check_state(S::RESTARTING, true, 1, RuntimeStatus::Restarting);
    check_state(
        S::CREATED,
        false,
        0,
        RuntimeStatus::Stopped { exit_code: None },
    );
    check_state(
        S::EXITED,
        false,
        143,
        RuntimeStatus::Stopped {
            exit_code: Some(143),
        },
    );
    check_state(
        S::DEAD,
        false,
        137,
        RuntimeStatus::Stopped {
            exit_code: Some(137),
        },
    );
    check_state(
        S::PAUSED,
        false,
        0,
        RuntimeStatus::Stopped { exit_code: None },
    );
    check_state(S::REMOVING, false, 0, RuntimeStatus::Missing);
    assert_eq!(
        status_of_state(&ContainerState::default()),
        RuntimeStatus::Stopped { exit_code: None }
    );
}

#[test]
fn engine_errors_carry_their_retry_class() {
    let e: OrchestratorError = bollard::errors::Error::DockerResponseServerError {
        status_code: 500,
        message: "boom".into(),
    }
    .into();
    assert!(e.is_retryable());
    let e: OrchestratorError = bollard::errors::Error::DockerResponseServerError {
        status_code: 400,
        message: "bad".into(),
    }
    .into();
    assert!(!e.is_retryable());
    let e: OrchestratorError = bollard::errors::Error::RequestTimeoutError.into();
    assert!(e.is_retryable());
    assert!(!OrchestratorError::ImageNotFound { image: "x".into() }.is_retryable());
}

#[tokio::test]
async fn an_unreachable_engine_is_a_retryable_error_of_the_call() {
    // Constructing succeeded (no I/O); the first call fails, retryably.
    let rt = runtime(DockerConfig::new("img")).unwrap();
    let err = rt.list().await.unwrap_err();
    assert!(matches!(err, OrchestratorError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
    // And again (a failed negotiation is not cached).
    assert!(
        rt.status(TraderId::new(1).unwrap())
            .await
            .unwrap_err()
            .is_retryable()
    );
}
