//! The escalation engine end to end, on SQLite and PostgreSQL.
//!
//! Over 500 lines: the engine's behaviour suite on both backends, one test per promise.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::TimeDelta;
use common::{email, input};
use escalator_domain::{SlaPolicy, Target, WarningWindow, WorkflowStatus};
use escalator_engine::clock::ShiftedClock;
use escalator_engine::notify::{Channel, Channels, DeliveryError, LogChannel};
use escalator_engine::outbox::Backoff;
use escalator_engine::workflows::CreateWorkflow;
use escalator_engine::{EngineConfig, EngineError, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use escalator_storage::{AuditFilter, DbPool, OutboxKind, OutboxMessage, OutboxStatus};
use serde_json::json;

on_both!(
    the_demo_reminds_and_escalates_once,
    the_seed_scenario_escalates_to_the_department_head,
    unresolved_targets_fall_through_and_are_audited,
    an_exhausted_chain_is_audited_once,
    one_failing_workflow_does_not_stop_the_tick,
    bad_input_is_rejected_and_changes_nothing,
    deliveries_retry_with_backoff_then_dead_letter,
    concurrent_ticks_escalate_each_workflow_exactly_once,
    a_tick_decides_with_the_directory_as_it_is_now,
    people_and_roles_are_read_as_they_are_now_and_once_per_reading_request,
);

/// Backoff of the test engines: long enough that one delivery round does not retry.
const RETRY: std::time::Duration = std::time::Duration::from_millis(300);

fn engine(db: &TestDb, sink: Arc<dyn Channel>) -> Escalator {
    engine_on(db.store.clone(), sink, &ShiftedClock::new())
}

/// An engine reading `clock`, which the test moves forward instead of sleeping.
fn engine_at(db: &TestDb, sink: Arc<dyn Channel>, clock: &ShiftedClock) -> Escalator {
    engine_on(db.store.clone(), sink, clock)
}

fn engine_on(store: Arc<dyn escalator_storage::Store>, sink: Arc<dyn Channel>, clock: &ShiftedClock) -> Escalator {
    let config = EngineConfig {
        clock: clock.shared(),
        batch_size: 3, // small batches exercise the cursor
        backoff: Backoff {
            base: RETRY,
            cap: RETRY,
            max_attempts: 3,
        },
        ..EngineConfig::default()
    };
    Escalator::new(
        store,
        Channels::only(sink),
        Arc::new(Metrics::new(900.0).unwrap()),
        config,
    )
}

/// The longest wait after a failed attempt.
fn retry() -> TimeDelta {
    TimeDelta::from_std(RETRY).unwrap()
}

fn api() -> escalator_engine::Actor {
    escalator_engine::Actor::internal("api")
}

/// The 24 h policy warned 2 h before, and a chain of `targets`.
async fn org(e: &Escalator, targets: Vec<Target>) -> (i64, i64) {
    let policy = SlaPolicy::new("24h", 24 * 3600, WarningWindow::BeforeDeadline { seconds: 7200 }).unwrap();
    common::org(e, policy, targets).await
}

async fn audit(e: &Escalator, action: &str) -> Vec<escalator_storage::AuditEntry> {
    e.store()
        .audit_entries(&AuditFilter {
            action: Some(action.into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
}

async fn the_demo_reminds_and_escalates_once(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    let loaded = e.load_demo().await.unwrap();
    assert!(loaded.workflows_created >= 3);
    let first = e.tick().await.unwrap();
    assert!(first.reminded >= 1, "{first:?}");
    assert!(first.escalated >= 1, "{first:?}");
    assert_eq!(first.failed, 0);
    let second = e.tick().await.unwrap();
    assert_eq!(
        (second.reminded, second.escalated, second.checked),
        (0, 0, 0),
        "{second:?}"
    );
    // Loading the demo again adds nothing.
    assert_eq!(e.load_demo().await.unwrap().workflows_created, 0);
    // The metrics saw it.
    let text = e.metrics().render();
    assert!(
        text.contains(&format!("workflow_tasks_escalated_total {}", first.escalated)),
        "{text}"
    );
}

async fn the_seed_scenario_escalates_to_the_department_head(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    let created = e
        .create_workflow(&input("PO-48", "mgr@x.io", 48, refs), &api(), None)
        .await
        .unwrap();
    assert_eq!(created.view.sla.status, escalator_domain::SlaStatus::Breached);
    let summary = e.tick().await.unwrap();
    assert_eq!((summary.escalated, summary.reminded), (1, 0), "{summary:?}");

    let w = e.workflow(created.view.workflow.id, &api()).await.unwrap();
    assert_eq!(w.workflow.state.status, WorkflowStatus::Escalated);
    assert_eq!(w.workflow.state.assignee, "boss@x.io");
    assert_eq!(w.workflow.state.level, 1);
    // The new level's clock: 8 h from the escalation.
    assert!(w.sla.remaining > TimeDelta::hours(7) && w.sla.remaining <= TimeDelta::hours(8));

    let entries = audit(&e, "escalate").await;
    assert_eq!(entries.len(), 1);
    let d = &entries[0].details;
    assert_eq!(d["reason"], "sla_breach");
    assert_eq!(d["elapsed"], "48h");
    assert_eq!(d["from_assignee"], "mgr@x.io");
    assert_eq!(d["to_assignee"], "boss@x.io");

    let notes = e.store().outbox(None, 10).await.unwrap();
    let mail = notes
        .iter()
        .find(|m| m.kind == OutboxKind::Notification)
        .expect("a notification");
    assert_eq!(mail.topic, "workflow.escalated");
    assert_eq!(mail.payload["to"], json!(["boss@x.io"]));
    assert_eq!(mail.payload["cc"], json!(["mgr@x.io", "init@x.io"]));
    let escalated = notes
        .iter()
        .find(|m| m.kind == OutboxKind::Event && m.topic == "workflow.escalated")
        .expect("an escalation event");

    // A person's action on the same workflow: its event has the same shape (one typed
    // event, one workflow summary), whoever caused it.
    let id = created.view.workflow.id;
    e.act(
        id,
        &escalator_engine::workflows::ActionRequest::Hold {
            reason: "waiting for the supplier".into(),
            until: None,
        },
        &api(),
    )
    .await
    .unwrap();
    let notes = e.store().outbox(None, 10).await.unwrap();
    let held = notes.iter().find(|m| m.topic == "workflow.held").expect("a hold event");
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(&escalated.payload["workflow"]), keys(&held.payload["workflow"]));
    assert_eq!(escalated.payload["workflow"]["type"], "purchase");
    assert_eq!(held.payload["workflow"]["type"], "purchase");
    assert_eq!(escalated.payload["event"], "escalated");
    assert_eq!(escalated.payload["actor"], "system");
    assert_eq!(escalated.payload["workflow"]["assignee"], "boss@x.io");
    assert_eq!(escalated.payload["from_assignee"], "mgr@x.io");
    assert_eq!(held.payload["event"], "held");
    assert_eq!(held.payload["workflow"]["status"], "on_hold");
    assert_eq!(held.payload["reason"], "waiting for the supplier");

    // Delivery empties the outbox.
    let delivered = e.deliver_outbox().await.unwrap();
    assert_eq!(delivered.delivered, 3);
    assert_eq!(
        e.store().outbox(Some(OutboxStatus::Pending), 10).await.unwrap().len(),
        0
    );
}

/// The tick keeps the rules and directory it read between ticks; a change to them in
/// between (here, through the store, as another replica would make it) is seen by the
/// next tick.
async fn a_tick_decides_with_the_directory_as_it_is_now(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    let first = e
        .create_workflow(&input("KEPT-1", "mgr@x.io", 48, refs), &api(), None)
        .await
        .unwrap();
    assert_eq!(e.tick().await.unwrap().escalated, 1);
    let w = e.workflow(first.view.workflow.id, &api()).await.unwrap().workflow;
    assert_eq!(w.state.assignee, "boss@x.io");

    // Ops gets a new head; the next tick must escalate to her, not to the kept one.
    let store = e.store();
    let now = chrono::Utc::now();
    let key = escalator_domain::DepartmentKey::parse("ops").unwrap();
    let head = escalator_domain::User {
        email: email("new.boss@x.io"),
        name: "New Boss".into(),
        role: escalator_domain::Role::DepartmentHead,
        department: Some(key.clone()),
        manager: None,
        phone: None,
    };
    store.upsert_user(&head, now).await.unwrap();
    let ops = escalator_domain::Department {
        key,
        name: "Ops".into(),
        head: Some(email("new.boss@x.io")),
    };
    store.upsert_department(&ops, now).await.unwrap();
    let second = e
        .create_workflow(&input("KEPT-2", "ann@x.io", 48, refs), &api(), None)
        .await
        .unwrap();
    assert_eq!(e.tick().await.unwrap().escalated, 1);
    let w = e.workflow(second.view.workflow.id, &api()).await.unwrap().workflow;
    assert_eq!(w.state.assignee, "new.boss@x.io");
}

/// Pages read people, roles and departments from the kept directory: a change made
/// through the store (as another replica would make it) shows on the next call, a
/// deactivation signs the person out at once, and an engine made for one read-only request
/// keeps the snapshot it read first.
async fn people_and_roles_are_read_as_they_are_now_and_once_per_reading_request(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    org(&e, vec![Target::DepartmentHead]).await;
    let admin = api();
    let ann = e.actor("ann@x.io").await.unwrap().expect("ann is signed in");
    assert_eq!(ann.role, escalator_domain::Role::Approver);
    let names = e.names_of(&["ann@x.io".into(), "nobody@x.io".into()]).await.unwrap();
    assert_eq!(names.len(), 1, "unknown people are left out: {names:?}");
    let ann_name = names["ann@x.io"].clone();

    let reading = e.for_reading();
    assert_eq!(reading.departments(&admin).await.unwrap().len(), 1);

    let store = e.store();
    let now = chrono::Utc::now();
    let mut user = store.user("ann@x.io").await.unwrap().unwrap();
    user.name = "Ann Renamed".into();
    user.role = escalator_domain::Role::DepartmentHead;
    store.upsert_user(&user, now).await.unwrap();
    let legal = escalator_domain::Department {
        key: escalator_domain::DepartmentKey::parse("legal").unwrap(),
        name: "Legal".into(),
        head: None,
    };
    store.upsert_department(&legal, now).await.unwrap();

    // The shared engine sees every change on the next call.
    let ann = e.actor("ann@x.io").await.unwrap().unwrap();
    assert_eq!(
        ann.role,
        escalator_domain::Role::DepartmentHead,
        "a changed role applies at once"
    );
    assert_eq!(
        e.names_of(&["ann@x.io".into()]).await.unwrap()["ann@x.io"],
        "Ann Renamed"
    );
    assert_eq!(e.user("ann@x.io", &admin).await.unwrap().name, "Ann Renamed");
    assert_eq!(e.departments(&admin).await.unwrap().len(), 2);
    // The reading request keeps what it read first, so its page is consistent.
    assert_eq!(reading.departments(&admin).await.unwrap().len(), 1);
    assert_eq!(
        reading.names_of(&["ann@x.io".into()]).await.unwrap()["ann@x.io"],
        ann_name
    );
    assert_eq!(e.for_reading().departments(&admin).await.unwrap().len(), 2);

    let entry = escalator_storage::NewAudit {
        actor: "admin@x.io".into(),
        action: "user_deactivated".into(),
        workflow_id: None,
        details: serde_json::json!({}),
        at: now,
    };
    assert!(store.set_deactivated("ann@x.io", Some(now), &entry).await.unwrap());
    assert!(
        e.actor("ann@x.io").await.unwrap().is_none(),
        "a deactivated person is signed out"
    );
}

async fn unresolved_targets_fall_through_and_are_audited(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    let refs = org(&e, vec![Target::ManagerOf, Target::DepartmentHead]).await;
    // solo@ has no manager: level 1 cannot resolve, level 2 (the head) takes it.
    let w = e
        .create_workflow(&input("S-1", "solo@x.io", 30, refs), &api(), None)
        .await
        .unwrap();
    let summary = e.tick().await.unwrap();
    assert_eq!(summary.escalated, 1);
    let w = e.workflow(w.view.workflow.id, &api()).await.unwrap().workflow;
    assert_eq!((w.state.assignee.as_str(), w.state.level), ("boss@x.io", 2));
    let skipped = audit(&e, "escalation_target_unresolved").await;
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].details["level"], 1);
    assert_eq!(skipped[0].details["target"], "manager_of");
}

async fn an_exhausted_chain_is_audited_once(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    let refs = org(
        &e,
        vec![Target::User {
            email: email("gone@x.io"),
        }],
    )
    .await;
    let w = e
        .create_workflow(&input("X-1", "ann@x.io", 30, refs), &api(), None)
        .await
        .unwrap();
    let first = e.tick().await.unwrap();
    assert_eq!((first.escalated, first.exhausted), (0, 1), "{first:?}");
    let second = e.tick().await.unwrap();
    assert_eq!((second.checked, second.exhausted), (0, 0), "{second:?}");
    let w = e.workflow(w.view.workflow.id, &api()).await.unwrap().workflow;
    assert_eq!(w.state.assignee, "ann@x.io", "stays with its assignee");
    assert_eq!(w.state.next_check_at, None);
    assert_eq!(audit(&e, "chain_exhausted").await.len(), 1);
    assert_eq!(
        audit(&e, "escalation_target_unresolved").await.len(),
        0,
        "skips are listed in the exhaustion entry"
    );
}

async fn one_failing_workflow_does_not_stop_the_tick(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            e.create_workflow(&input(&format!("F-{i}"), "ann@x.io", 30, refs), &api(), None)
                .await
                .unwrap()
                .view
                .workflow
                .id,
        );
    }
    let victim = ids[2];
    // A database-level failure on one workflow's update.
    match e.store().pool() {
        DbPool::Sqlite(pool) => {
            let sql = format!("CREATE TRIGGER boom BEFORE UPDATE ON workflows WHEN NEW.id = {victim} BEGIN SELECT RAISE(ABORT, 'boom'); END");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap();
        }
        DbPool::Postgres(pool) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = {victim} THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END; $$;
                 CREATE TRIGGER boom BEFORE UPDATE ON workflows FOR EACH ROW EXECUTE FUNCTION boom();"
            )))
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    let summary = e.tick().await.unwrap();
    assert_eq!((summary.escalated, summary.failed), (4, 1), "{summary:?}");
    let failures = audit(&e, "escalation_failed").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].workflow_id, Some(victim));
    assert_eq!(
        e.workflow(victim, &api()).await.unwrap().workflow.state.status,
        WorkflowStatus::Pending
    );
    assert!(e.metrics().render().contains("workflow_escalation_failures_total 1"));
}

