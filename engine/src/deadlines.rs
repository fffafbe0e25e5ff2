//! Deadlines, not polling intervals: the engine sleeps until just before the earliest next
//! check time among open workflows (`decide_ahead`) and ticks for it, so a workflow is
//! reminded or escalated within moments of its threshold (and never before: the tick
//! decides ahead but writes only once the time has come, [`Escalator::tick_at`]). The cron tick stays as a safety net. Changes in this process re-arm the timer
//! at once; changes made by other replicas are picked up within `watch_recheck`. When
//! another replica holds the tick lock the watcher tries again after `tick_lock_retry`,
//! so that if the holder dies, a survivor takes over within about that long.
//!
//! Delivery is watched the same way ([`watch_deliveries`]): woken by this process's
//! changes (a moment later, so that one round takes what several changes queued), asleep
//! until the next retry time otherwise.

use std::time::Duration;

use crate::Escalator;

/// Pause after an error before trying again.
const BACKOFF: Duration = Duration::from_secs(5);

/// The watcher keeps the tick lock between ticks while the next threshold is this close,
/// and gives it back before a longer sleep, so that other replicas can take over.
const KEEP_LOCK_WHILE_NEXT_WITHIN: Duration = Duration::from_millis(500);

/// Runs the tick at every threshold until the engine shuts down ([`Escalator::shutdown`]).
pub async fn watch(escalator: Escalator) {
    let config = escalator.config().clone();
    let mut jumps = escalator.clock_jumps();
    while !escalator.stopping() {
        seen(&mut jumps);
        let sleep = match escalator.store.next_check_at().await {
            Ok(Some(at)) => {
                let wait = (at - escalator.now()).to_std().unwrap_or(Duration::ZERO);
                if wait <= config.decide_ahead {
                    match escalator.tick_at(at).await {
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
                    (wait - config.decide_ahead).min(config.watch_recheck)
                }
            }
            Ok(None) => config.watch_recheck,
            Err(err) => {
                tracing::warn!(%err, "could not read the next deadline");
                BACKOFF
            }
        };
        if sleep >= KEEP_LOCK_WHILE_NEXT_WITHIN {
            escalator.release_tick_lock().await;
        }
        tokio::select! {
            () = escalator.stopped() => break,
            () = escalator.wake.notified() => {}
            () = jumped(&mut jumps) => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
    // However the loop ended (stopped while asleep, or found stopping on waking), a kept
    // lock goes back now rather than when its lease runs out.
    escalator.release_tick_lock().await;
}

/// Delivers the outbox whenever this process queued something, and otherwise at the
/// earliest retry (or release) time of a pending row, until the engine shuts down.
pub async fn watch_deliveries(escalator: Escalator) {
    let config = escalator.config().clone();
    let mut jumps = escalator.clock_jumps();
    while !escalator.stopping() {
        seen(&mut jumps);
        let sleep = match escalator.store.next_outbox_attempt().await {
            Ok(Some(at)) if at <= escalator.now() => match escalator.deliver_outbox_concurrently().await {
                // Rows left due after a round that moved nothing (another replica holds
                // them): look again soon, without spinning.
                Ok(s) if s.delivered + s.retried + s.dead + s.digested + s.handed_back == 0 => config.tick_lock_retry,
                Ok(_) => Duration::ZERO,
                Err(err) => {
                    tracing::warn!(%err, "outbox delivery failed");
                    BACKOFF
                }
            },
            Ok(Some(at)) => (at - escalator.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(config.watch_recheck),
            Ok(None) => config.watch_recheck,
            Err(err) => {
                tracing::warn!(%err, "could not read the next delivery time");
                BACKOFF
            }
        };
        let queued = tokio::select! {
            () = escalator.stopped() => return,
            () = escalator.deliver.notified() => true,
            () = jumped(&mut jumps) => false,
            () = tokio::time::sleep(sleep) => false,
        };
        if queued && !config.delivery_linger.is_zero() {
            tokio::select! {
                () = escalator.stopped() => return,
                () = tokio::time::sleep(config.delivery_linger) => {}
            }
        }
    }
}

/// Marks the clock's jumps so far as seen: a jump after this wakes [`jumped`].
fn seen(jumps: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    if let Some(jumps) = jumps {
        jumps.borrow_and_update();
    }
}

/// Resolves when the clock jumps (never for the system clock, or once its sender is gone).
async fn jumped(jumps: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    if let Some(rx) = jumps {
        if rx.changed().await.is_ok() {
            return;
        }
    }
    std::future::pending().await
}
