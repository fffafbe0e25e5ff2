//! Deadlines across daylight-saving changes, computed by hand.
//!
//! Instants are written as local time with the offset in force, so each expectation reads
//! the way a person would check it. Every case also checks that the working time between
//! start and deadline is exactly the target, and that the clock agrees.
//!
//! The changes used (verified against the bundled tz database):
//! - Europe/Berlin: 2026-03-29 02:00 CET(+1)→03:00 CEST(+2) at 01:00Z;
//!   2026-10-25 03:00 CEST→02:00 CET at 01:00Z (02:00–03:00 twice).
//! - America/New_York: 2026-03-08 02:00 EST(−5)→03:00 EDT(−4) at 07:00Z;
//!   2026-11-01 02:00 EDT→01:00 EST at 06:00Z (01:00–02:00 twice).
//! - America/Sao_Paulo: 2016-10-16 00:00(−3)→01:00(−2) at 03:00Z: 00:00 does not exist, the
//!   day starts at 01:00; 2017-02-19 00:00(−2)→2017-02-18 23:00(−3) at 02:00Z: Saturday
//!   23:00–24:00 happens twice; likewise 2017-10-15, 2018-02-18 (fall back) and 2018-11-04.
//! - Asia/Tehran: 2021-03-22 00:00(+3:30)→01:00(+4:30) at 2021-03-21 20:30Z;
//!   2021-09-22 00:00(+4:30)→2021-09-21 23:00(+3:30) at 19:30Z. Iran abolished DST in 2022.
//! - Australia/Lord_Howe: 2026-04-05 02:00(+11)→01:30(+10:30) at 2026-04-04 15:00Z;
//!   2026-10-04 02:00(+10:30)→02:30(+11) at 2026-10-03 15:30Z: a 30-minute shift, southern
//!   hemisphere (DST ends in April, starts in October).

use chrono::{TimeDelta, Weekday};

use super::{at, cal, w};
use crate::{evaluate, SlaTerms, Timeline, WarningWindow, Week, Window};

struct Case {
    name: &'static str,
    zone: &'static str,
    week: Week,
    start: &'static str,
    target_minutes: i64,
    due: &'static str,
}

fn on(day: Weekday, windows: &[Window]) -> Week {
    Week::default().with(day, windows)
}

fn check(cases: Vec<Case>) {
    for c in cases {
        let calendar = cal(c.zone, c.week);
        let (start, target, due) = (at(c.start), TimeDelta::minutes(c.target_minutes), at(c.due));
        let got = calendar.add_working_time(start, target);
        assert_eq!(got, due, "{}: deadline {} expected {}", c.name, got, c.due);
        assert_eq!(
            calendar.working_time_between(start, due),
            target,
            "{}: working time",
            c.name
        );
        let terms = SlaTerms::new(target, WarningWindow::BeforeDeadline { seconds: 0 }).with_calendar(calendar);
        assert_eq!(
            evaluate(&terms, &Timeline::started(start), start).due_at,
            due,
            "{}: clock",
            c.name
        );
    }
}

