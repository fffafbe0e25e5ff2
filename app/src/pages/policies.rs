//! SLA policies and business calendars (admins). Policies: the list, a new one, or the one
//! named by `?policy=<id>`; an edit is previewed (which open workflows change status or
//! deadline) before it is saved, and once saved it can be applied to running workflows.
//! Calendars: the list, and a text form (`?calendar=<id>` to edit) that works without
//! JavaScript.
//!
//! Over 500 lines: the policy editor and the calendar form share the page and its actions.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{when_in, ErrorNote};
use crate::model::{human_duration, sla_class, sla_label};
use crate::server_fns::policies::{
    admin_policies, ApplyPolicy, ApplyZoneRules, CalendarView, PoliciesData, PolicyPreview, PolicyView, PreviewPolicy,
    PreviewZoneRules, SaveCalendar, SavePolicy,
};

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SavePolicy>,
    preview: ServerAction<PreviewPolicy>,
    calendar: ServerAction<SaveCalendar>,
}

/// The policies page.
#[component]
pub fn Page() -> impl IntoView {
    let actions = Actions {
        save: ServerAction::<SavePolicy>::new(),
        preview: ServerAction::<PreviewPolicy>::new(),
        calendar: ServerAction::<SaveCalendar>::new(),
    };
    let apply = ServerAction::<ApplyPolicy>::new();
    // Reload after successful saves only: a rejected one keeps the form as typed.
    let reload = RwSignal::new(0u32);
    let saved_policy = RwSignal::new(None::<PolicyView>);
    let saved_calendar = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(policy)) = actions.save.value().get() {
            saved_policy.set(Some(policy));
            saved_calendar.set(None);
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(calendar)) = actions.calendar.value().get() {
            saved_calendar.set(Some(calendar.name));
            saved_policy.set(None);
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = apply.value().get() {
            reload.update(|n| *n += 1);
        }
    });
    let data = Resource::new(move || reload.get(), |_| admin_policies());
    view! {
        <h1>"SLA policies and calendars"</h1>
        {move || saved_policy.get().map(|p| view! {
            <div class="notice card" role="status" data-testid="policy-saved">
                <p>"Saved policy “" {p.name.clone()} "”, version " {p.version} "."</p>
                {(p.version > 1).then(|| view! {
                    <p class="muted small">"Open workflows keep the version they started with until you apply this one."</p>
                    <ActionForm action=apply attr:class="inline">
                        <input type="hidden" name="id" value=p.id/>
                        <button type="submit" data-testid="apply-policy">"Apply to running workflows"</button>
                    </ActionForm>
                    {move || apply.value().get().map(|r| match r {
                        Ok(a) => view! {
                            <p data-testid="policy-applied">
                                "Moved " {a.applied} " open workflow(s) to version " {a.version} "."
                            </p>
                        }.into_any(),
                        Err(error) => view! { <ErrorNote error/> }.into_any(),
                    })}
                })}
            </div>
        })}
        {move || saved_calendar.get().map(|name| view! {
            <p class="notice" role="status" data-testid="calendar-saved">"Saved calendar “" {name} "”."</p>
        })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <Policies data actions/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn warning_text(p: &PolicyView) -> String {
    if p.warning_kind == "elapsed_percent" {
        format!("at {}% elapsed", p.warning_value)
    } else {
        format!("{} before the deadline", human_duration(p.warning_value))
    }
}

#[component]
fn Policies(data: PoliciesData, actions: Actions) -> impl IntoView {
    let query = use_query_map();
    let PoliciesData {
        policies,
        calendars,
        can_edit,
        zone_rules,
    } = data;
    let calendar_names: Vec<(i64, String)> = calendars.iter().map(|c| (c.id, c.name.clone())).collect();
    let policy_editor = {
        let policies = policies.clone();
        move || {
            let id = query.read().get("policy").and_then(|id| id.parse::<i64>().ok());
            let policy = id.and_then(|id| policies.iter().find(|p| p.id == id).cloned());
            view! { <PolicyEditor policy calendars=calendar_names.clone() actions/> }
        }
    };
    let calendar_editor = {
        let calendars = calendars.clone();
        move || {
            let id = query.read().get("calendar").and_then(|id| id.parse::<i64>().ok());
            let calendar = id.and_then(|id| calendars.iter().find(|c| c.id == id).cloned());
            view! { <CalendarEditor calendar action=actions.calendar/> }
        }
    };
    view! {
        <section aria-labelledby="policies-h" class="stack">
            <h2 id="policies-h">"SLA policies"</h2>
            {can_edit.then(|| view! { <p><a href="/policies" data-testid="new-policy">"New policy"</a></p> })}
            <div class="table-wrap">
                <table class="policies" data-testid="policies">
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Target"</th><th scope="col">"Warning"</th>
                        <th scope="col">"Calendar"</th><th scope="col">"Version"</th><th scope="col"><span class="sr-only">"Edit"</span></th>
                    </tr></thead>
                    <tbody>
                        {policies.iter().map(|p| view! {
                            <tr data-testid=format!("policy-{}", p.id)>
                                <td>{p.name.clone()}</td>
                                <td>{human_duration(p.target_seconds)}</td>
                                <td>{warning_text(p)}</td>
                                <td>{p.calendar.clone()}</td>
                                <td>{p.version}</td>
                                <td>{can_edit.then(|| view! {
                                    <a href=format!("/policies?policy={}", p.id) data-testid="edit-policy">"Edit"</a>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {policies.is_empty().then(|| view! { <p class="empty">"No policies yet."</p> })}
            {can_edit.then_some(policy_editor)}
        </section>
        <section aria-labelledby="calendars-h" class="stack">
            <h2 id="calendars-h">"Business calendars"</h2>
            {can_edit.then(|| view! {
                <p><a href="/policies#calendar-editor" data-testid="new-calendar">"New calendar"</a></p>
            })}
            {calendars.is_empty().then(|| view! { <p class="empty">"No calendars yet: policies count 24/7."</p> })}
            <div class="calendars stack">
                {calendars.iter().map(|c| view! {
                    <article class="card" data-testid=format!("calendar-{}", c.id)>
                        <h3>{c.name.clone()} <span class="muted small">" · " {c.time_zone.clone()}</span></h3>
                        <pre class="small">{c.windows.clone()}</pre>
                        {(!c.holidays.is_empty()).then(|| view! {
                            <details><summary>"Holidays"</summary><pre class="small">{c.holidays.clone()}</pre></details>
                        })}
                        {can_edit.then(|| view! {
                            <a href=format!("/policies?calendar={}#calendar-editor", c.id) data-testid="edit-calendar">
                                "Edit “" {c.name.clone()} "”"
                            </a>
                        })}
                    </article>
                }).collect_view()}
            </div>
            {can_edit.then_some(calendar_editor)}
        </section>
        <ZoneRules rules=zone_rules can_edit/>
    }
}

/// The policy form's values, as typed.
#[derive(Clone, PartialEq, Default)]
struct Fields {
    name: String,
    hours: String,
    minutes: String,
    warning_kind: String,
    warning_value: String,
    calendar_id: String,
    repeat_minutes: String,
    ack_timeout_minutes: String,
    top_repeat_minutes: String,
}

impl Fields {
    fn of(p: Option<&PolicyView>) -> Self {
        match p {
            Some(p) => Self {
                name: p.name.clone(),
                hours: (p.target_seconds / 3600).to_string(),
                minutes: (p.target_seconds % 3600 / 60).to_string(),
                warning_kind: p.warning_kind.clone(),
                warning_value: if p.warning_kind == "elapsed_percent" {
                    p.warning_value.to_string()
                } else {
                    (p.warning_value / 60).to_string()
                },
                calendar_id: p.calendar_id.map(|c| c.to_string()).unwrap_or_default(),
                repeat_minutes: minutes_of(p.reminder_repeat_seconds),
                ack_timeout_minutes: minutes_of(p.ack_timeout_seconds),
                top_repeat_minutes: minutes_of(p.exhausted_repeat_seconds),
            },
            None => Self {
                hours: "24".into(),
                minutes: "0".into(),
                warning_kind: "before_deadline".into(),
                warning_value: "120".into(),
                ..Self::default()
            },
        }
    }

    fn save(self, id: Option<i64>) -> SavePolicy {
        SavePolicy {
            id,
            name: self.name,
            target_hours: self.hours,
            target_minutes: self.minutes,
            warning_kind: self.warning_kind,
            warning_value: self.warning_value,
            calendar_id: Some(self.calendar_id),
            repeat_minutes: Some(self.repeat_minutes),
            ack_timeout_minutes: Some(self.ack_timeout_minutes),
            top_repeat_minutes: Some(self.top_repeat_minutes),
        }
    }

    fn preview(self, id: i64) -> PreviewPolicy {
        PreviewPolicy {
            id,
            name: self.name,
            target_hours: self.hours,
            target_minutes: self.minutes,
            warning_kind: self.warning_kind,
            warning_value: self.warning_value,
            calendar_id: Some(self.calendar_id),
            repeat_minutes: Some(self.repeat_minutes),
            ack_timeout_minutes: Some(self.ack_timeout_minutes),
            top_repeat_minutes: Some(self.top_repeat_minutes),
        }
    }
}

/// Seconds as the form's whole minutes; blank when unset.
fn minutes_of(seconds: Option<i64>) -> String {
    seconds.map(|s| (s / 60).to_string()).unwrap_or_default()
}

#[component]
fn PolicyEditor(policy: Option<PolicyView>, calendars: Vec<(i64, String)>, actions: Actions) -> impl IntoView {
    let id = policy.as_ref().map(|p| p.id);
    let title = policy
        .as_ref()
        .map_or_else(|| "New policy".to_string(), |p| format!("Edit “{}”", p.name));
    let initial = Fields::of(policy.as_ref());
    let name = RwSignal::new(initial.name);
    let hours = RwSignal::new(initial.hours);
    let minutes = RwSignal::new(initial.minutes);
    let warning_kind = RwSignal::new(initial.warning_kind);
    let warning_value = RwSignal::new(initial.warning_value);
    let calendar_id = RwSignal::new(initial.calendar_id);
    let repeat_minutes = RwSignal::new(initial.repeat_minutes);
    let ack_timeout_minutes = RwSignal::new(initial.ack_timeout_minutes);
    let top_repeat_minutes = RwSignal::new(initial.top_repeat_minutes);
    let fields = move || Fields {
        name: name.get(),
        hours: hours.get(),
        minutes: minutes.get(),
        warning_kind: warning_kind.get(),
        warning_value: warning_value.get(),
        calendar_id: calendar_id.get(),
        repeat_minutes: repeat_minutes.get(),
        ack_timeout_minutes: ack_timeout_minutes.get(),
        top_repeat_minutes: top_repeat_minutes.get(),
    };
    // Which of this editor's requests was sent last, and the values the preview was for.
    let last = RwSignal::new(None::<&'static str>);
    let previewed = RwSignal::new(None::<Fields>);
    let error = move || match last.get() {
        Some("preview") => actions.preview.value().get().and_then(Result::err),
        Some("save") => actions.save.value().get().and_then(Result::err),
        _ => None,
    };
    let field_error = move |field: &'static str| move || error().and_then(|e| e.for_field(field));
    let general_error = move || {
        error().filter(|e| {
            !matches!(
                e.field.as_deref(),
                Some(
                    "name"
                        | "target_seconds"
                        | "warning.seconds"
                        | "warning.percent"
                        | "calendar_id"
                        | "reminder_repeat_seconds"
                        | "ack_timeout_seconds"
                        | "exhausted_repeat_seconds"
                )
            )
        })
    };
    let save = move || {
        last.set(Some("save"));
        actions.save.dispatch(fields().save(id));
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match id {
            Some(id) => {
                last.set(Some("preview"));
                previewed.set(Some(fields()));
                actions.preview.dispatch(fields().preview(id));
            }
            None => save(),
        }
    };
    // The preview, while the form still holds the values it was computed for.
    let preview = move || {
        let for_fields = previewed.get()?;
        let result = actions.preview.value().get()?.ok()?;
        Some((for_fields == fields(), result))
    };
    let warning_unit = move || {
        if warning_kind.get() == "elapsed_percent" {
            "% of the target elapsed"
        } else {
            "minutes before the deadline"
        }
    };
    let p = id.map_or_else(|| "new".to_string(), |id| id.to_string());
    let fid = move |f: &str| format!("policy-{p}-{f}");
    view! {
        <section class="card policy-editor" aria-labelledby="policy-editor-h" data-testid="policy-editor">
            <h3 id="policy-editor-h">{title}</h3>
            <form on:submit=submit class="stack">
                {move || general_error().map(|error| view! { <ErrorNote error/> })}
                <div class="field">
                    <label for=fid("name")>"Name"</label>
                    <input id=fid("name") required data-testid="policy-name" bind:value=name/>
                    <span class="field-error" role="alert">{field_error("name")}</span>
                </div>
                <fieldset>
                    <legend>"Target (working time of the calendar)"</legend>
                    <div class="inline">
                        <label for=fid("hours")>"Hours"</label>
                        <input id=fid("hours") type="number" min="0" step="1" data-testid="policy-target-hours" bind:value=hours/>
                        <label for=fid("minutes")>"Minutes"</label>
                        <input id=fid("minutes") type="number" min="0" max="59" step="1" data-testid="policy-target-minutes" bind:value=minutes/>
                        <span class="field-error" role="alert">{field_error("target_seconds")}</span>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>"Warning"</legend>
                    <div class="inline">
                        <label for=fid("warning-kind")>"Warn"</label>
                        <select id=fid("warning-kind") data-testid="policy-warning-kind"
                            prop:value=move || warning_kind.get()
                            on:change=move |ev| warning_kind.set(event_target_value(&ev))>
                            <option value="before_deadline" selected=move || warning_kind.get() == "before_deadline">
                                "Before the deadline"
                            </option>
                            <option value="elapsed_percent" selected=move || warning_kind.get() == "elapsed_percent">
                                "After a share of the target"
                            </option>
                        </select>
                        <label for=fid("warning-value")>{warning_unit}</label>
                        <input id=fid("warning-value") type="number" min="0" step="1" data-testid="policy-warning-value"
                            bind:value=warning_value/>
                        <span class="field-error" role="alert">
                            {field_error("warning.seconds")} {field_error("warning.percent")}
                        </span>
                    </div>
                </fieldset>
                <div class="field">
                    <label for=fid("repeat")>"Repeat reminders every (minutes; blank: remind once)"</label>
                    <input id=fid("repeat") type="number" min="0" step="1" data-testid="policy-repeat-minutes"
                        bind:value=repeat_minutes/>
                    <span class="field-error" role="alert">{field_error("reminder_repeat_seconds")}</span>
                </div>
                <div class="field">
                    <label for=fid("ack-timeout")>
                        "An acknowledgement holds escalation for (minutes of working time; blank: it only stops repeats)"
                    </label>
                    <input id=fid("ack-timeout") type="number" min="0" step="1" data-testid="policy-ack-timeout-minutes"
                        bind:value=ack_timeout_minutes/>
                    <span class="field-error" role="alert">{field_error("ack_timeout_seconds")}</span>
                </div>
                <div class="field">
                    <label for=fid("top-repeat")>
                        "At the top of the chain, tell its last level again every (minutes, up to 10 times; blank: never)"
                    </label>
                    <input id=fid("top-repeat") type="number" min="0" step="1" data-testid="policy-top-repeat-minutes"
                        bind:value=top_repeat_minutes/>
                    <span class="field-error" role="alert">{field_error("exhausted_repeat_seconds")}</span>
                </div>
                <div class="field">
                    <label for=fid("calendar")>"Calendar"</label>
                    <select id=fid("calendar") data-testid="policy-calendar"
                        prop:value=move || calendar_id.get()
                        on:change=move |ev| calendar_id.set(event_target_value(&ev))>
                        <option value="" selected=move || calendar_id.get().is_empty()>"24/7 (no calendar)"</option>
                        {calendars.into_iter().map(|(cid, cname)| {
                            let value = cid.to_string();
                            let v = value.clone();
                            view! { <option value=value selected=move || calendar_id.get() == v>{cname}</option> }
                        }).collect_view()}
                    </select>
                    <span class="field-error" role="alert">{field_error("calendar_id")}</span>
                </div>
                <div class="inline">
                    {match id {
                        Some(_) => view! {
                            <button type="submit" data-testid="preview-policy" disabled=move || actions.preview.pending().get()>
                                "Preview impact"
                            </button>
                        }.into_any(),
                        None => view! {
                            <button type="submit" data-testid="save-policy" disabled=move || actions.save.pending().get()>
                                "Create policy"
                            </button>
                        }.into_any(),
                    }}
                </div>
            </form>
            {move || preview().map(|(current, result)| view! {
                <PreviewPanel result current save=save pending=actions.save.pending()/>
            })}
        </section>
    }
}

#[component]
fn PreviewPanel(
    result: PolicyPreview,
    current: bool,
    save: impl Fn() + Clone + Send + Sync + 'static,
    pending: Memo<bool>,
) -> impl IntoView {
    view! {
        <div class="preview stack" data-testid="policy-preview" aria-live="polite">
            <h4>"Impact on running workflows"</h4>
            <p>
                <strong>{result.open_workflows}</strong> " open workflow(s) use this policy; "
                <strong data-testid="preview-status-changes">{result.status_changes}</strong> " would change SLA status and "
                <strong data-testid="preview-moved">{result.workflows.len()}</strong> " would get a different deadline."
            </p>
            <ImpactTable result=result.clone()/>
            <p class="muted small">
                "Saving creates a new version; open workflows keep theirs until you apply it."
            </p>
            {if current {
                view! {
                    <button type="button" data-testid="save-policy" disabled=move || pending.get()
                        on:click=move |_| save()>"Save"</button>
                }.into_any()
            } else {
                view! { <p class="muted">"The form changed since this preview: preview again before saving."</p> }.into_any()
            }}
        </div>
    }
}

/// The open workflows whose deadline (and maybe status) would move.
#[component]
fn ImpactTable(result: PolicyPreview) -> impl IntoView {
    (!result.workflows.is_empty()).then(|| {
        view! {
            <div class="table-wrap">
                <table>
                    <thead><tr>
                        <th scope="col">"Workflow"</th><th scope="col">"Status now"</th><th scope="col">"Would be"</th>
                        <th scope="col">"Deadline now"</th><th scope="col">"Would be"</th>
                    </tr></thead>
                    <tbody>
                        {result.workflows.iter().map(|w| view! {
                            <tr data-testid="impact-row">
                                <td><a href=format!("/workflows/{}", w.workflow_id)>{w.external_id.clone()}</a></td>
                                <td class=sla_class(w.old_status)>{sla_label(w.old_status)}</td>
                                <td class=sla_class(w.new_status)>{sla_label(w.new_status)}</td>
                                <td>{when_in(w.old_due_at, &result.zone)}</td>
                                <td>{when_in(w.new_due_at, &result.zone)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
    })
}

/// The zone rules in use; admins check what a rule update would do and apply it.
#[component]
fn ZoneRules(rules: String, can_edit: bool) -> impl IntoView {
    let preview = ServerAction::<PreviewZoneRules>::new();
    let apply = ServerAction::<ApplyZoneRules>::new();
    view! {
        <section aria-labelledby="zone-rules-h" class="stack" data-testid="zone-rules">
            <h2 id="zone-rules-h">"Time-zone rules"</h2>
            <p>"Deadlines are computed with the zone rules " <strong data-testid="zone-rules-in-use">{rules}</strong> "."</p>
            {can_edit.then(|| view! {
                <p class="muted small">
                    "When the rules are updated (a new tzdata), open workflows keep the deadlines they have until you apply the new rules here."
                </p>
                <ActionForm action=preview attr:class="inline">
                    <button type="submit" data-testid="preview-zone-rules" disabled=move || preview.pending().get()>
                        "Check open workflows against the rules in use"
                    </button>
                </ActionForm>
                {move || preview.value().get().map(|r| match r {
                    Ok(view) => {
                        let moved = view.impact.workflows.len();
                        view! {
                            <div class="preview stack" data-testid="zone-rules-preview" aria-live="polite">
                                <p>
                                    "Zone rules " {view.rules.clone()} ": "
                                    <strong data-testid="zone-rules-moved">{moved}</strong> " of "
                                    {view.impact.open_workflows} " open workflow(s) would get a different deadline."
                                </p>
                                <ImpactTable result=view.impact.clone()/>
                                {(moved > 0).then(|| view! {
                                    <ActionForm action=apply attr:class="inline">
                                        <button type="submit" data-testid="apply-zone-rules">"Apply the rules in use"</button>
                                    </ActionForm>
                                })}
                            </div>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                })}
                {move || apply.value().get().map(|r| match r {
                    Ok(applied) => view! {
                        <p role="status" data-testid="zone-rules-applied">"Moved the deadlines of " {applied} " open workflow(s)."</p>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                })}
            })}
        </section>
    }
}

#[component]
fn CalendarEditor(calendar: Option<CalendarView>, action: ServerAction<SaveCalendar>) -> impl IntoView {
    let id = calendar.as_ref().map(|c| c.id);
    let title = calendar
        .as_ref()
        .map_or_else(|| "New calendar".to_string(), |c| format!("Edit “{}”", c.name));
    let (name, time_zone, windows, holidays) = match calendar {
        Some(c) => (c.name, c.time_zone, c.windows, c.holidays),
        None => (String::new(), "UTC".into(), "mon-fri 09:00-17:00".into(), String::new()),
    };
    let error = move || action.value().get().and_then(Result::err);
    let field_error = move |field: &'static str| move || error().and_then(|e| e.for_field(field));
    let general_error =
        move || error().filter(|e| !matches!(e.field.as_deref(), Some("name" | "time_zone" | "windows" | "holidays")));
    let p = id.map_or_else(|| "new".to_string(), |id| id.to_string());
    let fid = move |f: &str| format!("calendar-{p}-{f}");
    view! {
        <section class="card" id="calendar-editor" aria-labelledby="calendar-editor-h" data-testid="calendar-editor">
            <h3 id="calendar-editor-h">{title}</h3>
            <ActionForm action attr:class="stack">
                {id.map(|id| view! { <input type="hidden" name="id" value=id/> })}
                {move || general_error().map(|error| view! { <ErrorNote error/> })}
                <div class="field">
                    <label for=fid("name")>"Name"</label>
                    <input id=fid("name") name="name" required value=name data-testid="calendar-name"/>
                    <span class="field-error" role="alert">{field_error("name")}</span>
                </div>
                <div class="field">
                    <label for=fid("tz")>"Time zone (IANA, e.g. Europe/Berlin)"</label>
                    <input id=fid("tz") name="time_zone" required value=time_zone data-testid="calendar-time-zone"/>
                    <span class="field-error" role="alert">{field_error("time_zone")}</span>
                </div>
                <div class="field">
                    <label for=fid("windows")>"Working windows"</label>
                    <textarea id=fid("windows") name="windows" rows="5" aria-describedby=fid("windows-help")
                        data-testid="calendar-windows">{windows}</textarea>
                    <span id=fid("windows-help") class="muted small">
                        "One line per weekday or range, local time: " <code>"mon-fri 09:00-12:00 13:00-17:00"</code>
                        ", " <code>"sat 10:00-14:00"</code> ". Days not listed are not worked."
                    </span>
                    <span class="field-error" role="alert">{field_error("windows")}</span>
                </div>
                <div class="field">
                    <label for=fid("holidays")>"Holidays"</label>
                    <textarea id=fid("holidays") name="holidays" rows="4" aria-describedby=fid("holidays-help")
                        data-testid="calendar-holidays">{holidays}</textarea>
                    <span id=fid("holidays-help") class="muted small">
                        "One per line: " <code>"2026-12-24 Christmas Eve"</code> " (one date) or "
                        <code>"12-25 Christmas Day"</code> " (every year)."
                    </span>
                    <span class="field-error" role="alert">{field_error("holidays")}</span>
                </div>
                <button type="submit" data-testid="save-calendar">
                    {if id.is_some() { "Save calendar" } else { "Create calendar" }}
                </button>
            </ActionForm>
        </section>
    }
}
