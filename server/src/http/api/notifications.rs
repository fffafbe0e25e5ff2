//! `/notifications` (the caller's in-app bell) and `/outbox` (admins: dead letters, retry).

use axum::extract::State;
use axum::Json;
use escalator_storage::{Notification, OutboxMessage, OutboxStatus, Webhook, WebhookDelivery};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::page_limit;
use crate::http::{ApiError, AppState};

/// Filters of `GET /notifications`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    #[serde(default)]
    pub unread: bool,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    pub before_id: Option<i64>,
}

/// A page of notifications and the unread count for the bell.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub unread: i64,
    pub next_before_id: Option<i64>,
}

/// How many notifications a call marked read.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Marked {
    pub marked: u64,
}

/// The caller's in-app notifications, newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = NotificationPage), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let (items, unread) = state
        .escalator
        .notifications(&actor, q.unread, q.before_id, limit)
        .await?;
    let next_before_id = if items.len() as i64 == limit {
        items.last().map(|n| n.id)
    } else {
        None
    };
    Ok(Json(NotificationPage {
        items,
        unread,
        next_before_id,
    }))
}

/// Mark one notification read.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications", params(("id" = i64, Path)),
    responses((status = 200, body = Marked), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Marked>, ApiError> {
    Ok(Json(Marked {
        marked: state.escalator.mark_read(&actor, Some(id)).await?,
    }))
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/notifications/read-all", tag = "notifications",
    responses((status = 200, body = Marked), (status = 401, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn mark_all_read(State(state): State<AppState>, Caller(actor): Caller) -> Result<Json<Marked>, ApiError> {
    Ok(Json(Marked {
        marked: state.escalator.mark_read(&actor, None).await?,
    }))
}

/// Filters of `GET /outbox`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// pending, delivered, dead or discarded.
    pub status: Option<OutboxStatus>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Outbox rows, oldest first (admins): dead letters show their last error.
#[utoipa::path(get, path = "/outbox", tag = "notifications", params(OutboxQuery),
    responses((status = 200, body = [OutboxMessage]), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn outbox(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Json<Vec<OutboxMessage>>, ApiError> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.escalator.outbox(&actor, q.status, limit).await?))
}

/// Send a dead-lettered message again (admins).
#[utoipa::path(post, path = "/outbox/{id}/retry", tag = "notifications", params(("id" = i64, Path)),
    responses((status = 202, description = "queued again"), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn retry(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    state.escalator.retry_dead_letter(&actor, id).await?;
    Ok(axum::http::StatusCode::ACCEPTED)
}

/// Discard a dead-lettered message (admins): it is kept on record, never sent, and no
/// longer counted as a dead letter.
#[utoipa::path(post, path = "/outbox/{id}/discard", tag = "notifications", params(("id" = i64, Path)),
    responses((status = 204, description = "discarded"), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn discard(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    state.escalator.discard_dead_letter(&actor, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Body of `POST /webhooks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// An http or https URL (its host must be allowed by `ESCALATOR_WEBHOOK_HOSTS` when set).
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// 16 to 200 characters; generated (and returned once) when omitted.
    #[schema(min_length = 16, max_length = 200)]
    pub secret: Option<String>,
    /// Topics to receive (e.g. `workflow.escalated`); empty or omitted: every event.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub event_types: Vec<EventType>,
}

/// An event type (see the `Event` schema and `WebhookEvent`, what an endpoint receives).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(
    value_type = String,
    pattern = "^workflow\\.(reminded|escalated|handed_over|chain_exhausted|completed|advanced|reassigned|cancelled|held|resumed)$"
)]
pub struct EventType(pub String);

/// A registered webhook with its signing secret (shown only in this response).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisteredWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    pub secret: String,
}

/// Register a webhook endpoint (admins). Events are POSTed as a `WebhookEvent` with headers
/// `X-Escalator-Event`, `X-Escalator-Event-Id`, `X-Escalator-Timestamp` and
/// `X-Escalator-Signature: sha256=HMAC-SHA256(secret, "{timestamp}.{body}")`.
#[utoipa::path(post, path = "/webhooks", tag = "notifications", request_body = WebhookInput,
    responses((status = 201, body = RegisteredWebhook), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register_webhook(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<WebhookInput>,
) -> Result<(axum::http::StatusCode, Json<RegisteredWebhook>), ApiError> {
    let (webhook, secret) = state
        .escalator
        .register_webhook(
            &actor,
            &input.url,
            input.secret.as_deref(),
            &input.event_types.into_iter().map(|t| t.0).collect::<Vec<_>>(),
        )
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(RegisteredWebhook { webhook, secret }),
    ))
}

/// Webhook endpoints (admins).
#[utoipa::path(get, path = "/webhooks", tag = "notifications",
    responses((status = 200, body = [Webhook]), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    Ok(Json(state.escalator.webhooks(&actor).await?))
}

/// Stop sending events to an endpoint (admins); its log is kept.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "notifications", params(("id" = i64, Path)),
    responses((status = 200, body = Webhook), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn deactivate_webhook(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Webhook>, ApiError> {
    Ok(Json(state.escalator.set_webhook_active(&actor, id, false).await?))
}

/// An endpoint's delivery log, newest first (admins).
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "notifications", params(("id" = i64, Path)),
    responses((status = 200, body = [WebhookDelivery]), (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)), security(("bearer" = [])))]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<WebhookDelivery>>, ApiError> {
    Ok(Json(state.escalator.webhook_deliveries(&actor, id).await?))
}
