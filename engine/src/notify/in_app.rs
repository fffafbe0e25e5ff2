//! In-app notifications: stored per user for the UI's bell and `/api/v1/notifications`.

use std::sync::Arc;

use async_trait::async_trait;
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
        let user = m.payload["recipient"]
            .as_str()
            .ok_or_else(|| DeliveryError("in-app delivery without a recipient".into()))?;
        let rendered = render(&m.payload, None, Some(user)).map_err(DeliveryError)?;
        let notification = NewNotification {
            user: user.to_string(),
            outbox_id: m.id,
            workflow_id: m.workflow_id,
            topic: m.topic.clone(),
            title: rendered.subject,
            body: rendered.text.trim().to_string(),
            at: now(),
        };
        self.store
            .insert_notification(&notification)
            .await
            .map_err(|e| DeliveryError(e.to_string()))
    }
}
