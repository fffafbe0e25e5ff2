//! explain(): the segments behind a deadline.

use chrono::{NaiveDate, TimeDelta};

use super::{at, w};
use crate::{explain, Calendar, Holiday, Segment, SegmentKind as K, SlaTerms, Timeline, WarningWindow, Week};

fn seg(from: &str, to: &str, kind: K) -> Segment {
    Segment {
        from: at(from),
        to: at(to),
        kind,
        holiday: None,
        offset_change: None,
    }
}

#[test]
fn lunch_break_holiday_and_pause() {
    // Berlin office hours with lunch 12–13; Tuesday 2026-03-03 is a holiday.
    let calendar = Calendar::new(
        "Europe/Berlin",
        Week::weekdays(&[w("09:00", "12:00"), w("13:00", "17:00")]),
        vec![Holiday::on(
            NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
            Some("Staff day"),
        )],
    )
    .unwrap();
    let terms =
        SlaTerms::new(TimeDelta::hours(8), WarningWindow::BeforeDeadline { seconds: 3600 }).with_calendar(calendar);
    // Started Monday 10:00, on hold 11:00–11:30. Counted: 10–11 (1 h), 11:30–12 (0.5 h),
    // 13–17 (4 h) = 5.5 h on Monday; Tuesday is the holiday; Wednesday 09:00–11:30 = 2.5 h.
    let tl = Timeline {
        started_at: at("2026-03-02T10:00:00+01:00"),
        pauses: vec![(at("2026-03-02T11:00:00+01:00"), Some(at("2026-03-02T11:30:00+01:00")))],
    };
    let segments = explain(&terms, &tl, at("2026-03-02T14:00:00+01:00"));
    let mut holiday = seg("2026-03-03T00:00:00+01:00", "2026-03-04T00:00:00+01:00", K::Holiday);
    holiday.holiday = Some("Staff day".into());
    assert_eq!(
        segments,
        vec![
            seg("2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00", K::Counted),
            seg("2026-03-02T11:00:00+01:00", "2026-03-02T11:30:00+01:00", K::Paused),
            seg("2026-03-02T11:30:00+01:00", "2026-03-02T12:00:00+01:00", K::Counted),
            seg(
                "2026-03-02T12:00:00+01:00",
                "2026-03-02T13:00:00+01:00",
                K::OutsideWorkingHours
            ),
            seg("2026-03-02T13:00:00+01:00", "2026-03-02T17:00:00+01:00", K::Counted),
            seg(
                "2026-03-02T17:00:00+01:00",
                "2026-03-03T00:00:00+01:00",
                K::OutsideWorkingHours
            ),
            holiday,
            seg(
                "2026-03-04T00:00:00+01:00",
                "2026-03-04T09:00:00+01:00",
                K::OutsideWorkingHours
            ),
            seg("2026-03-04T09:00:00+01:00", "2026-03-04T11:30:00+01:00", K::Counted),
        ]
    );
    let counted: TimeDelta = segments
        .iter()
        .filter(|s| s.kind == K::Counted)
        .map(|s| s.to - s.from)
        .sum();
    assert_eq!(counted, TimeDelta::hours(8));
    assert!(segments.windows(2).all(|p| p[0].to == p[1].from), "contiguous");

    let json = serde_json::to_value(&segments[6]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"from": "2026-03-02T23:00:00Z", "to": "2026-03-03T23:00:00Z", "kind": "holiday", "holiday": "Staff day"})
    );
    let json = serde_json::to_value(&segments[3]).unwrap();
    assert_eq!(json["kind"], "outside_working_hours");
    assert!(json.get("holiday").is_none());
}

#[test]
fn past_the_deadline_the_span_runs_to_now() {
    let terms = SlaTerms::new(TimeDelta::hours(24), WarningWindow::BeforeDeadline { seconds: 7200 });
    let start = at("2026-03-01T09:00:00Z");
    let segments = explain(&terms, &Timeline::started(start), start + TimeDelta::hours(30));
    assert_eq!(
        segments,
        vec![seg("2026-03-01T09:00:00Z", "2026-03-02T15:00:00Z", K::Counted)]
    );
}