#[test]
fn europe_berlin() {
    check(vec![
        // Sunday window 00:00–04:00 on spring-forward day: 00:00–02:00 CET is 2 h, 02:00–03:00
        // does not exist, 03:00–04:00 CEST is 1 h. Three hours end at 04:00 CEST = 02:00Z.
        Case {
            name: "berlin spring, 3 h fill the straddling window",
            zone: "Europe/Berlin",
            week: on(Weekday::Sun, &[w("00:00", "04:00")]),
            start: "2026-03-28T12:00:00+01:00",
            target_minutes: 180,
            due: "2026-03-29T04:00:00+02:00",
        },
        // 2 h reach 02:00 CET = 01:00Z, which the clock shows as 03:00 CEST; 30 min more.
        Case {
            name: "berlin spring, 2.5 h jump the gap",
            zone: "Europe/Berlin",
            week: on(Weekday::Sun, &[w("00:00", "04:00")]),
            start: "2026-03-28T12:00:00+01:00",
            target_minutes: 150,
            due: "2026-03-29T03:30:00+02:00",
        },
        // Business hours: 1 h on Friday (16:00–17:00 CET), 1 h on Monday from 09:00 CEST.
        // Monday's window starts at 07:00Z, Friday's at 08:00Z: the deadline is 08:00Z.
        Case {
            name: "berlin spring, business hours over the weekend",
            zone: "Europe/Berlin",
            week: Week::weekdays(&[w("09:00", "17:00")]),
            start: "2026-03-27T16:00:00+01:00",
            target_minutes: 120,
            due: "2026-03-30T10:00:00+02:00",
        },
        // Fall back: 00:00 CEST (22:00Z) to 04:00 CET (03:00Z) is 5 h of real time.
        Case {
            name: "berlin fall, the 4-hour window lasts 5 h",
            zone: "Europe/Berlin",
            week: on(Weekday::Sun, &[w("00:00", "04:00")]),
            start: "2026-10-24T12:00:00+02:00",
            target_minutes: 300,
            due: "2026-10-25T04:00:00+01:00",
        },
        // 4 h from 22:00Z is 02:00Z, which the wall clock (CET by then) shows as 03:00.
        Case {
            name: "berlin fall, 4 h end at 03:00 on the wall",
            zone: "Europe/Berlin",
            week: on(Weekday::Sun, &[w("00:00", "04:00")]),
            start: "2026-10-24T12:00:00+02:00",
            target_minutes: 240,
            due: "2026-10-25T03:00:00+01:00",
        },
        // A window 02:30–03:00 inside the repeated hour happens twice: 02:30–03:00 CEST
        // (00:30–01:00Z) then 02:30–03:00 CET (01:30–02:00Z). 45 min end at 02:45 CET.
        Case {
            name: "berlin fall, the repeated half hour counts twice",
            zone: "Europe/Berlin",
            week: on(Weekday::Sun, &[w("02:30", "03:00")]),
            start: "2026-10-24T12:00:00+02:00",
            target_minutes: 45,
            due: "2026-10-25T02:45:00+01:00",
        },
    ]);
}

#[test]
fn america_new_york() {
    check(vec![
        // The example: 01:30–03:30 with 02:00–03:00 missing is 1 h: 01:30–02:00 EST
        // (06:30–07:00Z) and 03:00–03:30 EDT (07:00–07:30Z). 1 h ends at 03:30 EDT.
        Case {
            name: "new york spring, 01:30-03:30 is one hour",
            zone: "America/New_York",
            week: on(Weekday::Sun, &[w("01:30", "03:30")]),
            start: "2026-03-07T12:00:00-05:00",
            target_minutes: 60,
            due: "2026-03-08T03:30:00-04:00",
        },
        // 30 min (01:30–02:00 EST) then 15 min from 03:00 EDT.
        Case {
            name: "new york spring, 45 min straddle the gap",
            zone: "America/New_York",
            week: on(Weekday::Sun, &[w("01:30", "03:30")]),
            start: "2026-03-07T12:00:00-05:00",
            target_minutes: 45,
            due: "2026-03-08T03:15:00-04:00",
        },
        // A window that lies wholly in the gap (02:15–02:45) has no working time: the 30 min
        // come from Monday 09:00 EDT.
        Case {
            name: "new york spring, a window inside the gap is empty",
            zone: "America/New_York",
            week: on(Weekday::Sun, &[w("02:15", "02:45")]).with(Weekday::Mon, &[w("09:00", "10:00")]),
            start: "2026-03-07T12:00:00-05:00",
            target_minutes: 30,
            due: "2026-03-09T09:30:00-04:00",
        },
        // The example: 00:00–04:00 on fall-back day is 5 h: 00:00 EDT (04:00Z) to
        // 04:00 EST (09:00Z).
        Case {
            name: "new york fall, 00:00-04:00 is five hours",
            zone: "America/New_York",
            week: on(Weekday::Sun, &[w("00:00", "04:00")]),
            start: "2026-10-31T12:00:00-04:00",
            target_minutes: 300,
            due: "2026-11-01T04:00:00-05:00",
        },
        // 01:00–01:30 happens twice: 05:00–05:30Z (EDT) and 06:00–06:30Z (EST); 45 min end
        // 15 min into the second, at 01:15 EST.
        Case {
            name: "new york fall, the repeated 01:00-01:30 counts twice",
            zone: "America/New_York",
            week: on(Weekday::Sun, &[w("01:00", "01:30")]),
            start: "2026-10-31T12:00:00-04:00",
            target_minutes: 45,
            due: "2026-11-01T01:15:00-05:00",
        },
        // Business hours: 1 h on Friday (16:00–17:00 EDT = 20:00–21:00Z), then Monday from
        // 09:00 EST = 14:00Z: 1 h ends at 10:00 EST = 15:00Z.
        Case {
            name: "new york fall, business hours over the weekend",
            zone: "America/New_York",
            week: Week::weekdays(&[w("09:00", "17:00")]),
            start: "2026-10-30T16:00:00-04:00",
            target_minutes: 120,
            due: "2026-11-02T10:00:00-05:00",
        },
    ]);
}

