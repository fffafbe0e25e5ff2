//! Background work in the server process. The outbox is the queue (claims, retries with
//! backoff, dead letters: [`crate::outbox`]); apalis keeps the schedule:
//! - `tick` (apalis cron): the safety-net tick on a cron schedule, in UTC so daylight
//!   saving never moves it, and the gauges' recount;
//! - the deadline watcher ([`crate::deadlines::watch`]): ticks at the next threshold;
//! - the delivery watcher ([`crate::deadlines::watch_deliveries`]): delivers at once when
//!   this process queued something, and at the next retry time otherwise.
//!
//! Both watchers sleep until the earliest time in the database and look again at least
//! every `watch_recheck`, which is how they learn of work queued by other processes.

use std::str::FromStr;

use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};

use crate::{EngineError, EngineResult, Escalator};

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Cron expression of the safety-net tick, with seconds, in UTC (default every 15 min).
    pub tick_schedule: String,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            tick_schedule: "0 */15 * * * *".into(),
        }
    }
}

/// Parses a cron expression (seconds first, e.g. `0 */15 * * * *`).
pub fn parse_schedule(expression: &str) -> Result<cron::Schedule, escalator_domain::ValidationError> {
    cron::Schedule::from_str(expression).map_err(|e| {
        escalator_domain::ValidationError::new("tick_schedule", format!("invalid cron expression {expression:?}: {e}"))
    })
}

async fn run_tick(_tick: Tick, escalator: Data<Escalator>) -> Result<(), BoxDynError> {
    escalator.tick().await?;
    if let Err(err) = escalator.refresh_gauges().await {
        tracing::warn!(%err, "could not refresh gauges");
    }
    Ok(())
}

/// Runs the schedule and the watchers until the engine shuts down
/// ([`Escalator::shutdown`]); work in flight gets the engine's grace period to finish or
/// hand itself back.
pub async fn run(escalator: Escalator, config: SchedulerConfig) -> EngineResult<()> {
    let schedule = parse_schedule(&config.tick_schedule)?;
    let tick_name = format!("tick-{}", escalator.config.instance);
    let tick_escalator = escalator.clone();
    let monitor = Monitor::new()
        .shutdown_timeout(escalator.config.shutdown_grace)
        .register(move |_| {
            WorkerBuilder::new(tick_name.clone())
                .backend(CronScheduler::new(schedule.clone()))
                .data(tick_escalator.clone())
                .build(run_tick)
        });
    let deadlines = tokio::spawn(crate::deadlines::watch(escalator.clone()));
    let deliveries = tokio::spawn(crate::deadlines::watch_deliveries(escalator.clone()));
    let result = monitor
        .run_with_signal({
            let escalator = escalator.clone();
            async move {
                escalator.stopped().await;
                Ok(())
            }
        })
        .await
        .map_err(|e| EngineError::Queue(e.to_string()));
    for (name, watcher) in [("deadline", deadlines), ("delivery", deliveries)] {
        if let Err(err) = watcher.await {
            tracing::error!(%err, "the {name} watcher panicked");
        }
    }
    result
}