async fn bad_input_is_rejected_and_changes_nothing(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    let cases: Vec<(&str, CreateWorkflow)> = vec![
        (
            "department",
            CreateWorkflow {
                department: "nope".into(),
                ..input("B-1", "ann@x.io", 1, refs)
            },
        ),
        ("assignee", input("B-2", "ghost@x.io", 1, refs)),
        (
            "initiator",
            CreateWorkflow {
                initiator: "ghost@x.io".into(),
                ..input("B-3", "ann@x.io", 1, refs)
            },
        ),
        (
            "policy_id",
            CreateWorkflow {
                policy_id: 999,
                ..input("B-4", "ann@x.io", 1, refs)
            },
        ),
        (
            "chain_id",
            CreateWorkflow {
                chain_id: 999,
                ..input("B-5", "ann@x.io", 1, refs)
            },
        ),
        ("started_at", input("B-6", "ann@x.io", -2, refs)),
        ("external_id", input("  ", "ann@x.io", 1, refs)),
    ];
    for (field, case) in cases {
        match e.create_workflow(&case, &api(), None).await {
            Err(EngineError::Invalid(v)) => assert_eq!(v.field, field),
            other => panic!("{field}: expected a validation error, got {other:?}"),
        }
    }
    e.create_workflow(&input("OK-1", "ann@x.io", 1, refs), &api(), None)
        .await
        .unwrap();
    assert!(matches!(
        e.create_workflow(&input("OK-1", "ann@x.io", 1, refs), &api(), None)
            .await,
        Err(EngineError::Conflict(_))
    ));
    assert_eq!(audit(&e, "create").await.len(), 1);
}