#[test]
fn america_sao_paulo_changed_at_midnight() {
    let straddle = || on(Weekday::Sat, &[w("22:00", "24:00")]).with(Weekday::Sun, &[w("00:00", "02:00")]);
    check(vec![
        // 2016-10-16: local midnight does not exist. Saturday 22:00–24:00 (−3) is 01:00–03:00Z,
        // its end being the change itself; Sunday 00:00–02:00 has only 01:00–02:00 (−2),
        // 03:00–04:00Z. 2.5 h: 2 h on Saturday, 30 min on Sunday → 01:30 (−2).
        Case {
            name: "sao paulo spring 2016, across the missing midnight",
            zone: "America/Sao_Paulo",
            week: straddle(),
            start: "2016-10-15T12:00:00-03:00",
            target_minutes: 150,
            due: "2016-10-16T01:30:00-02:00",
        },
        // Sunday 00:00–02:00 alone is 1 h long (the day starts at 01:00).
        Case {
            name: "sao paulo spring 2016, the day starts at 01:00",
            zone: "America/Sao_Paulo",
            week: on(Weekday::Sun, &[w("00:00", "02:00")]),
            start: "2016-10-15T12:00:00-03:00",
            target_minutes: 60,
            due: "2016-10-16T02:00:00-02:00",
        },
        // 2017-10-15, same rule: business hours from Friday 16:00 (−3, 19:00Z) to Monday
        // 10:00 (−2, 12:00Z).
        Case {
            name: "sao paulo spring 2017, business hours",
            zone: "America/Sao_Paulo",
            week: Week::weekdays(&[w("09:00", "17:00")]),
            start: "2017-10-13T16:00:00-03:00",
            target_minutes: 120,
            due: "2017-10-16T10:00:00-02:00",
        },
        // 2017-02-19: at 00:00 (−2) the clock goes back to Saturday 23:00 (−3). Saturday
        // 22:00–24:00 runs from 22:00 (−2) = 00:00Z to 24:00 (−3) = 03:00Z: 3 h.
        Case {
            name: "sao paulo fall 2017, saturday night lasts 3 h",
            zone: "America/Sao_Paulo",
            week: straddle(),
            start: "2017-02-18T12:00:00-02:00",
            target_minutes: 180,
            due: "2017-02-19T00:00:00-03:00",
        },
        // 2 h from 00:00Z end at 02:00Z: the change, which the wall shows as the second 23:00.
        Case {
            name: "sao paulo fall 2017, 2 h end at the second 23:00",
            zone: "America/Sao_Paulo",
            week: straddle(),
            start: "2017-02-18T12:00:00-02:00",
            target_minutes: 120,
            due: "2017-02-18T23:00:00-03:00",
        },
        // 3.5 h: Saturday's 3 h, then Sunday 00:00 (−3) = 03:00Z + 30 min.
        Case {
            name: "sao paulo fall 2017, into sunday",
            zone: "America/Sao_Paulo",
            week: straddle(),
            start: "2017-02-18T12:00:00-02:00",
            target_minutes: 210,
            due: "2017-02-19T00:30:00-03:00",
        },
        // 2018-02-18: business hours from Friday 16:00 (−2, 18:00Z) to Monday 10:00 (−3, 13:00Z).
        Case {
            name: "sao paulo fall 2018, business hours",
            zone: "America/Sao_Paulo",
            week: Week::weekdays(&[w("09:00", "17:00")]),
            start: "2018-02-16T16:00:00-02:00",
            target_minutes: 120,
            due: "2018-02-19T10:00:00-03:00",
        },
        // 2018-11-04 (first Sunday of November that year): Saturday 22:00–24:00 is 2 h,
        // Sunday 00:00–02:00 is 1 h (01:00–02:00, −2). 3 h end at Sunday 02:00 (−2) = 04:00Z.
        Case {
            name: "sao paulo spring 2018",
            zone: "America/Sao_Paulo",
            week: straddle(),
            start: "2018-11-03T12:00:00-03:00",
            target_minutes: 180,
            due: "2018-11-04T02:00:00-02:00",
        },
    ]);
}

