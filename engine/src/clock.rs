//! Where the engine reads time: [`SystemClock`] in production, a [`ShiftedClock`] that
//! tests move forward instead of sleeping. Every decision of the engine (thresholds,
//! retries, repeats, digests, holds) reads [`Escalator::now`](crate::Escalator::now).

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tokio::sync::watch;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, truncated to microseconds.
    fn now(&self) -> DateTime<Utc>;
    /// Changes whenever time jumps (a test moved the clock); `None` for a clock that only flows.
    fn jumps(&self) -> Option<watch::Receiver<u64>> {
        None
    }
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// The system clock shifted forward by however far a test moved it: time keeps flowing
/// (so "now minus an hour", computed by a test from the system clock, is still in the
/// past), and a test jumps ahead instead of sleeping.
#[derive(Clone)]
pub struct ShiftedClock {
    shift_micros: Arc<AtomicI64>,
    jumps: Arc<watch::Sender<u64>>,
}

impl Default for ShiftedClock {
    fn default() -> Self {
        Self {
            shift_micros: Arc::default(),
            jumps: Arc::new(watch::channel(0).0),
        }
    }
}

impl ShiftedClock {
    /// A clock showing the system's time.
    pub fn new() -> Self {
        Self::default()
    }

    /// This clock, for [`EngineConfig::clock`](crate::EngineConfig::clock).
    pub fn shared(&self) -> SharedClock {
        SharedClock(Arc::new(self.clone()))
    }

    /// Moves the clock forward by `by` (the engine's watchers look again at once).
    pub fn advance(&self, by: TimeDelta) {
        self.shift_micros
            .fetch_add(by.num_microseconds().unwrap_or(i64::MAX / 4), Ordering::SeqCst);
        self.jumps.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        now() + TimeDelta::microseconds(self.shift_micros.load(Ordering::SeqCst))
    }

    fn jumps(&self) -> Option<watch::Receiver<u64>> {
        Some(self.jumps.subscribe())
    }
}

/// The engine's clock, shared by its clones.
#[derive(Clone)]
pub struct SharedClock(pub Arc<dyn Clock>);

impl Default for SharedClock {
    fn default() -> Self {
        Self(Arc::new(SystemClock))
    }
}

impl fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedClock({})", self.0.now())
    }
}

/// The system clock now, truncated to microseconds: the precision both databases store,
/// so that a timestamp read back equals the one written. For I/O adapters (channels);
/// the engine's decisions use [`Escalator::now`](crate::Escalator::now).
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// Truncates a timestamp to microseconds.
pub fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}
