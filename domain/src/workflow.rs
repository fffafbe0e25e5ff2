//! Workflow instances' life cycle: the state that changes over a workflow's life and the
//! transitions between states, used alike by people's actions and the engine's tick.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Escalation, SlaState, ValidationError};

/// Where a workflow's current stage stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    Pending,
    Escalated,
    OnHold,
    Completed,
    Cancelled,
}

/// An action a client or user asks for on a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Complete,
    Advance,
    Reassign,
    Cancel,
    Hold,
    Resume,
}

impl Action {
    /// Every action, in the order the UI offers them.
    pub const ALL: [Action; 6] = [
        Action::Complete,
        Action::Advance,
        Action::Reassign,
        Action::Hold,
        Action::Resume,
        Action::Cancel,
    ];

    /// The action's name: in requests, audit entries and the UI.
    pub fn name(self) -> &'static str {
        match self {
            Action::Complete => "complete",
            Action::Advance => "advance",
            Action::Reassign => "reassign",
            Action::Cancel => "cancel",
            Action::Hold => "hold",
            Action::Resume => "resume",
        }
    }
}

/// A transition that the workflow's current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a workflow that is {}", current.as_str())]
pub struct TransitionError {
    /// The transition's name (an [`Action::name`], or `escalate`).
    pub action: &'static str,
    pub current: WorkflowStatus,
}

impl WorkflowStatus {
    /// Every status, for parsing and listings.
    pub const ALL: [WorkflowStatus; 5] = [
        WorkflowStatus::Pending,
        WorkflowStatus::Escalated,
        WorkflowStatus::OnHold,
        WorkflowStatus::Completed,
        WorkflowStatus::Cancelled,
    ];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Pending => "pending",
            WorkflowStatus::Escalated => "escalated",
            WorkflowStatus::OnHold => "on_hold",
            WorkflowStatus::Completed => "completed",
            WorkflowStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            ValidationError::new(
                "status",
                format!("unknown status {raw:?}; expected pending, escalated, on_hold, completed or cancelled"),
            )
        })
    }

    /// Open workflows are watched by the engine; closed ones are history.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            WorkflowStatus::Pending | WorkflowStatus::Escalated | WorkflowStatus::OnHold
        )
    }

    /// Checks that `action` is allowed now.
    pub fn allows(self, action: Action) -> Result<(), TransitionError> {
        let ok = match action {
            Action::Complete | Action::Advance | Action::Reassign | Action::Cancel => self.is_open(),
            Action::Hold => matches!(self, WorkflowStatus::Pending | WorkflowStatus::Escalated),
            Action::Resume => self == WorkflowStatus::OnHold,
        };
        if ok {
            Ok(())
        } else {
            Err(TransitionError {
                action: action.name(),
                current: self,
            })
        }
    }
}

/// The part of a workflow that changes over its life. Every change is one of the
/// transitions below, each checked against the current status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowState {
    pub status: WorkflowStatus,
    pub stage: String,
    /// 1 for the first stage, incremented by every advance.
    pub stage_seq: i64,
    pub assignee: String,
    /// 0 at the start of a stage, incremented by every escalation.
    pub level: u32,
    pub policy_id: i64,
    /// The version of the policy this workflow's clock runs under.
    pub policy_version: i64,
    pub stage_started_at: DateTime<Utc>,
    pub level_started_at: DateTime<Utc>,
    pub warn_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// When the engine looks at the workflow next; none while on hold or closed.
    pub next_check_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The SLA policy a stage runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyRef {
    pub id: i64,
    pub version: i64,
}

impl WorkflowState {
    /// The first stage of a new workflow, started at `started_at` at `level` of its chain
    /// (0 unless routing passed levels where nobody was present) with the clock `sla`.
    pub fn start(
        stage: String,
        assignee: String,
        level: u32,
        policy: PolicyRef,
        started_at: DateTime<Utc>,
        sla: &SlaState,
    ) -> Self {
        WorkflowState {
            status: WorkflowStatus::Pending,
            stage,
            stage_seq: 1,
            assignee,
            level,
            policy_id: policy.id,
            policy_version: policy.version,
            stage_started_at: started_at,
            level_started_at: started_at,
            warn_at: sla.warn_at,
            due_at: sla.due_at,
            // The warning time, even if past: a workflow imported late is reminded (or, if
            // already breached, escalated) by the next tick.
            next_check_at: Some(sla.warn_at),
            closed_at: None,
        }
    }

