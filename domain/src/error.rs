//! Validation errors that name the offending field, so every layer can report it, and
//! the kinds of failure every front end tells apart.

use serde::{Deserialize, Serialize};

/// A value that is well-formed but not acceptable; `field` names the input it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field with its parent, e.g. `levels[1].` + `time_limit_seconds`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}{}", self.field);
        self
    }
}

/// The kinds of failure the front ends tell apart, each with the one HTTP status it is
/// answered with (the REST API, the UI's server functions and the CSV export alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not signed in (or the session expired, or the credentials are wrong).
    Unauthenticated,
    /// Signed in, but not allowed.
    Forbidden,
    /// No such object (or one the caller may not know of).
    NotFound,
    /// A bad value; the error names the field.
    Invalid,
    /// A duplicate, or a transition the object's status forbids.
    Conflict,
    /// Too many failed attempts (sign-ins).
    TooManyAttempts,
    /// Our fault; details are in the server log.
    Server,
}

impl ErrorKind {
    /// The HTTP status of this kind of failure.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Invalid => 422,
            ErrorKind::TooManyAttempts => 429,
            ErrorKind::Server => 500,
        }
    }
}
