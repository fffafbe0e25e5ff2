//! Workflow instances' life cycle: which status allows which action.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

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

/// An action that the workflow's current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action:?} a workflow that is {current:?}")]
pub struct TransitionError {
    pub action: Action,
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
            Err(TransitionError { action, current: self })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