    /// The stage is decided: closed, no longer watched.
    pub fn complete(&self, now: DateTime<Utc>) -> Result<Self, TransitionError> {
        self.close(Action::Complete, WorkflowStatus::Completed, now)
    }

    /// The workflow is withdrawn: closed, no longer watched.
    pub fn cancel(&self, now: DateTime<Utc>) -> Result<Self, TransitionError> {
        self.close(Action::Cancel, WorkflowStatus::Cancelled, now)
    }

    fn close(&self, action: Action, to: WorkflowStatus, now: DateTime<Utc>) -> Result<Self, TransitionError> {
        self.status.allows(action)?;
        Ok(WorkflowState {
            status: to,
            closed_at: Some(now),
            next_check_at: None,
            ..self.clone()
        })
    }

    /// The next stage starts now at `level` (0 unless routing passed levels where nobody
    /// was present) with `assignee`, under `policy` (whose clock, started now, is `sla`).
    pub fn advance(
        &self,
        stage: String,
        assignee: String,
        level: u32,
        policy: PolicyRef,
        sla: &SlaState,
        now: DateTime<Utc>,
    ) -> Result<Self, TransitionError> {
        self.status.allows(Action::Advance)?;
        Ok(WorkflowState {
            status: WorkflowStatus::Pending,
            stage,
            stage_seq: self.stage_seq.saturating_add(1),
            assignee,
            level,
            policy_id: policy.id,
            policy_version: policy.version,
            stage_started_at: now,
            level_started_at: now,
            warn_at: sla.warn_at,
            due_at: sla.due_at,
            next_check_at: Some(sla.warn_at),
            closed_at: None,
        })
    }

    /// Someone else takes the workflow over; its clock runs on.
    pub fn reassign(&self, assignee: String) -> Result<Self, TransitionError> {
        self.status.allows(Action::Reassign)?;
        Ok(WorkflowState {
            assignee,
            ..self.clone()
        })
    }

    /// The clock pauses until the workflow is resumed: by a person, or by the engine at
    /// `until` when the hold has an end (a snooze). The status to resume to is the current one.
    pub fn hold(&self, until: Option<DateTime<Utc>>) -> Result<Self, TransitionError> {
        self.status.allows(Action::Hold)?;
        Ok(WorkflowState {
            status: WorkflowStatus::OnHold,
            // A hold with an end (a snooze) is watched for that end; the engine resumes it.
            next_check_at: until,
            ..self.clone()
        })
    }

    /// The clock runs again: back to `to` (the status before the hold) with the deadline
    /// `sla` counted around the pause.
    pub fn resume(&self, to: WorkflowStatus, sla: &SlaState) -> Result<Self, TransitionError> {
        self.status.allows(Action::Resume)?;
        Ok(WorkflowState {
            status: if to.is_open() && to != WorkflowStatus::OnHold {
                to
            } else {
                WorkflowStatus::Pending
            },
            warn_at: sla.warn_at,
            due_at: sla.due_at,
            // Due at once if the warning time has passed while on hold; the once-only
            // reminder claim keeps a reminder already sent from being sent again.
            next_check_at: Some(sla.warn_at),
            ..self.clone()
        })
    }

    /// The engine's escalation: the next level's assignee takes over and a new clock starts.
    pub fn escalate(&self, e: &Escalation, now: DateTime<Utc>) -> Result<Self, TransitionError> {
        if !matches!(self.status, WorkflowStatus::Pending | WorkflowStatus::Escalated) {
            return Err(TransitionError {
                action: "escalate",
                current: self.status,
            });
        }
        Ok(WorkflowState {
            status: WorkflowStatus::Escalated,
            assignee: e.to_assignee.clone(),
            level: e.to_level,
            level_started_at: now,
            warn_at: e.next.warn_at,
            due_at: e.next.due_at,
            next_check_at: crate::next_check_for(&e.next),
            ..self.clone()
        })
    }

