//! The jobs inside the server process, run by apalis:
//! - `tick`: the escalation tick on a cron schedule (UTC, so DST never moves it);
//! - `outbox-sweep`: delivers outbox rows whose (re)try time has come, every 15 s;
//! - the deadline watcher ([`crate::deadlines`]): ticks at the next threshold itself;
//! - `outbox`: a durable job queue in our own database (apalis' SQLite or PostgreSQL
//!   storage); a change that queues messages pushes a [`DrainOutbox`] job so delivery
//!   starts at once, even when the change was made by another process (CLI, replica).

use std::str::FromStr;
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use escalator_storage::DbPool;
use serde::{Deserialize, Serialize};

use crate::{EngineError, EngineResult, Escalator};

/// The job that delivers the outbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DrainOutbox {}

/// The apalis storage holding [`DrainOutbox`] jobs.
#[derive(Clone)]
pub enum DeliveryQueue {
    Sqlite(SqliteStorage<DrainOutbox>),
    Postgres(PostgresStorage<DrainOutbox>),
}

impl DeliveryQueue {
    /// Creates the queue's tables (apalis' own migrations) and opens it.
    pub async fn setup(pool: DbPool) -> EngineResult<Self> {
        Ok(match pool {
            DbPool::Sqlite(pool) => {
                SqliteStorage::<()>::setup(&pool)
                    .await
                    .map_err(|e| EngineError::Queue(e.to_string()))?;
                DeliveryQueue::Sqlite(SqliteStorage::new(&pool))
            }
            DbPool::Postgres(pool) => {
                PostgresStorage::<()>::setup(&pool)
                    .await
                    .map_err(|e| EngineError::Queue(e.to_string()))?;
                DeliveryQueue::Postgres(PostgresStorage::new(&pool))
            }
        })
    }

    /// Enqueues a delivery round, after `delay` if given.
    pub async fn request(&self, delay: Option<Duration>) -> EngineResult<()> {
        let mut task = TaskBuilder::new(DrainOutbox {});
        if let Some(delay) = delay {
            task = task.run_after(delay);
        }
        let task = task.build();
        let result = match self {
            DeliveryQueue::Sqlite(storage) => storage.clone().push_task(task).await.map_err(|e| e.to_string()),
            DeliveryQueue::Postgres(storage) => storage.clone().push_task(task).await.map_err(|e| e.to_string()),
        };
        result.map_err(EngineError::Queue)
    }
}

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Cron expression of the safety-net tick, with seconds, in UTC (default every 15 min).
    pub tick_schedule: String,
    /// Period of the outbox sweep.
    pub sweep_every: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            tick_schedule: "0 */15 * * * *".into(),
            sweep_every: Duration::from_secs(5),
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

async fn sweep(_tick: Tick, escalator: Data<Escalator>) -> Result<(), BoxDynError> {
    escalator.deliver_outbox().await?;
    Ok(())
}

async fn drain(_job: DrainOutbox, escalator: Data<Escalator>) -> Result<(), BoxDynError> {
    escalator.deliver_outbox().await?;
    Ok(())
}

/// Runs the jobs until the engine shuts down ([`Escalator::shutdown`]); work in flight
/// gets the engine's grace period to finish or hand itself back.
pub async fn run(escalator: Escalator, config: SchedulerConfig) -> EngineResult<()> {
    let schedule = parse_schedule(&config.tick_schedule)?;
    let sweep_schedule = parse_schedule(&format!("*/{} * * * * *", config.sweep_every.as_secs().clamp(1, 59)))?;
    let instance = escalator.config.instance.clone();
    let Some(queue) = escalator.queue.clone() else {
        return Err(EngineError::Queue("the scheduler needs a delivery queue".into()));
    };
    let escalator_for_watch = escalator.clone();
    let monitor = Monitor::new().shutdown_timeout(escalator.config.shutdown_grace);
    let tick_escalator = escalator.clone();
    let tick_name = format!("tick-{instance}");
    let monitor = monitor.register(move |_| {
        WorkerBuilder::new(tick_name.clone())
            .backend(CronScheduler::new(schedule.clone()))
            .data(tick_escalator.clone())
            .build(run_tick)
    });
    let sweep_escalator = escalator.clone();
    let sweep_name = format!("outbox-sweep-{instance}");
    let monitor = monitor.register(move |_| {
        WorkerBuilder::new(sweep_name.clone())
            .backend(CronScheduler::new(sweep_schedule.clone()))
            .data(sweep_escalator.clone())
            .build(sweep)
    });
    let drain_name = format!("outbox-{instance}");
    let monitor = match queue {
        DeliveryQueue::Sqlite(storage) => monitor.register(move |_| {
            WorkerBuilder::new(drain_name.clone())
                .backend(storage.clone())
                .data(escalator.clone())
                .build(drain)
        }),
        DeliveryQueue::Postgres(storage) => monitor.register(move |_| {
            WorkerBuilder::new(drain_name.clone())
                .backend(storage.clone())
                .data(escalator.clone())
                .build(drain)
        }),
    };
    // The deadline watcher stops with the monitor: both wait for the engine's shutdown.
    let stopping = escalator_for_watch.clone();
    let watcher = tokio::spawn(crate::deadlines::watch(escalator_for_watch));
    let result = monitor
        .run_with_signal(async move {
            stopping.stopped().await;
            Ok(())
        })
        .await
        .map_err(|e| EngineError::Queue(e.to_string()));
    if let Err(err) = watcher.await {
        tracing::error!(%err, "the deadline watcher panicked");
    }
    result
}
