//! The Leptos UI mounted on axum: server-rendered pages and their server functions
//! (which get the engine from the Leptos context), behind browser sessions, the
//! same-origin check and the sign-in redirect; the CSV export; the built site's files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use app::server_fns::audit::{parse, AuditQuery};
use axum::extract::{Query, Request};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use escalator_engine::{Actor, Escalator};
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_sessions::Session;

use crate::http::ApiError;
use crate::session;

/// Where the built site (`pkg/` with the WASM bundle and CSS) is: the configured root,
/// else `site/` beside the binary's folder (cargo-leptos puts the binary in
/// `target/<profile>/` and the site in `target/site/`), else `target/site`.
pub fn site_root(configured: Option<&Path>) -> PathBuf {
    if let Some(root) = configured {
        return root.to_path_buf();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("site")))
        .filter(|p| p.join("pkg").is_dir())
        .unwrap_or_else(|| PathBuf::from("target/site"))
}

/// Leptos' options, built here rather than from cargo-leptos' build-time environment so
/// the binary runs the same however it was started.
pub fn options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("escalator")
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// How the UI's sessions behave.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Mark the cookie Secure (HTTPS only).
    pub secure: bool,
    /// Minutes without a request after which a session ends.
    pub idle_minutes: i64,
    /// The public URL's origin, accepted as our own behind a proxy.
    pub public_origin: Option<String>,
}

/// The UI routes; every server function sees the engine through `use_context::<Escalator>()`.
pub fn router(options: LeptosOptions, escalator: Escalator, settings: &SessionSettings) -> Router {
    let routes = generate_route_list(app::App);
    let context = {
        let escalator = escalator.clone();
        move || {
            // A page load only reads (server functions are POSTs): one look at the rules
            // and directory serves all of its server functions.
            let reading = use_context::<axum::http::request::Parts>().is_some_and(|p| p.method == Method::GET);
            provide_context(if reading {
                escalator.for_reading()
            } else {
                escalator.clone()
            });
            provide_context(app::ssr::RequestActor::default());
        }
    };
    let public_origin: Option<Arc<str>> = settings.public_origin.as_deref().map(Arc::from);
    let export = {
        let escalator = escalator.clone();
        move |session: Session, Query(query): Query<AuditQuery>| audit_csv(escalator.clone(), session, query)
    };
    let report_export = {
        let escalator = escalator.clone();
        move |session: Session, Query(query): Query<ReportCsvQuery>| report_csv(escalator.clone(), session, query)
    };
    Router::new()
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .route("/ui/export/audit.csv", get(export))
        .route("/ui/export/report.csv", get(report_export))
        .route_layer(middleware::from_fn(require_sign_in))
        .route_layer(middleware::from_fn(session::touch))
        .route_layer(middleware::from_fn(move |request: Request, next: Next| {
            session::reject_cross_site(public_origin.clone(), request, next)
        }))
        .route_layer(session::layer(
            escalator.clone(),
            settings.secure,
            settings.idle_minutes,
        ))
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(options)
}

/// Sends a signed-out browser from any page to the sign-in form, remembering where it was going.
async fn require_sign_in(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let open = path == "/login" || path.starts_with("/ui/fn/") || request.method() != Method::GET;
    if open {
        return next.run(request).await;
    }
    let signed_in = match request.extensions().get::<Session>() {
        Some(session) => matches!(session.get::<String>(app::ssr::USER_KEY).await, Ok(Some(_))),
        None => false,
    };
    if signed_in {
        return next.run(request).await;
    }
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    Redirect::to(&format!("/login?next={}", app::server_fns::session::urlencode(target))).into_response()
}

async fn signed_in_actor(escalator: &Escalator, session: &Session) -> Option<Actor> {
    let email: String = session.get(app::ssr::USER_KEY).await.ok()??;
    escalator.actor(&email).await.ok()?
}

/// `GET /ui/export/audit.csv`: the audit entries the page's filters select, as CSV (admins).
async fn audit_csv(escalator: Escalator, session: Session, query: AuditQuery) -> Result<Response, ApiError> {
    let actor = signed_in_actor(&escalator, &session)
        .await
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "please sign in"))?;
    let filter = parse::filter(&query, 100_000).map_err(|e| {
        let error = ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.message.clone());
        match e.field {
            Some(field) => error.with_field(field),
            None => error,
        }
    })?;
    // Engine errors (403 for non-admins, 500s logged) map to HTTP once, as in the REST API.
    let entries = escalator.audit_log(filter, &actor).await?;
    let mut csv = String::from("id,at,actor,action,workflow_id,details\r\n");
    for e in &entries {
        let row = [
            e.id.to_string(),
            e.at.to_rfc3339(),
            e.actor.clone(),
            e.action.clone(),
            e.workflow_id.map(|id| id.to_string()).unwrap_or_default(),
            e.details.to_string(),
        ];
        csv.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        csv.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        csv,
    )
        .into_response())
}

/// The query of `/ui/export/report.csv`: which table, and the report's filters.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportCsvQuery {
    table: String,
    from: Option<String>,
    to: Option<String>,
    department: Option<String>,
    policy_id: Option<String>,
    workflow_type: Option<String>,
    period: Option<String>,
}

/// `GET /ui/export/report.csv`: one table of the SLA report the page's filters select
/// (admins; heads for their department).
async fn report_csv(escalator: Escalator, session: Session, q: ReportCsvQuery) -> Result<Response, ApiError> {
    let actor = signed_in_actor(&escalator, &session)
        .await
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "please sign in"))?;
    let invalid =
        |field: &str, message: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid", message).with_field(field);
    let filters = app::server_fns::reports::ReportFilters {
        from: q.from,
        to: q.to,
        department: q.department,
        policy_id: q.policy_id,
        workflow_type: q.workflow_type,
        period: q.period,
    };
    let query = filters
        .into_query()
        .map_err(|e| invalid(e.field.as_deref().unwrap_or("policy_id"), &e.message))?;
    let report = escalator.sla_report(&query, &actor).await?;
    let table = report.table(&q.table).ok_or_else(|| {
        invalid(
            "table",
            &format!("one of {}", escalator_domain::report::TABLES.join(", ")),
        )
    })?;
    let mut csv = table.columns.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",");
    csv.push_str("\r\n");
    for row in &table.rows {
        csv.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        csv.push_str("\r\n");
    }
    let disposition = format!("attachment; filename=\"sla-{}.csv\"", q.table);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

/// One CSV field (RFC 4180 quoting); a leading `= + - @` is defused so spreadsheets do
/// not run it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field(r#"{"k":"v"}"#), r#""{""k"":""v""}""#);
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
