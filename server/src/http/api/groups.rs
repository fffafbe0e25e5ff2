//! `/groups`: the groups a chain level can target.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use escalator_domain::Group;
use escalator_engine::groups::GroupRecord;

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

/// Create or replace a group (admins): members in order, and how one is picked —
/// `{"kind": "first_present"}`, `{"kind": "round_robin"}` or `{"kind": "rotation",
/// "period": "week", "starts_on": "2026-01-05"}` — with optional overrides
/// (`{"from", "to", "person"}`). A chain level targets it as `{"kind": "group", "group": "<key>"}`.
#[utoipa::path(put, path = "/groups/{key}", tag = "policies",
    params(("key" = String, Path, description = "Group key: a-z, 0-9, '-', '_'")), request_body = Group,
    responses((status = 200, body = GroupRecord, description = "replaced"), (status = 201, body = GroupRecord, description = "created"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_group(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(group): ApiJson<Group>,
) -> Result<(StatusCode, Json<GroupRecord>), ApiError> {
    let (record, created) = state.escalator.put_group(&key, &group, &actor).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(record)))
}

/// All groups (admins and department heads).
#[utoipa::path(get, path = "/groups", tag = "policies",
    responses((status = 200, body = [GroupRecord]), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_groups(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<GroupRecord>>, ApiError> {
    Ok(Json(state.escalator.groups(&actor).await?))
}

/// One group (admins and department heads).
#[utoipa::path(get, path = "/groups/{key}", tag = "policies",
    params(("key" = String, Path)),
    responses((status = 200, body = GroupRecord), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_group(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<GroupRecord>, ApiError> {
    Ok(Json(state.escalator.group(&key, &actor).await?))
}
