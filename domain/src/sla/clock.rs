use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{horizon, Calendar};
use super::walk::Interval;
use crate::SlaTerms;

/// Where a clock stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    /// Before the warning time.
    Ok,
    /// At or after the warning time, before the deadline.
    Warning,
    /// At or after the deadline.
    Breached,
    /// The clock is stopped (workflow on hold).
    Paused,
}

impl SlaStatus {
    /// The status of a running clock at `now`, given its warning time and deadline.
    pub fn running_at(warn_at: DateTime<Utc>, due_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if now >= due_at {
            SlaStatus::Breached
        } else if now >= warn_at {
            SlaStatus::Warning
        } else {
            SlaStatus::Ok
        }
    }

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaStatus::Ok => "ok",
            SlaStatus::Warning => "warning",
            SlaStatus::Breached => "breached",
            SlaStatus::Paused => "paused",
        }
    }
}

/// When a clock started and when it was stopped since.
///
/// Pauses are `(from, Some(to))` closed intervals or one trailing `(from, None)` still open,
/// in chronological order and not overlapping.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timeline {
    pub started_at: DateTime<Utc>,
    pub pauses: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
}

impl Timeline {
    /// A clock that started at `started_at` and never paused.
    pub fn started(started_at: DateTime<Utc>) -> Self {
        Self {
            started_at,
            pauses: Vec::new(),
        }
    }

    /// The running intervals up to `now`: from start, around every pause.
    /// An open pause ends at `now` for projection, so a paused clock shows the deadline
    /// it would have if resumed now.
    pub(crate) fn running_intervals(&self, now: DateTime<Utc>) -> impl Iterator<Item = Interval> + '_ {
        let mut cursor = Some(self.started_at);
        let mut pauses = self.pauses.iter();
        std::iter::from_fn(move || {
            let mut from = cursor?;
            for &(p_from, p_to) in pauses.by_ref() {
                let p_to = p_to.unwrap_or(now).max(p_from);
                if p_from > from {
                    cursor = Some(p_to);
                    return Some((from, Some(p_from)));
                }
                from = from.max(p_to); // the pause covers the cursor
            }
            cursor = None;
            Some((from, None))
        })
    }

    /// The counted intervals: running (not paused) and working time of `calendar`, in order.
    /// With the 24/7 calendar these are exactly the running intervals.
    pub(crate) fn counted_intervals<'a>(
        &'a self,
        calendar: &'a Calendar,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = Interval> + 'a {
        intersect(self.running_intervals(now), calendar.working_from(self.started_at))
    }

    /// Running time between the start and `at` (the 24/7 count).
    #[cfg(test)]
    fn counted_until(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> TimeDelta {
        let always = Calendar::always();
        measure(
            self.counted_intervals(&always, now),
            TimeDelta::zero(),
            TimeDelta::zero(),
            at,
            at,
        )
        .elapsed
    }

    /// Whether the clock is stopped at `now`.
    fn paused_at(&self, now: DateTime<Utc>) -> bool {
        self.pauses
            .last()
            .is_some_and(|&(from, to)| from <= now && to.is_none_or(|to| now < to))
    }
}

/// The intersection of two ordered lists of disjoint intervals, in order.
fn intersect(
    mut a: impl Iterator<Item = Interval>,
    mut b: impl Iterator<Item = Interval>,
) -> impl Iterator<Item = Interval> {
    let mut x = a.next();
    let mut y = b.next();
    std::iter::from_fn(move || loop {
        let (x_from, x_to) = x?;
        let (y_from, y_to) = y?;
        let from = x_from.max(y_from);
        let to = match (x_to, y_to) {
            (Some(p), Some(q)) => Some(p.min(q)),
            (end, None) | (None, end) => end,
        };
        // Move past whichever interval ends first (both, when they end together).
        if x_to == to {
            x = a.next();
        }
        if y_to == to {
            y = b.next();
        }
        if to.is_none_or(|to| from < to) {
            return Some((from, to));
        }
    })
}

/// What one walk over the counted intervals finds.
struct Measured {
    warn_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    elapsed: TimeDelta,
}

