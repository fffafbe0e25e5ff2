//! Deadlines, not polling intervals: the engine sleeps until the earliest next check time
//! among open workflows and ticks then, so a workflow is reminded or escalated within
//! moments of its threshold (and never before: the tick acts only on rows whose time has
//! come). The cron tick stays as a safety net. Changes in this process re-arm the timer
//! at once; changes made by other replicas are picked up within `watch_recheck`. When
//! another replica holds the tick lock the watcher tries again after `tick_lock_retry`,
//! so that if the holder dies, a survivor takes over within about that long.

use std::time::Duration;

use crate::clock::now;
use crate::Escalator;

/// Pause after an error before trying again.
const BACKOFF: Duration = Duration::from_secs(5);

/// Runs until the engine shuts down ([`Escalator::shutdown`]).
pub async fn watch(escalator: Escalator) {
    let config = escalator.config().clone();
    while !escalator.stopping() {
        let sleep = match escalator.store.next_check_at().await {
            Ok(Some(at)) => {
                let wait = (at - now()).to_std().unwrap_or(Duration::ZERO);
                if wait.is_zero() {
                    match escalator.tick().await {
                        // Another replica is on it; look again soon in case it dies.
                        Ok(s) if s.skipped => config.tick_lock_retry,
                        // Failed workflows stay due: do not spin on them.
                        Ok(s) if s.failed > 0 => config.watch_recheck,
                        Ok(_) => Duration::ZERO,
                        Err(err) => {
                            tracing::warn!(%err, "deadline tick failed");
                            BACKOFF
                        }
                    }
                } else {
                    wait.min(config.watch_recheck)
                }
            }
            Ok(None) => config.watch_recheck,
            Err(err) => {
                tracing::warn!(%err, "could not read the next deadline");
                BACKOFF
            }
        };
        tokio::select! {
            () = escalator.stopped() => return,
            () = escalator.wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}
