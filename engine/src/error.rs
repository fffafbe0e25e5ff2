//! The engine's one error type; the HTTP layer maps it to status codes once.

use escalator_domain::{ErrorKind, TransitionError, ValidationError};
use escalator_storage::StoreError;

/// What an engine operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Well-formed input with a bad value; names the field.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// No such object.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The caller is not signed in, or the credentials are wrong.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts (e.g. failed sign-ins); try again later.
    #[error("{0}")]
    TooManyAttempts(String),
    /// The object exists already (e.g. a workflow's external id).
    #[error("{0}")]
    Conflict(String),
    /// The workflow's status does not allow the action.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that should not happen (no randomness, …).
    #[error("internal error: {0}")]
    Internal(String),
    /// The job queue failed.
    #[error("job queue: {0}")]
    Queue(String),
}

/// Results of engine operations.
pub type EngineResult<T> = Result<T, EngineError>;

impl EngineError {
    /// What kind of failure this is; front ends answer its [`ErrorKind::status`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Invalid(_) => ErrorKind::Invalid,
            EngineError::NotFound { .. } => ErrorKind::NotFound,
            EngineError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            EngineError::Forbidden(_) => ErrorKind::Forbidden,
            EngineError::TooManyAttempts(_) => ErrorKind::TooManyAttempts,
            EngineError::Conflict(_) | EngineError::Transition(_) => ErrorKind::Conflict,
            EngineError::Store(_) | EngineError::Internal(_) | EngineError::Queue(_) => ErrorKind::Server,
        }
    }

    /// A not-found error for `what` with `id`.
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        EngineError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}
