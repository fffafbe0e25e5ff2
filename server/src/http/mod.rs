//! The HTTP surface: health, metrics, the REST API (`api`) and the UI, on one axum router.

pub mod api;
mod error;
pub(crate) mod health;
mod links;

pub use health::healthz;
mod metrics;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use escalator_engine::{Escalator, Metrics};

pub use error::ApiError;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub escalator: Escalator,
    /// Set once the scheduler runs; `/readyz` reports it.
    pub scheduler_running: Arc<std::sync::atomic::AtomicBool>,
}

/// The routes that are not the UI: health, metrics and the REST API.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", api::routes())
        .merge(links::routes())
        .merge(metrics_routes(state.escalator.clone()))
        .with_state(state)
}

/// The metrics endpoints alone, for a separate listener.
pub fn metrics_routes<S: Clone + Send + Sync + 'static>(escalator: Escalator) -> Router<S> {
    let m = escalator.metrics().clone();
    Router::new()
        .route("/metrics", get(metrics::render))
        .route("/api/v1/metrics/prometheus", get(metrics::render))
        .with_state(m)
}

/// Records request counts and latency by matched route (never by raw path: low cardinality).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics
        .http_requests
        .with_label_values(&[&method, &route, &status])
        .inc();
    metrics
        .http_duration
        .with_label_values(&[&method, &route])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The longest request target (path and query) answered: longer ones get a JSON 414.
/// (hyper itself answers a bare 414 above 64 KiB, before any of this runs.)
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Refuses over-long request targets with the API's JSON error body.
async fn limit_uri(request: Request, next: Next) -> Response {
    let length = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if length > MAX_URI_BYTES {
        return ApiError::new(
            axum::http::StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is {length} bytes; at most {MAX_URI_BYTES} are accepted"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Wraps a router with the request metrics layer and the request-target limit.
pub fn with_tracking(router: Router, metrics: Arc<Metrics>) -> Router {
    router
        .layer(middleware::from_fn(limit_uri))
        .layer(middleware::from_fn_with_state(metrics, track))
}
