//! Events into the outbox: a transition's [`Event`] becomes one event row (for webhooks)
//! and, when it tells people, one message row (fanned out to channels at delivery).

use chrono::{DateTime, Utc};
use escalator_domain::{Event, EventKind, NotificationKind, WorkflowIdentity, WorkflowState};
use escalator_storage::{NewOutbox, OutboxKind, Payload, WorkflowRecord};

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

/// The outbox rows of an event, deduplicated by `key` (`<key>:event`, `<key>:notify`):
/// the event, and the message its addressees get, if any ([`Event::addressees`]).
pub(crate) fn rows(event: &Event, key: &str) -> Result<Vec<NewOutbox>, serde_json::Error> {
    rows_to(event, event.addressees(), key)
}

/// The outbox rows of an event with the message to `addressees` (kind, to, cc). The event
/// is serialised once: the message is its JSON with the addressees added, which is exactly
/// how a [`Notice`](escalator_domain::Notice) serialises (a tick writes thousands of these).
pub(crate) fn rows_to(
    event: &Event,
    addressees: Option<(NotificationKind, Vec<String>, Vec<String>)>,
    key: &str,
) -> Result<Vec<NewOutbox>, serde_json::Error> {
    let payload = Payload::of(event)?;
    let mut rows = Vec::with_capacity(2);
    if let Some((template, to, cc)) = addressees {
        let message = payload.with(&Addressees { template, to, cc })?;
        rows.push(row(
            OutboxKind::Notification,
            template.topic().to_string(),
            message,
            format!("{key}:notify"),
        ));
    }
    rows.push(row(OutboxKind::Event, event.topic(), payload, format!("{key}:event")));
    Ok(rows)
}

/// The fields a message adds to its event (as [`Notice`](escalator_domain::Notice) names them).
#[derive(serde::Serialize)]
struct Addressees {
    template: NotificationKind,
    to: Vec<String>,
    cc: Vec<String>,
}

fn row(kind: OutboxKind, topic: String, payload: Payload, dedupe_key: String) -> NewOutbox {
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use escalator_domain::{EventKind, WorkflowStatus, WorkflowSummary};

    use super::*;

    #[test]
    fn the_message_row_is_the_notice_as_it_serialises() {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
        let event = Event {
            workflow: WorkflowSummary {
                id: 1,
                external_id: "PO-1".into(),
                workflow_type: "purchase".into(),
                title: "Chairs".into(),
                department: "finance".into(),
                initiator: "i@x.io".into(),
                stage: "Approval".into(),
                status: WorkflowStatus::Escalated,
                assignee: "b@x.io".into(),
                level: 1,
                due_at: at,
            },
            actor: "system".into(),
            at,
            kind: EventKind::Escalated {
                from_assignee: "a@x.io".into(),
                to_assignee: "b@x.io".into(),
                from_level: 0,
                to_level: 1,
                elapsed_seconds: 60,
                breached_due_at: at,
                skipped: vec![],
                passed_over: vec![],
                acknowledged_until: None,
            },
        };
        let rows = rows(&event, "k").unwrap();
        assert_eq!(rows.len(), 2);
        let parsed = |p: &Payload| serde_json::from_str::<serde_json::Value>(p.as_str()).unwrap();
        assert_eq!(
            parsed(&rows[0].payload),
            serde_json::to_value(event.notice().unwrap()).unwrap()
        );
        assert_eq!(rows[0].topic, "workflow.escalated");
        assert_eq!(parsed(&rows[1].payload), serde_json::to_value(&event).unwrap());
    }
}
