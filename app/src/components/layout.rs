//! The frame of every page: the header with navigation for the user's role, the
//! notification bell with its unread count, and sign-out.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::error::AppError;
use crate::model::{role_label, Me};
use crate::server_fns::session::whoami;

/// The signed-in user, loaded once per page for the header and for pages that adapt to the role.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, AppError>>);

/// Header, navigation and the page below it.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    provide_context(CurrentUser(user));
    // Flips once the WASM app runs; end-to-end tests wait for it before interacting.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <div data-testid="app" data-hydrated=move || hydrated.get().to_string() hidden></div>
        <header class="top">
            <a class="brand" href="/">"Escalator"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(me)) => view! { <Nav me/> }.into_any(),
                        _ => view! { <nav class="nav"><a href="/login">"Sign in"</a></nav> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main class="page">{children()}</main>
    }
}

#[component]
fn Nav(me: Me) -> impl IntoView {
    let admin = me.is_admin();
    // Chains and policies are read by heads too (engine/src/access.rs); editing is the admins'.
    let reads_rules = admin || me.role == escalator_domain::Role::DepartmentHead;
    let unread = me.unread;
    view! {
        <nav class="nav" aria-label="Main">
            <A href="/">"Pending"</A>
            <A href="/reminders">"Reminders"</A>
            // Reports go to the same readers: heads for their department, admins for all.
            {reads_rules.then(|| view! { <A href="/reports">"Reports"</A> })}
            {reads_rules.then(|| view! {
                <A href="/chains">"Chains"</A>
                <A href="/groups">"Groups"</A>
                <A href="/policies">"SLA policies"</A>
            })}
            <A href="/directory">{if admin { "Users & departments" } else { "People" }}</A>
            {admin.then(|| view! { <A href="/audit">"Audit log"</A> })}
            <A href="/settings">"My settings"</A>
            <A href="/integrations">{if admin { "Integrations" } else { "API tokens" }}</A>
            <a href="/notifications" class="bell" data-testid="bell"
                aria-label=format!("Notifications, {unread} unread")>
                <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"/>
                </svg>
                {(unread > 0).then(|| view! { <span class="count">{unread}</span> })}
            </a>
            <span class="who" title=me.email.clone()>
                {me.name.clone()} " · " {role_label(me.role)}
                {me.department.clone().map(|d| format!(" · {d}"))}
            </span>
            <form method="post" action="/ui/fn/logout" class="inline">
                <button type="submit" class="link">"Sign out"</button>
            </form>
        </nav>
    }
}
