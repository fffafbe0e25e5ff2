//! Who wants to be told what, how and when: phone numbers, notification kinds, per-user
//! channel preferences, and quiet hours in the user's time zone. Pure: the engine asks
//! "is this instant inside their quiet hours, and when do they end?" and gets an answer
//! that holds across daylight-saving changes.
//!
//! Over 500 lines: half of it is its tests.

use std::collections::BTreeMap;
use std::fmt;

use crate::sla::zones::Zone;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A phone number in E.164 form (`+4915112345678`): `+`, then 8 to 15 digits, the first
/// not 0. Spaces, dots, dashes and parentheses in the input are dropped.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "+4915112345678"))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses and normalises a number; the error names the field `phone`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        let invalid = || {
            ValidationError::new(
                "phone",
                format!("{raw:?} is not an international number like +4915112345678 (E.164)"),
            )
        };
        let digits = compact.strip_prefix('+').ok_or_else(invalid)?;
        let ok =
            (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
        if ok {
            Ok(Self(compact))
        } else {
            Err(invalid())
        }
    }

    /// The number as text, `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> Self {
        value.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a notification to a person is about; preferences choose channels per kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The SLA warning to the assignee (and its repeats).
    Reminder,
    /// A workflow escalated to a new assignee (copies to the previous one and the initiator).
    Escalation,
    /// A workflow assigned to someone by a person (reassign, advance) or handed on
    /// because its assignee went away.
    Assignment,
    /// A workflow overdue at the top of its chain, told again at the policy's interval.
    Attention,
}

impl NotificationKind {
    /// Every kind.
    pub const ALL: [NotificationKind; 4] = [
        NotificationKind::Reminder,
        NotificationKind::Escalation,
        NotificationKind::Assignment,
        NotificationKind::Attention,
    ];

    /// The kind of an outbox notification by its topic; `None` for a topic no person is told about.
    pub fn from_topic(topic: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.topic() == topic)
    }

    /// The outbox topic of a message of this kind.
    pub fn topic(self) -> &'static str {
        match self {
            NotificationKind::Reminder => "workflow.reminder",
            NotificationKind::Escalation => "workflow.escalated",
            NotificationKind::Assignment => "workflow.assigned",
            NotificationKind::Attention => "workflow.needs_attention",
        }
    }

    /// The kind's name, as preferences spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Reminder => "reminder",
            NotificationKind::Escalation => "escalation",
            NotificationKind::Assignment => "assignment",
            NotificationKind::Attention => "attention",
        }
    }

    /// The kind in words, for a settings page.
    pub fn label(self) -> &'static str {
        match self {
            NotificationKind::Reminder => "Reminders before a deadline",
            NotificationKind::Escalation => "Workflows escalated to me",
            NotificationKind::Assignment => "Workflows assigned to me",
            NotificationKind::Attention => "Overdue at the top of a chain",
        }
    }

    /// Urgent kinds bypass quiet hours (unless configured otherwise) and are never digested.
    pub fn is_urgent(self) -> bool {
        matches!(self, NotificationKind::Escalation | NotificationKind::Attention)
    }
}

/// A channel a person can be reached on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalChannel {
    Email,
    Sms,
    InApp,
}

impl PersonalChannel {
    /// The channel's name, as the outbox rows and metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonalChannel::Email => "email",
            PersonalChannel::Sms => "sms",
            PersonalChannel::InApp => "in_app",
        }
    }
}

/// Quiet hours in wall-clock time of the user's zone, e.g. 22:00–07:00 (crossing midnight)
/// or 12:00–13:00. Start is inside, end is outside.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "QuietHoursText", into = "QuietHoursText")]
pub struct QuietHours {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "22:00"))]
    pub start: NaiveTime,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "07:00"))]
    pub end: NaiveTime,
}

/// The wire form of [`QuietHours`]: `"HH:MM"` strings.
#[derive(Serialize, Deserialize)]
struct QuietHoursText {
    start: String,
    end: String,
}

impl TryFrom<QuietHoursText> for QuietHours {
    type Error = ValidationError;
    fn try_from(t: QuietHoursText) -> Result<Self, Self::Error> {
        QuietHours::parse(&t.start, &t.end)
    }
}

