//! Unit tests of the master key and AES-256-GCM sealing.

use super::*;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "storage-secrets-{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn seal_and_open_round_trip_with_fresh_nonces() {
    let key = MasterKey::generate();
    let a = key.seal(b"upbit-secret", b"ACCESS").unwrap();
    let b = key.seal(b"upbit-secret", b"ACCESS").unwrap();
    assert_ne!(a.nonce, b.nonce, "every encryption draws a new nonce");
    assert_ne!(a.ciphertext, b.ciphertext);
    assert!(!a.ciphertext.windows(6).any(|w| w == b"secret"));
    assert_eq!(key.open(&a, b"ACCESS").unwrap().expose(), "upbit-secret");
}

#[test]
fn wrong_key_tamper_or_other_row_is_a_clear_error() {
    let key = MasterKey::generate();
    let sealed = key.seal(b"s3cr3t", b"KEY-A").unwrap();
    let other = MasterKey::generate();
    assert!(matches!(
        other.open(&sealed, b"KEY-A"),
        Err(SecretError::Decrypt)
    ));
    assert!(matches!(
        key.open(&sealed, b"KEY-B"),
        Err(SecretError::Decrypt)
    ));
    let mut tampered = sealed.clone();
    tampered.ciphertext[0] ^= 1;
    assert!(matches!(
        key.open(&tampered, b"KEY-A"),
        Err(SecretError::Decrypt)
    ));
    let msg = SecretError::Decrypt.to_string();
    assert!(msg.contains("wrong master key"), "{msg}");
}

#[test]
fn debug_never_shows_key_or_plaintext() {
    let key = MasterKey::from_bytes([7; 32]);
    assert_eq!(format!("{key:?}"), "MasterKey(***)");
    let sealed = key.seal(b"plain", b"").unwrap();
    let dbg = format!("{sealed:?}");
    assert!(dbg.starts_with("Sealed("), "{dbg}");
    let opened = key.open(&sealed, b"").unwrap();
    assert_eq!(format!("{opened:?}"), "Secret(***)");
}

#[test]
fn key_sources() {
    let key = MasterKey::from_bytes([1; 32]);
    let b64 = key.to_base64();
    let from_env = MasterKey::from_env_or_file(Some(b64.expose()), None).unwrap();
    let sealed = key.seal(b"x", b"").unwrap();
    assert_eq!(from_env.open(&sealed, b"").unwrap().expose(), "x");

    assert!(matches!(
        MasterKey::from_env_or_file(None, None),
        Err(SecretError::MissingKey)
    ));
    assert!(matches!(
        MasterKey::from_env_or_file(Some("  "), None),
        Err(SecretError::MissingKey)
    ));
    let err = MasterKey::from_env_or_file(Some("c2hvcnQ="), None).unwrap_err();
    assert!(err.to_string().contains("MASTER_KEY"), "{err}");
    assert!(err.to_string().contains("32 bytes"), "{err}");
    assert!(
        !err.to_string().contains("c2hvcnQ"),
        "the value is never echoed: {err}"
    );

    let dir = temp_dir("file");
    let file = dir.join("key.b64");
    std::fs::write(&file, format!("{}\n", b64.expose())).unwrap();
    let from_file = MasterKey::from_env_or_file(None, Some(&file)).unwrap();
    assert_eq!(from_file.open(&sealed, b"").unwrap().expose(), "x");
    let missing = MasterKey::from_env_or_file(None, Some(&dir.join("nope"))).unwrap_err();
    assert!(matches!(missing, SecretError::Io { .. }), "{missing}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn load_or_create_makes_a_private_file_once() {
    let dir = temp_dir("create").join("nested");
    let first = MasterKey::load_or_create(&dir).unwrap();
    let path = dir.join(KEY_FILE_NAME);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let second = MasterKey::load_or_create(&dir).unwrap();
    let sealed = first.seal(b"same key", b"").unwrap();
    assert_eq!(second.open(&sealed, b"").unwrap().expose(), "same key");
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from(KEY_FILE_NAME)]);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn corrupt_key_file_is_an_error_naming_the_file() {
    let dir = temp_dir("corrupt");
    std::fs::write(dir.join(KEY_FILE_NAME), "not base64!!").unwrap();
    let err = MasterKey::load_or_create(&dir).unwrap_err();
    assert!(err.to_string().contains(KEY_FILE_NAME), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
