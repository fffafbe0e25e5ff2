//! The one implementation of [`Store`](crate::Store), shared by both backends.
//!
//! sqlx fixes the database type per pool, and code generic over `sqlx::Database` needs
//! a wall of trait bounds in every function; instead the implementation is written once
//! here and instantiated for `SqliteStore` and `PgStore` by `impl_store!`. The SQL text
//! is the same for both (`$n` placeholders, `ON CONFLICT`, `RETURNING`, row values);
//! the few dialect differences come from each store's `Dialect` constants, and the
//! placeholders of the tick's multi-row statements from [`rows_of`].

/// The dialect words that differ between backends.
pub(crate) struct Dialect {
    /// Statement that opens a write transaction.
    pub begin_write: &'static str,
    /// Appended to the row-claiming sub-select of the outbox.
    pub skip_locked: &'static str,
    /// Appended to a select that locks the rows it reads until the transaction ends.
    pub for_update: &'static str,
}

pub(crate) const DEPARTMENT_COLUMNS: &str = "key, name, head_email";
pub(crate) const USER_COLUMNS: &str = "email, name, role, department_key, manager_email, phone";
/// Policies are read with their calendar's definition.
pub(crate) const POLICY_SELECT: &str = "SELECT p.id, p.name, p.target_seconds, p.warning_kind, p.warning_value, \
    p.created_at, p.updated_at, p.calendar_id, c.definition AS calendar, p.version, p.reminder_repeat_seconds \
    FROM sla_policies p LEFT JOIN calendars c ON c.id = p.calendar_id";
pub(crate) const CHAIN_COLUMNS: &str = "id, name, levels, created_at, updated_at";
pub(crate) const WORKFLOW_COLUMNS: &str = "id, external_id, workflow_type, title, stage, stage_seq, \
    department_key, initiator_email, assignee_email, status, level, policy_id, policy_version, chain_id, \
    stage_started_at, level_started_at, warn_at, due_at, next_check_at, version, created_at, \
    updated_at, closed_at, idempotency_key";
pub(crate) const REMINDER_COLUMNS: &str = "id, workflow_id, stage_seq, level, assignee_email, due_at, created_at, \
    acknowledged_at, acknowledged_by, sent_count, last_sent_at";
pub(crate) const TOKEN_COLUMNS: &str = "id, user_email, name, created_at, revoked_at";
pub(crate) const OUTBOX_COLUMNS: &str = "id, created_at, kind, topic, workflow_id, payload, dedupe_key, \
    status, attempts, next_attempt_at, last_error, delivered_at, channel, recipient, digest_id";

/// Snapshots policies (chosen by the WHERE clause appended) into `policy_versions`.
pub(crate) const SNAPSHOT_POLICY: &str = "INSERT INTO policy_versions (policy_id, version, name, target_seconds, \
    warning_kind, warning_value, calendar_id, calendar, created_at, reminder_repeat_seconds) \
    SELECT p.id, p.version, p.name, p.target_seconds, p.warning_kind, p.warning_value, p.calendar_id, c.definition, $1, \
    p.reminder_repeat_seconds \
    FROM sla_policies p LEFT JOIN calendars c ON c.id = p.calendar_id";

/// `$from, $from+1, …` for `n` values, for `IN (…)` lists.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Rows per multi-row statement of a batched `apply`, for rows of `cols` parameters: a
/// whole tick batch in one statement, within both databases' parameter limits.
pub(crate) fn batch_rows(cols: usize) -> usize {
    (8_000 / cols.max(1)).max(1)
}

/// `n` copies of a row template whose `?` marks are its parameters, joined by commas, in the
/// backend's placeholder syntax; parameters bind in the order they appear. SQLite keeps the
/// anonymous `?`: sqlx looks a named (`$N`) parameter up by name, which SQLite answers by
/// walking the statement's parameter list, so binding thousands of named parameters is
/// quadratic. PostgreSQL gets `$1, $2, …`, numbered on across the rows.
pub(crate) fn rows_of(backend: crate::Backend, n: usize, row: &str) -> String {
    let rows = vec![row; n].join(", ");
    match backend {
        crate::Backend::Sqlite => rows,
        crate::Backend::Postgres => {
            let mut numbered = String::with_capacity(rows.len() * 2);
            for (n, part) in rows.split('?').enumerate() {
                if n > 0 {
                    numbered.push_str(&format!("${n}"));
                }
                numbered.push_str(part);
            }
            numbered
        }
    }
}

/// `n` rows of `cols` parameters each: `(?, ?), (?, ?)` or `($1, $2), ($3, $4)`.
pub(crate) fn value_rows(backend: crate::Backend, n: usize, cols: usize) -> String {
    rows_of(backend, n, &format!("({})", vec!["?"; cols].join(", ")))
}

/// The outbox claim: `$1` now, `$2` the claim's expiry, `$3` how many rows.
///
/// The rows are chosen (and, on PostgreSQL, locked) once, in a materialised CTE that keeps
/// its LIMIT. Written as `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`,
/// PostgreSQL plans a semi-join when its statistics say pending rows are rare (the normal
/// state of a healthy outbox) and re-runs the locking sub-select per outer row: the LIMIT
/// is lost and one claim took every pending row, in time growing with the square of the
/// backlog. A row another claimer took first is skipped (SKIP LOCKED) or, once its lock is
/// granted, re-checked against the conditions, so it is never claimed twice.
pub(crate) fn claim_outbox_sql(skip_locked: &str) -> String {
    format!(
        "WITH claimed AS MATERIALIZED ( \
             SELECT id AS claimed_id FROM outbox \
             WHERE status = 'pending' AND next_attempt_at <= $1 AND digest_id IS NULL \
             ORDER BY next_attempt_at, id LIMIT $3 {skip_locked}) \
         UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2 \
         FROM claimed WHERE outbox.id = claimed.claimed_id \
         RETURNING {OUTBOX_COLUMNS}"
    )
}

/// Whether `apply` may write `changes` with multi-row statements: several changes, each
/// of a different workflow, none opening or closing a hold, none repeating a reminder
/// (a repeat is conditional on the reminder being unacknowledged, row by row). A tick's
/// batches qualify; single changes and anything unusual take the one-by-one path.
pub(crate) fn batchable(changes: &[crate::WorkflowChange]) -> bool {
    let mut ids: Vec<i64> = changes.iter().map(|c| c.workflow_id).collect();
    ids.sort_unstable();
    ids.dedup();
    changes.len() > 1
        && ids.len() == changes.len()
        && changes
            .iter()
            .all(|c| c.hold.is_none() && c.reminder.as_ref().is_none_or(|r| r.repeat == 0))
}

