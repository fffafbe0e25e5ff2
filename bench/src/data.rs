//! The benchmark data: a directory (ten departments with a head, an approver and an
//! initiator each), one policy (24 h, warn 2 h before) and one chain (department head,
//! then the COO) through the store, then `open` workflows written in bulk by SQL exactly as
//! `create_workflow` writes them (a workflow row with its clock and `next_check_at`, and a
//! `create` audit entry). `due` of them, spread evenly over the ids, started 30 h ago and
//! are breached (the tick escalates them to their department head); the others started in
//! the last 10 h and are next checked 12–22 h from now.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use escalator_domain::{
    Department, DepartmentKey, Email, EscalationChain, Level, Role, SlaPolicy, Target, User, WarningWindow,
};
use escalator_storage::{DbPool, Store};

use crate::db::{self, Arg, Databases, Db};
use crate::Result;

pub const DEPARTMENTS: i64 = 10;
pub const ADMIN: &str = "admin@bench.example";
/// Level 1's time limit (the department head) and the policy's warning lead.
pub const LEVEL1_SECONDS: i64 = 8 * 3600;
pub const WARN_BEFORE_SECONDS: i64 = 2 * 3600;
const TARGET_SECONDS: i64 = 24 * 3600;
/// Bump when the generated data changes, so kept templates are rebuilt.
const GENERATOR_VERSION: u32 = 2;

/// What the generated workflows point at.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub policy_id: i64,
    pub policy_version: i64,
    pub chain_id: i64,
}

async fn directory(store: &Arc<dyn Store>, now: DateTime<Utc>) -> Result<Rules> {
    let email = |s: &str| Email::parse(s);
    for (address, name) in [(ADMIN, "Bench Admin"), ("coo@bench.example", "Bench COO")] {
        let user = User {
            email: email(address)?,
            name: name.into(),
            role: Role::Admin,
            department: None,
            manager: None,
            phone: None,
        };
        store.upsert_user(&user, now).await?;
    }
    for d in 0..DEPARTMENTS {
        let key = DepartmentKey::parse(&format!("dept{d}"))?;
        let department = |head: Option<Email>| Department {
            key: key.clone(),
            name: format!("Department {d}"),
            head,
        };
        store.upsert_department(&department(None), now).await?;
        let head = email(&format!("head.dept{d}@bench.example"))?;
        let people = [
            (head.clone(), Role::DepartmentHead, Some(email("coo@bench.example")?)),
            (
                email(&format!("approver.dept{d}@bench.example"))?,
                Role::Approver,
                Some(head.clone()),
            ),
            (
                email(&format!("initiator.dept{d}@bench.example"))?,
                Role::Viewer,
                Some(head.clone()),
            ),
        ];
        for (address, role, manager) in people {
            let user = User {
                name: address.as_str().into(),
                email: address,
                role,
                department: Some(key.clone()),
                manager,
                phone: None,
            };
            store.upsert_user(&user, now).await?;
        }
        store.upsert_department(&department(Some(head)), now).await?;
    }
    let policy = SlaPolicy::new(
        "Bench (24 h, warn 2 h before)",
        TARGET_SECONDS,
        WarningWindow::BeforeDeadline {
            seconds: WARN_BEFORE_SECONDS,
        },
    )?;
    let policy = store.create_policy(&policy, None, now).await?;
    let chain = EscalationChain::new(
        "Bench: department head, then COO",
        vec![
            Level {
                target: Target::DepartmentHead,
                time_limit_seconds: LEVEL1_SECONDS,
            },
            Level {
                target: Target::User {
                    email: email("coo@bench.example")?,
                },
                time_limit_seconds: LEVEL1_SECONDS,
            },
        ],
    )?;
    let chain = store.create_chain(&chain, now).await?;
    Ok(Rules {
        policy_id: policy.id,
        policy_version: policy.version,
        chain_id: chain.id,
    })
}

/// The INSERT … SELECT that writes `$1` workflows; `$2` is now (Unix seconds), `$3` the
/// spacing of due workflows, `$4`–`$6` policy, version and chain.
fn workflows_sql(postgres: bool) -> String {
    let numbers = db::numbers_sql(postgres, 1);
    let t = |expr: &str| db::unix_time_sql(postgres, expr);
    format!(
        "INSERT INTO workflows (external_id, workflow_type, title, stage, stage_seq, department_key, \
         initiator_email, assignee_email, status, level, policy_id, chain_id, stage_started_at, level_started_at, \
         warn_at, due_at, next_check_at, version, created_at, updated_at, closed_at, idempotency_key, policy_version) \
         SELECT 'BENCH-' || i, 'purchase', 'Bench purchase ' || i, 'Manager Approval', 1, 'dept' || (i % {DEPARTMENTS}), \
         'initiator.dept' || (i % {DEPARTMENTS}) || '@bench.example', 'approver.dept' || (i % {DEPARTMENTS}) || '@bench.example', \
         'pending', 0, $4, $6, {start}, {start}, {warn}, {due}, {warn}, 0, {start}, {start}, NULL, NULL, $5 \
         FROM (SELECT i, CASE WHEN i % $3 = 0 THEN $2 - 108000 - (i % 3600) ELSE $2 - (i % 36000) END AS s \
               FROM ({numbers}) AS n) AS x ORDER BY i",
        start = t("s"),
        warn = t(&format!("s + {}", TARGET_SECONDS - WARN_BEFORE_SECONDS)),
        due = t(&format!("s + {TARGET_SECONDS}")),
    )
}

