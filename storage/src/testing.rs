//! Fresh databases for tests: SQLite in a temporary file, PostgreSQL as a new database
//! in the cluster named by `ESCALATOR_TEST_PG_URL` (the test command starts one with
//! `.ci/postgres.sh`). PostgreSQL tests fail, rather than skip, when it is not set.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::{Backend, Store};

/// A migrated, empty database that lives as long as this value.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A fresh database on `backend`.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh SQLite file.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("test.db").display());
        let store = crate::connect(&url).await.expect("open SQLite");
        store.migrate().await.expect("migrate SQLite");
        Self {
            store,
            url,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> Self {
        let admin_url = std::env::var("ESCALATOR_TEST_PG_URL").expect(
            "ESCALATOR_TEST_PG_URL is not set: the PostgreSQL half of the suite needs a server \
             (run `.ci/postgres.sh` and export the URL it prints, or use the README's test command)",
        );
        let name = format!(
            "escalator_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_subsec_nanos()
        );
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect to ESCALATOR_TEST_PG_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').expect("URL with a database name");
        let url = format!("{base}/{name}");
        let store = crate::connect(&url).await.expect("open PostgreSQL");
        store.migrate().await.expect("migrate PostgreSQL");
        Self { store, url, _dir: None }
    }
}

/// Both backends, for suites that run every case on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// The outbox claim's SQL on `backend`, for tests that look at its plan.
pub fn claim_outbox_sql(backend: Backend) -> String {
    crate::sql::claim_outbox_sql(match backend {
        Backend::Sqlite => crate::sqlite::DIALECT.skip_locked,
        Backend::Postgres => crate::postgres::DIALECT.skip_locked,
    })
}
