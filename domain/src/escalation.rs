//! The escalation decision for one workflow at one instant: wait, remind, escalate,
//! or record that the chain is exhausted. The engine applies it; this decides it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::MAX_EXHAUSTED_REPEATS;
use crate::{
    evaluate, route, Directory, EscalationChain, PassedOver, Routed, SlaPolicy, SlaState, SlaStatus, SlaTerms, Target,
    Timeline, WorkflowStatus,
};

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
    /// The reminder of the current stage and level, once one was sent.
    pub reminder: Option<ReminderState>,
    /// Spreads round-robin groups: the workflow's number.
    pub seed: u64,
}

/// The reminder of a workflow's current stage and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderState {
    /// When the last one (the first or a repeat) was sent.
    pub last_sent_at: DateTime<Utc>,
    /// How many were sent (1 after the first).
    pub sent: u32,
    /// When the assignee acknowledged it: no more repeats, and escalation held for the
    /// policy's acknowledgement timeout, if it has one.
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// A level whose target could not be resolved and was skipped.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Levels skipped on the way because their target did not resolve or nobody in
    /// reach was present.
    pub skipped: Vec<Unresolved>,
    /// People of the chosen level passed over because they were away (the target first,
    /// then delegates): the new assignee is the last one's delegate.
    pub passed_over: Vec<PassedOver>,
    /// The breached clock.
    pub breached: SlaState,
    /// Set when the reminder was acknowledged and the policy's acknowledgement timeout
    /// ended (at this instant) without a decision.
    pub acknowledged_until: Option<DateTime<Utc>>,
    /// The new level's clock, started now.
    pub next: SlaState,
}

/// What to do with a workflow now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing yet; look again at `next_check_at` (never, when `None`).
    Wait { next_check_at: Option<DateTime<Utc>> },
    /// Inside the warning window: remind the assignee (`repeat` 0 the first time, then 1,
    /// 2, … for repeats), look again at `next_check_at` (the next repeat or the deadline).
    Remind {
        state: SlaState,
        repeat: u32,
        next_check_at: DateTime<Utc>,
    },
    /// Breached: reassign up the chain.
    Escalate(Escalation),
    /// Breached, but no further level resolves: stays with its assignee. Recorded once
    /// (`repeat` 0) and, when the policy says so, told again (`repeat` 1, 2, …) every
    /// interval after the deadline, looking again at `next_check_at`.
    Exhausted {
        state: SlaState,
        skipped: Vec<Unresolved>,
        repeat: u32,
        next_check_at: Option<DateTime<Utc>>,
    },
}

impl Decision {
    /// When the engine should next look at the workflow after applying this decision.
    pub fn next_check_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Decision::Wait { next_check_at } => *next_check_at,
            Decision::Remind { next_check_at, .. } => Some(*next_check_at),
            Decision::Escalate(e) => next_check_for(&e.next),
            Decision::Exhausted { next_check_at, .. } => *next_check_at,
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
        SlaStatus::Warning => remind(subject.reminder, policy, state, now),
        SlaStatus::Breached => match acknowledged_hold(&subject, policy, now) {
            // Acknowledged and still inside the acknowledgement timeout: not yet.
            Some(until) if now < until => Decision::Wait {
                next_check_at: Some(until),
            },
            held => {
                let mut decision = escalate(subject, policy, chain, directory, state, now);
                if let (Decision::Escalate(e), Some(until)) = (&mut decision, held) {
                    e.acknowledged_until = Some(until);
                }
                decision
            }
        },
    }
}

/// When the acknowledgement timeout of an acknowledged reminder ends: its working time
/// counted in the policy's calendar from the acknowledgement, around pauses. `None` when
/// the policy has no timeout or the reminder was not acknowledged.
fn acknowledged_hold(subject: &Subject<'_>, policy: &SlaPolicy, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let timeout = policy.ack_timeout_seconds?;
    let acknowledged_at = subject.reminder?.acknowledged_at?;
    let timeline = Timeline {
        started_at: acknowledged_at,
        pauses: subject.timeline.pauses.clone(),
    };
    Some(evaluate(&policy.terms_for(chrono::TimeDelta::seconds(timeout)), &timeline, now).due_at)
}