/// Walks the counted intervals once: the instants at which `warn_amount` and `target` of
/// counted time are reached, and the counted time before `now`.
///
/// An amount is reached at the end of the counted time that completes it, never at the start
/// of a later interval; an amount of zero is reached where counting first starts. An amount
/// not reached when the intervals run out (only a calendar's search horizon ends them) is
/// reported as reached at `horizon`.
fn measure(
    intervals: impl Iterator<Item = Interval>,
    warn_amount: TimeDelta,
    target: TimeDelta,
    now: DateTime<Utc>,
    horizon: DateTime<Utc>,
) -> Measured {
    let mut warn_at = None;
    let mut due_at = None;
    let mut elapsed = TimeDelta::zero();
    let mut counted = TimeDelta::zero(); // before the current interval
    for (from, to) in intervals {
        if from < now {
            elapsed += to.map_or(now, |to| to.min(now)) - from;
        }
        let length = to.map(|to| to - from);
        for (slot, amount) in [(&mut warn_at, warn_amount), (&mut due_at, target)] {
            if slot.is_none() && length.is_none_or(|len| amount - counted <= len) {
                *slot = Some(from + (amount - counted));
            }
        }
        counted += length.unwrap_or_default();
        if due_at.is_some() && warn_at.is_some() && to.is_none_or(|to| to >= now) {
            break;
        }
    }
    Measured {
        warn_at: warn_at.unwrap_or(horizon),
        due_at: due_at.unwrap_or(horizon),
        elapsed,
    }
}

/// A clock's state at one instant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaState {
    pub status: SlaStatus,
    pub warn_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Counted time since the start (pauses excluded).
    #[serde(with = "seconds")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub elapsed: TimeDelta,
    /// Target minus elapsed; negative once breached.
    #[serde(with = "seconds")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub remaining: TimeDelta,
}

/// Evaluates a clock: the only place that decides ok / warning / breached.
///
/// Only counted time moves the clock: running (not paused) and within the terms' calendar.
/// `due_at` is where counted time reaches the target, `warn_at` where it reaches the target
/// minus the warning lead time (so "warn 1 business hour before" is in business hours too).
/// Status changes exactly at `warn_at` (to warning) and at `due_at` (to breached).
pub fn evaluate(terms: &SlaTerms, timeline: &Timeline, now: DateTime<Utc>) -> SlaState {
    let Measured {
        warn_at,
        due_at,
        elapsed,
    } = measure(
        timeline.counted_intervals(&terms.calendar, now),
        terms.target - terms.warn_before,
        terms.target,
        now,
        horizon(timeline.started_at),
    );
    let status = if timeline.paused_at(now) {
        SlaStatus::Paused
    } else {
        SlaStatus::running_at(warn_at, due_at, now)
    };
    SlaState {
        status,
        warn_at,
        due_at,
        elapsed,
        remaining: terms.target - elapsed,
    }
}

