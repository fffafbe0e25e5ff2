//! Liveness under contention and shutdown: ticks take turns within a process, a replica
//! takes over the tick as soon as the lock is free, a slow channel never causes a re-send,
//! and a shutdown hands unsent outbox rows back at once.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use escalator_domain::{SlaPolicy, Target, WarningWindow};
use escalator_engine::notify::{Channel, Channels, DeliveryError, LogChannel};
use escalator_engine::{Actor, EngineConfig, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use escalator_storage::{DbPool, OutboxMessage, OutboxStatus, Store, WorkflowFilter};

on_both!(
    ticks_in_one_process_take_turns,
    a_replica_takes_the_tick_over_once_the_lock_is_free,
    the_watcher_keeps_the_lock_only_while_thresholds_are_near,
    a_slow_channel_never_causes_a_resend,
    a_shutdown_hands_unsent_rows_back,
);

fn engine(store: Arc<dyn Store>, channels: Channels, config: EngineConfig) -> Escalator {
    Escalator::new(store, channels, Arc::new(Metrics::new(900.0).unwrap()), config)
}

/// `n` workflows of a 24 h policy started 30 h ago: all breached, due now.
async fn breached(e: &Escalator, n: usize) {
    let policy = SlaPolicy::new("day", 24 * 3600, WarningWindow::BeforeDeadline { seconds: 3600 }).unwrap();
    let refs = common::org(e, policy, vec![Target::DepartmentHead]).await;
    for i in 0..n {
        e.create_workflow(
            &common::input(&format!("W-{i}"), "ann@x.io", 30, refs),
            &Actor::internal("test"),
            None,
        )
        .await
        .unwrap();
    }
}

async fn ticks_in_one_process_take_turns(db: TestDb) {
    let config = EngineConfig {
        batch_size: 7,
        ..EngineConfig::default()
    };
    let e = engine(db.store.clone(), Channels::only(Arc::new(LogChannel)), config);
    breached(&e, 40).await;
    // The cron and the deadline watcher (and anyone else) asking at once: they take turns,
    // so nothing is decided twice and no tick is skipped for a tick of its own process.
    let ticks: Vec<_> = (0..5)
        .map(|_| {
            let e = e.clone();
            tokio::spawn(async move { e.tick().await.unwrap() })
        })
        .collect();
    let mut escalated = 0;
    for t in ticks {
        let s = t.await.unwrap();
        assert!(!s.skipped, "a tick of this process never skips for another of it");
        assert_eq!(s.stale, 0, "ticks of one process never overlap: {s:?}");
        escalated += s.escalated;
    }
    assert_eq!(escalated, 40);
    let lateness = e.metrics().render();
    assert!(
        lateness.contains("workflow_action_lateness_seconds_count{action=\"escalate\"} 40"),
        "every escalation's lateness is recorded"
    );
}

async fn a_replica_takes_the_tick_over_once_the_lock_is_free(db: TestDb) {
    // Replica B has its own pool (and lock sessions), like another process.
    let other = escalator_storage::connect(&db.url).await.unwrap();
    let config = EngineConfig {
        tick_lock_retry: Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let b = engine(other, Channels::only(Arc::new(LogChannel)), config.clone());
    breached(&b, 3).await;
    let holder = db
        .store
        .try_lock("tick", "replica-a", config.tick_lock_ttl)
        .await
        .unwrap()
        .expect("free");
    let watcher = tokio::spawn(escalator_engine::deadlines::watch(b.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open = |s: Arc<dyn Store>| async move {
        s.workflows(&WorkflowFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .filter(|w| w.state.level == 0)
        .count()
    };
    assert_eq!(
        open(db.store.clone()).await,
        3,
        "nothing happens while A holds the lock"
    );
    let released = Instant::now();
    holder.release().await;
    while open(db.store.clone()).await > 0 {
        assert!(
            released.elapsed() < Duration::from_secs(5),
            "B took over within seconds"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.shutdown();
    tokio::time::timeout(Duration::from_secs(5), watcher)
        .await
        .expect("the watcher stops at shutdown")
        .unwrap();
}

/// The deadline watcher keeps the tick lock between close thresholds (a replica asking
/// meanwhile is refused), holds nothing while the next threshold is far, and gives the
/// lock back at shutdown.
async fn the_watcher_keeps_the_lock_only_while_thresholds_are_near(db: TestDb) {
    let a = engine(
        db.store.clone(),
        Channels::only(Arc::new(LogChannel)),
        EngineConfig::default(),
    );
    let policy = SlaPolicy::new("minute", 60, WarningWindow::BeforeDeadline { seconds: 30 }).unwrap();
    let refs = common::org(&a, policy, vec![Target::DepartmentHead]).await;
    // 100 warnings 15 ms apart, from `first` on.
    let first = Utc::now() + TimeDelta::seconds(4);
    for i in 0..100 {
        let mut input = common::input(&format!("NEAR-{i}"), "ann@x.io", 0, refs);
        input.started_at = Some(first - TimeDelta::seconds(30) + TimeDelta::milliseconds(15 * i));
        a.create_workflow(&input, &Actor::internal("test"), None).await.unwrap();
    }
    let other = escalator_storage::connect(&db.url).await.unwrap();
    let held = |store: Arc<dyn Store>| async move {
        match store.try_lock("tick", "probe", Duration::from_secs(2)).await.unwrap() {
            Some(lock) => {
                lock.release().await;
                false
            }
            None => true,
        }
    };
    let watcher = tokio::spawn(escalator_engine::deadlines::watch(a.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(Utc::now() < first - TimeDelta::milliseconds(600), "the set-up was slow");
    assert!(
        !held(other.clone()).await,
        "the next threshold is seconds away: nothing is held"
    );

    let until = |at: chrono::DateTime<Utc>| (at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(until(first + TimeDelta::milliseconds(200))).await;
    let (mut probes, mut seen_held) = (0, 0);
    while Utc::now() < first + TimeDelta::milliseconds(1300) {
        probes += 1;
        seen_held += usize::from(held(other.clone()).await);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Ticks alone (a few ms every 15 ms) would hold it a fraction of the time.
    assert!(
        seen_held * 10 >= probes * 8,
        "the lock stays with the watcher between close thresholds: held at {seen_held} of {probes} probes"
    );
    a.shutdown();
    tokio::time::timeout(Duration::from_secs(5), watcher)
        .await
        .expect("the watcher stops at shutdown")
        .unwrap();
    assert!(!held(other).await, "a shutdown gives the kept lock back");
}

/// A channel that takes its time and counts what it sent.
struct Slow {
    pause: Duration,
    sent: Mutex<HashMap<i64, u32>>,
}

#[async_trait]
impl Channel for Slow {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        tokio::time::sleep(self.pause).await;
        *self.sent.lock().unwrap().entry(message.id).or_default() += 1;
        Ok(())
    }
}

/// Queues `n` event rows for the "log" channel, due now.
async fn queue_events(store: &Arc<dyn Store>, n: i64) {
    let sql = "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < $1) \
               INSERT INTO outbox (created_at, kind, topic, payload, dedupe_key, status, attempts, next_attempt_at, channel) \
               SELECT $2, 'event', 'workflow.escalated', '{}', 'slow:' || x, 'pending', 0, $2, 'log' FROM s";
    let at = Utc::now() - TimeDelta::seconds(1);
    match store.pool() {
        DbPool::Postgres(pool) => sqlx::query(sql).bind(n).bind(at).execute(&pool).await.map(|_| ()),
        DbPool::Sqlite(pool) => sqlx::query(sql).bind(n).bind(at).execute(&pool).await.map(|_| ()),
    }
    .unwrap();
}

async fn a_slow_channel_never_causes_a_resend(db: TestDb) {
    // Sending the batch takes 8 × 150 ms = 1.2 s, twice the 600 ms claim: without the
    // claim's renewal the second worker would take rows still being sent, and send them again.
    let config = EngineConfig {
        claim_lease: Duration::from_millis(600),
        ..EngineConfig::default()
    };
    let slow = Arc::new(Slow {
        pause: Duration::from_millis(150),
        sent: Mutex::default(),
    });
    let a = engine(db.store.clone(), Channels::only(slow.clone()), config.clone());
    let b = engine(
        escalator_storage::connect(&db.url).await.unwrap(),
        Channels::only(slow.clone()),
        config,
    );
    queue_events(&db.store, 8).await;
    let first = tokio::spawn(async move { a.deliver_outbox().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // B keeps looking while A sends.
    let mut by_b = 0;
    for _ in 0..30 {
        by_b += b.deliver_outbox().await.unwrap().delivered;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let by_a = first.await.unwrap().delivered;
    assert_eq!((by_a, by_b), (8, 0), "A kept its claim while sending");
    let sent = slow.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 8);
    assert!(sent.values().all(|n| *n == 1), "each row sent once: {sent:?}");
}

async fn a_shutdown_hands_unsent_rows_back(db: TestDb) {
    let config = EngineConfig {
        shutdown_grace: Duration::from_millis(600),
        ..EngineConfig::default()
    };
    let slow = Arc::new(Slow {
        pause: Duration::from_secs(30),
        sent: Mutex::default(),
    });
    let e = engine(db.store.clone(), Channels::only(slow.clone()), config);
    queue_events(&db.store, 5).await;
    let delivering = tokio::spawn({
        let e = e.clone();
        async move { e.deliver_outbox().await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let asked = Instant::now();
    e.shutdown();
    let summary = tokio::time::timeout(Duration::from_secs(2), delivering)
        .await
        .expect("delivery stops within the grace period")
        .unwrap();
    assert!(asked.elapsed() < Duration::from_millis(600), "{:?}", asked.elapsed());
    assert_eq!((summary.delivered, summary.handed_back), (0, 5));
    let pending = db.store.outbox(Some(OutboxStatus::Pending), 10).await.unwrap();
    assert_eq!(pending.len(), 5);
    assert!(
        pending
            .iter()
            .all(|m| m.attempts == 0 && m.next_attempt_at <= Utc::now()),
        "handed back at once, the attempt not counted: {pending:?}"
    );
}