/// Fails the first `failures` deliveries, then succeeds; records what it saw.
struct FlakySink {
    failures: usize,
    calls: AtomicUsize,
    delivered: Mutex<Vec<i64>>,
}

#[async_trait]
impl Channel for FlakySink {
    fn name(&self) -> &'static str {
        "test"
    }
    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
            return Err(DeliveryError("receiver down".into()));
        }
        self.delivered.lock().unwrap().push(m.id);
        Ok(())
    }
}

async fn deliveries_retry_with_backoff_then_dead_letter(db: TestDb) {
    let sink = Arc::new(FlakySink {
        failures: 2,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(Vec::new()),
    });
    let clock = ShiftedClock::new();
    let e = engine_at(&db, sink.clone(), &clock);
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    e.create_workflow(&input("D-1", "ann@x.io", 30, refs), &api(), None)
        .await
        .unwrap();
    e.tick().await.unwrap(); // queues one notification and one event
    let first = e.deliver_outbox().await.unwrap();
    assert_eq!((first.delivered, first.retried), (0, 2), "{first:?}");
    clock.advance(retry());
    let second = e.deliver_outbox().await.unwrap();
    assert_eq!((second.delivered, second.retried), (2, 0), "{second:?}");
    let mut ids = sink.delivered.lock().unwrap().clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2, "each row delivered exactly once");

    // A receiver that never recovers: dead after max_attempts, with the error kept.
    let dead_sink = Arc::new(FlakySink {
        failures: usize::MAX,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(Vec::new()),
    });
    let e2 = engine_at(&db, dead_sink.clone(), &clock);
    e2.create_workflow(&input("D-2", "ann@x.io", 30, refs), &api(), None)
        .await
        .unwrap();
    e2.tick().await.unwrap();
    for _ in 0..3 {
        e2.deliver_outbox().await.unwrap();
        clock.advance(retry());
    }
    let dead = e2.store().outbox(Some(OutboxStatus::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert!(dead
        .iter()
        .all(|m| m.attempts == 3 && m.last_error.as_deref() == Some("receiver down")));
    assert_eq!(dead_sink.calls.load(Ordering::SeqCst), 6);
}

async fn concurrent_ticks_escalate_each_workflow_exactly_once(db: TestDb) {
    let e = engine(&db, Arc::new(LogChannel));
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    let n = 40;
    for i in 0..n {
        e.create_workflow(&input(&format!("C-{i}"), "ann@x.io", 30, refs), &api(), None)
            .await
            .unwrap();
    }
    // Two "replicas" (separate engines on separate pools) tick at once, without the lease,
    // so only the version checks and once-only claims stand between them.
    let e2 = engine_on(
        escalator_storage::connect(&db.url).await.unwrap(),
        Arc::new(LogChannel),
        &ShiftedClock::new(),
    );
    let (a, b) = tokio::join!(
        tokio::spawn({
            let e = e.clone();
            async move { e.tick_unleased().await.unwrap() }
        }),
        tokio::spawn({
            let e2 = e2.clone();
            async move { e2.tick_unleased().await.unwrap() }
        }),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.escalated + b.escalated, n, "{a:?} {b:?}");
    assert_eq!(a.failed + b.failed, 0, "{a:?} {b:?}");
    let escalations = audit(&e, "escalate").await;
    assert_eq!(escalations.len() as u64, n);
    let mut per_workflow: Vec<_> = escalations.iter().filter_map(|a| a.workflow_id).collect();
    per_workflow.sort();
    per_workflow.dedup();
    assert_eq!(per_workflow.len() as u64, n, "one escalation entry per workflow");
    let notifications = e.store().outbox(None, 1000).await.unwrap();
    assert_eq!(
        notifications
            .iter()
            .filter(|m| m.kind == OutboxKind::Notification)
            .count() as u64,
        n
    );

    // With the lease, a second replica's tick is skipped while the first holds it.
    for i in 0..n {
        e.create_workflow(&input(&format!("L-{i}"), "ann@x.io", 30, refs), &api(), None)
            .await
            .unwrap();
    }
    let (a, b) = tokio::join!(e.tick(), e2.tick());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.escalated + b.escalated, n, "{a:?} {b:?}");
    assert_eq!(audit(&e, "escalate").await.len() as u64, 2 * n);
}

