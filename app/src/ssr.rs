//! Server-side glue of the server functions: the engine from the Leptos context, the
//! signed-in actor from the session, and engine errors mapped to HTTP statuses once.

use std::sync::Arc;

use escalator_engine::{Actor, EngineError, Escalator};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tokio::sync::OnceCell;
use tower_sessions::Session;

use crate::error::{AppError, ErrorKind};

/// The session key holding the signed-in user's e-mail.
pub const USER_KEY: &str = "user";

/// The engine, provided by the server when it mounts the UI.
pub fn escalator() -> Result<Escalator, AppError> {
    use_context::<Escalator>().ok_or_else(|| AppError::new(ErrorKind::Server, "the engine is not available"))
}

/// The request's session (absent outside the session layer, e.g. on error pages).
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|_| fail(AppError::new(ErrorKind::Unauthenticated, "please sign in")))
}

/// Who is signed in, looked up once per request: a page's resources each ask, and run
/// concurrently, so the first lookup is shared instead of repeated. The server provides a
/// fresh one with every request's context.
#[derive(Clone, Default)]
pub struct RequestActor(Arc<OnceCell<Option<Actor>>>);

/// The signed-in actor, as the directory says now (a changed role applies at once).
pub async fn actor() -> Result<Actor, AppError> {
    let lookup = || async {
        let session = session().await?;
        let email: Option<String> = session.get(USER_KEY).await.map_err(|e| server_error(&e))?;
        match email {
            Some(email) => Ok::<_, AppError>(escalator()?.actor(&email).await?),
            None => Ok(None),
        }
    };
    let found = match use_context::<RequestActor>() {
        Some(memo) => memo.0.get_or_try_init(lookup).await?.clone(),
        None => lookup().await?,
    };
    found.ok_or_else(|| fail(AppError::new(ErrorKind::Unauthenticated, "please sign in")))
}

/// The signed-in actor, if any.
pub async fn maybe_actor() -> Result<Option<Actor>, AppError> {
    match actor().await {
        Ok(actor) => Ok(Some(actor)),
        Err(e) if e.kind == ErrorKind::Unauthenticated => {
            set_status(200);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Whether the request is a plain HTML form post or page load (no JavaScript): those get
/// redirects, not error statuses, so the browser shows a page rather than a JSON body.
fn wants_html() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)?
                .to_str()
                .ok()
                .map(|a| a.contains("text/html"))
        })
        .unwrap_or(false)
}

fn set_status(code: u16) {
    if wants_html() {
        return;
    }
    if let (Some(options), Ok(status)) = (use_context::<ResponseOptions>(), http::StatusCode::from_u16(code)) {
        options.set_status(status);
    }
}

/// The signed-in user's time zone (IANA; UTC without one), in which pages show times.
pub async fn viewer_zone(actor: &Actor) -> Result<String, AppError> {
    Ok(escalator()?
        .preferences(actor, &actor.email)
        .await?
        .zone()
        .name()
        .to_string())
}

/// Formats instants in the signed-in user's time zone.
pub async fn local_times(actor: &Actor) -> Result<impl Fn(chrono::DateTime<chrono::Utc>) -> String, AppError> {
    let zone = escalator_domain::readable::zone(Some(&viewer_zone(actor).await?));
    Ok(move |at: chrono::DateTime<chrono::Utc>| escalator_domain::readable::short_time(at, &zone))
}

/// Sets the response status that goes with an error (server functions answer 500
/// otherwise) and returns it.
pub fn fail(error: AppError) -> AppError {
    set_status(error.kind.status());
    error
}

fn server_error(err: &dyn std::fmt::Display) -> AppError {
    tracing::error!(%err, "server function failed");
    fail(AppError::new(ErrorKind::Server, "internal error; see the server log"))
}

impl From<EngineError> for AppError {
    fn from(err: EngineError) -> Self {
        match (err.kind(), &err) {
            (_, EngineError::Invalid(v)) => fail(AppError::invalid(&v.field, v.message.clone())),
            (ErrorKind::Server, _) => server_error(&err),
            (kind, _) => fail(AppError::new(kind, err.to_string())),
        }
    }
}
