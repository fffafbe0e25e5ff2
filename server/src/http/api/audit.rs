//! `/audit-log`: append-only, so there is only a GET.

use axum::extract::State;
use axum::Json;
use escalator_storage::{AuditEntry, AuditFilter};
use serde::Deserialize;

use super::auth::Caller;
use super::extract::ApiQuery;
use super::workflows::instant;
use super::{page_limit, Page};
use crate::http::{ApiError, AppState};

/// Filters of `GET /audit-log`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub workflow_id: Option<i64>,
    /// e.g. create, remind, escalate, chain_exhausted, complete, reminder_acknowledged.
    pub action: Option<String>,
    /// `system` or a user's e-mail.
    pub actor: Option<String>,
    /// Inclusive lower bound, RFC 3339.
    pub from: Option<String>,
    /// Exclusive upper bound, RFC 3339.
    pub to: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    pub before_id: Option<i64>,
}

/// Audit entries, newest first (admins).
#[utoipa::path(get, path = "/audit-log", tag = "audit", operation_id = "list_audit_log", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let filter = AuditFilter {
        workflow_id: q.workflow_id,
        action: q.action,
        actor: q.actor,
        from: instant("from", q.from.as_deref())?,
        to: instant("to", q.to.as_deref())?,
        before_id: q.before_id,
        limit,
    };
    let items = state.escalator.audit_log(filter, &actor).await?;
    Ok(Json(Page::new(items, limit, |e| e.id)))
}
