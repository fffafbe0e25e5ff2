//! SLA outcomes on both backends: every end of a stage writes exactly one, as it was
//! judged; nothing else writes any; a backfill from the audit log rebuilds the same.

mod common;

use chrono::TimeDelta;
use common::{admin, engine_at, input};
use escalator_domain::{Outcome, SlaPolicy, StageEnd, Target, WarningWindow};
use escalator_engine::clock::ShiftedClock;
use escalator_engine::workflows::ActionRequest;
use escalator_engine::Escalator;
use escalator_storage::testing::TestDb;
use escalator_storage::{DbPool, OutcomeFilter, SlaOutcome};
use serde_json::json;

on_both!(
    every_end_of_a_stage_writes_exactly_one_outcome,
    a_backfill_rebuilds_what_live_recording_wrote
);

async fn outcomes(e: &Escalator) -> Vec<SlaOutcome> {
    e.store().outcomes(&OutcomeFilter::default(), 10_000).await.unwrap()
}

fn hold(reason: &str) -> ActionRequest {
    ActionRequest::Hold {
        reason: reason.into(),
        until: None,
    }
}

async fn every_end_of_a_stage_writes_exactly_one_outcome(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    let policy = SlaPolicy::new("24h", 24 * 3600, WarningWindow::BeforeDeadline { seconds: 7200 }).unwrap();
    let refs = common::org(&e, policy, vec![Target::DepartmentHead]).await;
    let me = admin();

    // Started 30 h ago: escalated by the tick (already past its warning and its deadline,
    // so not reminded first), then completed late.
    let late = e
        .create_workflow(&input("O-1", "ann@x.io", 30, refs), &me, None)
        .await
        .unwrap()
        .view
        .workflow;
    e.tick().await.unwrap();
    assert!(outcomes(&e).await.is_empty(), "a tick ends no stage");
    let done = ActionRequest::Complete { note: None };
    e.act(late.id, &done, &me).await.unwrap();
    let recorded = e.store().workflow_outcomes(late.id).await.unwrap();
    assert_eq!(recorded.len(), 1);
    let o = &recorded[0];
    assert_eq!((o.outcome, o.ended_by), (Outcome::Breached, StageEnd::Completed));
    assert_eq!((o.reminders, o.escalations, o.level), (0, 1, 1), "{o:?}");
    assert_eq!((o.assignee.as_str(), o.decided_by.as_str()), ("boss@x.io", "admin"));
    assert_eq!(o.target_seconds, 24 * 3600);
    assert!((30 * 3600..30 * 3600 + 60).contains(&o.used_seconds), "{o:?}");
    assert_eq!(o.over_seconds, o.used_seconds - 24 * 3600);
    let audit = common::audit(&e, "complete").await;
    assert_eq!(
        audit[0].details["sla"],
        json!("breached"),
        "the audit entry says how it ended"
    );

    // Advanced in time; reassigned, held two hours and resumed (none of which ends a
    // stage); then cancelled: two outcomes, one per stage.
    let quick = e
        .create_workflow(&input("O-2", "ann@x.io", 1, refs), &me, None)
        .await
        .unwrap()
        .view
        .workflow;
    let advance = ActionRequest::Advance {
        stage: "Finance".into(),
        policy_id: None,
        assignee: Some("mgr@x.io".into()),
    };
    e.act(quick.id, &advance, &me).await.unwrap();
    let reassign = ActionRequest::Reassign {
        assignee: "solo@x.io".into(),
        reason: None,
    };
    e.act(quick.id, &reassign, &me).await.unwrap();
    e.act(quick.id, &hold("supplier"), &me).await.unwrap();
    clock.advance(TimeDelta::hours(2));
    e.act(quick.id, &ActionRequest::Resume, &me).await.unwrap();
    assert_eq!(e.store().workflow_outcomes(quick.id).await.unwrap().len(), 1);
    e.act(quick.id, &ActionRequest::Cancel { reason: None }, &me)
        .await
        .unwrap();
    let stages = e.store().workflow_outcomes(quick.id).await.unwrap();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert_eq!(
        (stages[0].stage.as_str(), stages[0].ended_by, stages[0].outcome),
        ("Manager Approval", StageEnd::Advanced, Outcome::Met)
    );
    assert_eq!((stages[0].reminders, stages[0].escalations), (0, 0));
    assert_eq!(
        (stages[1].stage.as_str(), stages[1].stage_seq, stages[1].ended_by),
        ("Finance", 2, StageEnd::Cancelled)
    );
    assert_eq!(stages[1].assignee, "solo@x.io", "who held it when it ended");
    assert!((7200..7260).contains(&stages[1].held_seconds), "{:?}", stages[1]);
    assert!(stages[1].used_seconds < 60, "the hold did not count: {:?}", stages[1]);

    // An action a closed workflow refuses writes nothing.
    assert!(e.act(quick.id, &done, &me).await.is_err());
    assert_eq!(outcomes(&e).await.len(), 3);
}

async fn a_backfill_rebuilds_what_live_recording_wrote(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    e.load_demo().await.unwrap();
    e.tick().await.unwrap();
    let me = admin();
    let ids: Vec<i64> = e
        .store()
        .workflows(&escalator_storage::WorkflowFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|w| w.id)
        .collect();
    assert!(ids.len() >= 5, "the demo's workflows");
    let advance = ActionRequest::Advance {
        stage: "Second look".into(),
        policy_id: None,
        assignee: None,
    };
    e.act(ids[0], &ActionRequest::Complete { note: None }, &me)
        .await
        .unwrap();
    e.act(ids[1], &advance, &me).await.unwrap();
    clock.advance(TimeDelta::hours(3));
    e.tick().await.unwrap();
    e.act(ids[1], &ActionRequest::Complete { note: None }, &me)
        .await
        .unwrap();
    e.act(ids[2], &ActionRequest::Cancel { reason: None }, &me)
        .await
        .unwrap();
    e.act(ids[3], &hold("waiting"), &me).await.unwrap();
    clock.advance(TimeDelta::hours(1));
    e.act(ids[3], &ActionRequest::Resume, &me).await.unwrap();
    e.act(ids[3], &ActionRequest::Complete { note: None }, &me)
        .await
        .unwrap();
    let live = outcomes(&e).await;
    assert_eq!(live.len(), 5, "{live:?}");

    // As if they had been recorded before outcomes existed.
    match e.store().pool() {
        DbPool::Sqlite(pool) => {
            sqlx::query("DELETE FROM sla_outcomes").execute(&pool).await.unwrap();
        }
        DbPool::Postgres(pool) => {
            sqlx::query("DELETE FROM sla_outcomes").execute(&pool).await.unwrap();
        }
    }
    let done = e.backfill_outcomes(&me).await.unwrap();
    assert_eq!((done.stages, done.written), (5, 5), "{done:?}");
    let rebuilt = outcomes(&e).await;
    let same = |o: &SlaOutcome| SlaOutcome {
        id: 0,
        source: String::new(),
        ..o.clone()
    };
    let key = |o: &SlaOutcome| (o.workflow_id, o.stage_seq);
    let mut live: Vec<SlaOutcome> = live.iter().map(same).collect();
    let mut rebuilt_same: Vec<SlaOutcome> = rebuilt.iter().map(same).collect();
    live.sort_by_key(key);
    rebuilt_same.sort_by_key(key);
    assert_eq!(rebuilt_same, live);
    assert!(rebuilt.iter().all(|o| o.source == "backfill"));
    assert_eq!(e.backfill_outcomes(&me).await.unwrap().written, 0, "idempotent");
}
