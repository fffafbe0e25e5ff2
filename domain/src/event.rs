//! What happened to a workflow, as webhooks and notifications carry it: one typed event
//! per transition, each with the same [`WorkflowSummary`], so that every consumer sees one
//! shape per event type whichever part of Escalator (a person's action or the engine's
//! tick) caused it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{NotificationKind, PassedOver, Unresolved, WorkflowState, WorkflowStatus};

/// The workflow as it is after the event: what every event and message carries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSummary {
    pub id: i64,
    pub external_id: String,
    /// The workflow type, e.g. `purchase`.
    #[serde(rename = "type")]
    pub workflow_type: String,
    pub title: String,
    pub department: String,
    pub initiator: String,
    pub stage: String,
    pub status: WorkflowStatus,
    pub assignee: String,
    pub level: u32,
    pub due_at: DateTime<Utc>,
}

/// The fixed fields of a workflow, from which a [`WorkflowSummary`] is made with a state.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowIdentity<'a> {
    pub id: i64,
    pub external_id: &'a str,
    pub workflow_type: &'a str,
    pub title: &'a str,
    pub department: &'a str,
    pub initiator: &'a str,
}

impl WorkflowIdentity<'_> {
    /// The summary of this workflow in `state`.
    pub fn summary(&self, state: &WorkflowState) -> WorkflowSummary {
        WorkflowSummary {
            id: self.id,
            external_id: self.external_id.to_string(),
            workflow_type: self.workflow_type.to_string(),
            title: self.title.to_string(),
            department: self.department.to_string(),
            initiator: self.initiator.to_string(),
            stage: state.stage.clone(),
            status: state.status,
            assignee: state.assignee.clone(),
            level: state.level,
            due_at: state.due_at,
        }
    }
}

/// What happened; the event's type is `workflow.<name>` (see [`Event::topic`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The SLA's warning window was reached: the assignee was reminded (`repeat` 0 the
    /// first time).
    Reminded {
        remaining_seconds: i64,
        repeat: u32,
    },
    /// The SLA was breached: the workflow went up its chain.
    Escalated {
        from_assignee: String,
        to_assignee: String,
        from_level: u32,
        to_level: u32,
        /// Working time counted at the breached level.
        elapsed_seconds: i64,
        /// The deadline that was missed.
        breached_due_at: DateTime<Utc>,
        /// Levels passed over because their target did not resolve or nobody there was present.
        skipped: Vec<Unresolved>,
        /// People of the new level passed over because they were away.
        passed_over: Vec<PassedOver>,
        /// Set when the assignee had acknowledged the reminder and the policy's
        /// acknowledgement timeout ended then without a decision.
        #[serde(default)]
        acknowledged_until: Option<DateTime<Utc>>,
    },
    /// The assignee went away (an absence started, or they were deactivated): their work
    /// went to their delegate, or one level up the chain.
    HandedOver {
        from_assignee: String,
        from_level: u32,
        /// People passed over because they were away, the former assignee first.
        passed_over: Vec<PassedOver>,
    },
    /// The SLA was breached and no further level resolves: it stays with its assignee.
    ChainExhausted {
        elapsed_seconds: i64,
        skipped: Vec<Unresolved>,
        /// 0 the first time, then 1, 2, … when the policy tells the top of the chain again.
        #[serde(default)]
        repeat: u32,
    },
    Completed {
        note: Option<String>,
    },
    Advanced {
        from_stage: String,
        from_assignee: String,
    },
    Reassigned {
        from_assignee: String,
        reason: Option<String>,
    },
    Cancelled {
        reason: Option<String>,
    },
    Held {
        reason: String,
        /// When the engine resumes it (a snooze); `null` until someone resumes it.
        #[serde(default)]
        until: Option<DateTime<Utc>>,
    },
    Resumed {
        /// How long the clock was paused.
        paused_seconds: Option<i64>,
    },
}

/// One event: who did what to which workflow, and when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub workflow: WorkflowSummary,
    /// The person's e-mail, or `system` for the engine.
    pub actor: String,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl EventKind {
    /// The event's name, e.g. `escalated`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Reminded { .. } => "reminded",
            EventKind::Escalated { .. } => "escalated",
            EventKind::HandedOver { .. } => "handed_over",
            EventKind::ChainExhausted { .. } => "chain_exhausted",
            EventKind::Completed { .. } => "completed",
            EventKind::Advanced { .. } => "advanced",
            EventKind::Reassigned { .. } => "reassigned",
            EventKind::Cancelled { .. } => "cancelled",
            EventKind::Held { .. } => "held",
            EventKind::Resumed { .. } => "resumed",
        }
    }
}

impl Event {
    /// Every event type, as webhooks subscribe to them.
    pub const TOPICS: [&'static str; 10] = [
        "workflow.reminded",
        "workflow.escalated",
        "workflow.handed_over",
        "workflow.chain_exhausted",
        "workflow.completed",
        "workflow.advanced",
        "workflow.reassigned",
        "workflow.cancelled",
        "workflow.held",
        "workflow.resumed",
    ];

    /// The event's type: `workflow.<name>`.
    pub fn topic(&self) -> String {
        format!("workflow.{}", self.kind.name())
    }

