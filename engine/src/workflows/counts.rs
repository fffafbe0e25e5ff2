//! Open workflows per SLA status, counted once and reused for a few seconds: counting
//! reads every open workflow of a scope, and busy pages must not each wait for a recount.

/// How long a count of open workflows per SLA status is served without a recount.
pub const COUNTS_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// The oldest count served while a recount runs; older ones are recounted inline, so a
/// scope viewed now and then still shows current counts, and only busy scopes (where a
/// view waiting for a recount would hurt) see counts up to this old.
pub const COUNTS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(15);

/// A counting scope: department, assignee, `or_assignee` and policy of the filter.
pub(super) type CountsKey = (Option<String>, Option<String>, Option<String>, Option<i64>);

#[derive(Debug)]
struct Counted {
    at: std::time::Instant,
    counts: Vec<(String, i64)>,
    refreshing: bool,
}

/// What the cache holds for a scope.
pub(super) enum Cached {
    Fresh(Vec<(String, i64)>),
    /// Served as is; `refresh` is true for the one caller that should recount.
    Stale {
        counts: Vec<(String, i64)>,
        refresh: bool,
    },
    Missing,
}

/// Recent SLA counts per (department, assignee, policy) scope.
#[derive(Debug, Default)]
pub struct CountsCache(std::sync::Mutex<std::collections::HashMap<CountsKey, Counted>>);

impl CountsCache {
    pub(super) fn lookup(&self, key: &CountsKey, now: std::time::Instant) -> Cached {
        let Ok(mut map) = self.0.lock() else {
            return Cached::Missing;
        };
        let Some(entry) = map.get_mut(key) else {
            return Cached::Missing;
        };
        let age = now.saturating_duration_since(entry.at);
        if age < COUNTS_TTL {
            Cached::Fresh(entry.counts.clone())
        } else if age < COUNTS_MAX_AGE {
            let refresh = !entry.refreshing;
            entry.refreshing = true;
            Cached::Stale {
                counts: entry.counts.clone(),
                refresh,
            }
        } else {
            Cached::Missing
        }
    }

    pub(super) fn put(&self, key: CountsKey, counts: Vec<(String, i64)>, now: std::time::Instant) {
        if let Ok(mut map) = self.0.lock() {
            // Scopes are departments and people: bounded, but never let it grow unchecked.
            if map.len() >= 10_000 {
                map.retain(|_, c| now.saturating_duration_since(c.at) < COUNTS_MAX_AGE);
            }
            map.insert(
                key,
                Counted {
                    at: now,
                    counts,
                    refreshing: false,
                },
            );
        }
    }

    /// Lets the next caller try again after a failed background recount.
    pub(super) fn refresh_failed(&self, key: &CountsKey) {
        if let Ok(mut map) = self.0.lock() {
            if let Some(entry) = map.get_mut(key) {
                entry.refreshing = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn counts(n: i64) -> Vec<(String, i64)> {
        vec![("ok".to_string(), n)]
    }

    #[test]
    fn counts_are_fresh_then_served_stale_to_all_but_one_recounter_then_dropped() {
        let cache = CountsCache::default();
        let key: CountsKey = (Some("finance".into()), None, None, None);
        let t0 = Instant::now();
        assert!(matches!(cache.lookup(&key, t0), Cached::Missing));

        cache.put(key.clone(), counts(1), t0);
        assert!(matches!(cache.lookup(&key, t0 + COUNTS_TTL / 2), Cached::Fresh(c) if c == counts(1)));

        // Once stale, the first caller recounts; the others get the old counts without waiting.
        let stale = t0 + COUNTS_TTL + Duration::from_millis(1);
        assert!(matches!(cache.lookup(&key, stale), Cached::Stale { refresh: true, counts: c } if c == counts(1)));
        assert!(matches!(
            cache.lookup(&key, stale),
            Cached::Stale { refresh: false, .. }
        ));

        // A failed recount lets the next caller try again.
        cache.refresh_failed(&key);
        assert!(matches!(cache.lookup(&key, stale), Cached::Stale { refresh: true, .. }));

        // The recount lands: fresh again.
        cache.put(key.clone(), counts(2), stale);
        assert!(matches!(cache.lookup(&key, stale), Cached::Fresh(c) if c == counts(2)));

        // Too old to serve at all: recounted inline.
        assert!(matches!(cache.lookup(&key, stale + COUNTS_MAX_AGE), Cached::Missing));

        // Scopes are separate.
        assert!(matches!(
            cache.lookup(&(None, None, None, None), stale),
            Cached::Missing
        ));
    }
}
