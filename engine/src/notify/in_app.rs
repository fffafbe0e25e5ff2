//! In-app notifications: stored per user for the UI's bell and `/api/v1/notifications`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use escalator_storage::{NewNotification, OutboxMessage, Store};

use super::{render, Channel, DeliveryError};
use crate::clock::now;

pub(super) const NAME: &str = "in_app";

/// Writes notifications into the database.
pub struct InAppChannel {
    store: Arc<dyn Store>,
}

impl InAppChannel {
    /// A channel over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Channel for InAppChannel {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        self.deliver_all(&[m]).await.pop().unwrap_or(Ok(()))
    }

    fn together(&self) -> bool {
        true
    }

    /// One insert for all rows that render (a row that does not fails alone).
    async fn deliver_all(&self, messages: &[&OutboxMessage]) -> Vec<Result<(), DeliveryError>> {
        let at = now();
        let mut results: Vec<Result<(), DeliveryError>> = Vec::with_capacity(messages.len());
        let mut notifications = Vec::with_capacity(messages.len());
        for m in messages {
            match notification(m, at) {
                Ok(n) => {
                    notifications.push(n);
                    results.push(Ok(()));
                }
                Err(err) => results.push(Err(err)),
            }
        }
        if let Err(err) = self.store.insert_notifications(&notifications).await {
            let err = err.to_string();
            for result in results.iter_mut().filter(|r| r.is_ok()) {
                *result = Err(DeliveryError(err.clone()));
            }
        }
        results
    }
}

/// The notification an in-app delivery row stores.
fn notification(m: &OutboxMessage, at: DateTime<Utc>) -> Result<NewNotification, DeliveryError> {
    let user = m.payload["recipient"]
        .as_str()
        .ok_or_else(|| DeliveryError("in-app delivery without a recipient".into()))?;
    let rendered = render(&m.payload, None, Some(user)).map_err(DeliveryError)?;
    Ok(NewNotification {
        user: user.to_string(),
        outbox_id: m.id,
        workflow_id: m.workflow_id,
        topic: m.topic.clone(),
        title: rendered.subject,
        body: rendered.text.trim().to_string(),
        at,
    })
}
