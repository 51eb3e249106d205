//! One error type for the crate. Each variant maps to a stable code that the
//! binding puts in front of the message and the TypeScript side turns into
//! `err.code`, so callers can branch on it.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ManError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot decode image: {reason}")]
    Decode { path: String, reason: String },
    #[error("{0}")]
    Weights(String),
    #[error("{0}")]
    Shape(String),
    #[error("{0}")]
    Config(String),
    /// Training produced NaN or infinite values.
    #[error("{0}")]
    Diverged(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("internal error (a bug in man-fer, please report it): {0}")]
    Panic(String),
}

impl ManError {
    /// The stable code that reaches JavaScript as `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            ManError::Io { .. } => "ERR_MAN_IO",
            ManError::Decode { .. } => "ERR_MAN_DECODE",
            ManError::Weights(_) => "ERR_MAN_WEIGHTS",
            ManError::Shape(_) => "ERR_MAN_SHAPE",
            ManError::Config(_) => "ERR_MAN_CONFIG",
            ManError::Diverged(_) => "ERR_MAN_DIVERGED",
            ManError::Torch(_) => "ERR_MAN_TORCH",
            ManError::Panic(_) => "ERR_MAN_PANIC",
        }
    }

    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        ManError::Io { path: path.as_ref().to_path_buf(), source }
    }

    pub fn decode(path: impl Into<String>, reason: impl ToString) -> Self {
        ManError::Decode { path: path.into(), reason: reason.to_string() }
    }
}

pub type Result<T, E = ManError> = std::result::Result<T, E>;

/// Runs `f`, turning a panic into `ManError::Panic` so that no panic ever
/// unwinds into a Node.js worker thread (which would abort the process).
pub fn catch_panics<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "unknown panic".to_string()
            };
            Err(ManError::Panic(msg))
        }
    }
}
