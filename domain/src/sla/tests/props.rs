//! Properties of calendars and of the clock on them, over random calendars in real zones.

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::at;
use crate::{
    evaluate, explain, Calendar, Holiday, SegmentKind, SlaState, SlaStatus, SlaTerms, Timeline, WarningWindow, Week,
    Window, WindowEnd,
};

/// Zones with DST in both hemispheres, a 30-minute shift, a midnight change, a skipped day
/// (Samoa, 2011) and none at all.
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Tehran",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
];

/// Offset changes near which starts are drawn half of the time.
const CHANGES: &[&str] = &[
    "2026-03-29T01:00:00Z",
    "2026-10-25T01:00:00Z",
    "2026-03-08T07:00:00Z",
    "2026-11-01T06:00:00Z",
    "2016-10-16T03:00:00Z",
    "2017-02-19T02:00:00Z",
    "2021-03-21T20:30:00Z",
    "2021-09-21T19:30:00Z",
    "2026-04-04T15:00:00Z",
    "2026-10-03T15:30:00Z",
    "2011-12-30T10:00:00Z",
];

fn window(from_min: u32, to_min: u32) -> Window {
    let time = |m: u32| NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap();
    let end = if to_min == 1440 {
        WindowEnd::EndOfDay
    } else {
        WindowEnd::At(time(to_min))
    };
    Window::new(time(from_min), end)
}

/// 0–3 windows on quarter hours (so they often meet the changes), possibly ending at 24:00.
fn arb_day() -> impl Strategy<Value = Vec<Window>> {
    prop::collection::btree_set(0u32..=96, 0..=6).prop_map(|cuts| {
        let cuts: Vec<u32> = cuts.into_iter().collect();
        cuts.chunks_exact(2).map(|p| window(p[0] * 15, p[1] * 15)).collect()
    })
}

fn arb_week() -> impl Strategy<Value = Week> {
    prop::collection::vec(arb_day(), 7).prop_map(|mut days| {
        if days.iter().all(Vec::is_empty) {
            days[0] = vec![window(9 * 60, 17 * 60)];
        }
        let [monday, tuesday, wednesday, thursday, friday, saturday, sunday]: [Vec<Window>; 7] =
            days.try_into().unwrap();
        Week {
            monday,
            tuesday,
            wednesday,
            thursday,
            friday,
            saturday,
            sunday,
        }
    })
}

fn arb_holiday() -> impl Strategy<Value = Holiday> {
    prop_oneof![
        (0i64..5500).prop_map(|d| Holiday::on(
            chrono::NaiveDate::from_ymd_opt(2011, 6, 1).unwrap() + TimeDelta::days(d),
            None
        )),
        (1u32..=12, 1u32..=28).prop_map(|(m, d)| Holiday::yearly(m, d, Some("yearly"))),
    ]
}

fn arb_calendar() -> impl Strategy<Value = Calendar> {
    (0..ZONES.len(), arb_week(), prop::collection::vec(arb_holiday(), 0..5))
        .prop_map(|(z, week, holidays)| Calendar::new(ZONES[z], week, holidays).unwrap())
}

/// A start instant (whole minutes), often within three days of an offset change.
fn arb_start() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (0..CHANGES.len(), -4320i64..4320).prop_map(|(c, m)| at(CHANGES[c]) + TimeDelta::minutes(m)),
        (0i64..6_000_000).prop_map(|m| Utc.with_ymd_and_hms(2011, 6, 1, 0, 0, 0).unwrap() + TimeDelta::minutes(m)),
    ]
}

/// A target of a minute to 60 hours, with seconds.
fn arb_target() -> impl Strategy<Value = TimeDelta> {
    (1i64..60 * 3600).prop_map(TimeDelta::seconds)
}

/// A timeline from `start` with alternating run / pause gaps (minutes), maybe an open pause,
/// and `now` some minutes after the start.
fn arb_timeline() -> impl Strategy<Value = (Timeline, DateTime<Utc>)> {
    (
        arb_start(),
        prop::collection::vec((0i64..1500, 1i64..1500), 0..4),
        any::<bool>(),
        0i64..8000,
    )
        .prop_map(|(start, gaps, open, now_min)| {
            let mut pauses = Vec::new();
            let mut cursor = start;
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
                    started_at: start,
                    pauses,
                },
                start + TimeDelta::minutes(now_min),
            )
        })
}

fn arb_warning() -> impl Strategy<Value = WarningWindow> {
    prop_oneof![
        (0i64..4000).prop_map(|s| WarningWindow::BeforeDeadline { seconds: s * 60 }),
        (1u8..=100).prop_map(|p| WarningWindow::ElapsedPercent { percent: p }),
    ]
}

