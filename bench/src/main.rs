//! `cargo run --release -p bench [-- --rows N --runs R]`: Escalator's benchmarks. Each
//! scenario builds its own data in a fresh database, runs several times and prints
//! median / min / max, on SQLite and (with `ESCALATOR_BENCH_PG_URL`, an admin URL of a
//! PostgreSQL cluster; `.ci/postgres.sh` prints one) on PostgreSQL. Numbers, not tests:
//! nothing here fails on a timing.
//!
//! Scenarios so far: outbox delivery with a no-op channel (notifications per second).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use escalator_engine::notify::{Channel, Channels, DeliveryError};
use escalator_engine::{EngineConfig, Escalator, Metrics};
use escalator_storage::{DbPool, OutboxMessage, Store};

/// Accepts everything: measures Escalator, not a mail server.
struct Noop;

#[async_trait]
impl Channel for Noop {
    fn name(&self) -> &'static str {
        "noop"
    }
    async fn deliver(&self, _: &OutboxMessage) -> Result<(), DeliveryError> {
        Ok(())
    }
}

/// A fresh database: SQLite in a temp dir, or a new PostgreSQL database.
async fn fresh(backend: &str, run: usize) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    if backend == "sqlite" {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        let store = escalator_storage::connect(&url).await.expect("SQLite");
        store.migrate().await.expect("migrate");
        return (store, Some(dir));
    }
    let admin_url = std::env::var("ESCALATOR_BENCH_PG_URL").expect("ESCALATOR_BENCH_PG_URL");
    let name = format!("escalator_bench_{}_{run}", std::process::id());
    let admin = sqlx::PgPool::connect(&admin_url).await.expect("PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a database");
    let store = escalator_storage::connect(&format!("{base}/{name}"))
        .await
        .expect("PostgreSQL");
    store.migrate().await.expect("migrate");
    (store, None)
}

/// Inserts `rows` routed notification rows for the no-op channel, 1,000 per statement.
async fn fill_outbox(store: &Arc<dyn Store>, rows: usize) {
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
        match store.pool() {
            DbPool::Sqlite(pool) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .execute(&pool)
                .await
                .map(|_| ()),
            DbPool::Postgres(pool) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .execute(&pool)
                .await
                .map(|_| ()),
        }
        .expect("insert outbox rows");
    }
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let rows = arg("--rows", 20_000);
    let runs = arg("--runs", 3).max(1);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!("machine: {model}, {cpus} CPUs; {rows} rows, {runs} runs per scenario");
    println!();
    println!("| scenario | backend | median | min | max | goal |");
    println!("|---|---|---|---|---|---|");
    let mut backends = vec!["sqlite"];
    if std::env::var("ESCALATOR_BENCH_PG_URL").is_ok() {
        backends.push("postgres");
    }
    for backend in backends {
        let mut per_second = Vec::new();
        for run in 0..runs {
            let (store, _dir) = fresh(backend, run).await;
            fill_outbox(&store, rows).await;
            let config = EngineConfig {
                delivery_batch: 1000,
                ..EngineConfig::default()
            };
            let engine = Escalator::new(
                store,
                Channels::only(Arc::new(Noop)),
                Arc::new(Metrics::new(900.0).expect("metrics")),
                config,
            );
            let started = Instant::now();
            let summary = engine.deliver_outbox().await.expect("delivery");
            let elapsed = started.elapsed().max(Duration::from_micros(1));
            assert_eq!(summary.delivered as usize, rows, "every row delivered");
            per_second.push(rows as f64 / elapsed.as_secs_f64());
        }
        let (median, min, max) = stats(per_second);
        let goal = if backend == "postgres" {
            "≥ 10,000/s"
        } else {
            "≥ 2,000/s"
        };
        println!("| outbox delivery, no-op channel | {backend} | {median:.0}/s | {min:.0}/s | {max:.0}/s | {goal} |");
    }
}
