//! Shared test helpers: the probe binary, polling, log capture, and for the
//! docker tests the engine connection, the cached probe image and per-test
//! scopes with cleanup.

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    io::Write,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use bollard::{
    Docker,
    query_parameters::{
        BuildImageOptionsBuilder, ListContainersOptionsBuilder, ListImagesOptionsBuilder,
        ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder,
    },
};
use domain::TraderId;
use futures_util::StreamExt;
use orchestrator::{
    TraderSpec,
    docker::{LABEL_MANAGED, LABEL_SCOPE},
};
use sha2::{Digest, Sha256};

/// The stand-in trader built with this crate.
pub(crate) fn probe_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orchestrator-probe"))
}

pub(crate) fn id(n: i64) -> TraderId {
    TraderId::new(n).unwrap()
}

pub(crate) fn spec(n: i64, hash: &str, env: &[(&str, &str)]) -> TraderSpec {
    TraderSpec::new(
        id(n),
        hash,
        env.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
    .unwrap()
}

/// Polls `f` every 50 ms until it returns `Some`, or panics after `timeout`.
pub(crate) async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// True when `pid` exists and is not a zombie.
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X")
    })
}

/// A `tracing` writer into a shared buffer, to assert what was (not) logged.
/// One process-wide subscriber (per-thread ones miss events when tests run in
/// parallel, because callsite interest is cached globally); tests look for
/// lines naming their own traders or containers.
#[derive(Clone, Default)]
pub(crate) struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// The process-wide capture, installed on first use.
    pub(crate) fn global() -> &'static Self {
        static CAP: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
        CAP.get_or_init(|| {
            let cap = Self::default();
            let writer = cap.clone();
            let sub = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(sub).expect("no other global subscriber");
            cap
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------- docker ----

/// The engine from `DOCKER_HOST`. Without it the docker tests fail under
/// `CI=true` and are skipped (loudly) elsewhere.
pub(crate) fn docker_or_skip(test: &str) -> Option<Docker> {
    let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    if host.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "{test}: DOCKER_HOST is not set but CI=true — the docker tests must run \
             (`source scripts/ensure-deps` starts podman's Docker API and exports it)"
        );
        eprintln!(
            "SKIPPED {test}: DOCKER_HOST is not set (`source scripts/ensure-deps` to run it)"
        );
        return None;
    }
    Some(Docker::connect_with_defaults().expect("DOCKER_HOST is not a usable address"))
}

/// A fresh scope per test (`it-<pid>-<n>`), so parallel tests, parallel runs
/// and the real deployment never see each other's containers.
pub(crate) fn scope() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "it-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

const PROBE_REPO: &str = "localhost/upbit-orchestrator-probe";

/// The base image the test image is built `FROM` (no image can be pulled here).
fn base_image() -> String {
    std::env::var("TEST_RUNTIME_IMAGE").unwrap_or_else(|_| "localhost/bookworm-min".to_owned())
}

/// Builds (once per content) the trader test image from the repository's
/// `Dockerfile.runtime` with the probe binary, through the engine's build API,
/// and returns its tag. The tag is a hash of the Dockerfile, the binary and the
/// base image name, so unchanged inputs reuse the cached image. One build at a
/// time: in this process (a once-cell) and across test processes (an `flock`).
pub(crate) async fn probe_image(docker: &Docker) -> String {
    static TAG: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TAG.get_or_init(|| async {
        let lock_path = std::env::temp_dir().join("upbit-orchestrator-probe-image.lock");
        let file = std::fs::File::create(&lock_path).expect("create build lock file");
        let lock = tokio::task::spawn_blocking(move || {
            nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
                .map_err(|(_, e)| e)
                .expect("lock the image build")
        })
        .await
        .unwrap();
        let tag = build_probe_image(docker).await;
        drop(lock);
        tag
    })
    .await
    .clone()
}

