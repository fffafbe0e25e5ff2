//! Services behind the notification bell and the dead-letter view.

use escalator_domain::NotificationPreferences;
use escalator_storage::{Notification, OutboxMessage, OutboxStatus};
use serde_json::json;

use crate::access::Actor;
use crate::{EngineError, EngineResult, Escalator};

impl Escalator {
    /// The actor's in-app notifications (newest first) and their unread count.
    pub async fn notifications(
        &self,
        actor: &Actor,
        unread_only: bool,
        before_id: Option<i64>,
        limit: i64,
    ) -> EngineResult<(Vec<Notification>, i64)> {
        let items = self
            .store
            .notifications(&actor.email, unread_only, before_id, limit.clamp(1, 500))
            .await?;
        Ok((items, self.unread_notifications(actor).await?))
    }

    /// How many of the actor's notifications are unread (the badge, without the list).
    pub async fn unread_notifications(&self, actor: &Actor) -> EngineResult<i64> {
        Ok(self.store.unread_notifications(&actor.email).await?)
    }

    /// Marks one of the actor's notifications (or all, with `None`) read.
    pub async fn mark_read(&self, actor: &Actor, id: Option<i64>) -> EngineResult<u64> {
        let changed = self.store.mark_notifications_read(&actor.email, id, self.now()).await?;
        if let (Some(id), 0) = (id, changed) {
            // Unknown, someone else's, or already read: only the first is an error.
            // The page just below `id + 1` starts at `id` if it is the actor's; the largest id
            // cannot be anyone's (ids start at 1 and count up), so there is nothing to look up.
            let Some(above) = id.checked_add(1) else {
                return Err(EngineError::not_found("notification", id));
            };
            let mine = self.store.notifications(&actor.email, false, Some(above), 1).await?;
            if mine.first().map(|n| n.id) != Some(id) {
                return Err(EngineError::not_found("notification", id));
            }
        }
        Ok(changed)
    }

    /// A user's notification preferences (admins: anyone's; everyone else: their own).
    pub async fn preferences(&self, actor: &Actor, email: &str) -> EngineResult<NotificationPreferences> {
        let email = actor.own_or_admin(email)?;
        self.store
            .notification_preferences(&email)
            .await?
            .ok_or_else(|| EngineError::not_found("user", email))
    }

    /// Replaces a user's notification preferences (admins: anyone's; everyone else: their
    /// own); audited.
    pub async fn set_preferences(
        &self,
        actor: &Actor,
        email: &str,
        preferences: NotificationPreferences,
    ) -> EngineResult<NotificationPreferences> {
        let email = actor.own_or_admin(email)?;
        let preferences = preferences.validated()?;
        if !self
            .store
            .set_notification_preferences(&email, &preferences, self.now())
            .await?
        {
            return Err(EngineError::not_found("user", email));
        }
        let entry = escalator_storage::NewAudit {
            actor: actor.email.clone(),
            action: "preferences_updated".into(),
            workflow_id: None,
            details: json!({ "user": email, "preferences": preferences }),
            at: self.now(),
        };
        self.store.append_audit(&entry).await?;
        Ok(preferences)
    }

    /// Outbox rows by status, for admins (dead letters with their errors).
    pub async fn outbox(
        &self,
        actor: &Actor,
        status: Option<OutboxStatus>,
        limit: i64,
    ) -> EngineResult<Vec<OutboxMessage>> {
        actor.require_admin()?;
        Ok(self.store.outbox(status, limit.clamp(1, 500)).await?)
    }

    /// Sends every dead-lettered message again (admins); how many. Each is audited.
    pub async fn retry_all_dead_letters(&self, actor: &Actor) -> EngineResult<usize> {
        actor.require_admin()?;
        let dead = self.store.outbox(Some(OutboxStatus::Dead), 500).await?;
        for message in &dead {
            self.retry_dead_letter(actor, message.id).await?;
        }
        Ok(dead.len())
    }

    /// Sends a dead-lettered message again (admins); audited.
    pub async fn retry_dead_letter(&self, actor: &Actor, id: i64) -> EngineResult<()> {
        actor.require_admin()?;
        if !self.store.retry_outbox(id, self.now()).await? {
            return Err(EngineError::not_found("dead-lettered message", id));
        }
        let entry = escalator_storage::NewAudit {
            actor: actor.email.clone(),
            action: "delivery_retried".into(),
            workflow_id: None,
            details: json!({ "outbox_id": id }),
            at: self.now(),
        };
        self.store.append_audit(&entry).await?;
        self.request_delivery();
        Ok(())
    }

    /// Discards every dead letter (admins); how many. Each is audited.
    pub async fn discard_all_dead_letters(&self, actor: &Actor) -> EngineResult<usize> {
        actor.require_admin()?;
        let dead = self.store.outbox(Some(OutboxStatus::Dead), 500).await?;
        for message in &dead {
            self.discard_dead_letter(actor, message.id).await?;
        }
        Ok(dead.len())
    }

    /// Discards a dead letter that will not be sent again (admins): it stays on record
    /// but leaves the dead-letter list and gauge; audited.
    pub async fn discard_dead_letter(&self, actor: &Actor, id: i64) -> EngineResult<()> {
        actor.require_admin()?;
        if !self.store.discard_outbox(id, &actor.email, self.now()).await? {
            return Err(EngineError::not_found("dead-lettered message", id));
        }
        let entry = escalator_storage::NewAudit {
            actor: actor.email.clone(),
            action: "delivery_discarded".into(),
            workflow_id: None,
            details: json!({ "outbox_id": id }),
            at: self.now(),
        };
        self.store.append_audit(&entry).await?;
        Ok(())
    }
}