#[test]
fn asia_tehran_before_2022() {
    check(vec![
        // 2021-03-22 00:00 (+3:30) → 01:00 (+4:30) at 20:30Z. Sunday 23:00–24:00 is
        // 19:30–20:30Z (1 h, ending at the change); Monday 00:00–01:30 has only 01:00–01:30
        // (+4:30), 20:30–21:00Z. 1 h 15 min end at 01:15 (+4:30) = 20:45Z.
        Case {
            name: "tehran spring 2021, across the missing midnight",
            zone: "Asia/Tehran",
            week: on(Weekday::Sun, &[w("23:00", "24:00")]).with(Weekday::Mon, &[w("00:00", "01:30")]),
            start: "2021-03-21T12:00:00+03:30",
            target_minutes: 75,
            due: "2021-03-22T01:15:00+04:30",
        },
        // 2021-09-22 00:00 (+4:30) → 2021-09-21 23:00 (+3:30) at 19:30Z. Tuesday 22:00–24:00
        // runs from 22:00 (+4:30) = 17:30Z to 24:00 (+3:30) = 20:30Z: 3 h. 2.5 h end at
        // 20:00Z = the second 23:30 (+3:30).
        Case {
            name: "tehran fall 2021, the second 23:30",
            zone: "Asia/Tehran",
            week: on(Weekday::Tue, &[w("22:00", "24:00")]),
            start: "2021-09-21T12:00:00+04:30",
            target_minutes: 150,
            due: "2021-09-21T23:30:00+03:30",
        },
        Case {
            name: "tehran fall 2021, the 2-hour window lasts 3 h",
            zone: "Asia/Tehran",
            week: on(Weekday::Tue, &[w("22:00", "24:00")]),
            start: "2021-09-21T12:00:00+04:30",
            target_minutes: 180,
            due: "2021-09-22T00:00:00+03:30",
        },
        // Iran's working week, Saturday to Wednesday 08:00–16:00: from Wednesday 2021-03-17
        // 15:00 (+3:30) 1 h that day, Saturday 03-20 8 h, Sunday 03-21 8 h (both still +3:30),
        // then Monday 03-22 from 08:00 in the new +4:30: 20 h = 1 + 8 + 8 + 3 → Monday 11:00
        // (+4:30) = 06:30Z (the Sunday window was 04:30–12:30Z, Monday's starts at 03:30Z).
        Case {
            name: "tehran spring 2021, working week",
            zone: "Asia/Tehran",
            week: Week::every_day(&[w("08:00", "16:00")])
                .with(Weekday::Thu, &[])
                .with(Weekday::Fri, &[]),
            start: "2021-03-17T15:00:00+03:30",
            target_minutes: 20 * 60,
            due: "2021-03-22T11:00:00+04:30",
        },
    ]);
}

