//! The SLA clock: a pure function of (terms, timeline, now) to an [`SlaState`].
//!
//! Pauses are part of the [`Timeline`]; business calendars are part of the terms
//! ([`crate::SlaTerms::calendar`]), so callers never change when the clock learns more.
//! [`explain`] lays out the same computation as segments for "why is this due then?".

mod calendar;
mod clock;
mod explain;
pub(crate) mod ics;
mod walk;
pub mod zones;

#[cfg(test)]
mod tests;

pub use calendar::{Calendar, Holiday, Week, Window, WindowEnd, SEARCH_HORIZON_DAYS};
pub use clock::{evaluate, SlaState, SlaStatus, Timeline};
pub use explain::{
    explain, explain_until, summarise, OffsetChange, OffsetEffect, Omitted, Segment, SegmentKind, SegmentTotals,
};
pub use ics::IcsError;
