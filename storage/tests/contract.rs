//! The storage contract: every case runs against SQLite and PostgreSQL.
//!
//! Over 500 lines: the storage contract, one test per promise of the `Store` roles, run on both backends.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use escalator_domain::{
    Department, DepartmentKey, Email, EscalationChain, Level, NotificationKind, NotificationPreferences, Outcome,
    OutcomeCounts, PersonalChannel, Phone, QuietHours, Role, SlaPolicy, SlaStatus, StageEnd, Target, User,
    WarningWindow, WorkflowState, WorkflowStatus,
};
use escalator_storage::testing::TestDb;
use escalator_storage::{
    Applied, AuditEntry, AuditFilter, Backend, Claim, ClaimKind, DbPool, Dimension, DueCursor, HoldChange, NewAudit,
    NewNotification, NewOutbox, NewOutcome, NewReminder, NewWorkflow, OutboxKind, OutboxStatus, OutcomeFilter,
    ReminderFilter, SessionRecord, Store, StoreError, WorkflowChange, WorkflowFilter, WorkflowOrder, WorkflowRecord,
};
use serde_json::json;

/// Runs a case once per backend, as `<case>::sqlite` and `<case>::postgres`.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn sqlite() {
                super::$case(escalator_storage::testing::TestDb::new(escalator_storage::Backend::Sqlite).await).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::$case(escalator_storage::testing::TestDb::new(escalator_storage::Backend::Postgres).await).await;
            }
        }
    )*};
}

contract!(
    migrations_are_idempotent,
    directory_round_trips,
    users_need_an_existing_department,
    policies_and_chains_round_trip,
    workflows_round_trip_and_external_ids_are_unique,
    due_workflows_come_in_order_through_a_cursor,
    changes_are_version_checked_and_claims_happen_once,
    a_failed_batch_writes_nothing,
    outbox_rows_are_claimed_once_retried_and_dead_lettered,
    a_round_expands_its_messages_together_and_stores_notifications_once,
    locks_are_exclusive_and_die_with_their_holder,
    a_claim_takes_exactly_its_rows_whatever_the_backlog,
    claims_are_extended_and_handed_back,
    the_audit_log_is_append_only_and_filterable,
    stats_count_open_workflows_by_sla_status,
    open_workflows_page_by_deadline_with_counts,
    sessions_round_trip_and_expire,
    a_batch_applies_like_one_by_one_and_claims_once,
    phones_and_preferences_round_trip,
    reminder_repeats_have_their_own_claims_and_stop_once_acknowledged,
    digests_take_rows_out_of_the_queue_and_deliver_them_together,
    every_change_to_rules_or_directory_moves_the_generation,
    reads_say_whether_a_hold_counts_at_the_current_level,
);

/// "Now" for every case of this run, in whole seconds. One instant, not the clock: a case
/// that reads it twice must not see a second boundary pass in between (that made cases
/// comparing stored timestamps with `t0()` fail now and then). The store never reads the
/// database's clock, so a fixed "now" is as good as the real one.
fn t0() -> DateTime<Utc> {
    static T0: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    *T0.get_or_init(|| Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap())
}

