//! The PostgreSQL backend: production and multi-replica deployments.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::lock::{AdvisoryLocks, HeldLock};
use crate::sql::{Dialect, HasDb};
use crate::{DbSettings, StoreResult};

/// A store on a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The pool's settings, for the connections that must not come from the pool
    /// (migrations without a statement timeout, advisory locks).
    options: PgConnectOptions,
    locks: AdvisoryLocks,
}

pub(crate) const DIALECT: Dialect = Dialect {
    begin_write: "BEGIN",
    skip_locked: "FOR UPDATE SKIP LOCKED",
    for_update: "FOR UPDATE",
    ended_day: "to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
};

impl PgStore {
    /// Connects to a `postgres://` URL. Every pooled session gets the settings'
    /// `statement_timeout` (so a statement whose client died does not run on for minutes)
    /// and an idle-in-transaction timeout.
    pub async fn connect(url: &str, settings: &DbSettings) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?;
        let idle_in_transaction = settings.statement_timeout.saturating_mul(2);
        let pooled = options.clone().options([
            (
                "statement_timeout",
                format!("{}ms", settings.statement_timeout.as_millis()),
            ),
            (
                "idle_in_transaction_session_timeout",
                format!("{}ms", idle_in_transaction.as_millis()),
            ),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(pooled)
            .await?;
        Ok(Self {
            pool,
            locks: AdvisoryLocks::new(options.clone()),
            options,
        })
    }

    /// The pool, shared with the job queue (apalis).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the migrations on a connection of their own, without the pool's statement
    /// timeout: building an index on a large table may take longer than any request should.
    async fn run_migrations(&self) -> StoreResult<()> {
        let mut migrator = sqlx::migrate!("../migrations/postgres");
        migrator.dangerous_set_table_name("escalator_migrations");
        let unlimited = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.options.clone())
            .await?;
        let result = migrator.run(&unlimited).await;
        unlimited.close().await;
        Ok(result?)
    }

    async fn lock(
        &self,
        name: &str,
        _holder: &str,
        _ttl: std::time::Duration,
    ) -> StoreResult<Option<Box<dyn HeldLock>>> {
        self.locks.try_lock(name).await
    }
}

impl HasDb for PgStore {
    type Db = sqlx::Postgres;
}

/// The store's roles: the same SQL as SQLite's, compiled for this pool type
/// (`storage/src/roles/`, one file per role).
mod roles {
    use super::{PgStore as Db, DIALECT};
    use crate::prelude::*;
    const BACKEND: crate::Backend = crate::Backend::Postgres;
    include!("roles/database.rs");
    include!("roles/directory.rs");
    include!("roles/rules.rs");
    include!("roles/workflows.rs");
    include!("roles/outbox.rs");
    include!("roles/inbox.rs");
    include!("roles/access.rs");
    include!("roles/availability.rs");
    include!("roles/reports.rs");
    include!("roles/helpers.rs");
}

impl From<PgPool> for crate::DbPool {
    fn from(pool: PgPool) -> Self {
        crate::DbPool::Postgres(pool)
    }
}