/// Inside the warning window: the first reminder, a repeat when the policy's interval has
/// passed since the last one and it is not acknowledged, or wait for the next repeat or
/// the deadline, whichever comes first.
fn remind(reminder: Option<ReminderState>, policy: &SlaPolicy, state: SlaState, now: DateTime<Utc>) -> Decision {
    let every = policy.reminder_repeat();
    let next_after = |from: DateTime<Utc>| every.map_or(state.due_at, |every| (from + every).min(state.due_at));
    match reminder {
        None => Decision::Remind {
            next_check_at: next_after(now),
            state,
            repeat: 0,
        },
        Some(r) if r.acknowledged_at.is_some() => Decision::Wait {
            next_check_at: Some(state.due_at),
        },
        Some(r) => match every {
            Some(every) if r.last_sent_at + every <= now => Decision::Remind {
                next_check_at: next_after(now),
                state,
                repeat: r.sent,
            },
            _ => Decision::Wait {
                next_check_at: Some(next_after(r.last_sent_at)),
            },
        },
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
    match next_level(
        chain,
        directory,
        subject.department,
        subject.assignee,
        subject.level,
        now,
        subject.seed,
    ) {
        Ok(reached) => {
            let terms = match chain.level(reached.level) {
                Some(level) => policy.terms_for(level.time_limit()),
                None => policy.terms(),
            };
            Decision::Escalate(Escalation {
                from_level: subject.level,
                to_level: reached.level,
                to_assignee: reached.to,
                skipped: reached.skipped,
                passed_over: reached.passed_over,
                acknowledged_until: None,
                breached,
                next: evaluate(&terms, &Timeline::started(now), now),
            })
        }
        Err(skipped) => {
            let (repeat, next_check_at) = exhausted_repeat(policy, breached.due_at, now);
            Decision::Exhausted {
                state: breached,
                skipped,
                repeat,
                next_check_at,
            }
        }
    }
}

/// Which telling of an exhausted chain is due at `now` (0: the first, at the deadline),
/// and when the next one is, under the policy's repeat interval (wall-clock, from the
/// deadline, at most [`MAX_EXHAUSTED_REPEATS`]).
fn exhausted_repeat(policy: &SlaPolicy, due_at: DateTime<Utc>, now: DateTime<Utc>) -> (u32, Option<DateTime<Utc>>) {
    let Some(every) = policy.exhausted_repeat_seconds.filter(|s| *s > 0) else {
        return (0, None);
    };
    let since = (now - due_at).num_seconds().max(0);
    let repeat = u32::try_from(since / every)
        .unwrap_or(u32::MAX)
        .min(MAX_EXHAUSTED_REPEATS);
    let next = (repeat < MAX_EXHAUSTED_REPEATS)
        .then(|| due_at + chrono::TimeDelta::seconds(every.saturating_mul(i64::from(repeat) + 1)));
    (repeat, next)
}

/// Who a workflow is assigned to, and at which level of its chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub assignee: String,
    pub level: u32,
    /// People passed over because they were away.
    pub passed_over: Vec<PassedOver>,
    /// Levels passed because nobody there was present (or their target did not resolve).
    pub skipped: Vec<Unresolved>,
}

/// Where work meant for `person` at level `level` goes at `now` (create, advance): to
/// them, else their delegate, else up the chain to the first level someone present takes;
/// when nobody anywhere is present it stays with `person`, and the levels say why.
pub fn assign(
    chain: &EscalationChain,
    directory: &impl Directory,
    department: &str,
    person: &str,
    level: u32,
    now: DateTime<Utc>,
    seed: u64,
) -> Assignment {
    let routed = route(directory, person, now);
    if let Some(to) = routed.to {
        return Assignment {
            assignee: to,
            level,
            passed_over: routed.passed_over,
            skipped: Vec::new(),
        };
    }
    match next_level(chain, directory, department, person, level, now, seed) {
        Ok(reached) => Assignment {
            assignee: reached.to,
            level: reached.level,
            passed_over: [routed.passed_over, reached.passed_over].concat(),
            skipped: reached.skipped,
        },
        Err(skipped) => Assignment {
            assignee: person.to_string(),
            level,
            passed_over: routed.passed_over,
            skipped,
        },
    }
}

