//! REST API v1: JSON over HTTP for the systems whose workflows Escalator watches.
//! One router per resource; authentication is the [`auth::Caller`] extractor; every
//! error is an [`ApiError`](crate::http::ApiError).

mod audit;
pub mod auth;
mod availability;
mod directory;
pub mod extract;
mod groups;
mod notifications;
mod openapi;
mod policies;
mod reminders;
mod reports;
mod workflows;

use axum::http::StatusCode;
use axum::Router;
use serde::Serialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::{ApiError, AppState};

use openapi::ApiDoc;

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

/// Every API route with its documentation, registered together: a handler is listed
/// once here, and its `#[utoipa::path]` is both its route and its page of the document.
/// Paths are relative to `/api/v1`, where the caller nests the router.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(directory::list_departments))
        .routes(routes!(directory::put_department, directory::get_department))
        .routes(routes!(directory::list_users))
        .routes(routes!(directory::put_user, directory::get_user))
        .routes(routes!(directory::put_preferences, directory::get_preferences))
        .routes(routes!(availability::get_availability))
        .routes(routes!(availability::list_absences, availability::add_absence))
        .routes(routes!(availability::import_absences))
        .routes(routes!(availability::delete_absence))
        .routes(routes!(availability::put_delegate))
        .routes(routes!(availability::deactivate))
        .routes(routes!(availability::reactivate))
        .routes(routes!(policies::create_policy, policies::list_policies))
        .routes(routes!(policies::get_policy, policies::update_policy))
        .routes(routes!(policies::preview_policy))
        .routes(routes!(policies::apply_policy))
        .routes(routes!(policies::preview_zone_rules))
        .routes(routes!(policies::apply_zone_rules))
        .routes(routes!(groups::list_groups))
        .routes(routes!(groups::put_group, groups::get_group))
        .routes(routes!(policies::create_chain, policies::list_chains))
        .routes(routes!(policies::get_chain, policies::update_chain))
        .routes(routes!(policies::create_calendar, policies::list_calendars))
        .routes(routes!(policies::get_calendar, policies::update_calendar))
        .routes(routes!(workflows::create, workflows::list))
        .routes(routes!(workflows::get))
        .routes(routes!(workflows::complete))
        .routes(routes!(workflows::advance))
        .routes(routes!(workflows::reassign))
        .routes(routes!(workflows::cancel))
        .routes(routes!(workflows::sla))
        .routes(routes!(workflows::hold))
        .routes(routes!(workflows::resume))
        .routes(routes!(workflows::get_external))
        .routes(routes!(workflows::complete_external))
        .routes(routes!(workflows::advance_external))
        .routes(routes!(workflows::cancel_external))
        .routes(routes!(workflows::run_escalations))
        .routes(routes!(audit::list))
        .routes(routes!(reminders::list))
        .routes(routes!(reminders::acknowledge))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::mark_all_read))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(notifications::register_webhook, notifications::list_webhooks))
        .routes(routes!(notifications::deactivate_webhook))
        .routes(routes!(notifications::webhook_deliveries))
        .routes(routes!(notifications::outbox))
        .routes(routes!(notifications::retry))
        .routes(routes!(notifications::discard))
        .routes(routes!(reports::sla))
        .routes(routes!(openapi::document))
}

/// Every API route, to be nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    let (router, _) = documented().split_for_parts();
    router
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method",
            )
        })
}

/// The OpenAPI document of the API: its description and the metrics route
/// ([`ApiDoc`]), the routes' documentation under `/api/v1`, the shared errors and the
/// bearer scheme.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, api) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", documented())
        .split_for_parts();
    openapi::finish(api)
}
