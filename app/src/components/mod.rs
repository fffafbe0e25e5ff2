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

/// A timestamp in UTC, compact.
pub fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
