//! The PostgreSQL backend: production and multi-replica deployments.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::lock::{AdvisoryLocks, HeldLock};
use crate::sql::{Dialect, HasDb};
use crate::{DbSettings, StoreResult};

/// A store on a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The pool's settings, for the connections that must not come from the pool
    /// (migrations without a statement timeout, advisory locks).
    options: PgConnectOptions,
    locks: AdvisoryLocks,
}

pub(crate) const DIALECT: Dialect = Dialect {
    begin_write: "BEGIN",
    skip_locked: "FOR UPDATE SKIP LOCKED",
    for_update: "FOR UPDATE",
    ended_day: "to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
};

impl PgStore {
    /// Connects to a `postgres://` URL. Every pooled session gets the settings'
    /// `statement_timeout` (so a statement whose client died does not run on for minutes)
    /// and an idle-in-transaction timeout.
    pub async fn connect(url: &str, settings: &DbSettings) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?;
        let idle_in_transaction = settings.statement_timeout.saturating_mul(2);
        let pooled = options.clone().options([
            (
                "statement_timeout",
                format!("{}ms", settings.statement_timeout.as_millis()),
            ),
            (
                "idle_in_transaction_session_timeout",
                format!("{}ms", idle_in_transaction.as_millis()),
            ),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(pooled)
            .await?;
        Ok(Self {
            pool,
            locks: AdvisoryLocks::new(options.clone()),
            options,
        })
    }

    /// The pool, shared with the job queue (apalis).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the migrations on a connection of their own, without the pool's statement
    /// timeout: building an index on a large table may take longer than any request should.
    async fn run_migrations(&self) -> StoreResult<()> {
        let mut migrator = sqlx::migrate!("../migrations/postgres");
        migrator.dangerous_set_table_name("escalator_migrations");
        let unlimited = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.options.clone())
            .await?;
        let result = migrator.run(&unlimited).await;
        unlimited.close().await;
        Ok(result?)
    }

    async fn lock(
        &self,
        name: &str,
        _holder: &str,
        _ttl: std::time::Duration,
    ) -> StoreResult<Option<Box<dyn HeldLock>>> {
        self.locks.try_lock(name).await
    }
}

impl HasDb for PgStore {
    type Db = sqlx::Postgres;
}

/// One array to bind for `UNNEST`: a column of `rows`, in their order.
/// The most changes written as one statement. Its CTEs join on each other's results, of
/// which a generic plan knows no sizes: at a tick's page of 2,000 the statement took twice
/// as long as the same writes as separate statements (whose plans need no such join).
const ONE_STATEMENT_UP_TO: usize = 16;

fn column<'a, R, T>(rows: &'a [R], f: impl Fn(&'a R) -> T) -> Vec<T> {
    rows.iter().map(f).collect()
}

/// The version-checked update of a page, `$1`–`$16` bound by [`bind_versions`], returning
/// the ids it updated: `update_versions`, and the first CTE of `apply_batched`.
macro_rules! update_versions_sql {
    () => {
        "UPDATE workflows SET status = v.status, stage = v.stage, stage_seq = v.stage_seq, \
         assignee_email = v.assignee, level = v.level, policy_id = v.policy_id, stage_started_at = v.stage_started_at, \
         level_started_at = v.level_started_at, warn_at = v.warn_at, due_at = v.due_at, next_check_at = v.next_check_at, \
         closed_at = v.closed_at, updated_at = v.updated_at, version = workflows.version + 1, policy_version = v.policy_version \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], \
         $8::bigint[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], \
         $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::bigint[]) \
         AS v(id, expected_version, status, stage, stage_seq, assignee, level, policy_id, stage_started_at, \
         level_started_at, warn_at, due_at, next_check_at, closed_at, updated_at, policy_version) \
         WHERE workflows.id = v.id AND workflows.version = v.expected_version AND workflows.id = ANY($1::bigint[]) \
         RETURNING workflows.id"
    };
}

