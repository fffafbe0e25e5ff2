//! The audit log (admins): filter by workflow, action, actor and time range, page back
//! in time, export the filtered entries as CSV.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::{when_in, ErrorNote};
use crate::server_fns::audit::{audit, AuditQuery};
use crate::server_fns::session::urlencode;

const FILTERS: [(&str, &str, &str); 5] = [
    ("workflow_id", "Workflow id", "number"),
    ("action", "Action", "text"),
    ("actor", "Actor", "text"),
    ("from", "From (date)", "date"),
    ("to", "To (date)", "date"),
];

/// The audit log page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = move || {
        let q = query_map.get();
        AuditQuery {
            workflow_id: q.get("workflow_id"),
            action: q.get("action"),
            actor: q.get("actor"),
            from: q.get("from"),
            to: q.get("to"),
            before: q.get("before"),
        }
    };
    let data = Resource::new(query, audit);
    // The query string without the page cursor: for the CSV export and the next page.
    let filters = move || {
        let q = query_map.get();
        FILTERS
            .iter()
            .filter_map(|(key, _, _)| {
                q.get(key)
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{key}={}", urlencode(&v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    view! {
        <h1>"Audit log"</h1>
        <Form method="GET" action="/audit" attr:class="filters" attr:aria-label="Filters">
            {FILTERS.iter().map(|(key, label, kind)| {
                let value = query_map.read_untracked().get(key).unwrap_or_default();
                let id = format!("f-{key}");
                view! {
                    <div class="field">
                        <label for=id.clone()>{*label}</label>
                        <input id=id name=*key type=*kind value=value/>
                    </div>
                }
            }).collect_view()}
            <button type="submit">"Filter"</button>
        </Form>
        <p><a href=move || format!("/ui/export/audit.csv?{}", filters()) download="audit.csv">"Export CSV"</a></p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let zone = page.zone.clone();
                        let next = page.next.map(|before| {
                            let f = filters();
                            format!("/audit?{f}{}before={before}", if f.is_empty() { "" } else { "&" })
                        });
                        view! {
                            {page.rows.is_empty().then(|| view! { <p class="empty">"No entries match."</p> })}
                            <div class="table-wrap">
                            <table class="audit" data-testid="audit">
                                <thead><tr>
                                    <th scope="col">"When"</th><th scope="col">"Actor"</th><th scope="col">"Action"</th>
                                    <th scope="col">"Workflow"</th><th scope="col">"Details"</th>
                                </tr></thead>
                                <tbody>
                                    {page.rows.into_iter().map(|e| view! {
                                        <tr data-testid="audit-row">
                                            <td>{when_in(e.at, &zone)}</td><td>{e.actor}</td><td data-testid="audit-action">{e.action}</td>
                                            <td>{e.workflow_id.map(|id| view! { <a href=format!("/workflows/{id}")>{id}</a> })}</td>
                                            <td class="small">
                                                <dl class="fields">
                                                    {e.fields.into_iter().map(|(label, value)| view! {
                                                        <dt>{label}</dt><dd>{value}</dd>
                                                    }).collect_view()}
                                                </dl>
                                                <details><summary>"As recorded"</summary><code>{e.details}</code></details>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <nav class="pager">{next.map(|href| view! { <a href=href rel="next">"Older →"</a> })}</nav>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}