impl From<QuietHours> for QuietHoursText {
    fn from(q: QuietHours) -> Self {
        let text = |t: NaiveTime| {
            let format = if t.second() == 0 { "%H:%M" } else { "%H:%M:%S" };
            t.format(format).to_string()
        };
        Self {
            start: text(q.start),
            end: text(q.end),
        }
    }
}

impl QuietHours {
    /// Parses `"HH:MM"` (or `"HH:MM:SS"`) bounds; they must differ (an empty or 24-hour
    /// quiet period is a mistake).
    pub fn parse(start: &str, end: &str) -> Result<Self, ValidationError> {
        let time = |field: &str, raw: &str| {
            let raw = raw.trim();
            NaiveTime::parse_from_str(raw, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M:%S"))
                .map_err(|_| ValidationError::new(format!("quiet_hours.{field}"), "must be HH:MM"))
        };
        let (start, end) = (time("start", start)?, time("end", end)?);
        if start == end {
            return Err(ValidationError::new("quiet_hours.end", "must differ from the start"));
        }
        Ok(Self { start, end })
    }

    /// Whether a wall-clock time lies inside the quiet hours.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// When the quiet hours that `at` lies in end, in zone `zone`; `None` when `at` is not
    /// inside them. The end is the first instant after `at` whose wall clock reads `end`;
    /// when `end` falls into a spring-forward gap, the first instant after the gap. A
    /// fall-back that turns the clock back before the start meanwhile does not end them.
    pub fn ends_after(&self, zone: &Zone, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(zone).naive_local();
        if !self.contains(local.time()) {
            return None;
        }
        let today = local.date();
        // The end is today's when the quiet period started yesterday evening (or today),
        // tomorrow's when it started this evening.
        let end_day = if local.time() < self.end {
            today
        } else {
            today.checked_add_days(Days::new(1))?
        };
        first_instant_at_or_after(zone, end_day, self.end, at)
    }
}

/// The first instant after `after` whose wall clock in `zone` reads `date time`, or the
/// first valid wall-clock time after it when it does not exist (a DST gap).
fn first_instant_at_or_after(
    zone: &Zone,
    date: NaiveDate,
    time: NaiveTime,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut wall = NaiveDateTime::new(date, time);
    // Gaps last at most a few hours and start on a whole minute: past the first failure,
    // step minute by minute to the first wall time that exists.
    for _ in 0..=(4 * 60) {
        let readings = zone.from_local_datetime(&wall);
        let (Some(earliest), Some(latest)) = (readings.clone().earliest(), readings.latest()) else {
            wall = wall.with_second(0)?.with_nanosecond(0)? + chrono::TimeDelta::minutes(1);
            continue;
        };
        // In a fall-back overlap the wall time reads twice: the first reading after `after`.
        return [earliest, latest]
            .into_iter()
            .map(|d| d.with_timezone(&Utc))
            .find(|d| *d > after);
    }
    None
}

/// A user's notification settings: channels per kind, time zone and quiet hours.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationPreferences {
    /// Channels per kind, e.g. `{"reminder": ["in_app"], "escalation": ["email", "sms", "in_app"]}`.
    /// A kind left out gets the defaults (e-mail and in-app, where configured); an empty list
    /// turns that kind off.
    #[serde(default)]
    pub channels: BTreeMap<NotificationKind, Vec<PersonalChannel>>,
    /// IANA time zone of the quiet hours (UTC when unset).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Non-urgent e-mail and SMS are held during these hours and delivered when they end.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
}

impl NotificationPreferences {
    /// Checks the time zone and removes duplicate channels.
    pub fn validated(mut self) -> Result<Self, ValidationError> {
        if let Some(zone) = &self.time_zone {
            Zone::named(zone)
                .ok_or_else(|| ValidationError::new("time_zone", format!("unknown IANA time zone {zone:?}")))?;
        }
        for list in self.channels.values_mut() {
            let mut seen = Vec::with_capacity(list.len());
            list.retain(|c| {
                let new = !seen.contains(c);
                seen.push(*c);
                new
            });
        }
        Ok(self)
    }

    /// The channels this user chose for `kind`, or `None` to use the defaults.
    pub fn channels_for(&self, kind: NotificationKind) -> Option<&[PersonalChannel]> {
        self.channels.get(&kind).map(Vec::as_slice)
    }

    /// The user's zone (UTC when unset or, for rows stored before validation, unknown).
    pub fn zone(&self) -> Zone {
        self.time_zone.as_deref().and_then(Zone::named).unwrap_or(Zone::UTC)
    }

