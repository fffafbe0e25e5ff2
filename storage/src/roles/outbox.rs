// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

#[async_trait::async_trait]
impl crate::OutboxStore for Db {
    async fn claim_outbox(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        lease_until: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> crate::StoreResult<Vec<crate::OutboxMessage>> {
        let sql = crate::sql::claim_outbox_sql(DIALECT.skip_locked);
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let rows = sqlx::query_as::<_, crate::records::OutboxRow>(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut messages: Vec<crate::OutboxMessage> = crate::records::convert(rows)?;
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    async fn extend_outbox_claim(
        &self,
        ids: &[i64],
        lease_until: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<()> {
        self.update_outbox_rows(
            "next_attempt_at = $1 WHERE status = 'pending' AND next_attempt_at < $1",
            lease_until,
            ids,
        )
        .await
    }

    async fn release_outbox_claim(&self, ids: &[i64], now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<()> {
        self.update_outbox_rows(
            "next_attempt_at = $1, attempts = attempts - 1 WHERE status = 'pending' AND digest_id IS NULL AND attempts > 0",
            now,
            ids,
        )
        .await
    }

    async fn outbox_delivered(&self, ids: &[i64], now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<()> {
        self.update_outbox_rows(
            "status = 'delivered', delivered_at = $1, last_error = NULL WHERE true",
            now,
            ids,
        )
        .await
    }

    async fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> crate::StoreResult<()> {
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

    async fn outbox(
        &self,
        status: Option<crate::OutboxStatus>,
        limit: i64,
    ) -> crate::StoreResult<Vec<crate::OutboxMessage>> {
        let sql = format!(
            "SELECT {} FROM outbox WHERE ($1 IS NULL OR status = $1) \
             AND ($2 IS NULL OR (discarded_at IS NOT NULL) = $2) ORDER BY id LIMIT $3",
            crate::sql::OUTBOX_COLUMNS
        );
        // Discarded dead letters are stored as dead with a discard time.
        let discarded = status.map(|s| s == crate::OutboxStatus::Discarded);
        let rows = sqlx::query_as::<_, crate::records::OutboxRow>(sqlx::AssertSqlSafe(sql))
            .bind(status.map(|s| s.as_str()))
            .bind(discarded)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn expand_outbox(
        &self,
        routed: &[(&crate::OutboxMessage, Vec<crate::NewOutbox>)],
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<()> {
        if routed.is_empty() {
            return Ok(());
        }
        let children: Vec<crate::sql::Queued<'_>> = routed
            .iter()
            .flat_map(|(parent, rows)| rows.iter().map(move |row| (now, parent.workflow_id, row)))
            .collect();
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        Self::insert_messages(&mut tx, &children).await?;
        let parents: Vec<i64> = routed.iter().map(|(parent, _)| parent.id).collect();
        Self::update_outbox_rows_on(
            &mut tx,
            "status = 'delivered', delivered_at = $1 WHERE true",
            now,
            &parents,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn retry_outbox(&self, id: i64, now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 WHERE id = $2 AND status = 'dead' \
             AND discarded_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn discard_outbox(&self, id: i64, by: &str, now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET discarded_at = $1, discarded_by = $2 WHERE id = $3 AND status = 'dead' \
             AND discarded_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn next_outbox_attempt(&self) -> crate::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
        Ok(
            sqlx::query_scalar(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending' AND digest_id IS NULL",
            )
            .fetch_one(&self.pool)
            .await?,
        )
    }

    async fn workflow_outbox(&self, workflow_id: i64) -> crate::StoreResult<Vec<crate::OutboxMessage>> {
        let sql = format!(
            "SELECT {} FROM outbox WHERE workflow_id = $1 ORDER BY id",
            crate::sql::OUTBOX_COLUMNS
        );
        let rows = sqlx::query_as::<_, crate::records::OutboxRow>(sqlx::AssertSqlSafe(sql))
            .bind(workflow_id)
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn emails_sent_since(
        &self,
        recipient: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND channel = 'email' AND status = 'delivered' \
             AND delivered_at >= $2 AND digest_id IS NULL",
        )
        .bind(recipient)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn hold_for_digest(
        &self,
        rows: &[i64],
        digest: &crate::NewOutbox,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<i64> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        // Join the recipient's digest that no worker has picked up yet, or start one.
        // Locked, so a worker cannot claim (and compose) it before these rows join it.
        let sql = format!(
            "SELECT id FROM outbox WHERE recipient = $1 AND topic = $2 AND channel = 'email' AND status = 'pending' \
             AND attempts = 0 ORDER BY id LIMIT 1 {}",
            DIALECT.for_update
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
                crate::sql::placeholders(2, chunk.len())
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

    async fn digest_members(&self, digest_id: i64) -> crate::StoreResult<Vec<crate::OutboxMessage>> {
        let sql = format!(
            "SELECT {} FROM outbox WHERE digest_id = $1 AND status = 'pending' ORDER BY id",
            crate::sql::OUTBOX_COLUMNS
        );
        let rows = sqlx::query_as::<_, crate::records::OutboxRow>(sqlx::AssertSqlSafe(sql))
            .bind(digest_id)
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn digest_delivered(
        &self,
        digest_id: i64,
        members: &[i64],
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<()> {
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let mut ids = members.to_vec();
        ids.push(digest_id);
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE outbox SET status = 'delivered', delivered_at = $1, last_error = NULL WHERE id IN ({})",
                crate::sql::placeholders(2, chunk.len())
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
