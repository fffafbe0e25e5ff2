//! What the role implementations share: column lists, dialect words, placeholders.
//!
//! sqlx fixes the database type per pool, and code generic over `sqlx::Database` needs
//! a wall of trait bounds in every function; instead each role of [`Store`](crate::Store)
//! is written once, as plain Rust in `storage/src/roles/<role>.rs`, and compiled for
//! `SqliteStore` and `PgStore` by including it in each backend's module. The SQL text is
//! the same for both (`$n` placeholders, `ON CONFLICT`, `RETURNING`, row values); the few
//! dialect differences come from each store's `Dialect` constants, and the placeholders of
//! the tick's multi-row statements from [`rows_of`].

/// A `WHERE` clause of only the conditions whose values are given, numbered `$1`, `$2`, …
/// in the order they are added, so the binds follow the same order.
///
/// A catch-all condition such as `($1 IS NULL OR workflow_id = $1)` lets SQLite plan the
/// statement before it sees the value: it scans the whole table instead of the index (a
/// workflow's page read the whole audit log to find its entries).
#[derive(Default)]
pub(crate) struct Conditions {
    sql: String,
    params: usize,
}

impl Conditions {
    /// Adds `condition` when `given`; a `?` in it stands for the next parameter.
    pub(crate) fn and(mut self, given: bool, condition: &str) -> Self {
        if given {
            self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
            if condition.contains('?') {
                self.params += 1;
                self.sql.push_str(&condition.replace('?', &format!("${}", self.params)));
            } else {
                self.sql.push_str(condition);
            }
        }
        self
    }

    /// The number of the parameter after the conditions' (`$n` of a `LIMIT`).
    pub(crate) fn next(&self) -> usize {
        self.params + 1
    }

    /// ` WHERE a = $1 AND b = $2`, or nothing.
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }
}

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

/// Upper bounds (seconds) of the time-to-decision buckets `d0`–`d14` of
/// `sla_outcome_days`; `d15` holds the longer ones.
pub(crate) const DECISION_BOUNDS: [i64; 15] = [
    900, 1800, 3600, 7200, 14_400, 28_800, 43_200, 86_400, 129_600, 172_800, 259_200, 432_000, 604_800, 1_209_600,
    2_592_000,
];

/// The filter of a report over `sla_outcome_days` (binds `$1`–`$5`: first day, day after
/// the last, department, policy, workflow type).
pub(crate) const ROLLUP_WHERE: &str = "($1 IS NULL OR day >= $1) AND ($2 IS NULL OR day < $2) \
    AND ($3 IS NULL OR department_key = $3) AND ($4 IS NULL OR policy_id = $4) AND ($5 IS NULL OR workflow_type = $5)";

/// How many decisions the buckets hold, and each quantile (0 to 1, nearest rank) as the
/// upper bound of the bucket it falls in (the last bound for the open bucket); no values
/// without decisions.
pub(crate) fn quantiles(buckets: &[i64], quantiles: &[f64]) -> (i64, Vec<i64>) {
    let decided: i64 = buckets.iter().sum();
    if decided <= 0 {
        return (0, Vec::new());
    }
    let values = quantiles
        .iter()
        .map(|q| {
            let rank = ((q.clamp(0.0, 1.0) * decided as f64).ceil() as i64).clamp(1, decided);
            let mut seen = 0;
            let bucket = buckets
                .iter()
                .position(|count| {
                    seen += count;
                    seen >= rank
                })
                .unwrap_or(DECISION_BOUNDS.len());
            DECISION_BOUNDS[bucket.min(DECISION_BOUNDS.len() - 1)]
        })
        .collect();
    (decided, values)
}

