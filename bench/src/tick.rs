//! Scenarios 1 and 2: one engine tick against the floor — the minimal hand-written SQL
//! that selects the same due rows and writes the same state changes, transition claims,
//! audit entries and outbox rows in one transaction — on identical copies of one data set.

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeDelta, Utc};
use escalator_engine::notify::Channels;
use escalator_engine::{EngineConfig, Escalator, Metrics};
use escalator_storage::DbPool;

use crate::data::{LEVEL1_SECONDS, WARN_BEFORE_SECONDS};
use crate::db::{self, Arg, Databases, Db};
use crate::{memory, Noop, Result};

/// `--batch-size`: due workflows per transaction, when not the engine's default.
pub static BATCH_SIZE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();

/// The timings of one size on one backend.
#[derive(Debug, Default, Clone)]
pub struct TickRuns {
    pub tick_ms: Vec<f64>,
    pub floor_ms: Vec<f64>,
    /// Peak RSS of the bench process during each tick, MB.
    pub tick_rss_mb: Vec<f64>,
    pub notes: Vec<String>,
}

/// What a tick or the floor wrote, to check they did the same.
#[derive(Debug, PartialEq, Eq)]
pub struct Effects {
    escalated: i64,
    transitions: i64,
    audit: i64,
    outbox: i64,
    /// The JSON fields of one escalation's audit entry, event row and message row: the
    /// tick and the floor write the same fields, so the same bytes.
    fields: Vec<String>,
}

/// The sorted field paths of a JSON object (one level into nested objects).
fn field_paths(json: &str) -> Vec<String> {
    let mut paths = Vec::new();
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) {
        for (key, value) in map {
            match value {
                serde_json::Value::Object(inner) => paths.extend(inner.keys().map(|k| format!("{key}.{k}"))),
                _ => paths.push(key),
            }
        }
    }
    paths.sort();
    paths
}

/// The field paths of the first escalated workflow's audit entry, event and message.
async fn fields(pool: &DbPool) -> Result<Vec<String>> {
    let first = "(SELECT MIN(workflow_id) FROM audit_log WHERE action = 'escalate')";
    let mut fields = Vec::new();
    for (label, sql) in [
        (
            "audit",
            format!("SELECT details FROM audit_log WHERE action = 'escalate' AND workflow_id = {first}"),
        ),
        (
            "event",
            format!("SELECT payload FROM outbox WHERE kind = 'event' AND workflow_id = {first}"),
        ),
        (
            "message",
            format!("SELECT payload FROM outbox WHERE kind = 'notification' AND workflow_id = {first}"),
        ),
    ] {
        let json = db::text(pool, &sql).await?;
        fields.extend(field_paths(&json).into_iter().map(|f| format!("{label}:{f}")));
    }
    Ok(fields)
}

async fn effects(pool: &DbPool) -> Result<Effects> {
    Ok(Effects {
        escalated: db::scalar(
            pool,
            "SELECT COUNT(*) FROM workflows WHERE status = 'escalated' AND level = 1",
            &[],
        )
        .await?,
        transitions: db::scalar(
            pool,
            "SELECT COUNT(*) FROM sla_transitions WHERE kind = 'escalate'",
            &[],
        )
        .await?,
        audit: db::scalar(pool, "SELECT COUNT(*) FROM audit_log WHERE action = 'escalate'", &[]).await?,
        outbox: db::scalar(pool, "SELECT COUNT(*) FROM outbox", &[]).await?,
        fields: fields(pool).await?,
    })
}

