//! Who can take work now: absences, delegates and deactivated people, and the routing rule
//! every assignment goes through (create, advance, escalate, hand-over): work meant for an
//! absent person goes to their delegate, through delegates who are away themselves, never
//! round a cycle; when nobody on that path is present, to nobody (the caller moves on).

use std::collections::HashSet;

use crate::sla::zones::Zone;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::{Directory, IcsError, ValidationError};

/// How many delegates deep routing looks before it gives up (a chain of people who are all
/// away is not followed forever, and a cycle ends at the first person seen twice).
pub const MAX_DELEGATION_HOPS: usize = 8;

/// Whether a person can take work at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence<'a> {
    Present,
    /// Away until `until` (`None`: deactivated, for good); their work goes to `delegate`.
    Away {
        until: Option<DateTime<Utc>>,
        delegate: Option<&'a str>,
    },
}

/// A person passed over because they were away.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassedOver {
    pub person: String,
    /// When their absence ends; none: deactivated.
    pub until: Option<DateTime<Utc>>,
}

impl PassedOver {
    /// "ann@x.io (absent until 2026-12-24 17:00 UTC)" or "(deactivated)".
    pub fn describe(&self) -> String {
        match self.until {
            Some(until) => format!("{} (absent until {})", self.person, until.format("%Y-%m-%d %H:%M UTC")),
            None => format!("{} (deactivated)", self.person),
        }
    }
}

/// "skipped ann@x.io (absent until 2026-12-24 17:00 UTC): delegated to bob@x.io", for the
/// audit log and the workflow's page; `None` when nobody was passed over.
pub fn routing_note(passed_over: &[PassedOver], to: &str) -> Option<String> {
    if passed_over.is_empty() {
        return None;
    }
    let away: Vec<String> = passed_over.iter().map(PassedOver::describe).collect();
    Some(format!("skipped {}: delegated to {to}", away.join(", then ")))
}

/// Where work meant for one person goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The present person who takes it; none when nobody on the delegation path is present.
    pub to: Option<String>,
    /// The people passed over on the way, in order (empty when the person is present).
    pub passed_over: Vec<PassedOver>,
}

/// Routes work meant for `person` at `at`: to them if present, else along their delegates.
pub fn route(directory: &impl Directory, person: &str, at: DateTime<Utc>) -> Routed {
    let mut passed_over = Vec::new();
    let mut seen = HashSet::new();
    let mut current = person;
    while passed_over.len() <= MAX_DELEGATION_HOPS && seen.insert(current) {
        match directory.presence(current, at) {
            Presence::Present => {
                return Routed {
                    to: Some(current.to_string()),
                    passed_over,
                }
            }
            Presence::Away { until, delegate } => {
                passed_over.push(PassedOver {
                    person: current.to_string(),
                    until,
                });
                match delegate.filter(|d| directory.has_user(d)) {
                    Some(next) => current = next,
                    None => break,
                }
            }
        }
    }
    Routed { to: None, passed_over }
}

/// A period a person is away (UTC instants, `starts_at` < `ends_at`), with whom their work
/// goes to meanwhile (none: their standing delegate).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub delegate: Option<String>,
}

impl Absence {
    /// Whether the absence covers `at` (start included, end excluded).
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// Reads an absence bound as people write it: an instant with its offset
/// (`2026-12-24T13:00:00+01:00`), a local date-time in the person's zone
/// (`2026-12-24T13:00`), or a date (`2026-12-24`: the start of that day in the person's
/// zone, or, for the end, the start of the next day: "to the 24th" includes the 24th).
pub fn parse_bound(field: &str, raw: &str, zone: &Zone, end: bool) -> Result<DateTime<Utc>, ValidationError> {
    let raw = raw.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(raw) {
        return Ok(instant.with_timezone(&Utc));
    }
    let local = if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end { date.succ_opt() } else { Some(date) };
        day.and_then(|d| d.and_hms_opt(0, 0, 0))
    } else {
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
            .ok()
    };
    let local = local.ok_or_else(|| {
        ValidationError::new(
            field,
            format!("{raw:?} is not a date (2026-12-24), a local time (2026-12-24T13:00) or an instant with offset"),
        )
    })?;
    // A wall-clock time skipped by a daylight-saving change is read as the first instant
    // after the gap; a repeated one as its first occurrence.
    let mut probe = local;
    for _ in 0..4 {
        if let Some(at) = zone.from_local_datetime(&probe).earliest() {
            return Ok(at.with_timezone(&Utc));
        }
        probe += chrono::TimeDelta::minutes(30);
    }
    Err(ValidationError::new(field, format!("{raw:?} does not exist in {zone}")))
}

