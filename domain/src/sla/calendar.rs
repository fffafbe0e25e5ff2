//! Business calendars: when an SLA clock counts.
//!
//! A [`Calendar`] is an IANA time zone, working windows per weekday as wall-clock times in
//! that zone, and holidays. Windows are wall-clock on purpose: "09:00–17:00 in Berlin" stays
//! 09:00–17:00 across daylight-saving changes, so its UTC position moves with the offset.
//! The conversion to UTC is exact per instant (see the `walk` module): a window that lies in a
//! spring-forward gap loses the missing local times, and a window that contains a fall-back
//! overlap counts the repeated local times twice, because twice that much real time passes.
//!
//! [`Calendar::always`] (24/7, the default) short-circuits every computation to plain
//! arithmetic on instants, so SLA clocks without a business calendar behave and cost exactly
//! as before calendars existed.
//!
//! Over 500 lines: a third is its tests; the rest is one algorithm (windows in a zone, around holidays and offset changes) that reads best in one place.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use super::zones::Zone;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::ics::{self, IcsError};
use super::walk::{Interval, LocalSpans, Select};
use crate::ValidationError;

/// How far ahead working time is searched for before giving up (about 100 years).
///
/// Validation guarantees every calendar has working time eventually, but a sparse calendar
/// with a huge target could still need centuries; past this horizon the search stops so that
/// evaluating a clock always terminates quickly.
pub const SEARCH_HORIZON_DAYS: i64 = 36_525;

/// The longest a holiday name may be.
const MAX_NAME_CHARS: usize = 200;

/// Weekday field names, Monday first (the index is `Weekday::num_days_from_monday`).
const DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The end of a working window: a wall-clock time, or the end of the day (24:00).
///
/// `NaiveTime` stops at 23:59:59.999…, so the end of the day is its own variant rather than a
/// time that is almost but not quite midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowEnd {
    /// A wall-clock time on the window's own day.
    At(NaiveTime),
    /// 24:00, i.e. the start of the next day.
    EndOfDay,
}

/// One working window on a weekday, `[start, end)` in wall-clock time of the calendar's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "WindowRepr", into = "WindowRepr")]
pub struct Window {
    /// First working instant, wall clock.
    pub start: NaiveTime,
    /// First non-working instant after the start, wall clock (or 24:00).
    pub end: WindowEnd,
}

impl Window {
    /// A window from `start` to `end` (validated when it becomes part of a [`Calendar`]).
    pub fn new(start: NaiveTime, end: WindowEnd) -> Self {
        Self { start, end }
    }

    /// The whole day, 00:00–24:00.
    pub const fn all_day() -> Self {
        Self {
            start: NaiveTime::MIN,
            end: WindowEnd::EndOfDay,
        }
    }

    /// Parses `"HH:MM"` / `"HH:MM:SS"` bounds; `end` may be `"24:00"`.
    pub fn parse(start: &str, end: &str) -> Result<Self, ValidationError> {
        let window = Self {
            start: parse_time(start).ok_or_else(|| ValidationError::new("start", "must be HH:MM or HH:MM:SS"))?,
            end: parse_end(end).ok_or_else(|| ValidationError::new("end", "must be HH:MM, HH:MM:SS or 24:00"))?,
        };
        Ok(window)
    }

    /// Start as an offset from midnight.
    pub(crate) fn start_offset(&self) -> TimeDelta {
        self.start - NaiveTime::MIN
    }

    /// End as an offset from midnight (24 h for the end of the day).
    pub(crate) fn end_offset(&self) -> TimeDelta {
        match self.end {
            WindowEnd::At(t) => t - NaiveTime::MIN,
            WindowEnd::EndOfDay => TimeDelta::days(1),
        }
    }

    /// The window's local start on `day`.
    pub(crate) fn start_on(&self, day: NaiveDate) -> NaiveDateTime {
        day.and_time(self.start)
    }

