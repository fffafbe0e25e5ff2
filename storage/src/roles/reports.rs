// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

/// Binds an [`crate::OutcomeFilter`] to `$1`–`$5` of [`crate::sql::ROLLUP_WHERE`].
macro_rules! bind_rollup_filter {
    ($query:expr, $f:expr) => {{
        let (from, to) = crate::sql::rollup_days($f);
        $query
            .bind(from)
            .bind(to)
            .bind($f.department.clone())
            .bind($f.policy_id)
            .bind($f.workflow_type.clone())
    }};
}

/// Binds an [`crate::OutcomeFilter`] to `$1`–`$5` of [`crate::sql::OUTCOME_WHERE`].
macro_rules! bind_outcome_filter {
    ($query:expr, $f:expr) => {
        $query
            .bind($f.from)
            .bind($f.to)
            .bind($f.department.as_deref())
            .bind($f.policy_id)
            .bind($f.workflow_type.as_deref())
    };
}

#[async_trait::async_trait]
impl crate::ReportStore for Db {
    async fn workflow_outcomes(&self, workflow_id: i64) -> crate::StoreResult<Vec<crate::SlaOutcome>> {
        let sql = format!(
            "SELECT {} FROM sla_outcomes WHERE workflow_id = $1 ORDER BY stage_seq",
            crate::sql::OUTCOME_COLUMNS
        );
        let rows = sqlx::query_as::<_, crate::records::OutcomeRow>(sqlx::AssertSqlSafe(sql))
            .bind(workflow_id)
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn outcomes(&self, f: &crate::OutcomeFilter, limit: i64) -> crate::StoreResult<Vec<crate::SlaOutcome>> {
        let sql = format!(
            "SELECT {} FROM sla_outcomes WHERE {} ORDER BY ended_at, id LIMIT $6",
            crate::sql::OUTCOME_COLUMNS,
            crate::sql::OUTCOME_WHERE
        );
        let query = sqlx::query_as::<_, crate::records::OutcomeRow>(sqlx::AssertSqlSafe(sql));
        let rows = bind_outcome_filter!(query, f).bind(limit).fetch_all(&self.pool).await?;
        crate::records::convert(rows)
    }

    async fn outcomes_by_day(&self, f: &crate::OutcomeFilter) -> crate::StoreResult<Vec<crate::DayCounts>> {
        let sql = format!(
            "SELECT day AS key, {counts} FROM sla_outcome_days WHERE {filter} GROUP BY day ORDER BY 1",
            counts = crate::sql::ROLLUP_COUNTS,
            filter = crate::sql::ROLLUP_WHERE
        );
        let query = sqlx::query_as::<_, crate::records::CountsRow>(sqlx::AssertSqlSafe(sql));
        let rows = bind_rollup_filter!(query, f).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                let day =
                    chrono::NaiveDate::parse_from_str(&r.key, "%Y-%m-%d").map_err(|e| crate::StoreError::Corrupt {
                        table: "sla_outcomes",
                        message: format!("day {:?}: {e}", r.key),
                    })?;
                Ok(crate::DayCounts {
                    day,
                    counts: r.counts(),
                })
            })
            .collect()
    }

    async fn breakdowns(
        &self,
        f: &crate::OutcomeFilter,
        limit: usize,
    ) -> crate::StoreResult<Vec<(crate::Dimension, Vec<crate::GroupCounts>)>> {
        // One scan grouped by all five keys, summed per dimension here: five grouped scans
        // of the same days cost nearly five times as much (a year: 50 against 32 ms).
        let sql = format!(
            "SELECT department_key, CAST(policy_id AS TEXT) AS policy_id, workflow_type, stage, assignee_email, \
             {counts} FROM sla_outcome_days WHERE {filter} \
             GROUP BY department_key, policy_id, workflow_type, stage, assignee_email",
            counts = crate::sql::ROLLUP_COUNTS,
            filter = crate::sql::ROLLUP_WHERE
        );
        let query = sqlx::query_as::<_, crate::records::KeyedCountsRow>(sqlx::AssertSqlSafe(sql));
        let rows = bind_rollup_filter!(query, f).fetch_all(&self.pool).await?;
        Ok(crate::records::top_groups(&rows, limit))
    }

    async fn decision_quantiles(
        &self,
        f: &crate::OutcomeFilter,
        quantiles: &[f64],
    ) -> crate::StoreResult<(i64, Vec<i64>)> {
        let buckets = crate::sql::DECISION_BOUNDS.len() + 1;
        let sums = (0..buckets)
            .map(|i| format!("CAST(COALESCE(SUM(d{i}), 0) AS BIGINT)"))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let sql = format!("SELECT {sums} FROM sla_outcome_days WHERE {}", crate::sql::ROLLUP_WHERE);
        let query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        let joined = bind_rollup_filter!(query, f).fetch_one(&self.pool).await?;
        let counts = joined
            .split(',')
            .map(|c| c.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| crate::StoreError::Corrupt {
                table: "sla_outcome_days",
                message: format!("decision buckets {joined:?}: {e}"),
            })?;
        Ok(crate::sql::quantiles(&counts, quantiles))
    }

    async fn backfill_outcomes(&self, rows: &[crate::NewOutcome]) -> crate::StoreResult<u64> {
        let mut written = 0;
        for chunk in rows.chunks(500) {
            let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
            for row in chunk {
                if Self::insert_outcome(&mut tx, row, "backfill").await? {
                    written += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(written)
    }

    async fn rebuild_outcome_days(&self) -> crate::StoreResult<u64> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        sqlx::query("DELETE FROM sla_outcome_days").execute(&mut *tx).await?;
        let done = sqlx::query(sqlx::AssertSqlSafe(crate::sql::rollup_rebuild(DIALECT.ended_day)))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn backlog(
        &self,
        f: &crate::OutcomeFilter,
        age_bounds: &[i64],
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<Vec<(usize, escalator_domain::SlaStatus, i64)>> {
        // Only the filters given are written into the query: a condition such as
        // `($1 IS NULL OR policy_id = $1)` names a column the open-deadline index does not
        // hold, and the count would read every open row instead of that index alone.
        // `$1` is now, `$2`… the age bounds, then the filters in order.
        let mut age = String::from("CAST(CASE");
        for i in 0..age_bounds.len() {
            age.push_str(&format!(" WHEN stage_started_at > ${} THEN {i}", i + 2));
        }
        age.push_str(&format!(" ELSE {} END AS BIGINT)", age_bounds.len()));
        let mut next = age_bounds.len() + 2;
        let mut filters = String::new();
        for (column, given) in [
            ("department_key", f.department.is_some()),
            ("policy_id", f.policy_id.is_some()),
            ("workflow_type", f.workflow_type.is_some()),
        ] {
            if given {
                filters.push_str(&format!(" AND {column} = ${next}"));
                next += 1;
            }
        }
        let sql = format!(
            "SELECT {age} AS bucket, CASE WHEN status = 'on_hold' THEN 'paused' WHEN due_at <= $1 THEN 'breached' \
             WHEN warn_at <= $1 THEN 'warning' ELSE 'ok' END AS sla_status, COUNT(*) \
             FROM workflows WHERE status IN ('pending', 'escalated', 'on_hold'){filters} GROUP BY 1, 2"
        );
        let mut query = sqlx::query_as::<_, (i64, String, i64)>(sqlx::AssertSqlSafe(sql)).bind(now);
        for bound in age_bounds {
            query = query.bind(now - chrono::TimeDelta::seconds(*bound));
        }
        if let Some(department) = &f.department {
            query = query.bind(department.clone());
        }
        if let Some(policy) = f.policy_id {
            query = query.bind(policy);
        }
        if let Some(kind) = &f.workflow_type {
            query = query.bind(kind.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|(bucket, status, count)| {
                let status = match status.as_str() {
                    "ok" => escalator_domain::SlaStatus::Ok,
                    "warning" => escalator_domain::SlaStatus::Warning,
                    "breached" => escalator_domain::SlaStatus::Breached,
                    _ => escalator_domain::SlaStatus::Paused,
                };
                Ok((usize::try_from(bucket).unwrap_or_default(), status, count))
            })
            .collect()
    }
}
