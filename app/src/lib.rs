//! Escalator's UI: one Leptos app rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`). Pages live in `pages/`, their server functions in `server_fns/`,
//! shared pieces (layout, countdown) in `components/`.

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
    path,
};

use crate::components::layout::Layout;
use crate::pages::{audit, chains, directory, login, pending, policies, reminders, workflow};

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

/// The application: routes to the pages, inside the common layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/escalator.css"/>
        <Title text="Escalator"/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=path!("/") view=pending::PendingPage/>
                    <Route path=path!("/login") view=login::LoginPage/>
                    <Route path=path!("/workflows/:id") view=workflow::WorkflowPage/>
                    <Route path=path!("/reminders") view=reminders::RemindersPage/>
                    <Route path=path!("/notifications") view=reminders::NotificationsPage/>
                    <Route path=path!("/audit") view=audit::AuditPage/>
                    <Route path=path!("/chains") view=chains::Page/>
                    <Route path=path!("/policies") view=policies::Page/>
                    <Route path=path!("/directory") view=directory::Page/>
                </Routes>
            </Layout>
        </Router>
    }
}
