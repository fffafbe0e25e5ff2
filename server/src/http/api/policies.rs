//! `/sla-policies` and `/escalation-chains`: what the engine enforces.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use escalator_engine::directory::{CalendarInput, ChainInput, PolicyInput};
use escalator_engine::versions::{AppliedVersion, AppliedZoneRules, Preview, ZoneRulesPreview};
use escalator_storage::{CalendarRecord, ChainRecord, PolicyRecord};

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

/// Create an SLA policy.
#[utoipa::path(post, path = "/sla-policies", tag = "policies", request_body = PolicyInput,
    responses((status = 201, body = PolicyRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_policy(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<PolicyInput>,
) -> Result<(StatusCode, Json<PolicyRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.escalator.create_policy(&input, &actor).await?),
    ))
}

/// All SLA policies.
#[utoipa::path(get, path = "/sla-policies", tag = "policies",
    responses((status = 200, body = [PolicyRecord]), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody, description = "approvers and viewers")), security(("bearer" = [])))]
pub async fn list_policies(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<PolicyRecord>>, ApiError> {
    Ok(Json(state.escalator.policies(&actor).await?))
}

/// One SLA policy.
#[utoipa::path(get, path = "/sla-policies/{id}", tag = "policies", params(("id" = i64, Path)),
    responses((status = 200, body = PolicyRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody, description = "approvers and viewers"), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get_policy(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PolicyRecord>, ApiError> {
    Ok(Json(state.escalator.policy(id, &actor).await?))
}

/// Replace an SLA policy.
#[utoipa::path(put, path = "/sla-policies/{id}", tag = "policies", params(("id" = i64, Path)), request_body = PolicyInput,
    responses((status = 200, body = PolicyRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_policy(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> Result<Json<PolicyRecord>, ApiError> {
    Ok(Json(state.escalator.update_policy(id, &input, &actor).await?))
}

/// Create an escalation chain.
#[utoipa::path(post, path = "/escalation-chains", tag = "policies", request_body = ChainInput,
    responses((status = 201, body = ChainRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_chain(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<ChainInput>,
) -> Result<(StatusCode, Json<ChainRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.escalator.create_chain(&input, &actor).await?),
    ))
}

/// All escalation chains.
#[utoipa::path(get, path = "/escalation-chains", tag = "policies",
    responses((status = 200, body = [ChainRecord]), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody, description = "approvers and viewers")), security(("bearer" = [])))]
pub async fn list_chains(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<ChainRecord>>, ApiError> {
    Ok(Json(state.escalator.chains(&actor).await?))
}

/// One escalation chain.
#[utoipa::path(get, path = "/escalation-chains/{id}", tag = "policies", params(("id" = i64, Path)),
    responses((status = 200, body = ChainRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody, description = "approvers and viewers"), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get_chain(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ChainRecord>, ApiError> {
    Ok(Json(state.escalator.chain(id, &actor).await?))
}

/// Replace an escalation chain.
#[utoipa::path(put, path = "/escalation-chains/{id}", tag = "policies", params(("id" = i64, Path)), request_body = ChainInput,
    responses((status = 200, body = ChainRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_chain(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ChainInput>,
) -> Result<Json<ChainRecord>, ApiError> {
    Ok(Json(state.escalator.update_chain(id, &input, &actor).await?))
}

/// Create a business calendar: time zone, working windows, holidays (also from an .ics file).
#[utoipa::path(post, path = "/calendars", tag = "policies", request_body = CalendarInput,
    responses((status = 201, body = CalendarRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_calendar(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<CalendarInput>,
) -> Result<(StatusCode, Json<CalendarRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.escalator.create_calendar(&input, &actor).await?),
    ))
}

/// All business calendars.
#[utoipa::path(get, path = "/calendars", tag = "policies", operation_id = "list_calendars",
    responses((status = 200, body = [CalendarRecord]), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody, description = "approvers and viewers")), security(("bearer" = [])))]
pub async fn list_calendars(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<CalendarRecord>>, ApiError> {
    Ok(Json(state.escalator.calendars(&actor).await?))
}

/// One business calendar.
#[utoipa::path(get, path = "/calendars/{id}", tag = "policies", params(("id" = i64, Path)),
    responses((status = 200, body = CalendarRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody, description = "approvers and viewers"), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get_calendar(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CalendarRecord>, ApiError> {
    Ok(Json(state.escalator.calendar(id, &actor).await?))
}

/// Replace a business calendar.
#[utoipa::path(put, path = "/calendars/{id}", tag = "policies", params(("id" = i64, Path)), request_body = CalendarInput,
    responses((status = 200, body = CalendarRecord), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_calendar(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CalendarInput>,
) -> Result<Json<CalendarRecord>, ApiError> {
    Ok(Json(state.escalator.update_calendar(id, &input, &actor).await?))
}

/// What a proposed change of this policy would do to its open workflows, changing nothing.
#[utoipa::path(post, path = "/sla-policies/{id}/preview", tag = "policies", params(("id" = i64, Path)), request_body = PolicyInput,
    responses((status = 200, body = Preview), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn preview_policy(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> Result<Json<Preview>, ApiError> {
    Ok(Json(state.escalator.preview_policy(id, &input, &actor).await?))
}

/// Move the policy's open workflows to its current version (audited per workflow).
#[utoipa::path(post, path = "/sla-policies/{id}/apply", tag = "policies", params(("id" = i64, Path)),
    responses((status = 200, body = AppliedVersion), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn apply_policy(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AppliedVersion>, ApiError> {
    Ok(Json(state.escalator.apply_policy(id, &actor).await?))
}

/// The zone rules in use (re-read from the tz database) and the open workflows whose
/// deadlines they would move, changing nothing.
#[utoipa::path(get, path = "/zone-rules", tag = "policies",
    responses((status = 200, body = ZoneRulesPreview), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn preview_zone_rules(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<ZoneRulesPreview>, ApiError> {
    Ok(Json(state.escalator.preview_zone_rules(&actor).await?))
}

/// Recompute the deadlines of open workflows under the zone rules in use (audited per
/// workflow).
#[utoipa::path(post, path = "/zone-rules/apply", tag = "policies",
    responses((status = 200, body = AppliedZoneRules), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn apply_zone_rules(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<AppliedZoneRules>, ApiError> {
    Ok(Json(state.escalator.apply_zone_rules(&actor).await?))
}
