//! Deadlines, not polling intervals: with the periodic tick 15 minutes away, a workflow is
//! reminded and escalated within 2 s of its thresholds, never before.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::{SlaPolicy, Target, WarningWindow};
use escalator_engine::notify::{Channels, LogChannel};
use escalator_engine::workflows::CreateWorkflow;
use escalator_engine::{Actor, EngineConfig, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use escalator_storage::AuditFilter;

on_both!(thresholds_are_acted_on_within_seconds);

async fn entry_time(e: &Escalator, action: &str) -> Option<DateTime<Utc>> {
    let entries = e
        .store()
        .audit_entries(&AuditFilter {
            action: Some(action.into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    entries.first().map(|a| a.at)
}

async fn thresholds_are_acted_on_within_seconds(db: TestDb) {
    let e = Escalator::new(
        db.store.clone(),
        Channels::only(Arc::new(LogChannel)),
        Arc::new(Metrics::new(900.0).unwrap()),
        EngineConfig::default(),
    );
    // A 4 s SLA warned 2 s before: warning at +2 s, breach at +4 s.
    let short = SlaPolicy::new("short", 4, WarningWindow::BeforeDeadline { seconds: 2 }).unwrap();
    let refs = common::org(&e, short, vec![Target::DepartmentHead]).await;

    let watcher = tokio::spawn(escalator_engine::deadlines::watch(e.clone()));
    let input = CreateWorkflow {
        started_at: None,
        ..common::input("FAST-1", "ann@x.io", 0, refs)
    };
    let created = e
        .create_workflow(&input, &Actor::internal("test"), None)
        .await
        .unwrap()
        .view;
    let (warn_at, due_at) = (created.sla.warn_at, created.sla.due_at);
    tokio::time::sleep(Duration::from_secs(7)).await;
    e.shutdown();
    watcher.await.unwrap();

    let reminded = entry_time(&e, "remind")
        .await
        .expect("reminded by the watcher, not the 15-minute tick");
    let escalated = entry_time(&e, "escalate")
        .await
        .expect("escalated by the watcher, not the 15-minute tick");
    assert!(
        reminded >= warn_at && reminded - warn_at < TimeDelta::seconds(2),
        "reminded at {reminded}, warn_at {warn_at}"
    );
    assert!(
        escalated >= due_at && escalated - due_at < TimeDelta::seconds(2),
        "escalated at {escalated}, due_at {due_at}"
    );
}