/// The filter's range as the days of `sla_outcome_days`: the first day, and the day after
/// the last (an end within a day counts that day whole).
pub(crate) fn rollup_days(f: &crate::OutcomeFilter) -> (Option<String>, Option<String>) {
    use chrono::Timelike;
    let from = f.from.map(|t| t.date_naive().to_string());
    let to = f.to.map(|t| {
        let day = t.date_naive();
        let midnight = t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0;
        if midnight {
            day.to_string()
        } else {
            day.succ_opt().unwrap_or(day).to_string()
        }
    });
    (from, to)
}

/// Counts per group of the daily sums, with `key` the group's text. Sums are cast:
/// PostgreSQL sums BIGINT as NUMERIC.
pub(crate) const ROLLUP_COUNTS: &str = "CAST(SUM(met) AS BIGINT) AS met, CAST(SUM(breached) AS BIGINT) AS breached, \
    CAST(SUM(cancelled) AS BIGINT) AS cancelled, CAST(SUM(escalations) AS BIGINT) AS escalations, \
    CAST(SUM(reminders) AS BIGINT) AS reminders, CAST(SUM(over_seconds) AS BIGINT) AS over_seconds";

/// The sums of one outcome row as `sla_outcome_days` keeps them: (column, expression
/// over `sla_outcomes`).
fn rollup_columns() -> Vec<(String, String)> {
    let decided = "ended_by <> 'cancelled'";
    let mut columns = vec![
        (
            "met".to_string(),
            format!("CASE WHEN {decided} AND outcome = 'met' THEN 1 ELSE 0 END"),
        ),
        (
            "breached".to_string(),
            format!("CASE WHEN {decided} AND outcome = 'breached' THEN 1 ELSE 0 END"),
        ),
        (
            "cancelled".to_string(),
            format!("CASE WHEN {decided} THEN 0 ELSE 1 END"),
        ),
        ("escalations".to_string(), "escalations".to_string()),
        ("reminders".to_string(), "reminders".to_string()),
        (
            "over_seconds".to_string(),
            format!("CASE WHEN {decided} THEN over_seconds ELSE 0 END"),
        ),
    ];
    let mut lower: Option<i64> = None;
    for (i, upper) in DECISION_BOUNDS.iter().enumerate() {
        let above = lower.map_or(String::new(), |l| format!(" AND duration_seconds > {l}"));
        columns.push((
            format!("d{i}"),
            format!("CASE WHEN {decided} AND duration_seconds <= {upper}{above} THEN 1 ELSE 0 END"),
        ));
        lower = Some(*upper);
    }
    columns.push((
        format!("d{}", DECISION_BOUNDS.len()),
        format!(
            "CASE WHEN {decided} AND duration_seconds > {} THEN 1 ELSE 0 END",
            lower.unwrap_or_default()
        ),
    ));
    columns
}

const ROLLUP_KEY: &str = "department_key, policy_id, workflow_type, stage, assignee_email";

/// Adds the outcome of stage (`$1` workflow, `$2` stage) to its day's sums; `day` is the
/// dialect's expression of the UTC day of `ended_at`.
pub(crate) fn rollup_upsert(day: &str) -> String {
    let columns = rollup_columns();
    let names = columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
    let values = columns.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", ");
    let sums = columns
        .iter()
        .map(|(c, _)| format!("{c} = sla_outcome_days.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO sla_outcome_days (day, {ROLLUP_KEY}, {names}) \
         SELECT {day}, {ROLLUP_KEY}, {values} FROM sla_outcomes WHERE workflow_id = $1 AND stage_seq = $2 \
         ON CONFLICT (day, {ROLLUP_KEY}) DO UPDATE SET {sums}"
    )
}

