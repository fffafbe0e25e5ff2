// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

#[async_trait::async_trait]
impl crate::AccessStore for Db {
    async fn create_session(&self, s: &crate::SessionRecord) -> crate::StoreResult<bool> {
        let done =
            sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                .bind(&s.id)
                .bind(&s.data)
                .bind(s.expires_at)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn save_session(&self, s: &crate::SessionRecord) -> crate::StoreResult<()> {
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

    async fn load_session(
        &self,
        id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<Option<crate::SessionRecord>> {
        let row: Option<(String, String, chrono::DateTime<chrono::Utc>)> =
            sqlx::query_as("SELECT id, data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, data, expires_at)| crate::SessionRecord { id, data, expires_at }))
    }

    async fn delete_session(&self, id: &str) -> crate::StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn set_password_hash(
        &self,
        email: &str,
        hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE email = $3")
            .bind(hash)
            .bind(now)
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn password_hash(&self, email: &str) -> crate::StoreResult<Option<String>> {
        let hash: Option<Option<String>> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1 AND deactivated_at IS NULL")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        Ok(hash.flatten())
    }

    async fn create_token(
        &self,
        email: &str,
        name: &str,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<crate::TokenRecord> {
        let sql = format!(
            "INSERT INTO api_tokens (user_email, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING {}",
            crate::sql::TOKEN_COLUMNS
        );
        sqlx::query_as::<_, crate::records::TokenRow>(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| crate::StoreError::classify(e, "user"))?
            .try_into()
    }

    async fn token_owner(
        &self,
        token_hash: &str,
    ) -> crate::StoreResult<Option<(crate::TokenRecord, escalator_domain::User)>> {
        let sql = format!(
            "SELECT {} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.email = api_tokens.user_email AND u.deactivated_at IS NOT NULL)",
            crate::sql::TOKEN_COLUMNS
        );
        let Some(row) = sqlx::query_as::<_, crate::records::TokenRow>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let token: crate::TokenRecord = row.try_into()?;
        Ok(self.user(&token.user).await?.map(|user| (token, user)))
    }

    async fn tokens(&self, email: Option<&str>) -> crate::StoreResult<Vec<crate::TokenRecord>> {
        let sql = format!(
            "SELECT {} FROM api_tokens WHERE ($1 IS NULL OR user_email = $1) ORDER BY id DESC",
            crate::sql::TOKEN_COLUMNS
        );
        let rows = sqlx::query_as::<_, crate::records::TokenRow>(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn revoke_token(&self, id: i64, now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<bool> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn server_secret(
        &self,
        name: &str,
        generated: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<String> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(generated)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn claim_link_use(&self, first: &crate::LinkUse) -> crate::StoreResult<Option<crate::LinkUse>> {
        let done = sqlx::query(
            "INSERT INTO link_uses (token_hash, workflow_id, recipient, action, used_at, outcome) \
             VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(&first.token_hash)
        .bind(first.workflow_id)
        .bind(&first.recipient)
        .bind(&first.action)
        .bind(first.used_at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(None);
        }
        self.link_use(&first.token_hash).await
    }

    async fn link_use(&self, token_hash: &str) -> crate::StoreResult<Option<crate::LinkUse>> {
        Ok(sqlx::query_as::<_, crate::LinkUse>(
            "SELECT token_hash, workflow_id, recipient, action, used_at, outcome FROM link_uses WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn finish_link_use(&self, token_hash: &str, outcome: &str) -> crate::StoreResult<()> {
        sqlx::query("UPDATE link_uses SET outcome = $1 WHERE token_hash = $2")
            .bind(outcome)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn release_link_use(&self, token_hash: &str) -> crate::StoreResult<()> {
        sqlx::query("DELETE FROM link_uses WHERE token_hash = $1 AND outcome IS NULL")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
