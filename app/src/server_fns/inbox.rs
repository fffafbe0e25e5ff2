//! The signed-in user's reminders (with acknowledge) and in-app notifications (the bell).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{NotificationRow, ReminderRow};

/// The reminders the user may act on (a head: their department's), newest first,
/// acknowledged ones included.
#[server(prefix = "/ui/fn", endpoint = "reminders")]
pub async fn reminders() -> Result<Vec<ReminderRow>, AppError> {
    use crate::ssr;
    use escalator_storage::ReminderFilter;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    // Admins see their own here (everyone's are in the audit log); heads their department's.
    let assignee = actor.is_admin().then(|| actor.email.clone());
    let reminders = escalator
        .reminders_titled(
            ReminderFilter {
                assignee,
                limit: 200,
                ..ReminderFilter::default()
            },
            &actor,
        )
        .await?;
    let local = ssr::local_times(&actor).await?;
    let mut rows = Vec::with_capacity(reminders.len());
    for (r, workflow_title) in reminders {
        rows.push(ReminderRow {
            sent_local: local(r.created_at),
            due_local: local(r.due_at),
            acknowledged_local: r.acknowledged_at.map(&local),
            id: r.id,
            workflow_id: r.workflow_id,
            workflow_title,
            assignee: r.assignee,
            due_at: r.due_at,
            created_at: r.created_at,
            acknowledged_at: r.acknowledged_at,
            acknowledged_by: r.acknowledged_by,
        });
    }
    Ok(rows)
}

/// Acknowledges one of the user's reminders (audited).
#[server(prefix = "/ui/fn", endpoint = "acknowledge")]
pub async fn acknowledge(id: i64) -> Result<(), AppError> {
    use crate::ssr;
    let actor = ssr::actor().await?;
    ssr::escalator()?.acknowledge_reminder(id, &actor).await?;
    Ok(())
}

/// The user's in-app notifications, newest first.
#[server(prefix = "/ui/fn", endpoint = "notifications")]
pub async fn notifications() -> Result<Vec<NotificationRow>, AppError> {
    use crate::ssr;
    let actor = ssr::actor().await?;
    let (items, _) = ssr::escalator()?.notifications(&actor, false, None, 100).await?;
    let local = ssr::local_times(&actor).await?;
    Ok(items
        .into_iter()
        .map(|n| NotificationRow {
            created_local: local(n.created_at),
            id: n.id,
            workflow_id: n.workflow_id,
            title: n.title,
            body: n.body,
            created_at: n.created_at,
            read: n.read_at.is_some(),
        })
        .collect())
}

/// Marks one notification read, or all with no id.
#[server(prefix = "/ui/fn", endpoint = "mark_read")]
pub async fn mark_read(id: Option<i64>) -> Result<(), AppError> {
    use crate::ssr;
    let actor = ssr::actor().await?;
    ssr::escalator()?.mark_read(&actor, id).await?;
    Ok(())
}