macro_rules! impl_store {
    ($store:ty, $backend:expr, $dialect:expr) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> $crate::Backend {
                $backend
            }

            async fn migrate(&self) -> $crate::StoreResult<()> {
                self.run_migrations().await
            }

            async fn ping(&self) -> $crate::StoreResult<()> {
                sqlx::query("SELECT 1 FROM leases LIMIT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn upsert_department(&self, d: &escalator_domain::Department, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO departments (key, name, head_email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
                     ON CONFLICT (key) DO UPDATE SET name = excluded.name, head_email = excluded.head_email, updated_at = excluded.updated_at",
                )
                .bind(d.key.as_str())
                .bind(&d.name)
                .bind(d.head.as_ref().map(|h| h.as_str()))
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn department(&self, key: &str) -> $crate::StoreResult<Option<escalator_domain::Department>> {
                let sql = format!("SELECT {} FROM departments WHERE key = $1", $crate::sql::DEPARTMENT_COLUMNS);
                sqlx::query_as::<_, $crate::records::DepartmentRow>(sqlx::AssertSqlSafe(sql))
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn departments(&self) -> $crate::StoreResult<Vec<escalator_domain::Department>> {
                let sql = format!("SELECT {} FROM departments ORDER BY key", $crate::sql::DEPARTMENT_COLUMNS);
                let rows = sqlx::query_as::<_, $crate::records::DepartmentRow>(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn upsert_user(&self, u: &escalator_domain::User, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (email, name, role, department_key, manager_email, created_at, updated_at, phone) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
                     ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = excluded.role, \
                     department_key = excluded.department_key, manager_email = excluded.manager_email, updated_at = excluded.updated_at, \
                     phone = excluded.phone",
                )
                .bind(u.email.as_str())
                .bind(&u.name)
                .bind(u.role.as_str())
                .bind(u.department.as_ref().map(|d| d.as_str()))
                .bind(u.manager.as_ref().map(|m| m.as_str()))
                .bind(now)
                .bind(u.phone.as_ref().map(|p| p.as_str()))
                .execute(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::classify(e, "department"))?;
                Ok(())
            }

            async fn user(&self, email: &str) -> $crate::StoreResult<Option<escalator_domain::User>> {
                let sql = format!("SELECT {} FROM users WHERE email = $1", $crate::sql::USER_COLUMNS);
                sqlx::query_as::<_, $crate::records::UserRow>(sqlx::AssertSqlSafe(sql))
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn users(&self) -> $crate::StoreResult<Vec<escalator_domain::User>> {
                let sql = format!("SELECT {} FROM users ORDER BY email", $crate::sql::USER_COLUMNS);
                let rows = sqlx::query_as::<_, $crate::records::UserRow>(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn directory(&self) -> $crate::StoreResult<$crate::DirectorySnapshot> {
                let departments = self.departments().await?;
                let users = self.users().await?;
                Ok($crate::DirectorySnapshot::new(&departments, &users))
            }

            async fn create_policy(&self, p: &escalator_domain::SlaPolicy, calendar_id: Option<i64>, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<$crate::PolicyRecord> {
                let (kind, value) = $crate::records::warning_columns(p.warning);
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO sla_policies (name, target_seconds, warning_kind, warning_value, calendar_id, version, created_at, updated_at, \
                     reminder_repeat_seconds) VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7) RETURNING id",
                )
                .bind(&p.name)
                .bind(p.target_seconds)
                .bind(kind)
                .bind(value)
                .bind(calendar_id)
                .bind(now)
                .bind(p.reminder_repeat_seconds)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| $crate::StoreError::classify(e, "calendar"))?;
                let snapshot = format!("{} WHERE p.id = $2", $crate::sql::SNAPSHOT_POLICY);
                sqlx::query(sqlx::AssertSqlSafe(snapshot)).bind(now).bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                self.policy(id).await?.ok_or_else(|| $crate::StoreError::Corrupt { table: "sla_policies", message: format!("policy {id} vanished") })
            }

            async fn update_policy(&self, id: i64, p: &escalator_domain::SlaPolicy, calendar_id: Option<i64>, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<Option<$crate::PolicyRecord>> {
                let (kind, value) = $crate::records::warning_columns(p.warning);
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                let done = sqlx::query(
                    "UPDATE sla_policies SET name = $1, target_seconds = $2, warning_kind = $3, warning_value = $4, calendar_id = $5, \
                     updated_at = $6, version = version + 1, reminder_repeat_seconds = $8 WHERE id = $7",
                )
                .bind(&p.name)
                .bind(p.target_seconds)
                .bind(kind)
                .bind(value)
                .bind(calendar_id)
                .bind(now)
                .bind(id)
                .bind(p.reminder_repeat_seconds)
                .execute(&mut *tx)
                .await
                .map_err(|e| $crate::StoreError::classify(e, "calendar"))?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                let snapshot = format!("{} WHERE p.id = $2", $crate::sql::SNAPSHOT_POLICY);
                sqlx::query(sqlx::AssertSqlSafe(snapshot)).bind(now).bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                self.policy(id).await
            }

            async fn policy(&self, id: i64) -> $crate::StoreResult<Option<$crate::PolicyRecord>> {
                let sql = format!("{} WHERE p.id = $1", $crate::sql::POLICY_SELECT);
                sqlx::query_as::<_, $crate::records::PolicyRow>(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn policies(&self) -> $crate::StoreResult<Vec<$crate::PolicyRecord>> {
                let sql = format!("{} ORDER BY p.id", $crate::sql::POLICY_SELECT);
                let rows = sqlx::query_as::<_, $crate::records::PolicyRow>(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn policy_versions(&self) -> $crate::StoreResult<Vec<$crate::PolicyVersion>> {
                let rows = sqlx::query_as::<_, $crate::records::PolicyVersionRow>(
                    "SELECT policy_id, version, name, target_seconds, warning_kind, warning_value, calendar, reminder_repeat_seconds FROM policy_versions \
                     ORDER BY policy_id, version",
                )
                .fetch_all(&self.pool)
                .await?;
                $crate::records::convert(rows)
            }

            async fn create_calendar(&self, name: &str, calendar: &escalator_domain::Calendar, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<$crate::CalendarRecord> {
                let definition = serde_json::to_string(calendar).map_err(|e| $crate::StoreError::Corrupt { table: "calendars", message: e.to_string() })?;
                sqlx::query_as::<_, $crate::records::CalendarRow>(
                    "INSERT INTO calendars (name, definition, created_at, updated_at) VALUES ($1, $2, $3, $3) \
                     RETURNING id, name, definition, created_at, updated_at",
                )
                .bind(name)
                .bind(definition)
                .bind(now)
                .fetch_one(&self.pool)
                .await?
                .try_into()
            }

            async fn update_calendar(&self, id: i64, name: &str, calendar: &escalator_domain::Calendar, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<Option<$crate::CalendarRecord>> {
                let definition = serde_json::to_string(calendar).map_err(|e| $crate::StoreError::Corrupt { table: "calendars", message: e.to_string() })?;
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                let row = sqlx::query_as::<_, $crate::records::CalendarRow>(
                    "UPDATE calendars SET name = $1, definition = $2, updated_at = $3 WHERE id = $4 \
                     RETURNING id, name, definition, created_at, updated_at",
                )
                .bind(name)
                .bind(definition)
                .bind(now)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if row.is_some() {
                    // Every policy measured in this calendar gets a new version.
                    sqlx::query("UPDATE sla_policies SET version = version + 1, updated_at = $1 WHERE calendar_id = $2")
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    let snapshot = format!("{} WHERE p.calendar_id = $2", $crate::sql::SNAPSHOT_POLICY);
                    sqlx::query(sqlx::AssertSqlSafe(snapshot)).bind(now).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn calendar(&self, id: i64) -> $crate::StoreResult<Option<$crate::CalendarRecord>> {
                sqlx::query_as::<_, $crate::records::CalendarRow>(
                    "SELECT id, name, definition, created_at, updated_at FROM calendars WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn calendars(&self) -> $crate::StoreResult<Vec<$crate::CalendarRecord>> {
                let rows = sqlx::query_as::<_, $crate::records::CalendarRow>(
                    "SELECT id, name, definition, created_at, updated_at FROM calendars ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?;
                $crate::records::convert(rows)
            }

            async fn create_chain(&self, c: &escalator_domain::EscalationChain, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<$crate::ChainRecord> {
                let levels = serde_json::to_string(&c.levels).map_err(|e| $crate::StoreError::Corrupt { table: "escalation_chains", message: e.to_string() })?;
                let sql = format!(
                    "INSERT INTO escalation_chains (name, levels, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING {}",
                    $crate::sql::CHAIN_COLUMNS
                );
                sqlx::query_as::<_, $crate::records::ChainRow>(sqlx::AssertSqlSafe(sql))
                    .bind(&c.name)
                    .bind(levels)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?
                    .try_into()
            }

            async fn update_chain(&self, id: i64, c: &escalator_domain::EscalationChain, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<Option<$crate::ChainRecord>> {
                let levels = serde_json::to_string(&c.levels).map_err(|e| $crate::StoreError::Corrupt { table: "escalation_chains", message: e.to_string() })?;
                let sql = format!(
                    "UPDATE escalation_chains SET name = $1, levels = $2, updated_at = $3 WHERE id = $4 RETURNING {}",
                    $crate::sql::CHAIN_COLUMNS
                );
                sqlx::query_as::<_, $crate::records::ChainRow>(sqlx::AssertSqlSafe(sql))
                    .bind(&c.name)
                    .bind(levels)
                    .bind(now)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn chain(&self, id: i64) -> $crate::StoreResult<Option<$crate::ChainRecord>> {
                let sql = format!("SELECT {} FROM escalation_chains WHERE id = $1", $crate::sql::CHAIN_COLUMNS);
                sqlx::query_as::<_, $crate::records::ChainRow>(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn chains(&self) -> $crate::StoreResult<Vec<$crate::ChainRecord>> {
                let sql = format!("SELECT {} FROM escalation_chains ORDER BY id", $crate::sql::CHAIN_COLUMNS);
                let rows = sqlx::query_as::<_, $crate::records::ChainRow>(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn insert_workflow(&self, w: &$crate::NewWorkflow, audit: &$crate::NewAudit) -> $crate::StoreResult<$crate::WorkflowRecord> {
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                let s = &w.state;
                let sql = format!(
                    "INSERT INTO workflows (external_id, workflow_type, title, stage, stage_seq, department_key, \
                     initiator_email, assignee_email, status, level, policy_id, chain_id, stage_started_at, \
                     level_started_at, warn_at, due_at, next_check_at, version, created_at, updated_at, closed_at, idempotency_key, \
                     policy_version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0, $18, $18, $19, $20, $21) \
                     RETURNING {}",
                    $crate::sql::WORKFLOW_COLUMNS
                );
                let row = sqlx::query_as::<_, $crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
                    .bind(&w.external_id)
                    .bind(&w.workflow_type)
                    .bind(&w.title)
                    .bind(&s.stage)
                    .bind(s.stage_seq)
                    .bind(&w.department)
                    .bind(&w.initiator)
                    .bind(&s.assignee)
                    .bind(s.status.as_str())
                    .bind(i64::from(s.level))
                    .bind(s.policy_id)
                    .bind(w.chain_id)
                    .bind(s.stage_started_at)
                    .bind(s.level_started_at)
                    .bind(s.warn_at)
                    .bind(s.due_at)
                    .bind(s.next_check_at)
                    .bind(w.now)
                    .bind(s.closed_at)
                    .bind(w.idempotency_key.as_deref())
                    .bind(s.policy_version)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| $crate::StoreError::classify(e, "workflow"))?;
                let record: $crate::WorkflowRecord = row.try_into()?;
                let audit = $crate::NewAudit { workflow_id: Some(record.id), ..audit.clone() };
                Self::insert_audit(&mut tx, &audit).await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn workflow(&self, id: i64) -> $crate::StoreResult<Option<$crate::WorkflowRecord>> {
                let sql = format!("SELECT {} FROM workflows WHERE id = $1", $crate::sql::WORKFLOW_COLUMNS);
                sqlx::query_as::<_, $crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn workflow_by_external_id(&self, external_id: &str) -> $crate::StoreResult<Option<$crate::WorkflowRecord>> {
                let sql = format!("SELECT {} FROM workflows WHERE external_id = $1", $crate::sql::WORKFLOW_COLUMNS);
                sqlx::query_as::<_, $crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
                    .bind(external_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn workflows(&self, f: &$crate::WorkflowFilter) -> $crate::StoreResult<Vec<$crate::WorkflowRecord>> {
                // Filters that are set appear as plain predicates (not `$n IS NULL OR …`), so
                // the planners can use the partial open-workflow and department indexes.
                let (order, cursor) = match (f.order, f.after_due.is_some()) {
                    ($crate::WorkflowOrder::Newest, _) => ("id DESC", "($5 IS NULL OR id < $5) AND $10 IS NULL AND $11 IS NULL"),
                    ($crate::WorkflowOrder::DueSoonest, false) => ("due_at, id", "$5 IS NULL AND $10 IS NULL AND $11 IS NULL"),
                    ($crate::WorkflowOrder::DueSoonest, true) => ("due_at, id", "$5 IS NULL AND (due_at, id) > ($10, $11)"),
                };
                let open = if f.open_only { "$2 = 1 AND status IN ('pending', 'escalated', 'on_hold')" } else { "$2 = 0" };
                let department = match (f.department.is_some(), f.or_assignee.is_some()) {
                    (true, true) => "(department_key = $3 OR assignee_email = $12)",
                    (true, false) => "department_key = $3 AND $12 IS NULL",
                    (false, _) => "$3 IS NULL AND $12 IS NULL",
                };
                let assignee = if f.assignee.is_some() { "assignee_email = $4" } else { "$4 IS NULL" };
                let sql = format!(
                    "SELECT {} FROM workflows \
                     WHERE ($1 IS NULL OR status = $1) \
                       AND {open} AND {department} AND {assignee} \
                       AND {cursor} \
                       AND ($9 IS NULL OR policy_id = $9) \
                       AND ($7 IS NULL OR $7 = CASE WHEN status = 'on_hold' THEN 'paused' \
                            WHEN status NOT IN ('pending', 'escalated') THEN 'closed' \
                            WHEN due_at <= $8 THEN 'breached' WHEN warn_at <= $8 THEN 'warning' ELSE 'ok' END) \
                     ORDER BY {order} LIMIT $6",
                    $crate::sql::WORKFLOW_COLUMNS
                );
                let rows = sqlx::query_as::<_, $crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
                    .bind(f.status.map(|s| s.as_str()))
                    .bind(i64::from(f.open_only))
                    .bind(f.department.as_deref())
                    .bind(f.assignee.as_deref())
                    .bind(f.before_id)
                    .bind(f.limit)
                    .bind(f.sla_status.map(|s| s.as_str()))
                    .bind(f.now)
                    .bind(f.policy_id)
                    .bind(f.after_due.map(|(due, _)| due))
                    .bind(f.after_due.map(|(_, id)| id))
                    .bind(f.department.as_ref().and(f.or_assignee.as_deref()))
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn sla_counts(&self, f: &$crate::WorkflowFilter, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<Vec<(String, i64)>> {
                let department = match (f.department.is_some(), f.or_assignee.is_some()) {
                    (true, true) => "(department_key = $2 OR assignee_email = $5)",
                    (true, false) => "department_key = $2 AND $5 IS NULL",
                    (false, _) => "$2 IS NULL AND $5 IS NULL",
                };
                let assignee = if f.assignee.is_some() { "assignee_email = $3" } else { "$3 IS NULL" };
                let sql = format!(
                    "SELECT CASE WHEN status = 'on_hold' THEN 'paused' WHEN due_at <= $1 THEN 'breached' \
                     WHEN warn_at <= $1 THEN 'warning' ELSE 'ok' END AS sla_status, COUNT(*) \
                     FROM workflows WHERE status IN ('pending', 'escalated', 'on_hold') \
                       AND {department} AND {assignee} \
                       AND ($4 IS NULL OR policy_id = $4) \
                     GROUP BY 1"
                );
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .bind(f.department.as_deref())
                .bind(f.assignee.as_deref())
                .bind(f.policy_id)
                .bind(f.department.as_ref().and(f.or_assignee.as_deref()))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn create_session(&self, s: &$crate::SessionRecord) -> $crate::StoreResult<bool> {
                let done = sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                    .bind(&s.id)
                    .bind(&s.data)
                    .bind(s.expires_at)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn save_session(&self, s: &$crate::SessionRecord) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                )
                .bind(&s.id)
                .bind(&s.data)
                .bind(s.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn load_session(&self, id: &str, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<Option<$crate::SessionRecord>> {
                let row: Option<(String, String, chrono::DateTime<chrono::Utc>)> =
                    sqlx::query_as("SELECT id, data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                        .bind(id)
                        .bind(now)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(id, data, expires_at)| $crate::SessionRecord { id, data, expires_at }))
            }

            async fn delete_session(&self, id: &str) -> $crate::StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn delete_expired_sessions(&self, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
                Ok(done.rows_affected())
            }

            async fn due_workflows(&self, now: chrono::DateTime<chrono::Utc>, after: Option<$crate::DueCursor>, limit: i64) -> $crate::StoreResult<Vec<$crate::WorkflowRecord>> {
                // Two statements rather than an optional cursor, so both are plain index ranges.
                let cursor = if after.is_some() { "AND (next_check_at, id) > ($2, $3)" } else { "AND $2 IS NULL AND $3 IS NULL" };
                let sql = format!(
                    "SELECT {} FROM workflows \
                     WHERE next_check_at IS NOT NULL AND next_check_at <= $1 {cursor} \
                     ORDER BY next_check_at, id LIMIT $4",
                    $crate::sql::WORKFLOW_COLUMNS
                );
                let rows = sqlx::query_as::<_, $crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
                    .bind(now)
                    .bind(after.map(|c| c.next_check_at))
                    .bind(after.map(|c| c.id))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn next_check_at(&self) -> $crate::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                Ok(sqlx::query_scalar("SELECT MIN(next_check_at) FROM workflows WHERE next_check_at IS NOT NULL")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn holds(&self, workflow_ids: &[i64]) -> $crate::StoreResult<Vec<$crate::Hold>> {
                let mut all = Vec::new();
                for chunk in workflow_ids.chunks(500) {
                    let sql = format!(
                        "SELECT id, workflow_id, held_at, resumed_at, reason, held_by, resume_status FROM workflow_holds \
                         WHERE workflow_id IN ({}) ORDER BY workflow_id, held_at",
                        $crate::sql::placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, $crate::records::HoldRow>(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    all.extend($crate::records::convert::<_, $crate::Hold>(q.fetch_all(&self.pool).await?)?);
                }
                Ok(all)
            }

            async fn apply(&self, changes: &[$crate::WorkflowChange]) -> $crate::StoreResult<Vec<$crate::Applied>> {
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                let outcomes = if $crate::sql::batchable(changes) {
                    Self::apply_batch(&mut tx, changes).await?
                } else {
                    let mut outcomes = Vec::with_capacity(changes.len());
                    for change in changes {
                        outcomes.push(Self::apply_one(&mut tx, change).await?);
                    }
                    outcomes
                };
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn audit_entries(&self, f: &$crate::AuditFilter) -> $crate::StoreResult<Vec<$crate::AuditEntry>> {
                let rows = sqlx::query_as::<_, $crate::records::AuditRow>(
                    "SELECT id, at, actor, action, workflow_id, details FROM audit_log \
                     WHERE ($1 IS NULL OR workflow_id = $1) \
                       AND ($2 IS NULL OR action = $2) \
                       AND ($3 IS NULL OR actor = $3) \
                       AND ($4 IS NULL OR at >= $4) \
                       AND ($5 IS NULL OR at < $5) \
                       AND ($6 IS NULL OR id < $6) \
                     ORDER BY id DESC LIMIT $7",
                )
                .bind(f.workflow_id)
                .bind(f.action.as_deref())
                .bind(f.actor.as_deref())
                .bind(f.from)
                .bind(f.to)
                .bind(f.before_id)
                .bind(f.limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::records::convert(rows)
            }

            async fn claim_outbox(&self, now: chrono::DateTime<chrono::Utc>, lease_until: chrono::DateTime<chrono::Utc>, limit: i64) -> $crate::StoreResult<Vec<$crate::OutboxMessage>> {
                let sql = $crate::sql::claim_outbox_sql($dialect.skip_locked);
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                let rows = sqlx::query_as::<_, $crate::records::OutboxRow>(sqlx::AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let mut messages: Vec<$crate::OutboxMessage> = $crate::records::convert(rows)?;
                messages.sort_by_key(|m| m.id);
                Ok(messages)
            }

            async fn extend_outbox_claim(&self, ids: &[i64], lease_until: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<()> {
                self.update_outbox_rows("next_attempt_at = $1 WHERE status = 'pending' AND next_attempt_at < $1", lease_until, ids)
                    .await
            }

            async fn release_outbox_claim(&self, ids: &[i64], now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<()> {
                self.update_outbox_rows(
                    "next_attempt_at = $1, attempts = attempts - 1 WHERE status = 'pending' AND digest_id IS NULL AND attempts > 0",
                    now,
                    ids,
                )
                .await
            }

            async fn outbox_delivered(&self, ids: &[i64], now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<()> {
                self.update_outbox_rows("status = 'delivered', delivered_at = $1, last_error = NULL WHERE true", now, ids)
                    .await
            }

            async fn outbox_failed(&self, id: i64, error: &str, retry_at: Option<chrono::DateTime<chrono::Utc>>) -> $crate::StoreResult<()> {
                let status = if retry_at.is_some() { "pending" } else { "dead" };
                sqlx::query(
                    "UPDATE outbox SET status = $1, last_error = $2, next_attempt_at = COALESCE($3, next_attempt_at) WHERE id = $4",
                )
                .bind(status)
                .bind(error)
                .bind(retry_at)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn outbox(&self, status: Option<$crate::OutboxStatus>, limit: i64) -> $crate::StoreResult<Vec<$crate::OutboxMessage>> {
                let sql = format!(
                    "SELECT {} FROM outbox WHERE ($1 IS NULL OR status = $1) ORDER BY id LIMIT $2",
                    $crate::sql::OUTBOX_COLUMNS
                );
                let rows = sqlx::query_as::<_, $crate::records::OutboxRow>(sqlx::AssertSqlSafe(sql))
                    .bind(status.map(|s| s.as_str()))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn expand_outbox(&self, parent: &$crate::OutboxMessage, children: &[$crate::NewOutbox], now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<()> {
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                for child in children {
                    Self::insert_outbox(&mut tx, child, parent.workflow_id, now).await?;
                }
                sqlx::query("UPDATE outbox SET status = 'delivered', delivered_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(parent.id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn retry_outbox(&self, id: i64, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 WHERE id = $2 AND status = 'dead'",
                )
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_webhook(&self, url: &str, secret: &str, event_types: &[String], now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<$crate::Webhook> {
                let types = serde_json::to_string(event_types).map_err(|e| $crate::StoreError::Corrupt { table: "webhooks", message: e.to_string() })?;
                sqlx::query_as::<_, $crate::records::WebhookRow>(
                    "INSERT INTO webhooks (url, secret, event_types, active, created_at) VALUES ($1, $2, $3, 1, $4) \
                     RETURNING id, url, secret, event_types, active, created_at",
                )
                .bind(url)
                .bind(secret)
                .bind(types)
                .bind(now)
                .fetch_one(&self.pool)
                .await?
                .try_into()
            }

            async fn webhooks(&self) -> $crate::StoreResult<Vec<$crate::Webhook>> {
                let rows = sqlx::query_as::<_, $crate::records::WebhookRow>(
                    "SELECT id, url, secret, event_types, active, created_at FROM webhooks ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?;
                $crate::records::convert(rows)
            }

            async fn webhook(&self, id: i64) -> $crate::StoreResult<Option<$crate::Webhook>> {
                sqlx::query_as::<_, $crate::records::WebhookRow>(
                    "SELECT id, url, secret, event_types, active, created_at FROM webhooks WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn set_webhook_active(&self, id: i64, active: bool) -> $crate::StoreResult<bool> {
                let done = sqlx::query("UPDATE webhooks SET active = $1 WHERE id = $2")
                    .bind(i64::from(active))
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn record_webhook_delivery(&self, d: &$crate::WebhookDelivery) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (webhook_id, outbox_id, event_id, status_code, error, duration_ms, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(d.webhook_id)
                .bind(d.outbox_id)
                .bind(&d.event_id)
                .bind(d.status_code)
                .bind(d.error.as_deref())
                .bind(d.duration_ms)
                .bind(d.at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn webhook_deliveries(&self, webhook_id: i64, limit: i64) -> $crate::StoreResult<Vec<$crate::WebhookDelivery>> {
                let rows = sqlx::query_as::<_, $crate::records::WebhookDeliveryRow>(
                    "SELECT id, webhook_id, outbox_id, event_id, status_code, error, duration_ms, at FROM webhook_deliveries \
                     WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(webhook_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::records::convert(rows)
            }

            async fn insert_notification(&self, n: &$crate::NewNotification) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO notifications (user_email, outbox_id, workflow_id, topic, title, body, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (outbox_id) DO NOTHING",
                )
                .bind(&n.user)
                .bind(n.outbox_id)
                .bind(n.workflow_id)
                .bind(&n.topic)
                .bind(&n.title)
                .bind(&n.body)
                .bind(n.at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn notifications(&self, user: &str, unread_only: bool, before_id: Option<i64>, limit: i64) -> $crate::StoreResult<Vec<$crate::Notification>> {
                let rows = sqlx::query_as::<_, $crate::records::NotificationRow>(
                    "SELECT id, user_email, workflow_id, topic, title, body, created_at, read_at FROM notifications \
                     WHERE user_email = $1 AND ($2 = 0 OR read_at IS NULL) AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
                )
                .bind(user)
                .bind(i64::from(unread_only))
                .bind(before_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                $crate::records::convert(rows)
            }

            async fn unread_notifications(&self, user: &str) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_email = $1 AND read_at IS NULL")
                    .bind(user)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn mark_notifications_read(&self, user: &str, id: Option<i64>, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE notifications SET read_at = $1 WHERE user_email = $2 AND read_at IS NULL AND ($3 IS NULL OR id = $3)",
                )
                .bind(now)
                .bind(user)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn next_outbox_attempt(&self) -> $crate::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                Ok(sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending' AND digest_id IS NULL")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn try_lock(&self, name: &str, holder: &str, ttl: std::time::Duration) -> $crate::StoreResult<Option<Box<dyn $crate::HeldLock>>> {
                self.lock(name, holder, ttl).await
            }

            async fn set_password_hash(&self, email: &str, hash: &str, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<bool> {
                let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE email = $3")
                    .bind(hash)
                    .bind(now)
                    .bind(email)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn password_hash(&self, email: &str) -> $crate::StoreResult<Option<String>> {
                let hash: Option<Option<String>> = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(hash.flatten())
            }

            async fn create_token(&self, email: &str, name: &str, token_hash: &str, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<$crate::TokenRecord> {
                let sql = format!(
                    "INSERT INTO api_tokens (user_email, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING {}",
                    $crate::sql::TOKEN_COLUMNS
                );
                sqlx::query_as::<_, $crate::records::TokenRow>(sqlx::AssertSqlSafe(sql))
                    .bind(email)
                    .bind(name)
                    .bind(token_hash)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| $crate::StoreError::classify(e, "user"))?
                    .try_into()
            }

            async fn token_owner(&self, token_hash: &str) -> $crate::StoreResult<Option<($crate::TokenRecord, escalator_domain::User)>> {
                let sql = format!(
                    "SELECT {} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                    $crate::sql::TOKEN_COLUMNS
                );
                let Some(row) = sqlx::query_as::<_, $crate::records::TokenRow>(sqlx::AssertSqlSafe(sql))
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?
                else {
                    return Ok(None);
                };
                let token: $crate::TokenRecord = row.try_into()?;
                Ok(self.user(&token.user).await?.map(|user| (token, user)))
            }

            async fn tokens(&self, email: Option<&str>) -> $crate::StoreResult<Vec<$crate::TokenRecord>> {
                let sql = format!(
                    "SELECT {} FROM api_tokens WHERE ($1 IS NULL OR user_email = $1) ORDER BY id DESC",
                    $crate::sql::TOKEN_COLUMNS
                );
                let rows = sqlx::query_as::<_, $crate::records::TokenRow>(sqlx::AssertSqlSafe(sql))
                    .bind(email)
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn revoke_token(&self, id: i64, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<bool> {
                let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn workflow_outbox(&self, workflow_id: i64) -> $crate::StoreResult<Vec<$crate::OutboxMessage>> {
                let sql = format!("SELECT {} FROM outbox WHERE workflow_id = $1 ORDER BY id", $crate::sql::OUTBOX_COLUMNS);
                let rows = sqlx::query_as::<_, $crate::records::OutboxRow>(sqlx::AssertSqlSafe(sql))
                    .bind(workflow_id)
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn reminders(&self, f: &$crate::ReminderFilter) -> $crate::StoreResult<Vec<$crate::Reminder>> {
                let sql = format!(
                    "SELECT {} FROM reminders WHERE ($1 IS NULL OR assignee_email = $1) AND ($2 IS NULL OR workflow_id = $2) \
                     AND ($3 = 0 OR acknowledged_at IS NULL) AND ($4 IS NULL OR id < $4) \
                     AND ($6 IS NULL OR workflow_id IN (SELECT id FROM workflows WHERE department_key = $6)) \
                     ORDER BY id DESC LIMIT $5",
                    $crate::sql::REMINDER_COLUMNS
                );
                let rows = sqlx::query_as::<_, $crate::records::ReminderRow>(sqlx::AssertSqlSafe(sql))
                    .bind(f.assignee.as_deref())
                    .bind(f.workflow_id)
                    .bind(i64::from(f.unacknowledged_only))
                    .bind(f.before_id)
                    .bind(f.limit)
                    .bind(f.department.as_deref())
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn reminder(&self, id: i64) -> $crate::StoreResult<Option<$crate::Reminder>> {
                let sql = format!("SELECT {} FROM reminders WHERE id = $1", $crate::sql::REMINDER_COLUMNS);
                sqlx::query_as::<_, $crate::records::ReminderRow>(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn acknowledge_reminder(&self, id: i64, by: &str, audit: &$crate::NewAudit) -> $crate::StoreResult<Option<$crate::Reminder>> {
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                let done = sqlx::query(
                    "UPDATE reminders SET acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 AND acknowledged_at IS NULL",
                )
                .bind(audit.at)
                .bind(by)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 1 {
                    Self::insert_audit(&mut tx, audit).await?;
                }
                tx.commit().await?;
                self.reminder(id).await
            }

            async fn append_audit(&self, entry: &$crate::NewAudit) -> $crate::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                Self::insert_audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn stats(&self, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<$crate::Stats> {
                let open_by_sla_status: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT CASE WHEN status = 'on_hold' THEN 'paused' WHEN due_at <= $1 THEN 'breached' \
                     WHEN warn_at <= $1 THEN 'warning' ELSE 'ok' END AS sla_status, COUNT(*) \
                     FROM workflows WHERE status IN ('pending', 'escalated', 'on_hold') GROUP BY 1",
                )
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                let oldest_breach_due_at: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
                    "SELECT MIN(due_at) FROM workflows WHERE status IN ('pending', 'escalated') AND due_at <= $1",
                )
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                let outbox: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT kind, status, COUNT(*) FROM outbox WHERE status IN ('pending', 'dead') GROUP BY kind, status",
                )
                .fetch_all(&self.pool)
                .await?;
                let oldest_pending_outbox_at: Option<chrono::DateTime<chrono::Utc>> =
                    sqlx::query_scalar("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::Stats { open_by_sla_status, oldest_breach_due_at, outbox, oldest_pending_outbox_at })
            }

            fn pool(&self) -> $crate::DbPool {
                $crate::DbPool::from(self.pool.clone())
            }

            async fn notification_preferences(&self, email: &str) -> $crate::StoreResult<Option<escalator_domain::NotificationPreferences>> {
                let row: Option<Option<String>> = sqlx::query_scalar("SELECT notification_preferences FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|json| match json {
                    Some(text) => serde_json::from_str(&text).map_err(|e| $crate::StoreError::Corrupt { table: "users", message: e.to_string() }),
                    None => Ok(escalator_domain::NotificationPreferences::default()),
                })
                .transpose()
            }

            async fn set_notification_preferences(&self, email: &str, preferences: &escalator_domain::NotificationPreferences, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<bool> {
                let json = serde_json::to_string(preferences).map_err(|e| $crate::StoreError::Corrupt { table: "users", message: e.to_string() })?;
                let done = sqlx::query("UPDATE users SET notification_preferences = $1, updated_at = $2 WHERE email = $3")
                    .bind(json)
                    .bind(now)
                    .bind(email)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn contacts(&self, emails: &[String]) -> $crate::StoreResult<Vec<$crate::Contact>> {
                let mut all = Vec::new();
                for chunk in emails.chunks(500) {
                    let sql = format!(
                        "SELECT email, phone, notification_preferences FROM users WHERE email IN ({}) ORDER BY email",
                        $crate::sql::placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, $crate::records::ContactRow>(sqlx::AssertSqlSafe(sql));
                    for email in chunk {
                        q = q.bind(email);
                    }
                    all.extend($crate::records::convert::<_, $crate::Contact>(q.fetch_all(&self.pool).await?)?);
                }
                Ok(all)
            }

            async fn reminders_of(&self, workflow_ids: &[i64]) -> $crate::StoreResult<Vec<$crate::Reminder>> {
                let mut all = Vec::new();
                for chunk in workflow_ids.chunks(500) {
                    let sql = format!(
                        "SELECT {} FROM reminders WHERE workflow_id IN ({}) ORDER BY id",
                        $crate::sql::REMINDER_COLUMNS,
                        $crate::sql::placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, $crate::records::ReminderRow>(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    all.extend($crate::records::convert::<_, $crate::Reminder>(q.fetch_all(&self.pool).await?)?);
                }
                Ok(all)
            }

            async fn emails_sent_since(&self, recipient: &str, since: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND channel = 'email' AND status = 'delivered' \
                     AND delivered_at >= $2 AND digest_id IS NULL",
                )
                .bind(recipient)
                .bind(since)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn hold_for_digest(&self, rows: &[i64], digest: &$crate::NewOutbox, now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<i64> {
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                // Join the recipient's digest that no worker has picked up yet, or start one.
                // Locked, so a worker cannot claim (and compose) it before these rows join it.
                let sql = format!(
                    "SELECT id FROM outbox WHERE recipient = $1 AND topic = $2 AND channel = 'email' AND status = 'pending' \
                     AND attempts = 0 ORDER BY id LIMIT 1 {}",
                    $dialect.for_update
                );
                let open: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(digest.recipient.as_deref())
                .bind(&digest.topic)
                .fetch_optional(&mut *tx)
                .await?;
                let id = match open {
                    Some(id) => id,
                    None => {
                        Self::insert_outbox(&mut tx, digest, None, now).await?;
                        sqlx::query_scalar("SELECT id FROM outbox WHERE dedupe_key = $1")
                            .bind(&digest.dedupe_key)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                for chunk in rows.chunks(500) {
                    // Not an attempt: give back the one the claim counted.
                    let sql = format!(
                        "UPDATE outbox SET digest_id = $1, attempts = attempts - 1 WHERE status = 'pending' AND id IN ({})",
                        $crate::sql::placeholders(2, chunk.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
                    for row in chunk {
                        q = q.bind(*row);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(id)
            }

            async fn digest_members(&self, digest_id: i64) -> $crate::StoreResult<Vec<$crate::OutboxMessage>> {
                let sql = format!(
                    "SELECT {} FROM outbox WHERE digest_id = $1 AND status = 'pending' ORDER BY id",
                    $crate::sql::OUTBOX_COLUMNS
                );
                let rows = sqlx::query_as::<_, $crate::records::OutboxRow>(sqlx::AssertSqlSafe(sql))
                    .bind(digest_id)
                    .fetch_all(&self.pool)
                    .await?;
                $crate::records::convert(rows)
            }

            async fn digest_delivered(&self, digest_id: i64, members: &[i64], now: chrono::DateTime<chrono::Utc>) -> $crate::StoreResult<()> {
                let mut tx = self.pool.begin_with($dialect.begin_write).await?;
                let mut ids = members.to_vec();
                ids.push(digest_id);
                for chunk in ids.chunks(500) {
                    let sql = format!(
                        "UPDATE outbox SET status = 'delivered', delivered_at = $1, last_error = NULL WHERE id IN ({})",
                        $crate::sql::placeholders(2, chunk.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    q.execute(&mut *tx).await?;
                }
                // Rows that joined after the digest was composed go back to the queue.
                sqlx::query("UPDATE outbox SET digest_id = NULL WHERE digest_id = $1 AND status = 'pending'")
                    .bind(digest_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }

        impl $store {
            /// `UPDATE outbox SET {set_where} AND id IN (…)` for `ids`, 500 at a time, with
            /// `$1` bound to `at`.
            async fn update_outbox_rows(
                &self,
                set_where: &str,
                at: chrono::DateTime<chrono::Utc>,
                ids: &[i64],
            ) -> $crate::StoreResult<()> {
                for chunk in ids.chunks(500) {
                    let sql = format!(
                        "UPDATE outbox SET {set_where} AND id IN ({})",
                        $crate::sql::placeholders(2, chunk.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    q.execute(&self.pool).await?;
                }
                Ok(())
            }

            async fn insert_audit(
                tx: &mut sqlx::Transaction<'static, <Self as $crate::sql::HasDb>::Db>,
                a: &$crate::NewAudit,
            ) -> $crate::StoreResult<()> {
                sqlx::query("INSERT INTO audit_log (at, actor, action, workflow_id, details) VALUES ($1, $2, $3, $4, $5)")
                    .bind(a.at)
                    .bind(&a.actor)
                    .bind(&a.action)
                    .bind(a.workflow_id)
                    .bind(a.details.to_string())
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            async fn insert_outbox(
                tx: &mut sqlx::Transaction<'static, <Self as $crate::sql::HasDb>::Db>,
                o: &$crate::NewOutbox,
                workflow_id: Option<i64>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, next_attempt_at, channel, recipient) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, COALESCE($9, $1), $7, $8) ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(now)
                .bind(o.kind.as_str())
                .bind(&o.topic)
                .bind(workflow_id)
                .bind(o.payload.to_string())
                .bind(&o.dedupe_key)
                .bind(o.channel.as_deref())
                .bind(o.recipient.as_deref())
                .bind(o.not_before)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// The writes of `apply_one` for every change, in a few multi-row statements
            /// instead of five round trips per workflow (see `batchable`): the
            /// version-checked updates, then the claims, then the side effects of the
            /// changes whose update and claim succeeded.
            async fn apply_batch(
                tx: &mut sqlx::Transaction<'static, <Self as $crate::sql::HasDb>::Db>,
                changes: &[$crate::WorkflowChange],
            ) -> $crate::StoreResult<Vec<$crate::Applied>> {
                use $crate::sql::{batch_rows, rows_of, value_rows};
                let mut outcomes = vec![$crate::Applied::Stale; changes.len()];
                let rows = batch_rows(16);
                for (n, chunk) in changes.chunks(rows).enumerate() {
                    let sql = format!(
                        "UPDATE workflows SET status = v.column3, stage = v.column4, stage_seq = v.column5, \
                         assignee_email = v.column6, level = v.column7, policy_id = v.column8, stage_started_at = v.column9, \
                         level_started_at = v.column10, warn_at = v.column11, due_at = v.column12, next_check_at = v.column13, \
                         closed_at = v.column14, updated_at = v.column15, version = workflows.version + 1, policy_version = v.column16 \
                         FROM (VALUES {}) AS v WHERE workflows.id = v.column1 AND workflows.version = v.column2 \
                         RETURNING workflows.id",
                        value_rows($backend, chunk.len(), 16)
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
                    let updated: std::collections::HashSet<i64> = q.fetch_all(&mut **tx).await?.into_iter().collect();
                    for (i, c) in chunk.iter().enumerate() {
                        if updated.contains(&c.workflow_id) {
                            outcomes[n * rows + i] = $crate::Applied::Done;
                        }
                    }
                }

                let claiming: Vec<usize> = (0..changes.len())
                    .filter(|&i| outcomes[i] == $crate::Applied::Done && changes[i].claim.is_some())
                    .collect();
                for chunk in claiming.chunks(batch_rows(6)) {
                    let sql = format!(
                        "INSERT INTO sla_transitions (workflow_id, stage_seq, level, kind, at, seq) VALUES {} \
                         ON CONFLICT DO NOTHING RETURNING workflow_id",
                        value_rows($backend, chunk.len(), 6)
                    );
                    let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
                    for &i in chunk {
                        let c = &changes[i];
                        if let Some(claim) = &c.claim {
                            q = q
                                .bind(c.workflow_id)
                                .bind(claim.stage_seq)
                                .bind(i64::from(claim.level))
                                .bind(claim.kind_str())
                                .bind(c.now)
                                .bind(i64::from(claim.seq));
                        }
                    }
                    let claimed: std::collections::HashSet<i64> = q.fetch_all(&mut **tx).await?.into_iter().collect();
                    for &i in chunk {
                        if !claimed.contains(&changes[i].workflow_id) {
                            outcomes[i] = $crate::Applied::AlreadyClaimed;
                        }
                    }
                }

                let done: Vec<&$crate::WorkflowChange> = changes
                    .iter()
                    .zip(&outcomes)
                    .filter(|(_, o)| **o == $crate::Applied::Done)
                    .map(|(c, _)| c)
                    .collect();
                let reminders: Vec<(&$crate::WorkflowChange, &$crate::NewReminder)> =
                    done.iter().filter_map(|c| c.reminder.as_ref().map(|r| (*c, r))).collect();
                // First reminders only (see `batchable`): sent once, now.
                for chunk in reminders.chunks(batch_rows(7)) {
                    let rows = rows_of($backend, chunk.len(), "(?, ?, ?, ?, ?, ?, 1, ?)");
                    let sql = format!(
                        "INSERT INTO reminders (workflow_id, stage_seq, level, assignee_email, due_at, created_at, sent_count, last_sent_at) \
                         VALUES {rows} ON CONFLICT DO NOTHING"
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (c, r) in chunk {
                        q = q
                            .bind(c.workflow_id)
                            .bind(c.state.stage_seq)
                            .bind(i64::from(c.state.level))
                            .bind(&r.assignee)
                            .bind(r.due_at)
                            .bind(c.now)
                            .bind(c.now);
                    }
                    q.execute(&mut **tx).await?;
                }
                let audits: Vec<&$crate::NewAudit> = done.iter().flat_map(|c| &c.audit).collect();
                for chunk in audits.chunks(batch_rows(5)) {
                    let sql = format!(
                        "INSERT INTO audit_log (at, actor, action, workflow_id, details) VALUES {}",
                        value_rows($backend, chunk.len(), 5)
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for a in chunk {
                        q = q.bind(a.at).bind(&a.actor).bind(&a.action).bind(a.workflow_id).bind(a.details.to_string());
                    }
                    q.execute(&mut **tx).await?;
                }
                let messages: Vec<(&$crate::WorkflowChange, &$crate::NewOutbox)> =
                    done.iter().flat_map(|c| c.outbox.iter().map(move |o| (*c, o))).collect();
                for chunk in messages.chunks(batch_rows(10)) {
                    let rows = rows_of($backend, chunk.len(), "(?, ?, ?, ?, ?, ?, 'pending', 0, COALESCE(?, ?), ?, ?)");
                    let sql = format!(
                        "INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, next_attempt_at, channel, recipient) \
                         VALUES {rows} ON CONFLICT (dedupe_key) DO NOTHING"
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (c, o) in chunk {
                        q = q
                            .bind(c.now)
                            .bind(o.kind.as_str())
                            .bind(&o.topic)
                            .bind(Some(c.workflow_id))
                            .bind(o.payload.to_string())
                            .bind(&o.dedupe_key)
                            .bind(o.not_before)
                            .bind(c.now)
                            .bind(o.channel.as_deref())
                            .bind(o.recipient.as_deref());
                    }
                    q.execute(&mut **tx).await?;
                }
                Ok(outcomes)
            }

            async fn apply_one(
                tx: &mut sqlx::Transaction<'static, <Self as $crate::sql::HasDb>::Db>,
                c: &$crate::WorkflowChange,
            ) -> $crate::StoreResult<$crate::Applied> {
                let s = &c.state;
                let updated = sqlx::query(
                    "UPDATE workflows SET status = $1, stage = $2, stage_seq = $3, assignee_email = $4, level = $5, \
                     policy_id = $6, stage_started_at = $7, level_started_at = $8, warn_at = $9, due_at = $10, \
                     next_check_at = $11, closed_at = $12, updated_at = $13, version = version + 1, policy_version = $16 \
                     WHERE id = $14 AND version = $15",
                )
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
                .bind(c.workflow_id)
                .bind(c.expected_version)
                .bind(s.policy_version)
                .execute(&mut **tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Ok($crate::Applied::Stale);
                }
                if let Some(claim) = &c.claim {
                    let claimed = sqlx::query(
                        "INSERT INTO sla_transitions (workflow_id, stage_seq, level, kind, at, seq) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(c.workflow_id)
                    .bind(claim.stage_seq)
                    .bind(i64::from(claim.level))
                    .bind(claim.kind_str())
                    .bind(c.now)
                    .bind(i64::from(claim.seq))
                    .execute(&mut **tx)
                    .await?;
                    if claimed.rows_affected() == 0 {
                        return Ok($crate::Applied::AlreadyClaimed);
                    }
                }
                match &c.hold {
                    Some($crate::HoldChange::Open { reason, by, resume_status }) => {
                        sqlx::query(
                            "INSERT INTO workflow_holds (workflow_id, held_at, reason, held_by, resume_status) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(c.workflow_id)
                        .bind(c.now)
                        .bind(reason)
                        .bind(by)
                        .bind(resume_status.as_str())
                        .execute(&mut **tx)
                        .await?;
                    }
                    Some($crate::HoldChange::Close) => {
                        sqlx::query("UPDATE workflow_holds SET resumed_at = $1 WHERE workflow_id = $2 AND resumed_at IS NULL")
                            .bind(c.now)
                            .bind(c.workflow_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                    None => {}
                }
                if let Some(r) = &c.reminder {
                    if r.repeat == 0 {
                        sqlx::query(
                            "INSERT INTO reminders (workflow_id, stage_seq, level, assignee_email, due_at, created_at, sent_count, last_sent_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, 1, $6) ON CONFLICT DO NOTHING",
                        )
                        .bind(c.workflow_id)
                        .bind(s.stage_seq)
                        .bind(i64::from(s.level))
                        .bind(&r.assignee)
                        .bind(r.due_at)
                        .bind(c.now)
                        .execute(&mut **tx)
                        .await?;
                    } else {
                        // A repeat goes out only while the reminder is unacknowledged, checked
                        // in this transaction: an acknowledgement racing the tick wins.
                        let repeated = sqlx::query(
                            "UPDATE reminders SET sent_count = sent_count + 1, last_sent_at = $1 \
                             WHERE workflow_id = $2 AND stage_seq = $3 AND level = $4 AND acknowledged_at IS NULL",
                        )
                        .bind(c.now)
                        .bind(c.workflow_id)
                        .bind(s.stage_seq)
                        .bind(i64::from(s.level))
                        .execute(&mut **tx)
                        .await?;
                        if repeated.rows_affected() == 0 {
                            return Ok($crate::Applied::AlreadyClaimed);
                        }
                    }
                }
                for a in &c.audit {
                    Self::insert_audit(tx, a).await?;
                }
                for o in &c.outbox {
                    Self::insert_outbox(tx, o, Some(c.workflow_id), c.now).await?;
                }
                Ok($crate::Applied::Done)
            }
        }
    };
}

pub(crate) use impl_store;

/// Names the sqlx database type of a store, for the helper functions' signatures.
pub(crate) trait HasDb {
    type Db: sqlx::Database;
}

#[cfg(test)]
mod tests {
    use super::{rows_of, value_rows};
    use crate::Backend;

    #[test]
    fn sqlite_rows_keep_anonymous_parameters() {
        assert_eq!(value_rows(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(
            rows_of(Backend::Sqlite, 1, "(?, 'x', COALESCE(?, ?))"),
            "(?, 'x', COALESCE(?, ?))"
        );
    }

    #[test]
    fn postgres_rows_number_parameters_across_rows() {
        assert_eq!(value_rows(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(
            rows_of(Backend::Postgres, 2, "(?, 0, COALESCE(?, ?))"),
            "($1, 0, COALESCE($2, $3)), ($4, 0, COALESCE($5, $6))"
        );
        assert_eq!(value_rows(Backend::Postgres, 0, 3), "");
    }
}
