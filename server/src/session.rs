//! Browser sessions of the UI: tower-sessions with its records in our own database
//! (the `sessions` table of SQLite or PostgreSQL), so every replica sees every session,
//! plus the same-origin check that protects state-changing UI requests from other sites.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use escalator_engine::Escalator;
use escalator_storage::SessionRecord;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

/// tower-sessions' store over the engine's session records.
#[derive(Clone)]
pub struct DbSessions {
    escalator: Escalator,
}

impl fmt::Debug for DbSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSessions").finish_non_exhaustive()
    }
}

impl DbSessions {
    /// Sessions kept through `escalator`.
    pub fn new(escalator: Escalator) -> Self {
        Self { escalator }
    }
}

fn backend(err: impl fmt::Display) -> Error {
    Error::Backend(err.to_string())
}

fn to_row(record: &Record) -> Result<SessionRecord> {
    let expires_at = DateTime::<Utc>::from_timestamp(record.expiry_date.unix_timestamp(), 0)
        .ok_or_else(|| Error::Encode("expiry out of range".into()))?;
    Ok(SessionRecord {
        id: record.id.to_string(),
        data: serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?,
        expires_at,
    })
}

#[async_trait]
impl SessionStore for DbSessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are 128 random bits; a collision is retried rather than overwriting a session.
        loop {
            if self.escalator.create_session(&to_row(record)?).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.escalator.save_session(&to_row(record)?).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Some(row) = self.escalator.load_session(&id.to_string()).await.map_err(backend)? else {
            return Ok(None);
        };
        let expiry_date = OffsetDateTime::from_unix_timestamp(row.expires_at.timestamp())
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&row.data).map_err(|e| Error::Decode(e.to_string()))?,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.escalator.delete_session(&id.to_string()).await.map_err(backend)
    }
}

/// The session layer: an HttpOnly, SameSite=Lax cookie (Secure when served over TLS)
/// that expires after `idle_minutes` without a request.
pub fn layer(escalator: Escalator, secure: bool, idle_minutes: i64) -> SessionManagerLayer<DbSessions> {
    SessionManagerLayer::new(DbSessions::new(escalator))
        .with_name("escalator_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        // Not saved on every request (a database write per page view); `touch` moves the
        // idle deadline forward instead.
        .with_expiry(Expiry::OnInactivity(Duration::minutes(idle_minutes)))
}

/// The session key holding when a signed-in session was last saved (Unix seconds).
const SEEN_KEY: &str = "seen";
/// How often, at most, a request moves a signed-in session's idle deadline forward.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// Moves a signed-in session's idle deadline forward at most once a minute by marking
/// it changed (a changed session is saved, with a new expiry, after the response).
/// Signed-out visitors get no session row.
pub async fn touch(request: Request, next: Next) -> Response {
    if let Some(session) = request.extensions().get::<Session>() {
        if let Ok(Some(_)) = session.get::<String>(app::ssr::USER_KEY).await {
            let now = Utc::now().timestamp();
            let seen = session.get::<i64>(SEEN_KEY).await.ok().flatten();
            if seen.is_none_or(|seen| now - seen >= TOUCH_EVERY_SECONDS) {
                if let Err(err) = session.insert(SEEN_KEY, now).await {
                    tracing::warn!(%err, "could not refresh the session's idle deadline");
                }
            }
        }
    }
    next.run(request).await
}

/// Whether a request that may change state comes from our own pages: its `Origin` must
/// be this server (or the configured public URL); without `Origin`, the browser's
/// `Sec-Fetch-Site` must say same-origin. Safe methods always pass.
pub fn same_origin(request: &Request, public_origin: Option<&str>) -> bool {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let headers = request.headers();
    let text = |name| headers.get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
    match text(header::ORIGIN) {
        Some(origin) => {
            let authority = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .unwrap_or("");
            text(header::HOST) == Some(authority) || public_origin == Some(origin)
        }
        None => text(header::HeaderName::from_static("sec-fetch-site")) == Some("same-origin"),
    }
}

/// Middleware rejecting cross-site state-changing requests with 403.
pub async fn reject_cross_site(public_origin: Option<Arc<str>>, request: Request, next: Next) -> Response {
    if same_origin(&request, public_origin.as_deref()) {
        next.run(request).await
    } else {
        tracing::warn!(path = %request.uri().path(), "rejected a cross-site request");
        (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({
                "error": { "code": "cross_site_request", "message": "state-changing requests must come from Escalator's own pages", "field": "Origin" }
            })),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(Method::POST).uri("/ui/fn/login");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn only_same_origin_posts_pass() {
        let host = ("host", "esc.example:3000");
        assert!(same_origin(&post(&[host, ("origin", "http://esc.example:3000")]), None));
        assert!(same_origin(
            &post(&[host, ("origin", "https://esc.example:3000")]),
            None
        ));
        assert!(!same_origin(&post(&[host, ("origin", "http://evil.example")]), None));
        assert!(!same_origin(&post(&[host, ("origin", "null")]), None));
        assert!(same_origin(&post(&[host, ("sec-fetch-site", "same-origin")]), None));
        assert!(!same_origin(&post(&[host, ("sec-fetch-site", "cross-site")]), None));
        assert!(!same_origin(&post(&[host]), None), "no evidence of origin is refused");
        // Behind a proxy that rewrites Host, the public URL's origin is ours too.
        assert!(same_origin(
            &post(&[("host", "10.0.0.7:3000"), ("origin", "https://esc.example")]),
            Some("https://esc.example")
        ));
        let get = Request::builder().uri("/").body(Body::empty()).unwrap();
        assert!(same_origin(&get, None));
    }
}