    /// The window's local end on `day` (midnight of the next day for 24:00).
    pub(crate) fn end_on(&self, day: NaiveDate) -> NaiveDateTime {
        day.and_time(NaiveTime::MIN) + self.end_offset()
    }
}

/// Windows travel as `{"start": "09:00", "end": "17:30"}`; `"24:00"` marks the end of the day.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowRepr {
    start: String,
    end: String,
}

impl From<Window> for WindowRepr {
    fn from(w: Window) -> Self {
        Self {
            start: format_time(w.start),
            end: match w.end {
                WindowEnd::At(t) => format_time(t),
                WindowEnd::EndOfDay => "24:00".to_string(),
            },
        }
    }
}

impl TryFrom<WindowRepr> for Window {
    type Error = ValidationError;

    fn try_from(r: WindowRepr) -> Result<Self, Self::Error> {
        Window::parse(&r.start, &r.end)
    }
}

fn format_time(t: NaiveTime) -> String {
    match (t.second(), t.nanosecond()) {
        (0, 0) => t.format("%H:%M").to_string(),
        (_, 0) => t.format("%H:%M:%S").to_string(),
        _ => t.format("%H:%M:%S%.f").to_string(),
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S%.f"))
        .ok()
}

fn parse_end(s: &str) -> Option<WindowEnd> {
    match s.trim() {
        "24:00" | "24:00:00" => Some(WindowEnd::EndOfDay),
        other => parse_time(other).map(WindowEnd::At),
    }
}

/// Working windows per weekday; a day without windows is not worked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Week {
    pub monday: Vec<Window>,
    pub tuesday: Vec<Window>,
    pub wednesday: Vec<Window>,
    pub thursday: Vec<Window>,
    pub friday: Vec<Window>,
    pub saturday: Vec<Window>,
    pub sunday: Vec<Window>,
}

impl Week {
    /// The same windows on all seven days.
    pub fn every_day(windows: &[Window]) -> Self {
        let mut week = Self::default();
        for day in 0..7 {
            *week.day_mut(day) = windows.to_vec();
        }
        week
    }

    /// The same windows Monday to Friday, nothing at the weekend.
    pub fn weekdays(windows: &[Window]) -> Self {
        let mut week = Self::default();
        for day in 0..5 {
            *week.day_mut(day) = windows.to_vec();
        }
        week
    }

    /// These windows on `day` instead of what it had.
    pub fn with(mut self, day: Weekday, windows: &[Window]) -> Self {
        *self.day_mut(day.num_days_from_monday() as usize) = windows.to_vec();
        self
    }

    /// The windows on `day`.
    pub fn on(&self, day: Weekday) -> &[Window] {
        self.day(day.num_days_from_monday() as usize)
    }

    fn day(&self, index: usize) -> &Vec<Window> {
        match index {
            0 => &self.monday,
            1 => &self.tuesday,
            2 => &self.wednesday,
            3 => &self.thursday,
            4 => &self.friday,
            5 => &self.saturday,
            _ => &self.sunday,
        }
    }

    fn day_mut(&mut self, index: usize) -> &mut Vec<Window> {
        match index {
            0 => &mut self.monday,
            1 => &mut self.tuesday,
            2 => &mut self.wednesday,
            3 => &mut self.thursday,
            4 => &mut self.friday,
            5 => &mut self.saturday,
            _ => &mut self.sunday,
        }
    }
}

