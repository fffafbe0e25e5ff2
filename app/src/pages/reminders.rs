//! The signed-in user's reminders (acknowledge) and in-app notifications (the bell's page).

use leptos::prelude::*;

use crate::components::ErrorNote;
use crate::server_fns::inbox::{notifications, reminders, Acknowledge, MarkRead};

/// The reminders page.
#[component]
pub fn RemindersPage() -> impl IntoView {
    let ack = ServerAction::<Acknowledge>::new();
    let data = Resource::new(move || ack.version().get(), |_| reminders());
    view! {
        <h1>"My reminders"</h1>
        {move || ack.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error/> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No reminders."</p> }.into_any(),
                    Ok(rows) => view! {
                        <ul class="reminders" data-testid="reminders">
                            {rows.into_iter().map(|r| {
                                let acked = r.acknowledged_at.is_some();
                                view! {
                                    <li class:acknowledged=acked data-testid="reminder">
                                        <a href=format!("/workflows/{}", r.workflow_id)>{r.workflow_title.clone()}</a>
                                        <span class="muted">" · reminded " {r.sent_local.clone()} " · due " {r.due_local.clone()}</span>
                                        {match (r.acknowledged_by.clone(), r.acknowledged_local.clone()) {
                                            (Some(by), Some(at)) => view! {
                                                <span class="acked">"Acknowledged by " {by} " at " {at}</span>
                                            }.into_any(),
                                            _ => view! {
                                                <ActionForm action=ack attr:class="inline">
                                                    <input type="hidden" name="id" value=r.id/>
                                                    <button type="submit">"Acknowledge"</button>
                                                </ActionForm>
                                            }.into_any(),
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The notifications page (the bell).
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let mark = ServerAction::<MarkRead>::new();
    let data = Resource::new(move || mark.version().get(), |_| notifications());
    view! {
        <h1>"Notifications"</h1>
        <ActionForm action=mark attr:class="inline">
            <button type="submit">"Mark all read"</button>
        </ActionForm>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"Nothing yet."</p> }.into_any(),
                    Ok(rows) => view! {
                        <ul class="notifications">
                            {rows.into_iter().map(|n| view! {
                                <li class:unread=!n.read>
                                    <strong>{n.title.clone()}</strong>
                                    <span class="muted">" · " {n.created_local.clone()}</span>
                                    {n.workflow_id.map(|id| view! { " " <a href=format!("/workflows/{id}")>"Open"</a> })}
                                    <div class="small">{n.body.clone()}</div>
                                    {(!n.read).then(|| view! {
                                        <ActionForm action=mark attr:class="inline">
                                            <input type="hidden" name="id" value=n.id/>
                                            <button type="submit" class="link">"Mark read"</button>
                                        </ActionForm>
                                    })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}
