//! The escalation decision for one workflow at one instant: wait, remind, escalate,
//! or record that the chain is exhausted. The engine applies it; this decides it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{evaluate, Directory, EscalationChain, SlaPolicy, SlaState, SlaStatus, SlaTerms, Timeline, WorkflowStatus};

/// The clock terms at escalation `level`: the policy's at level 0, then each chain level's
/// time limit with the policy's warning window. `None` past the end of the chain.
pub fn terms_at(policy: &SlaPolicy, chain: &EscalationChain, level: u32) -> Option<SlaTerms> {
    if level == 0 {
        return Some(policy.terms());
    }
    chain.level(level).map(|l| policy.terms_for(l.time_limit()))
}

/// What the engine knows about one open workflow.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub status: WorkflowStatus,
    pub level: u32,
    pub department: &'a str,
    pub assignee: &'a str,
    /// The clock of the current level: started when the stage or level began.
    pub timeline: &'a Timeline,
}

/// A level whose target could not be resolved and was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unresolved {
    pub level: u32,
    pub target: String,
    pub reason: String,
}

/// A reassignment up the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub from_level: u32,
    pub to_level: u32,
    pub to_assignee: String,
    /// Levels skipped on the way because their target did not resolve.
    pub skipped: Vec<Unresolved>,
    /// The breached clock.
    pub breached: SlaState,
    /// The new level's clock, started now.
    pub next: SlaState,
}

/// What to do with a workflow now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing yet; look again at `next_check_at` (never, when `None`).
    Wait { next_check_at: Option<DateTime<Utc>> },
    /// Inside the warning window: remind the assignee, look again at the deadline.
    Remind { state: SlaState },
    /// Breached: reassign up the chain.
    Escalate(Escalation),
    /// Breached, but no further level resolves: stays with its assignee, recorded once.
    Exhausted { state: SlaState, skipped: Vec<Unresolved> },
}

impl Decision {
    /// When the engine should next look at the workflow after applying this decision.
    pub fn next_check_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Decision::Wait { next_check_at } => *next_check_at,
            Decision::Remind { state } => Some(state.due_at),
            Decision::Escalate(e) => next_check_for(&e.next),
            Decision::Exhausted { .. } => None,
        }
    }
}

/// The next instant at which a clock in `state` changes status (`None` while paused).
pub fn next_check_for(state: &SlaState) -> Option<DateTime<Utc>> {
    match state.status {
        SlaStatus::Ok => Some(state.warn_at),
        SlaStatus::Warning | SlaStatus::Breached => Some(state.due_at),
        SlaStatus::Paused => None,
    }
}

/// Decides what to do with `subject` at `now`.
pub fn decide(
    subject: Subject<'_>,
    policy: &SlaPolicy,
    chain: &EscalationChain,
    directory: &impl Directory,
    now: DateTime<Utc>,
) -> Decision {
    let open_and_running = matches!(subject.status, WorkflowStatus::Pending | WorkflowStatus::Escalated);
    let Some(terms) = terms_at(policy, chain, subject.level).filter(|_| open_and_running) else {
        return Decision::Wait { next_check_at: None };
    };
    let state = evaluate(&terms, subject.timeline, now);
    match state.status {
        SlaStatus::Ok | SlaStatus::Paused => Decision::Wait {
            next_check_at: next_check_for(&state),
        },
        SlaStatus::Warning => Decision::Remind { state },
        SlaStatus::Breached => escalate(subject, policy, chain, directory, state, now),
    }
}