#[test]
fn australia_lord_howe_half_hour_shift() {
    check(vec![
        // 2026-04-05 02:00 (+11) → 01:30 (+10:30) at 15:00Z. Sunday 01:00–03:00 runs from
        // 01:00 (+11) = 14:00Z to 03:00 (+10:30) = 16:30Z: 2.5 h. 2 h end at 16:00Z = 02:30
        // (+10:30).
        Case {
            name: "lord howe fall, 2 h window lasts 2.5 h",
            zone: "Australia/Lord_Howe",
            week: on(Weekday::Sun, &[w("01:00", "03:00")]),
            start: "2026-04-04T12:00:00+11:00",
            target_minutes: 120,
            due: "2026-04-05T02:30:00+10:30",
        },
        // The repeated half hour 01:30–02:00 alone: 14:30–15:00Z then 15:00–15:30Z, 1 h.
        Case {
            name: "lord howe fall, the repeated half hour counts twice",
            zone: "Australia/Lord_Howe",
            week: on(Weekday::Sun, &[w("01:30", "02:00")]),
            start: "2026-04-04T12:00:00+11:00",
            target_minutes: 60,
            due: "2026-04-05T02:00:00+10:30",
        },
        // 2026-10-04 02:00 (+10:30) → 02:30 (+11) at 15:30Z. Sunday 01:00–03:00 is 01:00–02:00
        // (+10:30) = 14:30–15:30Z and 02:30–03:00 (+11) = 15:30–16:00Z: 1.5 h. 1 h 15 min
        // end at 15:45Z = 02:45 (+11).
        Case {
            name: "lord howe spring, across the half-hour gap",
            zone: "Australia/Lord_Howe",
            week: on(Weekday::Sun, &[w("01:00", "03:00")]),
            start: "2026-10-03T12:00:00+10:30",
            target_minutes: 75,
            due: "2026-10-04T02:45:00+11:00",
        },
        // 1 h ends exactly at the change, 15:30Z, shown as 02:30 (+11).
        Case {
            name: "lord howe spring, ends at the change",
            zone: "Australia/Lord_Howe",
            week: on(Weekday::Sun, &[w("01:00", "03:00")]),
            start: "2026-10-03T12:00:00+10:30",
            target_minutes: 60,
            due: "2026-10-04T02:30:00+11:00",
        },
        // 02:00–02:30 does not exist that Sunday: the 30 min come from Monday 09:00 (+11).
        Case {
            name: "lord howe spring, a window inside the gap is empty",
            zone: "Australia/Lord_Howe",
            week: on(Weekday::Sun, &[w("02:00", "02:30")]).with(Weekday::Mon, &[w("09:00", "10:00")]),
            start: "2026-10-03T12:00:00+10:30",
            target_minutes: 30,
            due: "2026-10-05T09:30:00+11:00",
        },
    ]);
}

/// Whole local days: 23, 25, 23.5 and 24.5 hours long on change days.
#[test]
fn a_whole_day_window_lasts_as_long_as_the_day() {
    let day = |zone: &str, from: &str, to: &str| {
        cal(zone, on(Weekday::Sun, &[Window::all_day()])).working_time_between(at(from), at(to))
    };
    let minutes = TimeDelta::minutes;
    assert_eq!(
        day(
            "Europe/Berlin",
            "2026-03-28T12:00:00+01:00",
            "2026-03-30T12:00:00+02:00"
        ),
        minutes(23 * 60)
    );
    assert_eq!(
        day(
            "Europe/Berlin",
            "2026-10-24T12:00:00+02:00",
            "2026-10-26T12:00:00+01:00"
        ),
        minutes(25 * 60)
    );
    assert_eq!(
        day(
            "America/Sao_Paulo",
            "2016-10-15T12:00:00-03:00",
            "2016-10-17T12:00:00-02:00"
        ),
        minutes(23 * 60)
    );
    assert_eq!(
        day(
            "Australia/Lord_Howe",
            "2026-10-03T12:00:00+10:30",
            "2026-10-05T12:00:00+11:00"
        ),
        minutes(23 * 60 + 30)
    );
    assert_eq!(
        day(
            "Australia/Lord_Howe",
            "2026-04-04T12:00:00+11:00",
            "2026-04-06T12:00:00+10:30"
        ),
        minutes(24 * 60 + 30)
    );
}

