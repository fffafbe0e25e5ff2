//! How a stage's SLA ended: met or breached, the working time it used against its target,
//! how far over, and how long it was on hold. Judged once, when the stage ends, from the
//! same clock that ran it.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{evaluate, SlaTerms, Timeline};

/// What ended a stage.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageEnd {
    /// Decided: the workflow is done.
    Completed,
    /// Decided: the workflow went on to its next stage.
    Advanced,
    /// Withdrawn: nobody decided.
    Cancelled,
}

impl StageEnd {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            StageEnd::Completed => "completed",
            StageEnd::Advanced => "advanced",
            StageEnd::Cancelled => "cancelled",
        }
    }

    /// The end of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [StageEnd::Completed, StageEnd::Advanced, StageEnd::Cancelled]
            .into_iter()
            .find(|e| e.as_str() == name)
    }

    /// Whether someone decided (completed or advanced); compliance counts decisions.
    pub fn is_decision(self) -> bool {
        self != StageEnd::Cancelled
    }
}

/// Whether a stage kept its SLA.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Ended before its working-time target was used up.
    Met,
    /// Ended at or after its deadline.
    Breached,
}

impl Outcome {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Breached => "breached",
        }
    }

    /// The outcome of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "met" => Some(Outcome::Met),
            "breached" => Some(Outcome::Breached),
            _ => None,
        }
    }
}

/// A stage's SLA as it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    pub outcome: Outcome,
    /// The promise: working time allowed.
    pub target: TimeDelta,
    /// Working time counted from the stage's start to its end (holds excluded).
    pub used: TimeDelta,
    /// Working time beyond the target (zero when met).
    pub over: TimeDelta,
    /// Wall-clock time on hold during the stage.
    pub held: TimeDelta,
}

/// Judges a stage that ends at `ended_at`, on its clock: `terms` of the policy version it
/// ran under, `timeline` from the stage's start with its holds. Breached exactly when the
/// clock would read breached at that instant — the same rule that escalates.
pub fn judge(terms: &SlaTerms, timeline: &Timeline, ended_at: DateTime<Utc>) -> Judged {
    let state = evaluate(terms, timeline, ended_at);
    let breached = ended_at >= state.due_at;
    let held = timeline
        .pauses
        .iter()
        .map(|&(from, to)| {
            let from = from.max(timeline.started_at).min(ended_at);
            let to = to.unwrap_or(ended_at).clamp(from, ended_at);
            to - from
        })
        .sum();
    Judged {
        outcome: if breached { Outcome::Breached } else { Outcome::Met },
        target: terms.target,
        used: state.elapsed,
        over: if breached {
            (state.elapsed - terms.target).max(TimeDelta::zero())
        } else {
            TimeDelta::zero()
        },
        held,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::{Calendar, WarningWindow, Week, Window};

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap() + TimeDelta::hours(h)
    }

    fn terms(hours: i64) -> SlaTerms {
        SlaTerms::new(TimeDelta::hours(hours), WarningWindow::BeforeDeadline { seconds: 0 })
    }

    #[test]
    fn a_stage_decided_in_time_is_met_and_a_late_one_breached_by_its_excess() {
        let clock = Timeline::started(at(0));
        let met = judge(&terms(8), &clock, at(5));
        assert_eq!(met.outcome, Outcome::Met);
        assert_eq!(
            (met.used, met.over, met.held),
            (TimeDelta::hours(5), TimeDelta::zero(), TimeDelta::zero())
        );
        let late = judge(&terms(8), &clock, at(11));
        assert_eq!(late.outcome, Outcome::Breached);
        assert_eq!((late.used, late.over), (TimeDelta::hours(11), TimeDelta::hours(3)));
        // At the deadline itself the clock reads breached, as the tick does.
        assert_eq!(judge(&terms(8), &clock, at(8)).outcome, Outcome::Breached);
    }

    #[test]
    fn holds_are_not_counted_and_are_reported() {
        let clock = Timeline {
            started_at: at(0),
            pauses: vec![(at(2), Some(at(6))), (at(9), None)],
        };
        let judged = judge(&terms(8), &clock, at(10));
        assert_eq!(judged.used, TimeDelta::hours(5), "0–2 and 6–9 run");
        assert_eq!(judged.held, TimeDelta::hours(5), "4 h closed, 1 h still open");
        assert_eq!(judged.outcome, Outcome::Met);
    }

    #[test]
    fn working_time_is_counted_in_the_calendar() {
        // Mon 7 Dec 2026, 09:00–17:00 UTC on weekdays: started at 16:00, ended Tue 10:00.
        let nine_to_five = Window::parse("09:00", "17:00").unwrap();
        let calendar = Calendar::new("UTC", Week::weekdays(&[nine_to_five]), vec![]).unwrap();
        let terms = SlaTerms {
            calendar: std::sync::Arc::new(calendar),
            ..terms(4)
        };
        let judged = judge(&terms, &Timeline::started(at(16)), at(24 + 10));
        assert_eq!(judged.used, TimeDelta::hours(2));
        assert_eq!(judged.outcome, Outcome::Met);
    }

    #[test]
    fn names_round_trip() {
        for end in [StageEnd::Completed, StageEnd::Advanced, StageEnd::Cancelled] {
            assert_eq!(StageEnd::parse(end.as_str()), Some(end));
        }
        for outcome in [Outcome::Met, Outcome::Breached] {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert!(!StageEnd::Cancelled.is_decision() && StageEnd::Advanced.is_decision());
    }

    proptest! {
        /// Met and breached partition by the deadline; the excess is what a breach used
        /// beyond the target; nothing counts more than the wall-clock time that passed.
        #[test]
        fn outcome_follows_the_deadline(target in 1i64..48, end in 0i64..96, pause in 0i64..48, length in 0i64..24) {
            let clock = Timeline { started_at: at(0), pauses: vec![(at(pause), Some(at(pause + length)))] };
            let terms = terms(target);
            let judged = judge(&terms, &clock, at(end));
            let due = evaluate(&terms, &clock, at(end)).due_at;
            prop_assert_eq!(judged.outcome == Outcome::Breached, at(end) >= due);
            prop_assert!(judged.used + judged.held <= TimeDelta::hours(end));
            if judged.outcome == Outcome::Met {
                prop_assert_eq!(judged.over, TimeDelta::zero());
            } else {
                prop_assert_eq!(judged.over, judged.used - judged.target);
            }
        }
    }
}