/// Binds the 16 arrays of [`update_versions_sql`] for `changes`.
fn bind_versions<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    changes: &'q [crate::WorkflowChange],
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(column(changes, |c| c.workflow_id))
        .bind(column(changes, |c| c.expected_version))
        .bind(column(changes, |c| c.state.status.as_str()))
        .bind(column(changes, |c| c.state.stage.as_str()))
        .bind(column(changes, |c| c.state.stage_seq))
        .bind(column(changes, |c| c.state.assignee.as_str()))
        .bind(column(changes, |c| i64::from(c.state.level)))
        .bind(column(changes, |c| c.state.policy_id))
        .bind(column(changes, |c| c.state.stage_started_at))
        .bind(column(changes, |c| c.state.level_started_at))
        .bind(column(changes, |c| c.state.warn_at))
        .bind(column(changes, |c| c.state.due_at))
        .bind(column(changes, |c| c.state.next_check_at))
        .bind(column(changes, |c| c.state.closed_at))
        .bind(column(changes, |c| c.now))
        .bind(column(changes, |c| c.state.policy_version))
}

impl PgStore {
    /// The version-checked updates of changes (one, or a tick's page), as one `UPDATE … FROM UNNEST(…)`
    /// over 16 arrays: PostgreSQL binds and plans 16 parameters instead of 16 per row
    /// (binding 8,000 for a page of 500 took 44 ms per 10k escalations). Returns the ids
    /// it updated. The redundant `id = ANY($1)` lets the planner find the rows through the
    /// primary key: with the join alone it hashed the whole table for a page of 2,000 at
    /// 100k open (92 against 52 ms a page).
    pub(crate) async fn update_versions(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        changes: &[crate::WorkflowChange],
    ) -> StoreResult<std::collections::HashSet<i64>> {
        let ids: Vec<(i64,)> = bind_versions(sqlx::query_as(update_versions_sql!()), changes)
            .fetch_all(&mut **tx)
            .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    /// The transition claims of a page, as one `INSERT … SELECT FROM UNNEST(…)` over six
    /// arrays; returns the workflows whose claim was new.
    pub(crate) async fn insert_claims(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        claims: &[(&crate::WorkflowChange, crate::Claim)],
    ) -> StoreResult<std::collections::HashSet<i64>> {
        if claims.is_empty() {
            return Ok(std::collections::HashSet::new());
        }
        let claimed: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO sla_transitions (workflow_id, stage_seq, level, kind, at, seq) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[], $6::bigint[]) \
             ON CONFLICT DO NOTHING RETURNING workflow_id",
        )
        .bind(column(claims, |(c, _)| c.workflow_id))
        .bind(column(claims, |(_, claim)| claim.stage_seq))
        .bind(column(claims, |(_, claim)| i64::from(claim.level)))
        .bind(column(claims, |(_, claim)| claim.kind_str()))
        .bind(column(claims, |(c, _)| c.now))
        .bind(column(claims, |(_, claim)| i64::from(claim.seq)))
        .fetch_all(&mut **tx)
        .await?;
        Ok(claimed.into_iter().collect())
    }

    /// Audit entries, as one `INSERT … SELECT FROM UNNEST(…)` over five arrays.
    pub(crate) async fn insert_audits(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        audits: &[&crate::NewAudit],
    ) -> StoreResult<()> {
        if audits.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, workflow_id, details) \
             SELECT * FROM UNNEST($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::text[])",
        )
        .bind(column(audits, |a| a.at))
        .bind(column(audits, |a| a.actor.as_str()))
        .bind(column(audits, |a| a.action.as_str()))
        .bind(column(audits, |a| a.workflow_id))
        .bind(column(audits, |a| a.details.to_string()))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Applies changes that `batchable` admits. Up to [`ONE_STATEMENT_UP_TO`] of them (a
    /// threshold's own few) as one statement, atomic by itself (no BEGIN and COMMIT round
    /// trips): a threshold's write is one round trip. Its CTEs do
    /// what SQLite's `apply_batch` does statement by statement: the version-checked
    /// updates (`u`), the transition claims of the updated (`c`), then the reminders,
    /// audit entries and outbox rows of the changes both updated and claimed (`d`).
    pub(crate) async fn apply_batched(&self, changes: &[crate::WorkflowChange]) -> StoreResult<Vec<crate::Applied>> {
        if changes.len() > ONE_STATEMENT_UP_TO {
            let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
            let outcomes = Self::apply_batch(&mut tx, changes).await?;
            tx.commit().await?;
            return Ok(outcomes);
        }
        let claims: Vec<(&crate::WorkflowChange, crate::Claim)> =
            changes.iter().filter_map(|c| c.claim.map(|claim| (c, claim))).collect();
        let reminders: Vec<(&crate::WorkflowChange, &crate::NewReminder)> = changes
            .iter()
            .filter_map(|c| c.reminder.as_ref().map(|r| (c, r)))
            .collect();
        let audits: Vec<(&crate::WorkflowChange, &crate::NewAudit)> = changes
            .iter()
            .flat_map(|c| c.audit.iter().map(move |a| (c, a)))
            .collect();
        let messages: Vec<(&crate::WorkflowChange, &crate::NewOutbox)> = changes
            .iter()
            .flat_map(|c| c.outbox.iter().map(move |o| (c, o)))
            .collect();
        let statement = sqlx::query_as(concat!(
            "WITH u AS (",
            update_versions_sql!(),
            "), \
             c AS (\
               INSERT INTO sla_transitions (workflow_id, stage_seq, level, kind, at, seq) \
               SELECT k.* FROM UNNEST($17::bigint[], $18::bigint[], $19::bigint[], $20::text[], $21::timestamptz[], $22::bigint[]) \
               AS k(workflow_id, stage_seq, level, kind, at, seq) WHERE k.workflow_id IN (SELECT id FROM u) \
               ON CONFLICT DO NOTHING RETURNING workflow_id), \
             d AS (SELECT id FROM u WHERE id <> ALL($17::bigint[]) UNION ALL SELECT workflow_id FROM c), \
             r AS (\
               INSERT INTO reminders (workflow_id, stage_seq, level, assignee_email, due_at, created_at, sent_count, last_sent_at) \
               SELECT x.workflow_id, x.stage_seq, x.level, x.assignee, x.due_at, x.at, 1, x.at \
               FROM UNNEST($23::bigint[], $24::bigint[], $25::bigint[], $26::text[], $27::timestamptz[], $28::timestamptz[]) \
               AS x(workflow_id, stage_seq, level, assignee, due_at, at) WHERE x.workflow_id IN (SELECT id FROM d) \
               ON CONFLICT DO NOTHING), \
             a AS (\
               INSERT INTO audit_log (at, actor, action, workflow_id, details) \
               SELECT x.at, x.actor, x.action, x.workflow_id, x.details \
               FROM UNNEST($29::timestamptz[], $30::text[], $31::text[], $32::bigint[], $33::text[], $34::bigint[]) \
               AS x(at, actor, action, workflow_id, details, owner) WHERE x.owner IN (SELECT id FROM d)), \
             m AS (\
               INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, \
               next_attempt_at, channel, recipient) \
               SELECT v.created_at, v.kind, v.topic, v.workflow_id, v.payload, v.dedupe_key, 'pending', 0, \
               COALESCE(v.not_before, v.created_at), v.channel, v.recipient \
               FROM UNNEST($35::timestamptz[], $36::text[], $37::text[], $38::bigint[], $39::text[], $40::text[], \
               $41::timestamptz[], $42::text[], $43::text[]) \
               AS v(created_at, kind, topic, workflow_id, payload, dedupe_key, not_before, channel, recipient) \
               WHERE v.workflow_id IN (SELECT id FROM d) \
               ON CONFLICT (dedupe_key) DO NOTHING) \
             SELECT u.id, u.id IN (SELECT id FROM d) FROM u"
        ));
        let rows: Vec<(i64, bool)> = bind_versions(statement, changes)
            .bind(column(&claims, |(c, _)| c.workflow_id))
            .bind(column(&claims, |(_, claim)| claim.stage_seq))
            .bind(column(&claims, |(_, claim)| i64::from(claim.level)))
            .bind(column(&claims, |(_, claim)| claim.kind_str()))
            .bind(column(&claims, |(c, _)| c.now))
            .bind(column(&claims, |(_, claim)| i64::from(claim.seq)))
            .bind(column(&reminders, |(c, _)| c.workflow_id))
            .bind(column(&reminders, |(c, _)| c.state.stage_seq))
            .bind(column(&reminders, |(c, _)| i64::from(c.state.level)))
            .bind(column(&reminders, |(_, r)| r.assignee.as_str()))
            .bind(column(&reminders, |(_, r)| r.due_at))
            .bind(column(&reminders, |(c, _)| c.now))
            .bind(column(&audits, |(_, a)| a.at))
            .bind(column(&audits, |(_, a)| a.actor.as_str()))
            .bind(column(&audits, |(_, a)| a.action.as_str()))
            .bind(column(&audits, |(_, a)| a.workflow_id))
            .bind(column(&audits, |(_, a)| a.details.to_string()))
            .bind(column(&audits, |(c, _)| c.workflow_id))
            .bind(column(&messages, |(c, _)| c.now))
            .bind(column(&messages, |(_, o)| o.kind.as_str()))
            .bind(column(&messages, |(_, o)| o.topic.as_str()))
            .bind(column(&messages, |(c, _)| c.workflow_id))
            .bind(column(&messages, |(_, o)| o.payload.as_str()))
            .bind(column(&messages, |(_, o)| o.dedupe_key.as_str()))
            .bind(column(&messages, |(_, o)| o.not_before))
            .bind(column(&messages, |(_, o)| o.channel.as_deref()))
            .bind(column(&messages, |(_, o)| o.recipient.as_deref()))
            .fetch_all(&self.pool)
            .await?;
        let outcome: std::collections::HashMap<i64, bool> = rows.into_iter().collect();
        Ok(changes
            .iter()
            .map(|c| match outcome.get(&c.workflow_id) {
                Some(true) => crate::Applied::Done,
                Some(false) => crate::Applied::AlreadyClaimed,
                None => crate::Applied::Stale,
            })
            .collect())
    }

    /// The outbox rows of changes, as one `INSERT … SELECT FROM UNNEST(…)` over nine
    /// arrays; a dedupe key already there is skipped.
    pub(crate) async fn insert_messages(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        messages: &[crate::sql::Queued<'_>],
    ) -> StoreResult<()> {
        if messages.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, \
             next_attempt_at, channel, recipient) \
             SELECT v.created_at, v.kind, v.topic, v.workflow_id, v.payload, v.dedupe_key, 'pending', 0, \
             COALESCE(v.not_before, v.created_at), v.channel, v.recipient \
             FROM UNNEST($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], \
             $7::timestamptz[], $8::text[], $9::text[]) \
             AS v(created_at, kind, topic, workflow_id, payload, dedupe_key, not_before, channel, recipient) \
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(column(messages, |(at, _, _)| *at))
        .bind(column(messages, |(_, _, o)| o.kind.as_str()))
        .bind(column(messages, |(_, _, o)| o.topic.as_str()))
        .bind(column(messages, |(_, w, _)| *w))
        .bind(column(messages, |(_, _, o)| o.payload.as_str()))
        .bind(column(messages, |(_, _, o)| o.dedupe_key.as_str()))
        .bind(column(messages, |(_, _, o)| o.not_before))
        .bind(column(messages, |(_, _, o)| o.channel.as_deref()))
        .bind(column(messages, |(_, _, o)| o.recipient.as_deref()))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// The store's roles: the same SQL as SQLite's, compiled for this pool type
/// (`storage/src/roles/`, one file per role).
mod roles {
    use super::{PgStore as Db, DIALECT};
    use crate::prelude::*;
    const BACKEND: crate::Backend = crate::Backend::Postgres;
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

impl From<PgPool> for crate::DbPool {
    fn from(pool: PgPool) -> Self {
        crate::DbPool::Postgres(pool)
    }
}