mod seconds {
    //! Durations travel as whole seconds.
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDelta, D::Error> {
        Ok(TimeDelta::seconds(i64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WarningWindow;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    }

    fn seed_terms() -> SlaTerms {
        SlaTerms::new(TimeDelta::hours(24), WarningWindow::BeforeDeadline { seconds: 7200 })
    }

    #[test]
    fn the_seed_timeline() {
        let tl = Timeline::started(t0());
        let at = |h| evaluate(&seed_terms(), &tl, t0() + TimeDelta::hours(h));
        assert_eq!(at(10).status, SlaStatus::Ok);
        assert_eq!(at(22).status, SlaStatus::Warning);
        assert_eq!(at(23).remaining, TimeDelta::hours(1));
        assert_eq!(at(24).status, SlaStatus::Breached);
        assert_eq!(at(48).elapsed, TimeDelta::hours(48));
        assert_eq!(at(48).remaining, TimeDelta::hours(-24));
        assert_eq!(at(1).due_at, t0() + TimeDelta::hours(24));
        assert_eq!(at(1).warn_at, t0() + TimeDelta::hours(22));
    }

    #[test]
    fn pauses_push_the_deadline_back_and_are_not_counted() {
        let tl = Timeline {
            started_at: t0(),
            pauses: vec![
                (t0() + TimeDelta::hours(2), Some(t0() + TimeDelta::hours(5))),
                (t0() + TimeDelta::hours(10), Some(t0() + TimeDelta::hours(11))),
            ],
        };
        let s = evaluate(&seed_terms(), &tl, t0() + TimeDelta::hours(12));
        assert_eq!(s.elapsed, TimeDelta::hours(8));
        assert_eq!(s.due_at, t0() + TimeDelta::hours(28));
        assert_eq!(s.warn_at, t0() + TimeDelta::hours(26));
        assert_eq!(s.status, SlaStatus::Ok);
    }

    #[test]
    fn an_open_pause_stops_the_clock() {
        let tl = Timeline {
            started_at: t0(),
            pauses: vec![(t0() + TimeDelta::hours(20), None)],
        };
        let s = evaluate(&seed_terms(), &tl, t0() + TimeDelta::hours(30));
        assert_eq!(s.status, SlaStatus::Paused);
        assert_eq!(s.elapsed, TimeDelta::hours(20));
        // Projected as if resumed now: 4 h of target left.
        assert_eq!(s.due_at, t0() + TimeDelta::hours(34));
    }

    fn arb_timeline() -> impl Strategy<Value = (Timeline, i64)> {
        // Alternating running / paused gaps in minutes, optionally ending in an open pause.
        (
            prop::collection::vec((0i64..600, 1i64..600), 0..5),
            any::<bool>(),
            0i64..5000,
        )
            .prop_map(|(gaps, open, now_min)| {
                let mut pauses = Vec::new();
                let mut cursor = t0();
                for (run, pause) in gaps {
                    let from = cursor + TimeDelta::minutes(run);
                    let to = from + TimeDelta::minutes(pause);
                    pauses.push((from, Some(to)));
                    cursor = to;
                }
                if open {
                    if let Some(last) = pauses.last_mut() {
                        last.1 = None;
                    }
                }
                (
                    Timeline {
                        started_at: t0(),
                        pauses,
                    },
                    now_min,
                )
            })
    }

    fn arb_terms() -> impl Strategy<Value = SlaTerms> {
        (
            1i64..3000,
            prop_oneof![
                (0i64..4000).prop_map(|s| WarningWindow::BeforeDeadline { seconds: s * 60 }),
                (1u8..=100).prop_map(|p| WarningWindow::ElapsedPercent { percent: p }),
            ],
        )
            .prop_map(|(target_min, w)| SlaTerms::new(TimeDelta::minutes(target_min), w))
    }

    proptest! {
        #[test]
        fn status_changes_exactly_at_warn_and_due(terms in arb_terms(), start_offset in -5000i64..5000) {
            let tl = Timeline::started(t0() + TimeDelta::minutes(start_offset));
            let s = evaluate(&terms, &tl, t0());
            let before_warn = evaluate(&terms, &tl, s.warn_at - TimeDelta::milliseconds(1));
            let at_warn = evaluate(&terms, &tl, s.warn_at);
            let before_due = evaluate(&terms, &tl, s.due_at - TimeDelta::milliseconds(1));
            let at_due = evaluate(&terms, &tl, s.due_at);
            prop_assert!(s.warn_at <= s.due_at);
            if s.warn_at < s.due_at {
                prop_assert_eq!(before_warn.status, SlaStatus::Ok);
                prop_assert_eq!(at_warn.status, SlaStatus::Warning);
                prop_assert_eq!(before_due.status, SlaStatus::Warning);
            }
            prop_assert_eq!(at_due.status, SlaStatus::Breached);
            prop_assert_eq!(s.due_at - tl.started_at, terms.target);
        }

        #[test]
        fn never_breached_before_due(terms in arb_terms(), (tl, now_min) in arb_timeline()) {
            let now = t0() + TimeDelta::minutes(now_min);
            let s = evaluate(&terms, &tl, now);
            if s.status == SlaStatus::Breached {
                prop_assert!(now >= s.due_at);
                prop_assert!(s.elapsed >= terms.target);
            }
            if now < s.due_at && s.status != SlaStatus::Paused {
                prop_assert_ne!(s.status, SlaStatus::Breached);
            }
        }

        #[test]
        fn paused_time_is_never_counted(terms in arb_terms(), (tl, now_min) in arb_timeline()) {
            let now = t0() + TimeDelta::minutes(now_min);
            let s = evaluate(&terms, &tl, now);
            let paused: TimeDelta = tl.pauses.iter().map(|&(from, to)| {
                let to = to.unwrap_or(now).min(now);
                if to > from { to - from } else { TimeDelta::zero() }
            }).sum();
            let wall = (now - tl.started_at).max(TimeDelta::zero());
            prop_assert_eq!(s.elapsed, wall - paused);
            prop_assert_eq!(s.elapsed + s.remaining, terms.target);
            // The deadline promises exactly the target in counted time.
            if s.status != SlaStatus::Paused {
                prop_assert_eq!(tl.counted_until(s.due_at, now), terms.target);
            }
        }
    }
}
