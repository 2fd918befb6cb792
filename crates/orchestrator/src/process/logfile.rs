//! Per-trader log files of the process backend: reading the last lines without
//! loading the whole file, size-capped rotation, and the runtime's own notes.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

/// Bytes read per step when scanning a file backwards.
const CHUNK: u64 = 16 * 1024;

/// The last `n` lines of `buf` (without line ends; invalid UTF-8 replaced).
pub(crate) fn last_lines(buf: &[u8], n: usize) -> Vec<String> {
    if n == 0 || buf.is_empty() {
        return Vec::new();
    }
    let body = buf.strip_suffix(b"\n").unwrap_or(buf);
    let mut lines: Vec<&[u8]> = body.rsplit(|&b| b == b'\n').take(n).collect();
    lines.reverse();
    lines
        .into_iter()
        .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\r").unwrap_or(l)).into_owned())
        .collect()
}

/// The last `n` lines of the file at `path`, reading backwards from its end.
pub(crate) fn tail_file(path: &Path, n: usize) -> io::Result<Vec<String>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut start = len;
    let mut buf: Vec<u8> = Vec::new();
    // Stop once the buffer holds more than `n` line ends (the extra one ends
    // the line before the first we need) or the whole file.
    while start > 0 && bytecount_newlines(&buf) <= n {
        let step = CHUNK.min(start);
        start -= step;
        f.seek(SeekFrom::Start(start))?;
        let mut chunk = vec![0; usize::try_from(step).unwrap_or(usize::MAX)];
        f.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
    }
    Ok(last_lines(&buf, n))
}

fn bytecount_newlines(buf: &[u8]) -> usize {
    buf.split(|&b| b == b'\n').count() - 1
}

/// The rotated sibling of a log file (`x.log` → `x.log.1`).
pub(crate) fn rotated(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".1");
    PathBuf::from(s)
}

/// When the file is larger than `max_bytes`, copies it to `<path>.1` (replacing
/// the previous one) and truncates it. Writers that opened it with `O_APPEND`
/// (the child's stdout/stderr) carry on at the new end. Returns whether it
/// rotated.
pub(crate) fn rotate_if_larger(path: &Path, max_bytes: u64) -> io::Result<bool> {
    match fs::metadata(path) {
        Ok(m) if m.len() > max_bytes => {
            fs::copy(path, rotated(path))?;
            OpenOptions::new().write(true).open(path)?.set_len(0)?;
            Ok(true)
        }
        Ok(_) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Opens (creating) a log file for appending.
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Appends one line written by the runtime itself (`[orchestrator] …`).
pub(crate) fn note(path: &Path, line: &str) -> io::Result<()> {
    let mut f = open_append(path)?;
    writeln!(f, "{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, n: usize, expect: &[&str]) {
        assert_eq!(last_lines(input.as_bytes(), n), expect, "{input:?} n={n}");
    }

    #[test]
    fn last_lines_table() {
        check("", 3, &[]);
        check("\n", 3, &[""]);
        check("a\nb\nc\n", 2, &["b", "c"]);
        check("a\nb\nc", 2, &["b", "c"]);
        check("a\r\nb\r\n", 5, &["a", "b"]);
        check("a\n\nb\n", 3, &["a", "", "b"]);
        check("a\nb\n", 0, &[]);
    }

    #[test]
    fn tail_file_reads_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.log");
        let mut f = open_append(&p).unwrap();
        // ~70 KB: several chunks.
        for i in 0..5000 {
            writeln!(f, "line {i:05} {}", "x".repeat(i % 7)).unwrap();
        }
        let got = tail_file(&p, 3).unwrap();
        assert_eq!(got, ["line 04997 xxxxxx", "line 04998 ", "line 04999 x"]);
        assert_eq!(tail_file(&p, 5000).unwrap().len(), 5000);
        assert_eq!(tail_file(&p, 9000).unwrap().len(), 5000);
        assert_eq!(tail_file(&p, 4000).unwrap()[0], "line 01000 xxxxxx");
    }

    #[test]
    fn rotation_keeps_the_old_content_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.log");
        note(&p, "first").unwrap();
        assert!(!rotate_if_larger(&p, 100).unwrap());
        note(&p, &"y".repeat(200)).unwrap();
        assert!(rotate_if_larger(&p, 100).unwrap());
        assert_eq!(fs::metadata(&p).unwrap().len(), 0);
        assert_eq!(tail_file(&rotated(&p), 1).unwrap(), ["y".repeat(200)]);
        assert!(!rotate_if_larger(&dir.path().join("missing.log"), 1).unwrap());
    }
}
