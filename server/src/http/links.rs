//! The pages of one-click links in messages: plain HTML forms that work without signing in
//! and without JavaScript. `GET /act/{token}` shows what the link would do and changes
//! nothing (mail scanners prefetch links); the page's form POSTs to the same address,
//! which acts once through the engine ([`Escalator::follow_link`]).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use escalator_domain::readable;
use escalator_engine::links::{LinkPage, LinkState};
use escalator_engine::{EngineError, Escalator};
use minijinja::{context, AutoEscape, Environment};
use serde::Deserialize;

use crate::http::AppState;

/// The routes of link pages.
pub fn routes() -> Router<AppState> {
    Router::new().route("/act/{token}", get(show).post(follow))
}

/// What the confirmation form sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// For a snooze: how many hours (one of the offered lengths).
    pub snooze_hours: Option<String>,
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let page = state.escalator.link_page(&token).await;
    respond(&state.escalator, &token, page)
}

async fn follow(State(state): State<AppState>, Path(token): Path<String>, Form(form): Form<Confirm>) -> Response {
    let page = state.escalator.follow_link(&token, form.snooze_hours.as_deref()).await;
    respond(&state.escalator, &token, page)
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer">
<title>{{ heading }} · Escalator</title>
<link rel="stylesheet" href="/pkg/escalator.css">
</head>
<body>
<main id="main" class="link-page">
<h1>{{ heading }}</h1>
{% if workflow %}
<section class="card" aria-labelledby="what-h">
<h2 id="what-h">{{ workflow.title }}</h2>
<dl class="facts">
<dt>Reference</dt><dd>{{ workflow.workflow_type }} {{ workflow.external_id }} · {{ workflow.department }}</dd>
<dt>Stage</dt><dd>{{ workflow.stage }}</dd>
<dt>Status</dt><dd data-testid="link-status">{{ workflow.status }}</dd>
<dt>With</dt><dd>{{ assignee }}</dd>
<dt>Due</dt><dd>{{ due }}</dd>
</dl>
</section>
{% endif %}
{% if state == "ready" %}
<form method="post" action="/act/{{ token }}" class="card">
<p>You are acting as <strong>{{ recipient }}</strong>.</p>
{% if action == "snooze" %}
<label for="snooze_hours">Snooze for</label>
<select id="snooze_hours" name="snooze_hours">
{% for choice in snooze_choices %}<option value="{{ choice[0] }}"{% if choice[0] == 4 %} selected{% endif %}>{{ choice[1] }}</option>
{% endfor %}</select>
{% endif %}
{% if action == "delegate" %}
{% if delegate %}<p>It goes to your delegate, <strong>{{ delegate }}</strong>.</p>{% else %}<p>You have no delegate yet: choose one on <a href="/settings">My settings</a>.</p>{% endif %}
{% endif %}
<button type="submit" data-testid="confirm">{{ label }}</button>
</form>
{% else %}
<p class="{{ state }}" role="status" data-testid="link-outcome">{{ message }}</p>
{% endif %}
<p><a href="/workflows/{{ workflow_id }}">Open the workflow in Escalator</a></p>
</main>
</body>
</html>
"#;

fn respond(escalator: &Escalator, token: &str, page: Result<LinkPage, EngineError>) -> Response {
    let page = match page {
        Ok(page) => page,
        Err(EngineError::NotFound { .. }) => {
            return html(
                StatusCode::NOT_FOUND,
                render_message(
                    "This link is not valid",
                    "It was changed or cut short: open Escalator instead.",
                ),
            )
        }
        Err(err) => {
            tracing::error!(%err, "a message link failed");
            return html(
                StatusCode::SERVICE_UNAVAILABLE,
                render_message(
                    "Please try again",
                    "Escalator could not handle this link just now; nothing was changed.",
                ),
            );
        }
    };
    let now = escalator.now();
    let (state, message, snooze_choices, delegate) = match &page.state {
        LinkState::Ready {
            snooze_choices,
            delegate,
        } => ("ready", String::new(), snooze_choices.clone(), delegate.clone()),
        LinkState::Done { outcome } => ("done", outcome.clone(), Vec::new(), None),
        LinkState::AlreadyUsed { outcome, at } => (
            "already-used",
            match readable::relative(*at, now).as_str() {
                "now" => format!("This link was already used just now: {outcome}"),
                when => format!("This link was already used {when}: {outcome}"),
            },
            Vec::new(),
            None,
        ),
        LinkState::Stale { why } => ("stale", why.clone(), Vec::new(), None),
        LinkState::Refused { why } => ("refused", format!("This could not be done: {why}"), Vec::new(), None),
    };
    let heading = match &page.state {
        LinkState::Ready { .. } => page.action.label().to_string(),
        LinkState::Done { .. } => "Done".to_string(),
        LinkState::AlreadyUsed { .. } => "Already done".to_string(),
        LinkState::Stale { .. } => "This link is out of date".to_string(),
        LinkState::Refused { .. } => "Not possible".to_string(),
    };
    let zone = readable::zone(page.time_zone.as_deref());
    let workflow_id = page.workflow.as_ref().map_or(0, |w| w.id);
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    let body = env.render_str(
        PAGE,
        context! {
            heading,
            token,
            state,
            message,
            snooze_choices,
            delegate,
            action => page.action.name(),
            label => page.action.label(),
            recipient => page.recipient_name.clone().map_or_else(|| page.recipient.clone(), |n| format!("{n} ({})", page.recipient)),
            workflow => page.workflow.as_ref().map(|w| context! {
                title => w.title.clone(),
                workflow_type => w.workflow_type.clone(),
                external_id => w.external_id.clone(),
                department => w.department.clone(),
                stage => w.stage.clone(),
                status => w.status.as_str(),
            }),
            assignee => page.workflow.as_ref().map(|w| match &w.assignee_name {
                Some(name) => format!("{name} ({})", w.assignee),
                None => w.assignee.clone(),
            }),
            due => page.workflow.as_ref().map(|w| readable::deadline(w.due_at, &zone, now)),
            workflow_id,
        },
    );
    match body {
        Ok(body) => html(StatusCode::OK, body),
        Err(err) => {
            tracing::error!(%err, "the link page did not render");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                render_message("Please try again", "The page could not be shown."),
            )
        }
    }
}

fn render_message(heading: &str, message: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{h} · Escalator</title><link rel=\"stylesheet\" href=\"/pkg/escalator.css\"></head>\
         <body><main id=\"main\" class=\"link-page\"><h1>{h}</h1><p role=\"status\" data-testid=\"link-outcome\">{m}</p>\
         <p><a href=\"/\">Open Escalator</a></p></main></body></html>",
        h = escape(heading),
        m = escape(message)
    )
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The token is in the address: keep it out of caches.
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
