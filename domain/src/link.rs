//! One-click actions from a message: what a signed link claims, which actions a message
//! offers, and when a link no longer acts (it expired, or the workflow moved on).
//!
//! Signing and single use are the engine's; this module decides, purely, what a link may
//! still do with the workflow as it is now.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{NotificationKind, WorkflowStatus};

/// What a link in a message does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    /// "I have seen it": acknowledges the reminder of the current stage and level.
    Acknowledge,
    /// Approves: completes the workflow.
    Complete,
    /// Puts it on hold for a chosen time, after which the engine resumes it.
    Snooze,
    /// Hands it to the recipient's delegate.
    Delegate,
}

impl LinkAction {
    /// Every action, in the order a message lists them.
    pub const ALL: [LinkAction; 4] = [
        LinkAction::Acknowledge,
        LinkAction::Complete,
        LinkAction::Snooze,
        LinkAction::Delegate,
    ];

    /// The action's name in links and audit entries.
    pub fn name(self) -> &'static str {
        match self {
            LinkAction::Acknowledge => "acknowledge",
            LinkAction::Complete => "complete",
            LinkAction::Snooze => "snooze",
            LinkAction::Delegate => "delegate",
        }
    }

    /// The words on the button or link.
    pub fn label(self) -> &'static str {
        match self {
            LinkAction::Acknowledge => "Acknowledge",
            LinkAction::Complete => "Approve (complete)",
            LinkAction::Snooze => "Snooze",
            LinkAction::Delegate => "Hand to my delegate",
        }
    }

    /// The actions a message of `kind` offers its addressee; `has_delegate` adds the
    /// hand-over. Only a reminder has something to acknowledge (its own row).
    pub fn offered(kind: NotificationKind, has_delegate: bool) -> Vec<LinkAction> {
        let mut offered = match kind {
            NotificationKind::Reminder => vec![LinkAction::Acknowledge, LinkAction::Complete, LinkAction::Snooze],
            NotificationKind::Escalation | NotificationKind::Assignment | NotificationKind::Attention => {
                vec![LinkAction::Complete, LinkAction::Snooze]
            }
        };
        if has_delegate {
            offered.push(LinkAction::Delegate);
        }
        offered
    }
}

/// How long a snooze may be chosen for, in hours, with its words.
pub const SNOOZE_CHOICES: [(i64, &str); 4] = [(1, "1 hour"), (4, "4 hours"), (24, "1 day"), (72, "3 days")];

/// What a signed link claims: who may do what to which workflow, at which stage and
/// level, until when. Short field names keep the links short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkClaims {
    #[serde(rename = "w")]
    pub workflow_id: i64,
    #[serde(rename = "a")]
    pub action: LinkAction,
    /// The person the message was addressed to; the action is theirs.
    #[serde(rename = "r")]
    pub recipient: String,
    /// The stage and level the message was about.
    #[serde(rename = "s")]
    pub stage: String,
    #[serde(rename = "l")]
    pub level: u32,
    /// Unix seconds after which the link no longer acts.
    #[serde(rename = "x")]
    pub expires_at: i64,
}

/// The part of a workflow's current state a link is checked against.
#[derive(Debug, Clone, Copy)]
pub struct LinkTarget<'a> {
    pub status: WorkflowStatus,
    pub stage: &'a str,
    pub level: u32,
    pub assignee: &'a str,
}

/// Why a link no longer acts, in words for the page that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStale {
    /// Past its expiry.
    Expired { at: DateTime<Utc> },
    /// The workflow was completed or cancelled.
    Closed { status: WorkflowStatus },
    /// The workflow is at another stage or level, or with someone else, than the message said.
    MovedOn {
        stage: String,
        level: u32,
        assignee: String,
    },
}

impl std::fmt::Display for LinkStale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkStale::Expired { at } => write!(
                f,
                "This link expired on {}. Open the workflow to act on it.",
                at.format("%Y-%m-%d %H:%M UTC")
            ),
            LinkStale::Closed { status } => write!(f, "This workflow is already {}: there is nothing left to do.", status.as_str()),
            LinkStale::MovedOn { stage, level, assignee } => write!(
                f,
                "This workflow moved on since the message was sent: it is now at stage “{stage}” (level {level}) with {assignee}."
            ),
        }
    }
}

