//! "Why is this due then?": the timeline behind a deadline, as contiguous segments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::clock::{evaluate, Timeline};
use super::zones::Zone;
use crate::SlaTerms;

/// Why a stretch of time did or did not count towards the target.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// Running and within working hours: counted.
    Counted,
    /// Running, but outside the calendar's working windows.
    OutsideWorkingHours,
    /// Running, but on a holiday of the calendar (the whole local day).
    Holiday,
    /// The clock was stopped; wins over the other reasons, since nothing counts while paused.
    Paused,
}

/// One stretch `[from, to)` of the timeline and why it counted or not.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Start of the stretch (inclusive).
    pub from: DateTime<Utc>,
    /// End of the stretch (exclusive); the next segment's `from`.
    pub to: DateTime<Utc>,
    /// Why it counted or not.
    pub kind: SegmentKind,
    /// The holiday's name, for `holiday` segments that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holiday: Option<String>,
    /// The calendar zone's UTC offset changed within this segment (at or after its start):
    /// why a window here counted less or more than its nominal length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_change: Option<OffsetChange>,
}

/// A change of the calendar zone's UTC offset (a daylight-saving change, or a zone's rules
/// changing): a window across it counts only the instants whose local time is inside it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetChange {
    /// The first instant of the new offset.
    pub at: DateTime<Utc>,
    /// The offset before, e.g. `+01:00`.
    pub before: String,
    /// The offset from `at` on, e.g. `+02:00`.
    pub after: String,
    /// `shortened` when local clocks jumped forward (a spring-forward gap: the local times
    /// skipped do not count), `lengthened` when they went back (the repeated local times
    /// count twice).
    pub effect: OffsetEffect,
}

/// What an offset change does to a window's counted length.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetEffect {
    Shortened,
    Lengthened,
}

/// The zone's offset at `t`, in seconds east of UTC.
fn offset_at(tz: &Zone, t: DateTime<Utc>) -> i32 {
    tz.offset_seconds(t.timestamp())
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// The first offset change in `[from, to)`, if any. Changes happen on whole seconds.
fn offset_change(tz: &Zone, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<OffsetChange> {
    let at_second = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).map(|t| offset_at(tz, t));
    let (first, last) = (from.timestamp(), (to - chrono::TimeDelta::seconds(1)).timestamp());
    let before = at_second(first.checked_sub(1)?)?;
    if at_second(first)? == before && at_second(last)? == before {
        return None;
    }
    // The first second whose offset is not `before`: the offset is `before` at `lo`, not
    // at `hi`, until they are adjacent.
    let at = if at_second(first)? != before {
        first
    } else {
        let (mut lo, mut hi) = (first, last);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if at_second(mid)? == before {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    };
    let at = DateTime::<Utc>::from_timestamp(at, 0)?;
    let after = offset_at(tz, at);
    Some(OffsetChange {
        at,
        before: offset_text(before),
        after: offset_text(after),
        effect: if after > before {
            OffsetEffect::Shortened
        } else {
            OffsetEffect::Lengthened
        },
    })
}

/// The timeline from the start to the deadline (or to `now`, if later), as contiguous
/// segments covering it, each marked counted / outside working hours / holiday / paused.
///
/// It is the same computation as [`evaluate`]: the counted segments add up to the target at
/// `due_at`. An open pause lasts until `now`, as in the projected deadline.
pub fn explain(terms: &SlaTerms, timeline: &Timeline, now: DateTime<Utc>) -> Vec<Segment> {
    explain_until(terms, timeline, now, evaluate(terms, timeline, now).due_at)
}

/// [`explain`] for a clock already evaluated to `due_at` (which [`evaluate`] gives): over a
/// clock that has run for years, evaluating it again costs as much as the explanation.
pub fn explain_until(terms: &SlaTerms, timeline: &Timeline, now: DateTime<Utc>, due_at: DateTime<Utc>) -> Vec<Segment> {
    let start = timeline.started_at;
    let end = due_at.max(now);
    if end <= start {
        return Vec::new();
    }
    let clip = |(from, to): (DateTime<Utc>, DateTime<Utc>)| (from.max(start), to.min(end));
    let running: Vec<_> = timeline
        .running_intervals(now)
        .take_while(|&(from, _)| from < end)
        .map(|(from, to)| clip((from, to.unwrap_or(end))))
        .filter(|(from, to)| from < to)
        .collect();
    let working = terms.calendar.working_intervals(start, end);
    let holidays = terms.calendar.holiday_spans(start, end);

    // Every change of any of the three sets is a cut; between cuts the kind is constant.
    let mut cuts = vec![start, end];
    for (from, to) in running.iter().chain(&working) {
        cuts.extend([*from, *to]);
    }
    for (from, to, _) in &holidays {
        cuts.extend([*from, *to]);
    }
    cuts.retain(|&t| start <= t && t <= end);
    cuts.sort_unstable();
    cuts.dedup();

    let mut segments: Vec<Segment> = Vec::new();
    for pair in cuts.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let holiday = holidays
            .iter()
            .find(|(a, b, _)| *a <= from && from < *b)
            .map(|(_, _, h)| *h);
        let kind = if !contains(&running, from) {
            SegmentKind::Paused
        } else if contains(&working, from) {
            SegmentKind::Counted
        } else if holiday.is_some() {
            SegmentKind::Holiday
        } else {
            SegmentKind::OutsideWorkingHours
        };
        let holiday = holiday
            .filter(|_| kind == SegmentKind::Holiday)
            .and_then(|h| h.name().map(str::to_string));
        match segments.last_mut() {
            Some(last) if last.kind == kind && last.holiday == holiday => last.to = to,
            _ => segments.push(Segment {
                from,
                to,
                kind,
                holiday,
                offset_change: None,
            }),
        }
    }
    let tz = terms.calendar.time_zone();
    for s in &mut segments {
        s.offset_change = offset_change(tz, s.from, s.to);
    }
    segments
}

/// Seconds of each kind in a stretch of the timeline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentTotals {
    pub counted_seconds: i64,
    pub outside_working_hours_seconds: i64,
    pub holiday_seconds: i64,
    pub paused_seconds: i64,
}

