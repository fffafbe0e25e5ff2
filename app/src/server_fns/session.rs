//! Signing in and out, and who is signed in.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Me;

/// The signed-in user (none when signed out).
#[server(prefix = "/ui/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    use crate::ssr;
    let Some(actor) = ssr::maybe_actor().await? else {
        return Ok(None);
    };
    let escalator = ssr::escalator()?;
    let unread = escalator.unread_notifications(&actor).await?;
    let name = escalator.user(&actor.email, &actor).await?.name;
    Ok(Some(Me {
        name,
        email: actor.email,
        role: actor.role,
        department: actor.department,
        unread,
    }))
}

/// Where to go after signing in: a local path only, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_string(),
        _ => "/".to_string(),
    }
}

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs in with e-mail and password; a new session id is issued (no fixation).
#[server(prefix = "/ui/fn", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::ssr;
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    let escalator = ssr::escalator()?;
    let client = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let actor = match escalator.login(&email, &password, client.as_deref()).await {
        Ok(actor) => actor,
        Err(err) => {
            // A plain form post (no JavaScript) goes back to the form with the reason.
            let reason = match &err {
                escalator_engine::EngineError::TooManyAttempts(_) => "throttled",
                _ => "invalid",
            };
            let next = safe_next(next.as_deref());
            leptos_axum::redirect(&format!("/login?error={reason}&next={}", urlencode(&next)));
            return Err(err.into());
        }
    };
    let session = ssr::session().await?;
    let failed = |e: tower_sessions::session::Error| {
        tracing::error!(err = %e, "session store failed");
        ssr::fail(AppError::new(
            crate::error::ErrorKind::Server,
            "could not start a session",
        ))
    };
    session.cycle_id().await.map_err(failed)?;
    session.insert(ssr::USER_KEY, &actor.email).await.map_err(failed)?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Signs out: the session is deleted on the server and its cookie removed.
#[server(prefix = "/ui/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr;
    // Not `ssr::actor()`: it marks the response 401 when nobody is signed in, and signing
    // out without a session is not an error.
    if let Some(actor) = ssr::maybe_actor().await? {
        ssr::escalator()?.logout(&actor).await?;
    }
    if let Ok(session) = ssr::session().await {
        if let Err(err) = session.flush().await {
            tracing::warn!(%err, "could not delete a session");
        }
    }
    leptos_axum::redirect("/login");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/workflows/3")), "/workflows/3");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
