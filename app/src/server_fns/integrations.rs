//! API tokens, webhooks and dead letters: thin calls into the engine, which decides who
//! may do what (tokens: one's own, admins see all; the rest: admins).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::IntegrationsData;

/// The integrations page's data.
#[server(prefix = "/ui/fn", endpoint = "integrations")]
pub async fn integrations() -> Result<IntegrationsData, AppError> {
    use escalator_storage::OutboxStatus;

    use crate::model::{DeadLetterRow, TokenRow, WebhookRow};
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let tokens: Vec<TokenRow> = escalator
        .tokens(None, &actor)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            user: t.user,
            name: t.name,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        })
        .collect();
    let (mut webhooks, mut dead_letters) = (Vec::new(), Vec::new());
    if actor.is_admin() {
        for w in escalator.webhooks(&actor).await? {
            let deliveries = escalator
                .webhook_deliveries(&actor, w.id)
                .await?
                .into_iter()
                .take(10)
                .map(|d| {
                    let outcome = match (d.status_code, d.error) {
                        (Some(code), _) => format!("HTTP {code}"),
                        (None, Some(error)) => error,
                        (None, None) => "no answer".into(),
                    };
                    (d.at, outcome, d.duration_ms)
                })
                .collect();
            webhooks.push(WebhookRow {
                id: w.id,
                url: w.url,
                event_types: w.event_types,
                active: w.active,
                deliveries,
            });
        }
        dead_letters = escalator
            .outbox(&actor, Some(OutboxStatus::Dead), 100)
            .await?
            .into_iter()
            .map(|m| DeadLetterRow {
                id: m.id,
                created_at: m.created_at,
                topic: m.topic,
                channel: m.channel,
                recipient: m.recipient,
                attempts: m.attempts,
                error: m.last_error,
                workflow_id: m.workflow_id,
            })
            .collect();
    }
    let zone = ssr::viewer_zone(&actor).await?;
    let emails: Vec<String> = tokens
        .iter()
        .map(|t: &TokenRow| t.user.clone())
        .chain(dead_letters.iter().filter_map(|m: &DeadLetterRow| m.recipient.clone()))
        .collect();
    let people = escalator.names_of(&emails).await?.into_iter().collect();
    Ok(IntegrationsData {
        admin: actor.is_admin(),
        zone,
        people,
        tokens,
        webhooks,
        dead_letters,
    })
}

/// Creates an API token of one's own; its secret, shown once.
#[server(prefix = "/ui/fn", endpoint = "create_token")]
pub async fn create_token(name: String) -> Result<String, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    Ok(ssr::escalator()?.create_own_token(&actor, &name).await?.0)
}

/// Revokes a token (one's own; admins anyone's).
#[server(prefix = "/ui/fn", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    ssr::escalator()?.revoke_token(id, &actor).await?;
    Ok(())
}

/// Registers a webhook (admins) for the comma-separated event types (all when blank);
/// its signing secret, shown once.
#[server(prefix = "/ui/fn", endpoint = "register_webhook")]
pub async fn register_webhook(url: String, event_types: Option<String>) -> Result<String, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let types: Vec<String> = event_types
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    Ok(ssr::escalator()?.register_webhook(&actor, &url, None, &types).await?.1)
}

/// Turns a webhook on or off (admins).
#[server(prefix = "/ui/fn", endpoint = "set_webhook_active")]
pub async fn set_webhook_active(id: i64, active: bool) -> Result<(), AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    ssr::escalator()?.set_webhook_active(&actor, id, active).await?;
    Ok(())
}

/// Sends a dead-lettered message again, or all of them with `id` = `all` (admins); how many.
#[server(prefix = "/ui/fn", endpoint = "retry_dead")]
pub async fn retry_dead(id: String) -> Result<usize, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    if id == "all" {
        return Ok(escalator.retry_all_dead_letters(&actor).await?);
    }
    let id = id
        .parse::<i64>()
        .map_err(|_| ssr::fail(AppError::invalid("id", "a message id, or all")))?;
    escalator.retry_dead_letter(&actor, id).await?;
    Ok(1)
}

/// Discards a dead letter that will not be sent again, or all of them with `id` = `all`
/// (admins); how many.
#[server(prefix = "/ui/fn", endpoint = "discard_dead")]
pub async fn discard_dead(id: String) -> Result<usize, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    if id == "all" {
        return Ok(escalator.discard_all_dead_letters(&actor).await?);
    }
    let id = id
        .parse::<i64>()
        .map_err(|_| ssr::fail(AppError::invalid("id", "a message id, or all")))?;
    escalator.discard_dead_letter(&actor, id).await?;
    Ok(1)
}

/// Gives a webhook a new signing secret (admins); the secret, shown once.
#[server(prefix = "/ui/fn", endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(id: i64) -> Result<String, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    Ok(ssr::escalator()?.rotate_webhook_secret(&actor, id).await?)
}