    /// The same workflow on a recomputed clock (a new policy version): its warning time and
    /// deadline move; a running one is watched from the new warning time, a held one keeps
    /// what it had (a snooze's end, or nothing).
    pub fn reclocked(&self, sla: &SlaState) -> Self {
        WorkflowState {
            warn_at: sla.warn_at,
            due_at: sla.due_at,
            next_check_at: match self.status {
                WorkflowStatus::OnHold => self.next_check_at,
                _ => Some(sla.warn_at),
            },
            ..self.clone()
        }
    }

    /// When the engine looks next, nothing else changed (after a reminder, or a wait).
    pub fn reschedule(&self, next_check_at: Option<DateTime<Utc>>) -> Self {
        WorkflowState {
            next_check_at,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::SlaStatus;

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + TimeDelta::minutes(minutes)
    }

    fn clock(from: i64) -> SlaState {
        SlaState {
            status: SlaStatus::Ok,
            warn_at: t(from + 50),
            due_at: t(from + 60),
            elapsed: TimeDelta::zero(),
            remaining: TimeDelta::minutes(60),
        }
    }

    fn started() -> WorkflowState {
        WorkflowState::start(
            "Approval".into(),
            "a@x.io".into(),
            0,
            PolicyRef { id: 1, version: 1 },
            t(0),
            &clock(0),
        )
    }

    fn escalation(now: i64) -> Escalation {
        Escalation {
            from_level: 0,
            to_level: 1,
            to_assignee: "head@x.io".into(),
            skipped: vec![],
            passed_over: vec![],
            acknowledged_until: None,
            breached: SlaState {
                status: SlaStatus::Breached,
                ..clock(0)
            },
            next: clock(now),
        }
    }

    #[test]
    fn a_new_workflow_is_pending_at_level_zero_and_checked_at_its_warning_time() {
        let s = started();
        assert_eq!(s.status, WorkflowStatus::Pending);
        assert_eq!((s.stage_seq, s.level), (1, 0));
        assert_eq!(s.next_check_at, Some(t(50)));
    }

    #[test]
    fn escalation_moves_up_a_level_and_restarts_the_level_clock_only() {
        let s = started().escalate(&escalation(61), t(61)).unwrap();
        assert_eq!(s.status, WorkflowStatus::Escalated);
        assert_eq!((s.assignee.as_str(), s.level), ("head@x.io", 1));
        assert_eq!((s.stage_started_at, s.level_started_at), (t(0), t(61)));
        assert_eq!((s.due_at, s.next_check_at), (t(121), Some(t(111))));
        let held = s.hold(None).unwrap();
        assert_eq!(held.escalate(&escalation(70), t(70)).unwrap_err().action, "escalate");
    }

    #[test]
    fn advance_starts_the_next_stage_at_its_level_with_its_assignee() {
        let s = started().escalate(&escalation(61), t(61)).unwrap();
        let next = s
            .advance(
                "Finance".into(),
                s.assignee.clone(),
                0,
                PolicyRef { id: 2, version: 3 },
                &clock(90),
                t(90),
            )
            .unwrap();
        assert_eq!(
            (next.stage_seq, next.level, next.status),
            (2, 0, WorkflowStatus::Pending)
        );
        assert_eq!(next.assignee, "head@x.io");
        assert_eq!((next.policy_id, next.policy_version), (2, 3));
        assert_eq!(next.stage_started_at, t(90));
    }

    #[test]
    fn hold_then_resume_returns_to_the_status_before_with_the_new_deadline() {
        let s = started().escalate(&escalation(61), t(61)).unwrap();
        let held = s.hold(None).unwrap();
        assert_eq!((held.status, held.next_check_at), (WorkflowStatus::OnHold, None));
        let resumed = held.resume(WorkflowStatus::Escalated, &clock(200)).unwrap();
        assert_eq!(resumed.status, WorkflowStatus::Escalated);
        assert_eq!((resumed.due_at, resumed.next_check_at), (t(260), Some(t(250))));
        // A hold recorded with a status that cannot be resumed to goes back to pending.
        assert_eq!(
            held.resume(WorkflowStatus::Completed, &clock(200)).unwrap().status,
            WorkflowStatus::Pending
        );
    }

    #[test]
    fn a_new_clock_keeps_a_snoozes_end_and_watches_a_running_workflow() {
        let running = started();
        let moved = running.reclocked(&clock(500));
        assert_eq!((moved.due_at, moved.next_check_at), (t(560), Some(t(550))));
        let snoozed = running.hold(Some(t(300))).unwrap().reclocked(&clock(500));
        assert_eq!((snoozed.due_at, snoozed.next_check_at), (t(560), Some(t(300))));
        let held = running.hold(None).unwrap().reclocked(&clock(500));
        assert_eq!(held.next_check_at, None);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Complete,
        Cancel,
        Advance,
        Reassign,
        Hold,
        Snooze,
        Resume,
        Escalate,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Complete),
            Just(Step::Cancel),
            Just(Step::Advance),
            Just(Step::Reassign),
            Just(Step::Hold),
            Just(Step::Snooze),
            Just(Step::Resume),
            Just(Step::Escalate),
        ]
    }

    proptest! {
        /// Whatever people and the engine do, in any order: a closed workflow stays closed
        /// and unchanged, only open ones are watched (on hold only for a snooze's end), stages only
        /// go forward, and a refused transition is exactly one the status does not allow.
        #[test]
        fn any_sequence_of_transitions_keeps_the_invariants(steps in prop::collection::vec(step(), 1..40)) {
            let mut s = started();
            let mut snoozed = false;
            for (i, step) in steps.into_iter().enumerate() {
                let now = t(100 * (i as i64 + 1));
                let before = s.clone();
                if before.status != WorkflowStatus::OnHold {
                    snoozed = matches!(step, Step::Snooze);
                }
                let result = match step {
                    Step::Complete => s.complete(now),
                    Step::Cancel => s.cancel(now),
                    Step::Advance => s.advance("Next".into(), s.assignee.clone(), 0, PolicyRef { id: 1, version: 1 }, &clock(100 * (i as i64 + 1)), now),
                    Step::Reassign => s.reassign(format!("p{i}@x.io")),
                    Step::Hold => s.hold(None),
                    Step::Snooze => s.hold(Some(now + chrono::TimeDelta::hours(1))),
                    Step::Resume => s.resume(WorkflowStatus::Pending, &clock(100 * (i as i64 + 1))),
                    Step::Escalate => s.escalate(&escalation(100 * (i as i64 + 1)), now),
                };
                match result {
                    Ok(next) => {
                        prop_assert!(before.status.is_open());
                        prop_assert!(next.stage_seq >= before.stage_seq);
                        prop_assert_eq!(next.closed_at.is_some(), !next.status.is_open());
                        s = next;
                    }
                    Err(err) => {
                        prop_assert_eq!(err.current, before.status);
                    }
                }
                // Watched while running, and while on a hold with an end (to resume it).
                match s.status {
                    WorkflowStatus::OnHold => prop_assert_eq!(s.next_check_at.is_some(), snoozed),
                    status => prop_assert_eq!(s.next_check_at.is_some(), status.is_open()),
                }
            }
        }
    }

    #[test]
    fn closed_workflows_allow_nothing() {
        for status in [WorkflowStatus::Completed, WorkflowStatus::Cancelled] {
            for action in [
                Action::Complete,
                Action::Advance,
                Action::Reassign,
                Action::Cancel,
                Action::Hold,
                Action::Resume,
            ] {
                let err = status.allows(action).unwrap_err();
                assert_eq!(err.current, status);
                assert_eq!(err.action, action.name());
            }
        }
    }

    #[test]
    fn hold_and_resume_alternate() {
        assert!(WorkflowStatus::Pending.allows(Action::Hold).is_ok());
        assert!(WorkflowStatus::OnHold.allows(Action::Hold).is_err());
        assert!(WorkflowStatus::OnHold.allows(Action::Resume).is_ok());
        assert!(WorkflowStatus::Escalated.allows(Action::Resume).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for s in WorkflowStatus::ALL {
            assert_eq!(WorkflowStatus::parse(s.as_str()).unwrap(), s);
        }
    }
}
