//! Reminders: listing those the actor may see and acknowledging them.

use escalator_domain::Role;
use escalator_storage::{NewAudit, Reminder, ReminderFilter};
use serde_json::json;

use crate::access::Actor;
use crate::{EngineError, EngineResult, Escalator};

impl Escalator {
    /// heads those of their department's workflows, everyone else their own.
    pub async fn reminders(&self, mut filter: ReminderFilter, actor: &Actor) -> EngineResult<Vec<Reminder>> {
        match actor.role {
            Role::Admin => {}
            Role::DepartmentHead => filter.department = Some(actor.department.clone().unwrap_or_default()),
            Role::Approver | Role::Viewer => filter.assignee = Some(actor.email.clone()),
        }
        filter.limit = filter.limit.clamp(1, 500);
        Ok(self.store.reminders(&filter).await?)
    }

    /// [`Escalator::reminders`], each with its workflow's title (read once per workflow).
    pub async fn reminders_titled(
        &self,
        filter: ReminderFilter,
        actor: &Actor,
    ) -> EngineResult<Vec<(Reminder, String)>> {
        let reminders = self.reminders(filter, actor).await?;
        let mut titles: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        let mut rows = Vec::with_capacity(reminders.len());
        for r in reminders {
            let title = match titles.get(&r.workflow_id) {
                Some(title) => title.clone(),
                None => {
                    let title = self
                        .store
                        .workflow(r.workflow_id)
                        .await?
                        .map(|w| w.title)
                        .unwrap_or_default();
                    titles.insert(r.workflow_id, title.clone());
                    title
                }
            };
            rows.push((r, title));
        }
        Ok(rows)
    }

    /// Acknowledges a reminder: the assignee's own, any of their department's for a
    /// department head, any for admins. Repeating it is harmless.
    pub async fn acknowledge_reminder(&self, id: i64, actor: &Actor) -> EngineResult<Reminder> {
        let missing = || EngineError::not_found("reminder", id);
        let reminder = self.store.reminder(id).await?.ok_or_else(missing)?;
        let allowed = match actor.role {
            Role::Admin => true,
            _ if reminder.assignee == actor.email => true,
            Role::DepartmentHead => self
                .store
                .workflow(reminder.workflow_id)
                .await?
                .is_some_and(|w| actor.department.as_deref() == Some(w.department.as_str())),
            Role::Approver | Role::Viewer => false,
        };
        if !allowed {
            return Err(missing());
        }
        let audit = NewAudit {
            actor: actor.email.clone(),
            action: "reminder_acknowledged".into(),
            workflow_id: Some(reminder.workflow_id),
            details: json!({ "reminder_id": id, "level": reminder.level, "stage_seq": reminder.stage_seq, "via": actor.via }),
            at: self.now(),
        };
        self.store
            .acknowledge_reminder(id, &actor.email, &audit)
            .await?
            .ok_or_else(|| EngineError::not_found("reminder", id))
    }
}
