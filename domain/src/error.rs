//! Validation errors that name the offending field, so every layer can report it.

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
