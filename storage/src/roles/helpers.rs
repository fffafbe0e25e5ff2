// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

impl Db {
    /// `UPDATE outbox SET {set_where} AND id IN (…)` for `ids`, 500 at a time, with
    /// `$1` bound to `at`, each statement on its own.
    async fn update_outbox_rows(
        &self,
        set_where: &str,
        at: chrono::DateTime<chrono::Utc>,
        ids: &[i64],
    ) -> crate::StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        Self::update_outbox_rows_on(&mut conn, set_where, at, ids).await
    }

    /// [`Self::update_outbox_rows`] on `conn`: a pooled connection, or a transaction's.
    async fn update_outbox_rows_on(
        conn: &mut <<Self as crate::sql::HasDb>::Db as sqlx::Database>::Connection,
        set_where: &str,
        at: chrono::DateTime<chrono::Utc>,
        ids: &[i64],
    ) -> crate::StoreResult<()> {
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE outbox SET {set_where} AND id IN ({})",
                crate::sql::placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn insert_audit(
        tx: &mut sqlx::Transaction<'static, <Self as crate::sql::HasDb>::Db>,
        a: &crate::NewAudit,
    ) -> crate::StoreResult<()> {
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
        tx: &mut sqlx::Transaction<'static, <Self as crate::sql::HasDb>::Db>,
        o: &crate::NewOutbox,
        workflow_id: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<()> {
        sqlx::query(
            "INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, next_attempt_at, channel, recipient) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, COALESCE($9, $1), $7, $8) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(now)
        .bind(o.kind.as_str())
        .bind(&o.topic)
        .bind(workflow_id)
        .bind(o.payload.as_str())
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
    pub(crate) async fn apply_batch(
        tx: &mut sqlx::Transaction<'static, <Self as crate::sql::HasDb>::Db>,
        changes: &[crate::WorkflowChange],
    ) -> crate::StoreResult<Vec<crate::Applied>> {
        use crate::sql::{batch_rows, rows_of};
        let updated = Self::update_versions(tx, changes).await?;
        let mut outcomes: Vec<crate::Applied> = changes
            .iter()
            .map(|c| {
                if updated.contains(&c.workflow_id) {
                    crate::Applied::Done
                } else {
                    crate::Applied::Stale
                }
            })
            .collect();

        let claiming: Vec<usize> = (0..changes.len())
            .filter(|&i| outcomes[i] == crate::Applied::Done && changes[i].claim.is_some())
            .collect();
        let claims: Vec<(&crate::WorkflowChange, crate::Claim)> = claiming
            .iter()
            .filter_map(|&i| changes[i].claim.map(|claim| (&changes[i], claim)))
            .collect();
        let claimed = Self::insert_claims(tx, &claims).await?;
        for &i in &claiming {
            if !claimed.contains(&changes[i].workflow_id) {
                outcomes[i] = crate::Applied::AlreadyClaimed;
            }
        }

        let done: Vec<&crate::WorkflowChange> = changes
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| **o == crate::Applied::Done)
            .map(|(c, _)| c)
            .collect();
        let reminders: Vec<(&crate::WorkflowChange, &crate::NewReminder)> = done
            .iter()
            .filter_map(|c| c.reminder.as_ref().map(|r| (*c, r)))
            .collect();
        // First reminders only (see `batchable`): sent once, now.
        for chunk in reminders.chunks(batch_rows(7)) {
            let rows = rows_of(BACKEND, chunk.len(), "(?, ?, ?, ?, ?, ?, 1, ?)");
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
        let audits: Vec<&crate::NewAudit> = done.iter().flat_map(|c| &c.audit).collect();
        Self::insert_audits(tx, &audits).await?;
        let messages: Vec<crate::sql::Queued<'_>> = done
            .iter()
            .flat_map(|c| c.outbox.iter().map(move |o| (c.now, Some(c.workflow_id), o)))
            .collect();
        Self::insert_messages(tx, &messages).await?;
        Ok(outcomes)
    }

    /// Writes one SLA outcome with its stage's reminder and escalation counts; false when
    /// the stage already has one (only a backfill may meet that).
    async fn insert_outcome(
        tx: &mut sqlx::Transaction<'static, <Self as crate::sql::HasDb>::Db>,
        o: &crate::NewOutcome,
        source: &str,
    ) -> crate::StoreResult<bool> {
        let sql = if source == "live" {
            crate::sql::INSERT_OUTCOME.to_string()
        } else {
            format!(
                "{} ON CONFLICT (workflow_id, stage_seq) DO NOTHING",
                crate::sql::INSERT_OUTCOME
            )
        };
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(o.workflow_id)
            .bind(o.stage_seq)
            .bind(&o.stage)
            .bind(&o.department)
            .bind(&o.workflow_type)
            .bind(o.policy_id)
            .bind(o.policy_version)
            .bind(&o.assignee)
            .bind(&o.decided_by)
            .bind(o.ended_by.as_str())
            .bind(o.outcome.as_str())
            .bind(i64::from(o.level))
            .bind(o.target_seconds)
            .bind(o.used_seconds)
            .bind(o.over_seconds)
            .bind(o.held_seconds)
            .bind((o.ended_at - o.started_at).num_seconds().max(0))
            .bind(o.started_at)
            .bind(o.ended_at)
            .bind(source)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(sqlx::AssertSqlSafe(crate::sql::rollup_upsert(DIALECT.ended_day)))
            .bind(o.workflow_id)
            .bind(o.stage_seq)
            .execute(&mut **tx)
            .await?;
        Ok(true)
    }

    async fn apply_one(
        tx: &mut sqlx::Transaction<'static, <Self as crate::sql::HasDb>::Db>,
        c: &crate::WorkflowChange,
    ) -> crate::StoreResult<crate::Applied> {
        let s = &c.state;
        if Self::update_versions(tx, std::slice::from_ref(c)).await?.is_empty() {
            return Ok(crate::Applied::Stale);
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
                return Ok(crate::Applied::AlreadyClaimed);
            }
        }
        match &c.hold {
            Some(crate::HoldChange::Open {
                reason,
                by,
                resume_status,
            }) => {
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
            Some(crate::HoldChange::Close) => {
                sqlx::query("UPDATE workflow_holds SET resumed_at = $1 WHERE workflow_id = $2 AND resumed_at IS NULL")
                    .bind(c.now)
                    .bind(c.workflow_id)
                    .execute(&mut **tx)
                    .await?;
            }
            None => {}
        }
        if let Some(outcome) = &c.outcome {
            Self::insert_outcome(tx, outcome, "live").await?;
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
                    return Ok(crate::Applied::AlreadyClaimed);
                }
            }
        }
        for a in &c.audit {
            Self::insert_audit(tx, a).await?;
        }
        for o in &c.outbox {
            Self::insert_outbox(tx, o, Some(c.workflow_id), c.now).await?;
        }
        Ok(crate::Applied::Done)
    }
}