impl LinkClaims {
    /// Whether the link still acts on the workflow as it is now: unexpired, the workflow
    /// open, at the stage and level the message was about and still with its recipient.
    pub fn check(&self, now: DateTime<Utc>, current: LinkTarget<'_>) -> Result<(), LinkStale> {
        if now.timestamp() > self.expires_at {
            let at = DateTime::from_timestamp(self.expires_at, 0).unwrap_or(now);
            return Err(LinkStale::Expired { at });
        }
        if !current.status.is_open() {
            return Err(LinkStale::Closed { status: current.status });
        }
        if current.stage != self.stage || current.level != self.level || current.assignee != self.recipient {
            return Err(LinkStale::MovedOn {
                stage: current.stage.to_string(),
                level: current.level,
                assignee: current.assignee.to_string(),
            });
        }
        Ok(())
    }

    /// The snooze length chosen on the confirmation page, if it is one the page offers.
    pub fn snooze_hours(choice: Option<&str>) -> Option<i64> {
        let hours = choice?.trim().parse::<i64>().ok()?;
        SNOOZE_CHOICES.iter().any(|(h, _)| *h == hours).then_some(hours)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn claims() -> LinkClaims {
        LinkClaims {
            workflow_id: 7,
            action: LinkAction::Complete,
            recipient: "dana@x.io".into(),
            stage: "Approval".into(),
            level: 1,
            expires_at: Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap().timestamp(),
        }
    }

    fn target(status: WorkflowStatus, stage: &'static str, level: u32, assignee: &'static str) -> LinkTarget<'static> {
        LinkTarget {
            status,
            stage,
            level,
            assignee,
        }
    }

    #[test]
    fn a_link_acts_only_on_the_state_its_message_was_about() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let c = claims();
        assert_eq!(
            c.check(now, target(WorkflowStatus::Escalated, "Approval", 1, "dana@x.io")),
            Ok(())
        );
        assert_eq!(
            c.check(now, target(WorkflowStatus::OnHold, "Approval", 1, "dana@x.io")),
            Ok(())
        );
        assert!(matches!(
            c.check(now, target(WorkflowStatus::Completed, "Approval", 1, "dana@x.io")),
            Err(LinkStale::Closed { .. })
        ));
        for moved in [
            target(WorkflowStatus::Escalated, "Approval", 2, "dana@x.io"),
            target(WorkflowStatus::Pending, "Payment", 1, "dana@x.io"),
            target(WorkflowStatus::Pending, "Approval", 1, "olivia@x.io"),
        ] {
            let stale = c.check(now, moved).unwrap_err();
            assert!(matches!(stale, LinkStale::MovedOn { .. }), "{stale:?}");
            assert!(stale.to_string().contains("moved on"), "{stale}");
        }
        let later = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 1).unwrap();
        assert!(matches!(
            c.check(later, target(WorkflowStatus::Pending, "Approval", 1, "dana@x.io")),
            Err(LinkStale::Expired { .. })
        ));
    }

    #[test]
    fn claims_read_back_and_refuse_unknown_fields() {
        let c = claims();
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<LinkClaims>(&text).unwrap(), c);
        assert!(serde_json::from_str::<LinkClaims>(&text.replace("\"w\"", "\"q\"")).is_err());
    }

    #[test]
    fn only_offered_snooze_lengths_are_accepted() {
        assert_eq!(LinkClaims::snooze_hours(Some("4")), Some(4));
        assert_eq!(LinkClaims::snooze_hours(Some("5")), None);
        assert_eq!(LinkClaims::snooze_hours(Some("-1")), None);
        assert_eq!(LinkClaims::snooze_hours(None), None);
    }

    #[test]
    fn reminders_offer_acknowledging_and_a_delegate_adds_the_hand_over() {
        assert_eq!(
            LinkAction::offered(NotificationKind::Reminder, false),
            vec![LinkAction::Acknowledge, LinkAction::Complete, LinkAction::Snooze]
        );
        assert_eq!(
            LinkAction::offered(NotificationKind::Escalation, true),
            vec![LinkAction::Complete, LinkAction::Snooze, LinkAction::Delegate]
        );
    }
}