/// The most absences one iCalendar file may hold.
const MAX_IMPORTED: usize = 500;

/// Reads the absences of an iCalendar file (RFC 5545), e.g. exported from an HR system or
/// a mail calendar: every `VEVENT` with `DTSTART` and `DTEND` (dates, UTC times, times
/// with a `TZID`, or floating times read in `zone`) and its `SUMMARY` as the reason.
/// Cancelled events are skipped; a recurring event is refused (say each absence once)
/// rather than read as one.
pub fn parse_absences_ics(text: &str, zone: &Zone) -> Result<Vec<Absence>, IcsError> {
    use crate::sla::ics::{fail, unfold, Property};
    let mut absences = Vec::new();
    let mut event: Option<(usize, Vec<Property>)> = None;
    for (line, content) in unfold(text)? {
        if content.trim().is_empty() {
            continue;
        }
        let p = Property::parse(line, &content)?;
        match (p.name.as_str(), p.value.to_ascii_uppercase().as_str(), event.as_mut()) {
            ("BEGIN", "VEVENT", None) => event = Some((line, Vec::new())),
            ("END", "VEVENT", Some(_)) => {
                if let Some((begin, props)) = event.take() {
                    if let Some(absence) = absence_of(begin, &props, zone)? {
                        absences.push(absence);
                    }
                }
                if absences.len() > MAX_IMPORTED {
                    return fail(line, format!("more than {MAX_IMPORTED} absences in one file"));
                }
            }
            (_, _, Some((_, props))) => props.push(p),
            _ => {}
        }
    }
    if let Some((begin, _)) = event {
        return fail(begin, "VEVENT without END:VEVENT");
    }
    Ok(absences)
}

fn absence_of(begin: usize, props: &[crate::sla::ics::Property], zone: &Zone) -> Result<Option<Absence>, IcsError> {
    use crate::sla::ics::fail;
    let find = |name: &str| props.iter().find(|p| p.name == name);
    if find("STATUS").is_some_and(|p| p.value.eq_ignore_ascii_case("CANCELLED")) {
        return Ok(None);
    }
    if let Some(rule) = find("RRULE") {
        return fail(rule.line, "recurring absences are not imported: list each absence once");
    }
    let Some(start) = find("DTSTART") else {
        return fail(begin, "VEVENT without DTSTART");
    };
    let starts_at = ics_instant(start, zone, false)?;
    let ends_at = match find("DTEND") {
        Some(end) => ics_instant(end, zone, false)?,
        // An all-day event without an end lasts that day (RFC 5545 §3.6.1).
        None if start.value.len() == 8 => ics_instant(start, zone, true)?,
        None => return fail(start.line, "a timed absence needs a DTEND"),
    };
    if ends_at <= starts_at {
        return fail(begin, "DTEND must be after DTSTART");
    }
    let reason = find("SUMMARY")
        .map(|p| p.value.replace("\\,", ",").replace("\\;", ";").replace("\\n", " "))
        .map(|r| r.chars().take(200).collect::<String>())
        .filter(|r| !r.trim().is_empty());
    Ok(Some(Absence {
        starts_at,
        ends_at,
        reason,
        delegate: None,
    }))
}

