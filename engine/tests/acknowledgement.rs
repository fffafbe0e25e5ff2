//! Acknowledgement semantics on SQLite and PostgreSQL: an acknowledged reminder holds
//! escalation for the policy's acknowledgement timeout and not a moment longer, and the
//! top of an exhausted chain is told again at the policy's interval, once per interval.

mod common;

use chrono::TimeDelta;
use common::{admin, audit, engine_at, input, org};
use escalator_domain::{SlaPolicy, Target, WarningWindow};
use escalator_engine::clock::{Clock, ShiftedClock};
use escalator_engine::Escalator;
use escalator_storage::testing::TestDb;
use escalator_storage::ReminderFilter;

on_both!(
    an_acknowledged_reminder_holds_escalation_exactly_for_the_timeout,
    the_top_of_an_exhausted_chain_is_told_again_once_per_interval,
);

async fn an_acknowledged_reminder_holds_escalation_exactly_for_the_timeout(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    // 24 h, warned 2 h before; an acknowledgement holds escalation for 4 h.
    let policy = SlaPolicy::new("24h", 24 * 3600, WarningWindow::BeforeDeadline { seconds: 7200 })
        .unwrap()
        .with_acknowledgement_timeout(Some(4 * 3600))
        .unwrap();
    let refs = org(&e, policy, vec![Target::ManagerOf]).await;
    let w = e
        .create_workflow(&input("ACK-1", "ann@x.io", 23, refs), &admin(), None)
        .await
        .unwrap();
    let id = w.view.workflow.id;
    let due = w.view.sla.due_at;
    assert_eq!(e.tick().await.unwrap().reminded, 1);
    let reminder = e
        .store()
        .reminders(&ReminderFilter {
            workflow_id: Some(id),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .clone();
    let acked_at = clock.now();
    let ann = e.actor("ann@x.io").await.unwrap().unwrap();
    e.acknowledge_reminder(reminder.id, &ann).await.unwrap();
    let held_until = acked_at + TimeDelta::hours(4);
    assert!(held_until > due, "the hold outlasts the deadline");

    // At the deadline and one second before the hold ends: nothing.
    clock.advance(due - clock.now());
    assert_eq!(e.tick().await.unwrap().escalated, 0);
    let w = e.workflow(id, &admin()).await.unwrap().workflow;
    let next = w.state.next_check_at.unwrap();
    assert!(
        (next - held_until).num_milliseconds().abs() < 1000,
        "{next} vs {held_until}"
    );
    clock.advance(next - clock.now() - TimeDelta::seconds(1));
    assert_eq!(e.tick().await.unwrap().escalated, 0);
    // At the end of the hold: escalated, saying why.
    clock.advance(TimeDelta::seconds(1));
    assert_eq!(e.tick().await.unwrap().escalated, 1);
    let escalated = audit(&e, "escalate").await;
    assert_eq!(escalated.len(), 1);
    assert_eq!(escalated[0].details["reason"], "acknowledged_not_decided");
    assert_eq!(
        e.workflow(id, &admin()).await.unwrap().workflow.state.assignee,
        "mgr@x.io"
    );
}

async fn the_top_of_an_exhausted_chain_is_told_again_once_per_interval(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    let policy = SlaPolicy::new("24h", 24 * 3600, WarningWindow::BeforeDeadline { seconds: 7200 })
        .unwrap()
        .with_exhausted_repeat(Some(3600))
        .unwrap();
    // One level (ann's manager, 8 h): escalated at 24 h, exhausted at 32 h.
    let refs = org(&e, policy, vec![Target::ManagerOf]).await;
    let w = e
        .create_workflow(&input("TOP-1", "ann@x.io", 25, refs), &admin(), None)
        .await
        .unwrap();
    assert_eq!(e.tick().await.unwrap().escalated, 1);
    let none = e
        .workflows(
            escalator_storage::WorkflowFilter {
                open_only: true,
                needs_attention: true,
                limit: 10,
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    assert!(none.is_empty(), "escalated, not yet at an exhausted top");
    clock.advance(TimeDelta::hours(8));
    let first = e.tick().await.unwrap();
    assert_eq!(first.exhausted, 1, "{first:?}");
    let told = |e: &Escalator| {
        let e = e.clone();
        async move {
            e.store()
                .outbox(None, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.topic == "workflow.needs_attention")
                .collect::<Vec<_>>()
        }
    };
    let notices = told(&e).await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].payload["to"], serde_json::json!(["mgr@x.io"]));
    assert_eq!(notices[0].payload["cc"], serde_json::json!(["init@x.io"]));
    // Ticking again within the hour tells nobody again; after it, once more.
    assert_eq!(e.tick().await.unwrap().exhausted, 0);
    clock.advance(TimeDelta::hours(1));
    assert_eq!(e.tick().await.unwrap().exhausted, 1);
    assert_eq!(e.tick().await.unwrap().exhausted, 0);
    assert_eq!(told(&e).await.len(), 2);
    let audited = audit(&e, "chain_exhausted").await;
    assert_eq!(audited.len(), 2);
    let w = e.workflow(w.view.workflow.id, &admin()).await.unwrap().workflow;
    assert_eq!(w.state.assignee, "mgr@x.io", "it stays with the top of the chain");
    // It needs attention: listed as such, and counted by the metrics.
    let attention = |e: &Escalator| {
        let e = e.clone();
        async move {
            e.workflows(
                escalator_storage::WorkflowFilter {
                    open_only: true,
                    needs_attention: true,
                    limit: 10,
                    ..Default::default()
                },
                &admin(),
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(attention(&e).await.len(), 1);
    assert_eq!(attention(&e).await[0].workflow.id, w.id);
    e.refresh_gauges().await.unwrap();
    assert!(
        e.metrics().render().contains("workflow_needs_attention 1"),
        "{}",
        e.metrics().render()
    );
}
