//! Shared by the engine's integration tests: run a case on both backends, a small org.
#![allow(dead_code)] // each test file uses a different part

use chrono::{TimeDelta, Utc};
use escalator_domain::{Department, DepartmentKey, Email, EscalationChain, Level, Role, SlaPolicy, Target, User};
use escalator_engine::clock::ShiftedClock;
use escalator_engine::notify::{Channels, LogChannel};
use escalator_engine::workflows::CreateWorkflow;
use escalator_engine::{Actor, EngineConfig, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use escalator_storage::AuditFilter;

/// Runs each case once per backend, as `<case>::sqlite` and `<case>::postgres`.
#[macro_export]
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$case(escalator_storage::testing::TestDb::new(escalator_storage::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$case(escalator_storage::testing::TestDb::new(escalator_storage::Backend::Postgres).await).await;
            }
        }
    )*};
}

/// An address (panics on a bad literal: tests only).
pub fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

/// Department "ops" headed by boss@; mgr@ reports to boss@, ann@ to mgr@; init@ and solo@
/// have no manager. Stores `policy` and a chain of `targets` (8 h each); returns their ids.
pub async fn org(e: &Escalator, policy: SlaPolicy, targets: Vec<Target>) -> (i64, i64) {
    let s = e.store();
    let now = Utc::now();
    let key = DepartmentKey::parse("ops").unwrap();
    s.upsert_department(
        &Department {
            key: key.clone(),
            name: "Ops".into(),
            head: None,
        },
        now,
    )
    .await
    .unwrap();
    let people = [
        ("boss@x.io", None),
        ("mgr@x.io", Some("boss@x.io")),
        ("ann@x.io", Some("mgr@x.io")),
        ("init@x.io", None),
        ("solo@x.io", None),
    ];
    for (who, manager) in people {
        let user = User {
            email: email(who),
            name: who.into(),
            role: Role::Approver,
            department: Some(key.clone()),
            manager: manager.map(email),
            phone: None,
        };
        s.upsert_user(&user, now).await.unwrap();
    }
    s.upsert_department(
        &Department {
            key,
            name: "Ops".into(),
            head: Some(email("boss@x.io")),
        },
        now,
    )
    .await
    .unwrap();
    let policy = s.create_policy(&policy, None, now).await.unwrap();
    let levels = targets
        .into_iter()
        .map(|target| Level {
            target,
            time_limit_seconds: 8 * 3600,
        })
        .collect();
    let chain = s
        .create_chain(&EscalationChain::new("chain", levels).unwrap(), now)
        .await
        .unwrap();
    (policy.id, chain.id)
}

/// A workflow of "ops" started `hours_ago` (negative: in the future).
pub fn input(ext: &str, assignee: &str, hours_ago: i64, (policy_id, chain_id): (i64, i64)) -> CreateWorkflow {
    CreateWorkflow {
        external_id: ext.into(),
        workflow_type: "purchase".into(),
        title: format!("Workflow {ext}"),
        stage: "Manager Approval".into(),
        department: "ops".into(),
        initiator: "init@x.io".into(),
        assignee: assignee.into(),
        policy_id,
        chain_id,
        started_at: Some(Utc::now() - TimeDelta::hours(hours_ago)),
    }
}

/// An engine on `db` reading `clock` (tests move it instead of sleeping), delivering to the log.
pub fn engine_at(db: &TestDb, clock: &ShiftedClock) -> Escalator {
    let config = EngineConfig {
        clock: clock.shared(),
        ..EngineConfig::default()
    };
    Escalator::new(
        db.store.clone(),
        Channels::only(std::sync::Arc::new(LogChannel)),
        std::sync::Arc::new(Metrics::new(900.0).unwrap()),
        config,
    )
}

/// An internal admin: every action is allowed.
pub fn admin() -> Actor {
    Actor::internal("admin")
}

/// The audit entries of one action, newest first.
pub async fn audit(e: &Escalator, action: &str) -> Vec<escalator_storage::AuditEntry> {
    e.store()
        .audit_entries(&AuditFilter {
            action: Some(action.into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
}
