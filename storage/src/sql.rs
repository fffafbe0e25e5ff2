//! What the role implementations share: column lists, dialect words, placeholders.
//!
//! sqlx fixes the database type per pool, and code generic over `sqlx::Database` needs
//! a wall of trait bounds in every function; instead each role of [`Store`](crate::Store)
//! is written once, as plain Rust in `storage/src/roles/<role>.rs`, and compiled for
//! `SqliteStore` and `PgStore` by including it in each backend's module. The SQL text is
//! the same for both (`$n` placeholders, `ON CONFLICT`, `RETURNING`, row values); the few
//! dialect differences come from each store's `Dialect` constants, and the placeholders of
//! the tick's multi-row statements from [`rows_of`].

/// The dialect words that differ between backends.
pub(crate) struct Dialect {
    /// Statement that opens a write transaction.
    pub begin_write: &'static str,
    /// Appended to the row-claiming sub-select of the outbox.
    pub skip_locked: &'static str,
    /// Appended to a select that locks the rows it reads until the transaction ends.
    pub for_update: &'static str,
    /// The UTC day (`YYYY-MM-DD`) of the outcome's `ended_at`, as text.
    pub ended_day: &'static str,
}

pub(crate) const OUTCOME_COLUMNS: &str = "id, workflow_id, stage_seq, stage, department_key, workflow_type, \
    policy_id, policy_version, assignee_email, decided_by, ended_by, outcome, level, target_seconds, used_seconds, \
    over_seconds, held_seconds, duration_seconds, reminders, escalations, started_at, ended_at, source";

/// The filter of a report over `sla_outcomes` (binds `$1`–`$5`: from, to, department,
/// policy, workflow type).
pub(crate) const OUTCOME_WHERE: &str = "($1 IS NULL OR ended_at >= $1) AND ($2 IS NULL OR ended_at < $2) \
    AND ($3 IS NULL OR department_key = $3) AND ($4 IS NULL OR policy_id = $4) AND ($5 IS NULL OR workflow_type = $5)";

/// Counts per group of outcomes, with `key` the group's text (decisions met and breached,
/// cancellations, and what they took). Sums are cast: PostgreSQL sums BIGINT as NUMERIC.
pub(crate) const OUTCOME_COUNTS: &str =
    "CAST(SUM(CASE WHEN ended_by <> 'cancelled' AND outcome = 'met' THEN 1 ELSE 0 END) AS BIGINT) AS met, \
    CAST(SUM(CASE WHEN ended_by <> 'cancelled' AND outcome = 'breached' THEN 1 ELSE 0 END) AS BIGINT) AS breached, \
    CAST(SUM(CASE WHEN ended_by = 'cancelled' THEN 1 ELSE 0 END) AS BIGINT) AS cancelled, \
    CAST(SUM(escalations) AS BIGINT) AS escalations, CAST(SUM(reminders) AS BIGINT) AS reminders, \
    CAST(SUM(CASE WHEN ended_by <> 'cancelled' THEN over_seconds ELSE 0 END) AS BIGINT) AS over_seconds";

/// Inserts one outcome, counting the stage's reminders and escalations from
/// `sla_transitions` in the same statement (binds `$1`–`$20`).
pub(crate) const INSERT_OUTCOME: &str = "INSERT INTO sla_outcomes (workflow_id, stage_seq, stage, department_key, \
    workflow_type, policy_id, policy_version, assignee_email, decided_by, ended_by, outcome, level, target_seconds, \
    used_seconds, over_seconds, held_seconds, duration_seconds, reminders, escalations, started_at, ended_at, source) \
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
    (SELECT COUNT(*) FROM sla_transitions WHERE workflow_id = $1 AND stage_seq = $2 AND kind = 'remind'), \
    (SELECT COUNT(*) FROM sla_transitions WHERE workflow_id = $1 AND stage_seq = $2 AND kind = 'escalate'), \
    $18, $19, $20";

pub(crate) const DEPARTMENT_COLUMNS: &str = "key, name, head_email";
pub(crate) const USER_COLUMNS: &str = "email, name, role, department_key, manager_email, phone";
/// Policies are read with their calendar's definition.
pub(crate) const POLICY_SELECT: &str = "SELECT p.id, p.name, p.target_seconds, p.warning_kind, p.warning_value, \
    p.created_at, p.updated_at, p.calendar_id, c.definition AS calendar, p.version, p.reminder_repeat_seconds, \
    p.ack_timeout_seconds, p.exhausted_repeat_seconds \
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
    status, attempts, next_attempt_at, last_error, delivered_at, channel, recipient, digest_id, discarded_at";

/// Snapshots policies (chosen by the WHERE clause appended) into `policy_versions`.
pub(crate) const SNAPSHOT_POLICY: &str = "INSERT INTO policy_versions (policy_id, version, name, target_seconds, \
    warning_kind, warning_value, calendar_id, calendar, created_at, reminder_repeat_seconds, ack_timeout_seconds, \
    exhausted_repeat_seconds) \
    SELECT p.id, p.version, p.name, p.target_seconds, p.warning_kind, p.warning_value, p.calendar_id, c.definition, $1, \
    p.reminder_repeat_seconds, p.ack_timeout_seconds, p.exhausted_repeat_seconds \
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
            .all(|c| c.hold.is_none() && c.outcome.is_none() && c.reminder.as_ref().is_none_or(|r| r.repeat == 0))
}

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