    /// When delivery to this user must wait until, if `at` is inside their quiet hours.
    pub fn quiet_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.quiet_hours?.ends_after(&self.zone(), at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn quiet(start: &str, end: &str) -> QuietHours {
        QuietHours::parse(start, end).unwrap()
    }

    #[test]
    fn phones_are_normalised_and_validated() {
        assert_eq!(
            Phone::parse(" +49 (151) 123-456.78 ").unwrap().as_str(),
            "+4915112345678"
        );
        assert_eq!(Phone::parse("+12025550123").unwrap().as_str(), "+12025550123");
        for bad in [
            "",
            "015112345678",
            "+0151123456",
            "+49151",
            "+4915112345678901",
            "+49 151 ABC",
            "++4915112345",
        ] {
            assert_eq!(Phone::parse(bad).unwrap_err().field, "phone", "{bad:?}");
        }
        let json: Phone = serde_json::from_str("\"+44 20 7946 0958\"").unwrap();
        assert_eq!(json.as_str(), "+442079460958");
        assert!(serde_json::from_str::<Phone>("\"12345\"").is_err());
    }

    #[test]
    fn kinds_come_from_topics() {
        assert_eq!(
            NotificationKind::from_topic("workflow.reminder"),
            Some(NotificationKind::Reminder)
        );
        assert_eq!(
            NotificationKind::from_topic("workflow.escalated"),
            Some(NotificationKind::Escalation)
        );
        assert_eq!(
            NotificationKind::from_topic("workflow.assigned"),
            Some(NotificationKind::Assignment)
        );
        assert_eq!(NotificationKind::from_topic("workflow.completed"), None);
        assert!(NotificationKind::Escalation.is_urgent());
        assert!(!NotificationKind::Reminder.is_urgent());
    }

    #[test]
    fn preferences_parse_validate_and_default() {
        let p: NotificationPreferences = serde_json::from_str(
            r#"{"channels": {"reminder": ["in_app", "in_app"], "escalation": ["email", "sms", "in_app"]},
                "time_zone": "Europe/Berlin", "quiet_hours": {"start": "22:00", "end": "07:00"}}"#,
        )
        .unwrap();
        let p = p.validated().unwrap();
        assert_eq!(
            p.channels_for(NotificationKind::Reminder),
            Some(&[PersonalChannel::InApp][..])
        );
        assert_eq!(p.channels_for(NotificationKind::Assignment), None);
        assert_eq!(p.zone(), Zone::named("Europe/Berlin").unwrap());
        let bad = NotificationPreferences {
            time_zone: Some("Mars/Base".into()),
            ..Default::default()
        };
        assert_eq!(bad.validated().unwrap_err().field, "time_zone");
        assert!(serde_json::from_str::<NotificationPreferences>(r#"{"channels": {"reminder": ["fax"]}}"#).is_err());
        assert!(
            serde_json::from_str::<NotificationPreferences>(r#"{"quiet_hours": {"start": "7", "end": "8:00"}}"#)
                .is_err()
        );
        assert_eq!(
            QuietHours::parse("22:00", "22:00").unwrap_err().field,
            "quiet_hours.end"
        );
        assert_eq!(
            QuietHours::parse("25:00", "07:00").unwrap_err().field,
            "quiet_hours.start"
        );
        // Round trip keeps the HH:MM form.
        let back = serde_json::to_value(p.quiet_hours.unwrap()).unwrap();
        assert_eq!(back, serde_json::json!({"start": "22:00", "end": "07:00"}));
    }

    #[test]
    fn overnight_quiet_hours_in_a_zone() {
        let q = quiet("22:00", "07:00");
        let berlin = Zone::named("Europe/Berlin").unwrap();
        // 2026-01-14 21:59 UTC is 22:59 in Berlin (CET, UTC+1): quiet until 07:00 CET = 06:00 UTC.
        assert_eq!(
            q.ends_after(&berlin, utc(2026, 1, 14, 21, 59)),
            Some(utc(2026, 1, 15, 6, 0))
        );
        // After midnight: ends the same morning.
        assert_eq!(
            q.ends_after(&berlin, utc(2026, 1, 15, 2, 0)),
            Some(utc(2026, 1, 15, 6, 0))
        );
        // The start is inside, the end outside.
        assert_eq!(
            q.ends_after(&berlin, utc(2026, 1, 14, 21, 0)),
            Some(utc(2026, 1, 15, 6, 0))
        );
        assert_eq!(q.ends_after(&berlin, utc(2026, 1, 15, 6, 0)), None);
        assert_eq!(q.ends_after(&berlin, utc(2026, 1, 15, 12, 0)), None);
        // The same instant is daytime in Tokyo.
        assert_eq!(
            q.ends_after(&Zone::named("Asia/Tokyo").unwrap(), utc(2026, 1, 15, 2, 0)),
            None
        );
    }

    #[test]
    fn daytime_quiet_hours() {
        let q = quiet("12:00", "13:30");
        assert_eq!(
            q.ends_after(&Zone::UTC, utc(2026, 5, 1, 12, 10)),
            Some(utc(2026, 5, 1, 13, 30))
        );
        assert_eq!(q.ends_after(&Zone::UTC, utc(2026, 5, 1, 11, 59)), None);
        assert_eq!(q.ends_after(&Zone::UTC, utc(2026, 5, 1, 13, 30)), None);
    }

    #[test]
    fn quiet_hours_end_at_the_local_time_across_dst() {
        let q = quiet("22:00", "07:00");
        let ny = Zone::named("America/New_York").unwrap();
        // Night of the spring-forward (2026-03-08): 22:00 EST is 03:00 UTC; 07:00 EDT is 11:00 UTC.
        assert_eq!(q.ends_after(&ny, utc(2026, 3, 8, 4, 0)), Some(utc(2026, 3, 8, 11, 0)));
        // Night of the fall-back (2026-11-01): 07:00 EST is 12:00 UTC.
        assert_eq!(q.ends_after(&ny, utc(2026, 11, 1, 4, 0)), Some(utc(2026, 11, 1, 12, 0)));
    }

    #[test]
    fn an_end_inside_a_spring_forward_gap_is_the_end_of_the_gap() {
        // Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        let q = quiet("22:00", "02:30");
        let berlin = Zone::named("Europe/Berlin").unwrap();
        // 23:00 CET on the 28th (22:00 UTC): quiet until 03:00 CEST = 01:00 UTC.
        assert_eq!(
            q.ends_after(&berlin, utc(2026, 3, 28, 22, 0)),
            Some(utc(2026, 3, 29, 1, 0))
        );
    }

    #[test]
    fn an_end_inside_a_fall_back_overlap_is_the_next_reading() {
        // Berlin 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice
        // (00:30 UTC and 01:30 UTC).
        let q = quiet("22:00", "02:30");
        let berlin = Zone::named("Europe/Berlin").unwrap();
        // 02:10 CEST (00:10 UTC): ends at the first 02:30.
        assert_eq!(
            q.ends_after(&berlin, utc(2026, 10, 25, 0, 10)),
            Some(utc(2026, 10, 25, 0, 30))
        );
        // 02:40 CEST (00:40 UTC): outside.
        assert_eq!(q.ends_after(&berlin, utc(2026, 10, 25, 0, 40)), None);
        // 02:10 CET (01:10 UTC), the wall clock's second pass: quiet again until the second 02:30.
        assert_eq!(
            q.ends_after(&berlin, utc(2026, 10, 25, 1, 10)),
            Some(utc(2026, 10, 25, 1, 30))
        );
    }

    #[test]
    fn half_hour_shifts_lord_howe() {
        // Lord Howe springs forward 30 minutes at 02:00 local on 2026-10-04 (02:00 → 02:30).
        let q = quiet("23:00", "02:15");
        let lh = Zone::named("Australia/Lord_Howe").unwrap();
        let at = lh.with_ymd_and_hms(2026, 10, 4, 0, 0, 0).unwrap().with_timezone(&Utc);
        let end = q.ends_after(&lh, at).unwrap();
        assert_eq!(end.with_timezone(&lh).format("%H:%M").to_string(), "02:30");
    }

    #[test]
    fn preferences_without_quiet_hours_never_hold() {
        let p = NotificationPreferences::default();
        assert_eq!(p.quiet_until(utc(2026, 1, 1, 3, 0)), None);
        let p = NotificationPreferences {
            quiet_hours: Some(quiet("22:00", "07:00")),
            ..Default::default()
        };
        // No zone: UTC.
        assert_eq!(p.quiet_until(utc(2026, 1, 1, 3, 0)), Some(utc(2026, 1, 1, 7, 0)));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const ZONES: [&str; 5] = [
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "America/Sao_Paulo",
            "Australia/Lord_Howe",
        ];

        /// The property below for one case.
        fn check(zone: &Zone, start_minute: u32, length: u32, at: DateTime<Utc>) -> Result<(), TestCaseError> {
            let t = |m: u32| NaiveTime::from_hms_opt(m / 60 % 24, m % 60, 0).unwrap();
            let q = QuietHours {
                start: t(start_minute),
                end: t((start_minute + length) % 1440),
            };
            let inside = |i: DateTime<Utc>| q.contains(i.with_timezone(zone).time());
            match q.ends_after(zone, at) {
                None => prop_assert!(!inside(at)),
                Some(end) => {
                    prop_assert!(inside(at));
                    prop_assert!(end > at && end - at <= chrono::TimeDelta::hours(27), "{at} {end}");
                    // Outside, unless a spring-forward gap swallowed the whole time between
                    // the end and the next start (then both fall on the gap's end).
                    let wall = |i: DateTime<Utc>| i.with_timezone(zone).naive_local();
                    let jumped = wall(end) - wall(end - chrono::TimeDelta::seconds(1)) != chrono::TimeDelta::seconds(1);
                    prop_assert!(!inside(end) || jumped, "{at} {end}");
                    // Held throughout — the wall clock may only step outside when a fall-back
                    // turns it back before the start (the hold still lasts to the end reading).
                    let offset = |i: DateTime<Utc>| wall(i) - i.naive_utc();
                    let mut i = at;
                    while i + chrono::TimeDelta::minutes(1) < end {
                        i += chrono::TimeDelta::minutes(1);
                        prop_assert!(inside(i) || offset(i) < offset(at), "{at}: left at {i} before {end}");
                    }
                }
            }
            Ok(())
        }

        /// DST changes of 2026: zone, UTC instant, local minute of the day it happens at.
        const TRANSITIONS: [(usize, i64, u32); 6] = [
            (1, 1_774_746_000, 120), // Berlin, 02:00 → 03:00
            (1, 1_792_890_000, 180), // Berlin, 03:00 → 02:00
            (2, 1_772_953_200, 120), // New York, 02:00 → 03:00
            (2, 1_793_512_800, 120), // New York, 02:00 → 01:00
            (4, 1_775_314_800, 120), // Lord Howe, 02:00 → 01:30
            (4, 1_791_041_400, 120), // Lord Howe, 02:00 → 02:30
        ];

        proptest! {
            // Many cases: the interesting ones (an end inside a gap or an overlap, an
            // instant in the overlap's second pass) are a small share of each draw.
            #![proptest_config(ProptestConfig::with_cases(4000))]

            /// The same around every DST change: quiet hours ending within 2 h of the
            /// change's wall-clock time, instants within 3 h of it (gaps and overlaps).
            #[test]
            fn quiet_hours_around_dst_changes(
                transition in 0usize..TRANSITIONS.len(),
                end_shift in 0u32..240,
                length in 1u32..1440,
                offset in -10_800i64..10_800,
            ) {
                let (zone, instant, local) = TRANSITIONS[transition];
                let end_minute = local + 1440 - 120 + end_shift;
                let start_minute = (end_minute + 1440 - length) % 1440;
                let at = DateTime::from_timestamp(instant + offset, 0).unwrap();
                check(&Zone::named(ZONES[zone]).unwrap(), start_minute, length, at)?;
            }

            /// Whatever the zone, quiet hours and instant (2020-2030, DST changes included):
            /// an instant outside gets no end; an instant inside gets an end after it, at
            /// most a day later, outside the quiet hours, and every minute before the end
            /// is still inside (the hold never ends early).
            #[test]
            fn the_end_of_quiet_hours_is_the_first_instant_outside(
                zone in 0usize..ZONES.len(),
                start_minute in 0u32..1440,
                length in 1u32..1440,
                at_seconds in 1_577_836_800i64..1_893_456_000,
            ) {
                let at = DateTime::from_timestamp(at_seconds, 0).unwrap();
                check(&Zone::named(ZONES[zone]).unwrap(), start_minute, length, at)?;
            }
        }
    }
}