/// The `create` audit entry of every workflow, as `create_workflow` writes it.
fn audits_sql(postgres: bool) -> String {
    let text = |col: &str| {
        if postgres {
            format!("{col}::text")
        } else {
            col.to_string()
        }
    };
    format!(
        "INSERT INTO audit_log (at, actor, action, workflow_id, details) \
         SELECT created_at, '{ADMIN}', 'create', id, \
         '{{\"external_id\":\"' || external_id || '\",\"stage\":\"' || stage || '\",\"assignee\":\"' || assignee_email || \
         '\",\"started_at\":\"' || {} || '\",\"due_at\":\"' || {} || '\"}}' FROM workflows ORDER BY id",
        text("stage_started_at"),
        text("due_at")
    )
}

/// Builds the template with `open` workflows, `due` due (or reuses it: `--keep-data`,
/// `--reuse-data`).
pub async fn template(dbs: &mut Databases, backend: &'static str, open: i64, due: i64) -> Result<Db> {
    let name = format!("escalator_bench_tmpl_{open}_{due}_v{GENERATOR_VERSION}");
    if let Some(db) = dbs.existing(backend, &name).await? {
        if still_valid(&db, open, due).await? {
            eprintln!("  reusing {backend} template {name}");
            return Ok(db);
        }
    }
    let started = Instant::now();
    let (db, store) = dbs.empty(backend, &name).await?;
    let now = Utc::now();
    let rules = directory(&store, now).await?;
    // The load runs on fresh connections: a SQLite connection that served the directory's
    // writes can keep a statement with an old read snapshot, and a CREATE INDEX parsed
    // there still sees the index dropped below ("index … already exists").
    db::close(&store.pool()).await;
    let store = escalator_storage::connect(&db.url).await?;
    let pool = store.pool();
    let postgres = backend == "postgres";
    let every = (open / due.max(1)).max(1);
    let args = [
        Arg::Int(open),
        Arg::Int(now.timestamp()),
        Arg::Int(every),
        Arg::Int(rules.policy_id),
        Arg::Int(rules.policy_version),
        Arg::Int(rules.chain_id),
    ];
    // Secondary indexes are dropped during the load and built afterwards from their own
    // definitions (a sort instead of a million random inserts); the schema ends identical.
    let indexes = secondary_indexes(&pool, postgres).await?;
    for (name, _) in &indexes {
        db::exec(&pool, &format!("DROP INDEX {name}"), &[]).await?;
    }
    if postgres {
        db::exec(&pool, &workflows_sql(true), &args).await?;
    } else {
        // A bigger page cache for the load and the index builds (this connection only).
        db::exec(&pool, "PRAGMA cache_size = -200000", &[]).await?;
        db::exec_in_transaction(&pool, &[(workflows_sql(false), args.to_vec())]).await?;
    }
    db::exec(&pool, &audits_sql(postgres), &[]).await?;
    for (_, definition) in &indexes {
        db::exec(&pool, definition, &[]).await?;
    }
    if secondary_indexes(&pool, postgres).await? != indexes {
        return Err(format!("{backend} template {name}: the indexes differ after the load").into());
    }
    let due_now = count_due(&pool, now).await?;
    dbs.seal(&db, store).await?;
    eprintln!(
        "  built {backend} template: {open} open workflows ({due_now} due) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(db)
}

/// (name, CREATE statement) of the indexes on the two big tables that no constraint owns.
async fn secondary_indexes(pool: &DbPool, postgres: bool) -> Result<Vec<(String, String)>> {
    let sql = if postgres {
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' \
         AND tablename IN ('workflows', 'audit_log') \
         AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
    } else {
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('workflows', 'audit_log') \
         AND sql IS NOT NULL ORDER BY name"
    };
    Ok(match pool {
        DbPool::Sqlite(p) => sqlx::query_as::<_, (String, String)>(sql).fetch_all(p).await?,
        DbPool::Postgres(p) => sqlx::query_as::<_, (String, String)>(sql).fetch_all(p).await?,
    })
}

async fn count_due(pool: &DbPool, at: DateTime<Utc>) -> Result<i64> {
    db::scalar(
        pool,
        "SELECT COUNT(*) FROM workflows WHERE next_check_at IS NOT NULL AND next_check_at <= $1",
        &[Arg::Time(at)],
    )
    .await
}

/// A kept template is valid while exactly `due` workflows are due within the next hour.
async fn still_valid(db: &Db, open: i64, due: i64) -> Result<bool> {
    let store = escalator_storage::connect(&db.url).await?;
    let pool = store.pool();
    // Migrations embedded in this binary that the template lacks make it stale.
    let applied = "SELECT COUNT(*) FROM escalator_migrations";
    let before = db::scalar(&pool, applied, &[]).await?;
    store.migrate().await?;
    if db::scalar(&pool, applied, &[]).await? != before {
        db::close(&pool).await;
        return Ok(false);
    }
    let soon = count_due(&pool, Utc::now() + chrono::TimeDelta::hours(1)).await?;
    let all = db::scalar(&pool, "SELECT COUNT(*) FROM workflows", &[]).await?;
    db::close(&pool).await;
    Ok(soon == due && all == open)
}
