//! The Prometheus exposition: served from memory, no database work per scrape.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use escalator_engine::Metrics;

/// `GET /metrics` and `GET /api/v1/metrics/prometheus`.
#[utoipa::path(get, path = "/api/v1/metrics/prometheus", tag = "metrics", operation_id = "prometheus_metrics",
    responses((status = 200, body = String, content_type = "text/plain", description = "Prometheus text exposition format (also at /metrics)")))]
pub async fn render(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics.render(),
    )
}