#[test]
fn an_open_pause_runs_to_now_and_the_rest_is_projected() {
    let terms = SlaTerms::new(TimeDelta::hours(24), WarningWindow::BeforeDeadline { seconds: 7200 });
    let tl = Timeline {
        started_at: at("2026-03-01T09:00:00Z"),
        pauses: vec![(at("2026-03-01T19:00:00Z"), None)],
    };
    assert_eq!(
        explain(&terms, &tl, at("2026-03-02T09:00:00Z")),
        vec![
            seg("2026-03-01T09:00:00Z", "2026-03-01T19:00:00Z", K::Counted),
            seg("2026-03-01T19:00:00Z", "2026-03-02T09:00:00Z", K::Paused),
            seg("2026-03-02T09:00:00Z", "2026-03-02T23:00:00Z", K::Counted),
        ]
    );
}

#[test]
fn a_holiday_across_a_dst_change_is_one_segment() {
    // Sunday 2026-10-25 is 25 h long in Berlin; as a holiday it is one segment from
    // 00:00 CEST to 24:00 CET.
    let calendar = Calendar::new(
        "Europe/Berlin",
        Week::weekdays(&[w("09:00", "17:00")]),
        vec![Holiday::yearly(10, 25, None)],
    )
    .unwrap();
    let terms =
        SlaTerms::new(TimeDelta::hours(1), WarningWindow::BeforeDeadline { seconds: 0 }).with_calendar(calendar);
    let start = at("2026-10-24T12:00:00+02:00");
    let segments = explain(&terms, &Timeline::started(start), start);
    assert_eq!(
        segments,
        vec![
            seg(
                "2026-10-24T12:00:00+02:00",
                "2026-10-25T00:00:00+02:00",
                K::OutsideWorkingHours
            ),
            Segment {
                // The day is 25 h long because the clocks went back at 03:00 CEST.
                offset_change: Some(crate::OffsetChange {
                    at: at("2026-10-25T03:00:00+02:00"),
                    before: "+02:00".into(),
                    after: "+01:00".into(),
                    effect: crate::OffsetEffect::Lengthened,
                }),
                ..seg("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", K::Holiday)
            },
            seg(
                "2026-10-26T00:00:00+01:00",
                "2026-10-26T09:00:00+01:00",
                K::OutsideWorkingHours
            ),
            seg("2026-10-26T09:00:00+01:00", "2026-10-26T10:00:00+01:00", K::Counted),
        ]
    );
    assert_eq!(segments[1].to - segments[1].from, TimeDelta::hours(25));
}

#[test]
fn a_clock_started_five_years_ago_is_summarised_with_exact_totals() {
    let calendar = Calendar::new(
        "Europe/Berlin",
        Week::weekdays(&[w("09:00", "12:00"), w("13:00", "17:00")]),
        vec![Holiday::yearly(12, 25, Some("Christmas"))],
    )
    .unwrap();
    let terms =
        SlaTerms::new(TimeDelta::hours(8), WarningWindow::BeforeDeadline { seconds: 3600 }).with_calendar(calendar);
    let start = at("2021-12-01T10:00:00+01:00");
    let now = at("2026-12-06T10:00:00+01:00");
    let tl = Timeline {
        started_at: start,
        pauses: vec![(at("2023-05-02T10:00:00+02:00"), Some(at("2023-05-09T10:00:00+02:00")))],
    };
    let all = explain(&terms, &tl, now);
    assert!(all.len() > 5000, "{}", all.len());
    let totals = crate::SegmentTotals::of(&all);
    let (kept, omitted) = crate::summarise(all.clone(), 100);
    assert_eq!(kept.len(), 100);
    let omitted = omitted.unwrap();
    assert_eq!(omitted.segments, all.len() - 100);
    // Nothing is lost: the kept ends and the summed middle add up to the whole, the
    // middle joins the two ends, and the counted time is the clock's elapsed time.
    assert_eq!(
        crate::SegmentTotals::of(&kept[..50])
            .plus(omitted.totals)
            .plus(crate::SegmentTotals::of(&kept[50..])),
        totals
    );
    assert_eq!((kept[49].to, kept[50].from), (omitted.from, omitted.to));
    assert_eq!((kept[0].from, kept[99].to), (start, now));
    assert_eq!(
        totals.counted_seconds,
        crate::evaluate(&terms, &tl, now).elapsed.num_seconds()
    );
    assert_eq!(totals.paused_seconds, 7 * 86_400);
    assert!(totals.holiday_seconds >= 4 * 86_400, "{totals:?}");
    // A short explanation is left whole.
    let (short, none) = crate::summarise(all[..100].to_vec(), 100);
    assert_eq!((short.len(), none), (100, None));
}