/// The examples the README ("What the clock does when the offset changes") and the
/// calendar's API description give: a window counts exactly the instants whose local
/// wall-clock time lies inside it.
mod documented {
    use super::*;

    fn pieces(zone: &str, day: Weekday, window: Window, from: &str, to: &str) -> Vec<(String, String)> {
        cal(zone, on(day, &[window]))
            .working_intervals(at(from), at(to))
            .into_iter()
            .map(|(a, b)| (a.to_rfc3339(), b.to_rfc3339()))
            .collect()
    }

    fn utc(rfc3339: &str) -> String {
        at(rfc3339).to_rfc3339()
    }

    #[test]
    fn a_window_starting_in_a_spring_forward_gap_counts_from_the_end_of_the_gap() {
        // Berlin, Sunday 2026-03-29: 02:00 becomes 03:00. 02:30–04:00 counts 03:00–04:00.
        let got = pieces(
            "Europe/Berlin",
            Weekday::Sun,
            w("02:30", "04:00"),
            "2026-03-29T00:00:00+01:00",
            "2026-03-30T00:00:00+02:00",
        );
        assert_eq!(
            got,
            vec![(utc("2026-03-29T03:00:00+02:00"), utc("2026-03-29T04:00:00+02:00"))]
        );
    }

    #[test]
    fn a_window_inside_a_gap_counts_nothing() {
        let got = pieces(
            "Europe/Berlin",
            Weekday::Sun,
            w("02:10", "02:50"),
            "2026-03-29T00:00:00+01:00",
            "2026-03-30T00:00:00+02:00",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn a_window_across_a_fall_back_overlap_counts_both_passes_in_two_pieces() {
        // St John's, Sunday 2023-11-05: 02:00 NDT (−2:30) becomes 01:00 NST (−3:30), so
        // 01:00–02:00 happens twice. 01:45–02:15 counts 01:45–02:00 NDT, then 01:45–02:15
        // NST: 45 minutes for a 30-minute window, in two pieces.
        let got = pieces(
            "America/St_Johns",
            Weekday::Sun,
            w("01:45", "02:15"),
            "2023-11-05T00:00:00-02:30",
            "2023-11-06T00:00:00-03:30",
        );
        assert_eq!(
            got,
            vec![
                (utc("2023-11-05T01:45:00-02:30"), utc("2023-11-05T02:00:00-02:30")),
                (utc("2023-11-05T01:45:00-03:30"), utc("2023-11-05T02:15:00-03:30")),
            ]
        );
    }

    #[test]
    fn midnight_and_24_00_when_the_change_is_at_midnight() {
        // São Paulo, Sunday 2016-10-16: 00:00 (−3) becomes 01:00 (−2). "00:00" is the day's
        // first instant, which is 01:00; 00:00–24:00 counts 23 h.
        let spring = pieces(
            "America/Sao_Paulo",
            Weekday::Sun,
            Window::all_day(),
            "2016-10-15T12:00:00-03:00",
            "2016-10-17T12:00:00-02:00",
        );
        assert_eq!(
            spring,
            vec![(utc("2016-10-16T01:00:00-02:00"), utc("2016-10-17T00:00:00-02:00"))]
        );
        // Saturday 2017-02-18: at 24:00 (−2) the clock goes back to 23:00 (−3); "24:00" is
        // the next day's first instant, so 23:00–24:00 counts the hour twice (2 h) and
        // 00:00–24:00 counts 25 h.
        let late = pieces(
            "America/Sao_Paulo",
            Weekday::Sat,
            w("23:00", "24:00"),
            "2017-02-18T00:00:00-02:00",
            "2017-02-19T12:00:00-03:00",
        );
        assert_eq!(
            late,
            vec![(utc("2017-02-18T23:00:00-02:00"), utc("2017-02-19T00:00:00-03:00"))]
        );
        let whole = cal("America/Sao_Paulo", on(Weekday::Sat, &[Window::all_day()]))
            .working_time_between(at("2017-02-17T12:00:00-02:00"), at("2017-02-19T12:00:00-03:00"));
        assert_eq!(whole, TimeDelta::hours(25));
    }
}
