//! `/departments` and `/users`: idempotent upserts an HR system can sync with.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use escalator_domain::{Department, NotificationPreferences, User};
use escalator_engine::directory::{DepartmentInput, UserInput};

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

fn upserted(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// Create or replace a department.
#[utoipa::path(put, path = "/departments/{key}", tag = "directory",
    params(("key" = String, Path, description = "Department key: a-z, 0-9, '-', '_'")),
    request_body = DepartmentInput,
    responses((status = 200, body = Department, description = "replaced"), (status = 201, body = Department, description = "created"),
        (status = 400, body = crate::http::error::ErrorBody, description = "malformed JSON"), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody, description = "invalid value")),
    security(("bearer" = [])))]
pub async fn put_department(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(input): ApiJson<DepartmentInput>,
) -> Result<(StatusCode, Json<Department>), ApiError> {
    let (department, created) = state.escalator.put_department(&key, &input, &actor).await?;
    Ok((upserted(created), Json(department)))
}

/// All departments.
#[utoipa::path(get, path = "/departments", tag = "directory",
    responses((status = 200, body = [Department]), (status = 401, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn list_departments(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<Department>>, ApiError> {
    Ok(Json(state.escalator.departments(&actor).await?))
}

/// One department.
#[utoipa::path(get, path = "/departments/{key}", tag = "directory",
    params(("key" = String, Path)), responses((status = 200, body = Department), (status = 401, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_department(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Department>, ApiError> {
    Ok(Json(state.escalator.department(&key, &actor).await?))
}

/// Create or replace a user (role, department, manager).
#[utoipa::path(put, path = "/users/{email}", tag = "directory",
    params(("email" = String, Path)), request_body = UserInput,
    responses((status = 200, body = User, description = "replaced"), (status = 201, body = User, description = "created"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_user(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let (user, created) = state.escalator.put_user(&email, &input, &actor).await?;
    Ok((upserted(created), Json(user)))
}

/// The users the caller may see: admins everyone with phone numbers; everyone else the
/// people of their own department, phone numbers only their own.
#[utoipa::path(get, path = "/users", tag = "directory",
    responses((status = 200, body = [User]), (status = 401, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn list_users(State(state): State<AppState>, Caller(actor): Caller) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.escalator.users(&actor).await?))
}

/// One user, as the caller may see them (404 for people of other departments unless the
/// caller is an admin; the phone number only for admins and the person).
#[utoipa::path(get, path = "/users/{email}", tag = "directory",
    params(("email" = String, Path)), responses((status = 200, body = User), (status = 401, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.escalator.user(&email, &actor).await?))
}

/// A user's notification preferences: channels per kind, time zone, quiet hours.
#[utoipa::path(get, path = "/users/{email}/preferences", tag = "directory",
    params(("email" = String, Path)),
    responses((status = 200, body = NotificationPreferences), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody, description = "someone else's, and the caller is not an admin"),
        (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_preferences(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
) -> Result<Json<NotificationPreferences>, ApiError> {
    Ok(Json(state.escalator.preferences(&actor, &email).await?))
}

/// Replace a user's notification preferences (admins: anyone's; users: their own). Kinds
/// left out get the defaults (e-mail and in-app); SMS is opt-in.
#[utoipa::path(put, path = "/users/{email}/preferences", tag = "directory",
    params(("email" = String, Path)), request_body = NotificationPreferences,
    responses((status = 200, body = NotificationPreferences), (status = 400, body = crate::http::error::ErrorBody, description = "malformed JSON, unknown kind or channel"),
        (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody),
        (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody, description = "invalid time zone")),
    security(("bearer" = [])))]
pub async fn put_preferences(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
    ApiJson(input): ApiJson<NotificationPreferences>,
) -> Result<Json<NotificationPreferences>, ApiError> {
    Ok(Json(state.escalator.set_preferences(&actor, &email, input).await?))
}
