// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

#[async_trait::async_trait]
impl crate::DirectoryStore for Db {
    async fn upsert_department(
        &self,
        d: &escalator_domain::Department,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<()> {
        sqlx::query(
            "INSERT INTO departments (key, name, head_email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (key) DO UPDATE SET name = excluded.name, head_email = excluded.head_email, updated_at = excluded.updated_at",
        )
        .bind(d.key.as_str())
        .bind(&d.name)
        .bind(d.head.as_ref().map(|h| h.as_str()))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn department(&self, key: &str) -> crate::StoreResult<Option<escalator_domain::Department>> {
        let sql = format!(
            "SELECT {} FROM departments WHERE key = $1",
            crate::sql::DEPARTMENT_COLUMNS
        );
        sqlx::query_as::<_, crate::records::DepartmentRow>(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn departments(&self) -> crate::StoreResult<Vec<escalator_domain::Department>> {
        let sql = format!(
            "SELECT {} FROM departments ORDER BY key",
            crate::sql::DEPARTMENT_COLUMNS
        );
        let rows = sqlx::query_as::<_, crate::records::DepartmentRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn upsert_user(
        &self,
        u: &escalator_domain::User,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (email, name, role, department_key, manager_email, created_at, updated_at, phone) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
             ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = excluded.role, \
             department_key = excluded.department_key, manager_email = excluded.manager_email, updated_at = excluded.updated_at, \
             phone = excluded.phone",
        )
        .bind(u.email.as_str())
        .bind(&u.name)
        .bind(u.role.as_str())
        .bind(u.department.as_ref().map(|d| d.as_str()))
        .bind(u.manager.as_ref().map(|m| m.as_str()))
        .bind(now)
        .bind(u.phone.as_ref().map(|p| p.as_str()))
        .execute(&self.pool)
        .await
        .map_err(|e| crate::StoreError::classify(e, "department"))?;
        Ok(())
    }

    async fn user(&self, email: &str) -> crate::StoreResult<Option<escalator_domain::User>> {
        let sql = format!("SELECT {} FROM users WHERE email = $1", crate::sql::USER_COLUMNS);
        sqlx::query_as::<_, crate::records::UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn users(&self) -> crate::StoreResult<Vec<escalator_domain::User>> {
        let sql = format!("SELECT {} FROM users ORDER BY email", crate::sql::USER_COLUMNS);
        let rows = sqlx::query_as::<_, crate::records::UserRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        crate::records::convert(rows)
    }

    async fn directory(&self, now: chrono::DateTime<chrono::Utc>) -> crate::StoreResult<crate::DirectorySnapshot> {
        let departments = self.departments().await?;
        let users = self.users().await?;
        let away = crate::AvailabilityStore::away(self, now).await?;
        let groups = self.groups().await?;
        Ok(crate::DirectorySnapshot::new(departments, users)
            .with_away(away)
            .with_groups(groups))
    }

    async fn upsert_group(
        &self,
        key: &str,
        group: &escalator_domain::Group,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<bool> {
        let definition = serde_json::to_string(group).map_err(|e| crate::StoreError::Corrupt {
            table: "groups",
            message: e.to_string(),
        })?;
        let mut tx = self.pool.begin_with(DIALECT.begin_write).await?;
        let existed: Option<String> = sqlx::query_scalar("SELECT key FROM groups WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO groups (key, definition, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (key) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(definition)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(existed.is_none())
    }

    async fn group(&self, key: &str) -> crate::StoreResult<Option<escalator_domain::Group>> {
        let definition: Option<String> = sqlx::query_scalar("SELECT definition FROM groups WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        definition.map(|d| crate::records::group_of(&d)).transpose()
    }

    async fn groups(&self) -> crate::StoreResult<Vec<(String, escalator_domain::Group)>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, definition FROM groups ORDER BY key")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(key, d)| Ok((key, crate::records::group_of(&d)?)))
            .collect()
    }

    async fn contacts(&self, emails: &[String]) -> crate::StoreResult<Vec<crate::Contact>> {
        let mut all = Vec::new();
        for chunk in emails.chunks(500) {
            let sql = format!(
                "SELECT email, name, phone, notification_preferences, delegate_email FROM users WHERE email IN ({}) ORDER BY email",
                crate::sql::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, crate::records::ContactRow>(sqlx::AssertSqlSafe(sql));
            for email in chunk {
                q = q.bind(email);
            }
            all.extend(crate::records::convert::<_, crate::Contact>(
                q.fetch_all(&self.pool).await?,
            )?);
        }
        Ok(all)
    }

    async fn notification_preferences(
        &self,
        email: &str,
    ) -> crate::StoreResult<Option<escalator_domain::NotificationPreferences>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT notification_preferences FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|json| match json {
            Some(text) => serde_json::from_str(&text).map_err(|e| crate::StoreError::Corrupt {
                table: "users",
                message: e.to_string(),
            }),
            None => Ok(escalator_domain::NotificationPreferences::default()),
        })
        .transpose()
    }

    async fn set_notification_preferences(
        &self,
        email: &str,
        preferences: &escalator_domain::NotificationPreferences,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::StoreResult<bool> {
        let json = serde_json::to_string(preferences).map_err(|e| crate::StoreError::Corrupt {
            table: "users",
            message: e.to_string(),
        })?;
        let done = sqlx::query("UPDATE users SET notification_preferences = $1, updated_at = $2 WHERE email = $3")
            .bind(json)
            .bind(now)
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
