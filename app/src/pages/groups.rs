//! Groups a chain level can target (admins edit, department heads read): members in
//! order and how one is picked. A text form that works without JavaScript.

use leptos::prelude::*;

use crate::components::{ErrorNote, Person};
use crate::model::{GroupView, People};
use crate::server_fns::groups::{admin_groups, SaveGroup};

/// The groups page.
#[component]
pub fn GroupsPage() -> impl IntoView {
    let save = ServerAction::<SaveGroup>::new();
    let data = Resource::new(move || save.version().get(), |_| admin_groups());
    view! {
        <h1>"Groups"</h1>
        <p class="muted">
            "A chain level can target a group: its first present member, round-robin among present members, "
            "or whoever is on call in a daily or weekly rotation. Members who are away are passed over."
        </p>
        {move || save.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => {
                        let can_edit = d.can_edit;
                        view! {
                            {if d.groups.is_empty() {
                                view! { <p class="empty">"No groups yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="groups" data-testid="groups">
                                        {d.groups.into_iter().map(|g| view! { <GroupCard g people=d.people.clone() can_edit save/> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                            {can_edit.then(|| view! {
                                <section class="card">
                                    <h2>"New group"</h2>
                                    <GroupForm g=None save/>
                                </section>
                            })}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GroupCard(g: GroupView, people: People, can_edit: bool, save: ServerAction<SaveGroup>) -> impl IntoView {
    let how = match g.strategy.as_str() {
        "rotation" => format!("rotation by {} from {} ({})", g.period, g.starts_on, g.time_zone),
        "round_robin" => "round-robin".into(),
        _ => "first present".into(),
    };
    let members: Vec<String> = g.members.lines().map(str::to_string).collect();
    view! {
        <li class="card" data-testid=format!("group-{}", g.key)>
            <h2>{g.name.clone()} " " <code>{g.key.clone()}</code></h2>
            <p>{how} {(g.overrides > 0).then(|| format!(" · {} override(s)", g.overrides))}</p>
            <ol>{members.into_iter().map(|m| view! { <li><Person name=people.name(&m) email=m/></li> }).collect_view()}</ol>
            {can_edit.then(|| view! {
                <details>
                    <summary>"Edit"</summary>
                    <GroupForm g=Some(g.clone()) save/>
                </details>
            })}
        </li>
    }
}

#[component]
fn GroupForm(g: Option<GroupView>, save: ServerAction<SaveGroup>) -> impl IntoView {
    let editing = g.is_some();
    let g = g.unwrap_or(GroupView {
        key: String::new(),
        name: String::new(),
        strategy: "first_present".into(),
        period: "week".into(),
        starts_on: String::new(),
        time_zone: "UTC".into(),
        members: String::new(),
        overrides: 0,
    });
    let base = format!("group-{}", if editing { g.key.as_str() } else { "new" });
    let id = move |field: &str| format!("{base}-{field}");
    let GroupView {
        key,
        name,
        strategy,
        period,
        starts_on,
        time_zone,
        members,
        ..
    } = g;
    view! {
        <ActionForm action=save attr:class="stack">
            {if editing {
                view! { <input type="hidden" name="key" value=key/> }.into_any()
            } else {
                view! {
                    <div class="field">
                        <label for=id("key")>"Key (a-z, 0-9, - and _)"</label>
                        <input id=id("key") name="key" required pattern="[a-z0-9_\\-]{1,64}" data-testid="group-key"/>
                    </div>
                }.into_any()
            }}
            <div class="field">
                <label for=id("name")>"Name"</label>
                <input id=id("name") name="name" required maxlength="200" value=name data-testid="group-name"/>
            </div>
            <div class="field">
                <label for=id("strategy")>"Who takes it"</label>
                <select id=id("strategy") name="strategy" data-testid="group-strategy">
                    <option value="first_present" selected=strategy == "first_present">"The first present member"</option>
                    <option value="round_robin" selected=strategy == "round_robin">"Round-robin among present members"</option>
                    <option value="rotation" selected=strategy == "rotation">"Whoever is on call (rotation)"</option>
                </select>
            </div>
            <div class="field">
                <label for=id("period")>"Rotation: each turn lasts a"</label>
                <select id=id("period") name="period">
                    <option value="week" selected=period == "week">"week"</option>
                    <option value="day" selected=period == "day">"day"</option>
                </select>
                <label for=id("starts-on")>"starting on"</label>
                <input id=id("starts-on") name="starts_on" type="date" value=starts_on/>
                <label for=id("zone")>"in the time zone"</label>
                <input id=id("zone") name="time_zone" value=time_zone/>
            </div>
            <div class="field">
                <label for=id("members")>"Members, one e-mail per line, in order"</label>
                <textarea id=id("members") name="members" rows="5" required data-testid="group-members">{members}</textarea>
            </div>
            <button type="submit" data-testid="group-save">"Save group"</button>
        </ActionForm>
    }
}
