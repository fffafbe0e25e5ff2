//! `/workflows`: source systems push pending approvals and report stage changes;
//! `/escalations/run` runs a tick on demand.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use escalator_domain::{SlaStatus, WorkflowStatus};
use escalator_engine::workflows::{ActionRequest, CreateWorkflow, SlaExplanation, Timeline, WorkflowView};
use escalator_engine::TickSummary;
use escalator_storage::WorkflowFilter;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use super::{page_limit, Page};
use crate::http::{ApiError, AppState};

/// Filters of `GET /workflows`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowQuery {
    /// pending, escalated, on_hold, completed or cancelled.
    pub status: Option<WorkflowStatus>,
    /// ok, warning, breached or paused (open workflows, evaluated now).
    pub sla_status: Option<SlaStatus>,
    /// true: only open workflows overdue at the top of their escalation chain.
    pub needs_attention: Option<bool>,
    pub department: Option<String>,
    pub assignee: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The previous page's `next_before_id`.
    pub before_id: Option<i64>,
}

/// A workflow with its timeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkflowDetail {
    #[serde(flatten)]
    pub workflow: WorkflowView,
    pub timeline: Timeline,
}

/// Body of `/complete`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    #[schema(max_length = 2000, pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$")]
    pub note: Option<String>,
}

/// Body of `/advance`: the next stage restarts the SLA clock, optionally under another policy.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceBody {
    /// The next stage's name.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    pub stage: String,
    /// Another SLA policy for the new stage: admins and the workflow's department head only.
    #[schema(minimum = 1)]
    pub policy_id: Option<i64>,
    /// Hand the next stage to this user (non-admins: within the workflow's department).
    #[schema(min_length = 3, max_length = 254)]
    pub assignee: Option<String>,
}

/// Body of `/reassign`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignBody {
    /// A user of the workflow's department (admins: anyone).
    #[schema(min_length = 3, max_length = 254)]
    pub assignee: String,
    #[schema(max_length = 2000, pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$")]
    pub reason: Option<String>,
}

/// Body of `/cancel`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    #[schema(max_length = 2000, pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$")]
    pub reason: Option<String>,
}

/// Start watching a workflow. With an `Idempotency-Key` header, repeating the request
/// returns the workflow it created (200) instead of 409.
#[utoipa::path(post, path = "/workflows", tag = "workflows", request_body = CreateWorkflow,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = WorkflowView, description = "created"), (status = 200, body = WorkflowView, description = "replayed"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody, description = "external_id exists"), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CreateWorkflow>,
) -> Result<(StatusCode, Json<WorkflowView>), ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let created = state.escalator.create_workflow(&input, &actor, key).await?;
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(created.view)))
}

/// Workflows the caller may see, newest first, with their SLA state now.
#[utoipa::path(get, path = "/workflows", tag = "workflows", operation_id = "list_workflows", params(WorkflowQuery),
    responses((status = 200, body = Page<WorkflowView>), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(q): ApiQuery<WorkflowQuery>,
) -> Result<Json<Page<WorkflowView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let filter = WorkflowFilter {
        status: q.status,
        sla_status: q.sla_status,
        needs_attention: q.needs_attention.unwrap_or(false),
        department: q.department,
        assignee: q.assignee.map(|a| a.trim().to_lowercase()),
        before_id: q.before_id,
        limit,
        ..WorkflowFilter::default()
    };
    let items = state.escalator.workflows(filter, &actor).await?;
    Ok(Json(Page::new(items, limit, |w| w.workflow.id)))
}

