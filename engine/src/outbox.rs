//! Delivery of the transactional outbox: claim rows, route new messages to their
//! channels, hand each delivery row to its [`Channel`](crate::notify::Channel), mark it
//! delivered, or schedule a retry with exponential backoff, or dead-letter it.
//! Nothing is dropped: a row leaves `pending` only as `delivered` or `dead`.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::NotificationKind;
use escalator_storage::{NewOutbox, OutboxKind, OutboxMessage};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::notify::{render, DeliveryError};

use crate::clock::now;
use crate::{EngineResult, Escalator};

/// Exponential backoff with a cap and a maximum number of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: i64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(3600),
            max_attempts: 10,
        }
    }
}

impl Backoff {
    /// The wait before the next attempt after `attempts` failed ones, or `None` when the
    /// row should be dead-lettered.
    pub fn retry_after(&self, attempts: i64) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        Some(self.base.saturating_mul(2u32.saturating_pow(exponent)).min(self.cap))
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySummary {
    pub delivered: u64,
    pub retried: u64,
    pub dead: u64,
    /// E-mails held to be combined into a digest.
    pub digested: u64,
}

/// The topic of digest e-mails.
pub const DIGEST_TOPIC: &str = "workflow.digest";

/// How long a claimed row stays hidden from other workers while it is being delivered.
const CLAIM_LEASE: TimeDelta = TimeDelta::seconds(120);

impl Escalator {
    /// Delivers every outbox row that is due now, batch after batch, until none is left.
    pub async fn deliver_outbox(&self) -> EngineResult<DeliverySummary> {
        let mut summary = DeliverySummary::default();
        // E-mails each recipient got in the digest window, counted as this round sends.
        let mut sent: HashMap<String, i64> = HashMap::new();
        loop {
            let now = now();
            let batch = self
                .store
                .claim_outbox(now, now + CLAIM_LEASE, self.config.delivery_batch)
                .await?;
            if batch.is_empty() {
                break;
            }
            let mut delivered: Vec<(i64, &str)> = Vec::with_capacity(batch.len());
            let mut for_digest: HashMap<&str, Vec<i64>> = HashMap::new();
            for message in &batch {
                let Some(channel_name) = message.channel.as_deref() else {
                    let rows = self.route(message).await?;
                    self.store.expand_outbox(message, &rows, now).await?;
                    continue;
                };
                let mail_to = message.recipient.as_deref().filter(|_| channel_name == "email");
                if let Some(recipient) = mail_to {
                    let count = match sent.get(recipient) {
                        Some(n) => *n,
                        None => {
                            let since =
                                now - TimeDelta::from_std(self.config.digest.window).unwrap_or(TimeDelta::zero());
                            let n = self.store.emails_sent_since(recipient, since).await?;
                            sent.insert(recipient.to_string(), n);
                            n
                        }
                    };
                    if self.digestible(message) && count >= i64::from(self.config.digest.max_mails) {
                        for_digest.entry(recipient).or_default().push(message.id);
                        continue;
                    }
                }
                let result = if message.topic == DIGEST_TOPIC {
                    self.deliver_digest(channel_name, message, now).await
                } else {
                    self.deliver_one(channel_name, message).await
                };
                match result {
                    Ok(()) => {
                        if let Some(n) = mail_to.and_then(|r| sent.get_mut(r)) {
                            *n += 1;
                        }
                        delivered.push((message.id, channel_name))
                    }
                    Err(err) => {
                        self.metrics.record_delivery_failure(channel_name);
                        match self.config.backoff.retry_after(message.attempts) {
                            Some(wait) => {
                                summary.retried += 1;
                                let retry_at = now + TimeDelta::from_std(wait).unwrap_or(CLAIM_LEASE);
                                tracing::warn!(outbox_id = message.id, attempts = message.attempts, %err, %retry_at, "delivery failed; will retry");
                                self.store.outbox_failed(message.id, &err.0, Some(retry_at)).await?;
                            }
                            None => {
                                summary.dead += 1;
                                tracing::error!(outbox_id = message.id, attempts = message.attempts, %err, "delivery failed for the last time; dead-lettered");
                                self.store.outbox_failed(message.id, &err.0, None).await?;
                            }
                        }
                    }
                }
            }
            for (recipient, ids) in for_digest {
                summary.digested += ids.len() as u64;
                self.hold_for_digest(recipient, &ids, now).await?;
            }
            let ids: Vec<i64> = delivered.iter().map(|(id, _)| *id).collect();
            self.store.outbox_delivered(&ids, now).await?;
            for (_, channel) in &delivered {
                self.metrics.record_delivered(channel, 1);
            }
            summary.delivered += delivered.len() as u64;
        }
        Ok(summary)
    }

