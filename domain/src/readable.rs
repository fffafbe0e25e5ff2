//! Times as people read them: in their own zone with the zone named ("Tuesday 1 December,
//! 17:16 CET"), and relative to now where that helps ("in 2 h 10 m", "3 h ago"). Used by
//! messages and the UI alike.

use crate::sla::zones::Zone;
use chrono::{DateTime, Utc};

/// The zone named `name` (IANA), or UTC when there is none or it is unknown.
pub fn zone(name: Option<&str>) -> Zone {
    name.and_then(Zone::named).unwrap_or(Zone::UTC)
}

/// `Tuesday 1 December, 17:16 CET`; the year is added when it is not `now`'s.
pub fn local_time(at: DateTime<Utc>, zone: &Zone, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(zone);
    let format = if local.format("%Y").to_string() == now.with_timezone(zone).format("%Y").to_string() {
        "%A %-d %B, %H:%M %Z"
    } else {
        "%A %-d %B %Y, %H:%M %Z"
    };
    local.format(format).to_string()
}

/// `17:16 CET, 1 Dec`: short, for tables.
pub fn short_time(at: DateTime<Utc>, zone: &Zone) -> String {
    at.with_timezone(zone).format("%-d %b %H:%M %Z").to_string()
}

/// A length in words: `2 d 3 h`, `2 h 10 m`, `45 m`, `30 s` (two units at most).
pub fn length(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} m"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} m"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// `in 2 h 10 m`, `3 h ago`, or `now` within a minute.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    match seconds {
        -59..=59 => "now".into(),
        s if s > 0 => format!("in {}", length(s)),
        s => format!("{} ago", length(s)),
    }
}

/// `Tuesday 1 December, 17:16 CET — in 8 h`: a deadline as a message tells it.
pub fn deadline(at: DateTime<Utc>, zone: &Zone, now: DateTime<Utc>) -> String {
    deadline_for_all(at, zone, &[], now)
}

/// A deadline in the addressee's zone and, for the copies who live elsewhere, in theirs:
/// `Tuesday 1 December, 17:16 CET (1 Dec 11:16 EST) — in 8 h`. One mail has one text,
/// so every reader finds their own clock in it.
pub fn deadline_for_all(at: DateTime<Utc>, zone: &Zone, others: &[Zone], now: DateTime<Utc>) -> String {
    let own = short_time(at, zone);
    let mut elsewhere: Vec<String> = Vec::new();
    for other in others {
        let time = short_time(at, other);
        if time != own && !elsewhere.contains(&time) {
            elsewhere.push(time);
        }
    }
    let also = if elsewhere.is_empty() {
        String::new()
    } else {
        format!(" ({})", elsewhere.join(", "))
    };
    format!("{}{also} — {}", local_time(at, zone, now), relative(at, now))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap()
    }

    #[test]
    fn times_read_in_the_readers_zone_with_the_zone_named() {
        let now = utc(1, 8, 16);
        let berlin = zone(Some("Europe/Berlin"));
        assert_eq!(
            local_time(utc(1, 16, 16), &berlin, now),
            "Tuesday 1 December, 17:16 CET"
        );
        assert_eq!(
            deadline(utc(1, 16, 16), &berlin, now),
            "Tuesday 1 December, 17:16 CET — in 8 h"
        );
        assert_eq!(
            local_time(utc(1, 16, 16), &zone(None), now),
            "Tuesday 1 December, 16:16 UTC"
        );
        assert_eq!(zone(Some("Mars/Olympus")), Zone::UTC);
        let next_year = Utc.with_ymd_and_hms(2027, 1, 5, 9, 0, 0).unwrap();
        assert_eq!(
            local_time(next_year, &Zone::UTC, now),
            "Tuesday 5 January 2027, 09:00 UTC"
        );
        assert_eq!(short_time(utc(1, 16, 16), &berlin), "1 Dec 17:16 CET");
    }

    #[test]
    fn a_deadline_names_the_copies_zones_once_each() {
        let now = utc(1, 8, 16);
        let berlin = zone(Some("Europe/Berlin"));
        let paris = zone(Some("Europe/Paris"));
        let new_york = zone(Some("America/New_York"));
        assert_eq!(
            deadline_for_all(
                utc(1, 16, 16),
                &berlin,
                &[new_york.clone(), berlin.clone(), new_york, Zone::UTC],
                now
            ),
            "Tuesday 1 December, 17:16 CET (1 Dec 11:16 EST, 1 Dec 16:16 UTC) — in 8 h"
        );
        // Paris reads the same wall clock as Berlin: nothing to add.
        assert_eq!(
            deadline_for_all(utc(1, 16, 16), &berlin, &[paris], now),
            deadline(utc(1, 16, 16), &berlin, now)
        );
    }

    #[test]
    fn relative_times_use_two_units_at_most() {
        let now = utc(3, 12, 0);
        assert_eq!(relative(utc(3, 14, 10), now), "in 2 h 10 m");
        assert_eq!(relative(utc(3, 9, 0), now), "3 h ago");
        assert_eq!(relative(utc(3, 12, 0), now), "now");
        assert_eq!(relative(utc(5, 15, 30), now), "in 2 d 3 h");
        assert_eq!(length(45 * 60), "45 m");
        assert_eq!(length(30), "30 s");
        assert_eq!(length(48 * 3600), "2 d");
    }
}
