//! The UI's one error type: what a server function can fail with, sent to the browser
//! as JSON so pages can show the message next to the field it names.

use std::fmt;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function failed: the domain's kinds, each with its one HTTP status.
pub use escalator_domain::ErrorKind;

/// A server function's error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    /// The input field at fault, for [`ErrorKind::Invalid`].
    pub field: Option<String>,
}

impl AppError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
        }
    }

    /// A bad value in `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Invalid,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// The message if this error is about `field`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            ServerFnErrorErr::Args(message) => Self::new(ErrorKind::Invalid, message),
            other => Self::new(ErrorKind::Server, other.to_string()),
        };
        // On the server, malformed arguments answer 422 rather than 500.
        #[cfg(feature = "ssr")]
        let error = crate::ssr::fail(error);
        error
    }
}

/// Server functions' results.
pub type AppResult<T> = Result<T, AppError>;