/// A day without working time, in the calendar's zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Holiday {
    /// One date.
    Date {
        /// The local date.
        date: NaiveDate,
        /// What the holiday is called, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// The same month and day every year (29 February only in leap years).
    Yearly {
        /// 1–12.
        month: u32,
        /// Day of the month.
        day: u32,
        /// The first year it falls in (an iCalendar rule's `DTSTART`); every year when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<i32>,
        /// What the holiday is called, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

impl Holiday {
    /// A holiday on one date.
    pub fn on(date: NaiveDate, name: Option<&str>) -> Self {
        Holiday::Date {
            date,
            name: name.map(str::to_string),
        }
    }

    /// A holiday every year on `month`/`day`.
    pub fn yearly(month: u32, day: u32, name: Option<&str>) -> Self {
        Holiday::Yearly {
            month,
            day,
            since: None,
            name: name.map(str::to_string),
        }
    }

    /// A holiday every year on the month and day of `first`, from `first` on.
    pub fn yearly_from(first: NaiveDate, name: Option<&str>) -> Self {
        Holiday::Yearly {
            month: first.month(),
            day: first.day(),
            since: Some(first.year()),
            name: name.map(str::to_string),
        }
    }

    /// The holiday's name, when it has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Holiday::Date { name, .. } | Holiday::Yearly { name, .. } => name.as_deref(),
        }
    }

    /// Whether the holiday falls on `date`.
    pub fn falls_on(&self, date: NaiveDate) -> bool {
        match *self {
            Holiday::Date { date: on, .. } => on == date,
            Holiday::Yearly { month, day, since, .. } => {
                (month, day) == (date.month(), date.day()) && since.is_none_or(|first| date.year() >= first)
            }
        }
    }

    /// The sort and lookup key: yearly holidays first, by month and day, then dates.
    fn key(&self) -> HolidayKey {
        match *self {
            Holiday::Yearly { month, day, .. } => HolidayKey::Yearly(month, day),
            Holiday::Date { date, .. } => HolidayKey::Date(date),
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if let Holiday::Yearly { since: Some(year), .. } = *self {
            if !(1..=9999).contains(&year) {
                return Err(ValidationError::new("since", "must be a year between 1 and 9999"));
            }
        }
        if let Holiday::Yearly { month, day, .. } = *self {
            if !(1..=12).contains(&month) {
                return Err(ValidationError::new("month", "must be between 1 and 12"));
            }
            // 2000 is a leap year, so 29 February is accepted; it applies in leap years only.
            if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
                return Err(ValidationError::new("day", "is not a day of that month"));
            }
        }
        if let Some(name) = self.name() {
            if name.chars().count() > MAX_NAME_CHARS {
                return Err(ValidationError::new(
                    "name",
                    format!("must be at most {MAX_NAME_CHARS} characters"),
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum HolidayKey {
    Yearly(u32, u32),
    Date(NaiveDate),
}

/// When an SLA clock counts: working windows per weekday in a time zone, minus holidays.
///
/// Always valid: built by [`Calendar::new`] or deserialised through the same validation.
/// Serialised as `{"time_zone": "Europe/Berlin", "windows": {"monday": [{"start": "09:00",
/// "end": "17:00"}], …}, "holidays": [{"kind": "yearly", "month": 12, "day": 25}, …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarRepr", into = "CalendarRepr")]
pub struct Calendar {
    time_zone: Zone,
    /// Sorted by start within each day.
    windows: Week,
    /// Sorted by [`HolidayKey`], one entry per key (the first name given wins).
    holidays: Vec<Holiday>,
    /// Every instant is working time: arithmetic skips the calendar entirely.
    around_the_clock: bool,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarRepr {
    time_zone: String,
    windows: Week,
    #[serde(default)]
    holidays: Vec<Holiday>,
}

impl From<Calendar> for CalendarRepr {
    fn from(c: Calendar) -> Self {
        Self {
            time_zone: c.time_zone.name().to_string(),
            windows: c.windows,
            holidays: c.holidays,
        }
    }
}

impl TryFrom<CalendarRepr> for Calendar {
    type Error = ValidationError;

    fn try_from(r: CalendarRepr) -> Result<Self, Self::Error> {
        Calendar::new(&r.time_zone, r.windows, r.holidays)
    }
}

impl Default for Calendar {
    fn default() -> Self {
        Self::always()
    }
}

impl Calendar {
    /// 24/7 in UTC without holidays: every instant counts (the default).
    pub fn always() -> Self {
        Self {
            time_zone: Zone::UTC,
            windows: Week::every_day(&[Window::all_day()]),
            holidays: Vec::new(),
            around_the_clock: true,
        }
    }

    /// The shared 24/7 calendar, so terms without a calendar cost one reference count.
    pub fn shared_always() -> Arc<Calendar> {
        static ALWAYS: OnceLock<Arc<Calendar>> = OnceLock::new();
        ALWAYS.get_or_init(|| Arc::new(Calendar::always())).clone()
    }

    /// A validated calendar in the IANA zone `time_zone` (e.g. `"Europe/Berlin"`).
    ///
    /// Windows may come in any order; they must end after they start and not overlap.
    /// The week needs at least one window, and yearly holidays may not cover every day of
    /// the year, so that working time always comes eventually.
    pub fn new(time_zone: &str, windows: Week, holidays: Vec<Holiday>) -> Result<Self, ValidationError> {
        let time_zone = Zone::named(time_zone)
            .ok_or_else(|| ValidationError::new("time_zone", format!("unknown IANA time zone {time_zone:?}")))?;
        let windows = validate_week(windows)?;
        let holidays = validate_holidays(holidays)?;
        let around_the_clock = holidays.is_empty() && (0..7).all(|d| covers_whole_day(windows.day(d)));
        Ok(Self {
            time_zone,
            windows,
            holidays,
            around_the_clock,
        })
    }

    /// This calendar with `more` holidays added (validated like [`Calendar::new`]).
    pub fn with_holidays(self, more: impl IntoIterator<Item = Holiday>) -> Result<Self, ValidationError> {
        let mut holidays = self.holidays;
        holidays.extend(more);
        Self::new(self.time_zone.name(), self.windows, holidays)
    }

    /// Reads the holidays of an iCalendar (`.ics`) file: all-day `VEVENT`s, optionally
    /// `RRULE:FREQ=YEARLY`. Errors name the (1-based) line.
    pub fn parse_ics(text: &str) -> Result<Vec<Holiday>, IcsError> {
        ics::parse(text)
    }

    /// The calendar's time zone.
    pub fn time_zone(&self) -> &Zone {
        &self.time_zone
    }

    /// The working windows per weekday, each day sorted by start.
    pub fn windows(&self) -> &Week {
        &self.windows
    }

    /// The holidays, yearly ones first, then single dates, each in calendar order.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// Whether every instant is working time (no per-day computation is needed then).
    pub fn is_always(&self) -> bool {
        self.around_the_clock
    }

    /// The holiday on local `date`, if any (a single-date holiday wins over a yearly one).
    pub fn holiday_on(&self, date: NaiveDate) -> Option<&Holiday> {
        let find = |key: HolidayKey| {
            self.holidays
                .binary_search_by(|h| h.key().cmp(&key))
                .ok()
                .map(|i| &self.holidays[i])
        };
        find(HolidayKey::Date(date))
            .or_else(|| find(HolidayKey::Yearly(date.month(), date.day())))
            .filter(|h| h.falls_on(date))
    }

    /// The local wall-clock windows that `select` asks for on `date`.
    pub(crate) fn local_windows(&self, date: NaiveDate, select: Select) -> &[Window] {
        const WHOLE_DAY: &[Window] = &[Window::all_day()];
        let holiday = self.holiday_on(date).is_some();
        match select {
            Select::Working if holiday => &[],
            Select::Working => self.windows.on(date.weekday()),
            Select::Holidays if holiday => WHOLE_DAY,
            Select::Holidays => &[],
        }
    }

    /// Working time from `from` on, in order, lazily; the last interval may be open-ended.
    pub(crate) fn working_from(&self, from: DateTime<Utc>) -> WorkingFrom<'_> {
        if self.around_the_clock {
            WorkingFrom::Always(Some((from, None)))
        } else {
            WorkingFrom::Walk(LocalSpans::new(self, Select::Working, from, horizon(from)))
        }
    }

    /// The UTC intervals of working time within `[from, to)`, in order, touching ones merged.
    pub fn working_intervals(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
        if to <= from {
            return out;
        }
        for (start, end) in self.working_from(from) {
            if start >= to {
                break;
            }
            let end = end.map_or(to, |e| e.min(to));
            match out.last_mut() {
                Some(last) if last.1 == start => last.1 = end,
                _ => out.push((start, end)),
            }
            if end >= to {
                break;
            }
        }
        out
    }

    /// The UTC spans of the local holiday dates within `[from, to)`, with their holidays.
    pub(crate) fn holiday_spans(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>, &Holiday)> {
        if self.holidays.is_empty() || to <= from {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (start, end) in LocalSpans::new(self, Select::Holidays, from, to) {
            // The span's own local date: the holiday it belongs to.
            let date = self.local_date(start);
            if let Some(h) = self.holiday_on(date) {
                out.push((start, end.min(to), h));
            }
        }
        out
    }

    /// The local date of `at` in the calendar's zone.
    pub(crate) fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// The instant at which `amount` of working time after `from` has passed.
    ///
    /// For a positive amount this is the end of that working time, never the start of a
    /// later window (8 h from Monday 09:00 is Monday 17:00, not Tuesday 09:00). A zero or
    /// negative amount gives `from`. Past [`SEARCH_HORIZON_DAYS`] the search stops there.
    pub fn add_working_time(&self, from: DateTime<Utc>, amount: TimeDelta) -> DateTime<Utc> {
        if amount <= TimeDelta::zero() {
            return from;
        }
        let mut left = amount;
        let mut last = from;
        for (start, end) in self.working_from(from) {
            match end {
                Some(end) if end - start < left => {
                    left -= end - start;
                    last = end;
                }
                _ => return start + left,
            }
        }
        last.max(horizon(from))
    }

    /// Working time within `[from, to)`; zero when `to <= from`.
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        if self.around_the_clock {
            return to - from;
        }
        let mut total = TimeDelta::zero();
        for (start, end) in self.working_from(from) {
            if start >= to {
                break;
            }
            let end = end.map_or(to, |e| e.min(to));
            total += end - start;
            if end >= to {
                break;
            }
        }
        total
    }

    /// Whether `at` is working time.
    pub fn is_working_at(&self, at: DateTime<Utc>) -> bool {
        self.working_from(at).next().is_some_and(|(start, _)| start == at)
    }

    /// Forces the per-day path even for 24/7 calendars, to check it against the shortcut.
    #[cfg(test)]
    pub(crate) fn without_shortcut(mut self) -> Self {
        self.around_the_clock = false;
        self
    }
}

/// Where the search for working time after `from` stops.
pub(crate) fn horizon(from: DateTime<Utc>) -> DateTime<Utc> {
    from.checked_add_signed(TimeDelta::days(SEARCH_HORIZON_DAYS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Working time from an instant on: one open interval for 24/7, else the per-day walk.
pub(crate) enum WorkingFrom<'a> {
    Always(Option<Interval>),
    Walk(LocalSpans<'a>),
}

impl Iterator for WorkingFrom<'_> {
    type Item = Interval;

    fn next(&mut self) -> Option<Interval> {
        match self {
            WorkingFrom::Always(once) => once.take(),
            WorkingFrom::Walk(spans) => spans.next().map(|(a, b)| (a, Some(b))),
        }
    }
}

fn validate_week(mut week: Week) -> Result<Week, ValidationError> {
    let mut any = false;
    for (index, name) in DAY_NAMES.iter().enumerate() {
        let windows = week.day_mut(index);
        for (i, w) in windows.iter().enumerate() {
            let field = format!("windows.{name}[{i}]");
            let leap = |t: NaiveTime| t.nanosecond() >= 1_000_000_000;
            if leap(w.start) || matches!(w.end, WindowEnd::At(t) if leap(t)) {
                return Err(ValidationError::new(
                    field,
                    "a leap second is not a wall-clock boundary",
                ));
            }
            if w.end_offset() <= w.start_offset() {
                return Err(ValidationError::new(
                    field,
                    "must end after it starts (24:00 ends a window at midnight; split windows that run past it)",
                ));
            }
            if let Some(j) = windows[..i].iter().position(|o| overlaps(o, w)) {
                return Err(ValidationError::new(field, format!("overlaps windows.{name}[{j}]")));
            }
        }
        windows.sort_by_key(Window::start_offset);
        any |= !windows.is_empty();
    }
    if !any {
        return Err(ValidationError::new(
            "windows",
            "needs at least one working window in the week",
        ));
    }
    Ok(week)
}

fn overlaps(a: &Window, b: &Window) -> bool {
    a.start_offset() < b.end_offset() && b.start_offset() < a.end_offset()
}

/// Whether sorted, non-overlapping windows leave no gap in 00:00–24:00.
fn covers_whole_day(windows: &[Window]) -> bool {
    let mut covered = TimeDelta::zero();
    for w in windows {
        if w.start_offset() != covered {
            return false;
        }
        covered = w.end_offset();
    }
    covered == TimeDelta::days(1)
}

fn validate_holidays(holidays: Vec<Holiday>) -> Result<Vec<Holiday>, ValidationError> {
    for (i, h) in holidays.iter().enumerate() {
        h.validate().map_err(|e| e.within(&format!("holidays[{i}].")))?;
    }
    // One holiday per key; of yearly ones on the same day, the one that started first
    // (an unbounded one before any with a first year), so the day is never lost.
    let mut holidays = holidays;
    holidays.sort_by_key(|h| {
        (
            h.key(),
            match h {
                Holiday::Yearly { since, .. } => *since,
                Holiday::Date { .. } => None,
            },
        )
    });
    let mut seen = BTreeSet::new();
    let out: Vec<Holiday> = holidays.into_iter().filter(|h| seen.insert(h.key())).collect();
    let yearly_days = out.iter().filter(|h| matches!(h, Holiday::Yearly { .. })).count();
    if yearly_days >= 366 {
        return Err(ValidationError::new("holidays", "every day of the year is a holiday"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn w(start: &str, end: &str) -> Window {
        Window::parse(start, end).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn office() -> Calendar {
        Calendar::new(
            "UTC",
            Week::weekdays(&[w("09:00", "12:00"), w("13:00", "17:00")]),
            vec![],
        )
        .unwrap()
    }

    #[test]
    fn validation_names_the_field() {
        let err = |tz: &str, week: Week, hs: Vec<Holiday>| Calendar::new(tz, week, hs).unwrap_err().field;
        let day = Week::weekdays(&[w("09:00", "17:00")]);
        assert_eq!(err("Mars/Olympus", day.clone(), vec![]), "time_zone");
        assert_eq!(err("UTC", Week::default(), vec![]), "windows");
        let backwards = Week::default().with(Weekday::Mon, &[w("09:00", "12:00"), w("17:00", "13:00")]);
        assert_eq!(err("UTC", backwards, vec![]), "windows.monday[1]");
        let empty = Week::default().with(Weekday::Tue, &[w("09:00", "09:00")]);
        assert_eq!(err("UTC", empty, vec![]), "windows.tuesday[0]");
        let overlap = Week::default().with(
            Weekday::Sun,
            &[w("13:00", "18:00"), w("09:00", "12:00"), w("11:00", "14:00")],
        );
        let e = Calendar::new("UTC", overlap, vec![]).unwrap_err();
        assert_eq!(e.field, "windows.sunday[2]");
        assert!(e.message.contains("windows.sunday[0]"), "{e}");
        assert_eq!(
            err("UTC", day.clone(), vec![Holiday::yearly(2, 30, None)]),
            "holidays[0].day"
        );
        assert_eq!(
            err("UTC", day.clone(), vec![Holiday::yearly(13, 1, None)]),
            "holidays[0].month"
        );
        let long = "x".repeat(201);
        assert_eq!(
            err(
                "UTC",
                day.clone(),
                vec![Holiday::yearly(1, 1, None), Holiday::yearly(1, 2, Some(&long))]
            ),
            "holidays[1].name"
        );
        let every_day: Vec<Holiday> = (1..=12)
            .flat_map(|m| (1..=31).map(move |d| (m, d)))
            .filter(|&(m, d)| NaiveDate::from_ymd_opt(2000, m, d).is_some())
            .map(|(m, d)| Holiday::yearly(m, d, None))
            .collect();
        assert_eq!(err("UTC", day, every_day), "holidays");
    }

    #[test]
    fn touching_windows_and_the_end_of_the_day_are_fine() {
        let week = Week::every_day(&[w("12:00", "24:00"), w("00:00", "12:00")]);
        let cal = Calendar::new("Europe/Berlin", week, vec![]).unwrap();
        assert!(cal.is_always(), "two halves make a whole day");
        assert_eq!(cal.windows().monday[0], w("00:00", "12:00"), "sorted");
        assert!(!office().is_always());
        assert!(Calendar::always().is_always());
        assert!(Window::parse("24:00", "24:00").is_err(), "24:00 only ends a window");
        assert!(Window::parse("9am", "17:00").is_err());
    }

    #[test]
    fn serde_round_trip_uses_names_and_wall_clock_strings() {
        let cal = Calendar::new(
            "America/New_York",
            Week::weekdays(&[w("09:00", "12:00"), w("13:00:30", "24:00")]),
            vec![
                Holiday::on(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(), Some("Thanksgiving")),
                Holiday::yearly(12, 25, Some("Christmas")),
            ],
        )
        .unwrap();
        let json = serde_json::to_value(&cal).unwrap();
        assert_eq!(json["time_zone"], "America/New_York");
        assert_eq!(
            json["windows"]["monday"][1],
            serde_json::json!({"start": "13:00:30", "end": "24:00"})
        );
        assert_eq!(json["windows"]["sunday"], serde_json::json!([]));
        assert_eq!(
            json["holidays"][0],
            serde_json::json!({"kind": "yearly", "month": 12, "day": 25, "name": "Christmas"})
        );
        assert_eq!(
            json["holidays"][1],
            serde_json::json!({"kind": "date", "date": "2026-11-26", "name": "Thanksgiving"})
        );
        let back: Calendar = serde_json::from_value(json).unwrap();
        assert_eq!(back, cal);
    }

    #[test]
    fn deserialising_validates() {
        let bad = serde_json::json!({"time_zone": "Europe/Nowhere", "windows": {"monday": [{"start": "09:00", "end": "17:00"}]}});
        let e = serde_json::from_value::<Calendar>(bad).unwrap_err().to_string();
        assert!(e.contains("time_zone"), "{e}");
        let bad = serde_json::json!({"time_zone": "UTC", "windows": {"friday": [{"start": "09:00", "end": "08:00"}]}});
        let e = serde_json::from_value::<Calendar>(bad).unwrap_err().to_string();
        assert!(e.contains("windows.friday[0]"), "{e}");
        let typo = serde_json::json!({"time_zone": "UTC", "windows": {"munday": []}});
        assert!(serde_json::from_value::<Calendar>(typo).is_err());
    }

    #[test]
    fn business_hours_with_a_lunch_break() {
        let cal = office();
        // Friday 2026-03-06 16:00 UTC + 3 h: 1 h on Friday, then Monday 09:00–11:00.
        let from = utc(2026, 3, 6, 16, 0);
        assert_eq!(cal.add_working_time(from, TimeDelta::hours(3)), utc(2026, 3, 9, 11, 0));
        // Exactly filling the morning ends at 12:00, not at 13:00 after lunch.
        assert_eq!(
            cal.add_working_time(utc(2026, 3, 9, 9, 0), TimeDelta::hours(3)),
            utc(2026, 3, 9, 12, 0)
        );
        assert_eq!(
            cal.add_working_time(utc(2026, 3, 9, 9, 0), TimeDelta::hours(4)),
            utc(2026, 3, 9, 14, 0)
        );
        assert_eq!(
            cal.working_time_between(from, utc(2026, 3, 9, 11, 0)),
            TimeDelta::hours(3)
        );
        assert_eq!(
            cal.working_intervals(utc(2026, 3, 9, 10, 0), utc(2026, 3, 9, 15, 0)),
            vec![
                (utc(2026, 3, 9, 10, 0), utc(2026, 3, 9, 12, 0)),
                (utc(2026, 3, 9, 13, 0), utc(2026, 3, 9, 15, 0))
            ]
        );
        assert!(cal.is_working_at(utc(2026, 3, 9, 9, 0)));
        assert!(!cal.is_working_at(utc(2026, 3, 9, 12, 0)));
        assert_eq!(cal.add_working_time(from, TimeDelta::zero()), from);
    }

    #[test]
    fn holidays_take_the_whole_local_day() {
        let cal = office()
            .with_holidays([Holiday::on(
                NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(),
                Some("Closed"),
            )])
            .unwrap();
        let from = utc(2026, 3, 6, 16, 0);
        assert_eq!(cal.add_working_time(from, TimeDelta::hours(3)), utc(2026, 3, 10, 11, 0));
        assert_eq!(
            cal.holiday_on(NaiveDate::from_ymd_opt(2026, 3, 9).unwrap())
                .and_then(Holiday::name),
            Some("Closed")
        );
        let yearly = office().with_holidays([Holiday::yearly(3, 10, None)]).unwrap();
        assert!(yearly
            .holiday_on(NaiveDate::from_ymd_opt(2031, 3, 10).unwrap())
            .is_some());
        assert!(yearly
            .holiday_on(NaiveDate::from_ymd_opt(2031, 3, 11).unwrap())
            .is_none());
    }

    #[test]
    fn always_is_plain_arithmetic() {
        let cal = Calendar::always();
        let from = utc(2026, 3, 29, 0, 0);
        assert_eq!(
            cal.add_working_time(from, TimeDelta::hours(30)),
            from + TimeDelta::hours(30)
        );
        assert_eq!(
            cal.working_time_between(from, from + TimeDelta::minutes(7)),
            TimeDelta::minutes(7)
        );
        assert_eq!(
            cal.working_intervals(from, from + TimeDelta::days(400)),
            vec![(from, from + TimeDelta::days(400))]
        );
        assert!(Arc::ptr_eq(&Calendar::shared_always(), &Calendar::shared_always()));
    }

    #[test]
    fn a_hopelessly_sparse_calendar_still_terminates() {
        // One second a week and a year of target: far past the horizon, which is returned.
        let cal = Calendar::new(
            "UTC",
            Week::default().with(Weekday::Wed, &[w("12:00:00", "12:00:01")]),
            vec![],
        )
        .unwrap();
        let from = utc(2026, 1, 1, 0, 0);
        let due = cal.add_working_time(from, TimeDelta::days(365));
        assert_eq!(due, horizon(from));
        // The clock reports the same far-away deadline rather than a breach.
        let terms = crate::SlaTerms::new(
            TimeDelta::days(365),
            crate::WarningWindow::BeforeDeadline { seconds: 60 },
        )
        .with_calendar(cal);
        let s = crate::evaluate(&terms, &crate::Timeline::started(from), from + TimeDelta::days(30));
        assert_eq!(
            (s.due_at, s.warn_at, s.status),
            (horizon(from), horizon(from), crate::SlaStatus::Ok)
        );
        assert_eq!(s.elapsed, TimeDelta::seconds(4));
    }
}
