//! Process backend pieces that need no child: config validation, that a new
//! runtime starts nothing and touches no file (FIX-4), and fingerprints.

use std::collections::BTreeMap;

use super::*;

fn check_config(edit: impl FnOnce(&mut ProcessConfig), expect: Result<(), &str>) {
    let mut cfg = ProcessConfig::new("/usr/local/bin/trader", "/tmp/x");
    edit(&mut cfg);
    let got = ProcessRuntime::new(cfg, runtime::SystemClock::shared())
        .map(|_| ())
        .map_err(|e| match e {
            OrchestratorError::InvalidSpec(v) => v.field,
            other => panic!("unexpected {other}"),
        });
    assert_eq!(got, expect.map_err(str::to_owned));
}

#[test]
fn config_validation_names_the_field() {
    check_config(|_| {}, Ok(()));
    check_config(|c| c.binary = PathBuf::new(), Err("binary"));
    check_config(|c| c.binary = PathBuf::from("/"), Err("binary"));
    check_config(|c| c.data_dir = PathBuf::new(), Err("data_dir"));
    check_config(
        |c| c.backoff_initial = Duration::ZERO,
        Err("backoff_initial"),
    );
    check_config(
        |c| c.backoff_max = Duration::from_millis(1),
        Err("backoff_initial"),
    );
    check_config(|c| c.log_max_bytes = 0, Err("log_max_bytes"));
}

#[tokio::test]
async fn a_new_runtime_starts_nothing_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = ProcessRuntime::new(
        ProcessConfig::new("/bin/sleep", &data),
        runtime::SystemClock::shared(),
    )
    .unwrap();
    assert!(rt.list().await.unwrap().is_empty());
    let id = TraderId::new(1).unwrap();
    assert_eq!(rt.status(id).await.unwrap(), RuntimeStatus::Missing);
    assert!(matches!(
        rt.logs(id, 10).await,
        Err(OrchestratorError::NotFound(got)) if got == id
    ));
    // Idempotent no-ops on a trader that never existed.
    rt.stop(id).await.unwrap();
    rt.remove(id).await.unwrap();
    assert!(!data.exists(), "FIX-4: nothing created until a trader is");
}

#[test]
fn fingerprint_tracks_binary_args_and_env() {
    let rt = |bin: &str, args: &[&str]| {
        let mut cfg = ProcessConfig::new(bin, "/tmp/x");
        cfg.args = args.iter().map(|s| (*s).to_owned()).collect();
        ProcessRuntime::new(cfg, runtime::SystemClock::shared()).unwrap()
    };
    let spec = |hash: &str, v: &str| {
        TraderSpec::new(
            TraderId::new(1).unwrap(),
            hash,
            BTreeMap::from([("A".to_owned(), v.to_owned())]),
        )
        .unwrap()
    };
    let a = rt("/bin/t", &[]);
    let base = Backend::fingerprint(&a, &spec("h", "1"));
    assert_eq!(base, Backend::fingerprint(&a, &spec("h", "1")));
    assert_ne!(base, Backend::fingerprint(&a, &spec("h2", "1")));
    assert_ne!(base, Backend::fingerprint(&a, &spec("h", "2")));
    assert_ne!(
        base,
        Backend::fingerprint(&rt("/bin/u", &[]), &spec("h", "1"))
    );
    assert_ne!(
        base,
        Backend::fingerprint(&rt("/bin/t", &["-v"]), &spec("h", "1"))
    );
}