/// A level of the chain and the present person who takes work there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub level: u32,
    pub to: String,
    /// Levels passed on the way, and why.
    pub skipped: Vec<Unresolved>,
    /// People of the reached level passed over because they were away.
    pub passed_over: Vec<PassedOver>,
}

/// The first level above `from_level` whose target, or a delegate of it, is present and
/// is not `assignee` already; `Err` lists every level passed, and why, when none is.
pub fn next_level(
    chain: &EscalationChain,
    directory: &impl Directory,
    department: &str,
    assignee: &str,
    from_level: u32,
    now: DateTime<Utc>,
    seed: u64,
) -> Result<Reached, Vec<Unresolved>> {
    let mut skipped = Vec::new();
    let levels = u32::try_from(chain.levels.len()).unwrap_or(u32::MAX);
    for to_level in from_level.saturating_add(1)..=levels {
        let Some(level) = chain.level(to_level) else {
            break;
        };
        let routed = match &level.target {
            Target::Group { group } => directory.group(group).map(|g| {
                let (to, passed_over) = g.pick(directory, now, seed);
                Routed { to, passed_over }
            }),
            target => target
                .resolve(directory, department, assignee)
                .map(|to| route(directory, to, now)),
        };
        let reason = match routed {
            Some(Routed { to: Some(to), .. }) if to == assignee => "target is already the assignee".to_string(),
            Some(Routed {
                to: Some(to),
                passed_over,
            }) => {
                return Ok(Reached {
                    level: to_level,
                    to,
                    skipped,
                    passed_over,
                })
            }
            Some(Routed { to: None, passed_over }) if passed_over.is_empty() => "nobody present".to_string(),
            Some(Routed { to: None, passed_over }) => {
                let away: Vec<String> = passed_over.iter().map(PassedOver::describe).collect();
                format!("nobody present: {}, and no present delegate", away.join(", then "))
            }
            None => "target does not resolve to a user in the directory".to_string(),
        };
        skipped.push(Unresolved {
            level: to_level,
            target: level.target.describe(),
            reason,
        });
    }
    Err(skipped)
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
        /// Who is away until when, and their delegate.
        away: HashMap<String, (DateTime<Utc>, Option<String>)>,
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
        fn presence(&self, u: &str, at: DateTime<Utc>) -> crate::Presence<'_> {
            match self.away.get(u) {
                Some((until, delegate)) if at < *until => crate::Presence::Away {
                    until: Some(*until),
                    delegate: delegate.as_deref(),
                },
                _ => crate::Presence::Present,
            }
        }
    }

    #[test]
    fn the_seed_scenario_with_the_head_on_holiday_goes_to_the_heads_delegate() {
        let tl = Timeline::started(t0());
        let c = chain(vec![
            Target::DepartmentHead,
            Target::User {
                email: Email::parse("cfo@x.io").unwrap(),
            },
        ]);
        let mut d = dir();
        let back = t0() + TimeDelta::days(10);
        d.away.insert("head@x.io".into(), (back, Some("mgr@x.io".into())));
        let breached = t0() + TimeDelta::hours(48);
        let Decision::Escalate(e) = decide(subject(&tl, 0, "ann@x.io"), &policy(), &c, &d, breached) else {
            panic!("escalates")
        };
        assert_eq!((e.to_level, e.to_assignee.as_str()), (1, "mgr@x.io"));
        assert_eq!(
            e.passed_over,
            vec![crate::PassedOver {
                person: "head@x.io".into(),
                until: Some(back)
            }]
        );
        assert!(e.skipped.is_empty());

        // Without a delegate the level is skipped, saying why, and the next one takes it.
        d.away.insert("head@x.io".into(), (back, None));
        let Decision::Escalate(e) = decide(subject(&tl, 0, "ann@x.io"), &policy(), &c, &d, breached) else {
            panic!("escalates")
        };
        assert_eq!((e.to_level, e.to_assignee.as_str()), (2, "cfo@x.io"));
        assert_eq!(e.skipped.len(), 1);
        assert!(
            e.skipped[0]
                .reason
                .contains("head@x.io (absent until 2026-01-15 08:00 UTC)"),
            "{:?}",
            e.skipped
        );

        // Back from holiday: the head again.
        let Decision::Escalate(e) = decide(
            subject(&tl, 0, "ann@x.io"),
            &policy(),
            &c,
            &d,
            back + TimeDelta::hours(1),
        ) else {
            panic!("escalates")
        };
        assert_eq!(e.to_assignee, "head@x.io");
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
            reminder: None,
            seed: 0,
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

    fn sent(at: DateTime<Utc>, sent: u32, acknowledged: bool) -> Option<ReminderState> {
        Some(ReminderState {
            last_sent_at: at,
            sent,
            acknowledged_at: acknowledged.then_some(at),
        })
    }

    #[test]
    fn an_acknowledgement_holds_escalation_for_its_timeout_then_escalates_saying_so() {
        let tl = Timeline::started(t0());
        let c = chain(vec![Target::ManagerOf]);
        // Acknowledged 2 h before the 24 h deadline; the policy holds 4 h after that.
        let acked_at = t0() + TimeDelta::hours(22);
        let p = policy().with_acknowledgement_timeout(Some(4 * 3600)).unwrap();
        let subject = |reminder| Subject {
            reminder,
            ..subject(&tl, 0, "ann@x.io")
        };
        let reminder = Some(ReminderState {
            last_sent_at: acked_at,
            sent: 1,
            acknowledged_at: Some(acked_at),
        });
        let held_until = acked_at + TimeDelta::hours(4);
        // Breached at 24 h, but held: look again exactly at the end of the timeout.
        for at in [t0() + TimeDelta::hours(24), held_until - TimeDelta::seconds(1)] {
            assert_eq!(
                decide(subject(reminder), &p, &c, &dir(), at),
                Decision::Wait {
                    next_check_at: Some(held_until)
                }
            );
        }
        let Decision::Escalate(e) = decide(subject(reminder), &p, &c, &dir(), held_until) else {
            panic!("escalates at the end of the timeout")
        };
        assert_eq!(
            (e.to_assignee.as_str(), e.acknowledged_until),
            ("mgr@x.io", Some(held_until))
        );
        // Not acknowledged, or no timeout in the policy: at the deadline, as before.
        let at = t0() + TimeDelta::hours(24);
        assert!(matches!(
            decide(subject(None), &p, &c, &dir(), at),
            Decision::Escalate(_)
        ));
        assert!(matches!(
            decide(subject(reminder), &policy(), &c, &dir(), at),
            Decision::Escalate(_)
        ));
    }

    #[test]
    fn an_exhausted_chain_is_told_again_at_its_interval_a_bounded_number_of_times() {
        let tl = Timeline::started(t0());
        // At the top (level 1 of 1), whose 8 h ran out.
        let c = chain(vec![Target::ManagerOf]);
        let due = t0() + TimeDelta::hours(8);
        let p = policy().with_exhausted_repeat(Some(3600)).unwrap();
        let at = |h: i64| decide(subject(&tl, 1, "mgr@x.io"), &p, &c, &dir(), due + TimeDelta::minutes(h));
        let told = |d: Decision| match d {
            Decision::Exhausted {
                repeat, next_check_at, ..
            } => (repeat, next_check_at),
            other => panic!("{other:?}"),
        };
        assert_eq!(told(at(0)), (0, Some(due + TimeDelta::hours(1))));
        assert_eq!(told(at(90)), (1, Some(due + TimeDelta::hours(2))));
        assert_eq!(told(at(60 * 10)), (10, None), "at most {MAX_EXHAUSTED_REPEATS}");
        assert_eq!(told(at(60 * 50)), (10, None));
        // Without the setting: once, and never looked at again.
        let once = decide(subject(&tl, 1, "mgr@x.io"), &policy(), &c, &dir(), due);
        assert_eq!(told(once), (0, None));
    }

    #[test]
    fn reminders_repeat_at_the_interval_until_acknowledged() {
        let tl = Timeline::started(t0());
        let c = chain(vec![Target::DepartmentHead]);
        let p = policy().with_reminder_repeat(Some(1800)).unwrap();
        let h = |m: i64| t0() + TimeDelta::minutes(m);
        let at = |reminder, minutes| {
            decide(
                Subject {
                    reminder,
                    ..subject(&tl, 0, "ann@x.io")
                },
                &p,
                &c,
                &dir(),
                h(minutes),
            )
        };
        // First reminder at 22:00, next look 30 min later.
        let first = at(None, 22 * 60);
        assert!(matches!(first, Decision::Remind { repeat: 0, .. }), "{first:?}");
        assert_eq!(first.next_check_at(), Some(h(22 * 60 + 30)));
        // 20 min after it: wait for the repeat.
        let early = at(sent(h(22 * 60), 1, false), 22 * 60 + 20);
        assert_eq!(
            early,
            Decision::Wait {
                next_check_at: Some(h(22 * 60 + 30))
            }
        );
        // 30 min after: repeat #1.
        let again = at(sent(h(22 * 60), 1, false), 22 * 60 + 30);
        assert!(matches!(again, Decision::Remind { repeat: 1, .. }), "{again:?}");
        // A repeat due after the deadline: look at the deadline instead.
        let late = at(sent(h(23 * 60 + 40), 3, false), 23 * 60 + 45);
        assert_eq!(
            late,
            Decision::Wait {
                next_check_at: Some(h(24 * 60))
            }
        );
        // Acknowledged: no more repeats, next look at the deadline.
        let acked = at(sent(h(22 * 60), 1, true), 23 * 60);
        assert_eq!(
            acked,
            Decision::Wait {
                next_check_at: Some(h(24 * 60))
            }
        );
        // Without a repeat interval: once only.
        let once = decide(
            Subject {
                reminder: sent(h(22 * 60), 1, false),
                ..subject(&tl, 0, "ann@x.io")
            },
            &policy(),
            &c,
            &dir(),
            h(23 * 60 + 50),
        );
        assert_eq!(
            once,
            Decision::Wait {
                next_check_at: Some(h(24 * 60))
            }
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the interval, the last reminder and the instant: never a reminder
            /// after an acknowledgement, never a repeat before the interval, always one
            /// after it (inside the warning window), and the next look is in the future,
            /// no later than the deadline.
            #[test]
            fn repeats_follow_the_interval(
                every in 1i64..7200,
                last_offset in 0i64..7200,
                now_offset in 0i64..7200,
                sent_count in 1u32..50,
                acknowledged in any::<bool>(),
            ) {
                let tl = Timeline::started(t0());
                let c = chain(vec![Target::DepartmentHead]);
                let p = policy().with_reminder_repeat(Some(every)).unwrap();
                let warn_at = t0() + TimeDelta::hours(22);
                let due_at = t0() + TimeDelta::hours(24);
                let last = warn_at + TimeDelta::seconds(last_offset.min(now_offset));
                let now = warn_at + TimeDelta::seconds(now_offset);
                let s = Subject { reminder: sent(last, sent_count, acknowledged), ..subject(&tl, 0, "ann@x.io") };
                let d = decide(s, &p, &c, &dir(), now);
                let next = d.next_check_at().expect("an open workflow is looked at again");
                prop_assert!(next > now && next <= due_at, "{d:?}");
                match d {
                    Decision::Remind { repeat, .. } => {
                        prop_assert!(!acknowledged);
                        prop_assert!(now >= last + TimeDelta::seconds(every));
                        prop_assert_eq!(repeat, sent_count);
                    }
                    Decision::Wait { next_check_at } => {
                        prop_assert!(acknowledged || now < last + TimeDelta::seconds(every));
                        if !acknowledged {
                            prop_assert_eq!(next_check_at, Some((last + TimeDelta::seconds(every)).min(due_at)));
                        }
                    }
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
        }
    }
}
