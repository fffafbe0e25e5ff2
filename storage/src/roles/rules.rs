// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

#[async_trait::async_trait]
impl crate::RulesStore for Db {
    async fn create_policy(
        &self,
        p: &escalator_domain::SlaPolicy,
        calendar_id: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<crate::PolicyRecord> {
        let (kind, value) = crate::records::warning_columns(p.warning);
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sla_policies (name, target_seconds, warning_kind, warning_value, calendar_id, version, created_at, updated_at, \
             reminder_repeat_seconds, ack_timeout_seconds, exhausted_repeat_seconds) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&p.name)
        .bind(p.target_seconds)
        .bind(kind)
        .bind(value)
        .bind(calendar_id)
        .bind(now)
        .bind(p.reminder_repeat_seconds)
        .bind(p.ack_timeout_seconds)
        .bind(p.exhausted_repeat_seconds)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::classify(e, "calendar"))?;
        let snapshot = format!("{} WHERE p.id = $2", crate::sql::SNAPSHOT_POLICY);
        sqlx::query(sqlx::AssertSqlSafe(snapshot))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.policy(id).await?.ok_or_else(|| crate::StoreError::Corrupt {
            table: "sla_policies",
            message: format!("policy {id} vanished"),
        })
    }

    async fn update_policy(
        &self,
        id: i64,
        p: &escalator_domain::SlaPolicy,
        calendar_id: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<Option<crate::PolicyRecord>> {
        let (kind, value) = crate::records::warning_columns(p.warning);
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let done = sqlx::query(
            "UPDATE sla_policies SET name = $1, target_seconds = $2, warning_kind = $3, warning_value = $4, calendar_id = $5, \
             updated_at = $6, version = version + 1, reminder_repeat_seconds = $8, \
             ack_timeout_seconds = $9, exhausted_repeat_seconds = $10 WHERE id = $7",
        )
        .bind(&p.name)
        .bind(p.target_seconds)
        .bind(kind)
        .bind(value)
        .bind(calendar_id)
        .bind(now)
        .bind(id)
        .bind(p.reminder_repeat_seconds)
        .bind(p.ack_timeout_seconds)
        .bind(p.exhausted_repeat_seconds)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::classify(e, "calendar"))?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let snapshot = format!("{} WHERE p.id = $2", crate::sql::SNAPSHOT_POLICY);
        sqlx::query(sqlx::AssertSqlSafe(snapshot))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.policy(id).await
    }

    async fn rules_generation(&self) -> crate::StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT n FROM rules_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn policy_versions(&self) -> crate::StoreResult<Vec<crate::PolicyVersion>> {
        let rows = sqlx::query_as::<_, crate::records::PolicyVersionRow>(
            "SELECT policy_id, version, name, target_seconds, warning_kind, warning_value, calendar, reminder_repeat_seconds, \
             ack_timeout_seconds, exhausted_repeat_seconds FROM policy_versions \
             ORDER BY policy_id, version",
        )
        .fetch_all(&self.pool)
        .await?;
        crate::records::convert(rows)
    }

    async fn create_calendar(
        &self,
        name: &str,
        calendar: &escalator_domain::Calendar,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<crate::CalendarRecord> {
        let definition = serde_json::to_string(calendar).map_err(|e| crate::StoreError::Corrupt {
            table: "calendars",
            message: e.to_string(),
        })?;
        sqlx::query_as::<_, crate::records::CalendarRow>(
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

    async fn update_calendar(
        &self,
        id: i64,
        name: &str,
        calendar: &escalator_domain::Calendar,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<Option<crate::CalendarRecord>> {
        let definition = serde_json::to_string(calendar).map_err(|e| crate::StoreError::Corrupt {
            table: "calendars",
            message: e.to_string(),
        })?;
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let row = sqlx::query_as::<_, crate::records::CalendarRow>(
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
            let snapshot = format!("{} WHERE p.calendar_id = $2", crate::sql::SNAPSHOT_POLICY);
            sqlx::query(sqlx::AssertSqlSafe(snapshot))
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn calendar(&self, id: i64) -> crate::StoreResult<Option<crate::CalendarRecord>> {
        sqlx::query_as::<_, crate::records::CalendarRow>(
            "SELECT id, name, definition, created_at, updated_at FROM calendars WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn calendars(&self) -> crate::StoreResult<Vec<crate::CalendarRecord>> {
        let rows = sqlx::query_as::<_, crate::records::CalendarRow>(
            "SELECT id, name, definition, created_at, updated_at FROM calendars ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        crate::records::convert(rows)
    }

    async fn policy(&self, id: i64) -> crate::StoreResult<Option<crate::PolicyRecord>> {
        let sql = format!("{} WHERE p.id = $1", crate::sql::POLICY_SELECT);
        sqlx::query_as::<_, crate::records::PolicyRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn policies(&self) -> crate::StoreResult<Vec<crate::PolicyRecord>> {
        let sql = format!("{} ORDER BY p.id", crate::sql::POLICY_SELECT);
        let rows = sqlx::query_as::<_, crate::records::PolicyRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn create_chain(
        &self,
        c: &escalator_domain::EscalationChain,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<crate::ChainRecord> {
        let levels = serde_json::to_string(&c.levels).map_err(|e| crate::StoreError::Corrupt {
            table: "escalation_chains",
            message: e.to_string(),
        })?;
        let sql = format!(
            "INSERT INTO escalation_chains (name, levels, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING {}",
            crate::sql::CHAIN_COLUMNS
        );
        sqlx::query_as::<_, crate::records::ChainRow>(sqlx::AssertSqlSafe(sql))
            .bind(&c.name)
            .bind(levels)
            .bind(now)
            .fetch_one(&self.pool)
            .await?
            .try_into()
    }

    async fn update_chain(
        &self,
        id: i64,
        c: &escalator_domain::EscalationChain,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<Option<crate::ChainRecord>> {
        let levels = serde_json::to_string(&c.levels).map_err(|e| crate::StoreError::Corrupt {
            table: "escalation_chains",
            message: e.to_string(),
        })?;
        let sql = format!(
            "UPDATE escalation_chains SET name = $1, levels = $2, updated_at = $3 WHERE id = $4 RETURNING {}",
            crate::sql::CHAIN_COLUMNS
        );
        sqlx::query_as::<_, crate::records::ChainRow>(sqlx::AssertSqlSafe(sql))
            .bind(&c.name)
            .bind(levels)
            .bind(now)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn chain(&self, id: i64) -> crate::StoreResult<Option<crate::ChainRecord>> {
        let sql = format!(
            "SELECT {} FROM escalation_chains WHERE id = $1",
            crate::sql::CHAIN_COLUMNS
        );
        sqlx::query_as::<_, crate::records::ChainRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn chains(&self) -> crate::StoreResult<Vec<crate::ChainRecord>> {
        let sql = format!(
            "SELECT {} FROM escalation_chains ORDER BY id",
            crate::sql::CHAIN_COLUMNS
        );
        let rows = sqlx::query_as::<_, crate::records::ChainRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }
}
