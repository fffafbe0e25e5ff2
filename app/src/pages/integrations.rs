//! Integrations: one's API tokens (created with a one-time reveal, listed, revoked), and
//! for admins the webhooks (register with a one-time secret, latest deliveries, on/off)
//! and the messages that could not be delivered (the error, send again one or all).
//! Plain forms: works without JavaScript.

use leptos::prelude::*;

use crate::components::{when_in, ErrorNote, Person};
use crate::model::IntegrationsData;
use crate::server_fns::integrations::{
    integrations, CreateToken, DiscardDead, RegisterWebhook, RetryDead, RevokeToken, RotateWebhookSecret,
    SetWebhookActive,
};

/// The integrations page.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let register = ServerAction::<RegisterWebhook>::new();
    let toggle = ServerAction::<SetWebhookActive>::new();
    let retry = ServerAction::<RetryDead>::new();
    let discard = ServerAction::<DiscardDead>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let data = Resource::new(
        move || {
            create.version().get()
                + revoke.version().get()
                + register.version().get()
                + toggle.version().get()
                + retry.version().get()
                + discard.version().get()
                + rotate.version().get()
        },
        |_| integrations(),
    );
    let error = move || {
        [revoke.value().get(), toggle.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
            .or_else(|| create.value().get().and_then(Result::err))
            .or_else(|| register.value().get().and_then(Result::err))
            .or_else(|| retry.value().get().and_then(Result::err))
            .or_else(|| discard.value().get().and_then(Result::err))
            .or_else(|| rotate.value().get().and_then(Result::err))
    };
    view! {
        <h1>"Integrations"</h1>
        {move || error().map(|error| view! { <ErrorNote error/> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <Integrations d create revoke register toggle retry discard rotate/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Integrations(
    d: IntegrationsData,
    create: ServerAction<CreateToken>,
    revoke: ServerAction<RevokeToken>,
    register: ServerAction<RegisterWebhook>,
    toggle: ServerAction<SetWebhookActive>,
    retry: ServerAction<RetryDead>,
    discard: ServerAction<DiscardDead>,
    rotate: ServerAction<RotateWebhookSecret>,
) -> impl IntoView {
    let rotated = move || rotate.value().get().and_then(Result::ok);
    let zone = d.zone.clone();
    let people = d.people.clone();
    let when = move |at| when_in(at, &zone);
    let revealed = move || create.value().get().and_then(Result::ok);
    let secret = move || register.value().get().and_then(Result::ok);
    let retried = move || retry.value().get().and_then(Result::ok);
    let tokens = d
        .tokens
        .into_iter()
        .map(|t| {
            let live = t.revoked_at.is_none();
            view! {
                <tr data-testid="token">
                    <td>{t.name}</td><td><Person name=people.name(&t.user) email=t.user/></td><td>{when(t.created_at)}</td>
                    <td>{t.revoked_at.map_or_else(|| "live".to_string(), |at| format!("revoked {}", when(at)))}</td>
                    <td>{live.then(|| view! {
                        <ActionForm action=revoke attr:class="inline">
                            <input type="hidden" name="id" value=t.id/>
                            <button type="submit" class="link" data-testid="revoke-token">"Revoke"</button>
                        </ActionForm>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    let webhooks = d
        .webhooks
        .into_iter()
        .map(|w| {
            let deliveries = w.deliveries.clone();
            view! {
                <li class="card webhook" data-testid="webhook">
                    <p><strong>{w.url.clone()}</strong> " · "
                        {if w.event_types.is_empty() { "every event".to_string() } else { w.event_types.join(", ") }}
                        " · " {if w.active { "on" } else { "off" }}</p>
                    <ActionForm action=toggle attr:class="inline">
                        <input type="hidden" name="id" value=w.id/>
                        <input type="hidden" name="active" value=if w.active { "false" } else { "true" }/>
                        <button type="submit">{if w.active { "Turn off" } else { "Turn on" }}</button>
                    </ActionForm>
                    <ActionForm action=rotate attr:class="inline">
                        <input type="hidden" name="id" value=w.id/>
                        <button type="submit" data-testid="rotate-secret">"New signing secret"</button>
                    </ActionForm>
                    <details>
                        <summary>{format!("Latest deliveries ({})", deliveries.len())}</summary>
                        <ul class="deliveries">
                            {deliveries.into_iter().map(|(at, outcome, ms)| view! {
                                <li>{when(at)} " — " {outcome} {format!(" ({ms} ms)")}</li>
                            }).collect_view()}
                        </ul>
                    </details>
                </li>
            }
        })
        .collect_view();
    let no_dead = d.dead_letters.is_empty();
    let dead = d
        .dead_letters
        .into_iter()
        .map(|m| {
            view! {
                <tr data-testid="dead-letter">
                    <td>{when(m.created_at)}</td>
                    <td>{m.topic}</td>
                    <td>{m.channel.unwrap_or_default()} {m.recipient.map(|r| view! { " to " <Person name=people.name(&r) email=r/> })}</td>
                    <td>{m.workflow_id.map(|id| view! { <a href=format!("/workflows/{id}")>{id}</a> })}</td>
                    <td>{m.attempts}</td>
                    <td class="small">{m.error.unwrap_or_default()}</td>
                    <td>
                        <ActionForm action=retry attr:class="inline">
                            <input type="hidden" name="id" value=m.id.to_string()/>
                            <button type="submit" class="link">"Send again"</button>
                        </ActionForm>
                        " "
                        <ActionForm action=discard attr:class="inline">
                            <input type="hidden" name="id" value=m.id.to_string()/>
                            <button type="submit" class="link" data-testid="discard">"Discard"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section>
            <h2>"API tokens"</h2>
            <p class="muted">"A token lets another system call the REST API as you (header "
                <code>"Authorization: Bearer …"</code> ")."</p>
            <div class="table-wrap">
                <table data-testid="tokens">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Owner"</th><th scope="col">"Created"</th>
                        <th scope="col">"State"</th><th scope="col"><span class="sr-only">"Revoke"</span></th></tr></thead>
                    <tbody>{tokens}</tbody>
                </table>
            </div>
            <ActionForm action=create attr:class="inline">
                <label for="token-name">"New token's name"</label>
                <input id="token-name" name="name" required maxlength="100" placeholder="e.g. ERP sync" data-testid="token-name"/>
                <button type="submit" data-testid="create-token">"Create token"</button>
            </ActionForm>
            {move || revealed().map(|token| view! {
                <p class="notice" role="status">"Copy it now, it is shown only once: "
                    <code data-testid="new-token">{token}</code></p>
            })}
        </section>
        {d.admin.then(|| view! {
            <section>
                <h2>"Webhooks"</h2>
                <ul class="webhooks stack">{webhooks}</ul>
                <ActionForm action=register attr:class="stack">
                    <div class="field">
                        <label for="webhook-url">"Endpoint URL"</label>
                        <input id="webhook-url" name="url" type="url" required data-testid="webhook-url"/>
                    </div>
                    <div class="field">
                        <label for="webhook-events">"Event types, comma-separated (blank: every event)"</label>
                        <input id="webhook-events" name="event_types" placeholder="workflow.escalated, workflow.completed"/>
                    </div>
                    <button type="submit" data-testid="register-webhook">"Register webhook"</button>
                </ActionForm>
                {move || rotated().map(|s| view! {
                    <p class="notice" role="status">"The new signing secret, shown only once (the old one no longer signs): "
                        <code data-testid="rotated-secret">{s}</code></p>
                })}
                {move || secret().map(|s| view! {
                    <p class="notice" role="status">"Its signing secret, shown only once: " <code data-testid="webhook-secret">{s}</code></p>
                })}
            </section>
            <section>
                <h2>"Messages that could not be delivered"</h2>
                {if no_dead {
                    view! { <p class="empty">"None."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table data-testid="dead-letters">
                                <thead><tr><th scope="col">"Written"</th><th scope="col">"Message"</th><th scope="col">"Channel"</th>
                                    <th scope="col">"Workflow"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th>
                                    <th scope="col"><span class="sr-only">"Send again or discard"</span></th></tr></thead>
                                <tbody>{dead}</tbody>
                            </table>
                        </div>
                        <ActionForm action=retry attr:class="inline">
                            <input type="hidden" name="id" value="all"/>
                            <button type="submit" data-testid="retry-all">"Send all again"</button>
                        </ActionForm>
                        " "
                        <ActionForm action=discard attr:class="inline">
                            <input type="hidden" name="id" value="all"/>
                            <button type="submit" data-testid="discard-all">"Discard all"</button>
                        </ActionForm>
                    }.into_any()
                }}
                {move || retried().map(|n| view! { <p class="ok" role="status">{format!("{n} message(s) queued again.")}</p> })}
            </section>
        })}
    }
}
