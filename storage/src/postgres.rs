//! The PostgreSQL backend: production and multi-replica deployments.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::sql::{impl_store, Dialect, HasDb};
use crate::{Backend, StoreResult};

/// A store on a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

const DIALECT: Dialect = Dialect {
    begin_write: "BEGIN",
    skip_locked: "FOR UPDATE SKIP LOCKED",
    for_update: "FOR UPDATE",
};

impl PgStore {
    /// Connects to a `postgres://` URL.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    /// The pool, shared with the job queue (apalis).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn migrator(&self) -> sqlx::migrate::Migrator {
        let mut migrator = sqlx::migrate!("../migrations/postgres");
        migrator.dangerous_set_table_name("escalator_migrations");
        migrator
    }
}

impl HasDb for PgStore {
    type Db = sqlx::Postgres;
}

impl_store!(PgStore, Backend::Postgres, DIALECT);

impl From<PgPool> for crate::DbPool {
    fn from(pool: PgPool) -> Self {
        crate::DbPool::Postgres(pool)
    }
}
