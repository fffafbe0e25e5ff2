//! The SQLite backend: the embedded default, one file next to the binary, WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::lock::HeldLock;
use crate::sql::{Dialect, HasDb};
use crate::{DbSettings, StoreResult};

/// A store on a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

pub(crate) const DIALECT: Dialect = Dialect {
    // Take the write lock up front: a deferred transaction that reads then writes can
    // fail with SQLITE_BUSY instead of waiting for the busy timeout.
    begin_write: "BEGIN IMMEDIATE",
    skip_locked: "",
    // BEGIN IMMEDIATE already serialises writers.
    for_update: "",
    // Timestamps are stored as RFC 3339 text in UTC.
    ended_day: "substr(ended_at, 1, 10)",
};

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite:` URL.
    pub async fn connect(url: &str, settings: &DbSettings) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(settings.busy_timeout)
            .pragma("temp_store", "memory")
            // 8 MB of page cache per connection (SQLite's default is 2 MB): a tick page of
            // 2,000 due rows, one in five hundred at a million workflows, touches ~2,000 table
            // pages and their index pages to decide and again to write; 4 MB evicted them in
            // between. At 1M open: tick/floor 1.46x with 4 MB, 1.44x with 8, 1.41x with 16,
            // and the tick's peak RSS 161, 160 and 218 MB. At most 64 MB for the pool of 8,
            // allocated only as pages are read.
            .pragma("cache_size", "-8192");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// The pool, shared with the job queue (apalis) so both use one file and one writer.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        let mut migrator = sqlx::migrate!("../migrations/sqlite");
        // apalis-sqlite keeps its history in sqlx's default table in the same file.
        migrator.dangerous_set_table_name("escalator_migrations");
        migrator.run(&self.pool).await?;
        Ok(())
    }

    async fn lock(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<Option<Box<dyn HeldLock>>> {
        crate::lock::lease(&self.pool, name, holder, ttl).await
    }
}

impl HasDb for SqliteStore {
    type Db = sqlx::Sqlite;
}

impl SqliteStore {
    /// The version-checked updates of changes (one, or a tick's page), as `UPDATE … FROM (VALUES …)`
    /// of as many rows as SQLite binds at once (anonymous `?` parameters, see `rows_of`);
    /// returns the ids it updated.
    pub(crate) async fn update_versions(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        changes: &[crate::WorkflowChange],
    ) -> StoreResult<std::collections::HashSet<i64>> {
        let mut updated = std::collections::HashSet::new();
        for chunk in changes.chunks(crate::sql::batch_rows(16)) {
            let sql = format!(
                "UPDATE workflows SET status = v.column3, stage = v.column4, stage_seq = v.column5, \
                 assignee_email = v.column6, level = v.column7, policy_id = v.column8, stage_started_at = v.column9, \
                 level_started_at = v.column10, warn_at = v.column11, due_at = v.column12, next_check_at = v.column13, \
                 closed_at = v.column14, updated_at = v.column15, version = workflows.version + 1, policy_version = v.column16 \
                 FROM (VALUES {}) AS v WHERE workflows.id = v.column1 AND workflows.version = v.column2 \
                 RETURNING workflows.id",
                crate::sql::value_rows(crate::Backend::Sqlite, chunk.len(), 16)
            );
            let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                let s = &c.state;
                q = q
                    .bind(c.workflow_id)
                    .bind(c.expected_version)
                    .bind(s.status.as_str())
                    .bind(&s.stage)
                    .bind(s.stage_seq)
                    .bind(&s.assignee)
                    .bind(i64::from(s.level))
                    .bind(s.policy_id)
                    .bind(s.stage_started_at)
                    .bind(s.level_started_at)
                    .bind(s.warn_at)
                    .bind(s.due_at)
                    .bind(s.next_check_at)
                    .bind(s.closed_at)
                    .bind(c.now)
                    .bind(s.policy_version);
            }
            updated.extend(q.fetch_all(&mut **tx).await?);
        }
        Ok(updated)
    }

    /// The transition claims of a page, as `INSERT … VALUES` of as many rows as SQLite
    /// binds at once; returns the workflows whose claim was new.
    pub(crate) async fn insert_claims(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        claims: &[(&crate::WorkflowChange, crate::Claim)],
    ) -> StoreResult<std::collections::HashSet<i64>> {
        let mut claimed = std::collections::HashSet::new();
        for chunk in claims.chunks(crate::sql::batch_rows(6)) {
            let sql = format!(
                "INSERT INTO sla_transitions (workflow_id, stage_seq, level, kind, at, seq) VALUES {} \
                 ON CONFLICT DO NOTHING RETURNING workflow_id",
                crate::sql::value_rows(crate::Backend::Sqlite, chunk.len(), 6)
            );
            let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
            for (c, claim) in chunk {
                q = q
                    .bind(c.workflow_id)
                    .bind(claim.stage_seq)
                    .bind(i64::from(claim.level))
                    .bind(claim.kind_str())
                    .bind(c.now)
                    .bind(i64::from(claim.seq));
            }
            claimed.extend(q.fetch_all(&mut **tx).await?);
        }
        Ok(claimed)
    }

    /// Audit entries, as `INSERT … VALUES`.
    pub(crate) async fn insert_audits(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        audits: &[&crate::NewAudit],
    ) -> StoreResult<()> {
        for chunk in audits.chunks(crate::sql::batch_rows(5)) {
            let sql = format!(
                "INSERT INTO audit_log (at, actor, action, workflow_id, details) VALUES {}",
                crate::sql::value_rows(crate::Backend::Sqlite, chunk.len(), 5)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = q
                    .bind(a.at)
                    .bind(&a.actor)
                    .bind(&a.action)
                    .bind(a.workflow_id)
                    .bind(a.details.to_string());
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Applies changes that `batchable` admits in one transaction of multi-row statements.
    pub(crate) async fn apply_batched(&self, changes: &[crate::WorkflowChange]) -> StoreResult<Vec<crate::Applied>> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let outcomes = Self::apply_batch(&mut tx, changes).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    /// The outbox rows of changes, as `INSERT … VALUES`; a dedupe key already there is skipped.
    pub(crate) async fn insert_messages(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        messages: &[crate::sql::Queued<'_>],
    ) -> StoreResult<()> {
        for chunk in messages.chunks(crate::sql::batch_rows(10)) {
            let rows = crate::sql::rows_of(
                crate::Backend::Sqlite,
                chunk.len(),
                "(?, ?, ?, ?, ?, ?, 'pending', 0, COALESCE(?, ?), ?, ?)",
            );
            let sql = format!(
                "INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, \
                 next_attempt_at, channel, recipient) VALUES {rows} ON CONFLICT (dedupe_key) DO NOTHING"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (at, workflow_id, o) in chunk {
                q = q
                    .bind(at)
                    .bind(o.kind.as_str())
                    .bind(&o.topic)
                    .bind(workflow_id)
                    .bind(o.payload.as_str())
                    .bind(&o.dedupe_key)
                    .bind(o.not_before)
                    .bind(at)
                    .bind(o.channel.as_deref())
                    .bind(o.recipient.as_deref());
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// The store's roles: the same SQL as PostgreSQL's, compiled for this pool type
/// (`storage/src/roles/`, one file per role).
mod roles {
    use super::{SqliteStore as Db, DIALECT};
    use crate::prelude::*;
    const BACKEND: crate::Backend = crate::Backend::Sqlite;
    include!("roles/database.rs");
    include!("roles/directory.rs");
    include!("roles/rules.rs");
    include!("roles/workflows.rs");
    include!("roles/outbox.rs");
    include!("roles/inbox.rs");
    include!("roles/access.rs");
    include!("roles/availability.rs");
    include!("roles/reports.rs");
    include!("roles/helpers.rs");
}

impl From<SqlitePool> for crate::DbPool {
    fn from(pool: SqlitePool) -> Self {
        crate::DbPool::Sqlite(pool)
    }
}