/// One workflow, its SLA state and its timeline (audit entries, reminders, notifications).
#[utoipa::path(get, path = "/workflows/{id}", tag = "workflows", params(("id" = i64, Path)),
    responses((status = 200, body = WorkflowDetail), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WorkflowDetail>, ApiError> {
    let (workflow, timeline) = state.escalator.workflow_with_timeline(id, &actor).await?;
    Ok(Json(WorkflowDetail { workflow, timeline }))
}

async fn act(
    state: &AppState,
    actor: &escalator_engine::Actor,
    id: i64,
    request: ActionRequest,
) -> Result<Json<WorkflowView>, ApiError> {
    Ok(Json(state.escalator.act(id, &request, actor).await?))
}

/// The current stage is approved: the workflow is closed.
#[utoipa::path(post, path = "/workflows/{id}/complete", tag = "workflows", params(("id" = i64, Path)),
    request_body(content = CompleteBody, description = "optional"),
    responses((status = 200, body = WorkflowView), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody, description = "illegal transition")),
    security(("bearer" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(body): OptionalJson<CompleteBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    act(&state, &actor, id, ActionRequest::Complete { note: body.note }).await
}

/// Move to the next stage: restarts the SLA clock at level 0.
#[utoipa::path(post, path = "/workflows/{id}/advance", tag = "workflows", params(("id" = i64, Path)), request_body = AdvanceBody,
    responses((status = 200, body = WorkflowView), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn advance(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AdvanceBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    let request = ActionRequest::Advance {
        stage: body.stage,
        policy_id: body.policy_id,
        assignee: body.assignee,
    };
    act(&state, &actor, id, request).await
}

/// Give the workflow to someone else (the SLA clock keeps running).
#[utoipa::path(post, path = "/workflows/{id}/reassign", tag = "workflows", params(("id" = i64, Path)), request_body = ReassignBody,
    responses((status = 200, body = WorkflowView), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reassign(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReassignBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    act(
        &state,
        &actor,
        id,
        ActionRequest::Reassign {
            assignee: body.assignee,
            reason: body.reason,
        },
    )
    .await
}

/// Stop watching the workflow.
#[utoipa::path(post, path = "/workflows/{id}/cancel", tag = "workflows", params(("id" = i64, Path)),
    request_body(content = CancelBody, description = "optional"),
    responses((status = 200, body = WorkflowView), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    act(&state, &actor, id, ActionRequest::Cancel { reason: body.reason }).await
}

/// The workflow's SLA clock and the timeline behind its deadline ("why is this due then?").
#[utoipa::path(get, path = "/workflows/{id}/sla", tag = "workflows", params(("id" = i64, Path)),
    responses((status = 200, body = SlaExplanation), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn sla(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SlaExplanation>, ApiError> {
    Ok(Json(state.escalator.explain_sla(id, &actor).await?))
}

/// Body of `/hold`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    pub reason: String,
    /// When the engine resumes it by itself (a snooze, at most 90 days ahead); without it
    /// the hold lasts until someone resumes it.
    pub until: Option<DateTime<Utc>>,
}

/// Put the workflow on hold: its SLA clock stops, no reminder or escalation until resumed.
#[utoipa::path(post, path = "/workflows/{id}/hold", tag = "workflows", params(("id" = i64, Path)), request_body = HoldBody,
    responses((status = 200, body = WorkflowView), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn hold(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    act(
        &state,
        &actor,
        id,
        ActionRequest::Hold {
            reason: body.reason,
            until: body.until,
        },
    )
    .await
}

/// Resume a held workflow: its clock runs again; the paused time is never counted.
#[utoipa::path(post, path = "/workflows/{id}/resume", tag = "workflows", params(("id" = i64, Path)),
    responses((status = 200, body = WorkflowView), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn resume(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WorkflowView>, ApiError> {
    act(&state, &actor, id, ActionRequest::Resume).await
}

/// A workflow addressed by the id its source system knows: its type and external id.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ExternalRef {
    /// The workflow's type, as given when it was created (e.g. `purchase`).
    pub workflow_type: String,
    /// The source system's id of the workflow (e.g. `ERP-4711`).
    pub external_id: String,
}

impl ExternalRef {
    async fn id(&self, state: &AppState, actor: &escalator_engine::Actor) -> Result<i64, ApiError> {
        let view = state
            .escalator
            .workflow_by_external_id(&self.workflow_type, &self.external_id, actor)
            .await?;
        Ok(view.workflow.id)
    }
}

/// One workflow by its source system's type and id, as `GET /workflows/{id}` answers it.
#[utoipa::path(get, path = "/workflows/external/{workflow_type}/{external_id}", tag = "workflows", params(ExternalRef),
    responses((status = 200, body = WorkflowDetail), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get_external(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(external): ApiPath<ExternalRef>,
) -> Result<Json<WorkflowDetail>, ApiError> {
    let id = external.id(&state, &actor).await?;
    let (workflow, timeline) = state.escalator.workflow_with_timeline(id, &actor).await?;
    Ok(Json(WorkflowDetail { workflow, timeline }))
}

/// Complete a workflow addressed by its type and external id (as `/workflows/{id}/complete`).
#[utoipa::path(post, path = "/workflows/external/{workflow_type}/{external_id}/complete", tag = "workflows", params(ExternalRef),
    request_body(content = CompleteBody, description = "optional"),
    responses((status = 200, body = WorkflowView), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody, description = "illegal transition"), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn complete_external(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(external): ApiPath<ExternalRef>,
    OptionalJson(body): OptionalJson<CompleteBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    let id = external.id(&state, &actor).await?;
    act(&state, &actor, id, ActionRequest::Complete { note: body.note }).await
}

/// Advance a workflow addressed by its type and external id (as `/workflows/{id}/advance`).
#[utoipa::path(post, path = "/workflows/external/{workflow_type}/{external_id}/advance", tag = "workflows", params(ExternalRef),
    request_body = AdvanceBody,
    responses((status = 200, body = WorkflowView), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn advance_external(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(external): ApiPath<ExternalRef>,
    ApiJson(body): ApiJson<AdvanceBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    let id = external.id(&state, &actor).await?;
    let request = ActionRequest::Advance {
        stage: body.stage,
        policy_id: body.policy_id,
        assignee: body.assignee,
    };
    act(&state, &actor, id, request).await
}

/// Cancel a workflow addressed by its type and external id (as `/workflows/{id}/cancel`).
#[utoipa::path(post, path = "/workflows/external/{workflow_type}/{external_id}/cancel", tag = "workflows", params(ExternalRef),
    request_body(content = CancelBody, description = "optional"),
    responses((status = 200, body = WorkflowView), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel_external(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(external): ApiPath<ExternalRef>,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<Json<WorkflowView>, ApiError> {
    let id = external.id(&state, &actor).await?;
    act(&state, &actor, id, ActionRequest::Cancel { reason: body.reason }).await
}

/// Run one escalation tick now (admins); the same summary as `escalator tick --json`.
#[utoipa::path(post, path = "/escalations/run", tag = "escalations",
    responses((status = 200, body = TickSummary), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn run_escalations(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<TickSummary>, ApiError> {
    actor.require_admin()?;
    let summary = state.escalator.tick().await?;
    if let Err(err) = state.escalator.refresh_gauges().await {
        tracing::warn!(%err, "could not refresh gauges");
    }
    Ok(Json(summary))
}

/// Parses an RFC 3339 instant for the audit filters.
pub(super) fn instant(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|r| {
        DateTime::parse_from_rfc3339(r)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_request",
                    format!("not an RFC 3339 time: {e}"),
                )
                .with_field(field)
            })
    })
    .transpose()
}
