//! Notification channels and routing. The outbox holds one row per message; delivery
//! first routes a message to its channels (one delivery row per channel, and per
//! recipient for in-app), then each channel delivers its rows, retried on their own.

mod email;
mod in_app;
mod inbox;
mod templates;
mod webhook;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use escalator_storage::{NewOutbox, OutboxKind, OutboxMessage};
use serde_json::Value;

pub use email::{SmtpChannel, SmtpConfig, SmtpSecurity};
pub use in_app::InAppChannel;
pub use templates::{render, Rendered};
pub use webhook::{signature, WebhookChannel};

/// Why a delivery failed; the message is stored on the row and shown to admins.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

/// A way to reach people or systems: e-mail, in-app, webhooks, SMS, the log.
#[async_trait]
pub trait Channel: Send + Sync + 'static {
    /// The channel's name: the outbox rows' `channel` and the metrics' label.
    fn name(&self) -> &'static str;
    /// Delivers one delivery row. Must tolerate being called again for the same row after
    /// a crash: the row id identifies a re-send (e-mail Message-ID, in-app unique key).
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError>;
}

/// A channel that writes each message to the log.
#[derive(Debug, Default)]
pub struct LogChannel;

#[async_trait]
impl Channel for LogChannel {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        tracing::info!(outbox_id = m.id, topic = %m.topic, workflow_id = ?m.workflow_id, payload = %m.payload, "delivered");
        Ok(())
    }
}

/// The configured channels and which of them notifications and events go to.
#[derive(Clone, Default)]
pub struct Channels {
    by_name: HashMap<&'static str, Arc<dyn Channel>>,
    for_notifications: Vec<&'static str>,
    for_events: Vec<&'static str>,
}

impl Channels {
    /// No channels: messages are routed nowhere (and marked delivered).
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything to one channel (the log by default, or a test double).
    pub fn only(channel: Arc<dyn Channel>) -> Self {
        Self::new().notifications_to(channel.clone()).events_to(channel)
    }

    /// Adds a channel for notifications to people.
    pub fn notifications_to(mut self, channel: Arc<dyn Channel>) -> Self {
        self.for_notifications.push(channel.name());
        self.by_name.insert(channel.name(), channel);
        self
    }

    /// Adds the webhook channel: events go to every subscribed endpoint.
    pub fn webhooks(mut self, channel: Arc<WebhookChannel>) -> Self {
        self.by_name.insert(webhook::NAME, channel);
        self
    }

    /// Adds a channel for events to other systems.
    pub fn events_to(mut self, channel: Arc<dyn Channel>) -> Self {
        if !self.for_events.contains(&channel.name()) {
            self.for_events.push(channel.name());
        }
        self.by_name.insert(channel.name(), channel);
        self
    }

    /// The channel that delivers rows named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.by_name.get(name)
    }

    /// The delivery rows of an unrouted message: one per channel, and one per recipient
    /// for in-app. Their dedupe keys derive from the message's, so routing twice is a no-op.
    pub fn route(&self, message: &OutboxMessage) -> Vec<NewOutbox> {
        let channels = match message.kind {
            OutboxKind::Notification => &self.for_notifications,
            OutboxKind::Event => &self.for_events,
        };
        let mut rows = Vec::new();
        for &channel in channels {
            let row = |payload: Value, suffix: String| NewOutbox {
                kind: message.kind,
                topic: message.topic.clone(),
                payload,
                dedupe_key: format!("{}:{channel}{suffix}", message.dedupe_key),
                channel: Some(channel.to_string()),
            };
            if channel == in_app::NAME {
                for recipient in recipients(&message.payload) {
                    let mut payload = message.payload.clone();
                    payload["recipient"] = Value::String(recipient.clone());
                    rows.push(row(payload, format!(":{recipient}")));
                }
            } else {
                rows.push(row(message.payload.clone(), String::new()));
            }
        }
        rows
    }
}

/// Everyone a notification addresses: `to` then `cc`, without duplicates.
pub fn recipients(payload: &Value) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for key in ["to", "cc"] {
        for r in payload[key].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !all.iter().any(|a| a == r) {
                all.push(r.to_string());
            }
        }
    }
    all
}
