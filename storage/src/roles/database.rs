// Included by storage/src/sqlite.rs and storage/src/postgres.rs, once per backend, with
// `Db` (the store type), `DIALECT` and `BACKEND` in scope: plain Rust compiled for each
// pool type (sqlx fixes the database type per pool).

#[async_trait::async_trait]
impl crate::Database for Db {
    fn backend(&self) -> crate::Backend {
        BACKEND
    }

    async fn migrate(&self) -> crate::StoreResult<()> {
        self.run_migrations().await
    }

    async fn ping(&self) -> crate::StoreResult<()> {
        sqlx::query("SELECT 1 FROM leases LIMIT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn try_lock(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> crate::StoreResult<Option<Box<dyn crate::HeldLock>>> {
        self.lock(name, holder, ttl).await
    }

    fn pool(&self) -> crate::DbPool {
        crate::DbPool::from(self.pool.clone())
    }
}
