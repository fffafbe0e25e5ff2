//! Notification channels and routing. The outbox holds one row per message; delivery
//! first routes a message to its channels (one delivery row per channel, and per
//! recipient for in-app), then each channel delivers its rows, retried on their own.

mod email;
mod in_app;
mod inbox;
mod sms;
mod templates;
pub mod webhook;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use escalator_domain::{NotificationKind, NotificationPreferences, PersonalChannel, Phone};
use escalator_storage::{NewOutbox, OutboxKind, OutboxMessage, Webhook};
use serde_json::{Map, Value};

use crate::{EngineResult, Escalator};

pub use email::{SmtpChannel, SmtpConfig, SmtpSecurity};
pub use in_app::InAppChannel;
pub use sms::{SmsChannel, SmsConfig, DEFAULT_SMS_BODY};
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

    /// Whether [`Channel::deliver_all`] delivers many rows in one go (it writes to our own
    /// database instead of sending): delivery then hands it a round's rows together.
    fn together(&self) -> bool {
        false
    }

    /// Delivers several rows: one result per row, in their order. One by one unless the
    /// channel does better.
    async fn deliver_all(&self, messages: &[&OutboxMessage]) -> Vec<Result<(), DeliveryError>> {
        let mut results = Vec::with_capacity(messages.len());
        for message in messages {
            results.push(self.deliver(message).await);
        }
        results
    }
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

    fn together(&self) -> bool {
        true
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

    /// Whether a channel for notifications reaches people by their preferences (in-app,
    /// e-mail, SMS), so routing needs their contacts.
    pub fn reaches_people(&self) -> bool {
        self.for_notifications
            .iter()
            .any(|c| matches!(*c, in_app::NAME | email::NAME | sms::NAME))
    }

    /// The channel that delivers rows named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.by_name.get(name)
    }

    /// The delivery rows of an unrouted message with everyone's default preferences.
    pub fn route(&self, message: &OutboxMessage) -> Vec<NewOutbox> {
        self.route_to(message, &HashMap::new())
    }

    /// The delivery rows of an unrouted message: one per channel — one per recipient for
    /// in-app and SMS — each only to the people whose preferences choose that channel for
    /// the message's kind. Their dedupe keys derive from the message's, so routing twice
    /// is a no-op.
    pub fn route_to(&self, message: &OutboxMessage, people: &HashMap<String, Person>) -> Vec<NewOutbox> {
        let channels = match message.kind {
            OutboxKind::Notification => &self.for_notifications,
            OutboxKind::Event => &self.for_events,
        };
        let kind = NotificationKind::from_topic(&message.topic).filter(|_| message.kind == OutboxKind::Notification);
        let nobody = Person::default();
        let person = |r: &str| people.get(r).unwrap_or(&nobody);
        let wants = |r: &str, channel: PersonalChannel| person(r).wants(kind, channel);
        let mut rows = Vec::new();
        // Stored payloads are objects (they were written as a `Payload`).
        let Some(fields) = message.payload.as_object() else {
            return rows;
        };
        // Messages name people and tell times in their reader's zone: what routing knows
        // of them travels with each delivery row.
        let names: Map<String, Value> = people
            .iter()
            .filter_map(|(email, p)| Some((email.clone(), Value::String(p.name.clone()?))))
            .collect();
        for &channel in channels {
            let row = |mut payload: Map<String, Value>, suffix: String, recipient: Option<String>| {
                if !names.is_empty() {
                    payload.insert("names".into(), Value::Object(names.clone()));
                }
                if let Some(reader) = recipient.as_deref().and_then(|r| people.get(r)) {
                    if let Some(zone) = &reader.preferences.time_zone {
                        payload.insert("time_zone".into(), Value::String(zone.clone()));
                    }
                    if let Some(delegate) = &reader.delegate {
                        payload.insert("delegate".into(), Value::String(delegate.clone()));
                    }
                }
                NewOutbox {
                    kind: message.kind,
                    topic: message.topic.clone(),
                    payload: payload.into(),
                    dedupe_key: format!("{}:{channel}{suffix}", message.dedupe_key),
                    channel: Some(channel.to_string()),
                    recipient,
                    not_before: None,
                }
            };
            match channel {
                in_app::NAME => {
                    for recipient in recipients(&message.payload) {
                        if !wants(&recipient, PersonalChannel::InApp) {
                            continue;
                        }
                        let mut payload = fields.clone();
                        payload.insert("recipient".into(), Value::String(recipient.clone()));
                        rows.push(row(payload, format!(":{recipient}"), Some(recipient)));
                    }
                }
                sms::NAME => {
                    for recipient in recipients(&message.payload) {
                        let Some(phone) = person(&recipient).phone.as_ref() else {
                            continue;
                        };
                        if !wants(&recipient, PersonalChannel::Sms) {
                            continue;
                        }
                        let mut payload = fields.clone();
                        payload.insert("recipient".into(), Value::String(recipient.clone()));
                        payload.insert("phone".into(), Value::String(phone.to_string()));
                        rows.push(row(payload, format!(":{recipient}"), Some(recipient)));
                    }
                }
                email::NAME if message.kind == OutboxKind::Notification => {
                    let pick = |key: &str| -> Vec<String> {
                        list(&message.payload[key])
                            .into_iter()
                            .filter(|r| wants(r, PersonalChannel::Email))
                            .collect()
                    };
                    let (mut to, mut cc) = (pick("to"), pick("cc"));
                    if to.is_empty() && !cc.is_empty() {
                        // The addressee declined e-mail; the copies still go out.
                        to.push(cc.remove(0));
                    }
                    let Some(first) = to.first().cloned() else {
                        continue;
                    };
                    let mut payload = fields.clone();
                    // The copies read the addressee's text: it tells the deadline in their zones too.
                    let zone_of = |r: &str| person(r).preferences.time_zone.clone().unwrap_or_else(|| "UTC".into());
                    let mut copy_zones: Vec<String> = cc.iter().map(|r| zone_of(r)).collect();
                    copy_zones.sort_unstable();
                    copy_zones.dedup();
                    copy_zones.retain(|z| *z != zone_of(&first));
                    if !copy_zones.is_empty() {
                        payload.insert("copy_zones".into(), Value::from(copy_zones));
                    }
                    payload.insert("to".into(), Value::from(to));
                    payload.insert("cc".into(), Value::from(cc));
                    rows.push(row(payload, String::new(), Some(first)));
                }
                _ => rows.push(row(fields.clone(), String::new(), None)),
            }
        }
        rows
    }
}

