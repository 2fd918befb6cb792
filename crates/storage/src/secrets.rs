//! Secrets at rest (SPEC §17): AES-256-GCM under a 32-byte master key.
//!
//! The master key comes from `MASTER_KEY` (base64) or `MASTER_KEY_FILE`
//! (a file holding the base64), or for a local run from
//! `DATA_DIR/master.key`, created on first start with mode 0600. Every
//! encryption draws a fresh 96-bit nonce from the operating system's CSPRNG:
//! unlike strategy logic, nonces and keys must *not* come from a seeded,
//! replayable RNG (a repeated nonce would break GCM). A wrong key, a
//! tampered ciphertext or a ciphertext moved to another row (the access key
//! is bound as associated data) fails with [`SecretError::Decrypt`] — never
//! garbage. Neither the key nor a decrypted value shows in `Debug`.

use std::{
    fmt,
    io::Write,
    path::{Path, PathBuf},
};

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use domain::Secret;

/// The key file `load_or_create` uses inside the data directory.
pub const KEY_FILE_NAME: &str = "master.key";
/// GCM nonce length in bytes.
pub const NONCE_LEN: usize = 12;

/// Loading a key, encrypting or decrypting failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Neither `MASTER_KEY` nor `MASTER_KEY_FILE` is set.
    #[error("no master key: set MASTER_KEY (base64 of 32 bytes) or MASTER_KEY_FILE")]
    MissingKey,
    /// The key text is not base64 of exactly 32 bytes. `origin` says where it
    /// came from (the variable or file name), never the value.
    #[error("the master key from {origin} is invalid: {reason}")]
    InvalidKey {
        /// `MASTER_KEY`, or the key file's path.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or creating the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Decryption failed: the master key is not the one the secret was
    /// sealed with, or the stored data was altered.
    #[error("cannot decrypt the secret: wrong master key or tampered data")]
    Decrypt,
    /// The decrypted bytes are not UTF-8 text.
    #[error("the decrypted secret is not valid UTF-8")]
    NotUtf8,
    /// The cipher refused to encrypt (input too large).
    #[error("encryption failed")]
    Encrypt,
}

/// A sealed secret: the nonce and the ciphertext with its GCM tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The 96-bit nonce used for this encryption.
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.ciphertext.len())
    }
}

/// The 32-byte AES-256-GCM master key. `Debug` prints `MasterKey(***)`.
#[derive(Clone)]
pub struct MasterKey {
    key: Key<Aes256Gcm>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            key: Key::<Aes256Gcm>::from(bytes),
        }
    }

    /// A fresh random key from the OS CSPRNG.
    pub fn generate() -> Self {
        Self {
            key: Aes256Gcm::generate_key(OsRng),
        }
    }

    /// Parses base64 of exactly 32 bytes; `origin` names the source in errors.
    pub fn from_base64(origin: &str, text: &str) -> Result<Self, SecretError> {
        let invalid = |reason: String| SecretError::InvalidKey {
            origin: origin.to_owned(),
            reason,
        };
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| invalid(format!("not base64 ({e})")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| invalid(format!("expected 32 bytes, got {}", b.len())))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as base64 (for writing a key file), wrapped so it cannot be logged.
    pub fn to_base64(&self) -> Secret {
        Secret::new(STANDARD.encode(self.key.as_slice()))
    }

    /// Loads the key from the values of `MASTER_KEY` (base64; wins when both
    /// are set) or `MASTER_KEY_FILE` (path of a file holding the base64).
    /// Empty values count as unset.
    pub fn from_env_or_file(
        master_key: Option<&str>,
        master_key_file: Option<&Path>,
    ) -> Result<Self, SecretError> {
        if let Some(b64) = master_key.filter(|s| !s.trim().is_empty()) {
            return Self::from_base64(runtime::env::MASTER_KEY, b64);
        }
        if let Some(path) = master_key_file.filter(|p| !p.as_os_str().is_empty()) {
            return Self::read_file(path);
        }
        Err(SecretError::MissingKey)
    }

    /// [`Self::from_env_or_file`] with this process's `MASTER_KEY` /
    /// `MASTER_KEY_FILE` (names from `runtime::env`).
    pub fn from_process_env() -> Result<Self, SecretError> {
        let key = std::env::var(runtime::env::MASTER_KEY).ok();
        let file = std::env::var_os(runtime::env::MASTER_KEY_FILE).map(PathBuf::from);
        Self::from_env_or_file(key.as_deref(), file.as_deref())
    }

    /// The local-run key: reads `data_dir/master.key`, or creates it (mode
    /// 0600, random key) when absent. Safe against two processes starting at
    /// once: the file appears atomically with its full content, and the loser
    /// of the race reads the winner's key.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretError> {
        let path = data_dir.join(KEY_FILE_NAME);
        if path.exists() {
            return Self::read_file(&path);
        }
        let io = |source| SecretError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let key = Self::generate();
        let tmp = data_dir.join(format!(".{KEY_FILE_NAME}.{}.tmp", std::process::id()));
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(key.to_base64().expose().as_bytes())
                .and_then(|()| f.write_all(b"\n"))
                .and_then(|()| f.sync_all())
                .map_err(io)?;
        }
        // A hard link never replaces an existing file: exactly one process wins.
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                tracing::info!(path = %path.display(), "created a new master key file");
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read_file(&path),
            Err(e) => Err(io(e)),
        }
    }

    fn read_file(path: &Path) -> Result<Self, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::Io {
            path: path.to_owned(),
            source,
        })?;
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "the master key file is readable by group or others; chmod 600 it"
                );
            }
        }
        Self::from_base64(&path.display().to_string(), &text)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.key)
    }

    /// Encrypts `plaintext` with a fresh random nonce. `aad` (associated
    /// data, e.g. the access key) is authenticated but not stored in the
    /// ciphertext: decryption needs the same `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, SecretError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| SecretError::Encrypt)?;
        Ok(Sealed {
            nonce: nonce.into(),
            ciphertext,
        })
    }

    /// Decrypts a sealed secret into a redacted [`Secret`].
    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Secret, SecretError> {
        let plain = self
            .cipher()
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| SecretError::NotUtf8)
    }
}

#[cfg(test)]
mod tests;
