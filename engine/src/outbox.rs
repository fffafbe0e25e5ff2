//! Delivery of the transactional outbox: claim rows, hand each to the [`Sink`], mark
//! them delivered, or schedule a retry with exponential backoff, or dead-letter them.
//! Nothing is dropped: a row leaves `pending` only as `delivered` or `dead`.

use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeDelta;
use escalator_storage::OutboxMessage;
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::{EngineResult, Escalator};

/// Why a delivery failed; the message is stored on the row and shown to admins.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

/// Where outbox rows go: the channels (e-mail, in-app, webhooks, SMS) implement this.
#[async_trait]
pub trait Sink: Send + Sync + 'static {
    /// The `channel` label of this sink's metrics.
    fn channel(&self) -> &'static str;
    /// Delivers one message. Must be safe to call again for the same row after a crash
    /// (the row's id and dedupe key identify a re-send).
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError>;
}

/// A sink that writes each message to the log; the default until channels are configured.
#[derive(Debug, Default)]
pub struct LogSink;

#[async_trait]
impl Sink for LogSink {
    fn channel(&self) -> &'static str {
        "log"
    }

    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        tracing::info!(
            outbox_id = m.id,
            topic = %m.topic,
            kind = ?m.kind,
            workflow_id = ?m.workflow_id,
            payload = %m.payload,
            "delivered"
        );
        Ok(())
    }
}

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
}

/// How long a claimed row stays hidden from other workers while it is being delivered.
const CLAIM_LEASE: TimeDelta = TimeDelta::seconds(120);

impl Escalator {
    /// Delivers every outbox row that is due now, batch after batch, until none is left.
    pub async fn deliver_outbox(&self) -> EngineResult<DeliverySummary> {
        let mut summary = DeliverySummary::default();
        loop {
            let now = now();
            let batch = self
                .store
                .claim_outbox(now, now + CLAIM_LEASE, self.config.delivery_batch)
                .await?;
            if batch.is_empty() {
                break;
            }
            let mut delivered = Vec::with_capacity(batch.len());
            for message in &batch {
                match self.sink.deliver(message).await {
                    Ok(()) => delivered.push(message.id),
                    Err(err) => {
                        self.metrics.record_delivery_failure(self.sink.channel());
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
            self.store.outbox_delivered(&delivered, now).await?;
            self.metrics.record_delivered(self.sink.channel(), delivered.len());
            summary.delivered += delivered.len() as u64;
        }
        Ok(summary)
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