/// Runs `runs` ticks and floors on copies of `template`.
pub async fn measure(dbs: &mut Databases, template: &Db, runs: usize, due: i64) -> Result<TickRuns> {
    let mut out = TickRuns::default();
    for run in 0..runs {
        let copy = dbs.copy(template, "tick").await?;
        let (ms, rss, tick_effects) = tick_once(&copy).await?;
        dbs.remove(&copy).await?;
        let copy = dbs.copy(template, "floor").await?;
        let (floor, floor_effects) = floor_once(&copy).await?;
        dbs.remove(&copy).await?;
        eprintln!("    run {}: tick {ms:.0} ms, floor {floor:.0} ms", run + 1);
        if tick_effects != floor_effects || tick_effects.escalated != due {
            let note = format!("effects differ: tick {tick_effects:?}, floor {floor_effects:?}, expected {due} due");
            eprintln!("    warning: {note}");
            out.notes.push(note);
        }
        out.tick_ms.push(ms);
        out.floor_ms.push(floor);
        out.tick_rss_mb.extend(rss);
    }
    Ok(out)
}

/// One engine tick, as the scheduler runs it (lease, rules, directory, pages of due rows).
pub async fn tick_once(db: &Db) -> Result<(f64, Option<f64>, Effects)> {
    let store = escalator_storage::connect(&db.url).await?;
    store.ping().await?;
    let pool = store.pool();
    let engine = Escalator::new(
        store,
        Channels::only(Arc::new(Noop)),
        Arc::new(Metrics::new(900.0)?),
        EngineConfig {
            batch_size: BATCH_SIZE.get().copied().unwrap_or(EngineConfig::default().batch_size),
            ..EngineConfig::default()
        },
    );
    memory::reset_peak();
    let cpu = memory::cpu_seconds();
    let started = Instant::now();
    let summary = engine.tick().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let (Some(before), Some(after)) = (cpu, memory::cpu_seconds()) {
        eprintln!(
            "    tick: {ms:.0} ms wall, {:.0} ms CPU in the bench process (SQLite runs in it, PostgreSQL does not)",
            (after - before) * 1000.0
        );
    }
    let rss = memory::peak_mb("self");
    if summary.failed > 0 || summary.skipped {
        eprintln!("    warning: tick summary {summary:?}");
    }
    let effects = effects(&pool).await?;
    db::close(&pool).await;
    Ok((ms, rss, effects))
}

/// The floor: four set-based statements in one transaction, writing the same rows with
/// the same JSON fields as the engine.
async fn floor_once(db: &Db) -> Result<(f64, Effects)> {
    let store = escalator_storage::connect(&db.url).await?;
    store.ping().await?;
    let pool = store.pool();
    let postgres = db.backend == "postgres";
    let now = escalator_engine::clock::now();
    let due_at = now + TimeDelta::seconds(LEVEL1_SECONDS);
    let warn_at = due_at - TimeDelta::seconds(WARN_BEFORE_SECONDS);
    let statements = floor_statements(postgres, now, warn_at, due_at);
    let cpu = memory::cpu_seconds();
    let started = Instant::now();
    db::exec_in_transaction(&pool, &statements).await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let (Some(before), Some(after)) = (cpu, memory::cpu_seconds()) {
        eprintln!("    floor: {ms:.0} ms wall, {:.0} ms CPU", (after - before) * 1000.0);
    }
    let effects = effects(&pool).await?;
    db::close(&pool).await;
    Ok((ms, effects))
}

