//! Events into the outbox: a transition's [`Event`] becomes one event row (for webhooks)
//! and, when it tells people, one message row (fanned out to channels at delivery).

use chrono::{DateTime, Utc};
use escalator_domain::{Event, EventKind, Notice, WorkflowIdentity, WorkflowState};
use escalator_storage::{NewOutbox, OutboxKind, WorkflowRecord};

/// The fixed fields of a stored workflow.
pub(crate) fn identity(w: &WorkflowRecord) -> WorkflowIdentity<'_> {
    WorkflowIdentity {
        id: w.id,
        external_id: &w.external_id,
        workflow_type: &w.workflow_type,
        title: &w.title,
        department: &w.department,
        initiator: &w.initiator,
    }
}

/// The event of a transition of `w` into `after`.
pub(crate) fn event(
    w: &WorkflowRecord,
    after: &WorkflowState,
    actor: &str,
    at: DateTime<Utc>,
    kind: EventKind,
) -> Event {
    Event {
        workflow: identity(w).summary(after),
        actor: actor.to_string(),
        at,
        kind,
    }
}

/// The outbox rows of an event, deduplicated by `key` (`<key>:event`, `<key>:notify`).
pub(crate) fn rows(event: &Event, key: &str) -> Result<Vec<NewOutbox>, serde_json::Error> {
    let mut rows = Vec::with_capacity(2);
    if let Some(notice) = event.notice() {
        rows.push(row(
            OutboxKind::Notification,
            notice.topic().to_string(),
            serde_json::to_value(&notice)?,
            format!("{key}:notify"),
        ));
    }
    rows.push(row(
        OutboxKind::Event,
        event.topic(),
        serde_json::to_value(event)?,
        format!("{key}:event"),
    ));
    Ok(rows)
}

/// The outbox row of a message to people, deduplicated by `key` (`<key>:notify`).
pub(crate) fn notice_row(notice: &Notice, key: &str) -> Result<NewOutbox, serde_json::Error> {
    Ok(row(
        OutboxKind::Notification,
        notice.topic().to_string(),
        serde_json::to_value(notice)?,
        format!("{key}:notify"),
    ))
}

fn row(kind: OutboxKind, topic: String, payload: serde_json::Value, dedupe_key: String) -> NewOutbox {
    NewOutbox {
        kind,
        topic,
        payload,
        dedupe_key,
        channel: None,
        recipient: None,
        not_before: None,
    }
}
