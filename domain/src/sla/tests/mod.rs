//! Calendar and clock tests across modules: DST tables, properties, explain().

mod dst;
mod explain;
mod props;

use chrono::{DateTime, TimeDelta, Utc, Weekday};

use crate::{evaluate, Calendar, Holiday, SlaStatus, SlaTerms, Timeline, WarningWindow, Week, Window};

/// A window from `"HH:MM"` bounds.
pub(super) fn w(start: &str, end: &str) -> Window {
    Window::parse(start, end).unwrap()
}

/// An instant written as local time with its offset, e.g. `"2026-03-29T04:00:00+02:00"`.
pub(super) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

/// A calendar without holidays.
pub(super) fn cal(zone: &str, week: Week) -> Calendar {
    Calendar::new(zone, week, Vec::new()).unwrap()
}

fn berlin_office() -> Calendar {
    cal("Europe/Berlin", Week::weekdays(&[w("09:00", "17:00")]))
}

#[test]
fn eight_business_hours_warned_one_business_hour_before() {
    let terms = SlaTerms::new(TimeDelta::hours(8), WarningWindow::BeforeDeadline { seconds: 3600 })
        .with_calendar(berlin_office());
    // Monday 14:00: 3 h on Monday, 5 h on Tuesday → Tuesday 14:00; the warning is one
    // working hour earlier, Tuesday 13:00.
    let tl = Timeline::started(at("2026-03-02T14:00:00+01:00"));
    let s = evaluate(&terms, &tl, at("2026-03-02T20:00:00+01:00"));
    assert_eq!(s.due_at, at("2026-03-03T14:00:00+01:00"));
    assert_eq!(s.warn_at, at("2026-03-03T13:00:00+01:00"));
    assert_eq!(
        (s.status, s.elapsed, s.remaining),
        (SlaStatus::Ok, TimeDelta::hours(3), TimeDelta::hours(5))
    );
    let status = |t: &str| evaluate(&terms, &tl, at(t)).status;
    assert_eq!(status("2026-03-03T12:59:59+01:00"), SlaStatus::Ok);
    assert_eq!(status("2026-03-03T13:00:00+01:00"), SlaStatus::Warning);
    assert_eq!(status("2026-03-03T14:00:00+01:00"), SlaStatus::Breached);

    // A warning lead that spans the night is measured in working hours too: started Friday
    // 14:00, due Monday 14:00, warned 6 working hours earlier = Friday 16:00.
    let terms = SlaTerms::new(TimeDelta::hours(8), WarningWindow::ElapsedPercent { percent: 25 })
        .with_calendar(berlin_office());
    let s = evaluate(
        &terms,
        &Timeline::started(at("2026-03-06T14:00:00+01:00")),
        at("2026-03-06T14:00:00+01:00"),
    );
    assert_eq!(s.due_at, at("2026-03-09T14:00:00+01:00"));
    assert_eq!(s.warn_at, at("2026-03-06T16:00:00+01:00"));
}

#[test]
fn a_clock_started_out_of_hours_counts_from_the_next_window() {
    let terms = SlaTerms::new(TimeDelta::hours(1), WarningWindow::ElapsedPercent { percent: 100 })
        .with_calendar(berlin_office());
    // Saturday: nothing counts until Monday 09:00; a 100 % warning fires at the deadline.
    let tl = Timeline::started(at("2026-03-07T10:00:00+01:00"));
    let s = evaluate(&terms, &tl, at("2026-03-08T10:00:00+01:00"));
    assert_eq!(s.elapsed, TimeDelta::zero());
    assert_eq!(s.due_at, at("2026-03-09T10:00:00+01:00"));
    assert_eq!(s.warn_at, s.due_at);
    // A lead as long as the target (warn at 0 % elapsed) fires when counting first starts.
    let terms = SlaTerms::new(TimeDelta::hours(1), WarningWindow::BeforeDeadline { seconds: 3600 })
        .with_calendar(berlin_office());
    assert_eq!(
        evaluate(&terms, &tl, at("2026-03-07T10:00:00+01:00")).warn_at,
        at("2026-03-09T09:00:00+01:00")
    );
}

#[test]
fn terms_with_a_calendar_stay_cheap_and_comparable() {
    let plain = SlaTerms::new(TimeDelta::hours(8), WarningWindow::BeforeDeadline { seconds: 0 });
    assert_eq!(plain.calendar.as_ref(), &Calendar::always());
    let business = plain.clone().with_calendar(berlin_office());
    assert_ne!(plain, business);
    let again = business.clone();
    assert!(std::sync::Arc::ptr_eq(&business.calendar, &again.calendar));
}

#[test]
fn a_holiday_from_an_ics_feed_moves_the_deadline() {
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261003\r\nRRULE:FREQ=YEARLY\r\n\
               SUMMARY:Tag der Deutschen Einheit\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let holidays = Calendar::parse_ics(ics).unwrap();
    assert_eq!(
        holidays,
        vec![Holiday::yearly_from(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 3).unwrap(),
            Some("Tag der Deutschen Einheit")
        )]
    );
    let cal = berlin_office().with_holidays(holidays).unwrap();
    // 2030-10-03 is a Thursday: 8 h from Wednesday 13:00 end Friday 13:00, not Thursday.
    let from = at("2030-10-02T13:00:00+02:00");
    assert_eq!(
        cal.add_working_time(from, TimeDelta::hours(8)),
        at("2030-10-04T13:00:00+02:00")
    );
    assert_eq!(
        berlin_office().add_working_time(from, TimeDelta::hours(8)),
        at("2030-10-03T13:00:00+02:00")
    );
    let sunday = cal.windows().on(Weekday::Sun);
    assert!(sunday.is_empty());
}
