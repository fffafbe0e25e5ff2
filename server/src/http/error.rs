//! The HTTP layer's one error type: every failure becomes JSON
//! `{"error": {"code", "message", "field"}}` with the right status, mapped here once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
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
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::Invalid(v) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", v.message).with_field(v.field)
            }
            EngineError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", err.to_string()),
            EngineError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            EngineError::Forbidden(message) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            EngineError::Unauthenticated(message) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message),
            EngineError::TooManyAttempts(message) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message)
            }
            EngineError::Transition(t) => ApiError::new(
                StatusCode::CONFLICT,
                "illegal_transition",
                format!("the workflow is {}; {:?} is not allowed", t.current.as_str(), t.action),
            )
            .with_field("status"),
            EngineError::Store(_) | EngineError::Queue(_) | EngineError::Internal(_) => {
                tracing::error!(%err, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                )
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
