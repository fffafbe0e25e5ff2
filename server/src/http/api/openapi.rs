//! The OpenAPI document, generated from the handlers' annotations and the types' schemas.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Escalator's REST API v1.
#[derive(OpenApi)]
#[openapi(
    info(title = "Escalator API", version = "1", description = "Workflow SLA escalation: push pending approvals, report stage changes, configure policies and chains, read the audit log."),
    paths(crate::http::metrics::render),
    components(schemas(
        crate::http::error::ErrorBody,
        crate::http::error::ErrorDetail,
        escalator_engine::notify::webhook::WebhookEvent
    )),
    tags(
        (name = "directory", description = "Departments and users"),
        (name = "policies", description = "SLA policies and escalation chains"),
        (name = "workflows", description = "Watched workflows and their actions"),
        (name = "escalations", description = "The escalation engine"),
        (name = "audit", description = "The append-only audit log"),
        (name = "reminders", description = "SLA warnings sent to assignees"),
        (name = "notifications", description = "In-app notifications and the delivery outbox"),
        (name = "reports", description = "SLA outcomes: compliance, breakdowns, time to decision, backlog"),
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

/// Adds the errors that the shared extractors and middleware can answer on any
/// operation, so that the document lists every status an operation really returns:
/// 400 (malformed JSON, wrong type, unknown or repeated field, an id beyond 64 bits),
/// 422 (a value out of range, text with control characters), 401 for operations that
/// need a token, 413/415 for operations with a body, 414 for over-long request targets.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let has_input =
                    operation.request_body.is_some() || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut standard = vec![("414", "the request target (path and query) is longer than 8 KiB")];
                if has_input {
                    standard.push((
                        "400",
                        "malformed request: invalid JSON, a wrong type, an unknown or repeated field, an id beyond 64 bits",
                    ));
                    standard.push((
                        "422",
                        "an invalid value: out of range, unknown reference, text with control characters",
                    ));
                }
                if secured {
                    standard.push(("401", "no valid API token"));
                }
                if operation.request_body.is_some() {
                    standard.push(("413", "the body is larger than 2 MB"));
                    standard.push(("415", "the body is not application/json"));
                }
                for (status, description) in standard {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description).into());
                }
            }
        }
    }
}

/// Completes the document the router collected: the bearer scheme, then the errors every
/// operation can answer (they depend on each operation's parameters, so they come last).
pub(super) fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    BearerAuth.modify(&mut api);
    StandardErrors.modify(&mut api);
    api
}

/// This OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    Json(DOCUMENT.get_or_init(super::document).clone())
}
