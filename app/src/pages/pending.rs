//! The home page: open workflows with live SLA countdowns, counts per SLA status,
//! filters, order and keyset pagination. Filters are a GET form, so the URL is the state.

use escalator_domain::SlaStatus;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::countdown::{provide_clock, Countdown};
use crate::components::{ErrorNote, Person};
use crate::model::{sla_class, sla_label, PendingPage};
use crate::server_fns::session::urlencode;
use crate::server_fns::workflows::pending;

/// The pending-workflows page.
#[component]
pub fn PendingPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.get();
            (
                q.get("department"),
                q.get("sla"),
                q.get("assignee"),
                q.get("sort"),
                q.get("after"),
            )
        },
        |(department, sla, assignee, sort, after)| pending(department, sla, assignee, sort, after),
    );
    view! {
        <h1>"Pending workflows"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Pending page/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Pending(page: PendingPage) -> impl IntoView {
    let query = use_query_map();
    let q = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    provide_clock(page.now);
    let page_now = page.now;
    let count = |status: SlaStatus| page.counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
    let counts: Vec<(SlaStatus, i64)> = [
        SlaStatus::Ok,
        SlaStatus::Warning,
        SlaStatus::Breached,
        SlaStatus::Paused,
    ]
    .into_iter()
    .map(|s| (s, count(s)))
    .collect();
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let (department, sla, assignee, sort) = (q("department"), q("sla"), q("assignee"), q("sort"));
    // The filters as a query string, for the page links.
    let filters: Vec<String> = [
        ("department", &department),
        ("sla", &sla),
        ("assignee", &assignee),
        ("sort", &sort),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(key, value)| format!("{key}={}", urlencode(value)))
    .collect();
    let href = |extra: Option<String>| {
        format!(
            "/?{}",
            filters.iter().cloned().chain(extra).collect::<Vec<_>>().join("&")
        )
    };
    let next_href = page
        .next
        .clone()
        .map(|after| href(Some(format!("after={}", urlencode(&after)))));
    let first_href = (!q("after").is_empty()).then(|| href(None));
    view! {
        <ul class="counts" aria-label="Open workflows by SLA status">
            <li data-testid="count-total"><strong>{total}</strong>" open"</li>
            {counts.into_iter().map(|(status, n)| view! {
                <li class=sla_class(status) data-testid=format!("count-{status:?}").to_lowercase()>
                    <strong>{n}</strong>" " {sla_label(status)}
                </li>
            }).collect_view()}
        </ul>
        <Form method="GET" action="/" attr:class="filters" attr:aria-label="Filters">
            <div class="field">
                <label for="f-department">"Department"</label>
                <select id="f-department" name="department">
                    <option value="">"All"</option>
                    {page.departments.iter().map(|(key, name)| {
                        let selected = *key == department;
                        view! { <option value=key.clone() selected=selected>{name.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-sla">"SLA status"</label>
                <select id="f-sla" name="sla">
                    <option value="">"All"</option>
                    {["ok", "warning", "breached", "paused"].into_iter().map(|s| {
                        let selected = s == sla;
                        view! { <option value=s selected=selected>{s}</option> }
                    }).collect_view()}
                    <option value="attention" selected=sla == "attention">"needs attention (top of chain, overdue)"</option>
                </select>
            </div>
            <div class="field">
                <label for="f-assignee">"Assignee"</label>
                <input id="f-assignee" name="assignee" type="search" placeholder="e-mail" value=assignee.clone()/>
            </div>
            <div class="field">
                <label for="f-sort">"Order"</label>
                <select id="f-sort" name="sort">
                    <option value="" selected=sort.is_empty()>"Least time left"</option>
                    <option value="newest" selected=sort == "newest">"Newest"</option>
                </select>
            </div>
            <button type="submit">"Apply"</button>
        </Form>
        {if page.rows.is_empty() {
            view! { <p class="empty">"No open workflows match."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                <table class="workflows" data-testid="workflows">
                    <thead><tr>
                        <th scope="col">"Workflow"</th>
                        <th scope="col">"Department"</th>
                        <th scope="col">"Stage"</th>
                        <th scope="col">"Assignee"</th>
                        <th scope="col">"SLA"</th>
                    </tr></thead>
                    <tbody>
                        {page.rows.into_iter().map(|row| {
                            let href = format!("/workflows/{}", row.id);
                            let clock = row.clock();
                            let department = row.department;
                            view! {
                                <tr data-testid="workflow-row" data-department=department.clone()>
                                    <td><a href=href>{row.title}</a>
                                        <div class="muted">{row.external_id} " · " {row.workflow_type}
                                            {(row.level > 0).then(|| format!(" · escalated ×{}", row.level))}</div></td>
                                    <td>{department.clone()}</td>
                                    <td>{row.stage}</td>
                                    <td><Person name=row.assignee_name email=row.assignee/></td>
                                    <td class="sla"><Countdown clock page_now/></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }}
        <nav class="pager" aria-label="Pages">
            {first_href.map(|href| view! { <a href=href>"First page"</a> })}
            {next_href.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
        </nav>
    }
}
