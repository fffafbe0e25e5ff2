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

/// The zone rules in use and the versions available, for `/readyz`: `bundled_newer` says
/// the binary's copy is newer than the system's rules in use (update `tzdata`, or set
/// `ESCALATOR_TZ_RULES=bundled`), `system_newer` the reverse.
fn tz_rules() -> Value {
    let rules = escalator_engine::versions::zone_rules();
    json!({
        "source": rules.source,
        "in_use": rules.in_use,
        "system": rules.system,
        "bundled": rules.bundled,
        "system_newer": rules.system_newer(),
        "bundled_newer": rules.bundled_newer(),
    })
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
        "tz_rules": tz_rules(),
    });
    (status, Json(body))
}
