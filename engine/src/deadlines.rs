//! Deadlines, not polling intervals: the engine sleeps until the earliest next check time
//! among open workflows and ticks then, so a workflow is reminded or escalated within
//! moments of its threshold (and never before: the tick acts only on rows whose time has
//! come). The cron tick stays as a safety net. Changes in this process re-arm the timer
//! at once; changes made by other replicas are picked up within `RECHECK`.

use std::future::Future;
use std::time::Duration;

use crate::clock::now;
use crate::Escalator;

/// Longest sleep without looking at the database again (other replicas' changes).
const RECHECK: Duration = Duration::from_secs(30);
/// Pause after an error before trying again.
const BACKOFF: Duration = Duration::from_secs(5);

/// Runs until `shutdown` resolves.
pub async fn watch(escalator: Escalator, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let sleep = match escalator.store.next_check_at().await {
            Ok(Some(at)) => {
                let wait = (at - now()).to_std().unwrap_or(Duration::ZERO);
                if wait.is_zero() {
                    match escalator.tick().await {
                        // Failed workflows stay due, and a skipped tick means another replica
                        // is on it: do not spin on them, the next look is soon enough.
                        Ok(s) if s.failed > 0 || s.skipped => RECHECK,
                        Ok(_) => Duration::ZERO,
                        Err(err) => {
                            tracing::warn!(%err, "deadline tick failed");
                            BACKOFF
                        }
                    }
                } else {
                    wait.min(RECHECK)
                }
            }
            Ok(None) => RECHECK,
            Err(err) => {
                tracing::warn!(%err, "could not read the next deadline");
                BACKOFF
            }
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = escalator.wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}
