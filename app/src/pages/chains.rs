//! Escalation chains (admins): every chain with its levels, and one editor (a new chain,
//! or the chain named by `?edit=<id>`) to add, remove and reorder levels, choose each
//! level's target and time limit, and save. The list renders without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::ErrorNote;
use crate::error::AppError;
use crate::model::{human_duration, People};
use crate::server_fns::chains::{admin_chains, ChainView, ChainsData, LevelDraft, SaveChain};

/// The chains page.
#[component]
pub fn Page() -> impl IntoView {
    let save = ServerAction::<SaveChain>::new();
    // Reload after a successful save only: a rejected save keeps the editor as typed.
    let saved = RwSignal::new(0u32);
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(chain)) = save.value().get() {
            message.set(Some(format!(
                "Saved chain “{}” ({} levels).",
                chain.name,
                chain.levels.len()
            )));
            saved.update(|n| *n += 1);
        }
    });
    let data = Resource::new(move || saved.get(), |_| admin_chains());
    view! {
        <h1>"Escalation chains"</h1>
        {move || message.get().map(|m| view! {
            <p class="notice" role="status" data-testid="chain-saved">{m}</p>
        })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <Chains data save message/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Chains(data: ChainsData, save: ServerAction<SaveChain>, message: RwSignal<Option<String>>) -> impl IntoView {
    let query = use_query_map();
    let chains = data.chains.clone();
    let people = data.people.clone();
    let can_edit = data.can_edit;
    let editor = move || {
        let edit = query.read().get("edit").and_then(|id| id.parse::<i64>().ok());
        let chain = edit.and_then(|id| chains.iter().find(|c| c.id == id).cloned());
        view! { <Editor chain people=people.clone() save message/> }
    };
    view! {
        {can_edit.then(|| view! { <p><a href="/chains" data-testid="new-chain">"New chain"</a></p> })}
        {data.chains.is_empty().then(|| view! { <p class="empty">"No escalation chains yet."</p> })}
        <div class="chains stack">
            {data.chains.iter().map(|c| view! {
                <section class="card" data-testid=format!("chain-{}", c.id) aria-label=format!("Chain {}", c.name)>
                    <h2>{c.name.clone()}</h2>
                    <ol class="chain">
                        <li class="muted">"Original assignee (the SLA policy's target)"</li>
                        {c.levels.iter().map(|l| view! {
                            <li>{l.describe(&data.people)} " — " {human_duration(l.time_limit_seconds)}</li>
                        }).collect_view()}
                    </ol>
                    {can_edit.then(|| view! {
                        <a href=format!("/chains?edit={}", c.id) data-testid="edit-chain">"Edit “" {c.name.clone()} "”"</a>
                    })}
                </section>
            }).collect_view()}
        </div>
        {can_edit.then_some(editor)}
    }
}

/// One level row's state in the editor; `key` stays with the row when it moves.
#[derive(Clone, Copy)]
struct Row {
    key: usize,
    target: RwSignal<String>,
    email: RwSignal<String>,
    hours: RwSignal<String>,
    minutes: RwSignal<String>,
}

impl Row {
    fn new(key: usize, draft: LevelDraft) -> Self {
        Self {
            key,
            target: RwSignal::new(draft.target),
            email: RwSignal::new(draft.email),
            hours: RwSignal::new(draft.hours),
            minutes: RwSignal::new(draft.minutes),
        }
    }

    fn draft(&self) -> LevelDraft {
        LevelDraft {
            target: self.target.get_untracked(),
            email: self.email.get_untracked(),
            hours: self.hours.get_untracked(),
            minutes: self.minutes.get_untracked(),
        }
    }
}

#[component]
fn Editor(
    chain: Option<ChainView>,
    people: People,
    save: ServerAction<SaveChain>,
    message: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = chain.as_ref().map(|c| c.id);
    let title = chain
        .as_ref()
        .map_or_else(|| "New chain".to_string(), |c| format!("Edit “{}”", c.name));
    let name = RwSignal::new(chain.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let initial: Vec<LevelDraft> = match &chain {
        Some(c) => c.levels.iter().map(LevelDraft::of).collect(),
        None => vec![LevelDraft {
            target: "department_head".into(),
            email: String::new(),
            hours: "4".into(),
            minutes: "0".into(),
        }],
    };
    let next_key = StoredValue::new(initial.len());
    let rows = RwSignal::new(
        initial
            .into_iter()
            .enumerate()
            .map(|(key, draft)| Row::new(key, draft))
            .collect::<Vec<_>>(),
    );
    // Errors belong to the editor that sent the failed save.
    let sent_from = RwSignal::new(false);
    let error = move || {
        sent_from
            .get()
            .then(|| save.value().get().and_then(Result::err))
            .flatten()
    };
    let general_error = move || error().filter(|e| e.field.is_none() || e.field.as_deref() == Some("levels"));
    let name_error = move || error().and_then(|e| e.for_field("name"));
    let prefix = id.map_or_else(|| "new".to_string(), |id| id.to_string());
    let list_id = format!("users-{prefix}");

    let add = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        rows.update(|r| {
            r.push(Row::new(
                key,
                LevelDraft {
                    target: "department_head".into(),
                    email: String::new(),
                    hours: "4".into(),
                    minutes: "0".into(),
                },
            ))
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        sent_from.set(true);
        save.dispatch(SaveChain {
            id,
            name: name.get_untracked(),
            levels: rows.get_untracked().iter().map(Row::draft).collect(),
        });
    };
    let levels = {
        let prefix = prefix.clone();
        let list_id = list_id.clone();
        move || {
            let list = rows.get();
            let count = list.len();
            list.into_iter()
                .enumerate()
                .map(|(i, row)| {
                    view! { <LevelRow i count row rows error=Signal::derive(error) prefix=prefix.clone() list_id=list_id.clone()/> }
                })
                .collect_view()
        }
    };
    view! {
        <section class="card chain-editor" aria-labelledby="editor-h" data-testid="chain-editor">
            <h2 id="editor-h">{title}</h2>
            <form on:submit=submit class="stack">
                {move || general_error().map(|error| view! { <ErrorNote error/> })}
                <div class="field">
                    <label for=format!("chain-{prefix}-name")>"Name"</label>
                    <input id=format!("chain-{prefix}-name") name="name" required data-testid="chain-name" bind:value=name/>
                    <span class="field-error" role="alert">{name_error}</span>
                </div>
                <datalist id=list_id>
                    {people.options().into_iter().map(|(email, name)| view! { <option value=email>{name}</option> }).collect_view()}
                </datalist>
                <ol class="levels stack" aria-label="Levels">{levels}</ol>
                <div class="inline">
                    <button type="button" data-testid="add-level" on:click=add>"Add level"</button>
                    <button type="submit" data-testid="save-chain" disabled=move || save.pending().get()>
                        {if id.is_some() { "Save chain" } else { "Create chain" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

const TARGETS: [(&str, &str); 4] = [
    ("department_head", "Head of the workflow's department"),
    ("manager_of", "Manager of the current assignee"),
    ("user", "A named user"),
    ("group", "A group (first present, round-robin or on call)"),
];

#[component]
fn LevelRow(
    i: usize,
    count: usize,
    row: Row,
    rows: RwSignal<Vec<Row>>,
    error: Signal<Option<AppError>>,
    prefix: String,
    list_id: String,
) -> impl IntoView {
    let n = i + 1;
    let field_error = move |field: &'static str| {
        let name = format!("levels[{i}].{field}");
        move || error.get().and_then(|e| e.for_field(&name))
    };
    let base = format!("chain-{prefix}-level-{}", row.key);
    let move_by = move |delta: isize| {
        move |_| {
            rows.update(|r| {
                let j = i as isize + delta;
                if j >= 0 && (j as usize) < r.len() {
                    r.swap(i, j as usize);
                }
            })
        }
    };
    let remove = move |_| {
        rows.update(|r| {
            r.remove(i);
        })
    };
    let is_user = move || row.target.get() == "user";
    let is_group = move || row.target.get() == "group";
    let email_id = format!("{base}-email");
    let group_id = format!("{base}-group");
    view! {
        <li class="card level" data-testid="level-row">
            <fieldset>
                <legend>"Level " {n}</legend>
                <div class="inline">
                    <label for=format!("{base}-target")>"Escalate to"</label>
                    <select id=format!("{base}-target") data-testid="level-target-kind"
                        prop:value=move || row.target.get()
                        on:change=move |ev| row.target.set(event_target_value(&ev))>
                        {TARGETS.iter().map(|(value, label)| view! {
                            <option value=*value selected=move || row.target.get() == *value>{*label}</option>
                        }).collect_view()}
                    </select>
                    <span class="field-error" role="alert">{field_error("target")}</span>
                </div>
                <Show when=is_user>
                    <div class="inline">
                        <label for=email_id.clone()>"User's e-mail"</label>
                        <input id=email_id.clone() type="email" list=list_id.clone() data-testid="level-target-user"
                            bind:value=row.email/>
                        <span class="field-error" role="alert">{field_error("target.email")}</span>
                    </div>
                </Show>
                <Show when=is_group>
                    // The draft's one text field carries the group's key for a group target.
                    <div class="inline">
                        <label for=group_id.clone()>"Group key"</label>
                        <input id=group_id.clone() data-testid="level-target-group" bind:value=row.email/>
                        <span class="field-error" role="alert">{field_error("target.group")}</span>
                    </div>
                </Show>
                <div class="inline">
                    <span id=format!("{base}-limit")>"Time limit"</span>
                    <label for=format!("{base}-hours") class="small">"Hours"</label>
                    <input id=format!("{base}-hours") type="number" min="0" step="1" inputmode="numeric"
                        data-testid="level-hours" aria-describedby=format!("{base}-limit") bind:value=row.hours/>
                    <label for=format!("{base}-minutes") class="small">"Minutes"</label>
                    <input id=format!("{base}-minutes") type="number" min="0" max="59" step="1" inputmode="numeric"
                        data-testid="level-minutes" aria-describedby=format!("{base}-limit") bind:value=row.minutes/>
                    <span class="field-error" role="alert">{field_error("time_limit_seconds")}</span>
                </div>
                <div class="inline level-actions">
                    <button type="button" data-testid="level-up" disabled={i == 0} on:click=move_by(-1)
                        aria-label=format!("Move level {n} up")>"↑ Up"</button>
                    <button type="button" data-testid="level-down" disabled={n == count} on:click=move_by(1)
                        aria-label=format!("Move level {n} down")>"↓ Down"</button>
                    <button type="button" class="danger" data-testid="remove-level" on:click=remove
                        aria-label=format!("Remove level {n}")>"Remove"</button>
                </div>
            </fieldset>
        </li>
    }
}
