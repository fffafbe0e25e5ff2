//! Webhooks, the seed's "dispatch event": every event is POSTed as JSON to each endpoint
//! subscribed to its type, signed with HMAC-SHA256 over `{timestamp}.{body}` with the
//! endpoint's secret, carrying a unique event id; every attempt is logged per endpoint.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use escalator_domain::{Event, ValidationError};
use escalator_storage::{NewOutbox, OutboxMessage, Store, Webhook, WebhookDelivery};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use super::{Channel, DeliveryError};
use crate::access::Actor;
use crate::{EngineError, EngineResult, Escalator};

pub(super) const NAME: &str = "webhook";

/// What a webhook endpoint receives: one event, with the id it keeps across retries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WebhookEvent {
    /// `evt_<n>`: the same on every retry of this event to this endpoint.
    pub id: String,
    /// The event's type, e.g. `workflow.escalated`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: chrono::DateTime<Utc>,
    /// The event (events queued by releases before 0.7 carry their older shape).
    #[cfg_attr(feature = "openapi", schema(value_type = escalator_domain::Event))]
    pub data: serde_json::Value,
}

/// The signature header's value for a body sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The delivery rows of an event: one per subscribed, active endpoint.
pub(crate) fn route(event: &OutboxMessage, endpoints: &[Webhook]) -> Vec<NewOutbox> {
    endpoints
        .iter()
        .filter(|w| w.wants(&event.topic))
        .map(|w| NewOutbox {
            kind: event.kind,
            topic: event.topic.clone(),
            payload: Map::from_iter([
                ("webhook_id".to_string(), Value::from(w.id)),
                ("event_id".to_string(), Value::from(format!("evt_{}", event.id))),
                ("data".to_string(), event.payload.clone()),
            ])
            .into(),
            dedupe_key: format!("{}:{NAME}:{}", event.dedupe_key, w.id),
            channel: Some(NAME.to_string()),
            recipient: None,
            not_before: None,
        })
        .collect()
}

/// POSTs events to webhook endpoints.
pub struct WebhookChannel {
    store: Arc<dyn Store>,
    client: reqwest::Client,
}

impl WebhookChannel {
    /// A channel over `store` (endpoints and the delivery log), with a 10 s timeout per call.
    pub fn new(store: Arc<dyn Store>) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("Escalator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { store, client })
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        let id = m.payload["webhook_id"]
            .as_i64()
            .ok_or_else(|| DeliveryError("no webhook_id".into()))?;
        let event_id = m.payload["event_id"].as_str().unwrap_or_default().to_string();
        let endpoint = self.store.webhook(id).await.map_err(|e| DeliveryError(e.to_string()))?;
        let Some(endpoint) = endpoint.filter(|w| w.active) else {
            tracing::info!(webhook_id = id, "webhook removed or inactive; event not sent");
            return Ok(());
        };
        let body = serde_json::to_vec(&WebhookEvent {
            id: event_id.clone(),
            event_type: m.topic.clone(),
            created_at: m.created_at,
            data: m.payload["data"].clone(),
        })
        .map_err(|e| DeliveryError(e.to_string()))?;
        let timestamp = Utc::now().timestamp();
        let started = Instant::now();
        let result = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("x-escalator-event", &m.topic)
            .header("x-escalator-event-id", &event_id)
            .header("x-escalator-timestamp", timestamp.to_string())
            .header("x-escalator-signature", signature(&endpoint.secret, timestamp, &body))
            .body(body)
            .send()
            .await;
        let (status_code, error) = match &result {
            Ok(r) if r.status().is_success() => (Some(i64::from(r.status().as_u16())), None),
            Ok(r) => (
                Some(i64::from(r.status().as_u16())),
                Some(format!("HTTP {}", r.status())),
            ),
            Err(e) => (None, Some(format!("request failed: {e}"))),
        };
        let log = WebhookDelivery {
            id: 0,
            webhook_id: endpoint.id,
            outbox_id: m.id,
            event_id,
            status_code,
            error: error.clone(),
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            at: crate::clock::now(),
        };
        if let Err(err) = self.store.record_webhook_delivery(&log).await {
            tracing::warn!(%err, "could not log a webhook delivery");
        }
        match error {
            None => Ok(()),
            Some(e) => Err(DeliveryError(e)),
        }
    }
}

/// An http(s) URL of at most 2,000 characters whose host is allowed: any when `allowed`
/// is empty, else one of them (so that nobody can make the server call hosts it should
/// not reach, such as cloud metadata services or internal admin interfaces).
fn validate_url(raw: &str, allowed: &[String]) -> Result<String, ValidationError> {
    if raw.chars().count() > 2000 {
        return Err(ValidationError::new("url", "must be at most 2000 characters"));
    }
    let url = reqwest::Url::parse(raw.trim()).map_err(|e| ValidationError::new("url", e.to_string()))?;
    let Some(host) = url.host_str().filter(|_| matches!(url.scheme(), "http" | "https")) else {
        return Err(ValidationError::new("url", "must be an http or https URL"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return Err(ValidationError::new(
            "url",
            format!(
                "webhooks may only call {} (ESCALATOR_WEBHOOK_HOSTS)",
                allowed.join(", ")
            ),
        ));
    }
    Ok(url.to_string())
}

/// A new signing secret: `whsec_` and 192 random bits.
fn new_secret() -> EngineResult<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| EngineError::Internal(e.to_string()))?;
    Ok(format!("whsec_{}", hex::encode(bytes)))
}

