//! Wall-clock windows to UTC intervals, exact across UTC-offset changes.
//!
//! The zone's offset is piecewise constant in UTC. Within one constant-offset piece, local
//! time is UTC plus that offset, a plain shift; so the working time in the piece is the local
//! windows that overlap the piece's local range, shifted back. Walking piece by piece in UTC
//! order gives the exact preimage of the local windows, in order, with no special cases:
//! - spring forward (a gap): no piece's local range contains the skipped local times, so
//!   a window 01:30–03:30 around a 02:00→03:00 jump yields 01:30–02:00 and 03:00–03:30;
//! - fall back (an overlap): the repeated local times appear in two consecutive pieces, so
//!   they count twice (a 00:00–04:00 window on a 25-hour day is 5 h long);
//! - any shift size (Lord Howe's 30 min, Samoa's skipped day), at any local time (São Paulo
//!   and Tehran changed at midnight, so a day may start at 01:00 or end twice).
//!
//! Transitions are found from the zone's offset lookup (which works the same for the
//! system's rules and the bundled ones): sampled hourly, then bisected to the exact second
//! (tz transitions fall on whole seconds). Two changes less than an hour apart that cancel
//! each other out would be missed; the tz database has none in the years an SLA can touch.

use std::collections::VecDeque;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};

use super::calendar::Calendar;
use super::zones::Zone;

/// A UTC interval `[from, to)`; `None` is open-ended.
pub(crate) type Interval = (DateTime<Utc>, Option<DateTime<Utc>>);

/// Offsets are sampled this many seconds apart when looking for the next change.
const SAMPLE_SECONDS: i64 = 3600;
/// The longest piece looked at in one step (a day keeps the work per step small).
const PIECE_SECONDS: i64 = 24 * 3600;

/// Which local windows a walk maps to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Select {
    /// The working windows of non-holiday dates.
    Working,
    /// Whole holiday dates.
    Holidays,
}

/// The selected local windows as UTC intervals from `cursor` up to `until`, in order.
pub(crate) struct LocalSpans<'a> {
    calendar: &'a Calendar,
    select: Select,
    cursor: DateTime<Utc>,
    until: DateTime<Utc>,
    pending: VecDeque<(DateTime<Utc>, DateTime<Utc>)>,
}

impl<'a> LocalSpans<'a> {
    /// Walks from `from` (clipping what started before it) to `until`.
    pub(crate) fn new(calendar: &'a Calendar, select: Select, from: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            calendar,
            select,
            cursor: from,
            until,
            pending: VecDeque::new(),
        }
    }

    /// Maps one constant-offset piece starting at the cursor; `None` when out of range.
    fn step(&mut self) -> Option<()> {
        let tz = self.calendar.time_zone();
        if self.nothing_selected_near_cursor(tz)? {
            // Skip a day without sampling offsets: sparse calendars and weekends stay cheap.
            self.cursor = self
                .cursor
                .checked_add_signed(TimeDelta::seconds(PIECE_SECONDS))?
                .min(self.until);
            return Some(());
        }
        let (piece_end, offset) = next_piece(tz, self.cursor)?;
        let piece_end = piece_end.min(self.until);
        let lo = self.cursor.naive_utc().checked_add_signed(offset)?;
        let hi = piece_end.naive_utc().checked_add_signed(offset)?;
        let mut day = lo.date();
        while day.and_time(NaiveTime::MIN) < hi {
            for w in self.calendar.local_windows(day, self.select) {
                let start = w.start_on(day).max(lo);
                let end = w.end_on(day).min(hi);
                if start < end {
                    self.pending.push_back((
                        start.checked_sub_signed(offset)?.and_utc(),
                        end.checked_sub_signed(offset)?.and_utc(),
                    ));
                }
            }
            day = day.succ_opt()?;
        }
        self.cursor = piece_end;
        Some(())
    }
}

impl LocalSpans<'_> {
    /// Whether no local date that the next day of UTC could touch has selected windows.
    ///
    /// That day's local dates lie within a day of the cursor's own local date plus or minus
    /// any offset change during it (at most a day, as in Samoa's 2011 skip): two days of
    /// margin each side cover it.
    fn nothing_selected_near_cursor(&self, tz: &Zone) -> Option<bool> {
        let offset = TimeDelta::seconds(offset_at(tz, self.cursor.timestamp())?);
        let local_day = self.cursor.naive_utc().checked_add_signed(offset)?.date();
        let mut day = local_day.checked_sub_signed(TimeDelta::days(2))?;
        for _ in 0..=5 {
            if !self.calendar.local_windows(day, self.select).is_empty() {
                return Some(false);
            }
            day = day.succ_opt()?;
        }
        Some(true)
    }
}

impl Iterator for LocalSpans<'_> {
    type Item = (DateTime<Utc>, DateTime<Utc>);

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.is_empty() {
            if self.cursor >= self.until || self.step().is_none() {
                // Out of range (or past what chrono can represent): the walk is over.
                self.cursor = self.until;
                return None;
            }
        }
        self.pending.pop_front()
    }
}

/// The zone's UTC offset at a whole-second UTC timestamp.
fn offset_at(tz: &Zone, timestamp: i64) -> Option<i64> {
    Some(i64::from(tz.offset_seconds(timestamp)))
}

/// The constant-offset piece that starts at `from`: its end (the next offset change, or at
/// most a day later) and its offset.
fn next_piece(tz: &Zone, from: DateTime<Utc>) -> Option<(DateTime<Utc>, TimeDelta)> {
    // Offsets change on whole seconds, so the offset at `from` is the one at its second.
    let base = from.timestamp();
    let offset = offset_at(tz, base)?;
    let mut lo = base;
    let mut end = base + PIECE_SECONDS;
    let mut sample = base;
    while sample < base + PIECE_SECONDS {
        sample = (sample + SAMPLE_SECONDS).min(base + PIECE_SECONDS);
        if offset_at(tz, sample)? != offset {
            // The change is in (lo, sample]: bisect to its first second.
            let mut hi = sample;
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid)? == offset {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            end = hi;
            break;
        }
        lo = sample;
    }
    Some((DateTime::from_timestamp(end, 0)?, TimeDelta::seconds(offset)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn pieces_end_exactly_at_the_change() {
        // Berlin, 2026-03-29: 01:00 UTC is 02:00 CET → 03:00 CEST.
        let tz = Zone::named("Europe/Berlin").unwrap();
        let from = Utc.with_ymd_and_hms(2026, 3, 28, 20, 17, 3).unwrap();
        let (end, offset) = next_piece(&tz, from).unwrap();
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
        assert_eq!(offset, TimeDelta::hours(1));
        let (end, offset) = next_piece(&tz, end).unwrap();
        assert_eq!(
            end,
            Utc.with_ymd_and_hms(2026, 3, 30, 1, 0, 0).unwrap(),
            "a day later, no change"
        );
        assert_eq!(offset, TimeDelta::hours(2));
    }
}