on_both!(advancing_a_held_workflow_ends_its_hold);

/// A held workflow moved to its next stage is no longer held: its hold ends with the
/// advance, and it can be held again (an open hold left behind made that a 500).
async fn advancing_a_held_workflow_ends_its_hold(db: TestDb) {
    use escalator_engine::workflows::ActionRequest;
    let clock = ShiftedClock::new();
    let e = engine_at(&db, Arc::new(LogChannel), &clock);
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    let w = e
        .create_workflow(&input("H-ADV", "ann@x.io", 1, refs), &api(), None)
        .await
        .unwrap()
        .view
        .workflow;
    let hold = || ActionRequest::Hold {
        reason: "waiting".into(),
        until: None,
    };
    e.act(w.id, &hold(), &api()).await.unwrap();
    let advance = ActionRequest::Advance {
        stage: "Finance".into(),
        policy_id: None,
        assignee: Some("ann@x.io".into()),
    };
    let advanced = e.act(w.id, &advance, &api()).await.unwrap();
    assert_eq!(advanced.workflow.state.status, WorkflowStatus::Pending);
    let holds = e.store().holds(&[w.id]).await.unwrap();
    assert_eq!(holds.len(), 1);
    assert!(holds[0].resumed_at.is_some(), "the advance ended the hold: {holds:?}");
    let held = e.act(w.id, &hold(), &api()).await.unwrap();
    assert_eq!(held.workflow.state.status, WorkflowStatus::OnHold);
    assert_eq!(e.store().holds(&[w.id]).await.unwrap().len(), 2);
}