fn escalate(
    subject: Subject<'_>,
    policy: &SlaPolicy,
    chain: &EscalationChain,
    directory: &impl Directory,
    breached: SlaState,
    now: DateTime<Utc>,
) -> Decision {
    let mut skipped = Vec::new();
    let levels = u32::try_from(chain.levels.len()).unwrap_or(u32::MAX);
    for to_level in subject.level + 1..=levels {
        let Some(level) = chain.level(to_level) else {
            break;
        };
        let reason = match level.target.resolve(directory, subject.department, subject.assignee) {
            Some(to) if to == subject.assignee => "target is already the assignee",
            Some(to) => {
                let terms = policy.terms_for(level.time_limit());
                return Decision::Escalate(Escalation {
                    from_level: subject.level,
                    to_level,
                    to_assignee: to.to_string(),
                    skipped,
                    breached,
                    next: evaluate(&terms, &Timeline::started(now), now),
                });
            }
            None => "target does not resolve to a user in the directory",
        };
        skipped.push(Unresolved {
            level: to_level,
            target: level.target.describe(),
            reason: reason.to_string(),
        });
    }
    Decision::Exhausted {
        state: breached,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Email, Level, Target, WarningWindow};
    use chrono::{TimeDelta, TimeZone};
    use std::collections::HashMap;

    #[derive(Default)]
    struct Dir {
        heads: HashMap<String, String>,
        managers: HashMap<String, String>,
        users: Vec<String>,
    }

    impl Directory for Dir {
        fn department_head(&self, d: &str) -> Option<&str> {
            self.heads.get(d).map(String::as_str)
        }
        fn manager_of(&self, u: &str) -> Option<&str> {
            self.managers.get(u).map(String::as_str)
        }
        fn has_user(&self, u: &str) -> bool {
            self.users.iter().any(|x| x == u)
        }
    }

    fn dir() -> Dir {
        let mut d = Dir::default();
        d.heads.insert("fin".into(), "head@x.io".into());
        d.managers.insert("ann@x.io".into(), "mgr@x.io".into());
        d.users = vec![
            "ann@x.io".into(),
            "mgr@x.io".into(),
            "head@x.io".into(),
            "cfo@x.io".into(),
        ];
        d
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap()
    }

    fn policy() -> SlaPolicy {
        SlaPolicy::new("std", 24 * 3600, WarningWindow::BeforeDeadline { seconds: 7200 }).unwrap()
    }

    fn chain(targets: Vec<Target>) -> EscalationChain {
        let levels = targets
            .into_iter()
            .map(|target| Level {
                target,
                time_limit_seconds: 8 * 3600,
            })
            .collect();
        EscalationChain::new("chain", levels).unwrap()
    }

    fn subject<'a>(tl: &'a Timeline, level: u32, assignee: &'a str) -> Subject<'a> {
        Subject {
            status: WorkflowStatus::Pending,
            level,
            department: "fin",
            assignee,
            timeline: tl,
        }
    }

    #[test]
    fn waits_until_the_warning_then_reminds_then_escalates() {
        let tl = Timeline::started(t0());
        let c = chain(vec![Target::ManagerOf, Target::DepartmentHead]);
        let at = |h| {
            decide(
                subject(&tl, 0, "ann@x.io"),
                &policy(),
                &c,
                &dir(),
                t0() + TimeDelta::hours(h),
            )
        };
        assert_eq!(
            at(1),
            Decision::Wait {
                next_check_at: Some(t0() + TimeDelta::hours(22))
            }
        );
        assert!(matches!(at(23), Decision::Remind { .. }));
        assert_eq!(at(23).next_check_at(), Some(t0() + TimeDelta::hours(24)));
        let Decision::Escalate(e) = at(48) else {
            panic!("expected an escalation")
        };
        assert_eq!((e.from_level, e.to_level, e.to_assignee.as_str()), (0, 1, "mgr@x.io"));
        assert_eq!(e.breached.elapsed, TimeDelta::hours(48));
        // The new level's clock: 8 h limit, warned 2 h before.
        assert_eq!(e.next.due_at, t0() + TimeDelta::hours(56));
        assert_eq!(Decision::Escalate(e).next_check_at(), Some(t0() + TimeDelta::hours(54)));
    }

    #[test]
    fn unresolved_targets_fall_through_to_the_next_level() {
        let tl = Timeline::started(t0());
        let c = chain(vec![Target::ManagerOf, Target::DepartmentHead]);
        // "head@x.io" has no manager: level 1 is skipped... and level 2 is the head herself.
        let d = decide(
            subject(&tl, 0, "cfo@x.io"),
            &policy(),
            &c,
            &dir(),
            t0() + TimeDelta::hours(25),
        );
        let Decision::Escalate(e) = d else {
            panic!("expected an escalation, got {d:?}")
        };
        assert_eq!((e.to_level, e.to_assignee.as_str()), (2, "head@x.io"));
        assert_eq!(e.skipped.len(), 1);
        assert_eq!(e.skipped[0].level, 1);
    }

    #[test]
    fn an_exhausted_chain_is_reported_not_panicked() {
        let tl = Timeline::started(t0());
        let ghost = Target::User {
            email: Email::parse("gone@x.io").unwrap(),
        };
        let c = chain(vec![ghost, Target::DepartmentHead]);
        // At level 2 (the last), breaching again has nowhere to go.
        let d = decide(
            subject(&tl, 2, "head@x.io"),
            &policy(),
            &c,
            &dir(),
            t0() + TimeDelta::hours(9),
        );
        assert!(matches!(d, Decision::Exhausted { ref skipped, .. } if skipped.is_empty()));
        assert_eq!(d.next_check_at(), None);
        // At level 0 whose assignee is the head: the user target is gone, the head is the assignee.
        let d = decide(
            subject(&tl, 0, "head@x.io"),
            &policy(),
            &c,
            &dir(),
            t0() + TimeDelta::hours(25),
        );
        let Decision::Exhausted { skipped, .. } = d else {
            panic!("expected exhaustion")
        };
        assert_eq!(skipped.iter().map(|u| u.level).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn closed_and_held_workflows_are_left_alone() {
        let tl = Timeline::started(t0());
        let c = chain(vec![Target::DepartmentHead]);
        for status in [
            WorkflowStatus::OnHold,
            WorkflowStatus::Completed,
            WorkflowStatus::Cancelled,
        ] {
            let s = Subject {
                status,
                ..subject(&tl, 0, "ann@x.io")
            };
            let d = decide(s, &policy(), &c, &dir(), t0() + TimeDelta::hours(100));
            assert_eq!(d, Decision::Wait { next_check_at: None });
        }
    }
}
