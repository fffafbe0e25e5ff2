// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

#[async_trait::async_trait]
impl crate::WorkflowStore for Db {
    async fn insert_workflow(
        &self,
        w: &crate::NewWorkflow,
        audit: &crate::NewAudit,
    ) -> crate::StoreResult<crate::WorkflowRecord> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let s = &w.state;
        let sql = format!(
            "INSERT INTO workflows (external_id, workflow_type, title, stage, stage_seq, department_key, \
             initiator_email, assignee_email, status, level, policy_id, chain_id, stage_started_at, \
             level_started_at, warn_at, due_at, next_check_at, version, created_at, updated_at, closed_at, idempotency_key, \
             policy_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0, $18, $18, $19, $20, $21) \
             RETURNING {}, FALSE AS held_at_level",
            crate::sql::WORKFLOW_COLUMNS
        );
        let row = sqlx::query_as::<_, crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
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
            .map_err(|e| crate::StoreError::classify(e, "workflow"))?;
        let record: crate::WorkflowRecord = row.try_into()?;
        let audit = crate::NewAudit {
            workflow_id: Some(record.id),
            ..audit.clone()
        };
        Self::insert_audit(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn workflow(&self, id: i64) -> crate::StoreResult<Option<crate::WorkflowRecord>> {
        let sql = format!(
            "SELECT {} FROM workflows WHERE id = $1",
            crate::sql::WORKFLOW_COLUMNS_WITH_HOLDS
        );
        sqlx::query_as::<_, crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn workflow_by_external_id(&self, external_id: &str) -> crate::StoreResult<Option<crate::WorkflowRecord>> {
        let sql = format!(
            "SELECT {} FROM workflows WHERE external_id = $1",
            crate::sql::WORKFLOW_COLUMNS_WITH_HOLDS
        );
        sqlx::query_as::<_, crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
            .bind(external_id)
            .fetch_optional(&self.pool)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn workflows(&self, f: &crate::WorkflowFilter) -> crate::StoreResult<Vec<crate::WorkflowRecord>> {
        // Filters that are set appear as plain predicates (not `$n IS NULL OR …`), so
        // the planners can use the partial open-workflow and department indexes.
        let (order, cursor) = match (f.order, f.after_due.is_some()) {
            (crate::WorkflowOrder::Newest, _) => ("id DESC", "($5 IS NULL OR id < $5) AND $10 IS NULL AND $11 IS NULL"),
            (crate::WorkflowOrder::DueSoonest, false) => ("due_at, id", "$5 IS NULL AND $10 IS NULL AND $11 IS NULL"),
            (crate::WorkflowOrder::DueSoonest, true) => ("due_at, id", "$5 IS NULL AND (due_at, id) > ($10, $11)"),
        };
        let open = if f.open_only {
            "$2 = 1 AND status IN ('pending', 'escalated', 'on_hold')"
        } else {
            "$2 = 0"
        };
        let department = match (f.department.is_some(), f.or_assignee.is_some()) {
            (true, true) => "(department_key = $3 OR assignee_email = $12)",
            (true, false) => "department_key = $3 AND $12 IS NULL",
            (false, _) => "$3 IS NULL AND $12 IS NULL",
        };
        let assignee = if f.assignee.is_some() {
            "assignee_email = $4"
        } else {
            "$4 IS NULL"
        };
        let attention = if f.needs_attention {
            "status IN ('pending', 'escalated') AND EXISTS (SELECT 1 FROM sla_transitions t \
             WHERE t.workflow_id = workflows.id AND t.stage_seq = workflows.stage_seq \
             AND t.level = workflows.level AND t.kind = 'exhaust')"
        } else {
            "1 = 1"
        };
        let sql = format!(
            "SELECT {} FROM workflows \
             WHERE ($1 IS NULL OR status = $1) \
               AND {open} AND {department} AND {assignee} AND {attention} \
               AND {cursor} \
               AND ($9 IS NULL OR policy_id = $9) \
               AND ($7 IS NULL OR $7 = CASE WHEN status = 'on_hold' THEN 'paused' \
                    WHEN status NOT IN ('pending', 'escalated') THEN 'closed' \
                    WHEN due_at <= $8 THEN 'breached' WHEN warn_at <= $8 THEN 'warning' ELSE 'ok' END) \
             ORDER BY {order} LIMIT $6",
            crate::sql::WORKFLOW_COLUMNS_WITH_HOLDS
        );
        let rows = sqlx::query_as::<_, crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
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
        crate::records::convert(rows)
    }

    async fn sla_counts(
        &self,
        f: &crate::WorkflowFilter,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<Vec<(String, i64)>> {
        let department = match (f.department.is_some(), f.or_assignee.is_some()) {
            (true, true) => "(department_key = $2 OR assignee_email = $5)",
            (true, false) => "department_key = $2 AND $5 IS NULL",
            (false, _) => "$2 IS NULL AND $5 IS NULL",
        };
        let assignee = if f.assignee.is_some() {
            "assignee_email = $3"
        } else {
            "$3 IS NULL"
        };
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

    async fn due_workflows(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        after: Option<crate::DueCursor>,
        limit: i64,
    ) -> crate::StoreResult<Vec<crate::WorkflowRecord>> {
        // Two statements rather than an optional cursor, so both are plain index ranges.
        let cursor = if after.is_some() {
            "AND (next_check_at, id) > ($2, $3)"
        } else {
            "AND $2 IS NULL AND $3 IS NULL"
        };
        let sql = format!(
            "SELECT {} FROM workflows \
             WHERE next_check_at IS NOT NULL AND next_check_at <= $1 {cursor} \
             ORDER BY next_check_at, id LIMIT $4",
            crate::sql::WORKFLOW_COLUMNS_WITH_HOLDS
        );
        let rows = sqlx::query_as::<_, crate::records::WorkflowRow>(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(after.map(|c| c.next_check_at))
            .bind(after.map(|c| c.id))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn next_check_at(&self) -> crate::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
        Ok(
            // An absence starting is a threshold too: its person's open work is handed on then.
            sqlx::query_scalar(
                "SELECT MIN(t) FROM (SELECT MIN(next_check_at) AS t FROM workflows WHERE next_check_at IS NOT NULL \
                 UNION ALL SELECT MIN(starts_at) AS t FROM absences WHERE handed_over_at IS NULL) thresholds",
            )
            .fetch_one(&self.pool)
            .await?,
        )
    }

    async fn holds(&self, workflow_ids: &[i64]) -> crate::StoreResult<Vec<crate::Hold>> {
        let mut all = Vec::new();
        for chunk in workflow_ids.chunks(500) {
            let sql = format!(
                "SELECT id, workflow_id, held_at, resumed_at, reason, held_by, resume_status FROM workflow_holds \
                 WHERE workflow_id IN ({}) ORDER BY workflow_id, held_at",
                crate::sql::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, crate::records::HoldRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            all.extend(crate::records::convert::<_, crate::Hold>(
                q.fetch_all(&self.pool).await?,
            )?);
        }
        Ok(all)
    }

    async fn apply(&self, changes: &[crate::WorkflowChange]) -> crate::StoreResult<Vec<crate::Applied>> {
        if crate::sql::batchable(changes) {
            return self.apply_batched(changes).await;
        }
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let mut outcomes = Vec::with_capacity(changes.len());
        for change in changes {
            outcomes.push(Self::apply_one(&mut tx, change).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn stats(&self, now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<crate::Stats> {
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
            "SELECT kind, status, COUNT(*) FROM outbox WHERE status IN ('pending', 'dead') AND discarded_at IS NULL GROUP BY kind, status",
        )
        .fetch_all(&self.pool)
        .await?;
        let oldest_pending_outbox_at: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        // Through the partial index of exhaustions: open workflows still at the level whose
        // chain ran out, which nobody further up can take.
        let needs_attention: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sla_transitions t JOIN workflows w ON w.id = t.workflow_id \
             AND w.stage_seq = t.stage_seq AND w.level = t.level \
             WHERE t.kind = 'exhaust' AND t.seq = 0 AND w.status IN ('pending', 'escalated')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(crate::Stats {
            needs_attention,
            open_by_sla_status,
            oldest_breach_due_at,
            outbox,
            oldest_pending_outbox_at,
        })
    }

    async fn reminders(&self, f: &crate::ReminderFilter) -> crate::StoreResult<Vec<crate::Reminder>> {
        let conditions = crate::sql::Conditions::default()
            .and(f.assignee.is_some(), "assignee_email = ?")
            .and(f.workflow_id.is_some(), "workflow_id = ?")
            .and(f.unacknowledged_only, "acknowledged_at IS NULL")
            .and(f.before_id.is_some(), "id < ?")
            .and(
                f.department.is_some(),
                "workflow_id IN (SELECT id FROM workflows WHERE department_key = ?)",
            );
        let sql = format!(
            "SELECT {} FROM reminders{} ORDER BY id DESC LIMIT ${}",
            crate::sql::REMINDER_COLUMNS,
            conditions.sql(),
            conditions.next()
        );
        let mut query = sqlx::query_as::<_, crate::records::ReminderRow>(sqlx::AssertSqlSafe(sql));
        if let Some(assignee) = f.assignee.as_deref() {
            query = query.bind(assignee);
        }
        if let Some(workflow_id) = f.workflow_id {
            query = query.bind(workflow_id);
        }
        if let Some(before_id) = f.before_id {
            query = query.bind(before_id);
        }
        if let Some(department) = f.department.as_deref() {
            query = query.bind(department);
        }
        let rows = query.bind(f.limit).fetch_all(&self.pool).await?;
        crate::records::convert(rows)
    }

    async fn reminder(&self, id: i64) -> crate::StoreResult<Option<crate::Reminder>> {
        let sql = format!("SELECT {} FROM reminders WHERE id = $1", crate::sql::REMINDER_COLUMNS);
        sqlx::query_as::<_, crate::records::ReminderRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn acknowledge_reminder(
        &self,
        id: i64,
        by: &str,
        audit: &crate::NewAudit,
    ) -> crate::StoreResult<Option<crate::Reminder>> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
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

    async fn reminders_of(&self, workflow_ids: &[i64]) -> crate::StoreResult<Vec<crate::Reminder>> {
        let mut all = Vec::new();
        for chunk in workflow_ids.chunks(500) {
            let sql = format!(
                "SELECT {} FROM reminders WHERE workflow_id IN ({}) ORDER BY id",
                crate::sql::REMINDER_COLUMNS,
                crate::sql::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, crate::records::ReminderRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            all.extend(crate::records::convert::<_, crate::Reminder>(
                q.fetch_all(&self.pool).await?,
            )?);
        }
        Ok(all)
    }

    async fn audit_entries(&self, f: &crate::AuditFilter) -> crate::StoreResult<Vec<crate::AuditEntry>> {
        let conditions = crate::sql::Conditions::default()
            .and(f.workflow_id.is_some(), "workflow_id = ?")
            .and(f.action.is_some(), "action = ?")
            .and(f.actor.is_some(), "actor = ?")
            .and(f.from.is_some(), "at >= ?")
            .and(f.to.is_some(), "at < ?")
            .and(f.before_id.is_some(), "id < ?");
        let sql = format!(
            "SELECT id, at, actor, action, workflow_id, details FROM audit_log{} ORDER BY id DESC LIMIT ${}",
            conditions.sql(),
            conditions.next()
        );
        let mut query = sqlx::query_as::<_, crate::records::AuditRow>(sqlx::AssertSqlSafe(sql));
        if let Some(workflow_id) = f.workflow_id {
            query = query.bind(workflow_id);
        }
        if let Some(action) = f.action.as_deref() {
            query = query.bind(action);
        }
        if let Some(actor) = f.actor.as_deref() {
            query = query.bind(actor);
        }
        if let Some(from) = f.from {
            query = query.bind(from);
        }
        if let Some(to) = f.to {
            query = query.bind(to);
        }
        if let Some(before_id) = f.before_id {
            query = query.bind(before_id);
        }
        let rows = query.bind(f.limit).fetch_all(&self.pool).await?;
        crate::records::convert(rows)
    }

    async fn append_audit(&self, entry: &crate::NewAudit) -> crate::StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        Self::insert_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }
}
