//! `/reminders`: the caller's reminders (any, for admins) and acknowledging them.

use axum::extract::State;
use axum::Json;
use escalator_storage::{Reminder, ReminderFilter};
use serde::Deserialize;

use super::auth::Caller;
use super::extract::{ApiPath, ApiQuery};
use super::{page_limit, Page};
use crate::http::{ApiError, AppState};

/// Filters of `GET /reminders`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReminderQuery {
    /// Someone else's reminders (admins; department heads within their department).
    pub assignee: Option<String>,
    pub workflow_id: Option<i64>,
    /// Only reminders not acknowledged yet.
    #[serde(default)]
    pub open: bool,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    pub before_id: Option<i64>,
}

/// Reminders, newest first: the caller's own; a department head's: their department's; admins: anyone's.
#[utoipa::path(get, path = "/reminders", tag = "reminders", operation_id = "list_reminders", params(ReminderQuery),
    responses((status = 200, body = Page<Reminder>), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(q): ApiQuery<ReminderQuery>,
) -> Result<Json<Page<Reminder>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let filter = ReminderFilter {
        assignee: q.assignee.map(|a| a.trim().to_lowercase()),
        workflow_id: q.workflow_id,
        department: None,
        unacknowledged_only: q.open,
        before_id: q.before_id,
        limit,
    };
    let items = state.escalator.reminders(filter, &actor).await?;
    Ok(Json(Page::new(items, limit, |r| r.id)))
}

/// Acknowledge a reminder (stops its repeats; audited). Repeating it is harmless.
#[utoipa::path(post, path = "/reminders/{id}/ack", tag = "reminders", params(("id" = i64, Path)),
    responses((status = 200, body = Reminder), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Reminder>, ApiError> {
    Ok(Json(state.escalator.acknowledge_reminder(id, &actor).await?))
}
