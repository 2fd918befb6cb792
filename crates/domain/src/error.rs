//! [`ValidationError`]: the one error every boundary check returns, naming the field.

use std::fmt;

/// A value from outside (HTTP body, DB row, Upbit response, env) failed validation.
///
/// It always names the offending `field` and says why in `message`, so an API
/// can answer 422 with both and a log line is self-explanatory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The field (or parameter) that was rejected, e.g. `seed_krw` or `market`.
    pub field: String,
    /// Why it was rejected, in plain words.
    pub message: String,
}

impl ValidationError {
    /// Builds an error for `field` with `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Returns the same error re-attributed to `field` (used when a nested
    /// value is validated under its parent's name).
    #[must_use]
    pub fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