async fn build_probe_image(docker: &Docker) -> String {
    let dockerfile_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Dockerfile.runtime");
    let dockerfile = std::fs::read(&dockerfile_path).expect("read Dockerfile.runtime");
    let binary = std::fs::read(probe_bin()).expect("read probe binary");
    let base = base_image();
    let mut h = Sha256::new();
    h.update(&dockerfile);
    h.update(&binary);
    h.update(base.as_bytes());
    let tag = format!("{PROBE_REPO}:{}", &hex::encode(h.finalize())[..16]);
    if docker.inspect_image(&tag).await.is_ok() {
        return tag;
    }
    docker.inspect_image(&base).await.unwrap_or_else(|e| {
        panic!("base image {base} is missing ({e}); `source scripts/ensure-deps` creates it")
    });

    let mut ar = tar::Builder::new(Vec::new());
    for (name, data, mode) in [
        ("Dockerfile", &dockerfile, 0o644),
        ("orchestrator-probe", &binary, 0o755),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        ar.append_data(&mut header, name, data.as_slice()).unwrap();
    }
    let context = ar.into_inner().unwrap();
    let args = HashMap::from([
        ("RUNTIME_IMAGE", base.as_str()),
        ("BIN", "orchestrator-probe"),
    ]);
    let opts = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(&tag)
        .buildargs(&args)
        .rm(true)
        .build();
    let mut out = docker.build_image(opts, None, Some(bollard::body_full(context.into())));
    let mut log = String::new();
    while let Some(item) = out.next().await {
        let info = item.unwrap_or_else(|e| panic!("image build failed: {e}\n{log}"));
        if let Some(err) = info.error {
            panic!("image build failed: {err}\n{log}");
        }
        if let Some(s) = info.stream {
            log.push_str(&s);
        }
    }
    docker
        .inspect_image(&tag)
        .await
        .unwrap_or_else(|e| panic!("built image {tag} not found: {e}\n{log}"));
    prune_old_probe_images(docker, &tag).await;
    tag
}

/// Best effort: drop older probe images (in-use ones refuse, which is fine).
async fn prune_old_probe_images(docker: &Docker, keep: &str) {
    let filters = HashMap::from([("reference", vec![PROBE_REPO])]);
    let opts = ListImagesOptionsBuilder::new().filters(&filters).build();
    let Ok(images) = docker.list_images(Some(opts)).await else {
        return;
    };
    for img in images {
        if !img.repo_tags.iter().any(|t| t == keep) {
            for t in &img.repo_tags {
                drop(
                    docker
                        .remove_image(
                            t,
                            None::<bollard::query_parameters::RemoveImageOptions>,
                            None,
                        )
                        .await,
                );
            }
        }
    }
}

/// Removes every container of `scope` and the network `network`.
pub(crate) async fn cleanup(docker: &Docker, scope: &str, network: &str) {
    let filters = HashMap::from([(
        "label",
        vec![
            format!("{LABEL_MANAGED}=true"),
            format!("{LABEL_SCOPE}={scope}"),
        ],
    )]);
    let opts = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    for c in docker.list_containers(Some(opts)).await.unwrap_or_default() {
        if let Some(id) = c.id {
            let rm = RemoveContainerOptionsBuilder::new().force(true).build();
            drop(docker.remove_container(&id, Some(rm)).await);
        }
    }
    drop(docker.remove_network(network).await);
}

/// Removes what earlier test processes (now dead) left behind: containers of
/// `it-<pid>-*` scopes and `upbit-it-<pid>-*` networks.
pub(crate) async fn sweep_stale(docker: &Docker) {
    let dead = |s: &str| {
        s.split('-')
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|pid| pid != std::process::id() && !alive(pid))
    };
    let filters = HashMap::from([("label", vec![format!("{LABEL_MANAGED}=true")])]);
    let opts = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    for c in docker.list_containers(Some(opts)).await.unwrap_or_default() {
        let scope = c.labels.as_ref().and_then(|l| l.get(LABEL_SCOPE)).cloned();
        if let (Some(id), Some(scope)) = (c.id, scope)
            && scope.starts_with("it-")
            && dead(&scope)
        {
            let rm = RemoveContainerOptionsBuilder::new().force(true).build();
            drop(docker.remove_container(&id, Some(rm)).await);
        }
    }
    let nets = docker
        .list_networks(Some(ListNetworksOptionsBuilder::new().build()))
        .await
        .unwrap_or_default();
    for n in nets {
        if let Some(name) = n.name
            && let Some(rest) = name.strip_prefix("upbit-")
            && rest.starts_with("it-")
            && dead(rest)
        {
            drop(docker.remove_network(&name).await);
        }
    }
}