/// Working minutes in `[from, to)` by looking at every minute's local time: slow, obvious,
/// and independent of the piece walk. Exact when everything falls on whole minutes, which
/// windows, starts and (in these years) the zones' changes do.
fn brute_force_minutes(cal: &Calendar, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
    let tz = cal.time_zone();
    let mut minutes = 0;
    let mut t = from;
    while t < to {
        let local = t.with_timezone(tz).naive_local();
        let off = local.time() - NaiveTime::MIN;
        let working = cal.holiday_on(local.date()).is_none()
            && cal
                .windows()
                .on(chrono::Datelike::weekday(&local.date()))
                .iter()
                .any(|w| {
                    let end = match w.end {
                        WindowEnd::At(e) => e - NaiveTime::MIN,
                        WindowEnd::EndOfDay => TimeDelta::days(1),
                    };
                    w.start - NaiveTime::MIN <= off && off < end
                });
        minutes += i64::from(working);
        t += TimeDelta::minutes(1);
    }
    TimeDelta::minutes(minutes)
}

/// Working time within the running (unpaused) part of `[start, until)`, from the calendar's
/// public arithmetic and the pauses alone (an open pause lasts until `now`).
fn counted_reference(cal: &Calendar, tl: &Timeline, until: DateTime<Utc>, now: DateTime<Utc>) -> TimeDelta {
    let mut total = cal.working_time_between(tl.started_at, until);
    for &(from, to) in &tl.pauses {
        let to = to.unwrap_or(now).min(until);
        total -= cal.working_time_between(from.max(tl.started_at), to);
    }
    total
}