/// An iCalendar date or date-time: `20261224` (midnight in `zone`, or the next midnight
/// for `day_end`), `20261224T130000Z`, or `20261224T130000` in its `TZID` or in `zone`.
fn ics_instant(p: &crate::sla::ics::Property, zone: &Zone, day_end: bool) -> Result<DateTime<Utc>, IcsError> {
    use crate::sla::ics::fail;
    let value = p.value.as_str();
    let zone = match p.param("TZID") {
        Some(id) => match Zone::named(id) {
            Some(tz) => tz,
            None => return fail(p.line, format!("unknown time zone {id:?}")),
        },
        None => zone.clone(),
    };
    let local = if value.len() == 8 {
        NaiveDate::parse_from_str(value, "%Y%m%d")
            .ok()
            .and_then(|d| if day_end { d.succ_opt() } else { Some(d) })
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    } else if let Some(utc) = value.strip_suffix('Z') {
        return match NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S") {
            Ok(t) => Ok(t.and_utc()),
            Err(_) => fail(p.line, format!("{value:?} is not a date-time")),
        };
    } else {
        NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").ok()
    };
    let Some(local) = local else {
        return fail(p.line, format!("{value:?} is not a date or date-time"));
    };
    match zone.from_local_datetime(&local).earliest() {
        Some(at) => Ok(at.with_timezone(&Utc)),
        None => fail(p.line, format!("{value:?} does not exist in {zone}")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::TimeDelta;
    use proptest::prelude::*;

    use super::*;

    /// A directory of people, who is away until when, and their delegates.
    #[derive(Default)]
    struct People {
        away: HashMap<String, Option<DateTime<Utc>>>,
        delegates: HashMap<String, String>,
        users: HashSet<String>,
    }

    impl People {
        fn new(users: &[&str]) -> Self {
            Self {
                users: users.iter().map(|u| u.to_string()).collect(),
                ..Self::default()
            }
        }
        fn away(mut self, who: &str, until: Option<DateTime<Utc>>, delegate: Option<&str>) -> Self {
            self.away.insert(who.into(), until);
            if let Some(d) = delegate {
                self.delegates.insert(who.into(), d.into());
            }
            self
        }
    }

    impl Directory for People {
        fn department_head(&self, _: &str) -> Option<&str> {
            None
        }
        fn manager_of(&self, _: &str) -> Option<&str> {
            None
        }
        fn has_user(&self, user: &str) -> bool {
            self.users.contains(user)
        }
        fn presence(&self, user: &str, _at: DateTime<Utc>) -> Presence<'_> {
            match self.away.get(user) {
                Some(until) => Presence::Away {
                    until: *until,
                    delegate: self.delegates.get(user).map(String::as_str),
                },
                None => Presence::Present,
            }
        }
    }

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 21, 9, 0, 0).unwrap() + TimeDelta::hours(h)
    }

    #[test]
    fn a_present_person_takes_their_own_work() {
        let people = People::new(&["a@x.io"]);
        assert_eq!(
            route(&people, "a@x.io", t(0)),
            Routed {
                to: Some("a@x.io".into()),
                passed_over: vec![]
            }
        );
    }

    #[test]
    fn an_absent_person_hands_to_their_delegate_and_through_an_absent_delegate() {
        let people = People::new(&["head@x.io", "dep@x.io", "dep2@x.io"])
            .away("head@x.io", Some(t(48)), Some("dep@x.io"))
            .away("dep@x.io", None, Some("dep2@x.io"));
        let routed = route(&people, "head@x.io", t(0));
        assert_eq!(routed.to.as_deref(), Some("dep2@x.io"));
        assert_eq!(
            routed.passed_over,
            vec![
                PassedOver {
                    person: "head@x.io".into(),
                    until: Some(t(48))
                },
                PassedOver {
                    person: "dep@x.io".into(),
                    until: None
                }
            ]
        );
        assert_eq!(routed.passed_over[1].describe(), "dep@x.io (deactivated)");
    }

    #[test]
    fn a_cycle_of_absent_delegates_or_a_missing_delegate_routes_to_nobody() {
        let cycle = People::new(&["a@x.io", "b@x.io"])
            .away("a@x.io", Some(t(5)), Some("b@x.io"))
            .away("b@x.io", Some(t(5)), Some("a@x.io"));
        let routed = route(&cycle, "a@x.io", t(0));
        assert_eq!((routed.to, routed.passed_over.len()), (None, 2));
        let unknown = People::new(&["a@x.io"]).away("a@x.io", Some(t(5)), Some("gone@x.io"));
        assert_eq!(route(&unknown, "a@x.io", t(0)).to, None);
    }

    #[test]
    fn bounds_read_as_people_write_them() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let start = parse_bound("from", "2026-12-24", &berlin, false).unwrap();
        let end = parse_bound("to", "2026-12-24", &berlin, true).unwrap();
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 23, 23, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 12, 24, 23, 0, 0).unwrap());
        let local = parse_bound("from", "2026-07-01T13:30", &berlin, false).unwrap();
        assert_eq!(local, Utc.with_ymd_and_hms(2026, 7, 1, 11, 30, 0).unwrap());
        let instant = parse_bound("from", "2026-07-01T13:30:00Z", &berlin, false).unwrap();
        assert_eq!(instant, Utc.with_ymd_and_hms(2026, 7, 1, 13, 30, 0).unwrap());
        // 02:30 on the spring-forward day does not exist in Berlin: the first instant after.
        let gap = parse_bound("from", "2026-03-29T02:30", &berlin, false).unwrap();
        assert_eq!(gap, Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
        let err = parse_bound("from", "next week", &berlin, false).unwrap_err();
        assert_eq!(err.field, "from");
    }

    #[test]
    fn absences_are_read_from_an_icalendar_file() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Holiday\\, Canaries\r\n\
                   DTSTART;VALUE=DATE:20261221\r\nDTEND;VALUE=DATE:20270104\r\nEND:VEVENT\r\n\
                   BEGIN:VEVENT\r\nSUMMARY:Dentist\r\nDTSTART;TZID=America/New_York:20261110T090000\r\n\
                   DTEND;TZID=America/New_York:20261110T1\r\n 10000\r\nEND:VEVENT\r\n\
                   BEGIN:VEVENT\r\nSTATUS:CANCELLED\r\nDTSTART:20261201T080000Z\r\nDTEND:20261201T090000Z\r\nEND:VEVENT\r\n\
                   BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261124\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let absences = parse_absences_ics(ics, &berlin).unwrap();
        assert_eq!(absences.len(), 3, "{absences:?}");
        assert_eq!(absences[0].reason.as_deref(), Some("Holiday, Canaries"));
        assert_eq!(
            absences[0].starts_at,
            Utc.with_ymd_and_hms(2026, 12, 20, 23, 0, 0).unwrap()
        );
        assert_eq!(absences[0].ends_at, Utc.with_ymd_and_hms(2027, 1, 3, 23, 0, 0).unwrap());
        // A folded line, in its own zone.
        assert_eq!(
            absences[1].starts_at,
            Utc.with_ymd_and_hms(2026, 11, 10, 14, 0, 0).unwrap()
        );
        assert_eq!(
            absences[1].ends_at,
            Utc.with_ymd_and_hms(2026, 11, 10, 16, 0, 0).unwrap()
        );
        // An all-day event without an end lasts its day.
        assert_eq!(absences[2].ends_at - absences[2].starts_at, TimeDelta::hours(24));

        let recurring = "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261221\nRRULE:FREQ=WEEKLY\nEND:VEVENT\n";
        let err = parse_absences_ics(recurring, &berlin).unwrap_err();
        assert_eq!(err.line, 3);
        let backwards = "BEGIN:VEVENT\nDTSTART:20261221T100000Z\nDTEND:20261221T090000Z\nEND:VEVENT\n";
        assert!(parse_absences_ics(backwards, &berlin).is_err());
    }

    proptest! {
        /// Whoever is away and whoever delegates to whom (cycles included): routing ends,
        /// never hands work to someone away, passes over only people who are away, and finds
        /// a present person whenever one is reachable along the delegates.
        #[test]
        fn routing_never_picks_an_absent_person_and_always_ends(
            away in prop::collection::vec(any::<bool>(), 6),
            delegates in prop::collection::vec(prop::option::of(0usize..6), 6),
            start in 0usize..6,
        ) {
            let names: Vec<String> = (0..6).map(|i| format!("p{i}@x.io")).collect();
            let mut people = People::new(&names.iter().map(String::as_str).collect::<Vec<_>>());
            for i in 0..6 {
                if away[i] {
                    people = people.away(&names[i], Some(t(10)), delegates[i].map(|d| names[d].as_str()));
                }
            }
            let routed = route(&people, &names[start], t(0));
            for p in &routed.passed_over {
                prop_assert!(people.away.contains_key(&p.person));
            }
            // Follow the delegates by hand to see whether someone present is reachable.
            let mut reachable = None;
            let mut i = start;
            for _ in 0..=MAX_DELEGATION_HOPS {
                if !away[i] { reachable = Some(names[i].clone()); break; }
                match delegates[i] { Some(d) => i = d, None => break }
            }
            match &routed.to {
                Some(to) => {
                    prop_assert!(!people.away.contains_key(to));
                    prop_assert_eq!(Some(to.clone()), reachable);
                }
                None => prop_assert_eq!(reachable, None),
            }
        }
    }
}
