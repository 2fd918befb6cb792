//! [`Secret`]: a string that never shows itself. `Debug` prints `***`, there is
//! no `Display` and no `Serialize`; the only way to read it is the explicit
//! [`Secret::expose`], so a secret cannot reach a log line or an API response
//! by accident (SPEC §17).

use std::fmt;

/// A secret value (Upbit secret key, Telegram token, password).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Reads the secret. Call sites are few and grep-able.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Masks an access key for listings: the first 4 characters, then `…`.
pub fn mask_key(key: &str) -> String {
    let prefix: String = key.chars().take(4).collect();
    format!("{prefix}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("super-secret-value");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "super-secret-value");
        assert_eq!(mask_key("AbCdEfGh"), "AbCd…");
        assert_eq!(mask_key("ab"), "ab…");
    }
}