/// The clock as it was before calendars, kept verbatim as the reference for 24/7.
fn old_evaluate(terms: &SlaTerms, tl: &Timeline, now: DateTime<Utc>) -> SlaState {
    let running = || {
        let mut cursor = Some(tl.started_at);
        let mut pauses = tl.pauses.iter();
        std::iter::from_fn(move || {
            let mut from = cursor?;
            for &(p_from, p_to) in pauses.by_ref() {
                let p_to = p_to.unwrap_or(now).max(p_from);
                if p_from > from {
                    cursor = Some(p_to);
                    return Some((from, Some(p_from)));
                }
                from = from.max(p_to);
            }
            cursor = None;
            Some((from, None))
        })
    };
    let instant_after = |amount: TimeDelta| {
        let mut left = amount;
        for (from, to) in running() {
            match to {
                Some(to) if to - from < left => left -= to - from,
                _ => return from + left,
            }
        }
        tl.started_at + amount
    };
    let mut elapsed = TimeDelta::zero();
    for (from, to) in running() {
        if from >= now {
            break;
        }
        elapsed += to.map_or(now, |to| to.min(now)) - from;
    }
    let due_at = instant_after(terms.target);
    let warn_at = instant_after(terms.target - terms.warn_before);
    let paused = tl
        .pauses
        .last()
        .is_some_and(|&(from, to)| from <= now && to.is_none_or(|to| now < to));
    let status = if paused {
        SlaStatus::Paused
    } else if now >= due_at {
        SlaStatus::Breached
    } else if now >= warn_at {
        SlaStatus::Warning
    } else {
        SlaStatus::Ok
    };
    SlaState {
        status,
        warn_at,
        due_at,
        elapsed,
        remaining: terms.target - elapsed,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The deadline carries exactly the target, and not a second less before it.
    #[test]
    fn the_deadline_carries_exactly_the_target(cal in arb_calendar(), start in arb_start(), target in arb_target()) {
        let due = cal.add_working_time(start, target);
        prop_assert!(due > start);
        prop_assert_eq!(cal.working_time_between(start, due), target);
        // Never before the working time it promises; and no later than needed.
        prop_assert!(cal.working_time_between(start, due - TimeDelta::seconds(1)) < target);
        let intervals = cal.working_intervals(start, due);
        prop_assert_eq!(intervals.last().map(|i| i.1), Some(due), "due is the end of counted time");
    }

    /// Working intervals are ordered, disjoint, merged, inside the range, and add up.
    #[test]
    fn working_intervals_are_well_formed(cal in arb_calendar(), start in arb_start(), hours in 0i64..200) {
        let end = start + TimeDelta::hours(hours);
        let intervals = cal.working_intervals(start, end);
        prop_assert!(intervals.iter().all(|&(a, b)| start <= a && a < b && b <= end));
        prop_assert!(intervals.windows(2).all(|p| p[0].1 < p[1].0), "ordered, disjoint, merged");
        let sum: TimeDelta = intervals.iter().map(|&(a, b)| b - a).sum();
        prop_assert_eq!(sum, cal.working_time_between(start, end));
        for &(a, b) in &intervals {
            prop_assert!(cal.is_working_at(a));
            prop_assert!(!cal.is_working_at(b) || b == end);
        }
    }

    /// The piece walk agrees with looking at every minute's wall clock.
    #[test]
    fn working_time_matches_a_minute_by_minute_count(cal in arb_calendar(), start in arb_start(), minutes in 0i64..4000) {
        let end = start + TimeDelta::minutes(minutes);
        prop_assert_eq!(cal.working_time_between(start, end), brute_force_minutes(&cal, start, end));
    }

    /// Adding a holiday never brings a deadline forward.
    #[test]
    fn a_holiday_never_makes_a_deadline_earlier(
        cal in arb_calendar(), extra in arb_holiday(), start in arb_start(), target in arb_target(),
        (tl, now) in arb_timeline(), warning in arb_warning(),
    ) {
        let more = cal.clone().with_holidays([extra]).unwrap();
        prop_assert!(more.add_working_time(start, target) >= cal.add_working_time(start, target));
        let terms = SlaTerms::new(target, warning);
        let before = evaluate(&terms.clone().with_calendar(cal), &tl, now);
        let after = evaluate(&terms.with_calendar(more), &tl, now);
        prop_assert!(after.due_at >= before.due_at);
        prop_assert!(after.warn_at >= before.warn_at);
        prop_assert!(after.elapsed <= before.elapsed);
    }

    /// Only running working time counts; at the deadline it is exactly the target.
    #[test]
    fn paused_time_is_never_counted(
        cal in arb_calendar(), (tl, now) in arb_timeline(), target in arb_target(), warning in arb_warning(),
    ) {
        let terms = SlaTerms::new(target, warning).with_calendar(cal.clone());
        let s = evaluate(&terms, &tl, now);
        prop_assert_eq!(s.elapsed, counted_reference(&cal, &tl, now, now));
        prop_assert_eq!(counted_reference(&cal, &tl, s.due_at, now), target);
        prop_assert_eq!(counted_reference(&cal, &tl, s.warn_at, now), target - terms.warn_before);
        prop_assert!(s.warn_at <= s.due_at);
        if s.status != SlaStatus::Paused {
            prop_assert_eq!(s.status == SlaStatus::Breached, now >= s.due_at);
        }
    }

    /// explain() covers the span contiguously and its counted segments are the counted time.
    #[test]
    fn explain_covers_the_span(
        cal in arb_calendar(), (tl, now) in arb_timeline(), target in arb_target(), warning in arb_warning(),
    ) {
        let terms = SlaTerms::new(target, warning).with_calendar(cal.clone());
        let s = evaluate(&terms, &tl, now);
        let segments = explain(&terms, &tl, now);
        let end = s.due_at.max(now);
        prop_assert_eq!(segments.first().map(|g| g.from), Some(tl.started_at));
        prop_assert_eq!(segments.last().map(|g| g.to), Some(end));
        prop_assert!(segments.windows(2).all(|p| p[0].to == p[1].from), "contiguous");
        prop_assert!(segments.iter().all(|g| g.from < g.to));
        prop_assert!(segments.windows(2).all(|p| (p[0].kind, &p[0].holiday) != (p[1].kind, &p[1].holiday)), "merged");
        let counted: TimeDelta = segments.iter().filter(|g| g.kind == SegmentKind::Counted).map(|g| g.to - g.from).sum();
        prop_assert_eq!(counted, counted_reference(&cal, &tl, end, now));
        for g in segments.iter().filter(|g| g.kind == SegmentKind::Holiday) {
            prop_assert!(cal.holiday_on(cal.local_date(g.from)).is_some());
        }
    }

    /// The 24/7 calendar gives exactly the old results, by its shortcut and by the per-day
    /// walk in any zone.
    #[test]
    fn always_gives_exactly_the_old_results(
        (tl, now) in arb_timeline(), target_min in 1i64..3000, warning in arb_warning(), z in 0..ZONES.len(),
    ) {
        let terms = SlaTerms::new(TimeDelta::minutes(target_min), warning);
        let old = old_evaluate(&terms, &tl, now);
        prop_assert_eq!(evaluate(&terms, &tl, now), old);
        let walked = Calendar::new(ZONES[z], Week::every_day(&[Window::all_day()]), vec![]).unwrap().without_shortcut();
        prop_assert_eq!(evaluate(&terms.with_calendar(walked), &tl, now), old);
    }
}
