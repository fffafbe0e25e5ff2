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

/// Where Debian, Ubuntu and most distributions keep the system's zone rules as text.
const SYSTEM_TZDATA: &str = "/usr/share/zoneinfo/tzdata.zi";

/// The system's zone-rules version, read once (none when the file is missing).
pub fn system_tz_rules() -> Option<&'static str> {
    static VERSION: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| {
            let text = std::fs::read_to_string(SYSTEM_TZDATA).ok()?;
            escalator_domain::sla::zones::tzdata_version(&text).map(str::to_string)
        })
        .as_deref()
}

/// The zone rules in use and the system's, for `/readyz`.
fn tz_rules() -> Value {
    use escalator_domain::sla::zones::{is_newer, TZ_RULES_VERSION};
    let system = system_tz_rules();
    json!({
        "in_use": TZ_RULES_VERSION,
        "system": system,
        "system_newer": system.is_some_and(|s| is_newer(s, TZ_RULES_VERSION)),
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