/// Rebuilds every day's sums from the outcomes (after a bulk load).
pub(crate) fn rollup_rebuild(day: &str) -> String {
    let columns = rollup_columns();
    let names = columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
    let sums = columns
        .iter()
        .map(|(_, v)| format!("SUM({v})"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO sla_outcome_days (day, {ROLLUP_KEY}, {names}) \
         SELECT {day}, {ROLLUP_KEY}, {sums} FROM sla_outcomes GROUP BY {day}, {ROLLUP_KEY}"
    )
}

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
/// The columns of a workflow row (a macro, so that the list below can extend it).
macro_rules! workflow_columns {
    () => {
        "id, external_id, workflow_type, title, stage, stage_seq, department_key, initiator_email, \
         assignee_email, status, level, policy_id, policy_version, chain_id, stage_started_at, \
         level_started_at, warn_at, due_at, next_check_at, version, created_at, updated_at, closed_at, \
         idempotency_key"
    };
}
pub(crate) const WORKFLOW_COLUMNS: &str = workflow_columns!();
/// [`WORKFLOW_COLUMNS`] and whether a hold counts for the current level's clock (the rule
/// of the engine's `timeline_of`), so that readers fetch holds only for workflows that
/// have one: most never do.
pub(crate) const WORKFLOW_COLUMNS_WITH_HOLDS: &str = concat!(
    workflow_columns!(),
    ", EXISTS (SELECT 1 FROM workflow_holds h WHERE h.workflow_id = workflows.id \
     AND (h.resumed_at IS NULL OR h.resumed_at > workflows.level_started_at)) AS held_at_level"
);
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

/// An outbox row to insert: when it was queued, its workflow, the message.
pub(crate) type Queued<'a> = (chrono::DateTime<chrono::Utc>, Option<i64>, &'a crate::NewOutbox);

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

/// Whether `apply` may write `changes` with multi-row statements: each of a different
/// workflow, none opening or closing a hold, none repeating a reminder (a repeat is
/// conditional on the reminder being unacknowledged, row by row). A tick's batches
/// qualify, also of one change (a threshold of its own: one statement per table, fewer
/// round trips than row by row); anything unusual takes the one-by-one path.
pub(crate) fn batchable(changes: &[crate::WorkflowChange]) -> bool {
    let mut ids: Vec<i64> = changes.iter().map(|c| c.workflow_id).collect();
    ids.sort_unstable();
    ids.dedup();
    !changes.is_empty()
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
    use super::{quantiles, rollup_days, rows_of, value_rows, Conditions};
    use crate::Backend;

    #[test]
    fn only_the_given_conditions_are_written_and_numbered_in_order() {
        let none = Conditions::default().and(false, "a = ?").and(false, "b IS NULL");
        assert_eq!((none.sql(), none.next()), ("", 1));
        let some = Conditions::default()
            .and(false, "a = ?")
            .and(true, "b = ?")
            .and(true, "c IS NULL")
            .and(true, "d < ?");
        assert_eq!((some.sql(), some.next()), (" WHERE b = $1 AND c IS NULL AND d < $2", 3));
    }

    #[test]
    fn quantiles_are_the_bounds_of_the_buckets_they_fall_in() {
        let mut buckets = [0i64; 16];
        buckets[2] = 1; // up to 1 h
        buckets[4] = 1; // up to 4 h
        assert_eq!(quantiles(&buckets, &[0.5, 0.9]), (2, vec![3600, 14_400]));
        buckets[15] = 8; // beyond 30 d: reported at the last bound
        assert_eq!(
            quantiles(&buckets, &[0.0, 0.5, 1.0]),
            (10, vec![3600, 2_592_000, 2_592_000])
        );
        assert_eq!(quantiles(&[0; 16], &[0.5]), (0, vec![]));
    }

    #[test]
    fn report_days_round_an_end_within_a_day_up() {
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let f = crate::OutcomeFilter {
            from: Some(at("2026-12-01T10:00:00Z")),
            to: Some(at("2026-12-03T00:00:00Z")),
            ..Default::default()
        };
        assert_eq!(rollup_days(&f), (Some("2026-12-01".into()), Some("2026-12-03".into())));
        let f = crate::OutcomeFilter {
            to: Some(at("2026-12-03T00:00:01Z")),
            ..Default::default()
        };
        assert_eq!(rollup_days(&f).1, Some("2026-12-04".into()));
    }

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