    /// Whether an e-mail row may be combined into a digest: a non-urgent notification to a
    /// known recipient, with digests on.
    fn digestible(&self, message: &OutboxMessage) -> bool {
        self.config.digest.max_mails > 0
            && message.recipient.is_some()
            && NotificationKind::from_topic(&message.topic).is_some_and(|k| !k.is_urgent())
    }

    /// Moves rows into the recipient's pending digest (started now, sent one window later).
    async fn hold_for_digest(&self, recipient: &str, ids: &[i64], now: DateTime<Utc>) -> EngineResult<()> {
        let send_at = now + TimeDelta::from_std(self.config.digest.window).unwrap_or(TimeDelta::zero());
        let first = ids.iter().min().copied().unwrap_or_default();
        let digest = NewOutbox {
            kind: OutboxKind::Notification,
            topic: DIGEST_TOPIC.into(),
            payload: json!({ "template": "digest", "to": [recipient], "cc": [] }),
            // Unique per first held row: those rows were claimed by this worker alone.
            dedupe_key: format!("digest:{recipient}:{first}"),
            channel: Some("email".into()),
            recipient: Some(recipient.to_string()),
            not_before: Some(send_at),
        };
        let digest_id = self.store.hold_for_digest(ids, &digest, now).await?;
        tracing::info!(recipient, held = ids.len(), digest_id, %send_at, "e-mails held for a digest");
        Ok(())
    }

    /// Sends a digest listing the rows it carries, then marks them delivered with it.
    async fn deliver_digest(
        &self,
        channel: &str,
        digest: &OutboxMessage,
        now: DateTime<Utc>,
    ) -> Result<(), DeliveryError> {
        let members = self
            .store
            .digest_members(digest.id)
            .await
            .map_err(|e| DeliveryError(e.to_string()))?;
        if !members.is_empty() {
            let items: Vec<_> = members
                .iter()
                .map(|m| {
                    let subject = render(&m.payload, None)
                        .map(|r| r.subject)
                        .unwrap_or_else(|_| m.topic.clone());
                    json!({ "subject": subject, "workflow_id": m.workflow_id, "link": null })
                })
                .collect();
            let mut message = digest.clone();
            message.payload["items"] = json!(items);
            self.deliver_one(channel, &message).await?;
        }
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        self.store
            .digest_delivered(digest.id, &ids, now)
            .await
            .map_err(|e| DeliveryError(format!("digest sent, but not recorded: {e}")))
    }

    async fn deliver_one(&self, channel: &str, message: &OutboxMessage) -> Result<(), DeliveryError> {
        match self.channels.get(channel) {
            Some(c) => c.deliver(message).await,
            None => Err(DeliveryError(format!("channel {channel:?} is not configured"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let b = Backoff {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(60),
            max_attempts: 5,
        };
        let waits: Vec<_> = (1..=5).map(|a| b.retry_after(a).map(|d| d.as_secs())).collect();
        assert_eq!(waits, vec![Some(10), Some(20), Some(40), Some(60), None]);
    }
}
