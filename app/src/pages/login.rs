//! Sign-in: a plain HTML form posted to the `login` server function, so it works with
//! and without JavaScript and always ends in a full page load of the signed-in app.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || match query.read().get("error").as_deref() {
        Some("throttled") => Some("Too many failed sign-ins. Try again in 15 minutes."),
        Some(_) => Some("Wrong e-mail or password."),
        None => None,
    };
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <form method="post" action="/ui/fn/login" class="stack">
                <input type="hidden" name="next" value=next/>
                <label for="email">"E-mail"</label>
                <input id="email" name="email" type="email" autocomplete="username" required autofocus/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}