impl Escalator {
    /// Registers a webhook (admins). Without a secret one is generated; it is returned once.
    pub async fn register_webhook(
        &self,
        actor: &Actor,
        url: &str,
        secret: Option<&str>,
        event_types: &[String],
    ) -> EngineResult<(Webhook, String)> {
        actor.require_admin()?;
        let url = validate_url(url, &self.config.webhook_hosts)?;
        let secret = match secret {
            Some(s) if (16..=200).contains(&s.chars().count()) => s.to_string(),
            Some(_) => return Err(ValidationError::new("secret", "must be 16 to 200 characters").into()),
            None => new_secret()?,
        };
        for (i, t) in event_types.iter().enumerate() {
            if !Event::TOPICS.contains(&t.as_str()) {
                return Err(ValidationError::new(
                    format!("event_types[{i}]"),
                    format!("unknown event type {t:?}; expected one of {}", Event::TOPICS.join(", ")),
                )
                .into());
            }
        }
        let webhook = self
            .store
            .create_webhook(&url, &secret, event_types, self.now())
            .await?;
        let entry = escalator_storage::NewAudit {
            actor: actor.email.clone(),
            action: "webhook_registered".into(),
            workflow_id: None,
            details: json!({ "webhook_id": webhook.id, "url": webhook.url, "event_types": webhook.event_types }),
            at: self.now(),
        };
        self.store.append_audit(&entry).await?;
        Ok((webhook, secret))
    }

    /// Gives an endpoint a new signing secret (admins), returned once; deliveries from
    /// now on are signed with it. Audited (never the secret).
    pub async fn rotate_webhook_secret(&self, actor: &Actor, id: i64) -> EngineResult<String> {
        actor.require_admin()?;
        let secret = new_secret()?;
        if !self.store.set_webhook_secret(id, &secret).await? {
            return Err(EngineError::not_found("webhook", id));
        }
        let entry = escalator_storage::NewAudit {
            actor: actor.email.clone(),
            action: "webhook_secret_rotated".into(),
            workflow_id: None,
            details: json!({ "webhook_id": id }),
            at: self.now(),
        };
        self.store.append_audit(&entry).await?;
        Ok(secret)
    }

    /// Every webhook endpoint (admins).
    pub async fn webhooks(&self, actor: &Actor) -> EngineResult<Vec<Webhook>> {
        actor.require_admin()?;
        Ok(self.store.webhooks().await?)
    }

    /// An endpoint's latest deliveries, newest first (admins).
    pub async fn webhook_deliveries(&self, actor: &Actor, id: i64) -> EngineResult<Vec<WebhookDelivery>> {
        actor.require_admin()?;
        if self.store.webhook(id).await?.is_none() {
            return Err(EngineError::not_found("webhook", id));
        }
        Ok(self.store.webhook_deliveries(id, 100).await?)
    }

    /// Turns a webhook on or off (admins).
    pub async fn set_webhook_active(&self, actor: &Actor, id: i64, active: bool) -> EngineResult<Webhook> {
        actor.require_admin()?;
        if !self.store.set_webhook_active(id, active).await? {
            return Err(EngineError::not_found("webhook", id));
        }
        self.store
            .webhook(id)
            .await?
            .ok_or_else(|| EngineError::not_found("webhook", id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_hosts_are_limited_to_the_allowed_ones() {
        let allowed = vec!["127.0.0.1".to_string(), "hooks.example.com".to_string()];
        assert!(validate_url("http://127.0.0.1:9/x", &allowed).is_ok());
        assert!(validate_url("https://HOOKS.example.com/in", &allowed).is_ok());
        for refused in [
            "http://169.254.169.254/latest/meta-data",
            "https://evil.example.org/",
            "ftp://127.0.0.1/",
        ] {
            assert_eq!(validate_url(refused, &allowed).unwrap_err().field, "url", "{refused}");
        }
        assert!(
            validate_url("https://anywhere.example.org/", &[]).is_ok(),
            "no list: any host"
        );
        assert!(validate_url(&format!("https://a.example.org/{}", "x".repeat(2000)), &[]).is_err());
    }

    #[test]
    fn signatures_depend_on_secret_timestamp_and_body() {
        let s = signature("secret-secret-16", 1700000000, b"{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert_ne!(s, signature("other-secret-16!", 1700000000, b"{}"));
        assert_ne!(s, signature("secret-secret-16", 1700000001, b"{}"));
        assert_ne!(s, signature("secret-secret-16", 1700000000, b"[]"));
        // A known vector: HMAC-SHA256("key", "0.The quick brown fox…").
        assert_eq!(
            signature("key", 0, b"The quick brown fox jumps over the lazy dog"),
            "sha256=".to_string()
                + &hex::encode(
                    <Hmac<Sha256> as KeyInit>::new_from_slice(b"key")
                        .unwrap()
                        .chain_update(b"0.The quick brown fox jumps over the lazy dog")
                        .finalize()
                        .into_bytes()
                )
        );
    }

    #[test]
    fn urls_are_validated() {
        assert!(validate_url("https://hooks.example.com/escalator", &[]).is_ok());
        assert_eq!(validate_url("ftp://x", &[]).unwrap_err().field, "url");
        assert_eq!(validate_url("not a url", &[]).unwrap_err().field, "url");
    }
}
