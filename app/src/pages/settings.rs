//! A person's settings: name, phone, time zone, which messages reach them how, quiet
//! hours, their password, and when they are away and who takes their work meanwhile.
//! Everyone has their own (`/settings`); admins open anyone's (`/settings?user=<email>`),
//! where they can also deactivate and reactivate the person. Works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{when_in, ErrorNote};
use crate::model::SettingsData;
use crate::server_fns::settings::{
    settings, AddAbsence, ChangePassword, ImportAbsences, RemoveAbsence, SaveProfile, SetActive, SetDelegate,
};

/// The settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let query = use_query_map();
    let add = ServerAction::<AddAbsence>::new();
    let remove = ServerAction::<RemoveAbsence>::new();
    let delegate = ServerAction::<SetDelegate>::new();
    let active = ServerAction::<SetActive>::new();
    let import = ServerAction::<ImportAbsences>::new();
    let profile = ServerAction::<SaveProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let data = Resource::new(
        move || {
            (
                query.read().get("user"),
                add.version().get()
                    + remove.version().get()
                    + delegate.version().get()
                    + active.version().get()
                    + import.version().get()
                    + profile.version().get(),
            )
        },
        |(user, _)| settings(user),
    );
    let error = move || {
        [
            add.value().get(),
            remove.value().get(),
            delegate.value().get(),
            active.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
        .or_else(|| import.value().get().and_then(Result::err))
        .or_else(|| profile.value().get().and_then(Result::err))
        .or_else(|| password.value().get().and_then(Result::err))
    };
    view! {
        <h1>"Settings"</h1>
        {move || error().map(|error| view! { <ErrorNote error/> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! {
                        <Profile d=d.clone() profile password/>
                        <Settings d add remove delegate active import/>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Profile(
    d: SettingsData,
    profile: ServerAction<SaveProfile>,
    password: ServerAction<ChangePassword>,
) -> impl IntoView {
    let saved = move || profile.value().get().and_then(Result::ok).is_some();
    let changed = move || password.value().get().and_then(Result::ok).is_some();
    let zone = if d.zone_chosen {
        d.time_zone.clone()
    } else {
        String::new()
    };
    let rows = d
        .channels
        .iter()
        .map(|c| {
            let check = |channel: &str, on: bool| {
                let name = format!("{}_{channel}", c.kind);
                let label = format!(
                    "{}: {}",
                    c.label,
                    match channel {
                        "email" => "e-mail",
                        "in_app" => "in-app",
                        _ => "SMS",
                    }
                );
                view! {
                    <td><input type="checkbox" name=name.clone() id=name aria-label=label checked=on
                        data-testid=format!("channel-{}-{channel}", c.kind)/></td>
                }
            };
            view! {
                <tr>
                    <th scope="row">{c.label.clone()}</th>
                    {check("email", c.email)}
                    {check("in_app", c.in_app)}
                    {check("sms", c.sms)}
                </tr>
            }
        })
        .collect_view();
    view! {
        <section>
            <h2>"Profile and messages"</h2>
            <ActionForm action=profile attr:class="stack">
                <input type="hidden" name="user" value=d.email.clone()/>
                <div class="field">
                    <label for="profile-name">"Name"</label>
                    <input id="profile-name" name="name" required maxlength="200" value=d.name.clone() data-testid="profile-name"/>
                </div>
                <div class="field">
                    <label for="profile-phone">"Mobile phone, for text messages (international format)"</label>
                    <input id="profile-phone" name="phone" type="tel" value=d.phone.clone().unwrap_or_default()
                        placeholder="+49 151 12345678" data-testid="profile-phone"/>
                </div>
                <div class="field">
                    <label for="profile-zone">"Time zone (IANA name, e.g. Europe/Berlin; blank: UTC)"</label>
                    <input id="profile-zone" name="time_zone" value=zone data-testid="profile-zone"/>
                </div>
                <fieldset>
                    <legend>"Quiet hours: e-mail and texts that are not urgent wait until they end"</legend>
                    <label for="quiet-start">"From"</label>
                    <input id="quiet-start" name="quiet_start" type="time" value=d.quiet_start.clone().unwrap_or_default()/>
                    <label for="quiet-end">"until"</label>
                    <input id="quiet-end" name="quiet_end" type="time" value=d.quiet_end.clone().unwrap_or_default()/>
                </fieldset>
                <div class="table-wrap">
                <table class="channels">
                    <caption>"Which messages reach you how"</caption>
                    <thead><tr><th scope="col">"Message"</th><th scope="col">"E-mail"</th><th scope="col">"In-app"</th><th scope="col">"SMS"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                </div>
                <button type="submit" data-testid="profile-save">"Save"</button>
                {move || saved().then(|| view! { <p class="ok" role="status">"Saved."</p> })}
            </ActionForm>
        </section>
        {d.own.then(|| view! {
            <section>
                <h2>"Password"</h2>
                <ActionForm action=password attr:class="stack">
                    <div class="field">
                        <label for="current-password">"Current password"</label>
                        <input id="current-password" name="current_password" type="password" required autocomplete="current-password"/>
                    </div>
                    <div class="field">
                        <label for="new-password">"New password (at least 8 characters)"</label>
                        <input id="new-password" name="new_password" type="password" required minlength="8" autocomplete="new-password"/>
                    </div>
                    <button type="submit" data-testid="password-save">"Change password"</button>
                    {move || changed().then(|| view! { <p class="ok" role="status">"Password changed."</p> })}
                </ActionForm>
            </section>
        })}
    }
}

#[component]
fn Settings(
    d: SettingsData,
    add: ServerAction<AddAbsence>,
    remove: ServerAction<RemoveAbsence>,
    delegate: ServerAction<SetDelegate>,
    active: ServerAction<SetActive>,
    import: ServerAction<ImportAbsences>,
) -> impl IntoView {
    let no_delegate = d.delegate.is_none();
    let whose = if d.own {
        "You".to_string()
    } else {
        format!("{} ({})", d.name, d.email)
    };
    let status = match (d.deactivated_at, d.away_now) {
        (Some(at), _) => format!("{whose}: deactivated since {}", when_in(at, &d.time_zone)),
        (None, true) => format!("{whose}: away now"),
        (None, false) => format!("{whose}: present"),
    };
    let options = |selected: Option<String>| {
        d.people
            .clone()
            .into_iter()
            .map(|(email, name)| {
                let chosen = selected.as_deref() == Some(email.as_str());
                let label = format!("{name} ({email})");
                view! { <option value=email selected=chosen>{label}</option> }
            })
            .collect_view()
    };
    let delegate_options = options(d.delegate.clone());
    let absence_options = options(None);
    let user = d.email.clone();
    let zone = d.time_zone.clone();
    let (user_delegate, user_add, user_active) = (user.clone(), user.clone(), user.clone());
    let user_import = user.clone();
    let rows: Vec<_> = d
        .absences
        .clone()
        .into_iter()
        .map(|a| {
            let user = user.clone();
            view! {
                <tr data-testid="absence">
                    <td>{when_in(a.starts_at, &zone)}</td>
                    <td>{when_in(a.ends_at, &zone)}</td>
                    <td>{a.reason.unwrap_or_default()}</td>
                    <td>{a.delegate.unwrap_or_else(|| "standing delegate".into())}
                        {a.handed_over.then_some(" · work handed on")}</td>
                    <td>
                        <ActionForm action=remove attr:class="inline">
                            <input type="hidden" name="user" value=user/>
                            <input type="hidden" name="id" value=a.id/>
                            <button type="submit" class="link">"Delete"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect();
    let no_absences = rows.is_empty();
    let admin_view = d.admin && !d.own;
    let deactivated = d.deactivated_at.is_some();
    view! {
        <p data-testid="presence">{status}</p>
        <section>
            <h2>"Delegate"</h2>
            <p class="muted">"Who takes your work while you are away (unless an absence names someone else)."</p>
            <ActionForm action=delegate attr:class="inline">
                <input type="hidden" name="user" value=user_delegate/>
                <label for="delegate">"Delegate"</label>
                <select id="delegate" name="delegate" data-testid="delegate">
                    <option value="" selected=no_delegate>"Nobody"</option>
                    {delegate_options}
                </select>
                <button type="submit">"Save delegate"</button>
            </ActionForm>
        </section>
        <section>
            <h2>"Absences"</h2>
            {if no_absences {
                view! { <p class="empty">"No absences recorded."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table data-testid="absences">
                        <thead><tr><th>"From"</th><th>"Until"</th><th>"Reason"</th><th>"Delegate"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    </div>
                }.into_any()
            }}
            <h3>"Record an absence"</h3>
            <ActionForm action=add attr:class="stack">
                <input type="hidden" name="user" value=user_add/>
                <div class="field">
                    <label for="absence-from">{format!("From (first day away; dates in {})", d.time_zone)}</label>
                    <input id="absence-from" name="from" type="date" required data-testid="absence-from"/>
                </div>
                <div class="field">
                    <label for="absence-to">"To (last day away, included)"</label>
                    <input id="absence-to" name="to" type="date" required data-testid="absence-to"/>
                </div>
                <div class="field">
                    <label for="absence-reason">"Reason (optional, shown to colleagues)"</label>
                    <input id="absence-reason" name="reason" maxlength="200" data-testid="absence-reason"/>
                </div>
                <div class="field">
                    <label for="absence-delegate">"Delegate for this absence"</label>
                    <select id="absence-delegate" name="delegate" data-testid="absence-delegate">
                        <option value="">"My standing delegate"</option>
                        {absence_options}
                    </select>
                </div>
                <button type="submit" data-testid="absence-save">"Record absence"</button>
            </ActionForm>
            <h3>"Import from a calendar"</h3>
            <ActionForm action=import attr:class="stack">
                <input type="hidden" name="user" value=user_import/>
                <div class="field">
                    <label for="absence-ics">
                        "Paste an iCalendar (.ics) file, e.g. exported from an HR system or a mail calendar; \
                         events already recorded are skipped"
                    </label>
                    <textarea id="absence-ics" name="ics" rows="6" required data-testid="absence-ics"></textarea>
                </div>
                <button type="submit" data-testid="absence-import">"Import absences"</button>
                {move || import.value().get().and_then(Result::ok).map(|n| view! {
                    <p class="ok" role="status">{format!("{n} absence(s) imported.")}</p>
                })}
            </ActionForm>
        </section>
        {admin_view.then(|| {
            view! {
                <section>
                    <h2>"Account"</h2>
                    <ActionForm action=active attr:class="inline">
                        <input type="hidden" name="user" value=user_active.clone()/>
                        <input type="hidden" name="active" value=if deactivated { "true" } else { "false" }/>
                        <button type="submit" data-testid="toggle-active">
                            {if deactivated { "Reactivate" } else { "Deactivate (signs out, hands on open work)" }}
                        </button>
                    </ActionForm>
                </section>
            }
        })}
    }
}
