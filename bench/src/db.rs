//! Databases for the benchmarks: a template per data set, built once, and a fresh copy of
//! it per run (a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL), so that
//! every run starts from identical data.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use escalator_storage::{DbPool, Store};

use crate::Result;

/// A bind value for the bench's own SQL.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(i64),
    Time(DateTime<Utc>),
    Text(String),
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Int(v) => q.bind(*v),
                Arg::Time(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

/// A subquery of the numbers `first` … `first + $1 - 1` as column `i`, for bulk
/// INSERT … SELECT (SQLite has no generate_series).
pub fn numbers_sql(postgres: bool, first: i64) -> String {
    if postgres {
        format!("SELECT i FROM generate_series({first}, $1::bigint + {first} - 1) AS g(i)")
    } else {
        format!("WITH RECURSIVE g(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM g WHERE i < $1 + {first} - 1) SELECT i FROM g")
    }
}

/// The timestamp of Unix seconds `expr`, as each backend stores it.
pub fn unix_time_sql(postgres: bool, expr: &str) -> String {
    if postgres {
        format!("to_timestamp({expr})")
    } else {
        format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', {expr}, 'unixepoch')")
    }
}

/// Runs one statement; returns the rows affected.
pub async fn exec(pool: &DbPool, sql: &str, args: &[Arg]) -> Result<u64> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    Ok(match pool {
        DbPool::Sqlite(p) => bind_all!(sqlx::query(sql), args).execute(p).await?.rows_affected(),
        DbPool::Postgres(p) => bind_all!(sqlx::query(sql), args).execute(p).await?.rows_affected(),
    })
}

/// Runs statements in one transaction; returns the rows affected by each.
pub async fn exec_in_transaction(pool: &DbPool, statements: &[(String, Vec<Arg>)]) -> Result<Vec<u64>> {
    let mut affected = Vec::with_capacity(statements.len());
    match pool {
        DbPool::Sqlite(p) => {
            let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
            for (sql, args) in statements {
                let q = bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.clone())), args);
                affected.push(q.execute(&mut *tx).await?.rows_affected());
            }
            tx.commit().await?;
        }
        DbPool::Postgres(p) => {
            let mut tx = p.begin().await?;
            for (sql, args) in statements {
                let q = bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.clone())), args);
                affected.push(q.execute(&mut *tx).await?.rows_affected());
            }
            tx.commit().await?;
        }
    }
    Ok(affected)
}

/// One integer from a query.
pub async fn scalar(pool: &DbPool, sql: &str, args: &[Arg]) -> Result<i64> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    Ok(match pool {
        DbPool::Sqlite(p) => bind_all!(sqlx::query_scalar::<_, i64>(sql), args).fetch_one(p).await?,
        DbPool::Postgres(p) => bind_all!(sqlx::query_scalar::<_, i64>(sql), args).fetch_one(p).await?,
    })
}

