//! Liveness and readiness.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;

/// Alive as soon as the process listens.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers (migrated) and the scheduler runs.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = state.escalator.ping().await;
    let scheduler = state.scheduler_running.load(Ordering::Relaxed);
    let ready = database.is_ok() && scheduler;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "database": match &database { Ok(()) => "ok".to_string(), Err(e) => e.to_string() },
        "scheduler": if scheduler { "running" } else { "stopped" },
    });
    (status, Json(body))
}
