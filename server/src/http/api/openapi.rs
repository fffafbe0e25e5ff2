//! The OpenAPI document, generated from the handlers' annotations and the types' schemas.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{audit, directory, notifications, policies, reminders, workflows};

/// Escalator's REST API v1.
#[derive(OpenApi)]
#[openapi(
    info(title = "Escalator API", version = "1", description = "Workflow SLA escalation: push pending approvals, report stage changes, configure policies and chains, read the audit log."),
    paths(
        directory::put_department, directory::list_departments, directory::get_department,
        directory::put_user, directory::list_users, directory::get_user,
        directory::get_preferences, directory::put_preferences,
        policies::create_policy, policies::list_policies, policies::get_policy, policies::update_policy,
        policies::create_chain, policies::list_chains, policies::get_chain, policies::update_chain,
        workflows::create, workflows::list, workflows::get,
        workflows::complete, workflows::advance, workflows::reassign, workflows::cancel, workflows::hold, workflows::resume, workflows::sla,
        workflows::get_external, workflows::complete_external, workflows::advance_external, workflows::cancel_external,
        policies::preview_policy, policies::apply_policy,
        policies::create_calendar, policies::list_calendars, policies::get_calendar, policies::update_calendar,
        workflows::run_escalations, audit::list, reminders::list, reminders::acknowledge,
        notifications::list, notifications::mark_read, notifications::mark_all_read,
        notifications::outbox, notifications::retry,
        notifications::register_webhook, notifications::list_webhooks, notifications::deactivate_webhook,
        notifications::webhook_deliveries,
        document, crate::http::metrics::render,
    ),
    components(schemas(crate::http::error::ErrorBody, crate::http::error::ErrorDetail)),
    modifiers(&BearerAuth),
    tags(
        (name = "directory", description = "Departments and users"),
        (name = "policies", description = "SLA policies and escalation chains"),
        (name = "workflows", description = "Watched workflows and their actions"),
        (name = "escalations", description = "The escalation engine"),
        (name = "audit", description = "The append-only audit log"),
        (name = "reminders", description = "SLA warnings sent to assignees"),
        (name = "notifications", description = "In-app notifications and the delivery outbox"),
        (name = "meta", description = "This document"),
        (name = "metrics", description = "Prometheus metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("esc_…")
                    .build(),
            ),
        );
    }
}

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
