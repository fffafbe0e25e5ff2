//! Escalator's domain: who works where, what an SLA promises, how its clock runs,
//! and what the escalation engine decides for one workflow at one instant.
//!
//! Everything here is a pure function of its inputs (no I/O, no wall clock), so the
//! same code runs in the server, in tests and in the browser (wasm32).

pub mod chain;
pub mod directory;
pub mod error;
pub mod escalation;
pub mod event;
pub mod notify;
pub mod policy;
pub mod sla;
pub mod text;
pub mod workflow;

pub use chain::{EscalationChain, Level, Target};
pub use directory::{Department, DepartmentKey, Directory, Email, Role, User};
pub use error::{ErrorKind, ValidationError};
pub use escalation::{decide, next_check_for, terms_at, Decision, Escalation, ReminderState, Subject, Unresolved};
pub use event::{Event, EventKind, Notice, WorkflowIdentity, WorkflowSummary};
pub use notify::{NotificationKind, NotificationPreferences, PersonalChannel, Phone, QuietHours};
pub use policy::{SlaPolicy, SlaTerms, WarningWindow};
pub use sla::{
    evaluate, explain, Calendar, Holiday, IcsError, Segment, SegmentKind, SlaState, SlaStatus, Timeline, Week, Window,
    WindowEnd,
};
pub use workflow::{Action, PolicyRef, TransitionError, WorkflowState, WorkflowStatus};
