//! Delivery of the transactional outbox: claim rows, route new messages to their
//! channels, hand each delivery row to its [`Channel`](crate::notify::Channel), mark it
//! delivered, or schedule a retry with exponential backoff, or dead-letter it.
//! Nothing is dropped: a row leaves `pending` only as `delivered` or `dead`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::NotificationKind;
use escalator_storage::{NewOutbox, OutboxKind, OutboxMessage};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::notify::{render, Channel, DeliveryError};

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
    /// row should be dead-lettered. `jitter` in `[0, 1)` picks the wait within the upper
    /// half of the exponential step (`step / 2 ..= step`), so that rows that failed together
    /// during an outage do not all retry at the same instants when it ends.
    pub fn retry_after(&self, attempts: i64, jitter: f64) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let step = self.base.saturating_mul(2u32.saturating_pow(exponent)).min(self.cap);
        Some(step / 2 + (step / 2).mul_f64(jitter.clamp(0.0, 1.0)))
    }
}

/// A uniformly distributed number in `[0, 1)` for backoff jitter (0.5 if the system's
/// randomness is unavailable, which only makes the retries less spread).
fn jitter() -> f64 {
    getrandom::u64().map_or(0.5, |x| (x >> 11) as f64 / (1u64 << 53) as f64)
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySummary {
    pub delivered: u64,
    pub retried: u64,
    pub dead: u64,
    /// E-mails held to be combined into a digest.
    pub digested: u64,
    /// Claimed rows handed back to the queue unsent (the process was shutting down).
    pub handed_back: u64,
}

/// The topic of digest e-mails.
pub const DIGEST_TOPIC: &str = "workflow.digest";

/// How often delivered rows are marked while a batch is being sent: a crash between a send
/// and its mark re-sends at most this much mail.
const MARK_EVERY: Duration = Duration::from_millis(250);

/// Claimed rows of a batch that are neither delivered, failed, digested nor handed back:
/// the ones whose claim the heartbeat keeps alive.
type Unsettled = std::sync::Mutex<BTreeSet<i64>>;

impl Escalator {
    /// Delivers every outbox row that is due now, batch after batch, until none is left
    /// or the process shuts down.
    pub async fn deliver_outbox(&self) -> EngineResult<DeliverySummary> {
        let mut summary = DeliverySummary::default();
        // E-mails each recipient got in the digest window, counted as this round sends.
        let mut sent: HashMap<String, i64> = HashMap::new();
        while !self.stopping() {
            let now = self.now();
            let batch = self
                .store
                .claim_outbox(now, now + self.claim_lease(), self.config.delivery_batch)
                .await?;
            if batch.is_empty() {
                break;
            }
            let unsettled: Unsettled = std::sync::Mutex::new(batch.iter().map(|m| m.id).collect());
            // The claim of rows not yet settled is renewed while the batch runs, so a slow
            // channel never lets another worker take (and send again) a row still in hand;
            // a dead worker stops renewing and its rows come back within one lease.
            let heartbeat = async {
                let mut every = tokio::time::interval((self.config.claim_lease / 3).max(Duration::from_millis(10)));
                every.tick().await;
                loop {
                    every.tick().await;
                    let ids: Vec<i64> = lock(&unsettled).iter().copied().collect();
                    if let Err(err) = self
                        .store
                        .extend_outbox_claim(&ids, self.now() + self.claim_lease())
                        .await
                    {
                        tracing::warn!(%err, rows = ids.len(), "could not renew an outbox claim");
                    }
                }
            };
            tokio::select! {
                result = self.deliver_batch(&batch, &unsettled, &mut sent, &mut summary) => result?,
                () = heartbeat => {}
            }
        }
        Ok(summary)
    }

    /// Runs [`Escalator::deliver_outbox`] in `delivery_workers` concurrent rounds (claims
    /// keep them apart) and adds up what they did.
    pub async fn deliver_outbox_concurrently(&self) -> EngineResult<DeliverySummary> {
        let rounds = (0..self.config.delivery_workers.max(1)).map(|_| self.deliver_outbox());
        let mut total = DeliverySummary::default();
        for round in futures::future::join_all(rounds).await {
            let s = round?;
            total.delivered += s.delivered;
            total.retried += s.retried;
            total.dead += s.dead;
            total.digested += s.digested;
            total.handed_back += s.handed_back;
        }
        Ok(total)
    }

    /// Delivers one claimed batch: routes its new messages all at once, hands the rows of
    /// channels that write to our own database (in-app) to them together, and sends the
    /// rest one by one. Delivered rows are marked at least every [`MARK_EVERY`]; on
    /// shutdown the rows not sent are handed back to the queue.
    async fn deliver_batch(
        &self,
        batch: &[OutboxMessage],
        unsettled: &Unsettled,
        sent: &mut HashMap<String, i64>,
        summary: &mut DeliverySummary,
    ) -> EngineResult<()> {
        let settle = |id: i64| {
            lock(unsettled).remove(&id);
        };
        // New messages to route; rows of channels that deliver many at once (in-app);
        // rows sent one by one.
        let mut unrouted: Vec<&OutboxMessage> = Vec::new();
        let mut together: BTreeMap<&str, (&Arc<dyn Channel>, Vec<&OutboxMessage>)> = BTreeMap::new();
        let mut one_by_one: Vec<(&OutboxMessage, &str)> = Vec::new();
        for message in batch {
            match message.channel.as_deref() {
                None => unrouted.push(message),
                Some(name) => match self.channels.get(name).filter(|c| c.together()) {
                    Some(channel) => together
                        .entry(name)
                        .or_insert_with(|| (channel, Vec::new()))
                        .1
                        .push(message),
                    None => one_by_one.push((message, name)),
                },
            }
        }
        if !unrouted.is_empty() {
            let routed = self.route(&unrouted).await?;
            self.store.expand_outbox(&routed, self.now()).await?;
            unrouted.iter().for_each(|m| settle(m.id));
        }
        let mut delivered: Vec<(i64, &str)> = Vec::new();
        for (name, (channel, group)) in together {
            let results = channel.deliver_all(&group).await;
            for (message, result) in group.into_iter().zip(results) {
                settle(message.id);
                self.settle_sent(message, name, result, &mut delivered, summary).await?;
            }
        }
        let mut marked_at = Instant::now();
        let mut for_digest: HashMap<&str, Vec<i64>> = HashMap::new();
        for (i, &(message, channel_name)) in one_by_one.iter().enumerate() {
            if self.stopping() {
                self.hand_back(&one_by_one[i..], summary).await?;
                break;
            }
            if marked_at.elapsed() >= MARK_EVERY {
                self.mark_delivered(&mut delivered, summary).await?;
                marked_at = Instant::now();
            }
            let now = self.now();
            let mail_to = message.recipient.as_deref().filter(|_| channel_name == "email");
            if let Some(recipient) = mail_to {
                let count = match sent.get(recipient) {
                    Some(n) => *n,
                    None => {
                        let since = now - TimeDelta::from_std(self.config.digest.window).unwrap_or(TimeDelta::zero());
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
            let send = async {
                if message.topic == DIGEST_TOPIC {
                    self.deliver_digest(channel_name, message, now).await
                } else {
                    self.deliver_one(channel_name, message).await
                }
            };
            let result = tokio::select! {
                result = send => result,
                () = self.hard_stop() => {
                    tracing::warn!(outbox_id = message.id, "shutting down: abandoning a send in flight");
                    self.hand_back(&one_by_one[i..], summary).await?;
                    break;
                }
            };
            settle(message.id);
            if result.is_ok() {
                if let Some(n) = mail_to.and_then(|r| sent.get_mut(r)) {
                    *n += 1;
                }
            }
            self.settle_sent(message, channel_name, result, &mut delivered, summary)
                .await?;
        }
        for (recipient, ids) in for_digest {
            summary.digested += ids.len() as u64;
            self.hold_for_digest(recipient, &ids, self.now()).await?;
            ids.into_iter().for_each(settle);
        }
        self.mark_delivered(&mut delivered, summary).await
    }

    /// Records what one send did: delivered (marked with the next batch of marks), or a
    /// retry scheduled with backoff, or the row dead-lettered.
    async fn settle_sent<'a>(
        &self,
        message: &OutboxMessage,
        channel: &'a str,
        result: Result<(), DeliveryError>,
        delivered: &mut Vec<(i64, &'a str)>,
        summary: &mut DeliverySummary,
    ) -> EngineResult<()> {
        let Err(err) = result else {
            delivered.push((message.id, channel));
            return Ok(());
        };
        self.metrics.record_delivery_failure(channel);
        match self.config.backoff.retry_after(message.attempts, jitter()) {
            Some(wait) => {
                summary.retried += 1;
                let retry_at = self.now() + TimeDelta::from_std(wait).unwrap_or(TimeDelta::seconds(60));
                tracing::warn!(outbox_id = message.id, attempts = message.attempts, %err, %retry_at, "delivery failed; will retry");
                self.store.outbox_failed(message.id, &err.0, Some(retry_at)).await?;
            }
            None => {
                summary.dead += 1;
                tracing::error!(outbox_id = message.id, attempts = message.attempts, %err, "delivery failed for the last time; dead-lettered");
                self.store.outbox_failed(message.id, &err.0, None).await?;
            }
        }
        Ok(())
    }

    /// Marks sent rows delivered.
    async fn mark_delivered(
        &self,
        delivered: &mut Vec<(i64, &str)>,
        summary: &mut DeliverySummary,
    ) -> EngineResult<()> {
        if delivered.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = delivered.iter().map(|(id, _)| *id).collect();
        self.store.outbox_delivered(&ids, self.now()).await?;
        for (_, channel) in delivered.iter() {
            self.metrics.record_delivered(channel, 1);
        }
        summary.delivered += delivered.len() as u64;
        delivered.clear();
        Ok(())
    }

    /// Gives claimed rows back to the queue at once (their attempt not counted).
    async fn hand_back(&self, rows: &[(&OutboxMessage, &str)], summary: &mut DeliverySummary) -> EngineResult<()> {
        let ids: Vec<i64> = rows.iter().map(|(m, _)| m.id).collect();
        self.store.release_outbox_claim(&ids, self.now()).await?;
        summary.handed_back += ids.len() as u64;
        tracing::info!(rows = ids.len(), "outbox rows handed back to the queue");
        Ok(())
    }

    fn claim_lease(&self) -> TimeDelta {
        TimeDelta::from_std(self.config.claim_lease).unwrap_or(TimeDelta::seconds(15))
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
            payload: Map::from_iter([
                ("template".to_string(), Value::from("digest")),
                ("to".to_string(), Value::from(vec![recipient])),
                ("cc".to_string(), Value::Array(Vec::new())),
            ])
            .into(),
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
                    let subject = render(&m.payload, None, digest.recipient.as_deref())
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

/// The set, also if a panic elsewhere poisoned its lock (it holds plain ids).
fn lock(set: &Unsettled) -> std::sync::MutexGuard<'_, BTreeSet<i64>> {
    set.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
        let longest: Vec<_> = (1..=5).map(|a| b.retry_after(a, 1.0).map(|d| d.as_secs())).collect();
        assert_eq!(longest, vec![Some(10), Some(20), Some(40), Some(60), None]);
        let shortest: Vec<_> = (1..=5).map(|a| b.retry_after(a, 0.0).map(|d| d.as_secs())).collect();
        assert_eq!(shortest, vec![Some(5), Some(10), Some(20), Some(30), None]);
    }

    #[test]
    fn jitter_spreads_retries_within_the_upper_half_of_a_step() {
        let b = Backoff::default();
        let waits: Vec<Duration> = (0..200).map(|_| b.retry_after(3, jitter()).unwrap()).collect();
        assert!(waits
            .iter()
            .all(|w| *w >= Duration::from_secs(20) && *w <= Duration::from_secs(40)));
        let distinct: BTreeSet<Duration> = waits.into_iter().collect();
        assert!(distinct.len() > 100, "{} distinct waits of 200", distinct.len());
    }
}
