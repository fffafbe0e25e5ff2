//! `/users/{email}/availability`, `/absences`, `/delegate`, `/deactivate`: who can take
//! work, and whom it goes to while they are away.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use escalator_engine::availability::{AbsenceInput, AvailabilityView};
use escalator_storage::AbsenceRecord;
use serde::Deserialize;

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

/// The body of `PUT /users/{email}/delegate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegateInput {
    /// The user who takes their work while they are away; null clears it.
    #[schema(max_length = 254)]
    pub delegate: Option<String>,
}

/// The body of `POST /users/{email}/absences/import`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsenceImport {
    /// An iCalendar (.ics) file, e.g. exported from an HR system or a mail calendar.
    #[schema(min_length = 1, max_length = 150000)]
    pub ics: String,
}

/// A person's availability: standing delegate, deactivation, absences not yet over
/// (themselves and admins).
#[utoipa::path(get, path = "/users/{email}/availability", tag = "directory",
    params(("email" = String, Path)),
    responses((status = 200, body = AvailabilityView), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_availability(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
) -> Result<Json<AvailabilityView>, ApiError> {
    Ok(Json(state.escalator.availability(&email, &actor).await?))
}

/// A person's absences not yet over, by start (themselves and admins).
#[utoipa::path(get, path = "/users/{email}/absences", tag = "directory",
    params(("email" = String, Path)),
    responses((status = 200, body = [AbsenceRecord]), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_absences(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
) -> Result<Json<Vec<AbsenceRecord>>, ApiError> {
    Ok(Json(state.escalator.availability(&email, &actor).await?.absences))
}

/// Record an absence (themselves and admins). Bounds are dates (`2026-12-24`, the last
/// day included), local times in the person's time zone (`2026-12-24T13:00`) or instants
/// with an offset. When it starts, their open work goes to the delegate (or one level up).
#[utoipa::path(post, path = "/users/{email}/absences", tag = "directory",
    params(("email" = String, Path)), request_body = AbsenceInput,
    responses((status = 201, body = AbsenceRecord), (status = 400, body = crate::http::error::ErrorBody),
        (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody),
        (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_absence(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
    ApiJson(input): ApiJson<AbsenceInput>,
) -> Result<(StatusCode, Json<AbsenceRecord>), ApiError> {
    let record = state.escalator.add_absence(&email, &input, &actor).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// Import absences from an iCalendar file (themselves and admins); events already
/// recorded with the same bounds, and those already over, are skipped.
#[utoipa::path(post, path = "/users/{email}/absences/import", tag = "directory",
    params(("email" = String, Path)), request_body = AbsenceImport,
    responses((status = 201, body = [AbsenceRecord], description = "the absences added"), (status = 400, body = crate::http::error::ErrorBody),
        (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody),
        (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody, description = "the file, with its line")),
    security(("bearer" = [])))]
pub async fn import_absences(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
    ApiJson(input): ApiJson<AbsenceImport>,
) -> Result<(StatusCode, Json<Vec<AbsenceRecord>>), ApiError> {
    let added = state.escalator.import_absences(&email, &input.ics, &actor).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Delete an absence (themselves and admins). Work already handed on stays where it went.
#[utoipa::path(delete, path = "/users/{email}/absences/{id}", tag = "directory",
    params(("email" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_absence(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath((email, id)): ApiPath<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    state.escalator.remove_absence(&email, id, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set or clear a person's standing delegate (themselves and admins).
#[utoipa::path(put, path = "/users/{email}/delegate", tag = "directory",
    params(("email" = String, Path)), request_body = DelegateInput,
    responses((status = 200, body = AvailabilityView), (status = 400, body = crate::http::error::ErrorBody),
        (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody),
        (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_delegate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
    ApiJson(input): ApiJson<DelegateInput>,
) -> Result<Json<AvailabilityView>, ApiError> {
    Ok(Json(
        state
            .escalator
            .set_delegate(&email, input.delegate.as_deref(), &actor)
            .await?,
    ))
}

/// Deactivate a person (admins, not themselves): signed out, tokens revoked, away for
/// good for routing; their open work is handed on. Reversible.
#[utoipa::path(post, path = "/users/{email}/deactivate", tag = "directory",
    params(("email" = String, Path)),
    responses((status = 200, body = AvailabilityView), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, body = crate::http::error::ErrorBody, description = "oneself")),
    security(("bearer" = [])))]
pub async fn deactivate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
) -> Result<Json<AvailabilityView>, ApiError> {
    Ok(Json(state.escalator.deactivate_user(&email, &actor).await?))
}

/// Reactivate a deactivated person (admins). Work handed on stays where it went.
#[utoipa::path(post, path = "/users/{email}/reactivate", tag = "directory",
    params(("email" = String, Path)),
    responses((status = 200, body = AvailabilityView), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reactivate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(email): ApiPath<String>,
) -> Result<Json<AvailabilityView>, ApiError> {
    Ok(Json(state.escalator.reactivate_user(&email, &actor).await?))
}
