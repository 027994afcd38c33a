//! The service's errors: what went wrong in terms a client can act on.

use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A request that cannot be understood (bad parameter, malformed body).
    #[error("{message}")]
    BadRequest { message: String, fields: Vec<FieldError> },
    /// A record that breaks the contract's rules.
    #[error("the record is not valid")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    NotFound(String),
    /// The record was merged into another one.
    #[error("moved to {location}")]
    Moved { location: String },
    #[error("{0}")]
    Conflict(String),
    #[error("this change needs an If-Match header with the record's current version (its ETag)")]
    PreconditionRequired,
    #[error("the record has changed: its current version is {current}; reload it and apply your change again")]
    PreconditionFailed { current: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// The disk is full: nothing was written; writes work again once space is freed.
    #[error("{0}")]
    InsufficientStorage(String),
    /// Something broke inside; details are logged, never shown to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn bad_parameter(field: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        AppError::BadRequest {
            message: format!("invalid parameter '{field}': {message}"),
            fields: vec![FieldError::new(field, message)],
        }
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(error: crate::store::StoreError) -> Self {
        match error {
            crate::store::StoreError::Locked(path) => AppError::Unavailable(format!(
                "the data directory {} is in use by another process",
                path.display()
            )),
            crate::store::StoreError::Full(_) => AppError::InsufficientStorage(
                "the server has no disk space left for this change; nothing was saved. Try again once space has been freed"
                    .to_string(),
            ),
            crate::store::StoreError::Unreachable(reason) => {
                tracing::error!(%reason, "the database is unreachable");
                AppError::Unavailable("the database is unreachable; nothing was saved. Try again in a moment".to_string())
            }
            crate::store::StoreError::Unsupported(message) => AppError::Conflict(message),
            other => AppError::Internal(format!("store: {other}")),
        }
    }
}

impl From<crate::search::SearchError> for AppError {
    fn from(error: crate::search::SearchError) -> Self {
        AppError::Internal(format!("search: {error}"))
    }
}
