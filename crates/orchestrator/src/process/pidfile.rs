//! Pid files of the process backend, and the tools to find and end trader
//! processes left behind by a runtime that died without cleaning up (a
//! SIGKILLed dashboard-api): one file per child, `trader-<id>.<pid>.pid`,
//! written at spawn and removed when the child is reaped.
//!
//! A leftover process is only signalled when `/proc` confirms it is still a
//! trader process of ours: its environment holds `TRADER_ID=<id>` and its
//! executable has the configured binary's file name. Pids ≤ 1 are never
//! signalled.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use domain::TraderId;
use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};

/// One pid file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PidRecord {
    /// The file it was read from.
    pub(crate) path: PathBuf,
    /// The trader.
    pub(crate) trader_id: TraderId,
    /// The process id.
    pub(crate) pid: i32,
    /// The config hash it was started with.
    pub(crate) config_hash: String,
    /// The fingerprint it was started with.
    pub(crate) fingerprint: String,
}

/// The pid file path of one child.
pub(crate) fn path_for(dir: &Path, id: TraderId, pid: i32) -> PathBuf {
    dir.join(format!("trader-{id}.{pid}.pid"))
}

/// Writes a child's pid file.
pub(crate) fn write(
    dir: &Path,
    id: TraderId,
    pid: i32,
    config_hash: &str,
    fingerprint: &str,
) -> io::Result<PathBuf> {
    let path = path_for(dir, id, pid);
    let mut f = fs::File::create(&path)?;
    write!(
        f,
        "pid={pid}\ntrader_id={id}\nconfig_hash={config_hash}\nfingerprint={fingerprint}\n"
    )?;
    Ok(path)
}

/// Removes a pid file; a missing one is fine.
pub(crate) fn remove(path: &Path) {
    if let Err(e) = fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "failed to remove pid file");
    }
}

/// Parses a pid file's text; `None` when malformed.
pub(crate) fn parse(path: &Path, text: &str) -> Option<PidRecord> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(str::trim)
    };
    let pid: i32 = field("pid")?.parse().ok()?;
    if pid <= 1 {
        return None;
    }
    Some(PidRecord {
        path: path.to_owned(),
        trader_id: field("trader_id")?.parse().ok()?,
        pid,
        config_hash: field("config_hash").unwrap_or_default().to_owned(),
        fingerprint: field("fingerprint").unwrap_or_default().to_owned(),
    })
}

/// Every readable pid file in `dir`; malformed ones are deleted.
pub(crate) fn scan(dir: &Path) -> io::Result<Vec<PidRecord>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_pid_file = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("trader-"))
            && path.extension().is_some_and(|e| e == "pid");
        if !is_pid_file {
            continue;
        }
        match fs::read_to_string(&path)
            .ok()
            .and_then(|t| parse(&path, &t))
        {
            Some(r) => out.push(r),
            None => remove(&path),
        }
    }
    out.sort_by_key(|r| (r.trader_id, r.pid));
    Ok(out)
}

/// True when `pid` exists and is not a zombie.
pub(crate) fn is_alive(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S …": the state follows the last ')'.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state != "Z" && state != "X")
}

/// True when `pid` is alive and runs `binary` as trader `id`.
pub(crate) fn is_trader_process(pid: i32, id: TraderId, binary: &Path) -> bool {
    if !is_alive(pid) {
        return false;
    }
    let Ok(environ) = fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let marker = format!("{}={id}", runtime::env::TRADER_ID);
    if !environ.split(|&b| b == 0).any(|v| v == marker.as_bytes()) {
        return false;
    }
    let Ok(exe) = fs::read_link(format!("/proc/{pid}/exe")) else {
        return false;
    };
    // A replaced binary shows as "<path> (deleted)"; compare file names.
    let exe_name = exe.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    binary
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|want| exe_name == want || exe_name.strip_suffix(" (deleted)") == Some(want))
}

/// Sends `signal` to `pid` (> 1 only); a vanished process is not an error.
pub(crate) fn signal(pid: i32, signal: Signal) {
    if pid <= 1 {
        return;
    }
    match kill(Pid::from_raw(pid), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => tracing::warn!(pid, ?signal, error = %e, "failed to signal process"),
    }
}

/// Ends a process that is not our child: SIGTERM, wait up to `grace`, SIGKILL.
pub(crate) async fn terminate_foreign(pid: i32, grace: Duration) {
    signal(pid, Signal::SIGTERM);
    let deadline = tokio::time::Instant::now() + grace;
    while is_alive(pid) {
        if tokio::time::Instant::now() >= deadline {
            signal(pid, Signal::SIGKILL);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed_by = tokio::time::Instant::now() + Duration::from_secs(2);
    while is_alive(pid) && tokio::time::Instant::now() < killed_by {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: Option<(i64, i32, &str)>) {
        let got = parse(Path::new("/x"), text).map(|r| (r.trader_id.get(), r.pid, r.config_hash));
        assert_eq!(
            got,
            expect.map(|(t, p, h)| (t, p, h.to_owned())),
            "{text:?}"
        );
    }

    #[test]
    fn parse_table() {
        check(
            "pid=123\ntrader_id=4\nconfig_hash=h\nfingerprint=f\n",
            Some((4, 123, "h")),
        );
        check("pid=123\ntrader_id=4\n", Some((4, 123, "")));
        check("pid=1\ntrader_id=4\n", None); // never init
        check("pid=-5\ntrader_id=4\n", None); // never a process group
        check("pid=abc\ntrader_id=4\n", None);
        check("pid=10\ntrader_id=0\n", None);
        check("garbage", None);
    }

    #[test]
    fn scan_reads_and_cleans() {
        let dir = tempfile::tempdir().unwrap();
        let id = TraderId::new(3).unwrap();
        let p = write(dir.path(), id, 4242, "h", "f").unwrap();
        fs::write(dir.path().join("trader-9.1.pid"), "nonsense").unwrap();
        fs::write(dir.path().join("other.txt"), "pid=5").unwrap();
        let got = scan(dir.path()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, p);
        assert_eq!(got[0].fingerprint, "f");
        assert!(!dir.path().join("trader-9.1.pid").exists());
        assert!(dir.path().join("other.txt").exists());
        assert!(scan(&dir.path().join("missing")).unwrap().is_empty());
    }

    #[test]
    fn liveness_of_self_and_of_nothing() {
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(is_alive(me));
        assert!(!is_alive(i32::MAX));
        // This test binary has no TRADER_ID=77.
        assert!(!is_trader_process(
            me,
            TraderId::new(77).unwrap(),
            Path::new("/bin/true")
        ));
    }
}