fn floor_statements(
    postgres: bool,
    now: chrono::DateTime<Utc>,
    warn_at: chrono::DateTime<Utc>,
    due_at: chrono::DateTime<Utc>,
) -> Vec<(String, Vec<Arg>)> {
    let due = "w.next_check_at IS NOT NULL AND w.next_check_at <= $1";
    let elapsed = if postgres {
        "CAST(EXTRACT(EPOCH FROM ($1 - w.level_started_at)) AS bigint)"
    } else {
        "(CAST(strftime('%s', $1) AS INTEGER) - CAST(strftime('%s', w.level_started_at) AS INTEGER))"
    };
    let due_text = if postgres { "w.due_at::text" } else { "w.due_at" };
    // Timestamps in the payloads as the engine's JSON writes them.
    let json_time = |t: chrono::DateTime<Utc>| serde_json::to_value(t).ok().and_then(|v| v.as_str().map(String::from));
    let next_due = json_time(due_at).unwrap_or_default();
    let at = json_time(now).unwrap_or_default();
    let transitions = format!(
        "INSERT INTO sla_transitions (workflow_id, stage_seq, level, kind, at) \
         SELECT w.id, w.stage_seq, w.level, 'escalate', $1 FROM workflows w WHERE {due}"
    );
    // The same fields as the engine's `escalate` audit entry.
    let audit = format!(
        "INSERT INTO audit_log (at, actor, action, workflow_id, details) \
         SELECT $1, 'system', 'escalate', w.id, \
         '{{\"acknowledged_until\":null,\"due_at\":\"' || {due_text} || '\",\"elapsed\":\"' || ({elapsed} / 3600) || \
         'h\",\"elapsed_seconds\":' || {elapsed} || ',\"from_assignee\":\"' || w.assignee_email || \
         '\",\"from_level\":' || w.level || ',\"next_due_at\":\"' || $2 || '\",\"note\":null,\"passed_over\":[],\
         \"reason\":\"sla_breach\",\"to_assignee\":\"' || d.head_email || '\",\"to_level\":' || (w.level + 1) || '}}' \
         FROM workflows w JOIN departments d ON d.key = w.department_key WHERE {due}"
    );
    // The engine's event row (the `workflow.escalated` event) and its message row (the
    // event with its addressees added): the same fields, so the same bytes to write.
    let outbox = format!(
        "INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, next_attempt_at, channel) \
         SELECT $1, k.kind, 'workflow.escalated', w.id, \
         '{{\"workflow\":{{\"id\":' || w.id || ',\"external_id\":\"' || w.external_id || '\",\"type\":\"' || \
         w.workflow_type || '\",\"title\":\"' || w.title || '\",\"department\":\"' || w.department_key || \
         '\",\"initiator\":\"' || w.initiator_email || '\",\"stage\":\"' || w.stage || \
         '\",\"status\":\"escalated\",\"assignee\":\"' || d.head_email || '\",\"level\":' || (w.level + 1) || \
         ',\"due_at\":\"' || $2 || '\"}},\"actor\":\"system\",\"at\":\"' || $3 || \
         '\",\"event\":\"escalated\",\"from_assignee\":\"' || w.assignee_email || '\",\"to_assignee\":\"' || \
         d.head_email || '\",\"from_level\":' || w.level || ',\"to_level\":' || (w.level + 1) || \
         ',\"elapsed_seconds\":' || {elapsed} || ',\"breached_due_at\":\"' || {due_text} || \
         '\",\"skipped\":[],\"passed_over\":[],\"acknowledged_until\":null' || \
         CASE WHEN k.kind = 'notification' THEN ',\"template\":\"escalation\",\"to\":[\"' || d.head_email || \
         '\"],\"cc\":[\"' || w.assignee_email || '\",\"' || w.initiator_email || '\"]' ELSE '' END || '}}', \
         'escalate:' || w.id || ':' || w.stage_seq || ':' || w.level || k.suffix, 'pending', 0, $1, NULL \
         FROM workflows w JOIN departments d ON d.key = w.department_key \
         CROSS JOIN (SELECT 'notification' AS kind, ':notify' AS suffix UNION ALL SELECT 'event', ':event') AS k \
         WHERE {due}"
    );
    let update = "UPDATE workflows SET status = 'escalated', \
         assignee_email = (SELECT d.head_email FROM departments d WHERE d.key = workflows.department_key), \
         level = level + 1, level_started_at = $1, warn_at = $2, due_at = $3, next_check_at = $2, updated_at = $1, \
         version = version + 1 WHERE next_check_at IS NOT NULL AND next_check_at <= $1"
        .to_string();
    vec![
        (transitions, vec![Arg::Time(now)]),
        (audit, vec![Arg::Time(now), Arg::Text(next_due.clone())]),
        (outbox, vec![Arg::Time(now), Arg::Text(next_due), Arg::Text(at)]),
        (update, vec![Arg::Time(now), Arg::Time(warn_at), Arg::Time(due_at)]),
    ]
}
