//! Pieces shared by the pages.

pub mod countdown;
pub mod layout;

use leptos::prelude::*;

use crate::error::AppError;

/// An error box; a sign-in link when the session has ended.
#[component]
pub fn ErrorNote(error: AppError) -> impl IntoView {
    let signed_out = error.kind == crate::error::ErrorKind::Unauthenticated;
    view! {
        <p class="error" role="alert">
            {error.to_string()}
            {signed_out.then(|| view! { " " <a href="/login">"Sign in"</a> })}
        </p>
    }
}

/// A timestamp in the zone named `zone` (IANA; UTC if unknown), with the zone: `1 Dec 17:16 CET`.
pub fn when_in(at: chrono::DateTime<chrono::Utc>, zone: &str) -> String {
    escalator_domain::readable::short_time(at, &escalator_domain::readable::zone(Some(zone)))
}

/// How far `at` is from `now`: `in 2 h 10 m`, `3 h ago`.
pub fn relative(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    escalator_domain::readable::relative(at, now)
}

/// A person by name, with their e-mail on hover.
#[component]
pub fn Person(name: String, email: String) -> impl IntoView {
    view! { <span class="person" title=email>{name}</span> }
}
