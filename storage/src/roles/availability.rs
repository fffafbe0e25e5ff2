// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

const ABSENCE_COLUMNS: &str = "id, user_email, starts_at, ends_at, reason, delegate_email, created_at, handed_over_at";

#[async_trait::async_trait]
impl crate::AvailabilityStore for Db {
    async fn absences(
        &self,
        user: &str,
        after: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<Vec<crate::AbsenceRecord>> {
        let sql = format!(
            "SELECT {ABSENCE_COLUMNS} FROM absences WHERE user_email = $1 AND ends_at > $2 ORDER BY starts_at, id LIMIT 500"
        );
        let rows = sqlx::query_as::<_, crate::records::AbsenceRow>(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn add_absence(
        &self,
        user: &str,
        a: &escalator_domain::Absence,
        audit: &crate::NewAudit,
    ) -> crate::StoreResult<crate::AbsenceRecord> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let sql = format!(
            "INSERT INTO absences (user_email, starts_at, ends_at, reason, delegate_email, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ABSENCE_COLUMNS}"
        );
        let row = sqlx::query_as::<_, crate::records::AbsenceRow>(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .bind(a.starts_at)
            .bind(a.ends_at)
            .bind(a.reason.as_deref())
            .bind(a.delegate.as_deref())
            .bind(audit.at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| crate::StoreError::classify(e, "user"))?;
        Db::insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    async fn delete_absence(&self, user: &str, id: i64, audit: &crate::NewAudit) -> crate::StoreResult<bool> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let done = sqlx::query("DELETE FROM absences WHERE id = $1 AND user_email = $2")
            .bind(id)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Db::insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn availability(&self, user: &str) -> crate::StoreResult<Option<crate::Availability>> {
        let row: Option<(Option<String>, Option<chrono::DateTime<chrono::Utc>>)> =
            sqlx::query_as("SELECT delegate_email, deactivated_at FROM users WHERE email = $1")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(delegate, deactivated_at)| crate::Availability {
            delegate,
            deactivated_at,
        }))
    }

    async fn set_delegate(
        &self,
        user: &str,
        delegate: Option<&str>,
        audit: &crate::NewAudit,
    ) -> crate::StoreResult<bool> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let done = sqlx::query("UPDATE users SET delegate_email = $1, updated_at = $2 WHERE email = $3")
            .bind(delegate)
            .bind(audit.at)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::StoreError::classify(e, "user"))?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Db::insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_deactivated(
        &self,
        user: &str,
        at: Option<chrono::DateTime<chrono::Utc>>,
        audit: &crate::NewAudit,
    ) -> crate::StoreResult<bool> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let done = sqlx::query("UPDATE users SET deactivated_at = $1, updated_at = $2 WHERE email = $3")
            .bind(at)
            .bind(audit.at)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if at.is_some() {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_email = $2 AND revoked_at IS NULL")
                .bind(audit.at)
                .bind(user)
                .execute(&mut *tx)
                .await?;
        }
        Db::insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn away(&self, now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<crate::AwaySnapshot> {
        let mut away = crate::AwaySnapshot::default();
        let sql = format!("SELECT {ABSENCE_COLUMNS} FROM absences WHERE ends_at > $1 ORDER BY starts_at, id");
        let rows = sqlx::query_as::<_, crate::records::AbsenceRow>(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            let record: crate::AbsenceRecord = row.into();
            if record.handed_over_at.is_none() {
                away.handover_due.push(record.absence.starts_at);
            }
            away.absences.entry(record.user).or_default().push(record.absence);
        }
        let people: Vec<(String, Option<String>, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
            "SELECT email, delegate_email, deactivated_at FROM users \
             WHERE delegate_email IS NOT NULL OR deactivated_at IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        for (email, delegate, deactivated_at) in people {
            if deactivated_at.is_some() {
                away.deactivated.insert(email.clone());
            }
            if let Some(delegate) = delegate {
                away.delegates.insert(email, delegate);
            }
        }
        Ok(away)
    }

    async fn absences_to_hand_over(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<Vec<(i64, String, chrono::DateTime<chrono::Utc>)>> {
        Ok(sqlx::query_as(
            "SELECT id, user_email, ends_at FROM absences WHERE handed_over_at IS NULL AND starts_at <= $1 \
             ORDER BY starts_at, id LIMIT 1000",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn deactivated_with_open_work(&self) -> crate::StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT u.email FROM users u WHERE u.deactivated_at IS NOT NULL AND EXISTS \
             (SELECT 1 FROM workflows w WHERE w.assignee_email = u.email AND w.status IN ('pending', 'escalated', 'on_hold')) \
             ORDER BY u.email",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn mark_handed_over(&self, ids: &[i64], now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<()> {
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE absences SET handed_over_at = $1 WHERE handed_over_at IS NULL AND id IN ({})",
                crate::sql::placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&self.pool).await?;
        }
        Ok(())
    }
}
