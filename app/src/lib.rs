//! Escalator's UI: one Leptos app rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`). Pages live in `pages/`, their server functions in `server_fns/`,
//! shared pieces (layout, countdown) in `components/`.

#![recursion_limit = "256"]

pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::components::layout::Layout;
use crate::pages::{
    audit, chains, directory, groups, integrations, login, pending, policies, reminders, reports, settings, workflow,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: routes to the pages, inside the common layout. Pages render in
/// `Async` mode: the server waits for their data and sends complete HTML, so they read
/// the same without JavaScript (out-of-order streaming would need JS to place the data).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/escalator.css"/>
        <Title text="Escalator"/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=path!("/") ssr=SsrMode::Async view=pending::PendingPage/>
                    <Route path=path!("/login") ssr=SsrMode::Async view=login::LoginPage/>
                    <Route path=path!("/workflows/:id") ssr=SsrMode::Async view=workflow::WorkflowPage/>
                    <Route path=path!("/reminders") ssr=SsrMode::Async view=reminders::RemindersPage/>
                    <Route path=path!("/notifications") ssr=SsrMode::Async view=reminders::NotificationsPage/>
                    <Route path=path!("/audit") ssr=SsrMode::Async view=audit::AuditPage/>
                    <Route path=path!("/reports") ssr=SsrMode::Async view=reports::ReportsPage/>
                    <Route path=path!("/chains") ssr=SsrMode::Async view=chains::Page/>
                    <Route path=path!("/policies") ssr=SsrMode::Async view=policies::Page/>
                    <Route path=path!("/directory") ssr=SsrMode::Async view=directory::Page/>
                    <Route path=path!("/groups") ssr=SsrMode::Async view=groups::GroupsPage/>
                    <Route path=path!("/settings") ssr=SsrMode::Async view=settings::SettingsPage/>
                    <Route path=path!("/integrations") ssr=SsrMode::Async view=integrations::IntegrationsPage/>
                </Routes>
            </Layout>
        </Router>
    }
}