on_both!(paused_time_is_never_counted);

async fn paused_time_is_never_counted(db: TestDb) {
    use escalator_engine::workflows::ActionRequest;
    let clock = ShiftedClock::new();
    let e = engine_at(&db, Arc::new(LogChannel), &clock);
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    // 30 h old under a 24 h SLA: breached, but put on hold before any tick.
    let w = e
        .create_workflow(&input("H-1", "ann@x.io", 30, refs), &api(), None)
        .await
        .unwrap()
        .view
        .workflow;
    let held = e
        .act(
            w.id,
            &ActionRequest::Hold {
                reason: "waiting for the supplier".into(),
                until: None,
            },
            &api(),
        )
        .await
        .unwrap();
    assert_eq!(held.workflow.state.status, WorkflowStatus::OnHold);
    assert_eq!(held.sla.status, escalator_domain::SlaStatus::Paused);
    let summary = e.tick().await.unwrap();
    assert_eq!(
        (summary.checked, summary.escalated),
        (0, 0),
        "no escalation while on hold: {summary:?}"
    );
    // Holding twice is an illegal transition naming the current status.
    match e
        .act(
            w.id,
            &ActionRequest::Hold {
                reason: "again".into(),
                until: None,
            },
            &api(),
        )
        .await
    {
        Err(EngineError::Transition(t)) => assert_eq!(t.current, WorkflowStatus::OnHold),
        other => panic!("expected an illegal transition, got {other:?}"),
    }
    clock.advance(TimeDelta::milliseconds(1100));
    let resumed = e.act(w.id, &ActionRequest::Resume, &api()).await.unwrap();
    assert_eq!(resumed.workflow.state.status, WorkflowStatus::Pending);
    // The held second is not counted: elapsed stays below 30 h + 1 s.
    assert!(
        resumed.sla.elapsed < TimeDelta::hours(30) + TimeDelta::milliseconds(1000),
        "{:?}",
        resumed.sla.elapsed
    );
    assert_eq!(
        resumed.workflow.state.due_at, w.state.due_at,
        "a pause after the deadline does not move it"
    );
    assert_eq!(e.tick().await.unwrap().escalated, 1, "breached once running again");
    assert_eq!(audit(&e, "hold").await.len(), 1);
    assert_eq!(audit(&e, "resume").await.len(), 1);
    assert!(audit(&e, "resume").await[0].details["paused_seconds"].as_i64().unwrap() >= 1);

    // A pause before the deadline pushes it back by exactly the paused time.
    let fresh = e
        .create_workflow(&input("H-2", "ann@x.io", 1, refs), &api(), None)
        .await
        .unwrap()
        .view
        .workflow;
    e.act(
        fresh.id,
        &ActionRequest::Hold {
            reason: "r".into(),
            until: None,
        },
        &api(),
    )
    .await
    .unwrap();
    clock.advance(TimeDelta::milliseconds(1100));
    let back = e.act(fresh.id, &ActionRequest::Resume, &api()).await.unwrap();
    let holds = e.store().holds(&[fresh.id]).await.unwrap();
    let paused = holds[0].resumed_at.unwrap() - holds[0].held_at;
    assert!(paused >= TimeDelta::milliseconds(1100));
    assert_eq!(back.workflow.state.due_at, fresh.state.due_at + paused);
}

