//! One workflow: its clock and why the deadline is when it is, its place in the chain,
//! everything that happened to it, and the actions the user's role allows.

use escalator_domain::{OffsetEffect, SegmentKind};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::countdown::{provide_clock, Countdown};
use crate::components::{relative, when_in, ErrorNote, Person};
use crate::model::{human_duration, WorkflowDetail};
use crate::server_fns::workflows::{workflow, Act};

/// The workflow detail page.
#[component]
pub fn WorkflowPage() -> impl IntoView {
    let params = use_params_map();
    let act = ServerAction::<Act>::new();
    let data = Resource::new(
        move || (params.read().get("id"), act.version().get()),
        |(id, _)| async move {
            let id = id.and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
            workflow(id).await
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(detail) => view! { <Detail detail act/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn segment_label(kind: SegmentKind) -> &'static str {
    match kind {
        SegmentKind::Counted => "counted",
        SegmentKind::OutsideWorkingHours => "outside working hours",
        SegmentKind::Holiday => "holiday",
        SegmentKind::Paused => "on hold",
    }
}

#[component]
fn Detail(detail: WorkflowDetail, act: ServerAction<Act>) -> impl IntoView {
    provide_clock(detail.now);
    let row = detail.row.clone();
    let id = row.id;
    let error = move || act.value().get().and_then(Result::err);
    let field_error = move |field: &'static str| move || error().and_then(|e| e.for_field(field));
    let general_error = move || error().filter(|e| e.field.is_none()).map(|e| e.to_string());
    let can = |a: &str| detail.actions.iter().any(|x| x == a);
    let zone = detail.viewer_zone.clone();
    view! {
        <p><a href="/">"← Pending workflows"</a></p>
        <h1>{row.title.clone()}</h1>
        <p class="muted">{row.external_id.clone()} " · " {row.workflow_type.clone()} " · " {row.department.clone()}
            " · started by " <Person name=detail.initiator_name.clone() email=detail.initiator.clone()/>
            " on " {when_in(detail.created_at, &zone)}</p>
        <section class="card" aria-labelledby="sla-h">
            <h2 id="sla-h">"SLA"</h2>
            <dl class="facts">
                <dt>"Status"</dt><dd data-testid="status">{row.status.clone()}</dd>
                <dt>"Stage"</dt><dd>{row.stage.clone()}</dd>
                <dt>"Assignee"</dt><dd data-testid="assignee" data-email=row.assignee.clone()>
                    <Person name=detail.assignee_name.clone() email=row.assignee.clone()/></dd>
                {detail.routing.clone().map(|note| view! {
                    <dt>"Routed"</dt><dd data-testid="routing">{note}</dd>
                })}
                <dt>"Clock"</dt><dd><Countdown clock=row.clock() page_now=detail.now/></dd>
                <dt>"Warning at"</dt><dd>{when_in(row.warn_at, &zone)} " (" {relative(row.warn_at, detail.now)} ")"</dd>
                <dt>"Deadline"</dt><dd>{when_in(row.due_at, &zone)} " (" {relative(row.due_at, detail.now)} ")"</dd>
                <dt>"Policy"</dt><dd>{detail.policy.clone()} " (version " {detail.policy_version} ", " {detail.time_zone.clone()} ")"</dd>
            </dl>
            <details>
                <summary>"Why the deadline is then (in the calendar's zone, " {detail.time_zone.clone()} ")"</summary>
                <div class="table-wrap">
                <table class="segments">
                    <thead><tr><th scope="col">"From"</th><th scope="col">"To"</th><th scope="col">"Length"</th><th scope="col">"Counts as"</th></tr></thead>
                    <tbody>
                        {detail.segments.iter().map(|s| {
                            // The summed middle of a long clock goes where it was left out.
                            let gap = detail.omitted.clone().filter(|o| o.to == s.from).map(|o| view! {
                                <tr class="seg-omitted">
                                    <td>{when_in(o.from, &detail.time_zone)}</td><td>{when_in(o.to, &detail.time_zone)}</td>
                                    <td>{human_duration((o.to - o.from).num_seconds())}</td>
                                    <td>{format!(
                                        "{} stretches: {} counted, {} outside working hours, {} holidays, {} paused",
                                        o.segments,
                                        human_duration(o.totals.counted_seconds),
                                        human_duration(o.totals.outside_working_hours_seconds),
                                        human_duration(o.totals.holiday_seconds),
                                        human_duration(o.totals.paused_seconds),
                                    )}</td>
                                </tr>
                            });
                            view! {
                                {gap}
                                <tr class=format!("seg-{:?}", s.kind).to_lowercase()>
                                    <td>{when_in(s.from, &detail.time_zone)}</td><td>{when_in(s.to, &detail.time_zone)}</td>
                                    <td>{human_duration((s.to - s.from).num_seconds())}</td>
                                    <td>
                                        {segment_label(s.kind)}{s.holiday.clone().map(|h| format!(" ({h})"))}
                                        {s.offset_change.clone().map(|c| view! {
                                            <small class="offset-change">{format!(
                                                " · at {} the clocks {} ({} → {}): local times {}",
                                                when_in(c.at, &detail.time_zone),
                                                if c.effect == OffsetEffect::Shortened { "went forward" } else { "went back" },
                                                c.before,
                                                c.after,
                                                if c.effect == OffsetEffect::Shortened { "skipped do not count" } else { "repeated count twice" },
                                            )}</small>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </details>
        </section>
        <section class="card" aria-labelledby="chain-h">
            <h2 id="chain-h">"Escalation chain: " {detail.chain.clone()}</h2>
            <ol class="chain">
                {detail.steps.iter().map(|s| view! {
                    <li class:current=s.current>
                        {s.target.clone()}
                        {(s.time_limit_seconds > 0).then(|| format!(" — {}", human_duration(s.time_limit_seconds)))}
                        {s.current.then(|| view! { <strong>" ← here"</strong> })}
                    </li>
                }).collect_view()}
            </ol>
        </section>
        {(!detail.actions.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="actions-h">
                <h2 id="actions-h">"Actions"</h2>
                {move || general_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <div class="actions">
                    {can("complete").then(|| view! {
                        <ActionForm action=act attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value="complete"/>
                            <button type="submit">"Complete"</button>
                        </ActionForm>
                    })}
                    {can("advance").then(|| view! {
                        <ActionForm action=act attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value="advance"/>
                            <label>"Next stage" <input name="stage" required/></label>
                            <label>"Assignee" <input name="assignee" type="email" placeholder="optional"/></label>
                            <span class="field-error">{field_error("stage")}</span>
                            <button type="submit">"Advance"</button>
                        </ActionForm>
                    })}
                    {can("reassign").then(|| view! {
                        <ActionForm action=act attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value="reassign"/>
                            <label>"Reassign to" <input name="assignee" type="email" required/></label>
                            <span class="field-error" role="alert">{field_error("assignee")}</span>
                            <button type="submit">"Reassign"</button>
                        </ActionForm>
                    })}
                    {can("hold").then(|| view! {
                        <ActionForm action=act attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value="hold"/>
                            <label>"Reason" <input name="reason" required/></label>
                            <label>"For" <select name="hold_hours">
                                <option value="">"until resumed"</option>
                                <option value="1">"1 hour"</option>
                                <option value="4">"4 hours"</option>
                                <option value="24">"1 day"</option>
                                <option value="72">"3 days"</option>
                                <option value="168">"1 week"</option>
                            </select></label>
                            <span class="field-error">{field_error("reason")}</span>
                            <span class="field-error">{field_error("until")}</span>
                            <button type="submit">"Put on hold"</button>
                        </ActionForm>
                    })}
                    {can("resume").then(|| view! {
                        <ActionForm action=act attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value="resume"/>
                            <button type="submit">"Resume"</button>
                        </ActionForm>
                    })}
                    {can("cancel").then(|| view! {
                        <ActionForm action=act attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value="cancel"/>
                            <button type="submit" class="danger">"Cancel workflow"</button>
                        </ActionForm>
                    })}
                </div>
            </section>
        })}
        <section class="card" aria-labelledby="timeline-h">
            <h2 id="timeline-h">"Timeline"</h2>
            <ul class="timeline">
                {detail.timeline.iter().map(|e| {
                    let deliveries = e.deliveries.clone();
                    view! {
                        <li class=format!("tl-{}", e.action) data-testid="timeline-entry">
                            <time datetime=e.at.to_rfc3339() title=relative(e.at, detail.now)>{when_in(e.at, &zone)}</time> " "
                            <strong>{e.headline.clone()}</strong>
                            " — " <span class="muted">{e.actor.clone()}</span>
                            {e.note.clone().map(|n| view! { <div class="small">{n}</div> })}
                            {(!deliveries.is_empty()).then(|| view! {
                                <details class="small">
                                    <summary>{format!("Messages ({})", deliveries.len())}</summary>
                                    <ul class="deliveries">
                                        {deliveries.into_iter().map(|d| {
                                            let class = format!("delivery-{}", d.status);
                                            view! {
                                            <li class=class>
                                                {d.channel} {d.to.map(|t| format!(" to {t}"))} ": " {d.status}
                                                {(d.attempts > 1).then(|| format!(" after {} attempts", d.attempts))}
                                                {d.error.map(|e| format!(" — {e}"))}
                                            </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </details>
                            })}
                            <details class="small raw">
                                <summary>"Details as recorded"</summary>
                                <pre>{e.raw.clone()}</pre>
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