/// What routing knows about one person: their phone and their preferences.
#[derive(Debug, Clone, Default)]
pub struct Person {
    pub name: Option<String>,
    pub phone: Option<Phone>,
    pub preferences: NotificationPreferences,
    pub delegate: Option<String>,
}

impl Person {
    /// Whether this person wants messages of `kind` on `channel`: as their preferences say,
    /// or by default every channel but SMS (which costs money and is opt-in).
    pub fn wants(&self, kind: Option<NotificationKind>, channel: PersonalChannel) -> bool {
        kind.and_then(|k| self.preferences.channels_for(k))
            .map_or(channel != PersonalChannel::Sms, |chosen| chosen.contains(&channel))
    }
}

fn list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

impl Escalator {
    /// The delivery rows of unrouted messages, each message with its own: its channels by
    /// the recipients' preferences, non-urgent e-mail and SMS held until their quiet hours
    /// end, plus webhooks for events. One look-up of everyone addressed and one of the
    /// webhooks serve a whole delivery round.
    pub(crate) async fn route<'m>(
        &self,
        messages: &[&'m OutboxMessage],
    ) -> EngineResult<Vec<(&'m OutboxMessage, Vec<NewOutbox>)>> {
        let events = messages.iter().any(|m| m.kind == OutboxKind::Event);
        let hooks = if events && self.channels.get(webhook::NAME).is_some() {
            self.store.webhooks().await?
        } else {
            Vec::new()
        };
        // Nobody is looked up when no channel reaches people.
        let mut addressed: Vec<String> = Vec::new();
        if self.channels.reaches_people() {
            for m in messages.iter().filter(|m| m.kind == OutboxKind::Notification) {
                addressed.extend(recipients(&m.payload));
            }
            addressed.sort_unstable();
            addressed.dedup();
        }
        let contacts: HashMap<String, Person> = if addressed.is_empty() {
            HashMap::new()
        } else {
            self.store
                .contacts(&addressed)
                .await?
                .into_iter()
                .map(|c| {
                    let person = Person {
                        name: Some(c.name),
                        phone: c.phone,
                        preferences: c.preferences,
                        delegate: c.delegate,
                    };
                    (c.email, person)
                })
                .collect()
        };
        let now = self.now();
        Ok(messages
            .iter()
            .map(|m| (*m, self.route_one(m, &hooks, &contacts, now)))
            .collect())
    }

    fn route_one(
        &self,
        message: &OutboxMessage,
        hooks: &[Webhook],
        contacts: &HashMap<String, Person>,
        now: DateTime<Utc>,
    ) -> Vec<NewOutbox> {
        if message.kind == OutboxKind::Event {
            let mut rows = self.channels.route(message);
            if self.channels.get(webhook::NAME).is_some() {
                rows.extend(webhook::route(message, hooks));
            }
            return rows;
        }
        // Only this message's people: routing names everyone it is given in the payload.
        let people: HashMap<String, Person> = recipients(&message.payload)
            .into_iter()
            .filter_map(|r| contacts.get(&r).map(|p| (r, p.clone())))
            .collect();
        let mut rows = self.channels.route_to(message, &people);
        let kind = NotificationKind::from_topic(&message.topic);
        let urgent = kind.is_some_and(NotificationKind::is_urgent);
        if !urgent || self.config.quiet_hours_hold_urgent {
            for row in &mut rows {
                let held_channel = matches!(row.channel.as_deref(), Some(email::NAME | sms::NAME));
                let person = row.recipient.as_ref().and_then(|r| people.get(r));
                if let (true, Some(person)) = (held_channel, person) {
                    row.not_before = person.preferences.quiet_until(now);
                }
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
