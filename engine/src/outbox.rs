//! Delivery of the transactional outbox: claim rows, route new messages to their
//! channels, hand each delivery row to its [`Channel`](crate::notify::Channel), mark it
//! delivered, or schedule a retry with exponential backoff, or dead-letter it.
//! Nothing is dropped: a row leaves `pending` only as `delivered` or `dead`.

use std::time::Duration;

use chrono::TimeDelta;
use escalator_storage::OutboxMessage;
use serde::{Deserialize, Serialize};

use crate::notify::DeliveryError;

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
            let mut delivered: Vec<(i64, &str)> = Vec::with_capacity(batch.len());
            for message in &batch {
                let Some(channel_name) = message.channel.as_deref() else {
                    let rows = self.route(message).await?;
                    self.store.expand_outbox(message, &rows, now).await?;
                    continue;
                };
                match self.deliver_one(channel_name, message).await {
                    Ok(()) => delivered.push((message.id, channel_name)),
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
            let ids: Vec<i64> = delivered.iter().map(|(id, _)| *id).collect();
            self.store.outbox_delivered(&ids, now).await?;
            for (_, channel) in &delivered {
                self.metrics.record_delivered(channel, 1);
            }
            summary.delivered += delivered.len() as u64;
        }
        Ok(summary)
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