    /// The message this event sends to people, if any: its kind, addressee and copies.
    /// Escalations go to the new assignee with the previous one and the initiator in copy;
    /// reminders to the assignee; a hand-over by a person to the new assignee unless they
    /// made it themselves.
    pub fn notice(&self) -> Option<Notice> {
        let (template, to, cc) = self.addressees()?;
        Some(Notice {
            template,
            to,
            cc,
            event: self.clone(),
        })
    }

    /// The kind, addressee and copies of [`Event::notice`], without copying the event.
    pub fn addressees(&self) -> Option<(NotificationKind, Vec<String>, Vec<String>)> {
        let to = self.workflow.assignee.clone();
        let (kind, cc) = match &self.kind {
            EventKind::Reminded { .. } => (NotificationKind::Reminder, Vec::new()),
            EventKind::Escalated { from_assignee, .. } => {
                let mut cc = vec![from_assignee.clone(), self.workflow.initiator.clone()];
                cc.retain(|c| *c != to);
                cc.dedup();
                (NotificationKind::Escalation, cc)
            }
            EventKind::Advanced { from_assignee, .. }
            | EventKind::Reassigned { from_assignee, .. }
            | EventKind::HandedOver { from_assignee, .. }
                if *from_assignee != to && to != self.actor =>
            {
                (NotificationKind::Assignment, Vec::new())
            }
            _ => return None,
        };
        Some((kind, vec![to], cc))
    }
}

impl Event {
    /// Whom to tell that a workflow overdue at the top of its chain still needs a
    /// decision: its assignee, the initiator in copy.
    pub fn attention(&self) -> (NotificationKind, Vec<String>, Vec<String>) {
        let to = self.workflow.assignee.clone();
        let cc = vec![self.workflow.initiator.clone()]
            .into_iter()
            .filter(|c| *c != to)
            .collect();
        (NotificationKind::Attention, vec![to], cc)
    }
}

/// A message to people about an event: its kind (which is its template), addressee and
/// copies. Delivery fans it out per person and channel by their preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub template: NotificationKind,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    #[serde(flatten)]
    pub event: Event,
}

impl Notice {
    /// The outbox topic of the message, e.g. `workflow.reminder`.
    pub fn topic(&self) -> &'static str {
        self.template.topic()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn event(kind: EventKind, assignee: &str, actor: &str) -> Event {
        let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
        Event {
            workflow: WorkflowSummary {
                id: 7,
                external_id: "PO-7".into(),
                workflow_type: "purchase".into(),
                title: "Laptops".into(),
                department: "finance".into(),
                initiator: "init@x.io".into(),
                stage: "Approval".into(),
                status: WorkflowStatus::Escalated,
                assignee: assignee.into(),
                level: 1,
                due_at: at,
            },
            actor: actor.into(),
            at,
            kind,
        }
    }

    #[test]
    fn an_escalation_goes_to_the_new_assignee_with_the_previous_one_and_the_initiator_in_copy() {
        let e = event(
            EventKind::Escalated {
                from_assignee: "mgr@x.io".into(),
                to_assignee: "boss@x.io".into(),
                from_level: 0,
                to_level: 1,
                elapsed_seconds: 3600,
                breached_due_at: Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap(),
                skipped: vec![],
                passed_over: vec![],
                acknowledged_until: None,
            },
            "boss@x.io",
            "system",
        );
        let notice = e.notice().unwrap();
        assert_eq!(notice.template, NotificationKind::Escalation);
        assert_eq!(notice.to, ["boss@x.io"]);
        assert_eq!(notice.cc, ["mgr@x.io", "init@x.io"]);
        assert_eq!(notice.topic(), "workflow.escalated");
        assert_eq!(e.topic(), "workflow.escalated");
    }

    #[test]
    fn a_hand_over_to_oneself_or_to_the_same_person_tells_nobody() {
        let reassigned = |from: &str, to: &str, actor: &str| {
            event(
                EventKind::Reassigned {
                    from_assignee: from.into(),
                    reason: None,
                },
                to,
                actor,
            )
            .notice()
        };
        assert!(reassigned("a@x.io", "b@x.io", "b@x.io").is_none());
        assert!(reassigned("a@x.io", "a@x.io", "head@x.io").is_none());
        let told = reassigned("a@x.io", "b@x.io", "head@x.io").unwrap();
        assert_eq!(told.template, NotificationKind::Assignment);
        assert_eq!(told.to, ["b@x.io"]);
        assert!(event(EventKind::Completed { note: None }, "a@x.io", "a@x.io")
            .notice()
            .is_none());
    }

    #[test]
    fn every_event_serialises_with_the_same_workflow_summary_and_its_name() {
        let e = event(
            EventKind::Held {
                reason: "supplier".into(),
                until: None,
            },
            "a@x.io",
            "head@x.io",
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["event"], "held");
        assert_eq!(json["workflow"]["type"], "purchase");
        assert_eq!(json["workflow"]["status"], "escalated");
        assert_eq!(json["reason"], "supplier");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
        assert!(Event::TOPICS.contains(&e.topic().as_str()));

        let notice = serde_json::to_value(
            event(
                EventKind::Reminded {
                    remaining_seconds: 60,
                    repeat: 0,
                },
                "a@x.io",
                "system",
            )
            .notice()
            .unwrap(),
        )
        .unwrap();
        assert_eq!(notice["template"], "reminder");
        assert_eq!(notice["to"], serde_json::json!(["a@x.io"]));
        assert_eq!(notice["workflow"]["title"], "Laptops");
        assert_eq!(notice["remaining_seconds"], 60);
    }
}