/// The audit entries of one action (a few at most in these cases).
async fn audited(store: &Arc<dyn Store>, action: &str) -> Vec<AuditEntry> {
    store
        .audit_entries(&AuditFilter {
            action: Some(action.into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

async fn seed(store: &Arc<dyn Store>) -> (i64, i64) {
    let now = t0();
    let dept = Department {
        key: DepartmentKey::parse("finance").unwrap(),
        name: "Finance".into(),
        head: Some(email("head@x.io")),
    };
    store.upsert_department(&dept, now).await.unwrap();
    for (e, role, manager) in [
        ("head@x.io", Role::DepartmentHead, None),
        ("ann@x.io", Role::Approver, Some("head@x.io")),
    ] {
        let user = User {
            email: email(e),
            name: e.into(),
            role,
            department: Some(dept.key.clone()),
            manager: manager.map(email),
            phone: None,
        };
        store.upsert_user(&user, now).await.unwrap();
    }
    let policy = SlaPolicy::new("p", 3600, WarningWindow::BeforeDeadline { seconds: 600 }).unwrap();
    let policy = store.create_policy(&policy, None, now).await.unwrap();
    let chain = EscalationChain::new(
        "c",
        vec![Level {
            target: Target::DepartmentHead,
            time_limit_seconds: 1800,
        }],
    )
    .unwrap();
    let chain = store.create_chain(&chain, now).await.unwrap();
    (policy.id, chain.id)
}

fn state(policy_id: i64, started: DateTime<Utc>, next_check_at: Option<DateTime<Utc>>) -> WorkflowState {
    WorkflowState {
        status: WorkflowStatus::Pending,
        stage: "Manager Approval".into(),
        stage_seq: 1,
        assignee: "ann@x.io".into(),
        level: 0,
        policy_id,
        policy_version: 1,
        stage_started_at: started,
        level_started_at: started,
        warn_at: started + TimeDelta::minutes(50),
        due_at: started + TimeDelta::hours(1),
        next_check_at,
        closed_at: None,
    }
}

fn audit(action: &str, at: DateTime<Utc>) -> NewAudit {
    NewAudit {
        actor: "tester".into(),
        action: action.into(),
        workflow_id: None,
        details: json!({"k": "v"}),
        at,
    }
}

async fn workflow(store: &Arc<dyn Store>, ext: &str, next: Option<DateTime<Utc>>) -> WorkflowRecord {
    let (policy_id, chain_id) = match store.policies().await.unwrap().first() {
        Some(p) => (p.id, store.chains().await.unwrap()[0].id),
        None => seed(store).await,
    };
    let new = NewWorkflow {
        external_id: ext.into(),
        workflow_type: "purchase".into(),
        title: format!("Title {ext}"),
        department: "finance".into(),
        initiator: "head@x.io".into(),
        chain_id,
        state: state(policy_id, t0() - TimeDelta::hours(2), next),
        idempotency_key: None,
        now: t0(),
    };
    store.insert_workflow(&new, &audit("create", t0())).await.unwrap()
}

fn change(w: &WorkflowRecord, claim: Option<Claim>, key: &str) -> WorkflowChange {
    let mut state = w.state.clone();
    state.next_check_at = None;
    WorkflowChange {
        workflow_id: w.id,
        expected_version: w.version,
        state,
        claim,
        reminder: Some(NewReminder {
            assignee: w.state.assignee.clone(),
            due_at: w.state.due_at,
            repeat: 0,
        }),
        hold: None,
        audit: vec![NewAudit {
            workflow_id: Some(w.id),
            ..audit("remind", t0())
        }],
        outbox: vec![NewOutbox {
            kind: OutboxKind::Notification,
            topic: "workflow.reminder".into(),
            payload: json!({"to": ["ann@x.io"]}).try_into().unwrap(),
            dedupe_key: key.into(),
            channel: None,
            recipient: None,
            not_before: None,
        }],
        outcome: None,
        now: t0(),
    }
}

async fn migrations_are_idempotent(db: TestDb) {
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

async fn directory_round_trips(db: TestDb) {
    let s = &db.store;
    seed(s).await;
    let d = s.department("finance").await.unwrap().unwrap();
    assert_eq!(d.head, Some(email("head@x.io")));
    let ann = s.user("ann@x.io").await.unwrap().unwrap();
    assert_eq!(ann.role, Role::Approver);
    assert_eq!(ann.manager, Some(email("head@x.io")));
    // Upserts replace.
    let renamed = User {
        name: "Ann B".into(),
        role: Role::Viewer,
        ..ann
    };
    s.upsert_user(&renamed, t0()).await.unwrap();
    assert_eq!(s.user("ann@x.io").await.unwrap().unwrap(), renamed);
    assert_eq!(s.users().await.unwrap().len(), 2);
    assert!(s.user("nobody@x.io").await.unwrap().is_none());
    use escalator_domain::Directory;
    let dir = s.directory(chrono::Utc::now()).await.unwrap();
    assert_eq!(dir.department_head("finance"), Some("head@x.io"));
    assert_eq!(dir.manager_of("ann@x.io"), Some("head@x.io"));
    assert!(dir.has_user("head@x.io"));
    assert!(!dir.has_user("ghost@x.io"));
}

async fn users_need_an_existing_department(db: TestDb) {
    let user = User {
        email: email("z@x.io"),
        name: "Z".into(),
        role: Role::Viewer,
        department: Some(DepartmentKey::parse("nowhere").unwrap()),
        manager: None,
        phone: None,
    };
    let err = db.store.upsert_user(&user, t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "{err:?}");
    assert!(db.store.user("z@x.io").await.unwrap().is_none());
}

async fn policies_and_chains_round_trip(db: TestDb) {
    let s = &db.store;
    let p = SlaPolicy::new("pct", 8 * 3600, WarningWindow::ElapsedPercent { percent: 80 }).unwrap();
    let stored = s.create_policy(&p, None, t0()).await.unwrap();
    assert_eq!(stored.policy, p);
    assert_eq!(s.policy(stored.id).await.unwrap().unwrap(), stored);
    let p2 = SlaPolicy::new("pct2", 4 * 3600, WarningWindow::BeforeDeadline { seconds: 60 }).unwrap();
    let updated = s
        .update_policy(stored.id, &p2, None, t0() + TimeDelta::seconds(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.policy, p2);
    assert!(updated.updated_at > updated.created_at);
    assert!(s.update_policy(9999, &p2, None, t0()).await.unwrap().is_none());

    let c = EscalationChain::new(
        "chain",
        vec![
            Level {
                target: Target::ManagerOf,
                time_limit_seconds: 60,
            },
            Level {
                target: Target::User {
                    email: email("cfo@x.io"),
                },
                time_limit_seconds: 120,
            },
        ],
    )
    .unwrap();
    let stored = s.create_chain(&c, t0()).await.unwrap();
    assert_eq!(s.chain(stored.id).await.unwrap().unwrap().chain, c);
    let c2 = EscalationChain::new(
        "chain",
        vec![Level {
            target: Target::DepartmentHead,
            time_limit_seconds: 5,
        }],
    )
    .unwrap();
    assert_eq!(s.update_chain(stored.id, &c2, t0()).await.unwrap().unwrap().chain, c2);
    assert_eq!(s.chains().await.unwrap().len(), 1);
}

async fn workflows_round_trip_and_external_ids_are_unique(db: TestDb) {
    let s = &db.store;
    let next = t0() + TimeDelta::microseconds(123_456);
    let w = workflow(s, "PO-1", Some(next)).await;
    assert_eq!(w.version, 0);
    assert_eq!(
        w.state.next_check_at,
        Some(next),
        "timestamps survive to the microsecond"
    );
    assert_eq!(s.workflow(w.id).await.unwrap().unwrap(), w);
    assert_eq!(s.workflow_by_external_id("PO-1").await.unwrap().unwrap().id, w.id);

    let mut dup = NewWorkflow {
        external_id: "PO-1".into(),
        workflow_type: "x".into(),
        title: "x".into(),
        department: "finance".into(),
        initiator: "ann@x.io".into(),
        chain_id: w.chain_id,
        state: w.state.clone(),
        idempotency_key: None,
        now: t0(),
    };
    let err = s.insert_workflow(&dup, &audit("create", t0())).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    dup.external_id = "PO-2".into();
    dup.department = "nowhere".into();
    let err = s.insert_workflow(&dup, &audit("create", t0())).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "{err:?}");
    // The rejected inserts left no audit entry behind.
    let entries = s
        .audit_entries(&AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].workflow_id, Some(w.id));

    let w2 = workflow(s, "PO-3", None).await;
    let page = s
        .workflows(&WorkflowFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|w| w.id).collect::<Vec<_>>(), vec![w2.id]);
    let next_page = s
        .workflows(&WorkflowFilter {
            limit: 10,
            before_id: Some(w2.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(next_page.iter().map(|w| w.id).collect::<Vec<_>>(), vec![w.id]);
    let none = s
        .workflows(&WorkflowFilter {
            limit: 10,
            assignee: Some("head@x.io".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
    let pending = s
        .workflows(&WorkflowFilter {
            limit: 10,
            status: Some(WorkflowStatus::Pending),
            department: Some("finance".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 2);
}

async fn due_workflows_come_in_order_through_a_cursor(db: TestDb) {
    let s = &db.store;
    let now = t0();
    let a = workflow(s, "A", Some(now - TimeDelta::minutes(5))).await;
    let b = workflow(s, "B", Some(now - TimeDelta::minutes(10))).await;
    let c = workflow(s, "C", Some(now - TimeDelta::minutes(5))).await;
    let _future = workflow(s, "D", Some(now + TimeDelta::minutes(5))).await;
    let _never = workflow(s, "E", None).await;
    let all = s.due_workflows(now, None, 10).await.unwrap();
    assert_eq!(all.iter().map(|w| w.id).collect::<Vec<_>>(), vec![b.id, a.id, c.id]);
    let first = s.due_workflows(now, None, 2).await.unwrap();
    let last = first.last().unwrap();
    let cursor = DueCursor {
        next_check_at: last.state.next_check_at.unwrap(),
        id: last.id,
    };
    let rest = s.due_workflows(now, Some(cursor), 2).await.unwrap();
    assert_eq!(rest.iter().map(|w| w.id).collect::<Vec<_>>(), vec![c.id]);
}

async fn changes_are_version_checked_and_claims_happen_once(db: TestDb) {
    let s = &db.store;
    let w = workflow(s, "A", Some(t0())).await;
    let claim = Claim {
        stage_seq: 1,
        level: 0,
        kind: ClaimKind::Remind,
        seq: 0,
    };
    let first = change(&w, Some(claim), "k1");
    assert_eq!(
        s.apply(std::slice::from_ref(&first)).await.unwrap(),
        vec![Applied::Done]
    );
    // The same decision again, from the same (now stale) version: nothing happens.
    assert_eq!(s.apply(&[first]).await.unwrap(), vec![Applied::Stale]);
    // A fresh version with the same claim: state written, side effects skipped.
    let w1 = s.workflow(w.id).await.unwrap().unwrap();
    assert_eq!(w1.version, 1);
    assert_eq!(w1.state.next_check_at, None);
    assert_eq!(
        s.apply(&[change(&w1, Some(claim), "k2")]).await.unwrap(),
        vec![Applied::AlreadyClaimed]
    );
    assert_eq!(s.workflow(w.id).await.unwrap().unwrap().version, 2);
    assert_eq!(
        s.reminders(&ReminderFilter {
            workflow_id: Some(w.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .len(),
        1
    );
    let reminds = audited(s, "remind").await;
    assert_eq!(reminds.len(), 1);
    assert_eq!(s.outbox(None, 10).await.unwrap().len(), 1);
}

async fn a_failed_batch_writes_nothing(db: TestDb) {
    let s = &db.store;
    let a = workflow(s, "A", Some(t0())).await;
    let b = workflow(s, "B", Some(t0())).await;
    let good = change(&a, None, "ka");
    let mut broken = change(&b, None, "kb");
    broken.audit[0].workflow_id = Some(999_999); // a dangling reference fails inside the transaction
    assert!(s.apply(&[good, broken]).await.is_err());
    assert_eq!(
        s.workflow(a.id).await.unwrap().unwrap().version,
        0,
        "the good change was rolled back too"
    );
    assert!(s.outbox(None, 10).await.unwrap().is_empty());
    assert!(s
        .reminders(&ReminderFilter {
            workflow_id: Some(a.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty());
}

async fn a_round_expands_its_messages_together_and_stores_notifications_once(db: TestDb) {
    let s = &db.store;
    let (a, b) = (workflow(s, "A", Some(t0())).await, workflow(s, "B", Some(t0())).await);
    s.apply(&[change(&a, None, "ka"), change(&b, None, "kb")])
        .await
        .unwrap();
    let now = t0() + TimeDelta::seconds(1);
    let parents = s.claim_outbox(now, now + TimeDelta::minutes(2), 10).await.unwrap();
    assert_eq!(parents.len(), 2);
    let child = |parent: &escalator_storage::OutboxMessage, who: &str| NewOutbox {
        dedupe_key: format!("{}:in_app:{who}", parent.dedupe_key),
        channel: Some("in_app".into()),
        recipient: Some(who.into()),
        kind: parent.kind,
        topic: parent.topic.clone(),
        payload: parent.payload.clone().try_into().unwrap(),
        not_before: None,
    };
    let routed: Vec<(&escalator_storage::OutboxMessage, Vec<NewOutbox>)> = parents
        .iter()
        .map(|p| (p, vec![child(p, "x@x.io"), child(p, "y@x.io")]))
        .collect();
    s.expand_outbox(&routed, now).await.unwrap();
    // Routed again (a worker that crashed before its mark): the children are not doubled.
    s.expand_outbox(&routed, now).await.unwrap();
    let delivered = s.outbox(Some(OutboxStatus::Delivered), 10).await.unwrap();
    assert_eq!(
        delivered.iter().map(|m| m.id).collect::<Vec<_>>(),
        parents.iter().map(|m| m.id).collect::<Vec<_>>()
    );
    let children = s.claim_outbox(now, now + TimeDelta::minutes(2), 10).await.unwrap();
    assert_eq!(children.len(), 4);
    assert!(children.iter().all(|m| m.channel.as_deref() == Some("in_app")));
    assert_eq!(
        children.iter().filter(|m| m.workflow_id == Some(a.id)).count(),
        2,
        "each child belongs to its parent's workflow"
    );
    let note = |m: &escalator_storage::OutboxMessage| NewNotification {
        user: m.recipient.clone().unwrap(),
        outbox_id: m.id,
        workflow_id: m.workflow_id,
        topic: m.topic.clone(),
        title: format!("title {}", m.id),
        body: "body".into(),
        at: now,
    };
    let notes: Vec<NewNotification> = children.iter().map(note).collect();
    s.insert_notifications(&notes).await.unwrap();
    // Once per outbox row: delivering the same rows again stores nothing more.
    s.insert_notifications(&notes[..2]).await.unwrap();
    s.insert_notifications(&[]).await.unwrap();
    let x = s.notifications("x@x.io", false, None, 10).await.unwrap();
    let y = s.notifications("y@x.io", false, None, 10).await.unwrap();
    assert_eq!((x.len(), y.len()), (2, 2));
    assert!(x.iter().all(|n| n.title.starts_with("title ")));
}

async fn outbox_rows_are_claimed_once_retried_and_dead_lettered(db: TestDb) {
    let s = &db.store;
    let w = workflow(s, "A", Some(t0())).await;
    let mut c = change(&w, None, "k1");
    c.outbox.push(NewOutbox {
        dedupe_key: "k2".into(),
        kind: OutboxKind::Event,
        ..c.outbox[0].clone()
    });
    c.outbox.push(NewOutbox {
        dedupe_key: "k1".into(),
        ..c.outbox[0].clone()
    }); // duplicate key: ignored
    s.apply(&[c]).await.unwrap();
    let now = t0() + TimeDelta::seconds(1);
    let claimed = s.claim_outbox(now, now + TimeDelta::minutes(2), 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|m| m.attempts == 1));
    // Hidden while claimed.
    assert!(s
        .claim_outbox(now, now + TimeDelta::minutes(2), 10)
        .await
        .unwrap()
        .is_empty());
    s.outbox_delivered(&[claimed[0].id], now).await.unwrap();
    s.outbox_failed(claimed[1].id, "smtp down", Some(now + TimeDelta::seconds(10)))
        .await
        .unwrap();
    assert!(s
        .claim_outbox(now + TimeDelta::seconds(5), now + TimeDelta::minutes(2), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.next_outbox_attempt().await.unwrap(),
        Some(now + TimeDelta::seconds(10))
    );
    let again = s
        .claim_outbox(now + TimeDelta::seconds(10), now + TimeDelta::minutes(3), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].last_error.as_deref(), Some("smtp down"));
    s.outbox_failed(again[0].id, "still down", None).await.unwrap();
    let dead = s.outbox(Some(OutboxStatus::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("still down"));
    let delivered = s.outbox(Some(OutboxStatus::Delivered), 10).await.unwrap();
    assert_eq!(delivered.len(), 1);
    assert!(delivered[0].delivered_at.is_some());
    // A crashed worker's claim expires and the row comes back.
    let w2 = workflow(s, "B", Some(t0())).await;
    s.apply(&[change(&w2, None, "k3")]).await.unwrap();
    let lost = s.claim_outbox(now, now + TimeDelta::seconds(30), 10).await.unwrap();
    assert_eq!(lost.len(), 1);
    let back = s
        .claim_outbox(now + TimeDelta::seconds(30), now + TimeDelta::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(back.iter().map(|m| m.id).collect::<Vec<_>>(), vec![lost[0].id]);
}

/// Another process's view of the same database: its own pool (and, on PostgreSQL, its own
/// lock sessions).
async fn second_process(db: &TestDb) -> Arc<dyn Store> {
    escalator_storage::connect(&db.url).await.unwrap()
}

async fn locks_are_exclusive_and_die_with_their_holder(db: TestDb) {
    let s = &db.store;
    let other = second_process(&db).await;
    let ttl = Duration::from_millis(300);
    let a = s
        .try_lock("tick", "a", ttl)
        .await
        .unwrap()
        .expect("a free lock is taken");
    assert!(other.try_lock("tick", "b", ttl).await.unwrap().is_none(), "held by a");
    assert!(
        s.try_lock("tick", "c", ttl).await.unwrap().is_none(),
        "held, also for another caller of the same process"
    );
    let per_name = other.try_lock("other", "b", ttl).await.unwrap();
    assert!(per_name.is_some(), "locks are per name");
    per_name.unwrap().release().await;
    a.release().await;
    let mut b = other
        .try_lock("tick", "b", ttl)
        .await
        .unwrap()
        .expect("released locks are free");
    // Held for longer than its time to live: the heartbeat renews it.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(b.still_held().await);
    assert!(
        s.try_lock("tick", "a", ttl).await.unwrap().is_none(),
        "renewed while held"
    );
    // The holder dies without releasing: PostgreSQL frees the lock with its session at
    // once, SQLite's lease runs out after its time to live.
    drop(b);
    drop(other);
    let freed = match s.backend() {
        // The dropped connection closes in the background; the server frees the lock as
        // soon as it sees the session end — within moments, never a time to live.
        Backend::Postgres => {
            let mut freed = None;
            for _ in 0..40 {
                freed = s.try_lock("tick", "a", ttl).await.unwrap();
                if freed.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            freed
        }
        Backend::Sqlite => {
            assert!(
                s.try_lock("tick", "a", ttl).await.unwrap().is_none(),
                "within its time to live"
            );
            tokio::time::sleep(Duration::from_millis(350)).await;
            s.try_lock("tick", "a", ttl).await.unwrap()
        }
    };
    let mut a = freed.expect("a dead holder's lock is free again");
    // Losing the lock is noticed: the session is killed, or the lease taken over.
    match (s.backend(), s.pool()) {
        (Backend::Postgres, DbPool::Postgres(pool)) => {
            let killed: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            )
            .bind(escalator_storage::lock_application_name("tick"))
            .fetch_all(&pool)
            .await
            .unwrap();
            assert_eq!(
                killed,
                vec![true],
                "one session holds the lock, named after its process"
            );
        }
        (Backend::Sqlite, DbPool::Sqlite(pool)) => {
            sqlx::query("UPDATE leases SET holder = 'z' WHERE name = 'tick'")
                .execute(&pool)
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        _ => unreachable!("a store's pool is of its backend"),
    }
    assert!(!a.still_held().await, "a lost lock is reported");
    a.release().await;
}

/// Inserts `n` outbox rows of one status through one statement (bound times, so both
/// backends store them in their own format).
async fn bulk_outbox(store: &Arc<dyn Store>, n: i64, status: &str, prefix: &str, at: DateTime<Utc>) {
    let sql = "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < $1) \
               INSERT INTO outbox (created_at, kind, topic, payload, dedupe_key, status, attempts, next_attempt_at, channel) \
               SELECT $2, 'event', 'workflow.escalated', '{}', $3 || x, $4, 0, $2, 'log' FROM s";
    match store.pool() {
        DbPool::Postgres(pool) => {
            sqlx::query(sql)
                .bind(n)
                .bind(at)
                .bind(prefix)
                .bind(status)
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query("ANALYZE outbox").execute(&pool).await.unwrap();
        }
        DbPool::Sqlite(pool) => {
            sqlx::query(sql)
                .bind(n)
                .bind(at)
                .bind(prefix)
                .bind(status)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}

async fn a_claim_takes_exactly_its_rows_whatever_the_backlog(db: TestDb) {
    let s = &db.store;
    let now = t0();
    // A healthy outbox: almost everything delivered, and the statistics say so.
    bulk_outbox(s, 100_000, "delivered", "old:", now - TimeDelta::hours(1)).await;
    if let DbPool::Sqlite(pool) = s.pool() {
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    }
    // Then a burst: a backlog the statistics have not seen.
    bulk_outbox(s, 20_000, "pending", "burst:", now - TimeDelta::minutes(1)).await;
    let claimed = s.claim_outbox(now, now + TimeDelta::seconds(15), 500).await.unwrap();
    assert_eq!(claimed.len(), 500);
    let touched: i64 = match s.pool() {
        DbPool::Postgres(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE attempts > 0")
            .fetch_one(&pool)
            .await
            .unwrap(),
        DbPool::Sqlite(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE attempts > 0")
            .fetch_one(&pool)
            .await
            .unwrap(),
    };
    assert_eq!(touched, 500, "a claim touches only the rows it returns");
    // In order: the oldest rows first.
    let first: Vec<i64> = claimed.iter().map(|m| m.id).collect();
    assert!(first.windows(2).all(|w| w[0] < w[1]));
    if let DbPool::Postgres(pool) = s.pool() {
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "EXPLAIN {}",
            escalator_storage::testing::claim_outbox_sql(Backend::Postgres)
        )))
        .bind(now)
        .bind(now)
        .bind(500_i64)
        .fetch_all(&pool)
        .await
        .unwrap();
        let plan = plan.join("\n");
        assert!(
            !plan.contains("SubPlan") && !plan.contains("Semi Join"),
            "the locking sub-select must run once, not per row:\n{plan}"
        );
        assert!(plan.contains("CTE Scan on claimed"), "{plan}");
    }
    // The rest is claimed batch after batch, each row once.
    let mut seen: std::collections::HashSet<i64> = first.into_iter().collect();
    loop {
        let batch = s.claim_outbox(now, now + TimeDelta::seconds(15), 5_000).await.unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 5_000);
        for m in batch {
            assert!(seen.insert(m.id), "row {} claimed twice", m.id);
        }
    }
    assert_eq!(seen.len(), 20_000);
}

async fn claims_are_extended_and_handed_back(db: TestDb) {
    let s = &db.store;
    let now = t0();
    bulk_outbox(s, 3, "pending", "k:", now).await;
    let claimed = s.claim_outbox(now, now + TimeDelta::seconds(15), 10).await.unwrap();
    let ids: Vec<i64> = claimed.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 3);
    // Still being delivered: hidden past the first lease.
    s.extend_outbox_claim(&ids[..2], now + TimeDelta::seconds(30))
        .await
        .unwrap();
    let later = s
        .claim_outbox(now + TimeDelta::seconds(20), now + TimeDelta::seconds(40), 10)
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[2]],
        "only the unextended row"
    );
    // A worker stopping hands its rows back at once, the attempt not counted.
    s.release_outbox_claim(&ids[..2], now + TimeDelta::seconds(21))
        .await
        .unwrap();
    let back = s
        .claim_outbox(now + TimeDelta::seconds(21), now + TimeDelta::seconds(40), 10)
        .await
        .unwrap();
    assert_eq!(back.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..2].to_vec());
    assert!(back.iter().all(|m| m.attempts == 1), "{back:?}");
    // Extending or releasing a delivered row changes nothing.
    s.outbox_delivered(&[ids[0]], now).await.unwrap();
    s.release_outbox_claim(&[ids[0]], now).await.unwrap();
    s.extend_outbox_claim(&[ids[0]], now + TimeDelta::hours(1))
        .await
        .unwrap();
    let row = s.outbox(Some(OutboxStatus::Delivered), 10).await.unwrap();
    assert_eq!((row.len(), row[0].attempts), (1, 1));
}

async fn the_audit_log_is_append_only_and_filterable(db: TestDb) {
    let s = &db.store;
    // One instant for the whole case: `t0()` moves when a second boundary passes.
    let start = t0();
    let w = workflow(s, "A", None).await;
    for (i, action) in ["remind", "escalate", "remind"].iter().enumerate() {
        let entry = NewAudit {
            workflow_id: Some(w.id),
            actor: if i == 1 { "system".into() } else { "ann@x.io".into() },
            ..audit(action, start + TimeDelta::minutes(i as i64 + 1))
        };
        s.append_audit(&entry).await.unwrap();
    }
    let f = |f: AuditFilter| async move { s.audit_entries(&AuditFilter { limit: 100, ..f }).await.unwrap() };
    assert_eq!(
        f(AuditFilter {
            action: Some("remind".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        f(AuditFilter {
            actor: Some("system".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    let window = f(AuditFilter {
        from: Some(start + TimeDelta::minutes(2)),
        to: Some(start + TimeDelta::minutes(3)),
        ..Default::default()
    })
    .await;
    assert_eq!(
        window.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["escalate"]
    );
    let all = f(AuditFilter {
        workflow_id: Some(w.id),
        ..Default::default()
    })
    .await;
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].details, json!({"k": "v"}));
    let page = s
        .audit_entries(&AuditFilter {
            limit: 2,
            before_id: Some(all[1].id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![all[2].id, all[3].id]
    );

    let (update, delete) = ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log");
    match s.pool() {
        DbPool::Sqlite(pool) => {
            assert!(sqlx::query(update).execute(&pool).await.is_err());
            assert!(sqlx::query(delete).execute(&pool).await.is_err());
        }
        DbPool::Postgres(pool) => {
            assert!(sqlx::query(update).execute(&pool).await.is_err());
            assert!(sqlx::query(delete).execute(&pool).await.is_err());
        }
    }
    assert_eq!(f(AuditFilter::default()).await.len(), 4);
    assert!(f(AuditFilter {
        action: Some("forged".into()),
        ..Default::default()
    })
    .await
    .is_empty());
}

async fn stats_count_open_workflows_by_sla_status(db: TestDb) {
    let s = &db.store;
    // Seeded workflows start 2 h ago with a 1 h deadline: breached.
    let a = workflow(s, "A", None).await;
    workflow(s, "B", None).await;
    let mut held = change(&a, None, "k");
    held.state.status = WorkflowStatus::OnHold;
    s.apply(&[held]).await.unwrap();
    let stats = s.stats(t0()).await.unwrap();
    let mut open = stats.open_by_sla_status.clone();
    open.sort();
    assert_eq!(open, vec![("breached".to_string(), 1), ("paused".to_string(), 1)]);
    assert_eq!(stats.oldest_breach_due_at, Some(t0() - TimeDelta::hours(1)));
    assert_eq!(
        stats.outbox,
        vec![("notification".to_string(), "pending".to_string(), 1)]
    );
    assert_eq!(s.backend() == Backend::Sqlite, matches!(s.pool(), DbPool::Sqlite(_)));
}

async fn open_workflows_page_by_deadline_with_counts(db: TestDb) {
    let s = &db.store;
    let now = t0();
    // Five workflows whose deadlines are out of id order: 3 h, 1 h, 5 h, 2 h ahead and one passed.
    let mut ids_by_due = Vec::new();
    for (i, hours) in [3, 1, 5, 2, -1].into_iter().enumerate() {
        let w = workflow(s, &format!("D{i}"), None).await;
        let mut moved = change(&w, None, &format!("d{i}"));
        moved.reminder = None;
        moved.audit.clear();
        moved.outbox.clear();
        moved.state.due_at = now + TimeDelta::hours(hours);
        moved.state.warn_at = now + TimeDelta::hours(hours) - TimeDelta::minutes(90);
        assert_eq!(s.apply(&[moved]).await.unwrap(), vec![Applied::Done]);
        ids_by_due.push((hours, w.id));
    }
    ids_by_due.sort();
    let expected: Vec<i64> = ids_by_due.iter().map(|(_, id)| *id).collect();

    // Paging two at a time through the (due_at, id) cursor visits them in deadline order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .workflows(&WorkflowFilter {
                open_only: true,
                order: WorkflowOrder::DueSoonest,
                after_due: after,
                limit: 2,
                ..Default::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().map(|w| (w.state.due_at, w.id));
        seen.extend(page.iter().map(|w| w.id));
    }
    assert_eq!(seen, expected);

    // Counts per SLA status: one breached, one warning (1 h left, warned 30 min ago), three ok.
    let mut counts = s.sla_counts(&WorkflowFilter::default(), now).await.unwrap();
    counts.sort();
    assert_eq!(
        counts,
        vec![
            ("breached".to_string(), 1),
            ("ok".to_string(), 3),
            ("warning".to_string(), 1)
        ]
    );
    let other = WorkflowFilter {
        department: Some("elsewhere".into()),
        ..Default::default()
    };
    assert!(s.sla_counts(&other, now).await.unwrap().is_empty());
}

async fn sessions_round_trip_and_expire(db: TestDb) {
    let s = &db.store;
    let now = t0();
    let live = SessionRecord {
        id: "live".into(),
        data: r#"{"user":"ann@x.io"}"#.into(),
        expires_at: now + TimeDelta::minutes(30),
    };
    assert!(s.create_session(&live).await.unwrap());
    assert!(!s.create_session(&live).await.unwrap(), "ids are unique");
    assert_eq!(s.load_session("live", now).await.unwrap(), Some(live.clone()));

    let later = SessionRecord {
        data: r#"{"user":"bob@x.io"}"#.into(),
        expires_at: now + TimeDelta::hours(1),
        ..live.clone()
    };
    s.save_session(&later).await.unwrap();
    assert_eq!(s.load_session("live", now).await.unwrap(), Some(later));

    let stale = SessionRecord {
        id: "stale".into(),
        data: "{}".into(),
        expires_at: now - TimeDelta::seconds(1),
    };
    s.save_session(&stale).await.unwrap();
    assert_eq!(
        s.load_session("stale", now).await.unwrap(),
        None,
        "an expired session never loads"
    );
    assert_eq!(s.delete_expired_sessions(now).await.unwrap(), 1);
    s.delete_session("live").await.unwrap();
    assert_eq!(s.load_session("live", now).await.unwrap(), None);
}

async fn phones_and_preferences_round_trip(db: TestDb) {
    let s = &db.store;
    seed(s).await;
    let mut ann = s.user("ann@x.io").await.unwrap().unwrap();
    assert_eq!(ann.phone, None);
    ann.phone = Some(Phone::parse("+4915112345678").unwrap());
    s.upsert_user(&ann, t0()).await.unwrap();
    assert_eq!(s.user("ann@x.io").await.unwrap().unwrap(), ann);

    assert_eq!(
        s.notification_preferences("ann@x.io").await.unwrap(),
        Some(NotificationPreferences::default()),
        "defaults until set"
    );
    assert_eq!(s.notification_preferences("ghost@x.io").await.unwrap(), None);
    let prefs = NotificationPreferences {
        channels: [(NotificationKind::Reminder, vec![PersonalChannel::InApp])].into(),
        time_zone: Some("Europe/Berlin".into()),
        quiet_hours: Some(QuietHours::parse("22:00", "07:00").unwrap()),
    };
    assert!(s.set_notification_preferences("ann@x.io", &prefs, t0()).await.unwrap());
    assert!(!s
        .set_notification_preferences("ghost@x.io", &prefs, t0())
        .await
        .unwrap());
    assert_eq!(
        s.notification_preferences("ann@x.io").await.unwrap(),
        Some(prefs.clone())
    );
    // A directory sync (upsert) keeps them.
    s.upsert_user(&ann, t0()).await.unwrap();
    assert_eq!(
        s.notification_preferences("ann@x.io").await.unwrap(),
        Some(prefs.clone())
    );
    // Contacts of the known users among some addresses, for routing.
    let contacts = s
        .contacts(&["ann@x.io".into(), "head@x.io".into(), "ghost@x.io".into()])
        .await
        .unwrap();
    assert_eq!(contacts.len(), 2);
    assert_eq!(
        (contacts[0].email.as_str(), contacts[0].phone.as_ref()),
        ("ann@x.io", ann.phone.as_ref())
    );
    assert_eq!(contacts[0].preferences, prefs);
    assert_eq!(contacts[1].email, "head@x.io");
    assert_eq!(
        (contacts[1].phone.as_ref(), &contacts[1].preferences),
        (None, &NotificationPreferences::default())
    );

    // Policies keep their repeat interval, in versions too.
    let p = SlaPolicy::new("repeating", 3600, WarningWindow::BeforeDeadline { seconds: 600 })
        .unwrap()
        .with_reminder_repeat(Some(300))
        .unwrap();
    let created = s.create_policy(&p, None, t0()).await.unwrap();
    assert_eq!(created.policy.reminder_repeat_seconds, Some(300));
    let once = p.clone().with_reminder_repeat(None).unwrap();
    let updated = s.update_policy(created.id, &once, None, t0()).await.unwrap().unwrap();
    assert_eq!(updated.policy.reminder_repeat_seconds, None);
    let versions: Vec<_> = s
        .policy_versions()
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.policy_id == created.id)
        .map(|v| (v.version, v.policy.reminder_repeat_seconds))
        .collect();
    assert_eq!(versions, vec![(1, Some(300)), (2, None)]);
}

async fn reminder_repeats_have_their_own_claims_and_stop_once_acknowledged(db: TestDb) {
    let s = &db.store;
    let w = workflow(s, "R", Some(t0())).await;
    let base = t0();
    let claim = |seq| Claim {
        stage_seq: 1,
        level: 0,
        kind: ClaimKind::Remind,
        seq,
    };
    let repeat = |w: &WorkflowRecord, seq: u32, key: &str| {
        let mut c = change(w, Some(claim(seq)), key);
        if let Some(r) = c.reminder.as_mut() {
            r.repeat = seq;
        }
        c.now = base + TimeDelta::minutes(i64::from(seq));
        c
    };
    assert_eq!(s.apply(&[repeat(&w, 0, "r0")]).await.unwrap(), vec![Applied::Done]);
    let w = s.workflow(w.id).await.unwrap().unwrap();
    assert_eq!(s.apply(&[repeat(&w, 1, "r1")]).await.unwrap(), vec![Applied::Done]);
    let w = s.workflow(w.id).await.unwrap().unwrap();
    // The same repeat twice: once only.
    assert_eq!(
        s.apply(&[repeat(&w, 1, "r1-again")]).await.unwrap(),
        vec![Applied::AlreadyClaimed]
    );
    let reminders = s
        .reminders(&ReminderFilter {
            workflow_id: Some(w.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].sent_count, 2);
    assert_eq!(reminders[0].last_sent_at, base + TimeDelta::minutes(1));
    assert_eq!(s.reminders_of(&[w.id, 999]).await.unwrap(), reminders);

    // Acknowledged: a repeat decided before the acknowledgement writes its state only.
    s.acknowledge_reminder(reminders[0].id, "ann@x.io", &audit("reminder_acknowledged", t0()))
        .await
        .unwrap();
    let w = s.workflow(w.id).await.unwrap().unwrap();
    assert_eq!(
        s.apply(&[repeat(&w, 2, "r2")]).await.unwrap(),
        vec![Applied::AlreadyClaimed]
    );
    assert_eq!(s.reminder(reminders[0].id).await.unwrap().unwrap().sent_count, 2);
    let keys: Vec<String> = s
        .outbox(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.dedupe_key)
        .collect();
    assert_eq!(keys, vec!["r0", "r1"]);
}

async fn digests_take_rows_out_of_the_queue_and_deliver_them_together(db: TestDb) {
    let s = &db.store;
    let w = workflow(s, "D", Some(t0())).await;
    let base = t0();
    let mut c = change(&w, None, "parent");
    c.outbox.clear();
    for i in 0..3 {
        c.outbox.push(NewOutbox {
            kind: OutboxKind::Notification,
            topic: "workflow.reminder".into(),
            payload: json!({"to": ["ann@x.io"], "i": i}).try_into().unwrap(),
            dedupe_key: format!("mail-{i}"),
            channel: Some("email".into()),
            recipient: Some("ann@x.io".into()),
            not_before: None,
        });
    }
    // Held until later (quiet hours): not claimable before.
    c.outbox.push(NewOutbox {
        dedupe_key: "later".into(),
        not_before: Some(base + TimeDelta::hours(8)),
        ..c.outbox[0].clone()
    });
    s.apply(&[c]).await.unwrap();
    let now = base + TimeDelta::seconds(1);
    let claimed = s.claim_outbox(now, now + TimeDelta::minutes(2), 10).await.unwrap();
    assert_eq!(claimed.len(), 3, "the held row waits");
    let later = s.outbox(Some(OutboxStatus::Pending), 10).await.unwrap();
    assert_eq!(
        later.iter().find(|m| m.dedupe_key == "later").unwrap().next_attempt_at,
        base + TimeDelta::hours(8)
    );

    // One is sent; two go into a digest sent a minute later.
    s.outbox_delivered(&[claimed[0].id], now).await.unwrap();
    assert_eq!(s.emails_sent_since("ann@x.io", base).await.unwrap(), 1);
    assert_eq!(s.emails_sent_since("bob@x.io", base).await.unwrap(), 0);
    let digest = NewOutbox {
        kind: OutboxKind::Notification,
        topic: "workflow.digest".into(),
        payload: json!({"template": "digest", "to": ["ann@x.io"]}).try_into().unwrap(),
        dedupe_key: "digest:ann".into(),
        channel: Some("email".into()),
        recipient: Some("ann@x.io".into()),
        not_before: Some(now + TimeDelta::minutes(1)),
    };
    let held = [claimed[1].id, claimed[2].id];
    let d = s.hold_for_digest(&held[..1], &digest, now).await.unwrap();
    // A second hold joins the same pending digest.
    assert_eq!(s.hold_for_digest(&held[1..], &digest, now).await.unwrap(), d);
    let members = s.digest_members(d).await.unwrap();
    assert_eq!(members.iter().map(|m| m.id).collect::<Vec<_>>(), held);
    assert!(members.iter().all(|m| m.attempts == 0), "holding is not an attempt");
    // Members are never claimed on their own; the digest only when it is due.
    let soon = now + TimeDelta::seconds(30);
    assert!(s.claim_outbox(soon, soon, 10).await.unwrap().is_empty());
    let due = now + TimeDelta::minutes(2);
    let claimed = s.claim_outbox(due, due + TimeDelta::minutes(2), 10).await.unwrap();
    assert_eq!(claimed.iter().map(|m| m.id).collect::<Vec<_>>(), vec![d]);

    s.digest_delivered(d, &held, due).await.unwrap();
    let all = s.outbox(None, 10).await.unwrap();
    for m in all.iter().filter(|m| held.contains(&m.id) || m.id == d) {
        assert_eq!(m.status, OutboxStatus::Delivered, "{m:?}");
    }
    assert!(all
        .iter()
        .filter(|m| held.contains(&m.id))
        .all(|m| m.digest_id == Some(d)));
    // The digest counts as one e-mail; the rows it carried do not.
    assert_eq!(s.emails_sent_since("ann@x.io", base).await.unwrap(), 2);
}

/// A tick's batch (several workflows, first reminders) goes through the multi-row path;
/// its outcomes and side effects must be those of the one-by-one path.
async fn a_batch_applies_like_one_by_one_and_claims_once(db: TestDb) {
    let s = &db.store;
    let claim = Claim {
        stage_seq: 1,
        level: 0,
        kind: ClaimKind::Remind,
        seq: 0,
    };
    let a = workflow(s, "A", Some(t0())).await;
    let b = workflow(s, "B", Some(t0())).await;
    let c = workflow(s, "C", Some(t0())).await;
    // A is claimed already (by "another replica"); C will be stale.
    assert_eq!(
        s.apply(&[change(&a, Some(claim), "a0")]).await.unwrap(),
        vec![Applied::Done]
    );
    let a1 = s.workflow(a.id).await.unwrap().unwrap();
    let mut stale = change(&c, Some(claim), "c1");
    stale.expected_version += 7;
    let batch = [change(&a1, Some(claim), "a1"), change(&b, Some(claim), "b1"), stale];
    assert_eq!(
        s.apply(&batch).await.unwrap(),
        vec![Applied::AlreadyClaimed, Applied::Done, Applied::Stale]
    );
    // Side effects only for the applied one: B's reminder (sent once), audit entry, outbox row.
    let reminders = s
        .reminders(&ReminderFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut by_workflow: Vec<i64> = reminders.iter().map(|r| r.workflow_id).collect();
    by_workflow.sort();
    assert_eq!(by_workflow, vec![a.id, b.id]);
    let b_reminder = reminders.iter().find(|r| r.workflow_id == b.id).unwrap();
    assert_eq!(b_reminder.sent_count, 1);
    assert_eq!(b_reminder.last_sent_at, t0());
    let reminds = audited(s, "remind").await;
    let mut audited: Vec<Option<i64>> = reminds.iter().map(|e| e.workflow_id).collect();
    audited.sort();
    assert_eq!(audited, vec![Some(a.id), Some(b.id)]);
    let keys: Vec<String> = s
        .outbox(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.dedupe_key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(
        keys.contains(&"a0".to_string()) && keys.contains(&"b1".to_string()),
        "{keys:?}"
    );
    // State: written for the claimed and the applied one, not for the stale one.
    assert_eq!(s.workflow(a.id).await.unwrap().unwrap().version, 2);
    assert_eq!(s.workflow(b.id).await.unwrap().unwrap().version, 1);
    assert_eq!(s.workflow(c.id).await.unwrap().unwrap().version, 0);
}

contract!(a_link_acts_once_and_the_shared_secret_is_the_first_one);

async fn a_link_acts_once_and_the_shared_secret_is_the_first_one(db: TestDb) {
    let s = &db.store;
    let now = t0();
    assert_eq!(s.server_secret("links", "first", now).await.unwrap(), "first");
    assert_eq!(
        s.server_secret("links", "second", now).await.unwrap(),
        "first",
        "a second replica gets the stored one"
    );

    let w = workflow(s, "L-1", None).await;
    let first = escalator_storage::LinkUse {
        token_hash: "h1".into(),
        workflow_id: w.id,
        recipient: "dana@x.io".into(),
        action: "complete".into(),
        used_at: now,
        outcome: None,
    };
    assert_eq!(s.claim_link_use(&first).await.unwrap(), None, "claimed");
    assert_eq!(
        s.claim_link_use(&first).await.unwrap(),
        Some(first.clone()),
        "taken, still running"
    );
    // A failed action frees the link; a finished one keeps it (and release leaves it).
    s.release_link_use("h1").await.unwrap();
    assert_eq!(s.link_use("h1").await.unwrap(), None);
    assert_eq!(s.claim_link_use(&first).await.unwrap(), None);
    s.finish_link_use("h1", "Approved.").await.unwrap();
    s.release_link_use("h1").await.unwrap();
    let used = s.claim_link_use(&first).await.unwrap().unwrap();
    assert_eq!(used.outcome.as_deref(), Some("Approved."));
}

contract!(sla_outcomes_are_written_once_with_their_stage_and_add_up);

/// A change that ends `w`'s stage at `ended` with the given outcome (the engine judges it;
/// the store only writes it).
fn ending(w: &WorkflowRecord, end: StageEnd, outcome: Outcome, ended: DateTime<Utc>) -> WorkflowChange {
    let mut state = w.state.clone();
    state.status = if end == StageEnd::Cancelled {
        WorkflowStatus::Cancelled
    } else {
        WorkflowStatus::Completed
    };
    state.next_check_at = None;
    state.closed_at = Some(ended);
    let used = (ended - w.state.stage_started_at).num_seconds();
    WorkflowChange {
        workflow_id: w.id,
        expected_version: w.version,
        state,
        claim: None,
        reminder: None,
        hold: None,
        audit: vec![NewAudit {
            workflow_id: Some(w.id),
            ..audit(end.as_str(), ended)
        }],
        outbox: Vec::new(),
        outcome: Some(NewOutcome {
            workflow_id: w.id,
            stage_seq: w.state.stage_seq,
            stage: w.state.stage.clone(),
            department: w.department.clone(),
            workflow_type: w.workflow_type.clone(),
            policy_id: w.state.policy_id,
            policy_version: w.state.policy_version,
            assignee: w.state.assignee.clone(),
            decided_by: "head@x.io".into(),
            ended_by: end,
            outcome,
            level: w.state.level,
            target_seconds: 3600,
            used_seconds: used,
            over_seconds: (used - 3600).max(0),
            held_seconds: 0,
            started_at: w.state.stage_started_at,
            ended_at: ended,
        }),
        now: ended,
    }
}

async fn sla_outcomes_are_written_once_with_their_stage_and_add_up(db: TestDb) {
    let s = &db.store;
    // Four workflows started two hours before t0 with a one-hour target.
    let late = workflow(s, "O-late", Some(t0())).await;
    let quick = workflow(s, "O-quick", None).await;
    let dropped = workflow(s, "O-dropped", None).await;
    let open = workflow(s, "O-open", None).await;

    // The late one was reminded and escalated in its stage: the outcome counts both.
    for kind in [ClaimKind::Remind, ClaimKind::Escalate] {
        let w = s.workflow(late.id).await.unwrap().unwrap();
        let mut c = change(
            &w,
            Some(Claim {
                stage_seq: 1,
                level: 0,
                kind,
                seq: 0,
            }),
            &format!("o-{kind:?}"),
        );
        c.reminder = None;
        assert_eq!(s.apply(&[c]).await.unwrap(), vec![Applied::Done]);
    }
    let late = s.workflow(late.id).await.unwrap().unwrap();
    let ends = [
        ending(
            &late,
            StageEnd::Completed,
            Outcome::Breached,
            t0() + TimeDelta::hours(1),
        ),
        ending(&quick, StageEnd::Advanced, Outcome::Met, t0() - TimeDelta::hours(1)),
        ending(
            &dropped,
            StageEnd::Cancelled,
            Outcome::Met,
            t0() - TimeDelta::minutes(90),
        ),
    ];
    assert_eq!(s.apply(&ends).await.unwrap(), vec![Applied::Done; 3]);
    let recorded = s.workflow_outcomes(late.id).await.unwrap();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let o = &recorded[0];
    assert_eq!((o.reminders, o.escalations), (1, 1), "counted in the same transaction");
    assert_eq!(
        (o.outcome, o.ended_by, o.source.as_str()),
        (Outcome::Breached, StageEnd::Completed, "live")
    );
    assert_eq!((o.duration_seconds, o.over_seconds), (3 * 3600, 2 * 3600));
    assert_eq!(o.ended_at, t0() + TimeDelta::hours(1));

    // A second outcome for a stage that has one is refused, and the whole change with it.
    let again = s.workflow(quick.id).await.unwrap().unwrap();
    let mut twice = ending(&again, StageEnd::Completed, Outcome::Met, t0());
    twice.outcome.as_mut().unwrap().stage_seq = quick.state.stage_seq;
    assert!(s.apply(std::slice::from_ref(&twice)).await.is_err());
    assert_eq!(s.workflow(quick.id).await.unwrap().unwrap().version, again.version);
    assert_eq!(s.workflow_outcomes(quick.id).await.unwrap().len(), 1);

    // Aggregates: decisions met and breached, cancellations apart.
    let all = OutcomeFilter::default();
    let days = s.outcomes_by_day(&all).await.unwrap();
    let total = days.iter().fold(OutcomeCounts::default(), |mut t, d| {
        t.met += d.counts.met;
        t.breached += d.counts.breached;
        t.cancelled += d.counts.cancelled;
        t.escalations += d.counts.escalations;
        t.reminders += d.counts.reminders;
        t
    });
    assert_eq!((total.met, total.breached, total.cancelled), (1, 1, 1), "{days:?}");
    assert_eq!((total.escalations, total.reminders), (1, 1));
    assert!(days.iter().any(|d| d.day == (t0() + TimeDelta::hours(1)).date_naive()));
    let grouped = s.breakdowns(&all, 10).await.unwrap();
    assert_eq!(grouped.iter().map(|(by, _)| *by).collect::<Vec<_>>(), Dimension::ALL);
    let by = |by: Dimension| grouped.iter().find(|(d, _)| *d == by).map(|(_, g)| g.clone()).unwrap();
    let by_policy = by(Dimension::Policy);
    assert_eq!(by_policy.len(), 1);
    assert_eq!(by_policy[0].key, late.state.policy_id.to_string());
    let by_assignee = by(Dimension::Assignee);
    assert_eq!(by_assignee[0].key, "ann@x.io");
    // Most breaches first, and no more groups than asked for.
    let stages = by(Dimension::Stage);
    assert!(
        stages.windows(2).all(|w| w[0].counts.breached >= w[1].counts.breached),
        "{stages:?}"
    );
    let first = s.breakdowns(&all, 1).await.unwrap();
    assert!(first.iter().all(|(_, g)| g.len() <= 1), "{first:?}");
    assert_eq!(first[0].1, grouped[0].1[..1]);
    assert_eq!(by_assignee[0].counts.over_seconds, 2 * 3600);
    // Time to decision: 1 h (advanced) and 3 h (completed), nearest rank, each told by
    // the bound of its bucket (up to 1 h, up to 4 h).
    assert_eq!(
        s.decision_quantiles(&all, &[0.5, 0.9]).await.unwrap(),
        (2, vec![3600, 4 * 3600])
    );
    // The daily sums kept with each outcome are what a rebuild from the outcomes gives.
    assert!(s.rebuild_outcome_days().await.unwrap() >= 1);
    assert_eq!(s.breakdowns(&all, 10).await.unwrap(), grouped);
    assert_eq!(s.outcomes_by_day(&all).await.unwrap(), days);
    let other = OutcomeFilter {
        department: Some("hr".into()),
        ..OutcomeFilter::default()
    };
    assert!(s.outcomes_by_day(&other).await.unwrap().is_empty());
    assert_eq!(s.decision_quantiles(&other, &[0.5]).await.unwrap(), (0, vec![]));
    let earlier = OutcomeFilter {
        to: Some(t0()),
        ..OutcomeFilter::default()
    };
    assert_eq!(s.outcomes(&earlier, 10).await.unwrap().len(), 2, "ended before t0");

    // A backfill skips stages that have an outcome and marks what it adds.
    let rebuilt = ending(&open, StageEnd::Completed, Outcome::Met, t0()).outcome.unwrap();
    let existing = ending(&late, StageEnd::Completed, Outcome::Met, t0()).outcome.unwrap();
    assert_eq!(s.backfill_outcomes(&[existing, rebuilt.clone()]).await.unwrap(), 1);
    assert_eq!(s.backfill_outcomes(std::slice::from_ref(&rebuilt)).await.unwrap(), 0);
    assert_eq!(s.workflow_outcomes(open.id).await.unwrap()[0].source, "backfill");
    assert_eq!(
        s.workflow_outcomes(late.id).await.unwrap()[0].outcome,
        Outcome::Breached,
        "kept"
    );

    // The open one is in the backlog: its stage is two hours old and past its deadline.
    let backlog = s.backlog(&all, &[3600, 86_400], t0()).await.unwrap();
    assert_eq!(backlog, vec![(1, SlaStatus::Breached, 1)]);
}

async fn every_change_to_rules_or_directory_moves_the_generation(db: TestDb) {
    let store = &db.store;
    let (policy_id, chain_id) = seed(store).await;
    let now = t0();
    let mut last = store.rules_generation().await.unwrap();
    // Each kind of change moves it, in its own transaction.
    let mut moved = |name: &str, now_at: i64| {
        assert!(
            now_at > last,
            "{name} did not move the rules generation ({last} → {now_at})"
        );
        last = now_at;
    };
    let dept = Department {
        key: DepartmentKey::parse("finance").unwrap(),
        name: "Finance & Control".into(),
        head: Some(email("head@x.io")),
    };
    store.upsert_department(&dept, now).await.unwrap();
    moved("a department", store.rules_generation().await.unwrap());
    let user = User {
        email: email("bo@x.io"),
        name: "Bo".into(),
        role: Role::Approver,
        department: Some(dept.key.clone()),
        manager: None,
        phone: None,
    };
    store.upsert_user(&user, now).await.unwrap();
    moved("a user", store.rules_generation().await.unwrap());
    let policy = SlaPolicy::new("p2", 7200, WarningWindow::BeforeDeadline { seconds: 600 }).unwrap();
    store.update_policy(policy_id, &policy, None, now).await.unwrap();
    moved("a policy version", store.rules_generation().await.unwrap());
    let chain = EscalationChain::new(
        "c2",
        vec![Level {
            target: Target::DepartmentHead,
            time_limit_seconds: 900,
        }],
    )
    .unwrap();
    store.update_chain(chain_id, &chain, now).await.unwrap();
    moved("a chain", store.rules_generation().await.unwrap());
    let absence = escalator_domain::Absence {
        starts_at: now,
        ends_at: now + TimeDelta::days(2),
        reason: None,
        delegate: None,
    };
    let added = store
        .add_absence("ann@x.io", &absence, &audit("absence_added", now))
        .await
        .unwrap();
    moved("an absence", store.rules_generation().await.unwrap());
    store
        .set_delegate("ann@x.io", Some("bo@x.io"), &audit("delegate_set", now))
        .await
        .unwrap();
    moved("a delegate", store.rules_generation().await.unwrap());
    store
        .delete_absence("ann@x.io", added.id, &audit("absence_deleted", now))
        .await
        .unwrap();
    moved("a deleted absence", store.rules_generation().await.unwrap());
    // Work on workflows leaves it alone: the tick keeps what it read.
    let w = workflow(store, "GEN-1", Some(now)).await;
    store.append_audit(&audit("noted", now)).await.unwrap();
    assert_eq!(
        store.rules_generation().await.unwrap(),
        last,
        "workflow {} moved it",
        w.id
    );
}

/// Readers skip the holds of workflows whose read says none counts for the current
/// level's clock: open holds and holds ended after the level began count, earlier ones not.
async fn reads_say_whether_a_hold_counts_at_the_current_level(db: TestDb) {
    let s = &db.store;
    let w = workflow(s, "HOLD-1", Some(t0())).await;
    assert_eq!(w.held_at_level, Some(false), "a new workflow has no hold");
    let held_at_level = |id| async move { s.workflow(id).await.unwrap().unwrap().held_at_level };
    assert_eq!(held_at_level(w.id).await, Some(false));
    let apply = |w: &WorkflowRecord, hold: HoldChange, at: DateTime<Utc>| {
        let mut c = change(w, None, &format!("hold-{}", w.version));
        c.reminder = None;
        c.outbox.clear();
        c.hold = Some(hold);
        c.now = at;
        c
    };
    let open = HoldChange::Open {
        reason: "waiting".into(),
        by: "ann@x.io".into(),
        resume_status: WorkflowStatus::Pending,
    };
    s.apply(&[apply(&w, open, t0())]).await.unwrap();
    assert_eq!(held_at_level(w.id).await, Some(true), "an open hold counts");
    let w = s.workflow(w.id).await.unwrap().unwrap();
    s.apply(&[apply(&w, HoldChange::Close, t0() + TimeDelta::minutes(5))])
        .await
        .unwrap();
    assert_eq!(
        held_at_level(w.id).await,
        Some(true),
        "a hold ended after the level began counts"
    );
    // The next level begins after the hold ended: the hold no longer counts.
    let w = s.workflow(w.id).await.unwrap().unwrap();
    let mut next = change(&w, None, "next-level");
    next.reminder = None;
    next.outbox.clear();
    next.state.level_started_at = t0() + TimeDelta::minutes(5) + TimeDelta::microseconds(1);
    s.apply(&[next]).await.unwrap();
    assert_eq!(held_at_level(w.id).await, Some(false));
    let listed = s
        .workflows(&WorkflowFilter {
            limit: 10,
            ..WorkflowFilter::default()
        })
        .await
        .unwrap();
    assert!(listed.iter().all(|w| w.held_at_level.is_some()), "lists say it too");
    let due = s.due_workflows(t0() + TimeDelta::days(1), None, 10).await.unwrap();
    assert!(due.iter().all(|w| w.held_at_level.is_some()), "so do due pages");
}