/// One text from a query.
pub async fn text(pool: &DbPool, sql: &str) -> Result<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    Ok(match pool {
        DbPool::Sqlite(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await?,
        DbPool::Postgres(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await?,
    })
}

pub async fn close(pool: &DbPool) {
    match pool {
        DbPool::Sqlite(p) => p.close().await,
        DbPool::Postgres(p) => p.close().await,
    }
}

/// Where the databases live.
pub struct Databases {
    /// Folder of the SQLite files.
    pub dir: PathBuf,
    /// Admin URL of the PostgreSQL cluster, if any.
    pub pg_admin_url: Option<String>,
    /// Use templates left by an earlier invocation while they are still valid.
    pub reuse: bool,
    /// Leave the templates in place at the end, for a later invocation.
    pub keep: bool,
    /// Names of everything created, dropped at the end unless kept.
    created: Vec<(String, String)>,
    /// Distinguishes this invocation's run databases.
    pid: u32,
}

/// A database holding one data set; `name` is a file path (SQLite) or a database name.
#[derive(Debug, Clone)]
pub struct Db {
    pub backend: &'static str,
    pub name: String,
    pub url: String,
}

impl Databases {
    pub fn new(dir: PathBuf, pg_admin_url: Option<String>, reuse: bool, keep: bool) -> Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            pg_admin_url,
            reuse,
            keep,
            created: Vec::new(),
            pid: std::process::id(),
        })
    }

    fn pg_admin(&self) -> Result<&str> {
        self.pg_admin_url
            .as_deref()
            .ok_or_else(|| "PostgreSQL needs ESCALATOR_BENCH_PG_URL (./scripts/bench.sh sets it)".into())
    }

    fn pg_url(&self, name: &str) -> Result<String> {
        let admin = self.pg_admin()?;
        let (base, _) = admin
            .rsplit_once('/')
            .ok_or("ESCALATOR_BENCH_PG_URL must name a database")?;
        Ok(format!("{base}/{name}"))
    }

    async fn pg_execute(&self, sql: &str) -> Result<()> {
        let admin = sqlx::PgPool::connect(self.pg_admin()?).await?;
        let result = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&admin).await;
        admin.close().await;
        result?;
        Ok(())
    }

    async fn pg_exists(&self, name: &str) -> Result<bool> {
        let admin = sqlx::PgPool::connect(self.pg_admin()?).await?;
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&admin)
            .await?;
        admin.close().await;
        Ok(found.is_some())
    }

    /// A new empty database, migrated.
    pub async fn empty(&mut self, backend: &'static str, name: &str) -> Result<(Db, Arc<dyn Store>)> {
        let db = self.drop_and_name(backend, name).await?;
        if backend == "postgres" {
            self.pg_execute(&format!("CREATE DATABASE {name}")).await?;
        }
        self.created.push((backend.into(), db.name.clone()));
        let store = escalator_storage::connect(&db.url).await?;
        store.migrate().await?;
        Ok((db, store))
    }

    /// Drops what a name points at (if anything) and returns its handle.
    async fn drop_and_name(&self, backend: &'static str, name: &str) -> Result<Db> {
        if backend == "sqlite" {
            let path = self.dir.join(format!("{name}.db"));
            remove_sqlite(&path);
            return Ok(Db {
                backend,
                name: path.display().to_string(),
                url: format!("sqlite:{}", path.display()),
            });
        }
        self.pg_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        Ok(Db {
            backend,
            name: name.into(),
            url: self.pg_url(name)?,
        })
    }

    /// An existing template: built earlier in this invocation, or left by an earlier one.
    /// One left by an earlier invocation becomes this one's to drop, unless kept.
    pub async fn existing(&mut self, backend: &'static str, name: &str) -> Result<Option<Db>> {
        let built_now = self.created.iter().any(|(b, n)| b == backend && n.contains(name));
        if !self.reuse && !built_now {
            return Ok(None);
        }
        let found = if backend == "sqlite" {
            let path = self.dir.join(format!("{name}.db"));
            path.exists().then(|| Db {
                backend,
                name: path.display().to_string(),
                url: format!("sqlite:{}", path.display()),
            })
        } else if self.pg_exists(name).await? {
            Some(Db {
                backend,
                name: name.into(),
                url: self.pg_url(name)?,
            })
        } else {
            None
        };
        if let (Some(db), false) = (&found, built_now) {
            self.created.push((backend.into(), db.name.clone()));
        }
        Ok(found)
    }

    /// Makes `db` usable as a template: everything on disk, no connection left.
    pub async fn seal(&self, db: &Db, store: Arc<dyn Store>) -> Result<()> {
        let pool = store.pool();
        if db.backend == "sqlite" {
            exec(&pool, "PRAGMA wal_checkpoint(TRUNCATE)", &[]).await?;
        } else {
            exec(&pool, "VACUUM (ANALYZE)", &[]).await?;
        }
        close(&pool).await;
        Ok(())
    }

    /// A fresh copy of `template` for one run.
    pub async fn copy(&mut self, template: &Db, run: &str) -> Result<Db> {
        let name = format!("escalator_bench_{}_{run}", self.pid);
        let db = self.drop_and_name(template.backend, &name).await?;
        if template.backend == "sqlite" {
            std::fs::copy(&template.name, &db.name)?;
            // Written back before the run starts: otherwise the kernel throttles the run's
            // own writes while it flushes the copy, and the first measurement pays for it.
            std::fs::File::open(&db.name)?.sync_all()?;
        } else {
            // FILE_COPY copies the files after a checkpoint instead of WAL-logging every
            // page: seconds for a million workflows.
            self.pg_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE {} STRATEGY FILE_COPY",
                template.name
            ))
            .await?;
        }
        if !self.created.iter().any(|(_, n)| n == &db.name) {
            self.created.push((template.backend.into(), db.name.clone()));
        }
        Ok(db)
    }

    /// Removes a run copy now (large at a million workflows).
    pub async fn remove(&mut self, db: &Db) -> Result<()> {
        if db.backend == "sqlite" {
            remove_sqlite(Path::new(&db.name));
        } else {
            self.pg_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name))
                .await?;
        }
        self.created.retain(|(_, n)| n != &db.name);
        Ok(())
    }

    /// Drops everything this invocation created, except kept templates.
    pub async fn cleanup(&mut self) {
        let created = std::mem::take(&mut self.created);
        for (backend, name) in created {
            let template = name.contains("tmpl");
            if template && self.keep {
                continue;
            }
            if backend == "sqlite" {
                remove_sqlite(Path::new(&name));
            } else if let Err(err) = self
                .pg_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
            {
                eprintln!("could not drop {name}: {err}");
            }
        }
    }
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
