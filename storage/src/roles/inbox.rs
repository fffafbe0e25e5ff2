// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

#[async_trait::async_trait]
impl crate::InboxStore for Db {
    async fn insert_notifications(&self, notifications: &[crate::NewNotification]) -> crate::StoreResult<()> {
        for chunk in notifications.chunks(crate::sql::batch_rows(7)) {
            let sql = format!(
                "INSERT INTO notifications (user_email, outbox_id, workflow_id, topic, title, body, created_at) \
                 VALUES {} ON CONFLICT (outbox_id) DO NOTHING",
                crate::sql::value_rows(BACKEND, chunk.len(), 7)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for n in chunk {
                q = q
                    .bind(&n.user)
                    .bind(n.outbox_id)
                    .bind(n.workflow_id)
                    .bind(&n.topic)
                    .bind(&n.title)
                    .bind(&n.body)
                    .bind(n.at);
            }
            q.execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn notifications(
        &self,
        user: &str,
        unread_only: bool,
        before_id: Option<i64>,
        limit: i64,
    ) -> crate::StoreResult<Vec<crate::Notification>> {
        let rows = sqlx::query_as::<_, crate::records::NotificationRow>(
            "SELECT id, user_email, workflow_id, topic, title, body, created_at, read_at FROM notifications \
             WHERE user_email = $1 AND ($2 = 0 OR read_at IS NULL) AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(user)
        .bind(i64::from(unread_only))
        .bind(before_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        crate::records::convert(rows)
    }

    async fn unread_notifications(&self, user: &str) -> crate::StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_email = $1 AND read_at IS NULL")
                .bind(user)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn mark_notifications_read(
        &self,
        user: &str,
        id: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<u64> {
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

    async fn create_webhook(
        &self,
        url: &str,
        secret: &str,
        event_types: &[String],
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<crate::Webhook> {
        let types = serde_json::to_string(event_types).map_err(|e| crate::StoreError::Corrupt {
            table: "webhooks",
            message: e.to_string(),
        })?;
        sqlx::query_as::<_, crate::records::WebhookRow>(
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

    async fn webhooks(&self) -> crate::StoreResult<Vec<crate::Webhook>> {
        let rows = sqlx::query_as::<_, crate::records::WebhookRow>(
            "SELECT id, url, secret, event_types, active, created_at FROM webhooks ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        crate::records::convert(rows)
    }

    async fn webhook(&self, id: i64) -> crate::StoreResult<Option<crate::Webhook>> {
        sqlx::query_as::<_, crate::records::WebhookRow>(
            "SELECT id, url, secret, event_types, active, created_at FROM webhooks WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn set_webhook_active(&self, id: i64, active: bool) -> crate::StoreResult<bool> {
        let done = sqlx::query("UPDATE webhooks SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_webhook_secret(&self, id: i64, secret: &str) -> crate::StoreResult<bool> {
        let done = sqlx::query("UPDATE webhooks SET secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_webhook_delivery(&self, d: &crate::WebhookDelivery) -> crate::StoreResult<()> {
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

    async fn webhook_deliveries(&self, webhook_id: i64, limit: i64) -> crate::StoreResult<Vec<crate::WebhookDelivery>> {
        let rows = sqlx::query_as::<_, crate::records::WebhookDeliveryRow>(
            "SELECT id, webhook_id, outbox_id, event_id, status_code, error, duration_ms, at FROM webhook_deliveries \
             WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        crate::records::convert(rows)
    }
}
