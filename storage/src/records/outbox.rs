//! The outbox (the queue of notifications and events) and webhook endpoints: records and rows.

use super::*;

/// What an outbox row carries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// A message to people (e-mail, in-app, SMS).
    Notification,
    /// An event for other systems (webhooks).
    Event,
}

/// An outbox row to insert.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    pub kind: OutboxKind,
    pub topic: String,
    pub payload: Payload,
    /// Unique per logical message: inserting the same key twice is a no-op.
    pub dedupe_key: String,
    /// The delivery channel; `None` for a message still to be routed to its channels.
    pub channel: Option<String>,
    /// The person a delivery row is for (an e-mail's first To address), for quiet hours and digests.
    pub recipient: Option<String>,
    /// Not delivered before this instant (quiet hours, digests); at once when `None`.
    pub not_before: Option<DateTime<Utc>>,
}

/// The JSON object an outbox row carries, as the text that is stored: a tick writes
/// thousands of rows, and building a `serde_json::Value` tree for each only to print it
/// again cost about a tenth of the tick's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    /// The payload of `value`, which must serialise as a JSON object.
    pub fn of(value: &impl Serialize) -> Result<Self, serde_json::Error> {
        let text = serde_json::to_string(value)?;
        if text.starts_with('{') {
            Ok(Self(text))
        } else {
            Err(serde::ser::Error::custom("an outbox payload must be a JSON object"))
        }
    }

    /// This object with the fields of `more` (an object) added after its own; a field
    /// both have appears twice, so callers add only new ones.
    pub fn with(&self, more: &impl Serialize) -> Result<Self, serde_json::Error> {
        let more = Self::of(more)?;
        match (self.0.as_str(), more.0.as_str()) {
            ("{}", _) => Ok(more),
            (_, "{}") => Ok(self.clone()),
            (own, added) => match (own.strip_suffix('}'), added.strip_prefix('{')) {
                (Some(own), Some(added)) => Ok(Self(format!("{own},{added}"))),
                _ => Err(serde::ser::Error::custom("an outbox payload must be a JSON object")),
            },
        }
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for Payload {
    fn from(object: serde_json::Map<String, serde_json::Value>) -> Self {
        Self(serde_json::Value::Object(object).to_string())
    }
}

impl TryFrom<serde_json::Value> for Payload {
    type Error = serde_json::Error;

    fn try_from(value: serde_json::Value) -> Result<Self, Self::Error> {
        match value {
            serde_json::Value::Object(object) => Ok(object.into()),
            _ => Err(serde::ser::Error::custom("an outbox payload must be a JSON object")),
        }
    }
}

/// Delivery state of an outbox row.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    /// Delivered (or expanded into per-channel rows).
    Delivered,
    /// Gave up after the last attempt: a dead letter, for an admin to send again or discard.
    Dead,
    /// A dead letter an admin discarded: kept for the record, never sent.
    Discarded,
}

impl OutboxStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Dead | OutboxStatus::Discarded => "dead",
        }
    }
}

/// A stored outbox row.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub kind: OutboxKind,
    pub topic: String,
    pub workflow_id: Option<i64>,
    pub payload: serde_json::Value,
    pub dedupe_key: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub channel: Option<String>,
    /// The person a delivery row is for.
    pub recipient: Option<String>,
    /// The digest that carries (or carried) this row, when it was combined into one.
    pub digest_id: Option<i64>,
}

/// A registered webhook endpoint.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    /// Shared secret of the HMAC signature; never serialised back to clients.
    #[serde(skip_serializing)]
    pub secret: String,
    /// Topics it receives (`workflow.escalated`, …); empty means every event.
    pub event_types: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether this endpoint receives events of `topic`.
    pub fn wants(&self, topic: &str) -> bool {
        self.active && (self.event_types.is_empty() || self.event_types.iter().any(|t| t == topic))
    }
}

/// One attempt to deliver an event to a webhook.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub outbox_id: i64,
    pub event_id: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: i64,
    created_at: DateTime<Utc>,
    kind: String,
    topic: String,
    workflow_id: Option<i64>,
    payload: String,
    dedupe_key: String,
    status: String,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
    channel: Option<String>,
    recipient: Option<String>,
    digest_id: Option<i64>,
    discarded_at: Option<DateTime<Utc>>,
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        let c = |e: String| corrupt("outbox", e);
        Ok(OutboxMessage {
            id: r.id,
            created_at: r.created_at,
            kind: match r.kind.as_str() {
                "notification" => OutboxKind::Notification,
                "event" => OutboxKind::Event,
                other => return Err(c(format!("kind {other:?}"))),
            },
            topic: r.topic,
            workflow_id: r.workflow_id,
            payload: serde_json::from_str(&r.payload).map_err(|e| c(e.to_string()))?,
            dedupe_key: r.dedupe_key,
            status: match r.status.as_str() {
                "pending" => OutboxStatus::Pending,
                "delivered" => OutboxStatus::Delivered,
                "dead" if r.discarded_at.is_some() => OutboxStatus::Discarded,
                "dead" => OutboxStatus::Dead,
                other => return Err(c(format!("status {other:?}"))),
            },
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            delivered_at: r.delivered_at,
            channel: r.channel,
            recipient: r.recipient,
            digest_id: r.digest_id,
        })
    }
}

impl OutboxKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Notification => "notification",
            OutboxKind::Event => "event",
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    id: i64,
    url: String,
    secret: String,
    event_types: String,
    active: i64,
    created_at: DateTime<Utc>,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;
    fn try_from(r: WebhookRow) -> Result<Self, StoreError> {
        Ok(Webhook {
            id: r.id,
            url: r.url,
            secret: r.secret,
            event_types: serde_json::from_str(&r.event_types).map_err(|e| corrupt("webhooks", e))?,
            active: r.active != 0,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookDeliveryRow {
    id: i64,
    webhook_id: i64,
    outbox_id: i64,
    event_id: String,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    at: DateTime<Utc>,
}

impl TryFrom<WebhookDeliveryRow> for WebhookDelivery {
    type Error = StoreError;
    fn try_from(r: WebhookDeliveryRow) -> Result<Self, StoreError> {
        Ok(WebhookDelivery {
            id: r.id,
            webhook_id: r.webhook_id,
            outbox_id: r.outbox_id,
            event_id: r.event_id,
            status_code: r.status_code,
            error: r.error,
            duration_ms: r.duration_ms,
            at: r.at,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::Payload;

    #[test]
    fn a_payload_with_more_fields_is_the_object_with_both() {
        let event = Payload::of(&json!({"event": "escalated", "workflow": {"id": 1}})).unwrap();
        let message = event.with(&json!({"to": ["a@x.io"], "cc": []})).unwrap();
        let parsed: Value = serde_json::from_str(message.as_str()).unwrap();
        assert_eq!(
            parsed,
            json!({"event": "escalated", "workflow": {"id": 1}, "to": ["a@x.io"], "cc": []})
        );
        let empty = Payload::of(&json!({})).unwrap();
        assert_eq!(empty.with(&json!({"a": 1})).unwrap().as_str(), r#"{"a":1}"#);
        assert_eq!(event.with(&json!({})).unwrap(), event);
    }

    #[test]
    fn only_objects_are_payloads() {
        assert!(Payload::of(&json!([1])).is_err());
        assert!(Payload::of(&"text").is_err());
        assert!(Payload::try_from(json!(null)).is_err());
        assert!(Payload::of(&json!({})).unwrap().with(&json!(2)).is_err());
    }
}
