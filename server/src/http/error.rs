//! The HTTP layer's one error type: every failure becomes JSON
//! `{"error": {"code", "message", "field"}}` with the right status, mapped here once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use escalator_domain::ErrorKind;
use escalator_engine::EngineError;

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    /// An error with a status, a machine-readable code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Names the offending input field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl From<EngineError> for ApiError {
    /// The status is the error kind's ([`ErrorKind::status`], shared with the UI); the
    /// API's own part is its error codes.
    fn from(err: EngineError) -> Self {
        let status = StatusCode::from_u16(err.kind().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match err {
            EngineError::Invalid(v) => ApiError::new(status, "invalid_value", v.message).with_field(v.field),
            EngineError::Transition(t) => ApiError::new(
                status,
                "illegal_transition",
                format!("the workflow is {}; {:?} is not allowed", t.current.as_str(), t.action),
            )
            .with_field("status"),
            _ if err.kind() == ErrorKind::Server => {
                tracing::error!(%err, "internal error");
                ApiError::new(status, "internal", "internal error; see the server log")
            }
            _ => {
                let code = match err.kind() {
                    ErrorKind::NotFound => "not_found",
                    ErrorKind::Conflict => "conflict",
                    ErrorKind::Forbidden => "forbidden",
                    ErrorKind::Unauthenticated => "unauthorized",
                    ErrorKind::TooManyAttempts => "too_many_attempts",
                    ErrorKind::Invalid => "invalid_value",
                    ErrorKind::Server => "internal",
                };
                ApiError::new(status, code, err.to_string())
            }
        }
    }
}

/// The JSON body of every error.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, and with which input field.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: malformed_request, unauthorized, forbidden, not_found, conflict,
    /// illegal_transition, invalid_value, internal, …
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into(),
                message: self.message,
                field: self.field,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
