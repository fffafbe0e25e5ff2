//! Placeholder: being built.

use leptos::prelude::*;

/// The page.
#[component]
pub fn Page() -> impl IntoView {
    view! { <h1>"Coming soon"</h1> }
}