impl SegmentTotals {
    /// The sums over `segments`.
    pub fn of(segments: &[Segment]) -> Self {
        let mut t = SegmentTotals::default();
        for s in segments {
            // Whole seconds between the instants floored to the second, rather than the
            // span truncated: then the segments' seconds add up across any split (listed
            // and omitted, first and later), and a run of segments counts what its ends say.
            let seconds = s.to.timestamp().saturating_sub(s.from.timestamp());
            let slot = match s.kind {
                SegmentKind::Counted => &mut t.counted_seconds,
                SegmentKind::OutsideWorkingHours => &mut t.outside_working_hours_seconds,
                SegmentKind::Holiday => &mut t.holiday_seconds,
                SegmentKind::Paused => &mut t.paused_seconds,
            };
            *slot = slot.saturating_add(seconds);
        }
        t
    }

    /// The sums of both.
    pub fn plus(self, o: SegmentTotals) -> Self {
        SegmentTotals {
            counted_seconds: self.counted_seconds.saturating_add(o.counted_seconds),
            outside_working_hours_seconds: self
                .outside_working_hours_seconds
                .saturating_add(o.outside_working_hours_seconds),
            holiday_seconds: self.holiday_seconds.saturating_add(o.holiday_seconds),
            paused_seconds: self.paused_seconds.saturating_add(o.paused_seconds),
        }
    }
}

/// The middle of a long explanation, left out and summed exactly: `[from, to)`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Omitted {
    /// Where the left-out stretch starts: the `to` of the last segment before it.
    pub from: DateTime<Utc>,
    /// Where it ends: the `from` of the first segment after it.
    pub to: DateTime<Utc>,
    /// How many segments it holds.
    pub segments: usize,
    /// Their seconds per kind.
    pub totals: SegmentTotals,
}

/// At most `keep` segments: all when there are no more, else the first and the last
/// `keep / 2`, with the ones between summed. A clock started years ago has thousands of
/// segments (two per working day); people read its beginning and its end, and the totals.
pub fn summarise(mut segments: Vec<Segment>, keep: usize) -> (Vec<Segment>, Option<Omitted>) {
    let head = keep / 2;
    let tail = keep - head;
    if segments.len() <= keep || head == 0 {
        return (segments, None);
    }
    let middle: Vec<Segment> = segments.drain(head..segments.len() - tail).collect();
    let omitted = match (middle.first(), middle.last()) {
        (Some(first), Some(last)) => Some(Omitted {
            from: first.from,
            to: last.to,
            segments: middle.len(),
            totals: SegmentTotals::of(&middle),
        }),
        _ => None,
    };
    (segments, omitted)
}

/// Whether `t` lies in one of the sorted, disjoint `[from, to)` intervals.
fn contains(intervals: &[(DateTime<Utc>, DateTime<Utc>)], t: DateTime<Utc>) -> bool {
    let after = intervals.partition_point(|&(from, _)| from <= t);
    after > 0 && t < intervals[after - 1].1
}
