//! Locks across processes that a dead process cannot keep, for work that must run on one
//! replica at a time (the tick).
//!
//! - PostgreSQL: a session-level advisory lock on a connection of its own (never one a
//!   pool hands around). PostgreSQL releases it the moment that connection ends, so a
//!   replica killed with `kill -9` frees the lock at once and another takes over.
//! - SQLite: a row in `leases` with a short expiry that a heartbeat renews while the lock
//!   is held; a dead holder stops renewing and the row expires after its time to live.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection, SqlitePool};
use tokio::sync::OwnedMutexGuard;

use crate::StoreResult;

/// A lock this process holds; [`HeldLock::release`] gives it back.
#[async_trait]
pub trait HeldLock: Send {
    /// Whether the lock is still ours: false once its connection or lease was lost, when
    /// another process may already hold it.
    async fn still_held(&mut self) -> bool;
    /// Gives the lock back. Dropping it without releasing frees it too (PostgreSQL at
    /// once, SQLite when the lease expires).
    async fn release(self: Box<Self>);
}

/// The `application_name` of the connection holding a PostgreSQL lock, so operators (and
/// the chaos test) can tell which process holds it: `escalator-lock <name> pid=<pid>`.
pub fn lock_application_name(name: &str) -> String {
    format!("escalator-lock {name} pid={}", std::process::id())
}

/// A stable 64-bit key for a lock name (FNV-1a), the advisory lock's identity.
pub(crate) fn advisory_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// One dedicated connection per lock name, opened on first use and kept while healthy.
type Slot = Arc<tokio::sync::Mutex<Option<PgConnection>>>;

/// PostgreSQL advisory locks of one store.
#[derive(Clone)]
pub(crate) struct AdvisoryLocks {
    options: PgConnectOptions,
    slots: Arc<Mutex<HashMap<String, Slot>>>,
}

impl AdvisoryLocks {
    pub(crate) fn new(options: PgConnectOptions) -> Self {
        Self {
            options,
            slots: Arc::default(),
        }
    }

    /// Takes the lock `name` unless another session holds it (this process included: a
    /// second caller here while the first holds it gets `None`).
    pub(crate) async fn try_lock(&self, name: &str) -> StoreResult<Option<Box<dyn HeldLock>>> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            slots.entry(name.to_string()).or_default().clone()
        };
        let Ok(mut conn) = slot.try_lock_owned() else {
            return Ok(None);
        };
        if conn.is_none() {
            let options = self.options.clone().application_name(&lock_application_name(name));
            *conn = Some(options.connect().await?);
        }
        let key = advisory_key(name);
        let taken = match conn.as_mut() {
            Some(c) => {
                sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(c)
                    .await
            }
            None => return Ok(None),
        };
        match taken {
            Ok(true) => Ok(Some(Box::new(PgLock {
                conn,
                key,
                released: false,
            }))),
            Ok(false) => Ok(None),
            Err(err) => {
                // A broken connection is replaced on the next attempt.
                conn.take();
                Err(err.into())
            }
        }
    }
}

struct PgLock {
    conn: OwnedMutexGuard<Option<PgConnection>>,
    key: i64,
    released: bool,
}

#[async_trait]
impl HeldLock for PgLock {
    async fn still_held(&mut self) -> bool {
        let alive = match self.conn.as_mut() {
            Some(c) => sqlx::query("SELECT 1").execute(c).await.is_ok(),
            None => false,
        };
        if !alive {
            self.conn.take();
        }
        alive
    }

    async fn release(mut self: Box<Self>) {
        let unlocked = match self.conn.as_mut() {
            Some(c) => sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .fetch_one(c)
                .await
                .unwrap_or(false),
            None => false,
        };
        // Only a clean unlock keeps the connection; otherwise closing it frees the lock.
        self.released = unlocked;
    }
}

impl Drop for PgLock {
    fn drop(&mut self) {
        if !self.released {
            // Closing the session is what releases a lock whose holder was cancelled.
            self.conn.take();
        }
    }
}

/// Takes or renews the lease `name` for `holder` for `ttl`, unless another holder's is
/// still valid. Returns whether `holder` now holds it.
pub(crate) async fn try_lease(pool: &SqlitePool, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool> {
    let now = Utc::now();
    let until = now + TimeDelta::from_std(ttl).unwrap_or(TimeDelta::seconds(10));
    let done = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
    )
    .bind(name)
    .bind(holder)
    .bind(until)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes the lease `name` and keeps renewing it every third of `ttl` until released.
pub(crate) async fn lease(
    pool: &SqlitePool,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> StoreResult<Option<Box<dyn HeldLock>>> {
    if !try_lease(pool, name, holder, ttl).await? {
        return Ok(None);
    }
    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = tokio::spawn({
        let (pool, name, holder, lost) = (pool.clone(), name.to_string(), holder.to_string(), lost.clone());
        async move {
            let mut every = tokio::time::interval((ttl / 3).max(Duration::from_millis(10)));
            every.tick().await;
            loop {
                every.tick().await;
                match try_lease(&pool, &name, &holder, ttl).await {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(err) => tracing::warn!(%err, lease = %name, "could not renew a lease"),
                }
            }
        }
    });
    Ok(Some(Box::new(SqliteLease {
        pool: pool.clone(),
        name: name.to_string(),
        holder: holder.to_string(),
        lost,
        heartbeat,
    })))
}

struct SqliteLease {
    pool: SqlitePool,
    name: String,
    holder: String,
    lost: Arc<AtomicBool>,
    heartbeat: tokio::task::JoinHandle<()>,
}

#[async_trait]
impl HeldLock for SqliteLease {
    async fn still_held(&mut self) -> bool {
        !self.lost.load(Ordering::Relaxed)
    }

    async fn release(self: Box<Self>) {
        self.heartbeat.abort();
        let deleted = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(&self.name)
            .bind(&self.holder)
            .execute(&self.pool)
            .await;
        if let Err(err) = deleted {
            tracing::warn!(%err, lease = %self.name, "could not release a lease; it expires by itself");
        }
    }
}

impl Drop for SqliteLease {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::advisory_key;

    #[test]
    fn advisory_keys_are_stable_and_distinct() {
        assert_eq!(advisory_key("tick"), advisory_key("tick"));
        assert_ne!(advisory_key("tick"), advisory_key("tock"));
        // FNV-1a of "a" (the published test vector), as a signed 64-bit value.
        assert_eq!(advisory_key("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
    }
}
