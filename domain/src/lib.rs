//! Escalator's domain: who works where, what an SLA promises, how its clock runs,
//! and what the escalation engine decides for one workflow at one instant.
//!
//! Everything here is a pure function of its inputs (no I/O, no wall clock), so the
//! same code runs in the server, in tests and in the browser (wasm32).

pub mod availability;
pub mod chain;
pub mod directory;
pub mod error;
pub mod escalation;
pub mod event;
pub mod group;
pub mod link;
pub mod notify;
pub mod outcome;
pub mod policy;
pub mod readable;
pub mod report;
pub mod sla;
pub mod text;
pub mod workflow;

pub use availability::{parse_absences_ics, parse_bound, route, routing_note, Absence, PassedOver, Presence, Routed};
pub use chain::{EscalationChain, Level, Target};
pub use directory::{Department, DepartmentKey, Directory, Email, Role, User};
pub use error::{ErrorKind, ValidationError};
pub use escalation::{
    assign, decide, next_check_for, next_level, terms_at, Assignment, Decision, Escalation, Reached, ReminderState,
    Subject, Unresolved,
};
pub use event::{Event, EventKind, Notice, WorkflowIdentity, WorkflowSummary};
pub use group::{Group, Override, Period, Strategy};
pub use link::{LinkAction, LinkClaims, LinkStale, LinkTarget, SNOOZE_CHOICES};
pub use notify::{NotificationKind, NotificationPreferences, PersonalChannel, Phone, QuietHours};
pub use outcome::{judge, Judged, Outcome, StageEnd};
pub use policy::{SlaPolicy, SlaTerms, WarningWindow, MAX_EXHAUSTED_REPEATS};
pub use report::{OutcomeCounts, ReportPeriod, SlaReport};
pub use sla::{
    evaluate, explain, explain_until, summarise, Calendar, Holiday, IcsError, OffsetChange, OffsetEffect, Omitted,
    Segment, SegmentKind, SegmentTotals, SlaState, SlaStatus, Timeline, Week, Window, WindowEnd,
};
pub use workflow::{Action, PolicyRef, TransitionError, WorkflowState, WorkflowStatus};
