//! [`OrchestratorError`]: what can go wrong driving a trader runtime, and whether
//! retrying can help (the engine was unreachable or busy) or not (bad spec,
//! missing image, a name taken by something we do not manage).

use domain::{TraderId, ValidationError};

/// An error from a trader runtime backend.
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// The spec is invalid (names the field).
    #[error("invalid trader spec: {0}")]
    InvalidSpec(#[from] ValidationError),
    /// The container engine could not be reached (socket missing, connection
    /// refused, timeout). Retrying later can help.
    #[error("container engine unreachable: {0}")]
    Unavailable(String),
    /// The container engine answered with an error status.
    #[error("container engine error {status}: {message}")]
    Engine {
        /// HTTP status the engine answered with.
        status: u16,
        /// The engine's message.
        message: String,
    },
    /// The configured image does not exist in the engine's store.
    #[error("image {image:?} not found; build it first (Dockerfile.trader) or set TRADER_IMAGE")]
    ImageNotFound {
        /// The image reference.
        image: String,
    },
    /// A container with the trader's name exists but is not managed by us.
    #[error("container name {name:?} is taken by a container this platform does not manage")]
    NameConflict {
        /// The container name.
        name: String,
    },
    /// The trader has no runtime instance (for `logs`).
    #[error("trader {0} has no runtime instance")]
    NotFound(TraderId),
    /// The trader binary could not be spawned.
    #[error("failed to spawn {binary}: {source}")]
    Spawn {
        /// The binary path.
        binary: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A local file operation failed (log or pid files of the process backend).
    #[error("failed to {action} {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// The file or directory.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl OrchestratorError {
    /// True when the same call may succeed later without any change of input:
    /// the engine was unreachable, or answered with a server error.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Engine { status, .. } => *status >= 500,
            Self::Io { source, .. } | Self::Spawn { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted
                    | std::io::ErrorKind::WouldBlock
                    | std::io::ErrorKind::TimedOut
            ),
            Self::InvalidSpec(_)
            | Self::ImageNotFound { .. }
            | Self::NameConflict { .. }
            | Self::NotFound(_) => false,
        }
    }

    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

impl From<bollard::errors::Error> for OrchestratorError {
    fn from(e: bollard::errors::Error) -> Self {
        use bollard::errors::Error as B;
        match e {
            B::DockerResponseServerError {
                status_code,
                message,
            } => Self::Engine {
                status: status_code,
                message,
            },
            B::RequestTimeoutError => Self::Unavailable("request timed out".to_owned()),
            B::IOError { err } => Self::Unavailable(err.to_string()),
            B::HyperResponseError { err } => Self::Unavailable(err.to_string()),
            B::HyperLegacyError { err } => Self::Unavailable(err.to_string()),
            B::SocketNotFoundError(path) => {
                Self::Unavailable(format!("docker socket {path} not found"))
            }
            other => Self::Engine {
                status: 0,
                message: other.to_string(),
            },
        }
    }
}
