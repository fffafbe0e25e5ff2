//! The SLA clock: a pure function of (terms, timeline, now) to an [`SlaState`].
//!
//! Pauses are part of the [`Timeline`]; business calendars will be part of the terms,
//! so callers never change when the clock learns more.

mod clock;

pub use clock::{evaluate, SlaState, SlaStatus, Timeline};
