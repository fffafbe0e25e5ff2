//! REST API v1: JSON over HTTP for the systems whose workflows Escalator watches.
//! One router per resource; authentication is the [`auth::Caller`] extractor; every
//! error is an [`ApiError`](crate::http::ApiError).

mod audit;
pub mod auth;
mod directory;
pub mod extract;
mod notifications;
mod openapi;
mod policies;
mod reminders;
mod workflows;

use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use serde::Serialize;

use crate::http::{ApiError, AppState};

pub use openapi::ApiDoc;

/// Default and largest page sizes of listings.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

/// The page size a client asked for: 1 to 500, default 50.
fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            "must be between 1 and 500",
        )
        .with_field("limit")),
    }
}

/// A page of items and the cursor of the next page (absent on the last page).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_before_id: Option<i64>,
}

impl<T> Page<T> {
    fn new(items: Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> Self {
        let full = items.len() as i64 == limit;
        let next_before_id = if full { items.last().map(id) } else { None };
        Self { items, next_before_id }
    }
}

/// Every API route, nested under `/api/v1` by the caller.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/departments", get(directory::list_departments))
        .route(
            "/departments/{key}",
            put(directory::put_department).get(directory::get_department),
        )
        .route("/users", get(directory::list_users))
        .route("/users/{email}", put(directory::put_user).get(directory::get_user))
        .route(
            "/users/{email}/preferences",
            put(directory::put_preferences).get(directory::get_preferences),
        )
        .route(
            "/sla-policies",
            post(policies::create_policy).get(policies::list_policies),
        )
        .route(
            "/sla-policies/{id}",
            get(policies::get_policy).put(policies::update_policy),
        )
        .route("/sla-policies/{id}/preview", post(policies::preview_policy))
        .route("/sla-policies/{id}/apply", post(policies::apply_policy))
        .route(
            "/escalation-chains",
            post(policies::create_chain).get(policies::list_chains),
        )
        .route(
            "/escalation-chains/{id}",
            get(policies::get_chain).put(policies::update_chain),
        )
        .route(
            "/calendars",
            post(policies::create_calendar).get(policies::list_calendars),
        )
        .route(
            "/calendars/{id}",
            get(policies::get_calendar).put(policies::update_calendar),
        )
        .route("/workflows", post(workflows::create).get(workflows::list))
        .route("/workflows/{id}", get(workflows::get))
        .route("/workflows/{id}/complete", post(workflows::complete))
        .route("/workflows/{id}/advance", post(workflows::advance))
        .route("/workflows/{id}/reassign", post(workflows::reassign))
        .route("/workflows/{id}/cancel", post(workflows::cancel))
        .route("/workflows/{id}/sla", get(workflows::sla))
        .route("/workflows/{id}/hold", post(workflows::hold))
        .route("/workflows/{id}/resume", post(workflows::resume))
        .route(
            "/workflows/external/{workflow_type}/{external_id}",
            get(workflows::get_external),
        )
        .route(
            "/workflows/external/{workflow_type}/{external_id}/complete",
            post(workflows::complete_external),
        )
        .route(
            "/workflows/external/{workflow_type}/{external_id}/advance",
            post(workflows::advance_external),
        )
        .route(
            "/workflows/external/{workflow_type}/{external_id}/cancel",
            post(workflows::cancel_external),
        )
        .route("/escalations/run", post(workflows::run_escalations))
        .route("/audit-log", get(audit::list))
        .route("/reminders", get(reminders::list))
        .route("/reminders/{id}/ack", post(reminders::acknowledge))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read-all", post(notifications::mark_all_read))
        .route("/notifications/{id}/read", post(notifications::mark_read))
        .route(
            "/webhooks",
            post(notifications::register_webhook).get(notifications::list_webhooks),
        )
        .route(
            "/webhooks/{id}",
            axum::routing::delete(notifications::deactivate_webhook),
        )
        .route("/webhooks/{id}/deliveries", get(notifications::webhook_deliveries))
        .route("/outbox", get(notifications::outbox))
        .route("/outbox/{id}/retry", post(notifications::retry))
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method",
            )
        })
}