#[test]
fn the_explanation_marks_where_an_offset_change_shortened_or_lengthened_a_window() {
    use crate::OffsetEffect;
    let explained = |zone: &str, day: chrono::Weekday, window: crate::Window, start: &str, now: &str| {
        let calendar = Calendar::new(zone, Week::default().with(day, &[window]), vec![]).unwrap();
        let terms =
            SlaTerms::new(TimeDelta::hours(1), WarningWindow::BeforeDeadline { seconds: 0 }).with_calendar(calendar);
        explain(&terms, &Timeline::started(at(start)), at(now))
    };
    // Berlin, 2026-03-29: 02:30–04:00 counts 03:00–04:00; the counted segment starts
    // where the clocks jumped from 02:00 to 03:00, and says so.
    let berlin = explained(
        "Europe/Berlin",
        chrono::Weekday::Sun,
        w("02:30", "04:00"),
        "2026-03-28T12:00:00+01:00",
        "2026-03-29T12:00:00+02:00",
    );
    let counted: Vec<_> = berlin.iter().filter(|s| s.kind == K::Counted).collect();
    assert_eq!(counted.len(), 1, "{berlin:?}");
    let change = counted[0].offset_change.clone().expect("marked");
    assert_eq!(
        (change.at, change.before.as_str(), change.after.as_str(), change.effect),
        (
            at("2026-03-29T03:00:00+02:00"),
            "+01:00",
            "+02:00",
            OffsetEffect::Shortened
        )
    );
    // St John's, 2023-11-05: 01:45–02:15 counts twice 15 minutes and once 30 (NST); the
    // change falls between the two counted pieces and is marked on the stretch it starts.
    let st_johns = explained(
        "America/St_Johns",
        chrono::Weekday::Sun,
        w("01:45", "02:15"),
        "2023-11-04T12:00:00-02:30",
        "2023-11-05T12:00:00-03:30",
    );
    // (The 1-hour target runs on into the next Sunday: 45 minutes are counted on this one.)
    let counted: Vec<_> = st_johns
        .iter()
        .filter(|s| s.kind == K::Counted && s.from < at("2023-11-06T00:00:00-03:30"))
        .collect();
    assert_eq!(counted.len(), 2, "{st_johns:?}");
    let minutes: i64 = counted.iter().map(|s| (s.to - s.from).num_minutes()).sum();
    assert_eq!(minutes, 45);
    let marked: Vec<_> = st_johns.iter().filter_map(|s| s.offset_change.clone()).collect();
    assert_eq!(marked.len(), 1, "{st_johns:?}");
    assert_eq!(
        (marked[0].at, marked[0].effect),
        (at("2023-11-05T01:00:00-03:30"), OffsetEffect::Lengthened)
    );
    // Nothing is marked where the offset did not change.
    assert!(explained(
        "Europe/Berlin",
        chrono::Weekday::Mon,
        w("09:00", "17:00"),
        "2026-06-01T08:00:00+02:00",
        "2026-06-02T08:00:00+02:00"
    )
    .iter()
    .all(|s| s.offset_change.is_none()));
}
