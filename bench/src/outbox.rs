//! Scenario 3: outbox delivery with a no-op channel, in notifications per second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use escalator_engine::notify::Channels;
use escalator_engine::{EngineConfig, Escalator, Metrics};
use escalator_storage::DbPool;

use crate::db::{self, Arg, Databases};
use crate::{Noop, Result};

/// Inserts `rows` routed notification rows for the no-op channel, 1,000 per statement.
async fn fill_outbox(pool: &DbPool, rows: usize) -> Result<()> {
    let now = chrono::Utc::now();
    let payload = r#"{"template":"escalated","to":["head@x.io"],"cc":["mgr@x.io"],"workflow":{"id":1,"title":"t"}}"#;
    for start in (0..rows).step_by(1000) {
        let n = (rows - start).min(1000);
        let values: Vec<String> = (0..n)
            .map(|i| format!("($1, 'notification', 'workflow.escalated', NULL, '{payload}', 'bench:{}', 'pending', 0, $1, 'noop')", start + i))
            .collect();
        let sql = format!(
            "INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, next_attempt_at, channel) VALUES {}",
            values.join(", ")
        );
        db::exec(pool, &sql, &[Arg::Time(now)]).await?;
    }
    Ok(())
}

/// Delivers `rows` messages `runs` times, each in a fresh database; messages per second.
pub async fn measure(dbs: &mut Databases, backend: &'static str, rows: usize, runs: usize) -> Result<Vec<f64>> {
    let mut per_second = Vec::new();
    for _ in 0..runs {
        let (database, store) = dbs
            .empty(backend, &format!("escalator_bench_outbox_{}", std::process::id()))
            .await?;
        let pool = store.pool();
        fill_outbox(&pool, rows).await?;
        let config = EngineConfig {
            delivery_batch: 1000,
            ..EngineConfig::default()
        };
        let engine = Escalator::new(
            store,
            Channels::only(Arc::new(Noop)),
            Arc::new(Metrics::new(900.0)?),
            config,
        );
        let started = Instant::now();
        let summary = engine.deliver_outbox().await?;
        let elapsed = started.elapsed().max(Duration::from_micros(1));
        if summary.delivered as usize != rows {
            eprintln!("    warning: delivered {} of {rows}", summary.delivered);
        }
        per_second.push(summary.delivered as f64 / elapsed.as_secs_f64());
        db::close(&pool).await;
        drop(engine);
        dbs.remove(&database).await?;
    }
    Ok(per_second)
}