on_both!(a_snooze_ends_by_itself_and_its_time_is_not_counted);

async fn a_snooze_ends_by_itself_and_its_time_is_not_counted(db: TestDb) {
    use escalator_engine::workflows::ActionRequest;
    let clock = ShiftedClock::new();
    let e = engine_at(&db, Arc::new(LogChannel), &clock);
    let refs = org(&e, vec![Target::DepartmentHead]).await;
    // 1 h into a 24 h SLA, snoozed for 2 h.
    let w = e
        .create_workflow(&input("S-1", "ann@x.io", 1, refs), &api(), None)
        .await
        .unwrap()
        .view
        .workflow;
    let snooze = |until| ActionRequest::Hold {
        reason: "back after lunch".into(),
        until: Some(until),
    };
    for bad in [e.now() - TimeDelta::minutes(1), e.now() + TimeDelta::days(91)] {
        match e.act(w.id, &snooze(bad), &api()).await {
            Err(EngineError::Invalid(v)) => assert_eq!(v.field, "until"),
            other => panic!("expected a refused end, got {other:?}"),
        }
    }
    let until = e.now() + TimeDelta::hours(2);
    let held = e.act(w.id, &snooze(until), &api()).await.unwrap();
    assert_eq!(held.workflow.state.status, WorkflowStatus::OnHold);
    assert_eq!(held.workflow.state.next_check_at, Some(until));
    assert_eq!(e.tick().await.unwrap().resumed, 0, "not before its end");

    clock.advance(TimeDelta::hours(2) + TimeDelta::seconds(1));
    let summary = e.tick().await.unwrap();
    assert_eq!((summary.resumed, summary.failed), (1, 0), "{summary:?}");
    let after = e.store().workflow(w.id).await.unwrap().unwrap();
    assert_eq!(after.state.status, WorkflowStatus::Pending);
    // The snoozed time is not counted: the deadline moved back by exactly the pause.
    let holds = e.store().holds(&[w.id]).await.unwrap();
    let paused = holds[0].resumed_at.unwrap() - holds[0].held_at;
    assert!(paused >= TimeDelta::hours(2), "{paused:?}");
    assert_eq!(after.state.due_at, w.state.due_at + paused);
    let resumes = audit(&e, "resume").await;
    assert_eq!(resumes.len(), 1);
    assert_eq!(resumes[0].actor, "system");
    assert_eq!(resumes[0].details["reason"], "hold_ended");
    assert_eq!(e.tick().await.unwrap().resumed, 0, "resumed once");
}
