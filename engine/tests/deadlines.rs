//! Deadlines, not polling intervals: with the periodic tick 15 minutes away, the deadline
//! watcher reminds and escalates a workflow at its thresholds, never before (it may
//! decide a few milliseconds ahead, but writes only once a threshold has come). Time is the
//! engine's clock, moved forward by the test: no sleeping until the thresholds.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::{SlaPolicy, Target, WarningWindow};
use escalator_engine::clock::ShiftedClock;
use escalator_engine::notify::{Channels, LogChannel};
use escalator_engine::workflows::CreateWorkflow;
use escalator_engine::{Actor, EngineConfig, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use escalator_storage::AuditFilter;

on_both!(
    thresholds_are_acted_on_when_they_come,
    the_clock_of_a_five_year_old_workflow_is_explained_small_and_exact
);

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

/// Waits (briefly, in real time) until the watcher has written `action`.
async fn written(e: &Escalator, action: &str) -> DateTime<Utc> {
    let started = Instant::now();
    loop {
        if let Some(at) = entry_time(e, action).await {
            return at;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "no {action} by the watcher");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn thresholds_are_acted_on_when_they_come(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = Escalator::new(
        db.store.clone(),
        Channels::only(Arc::new(LogChannel)),
        Arc::new(Metrics::new(900.0).unwrap()),
        EngineConfig {
            clock: clock.shared(),
            decide_ahead: Duration::from_millis(300),
            ..EngineConfig::default()
        },
    );
    // An hour-long SLA warned 10 minutes before: warning at +50 min, breach at +60 min.
    let hour = SlaPolicy::new("hour", 3600, WarningWindow::BeforeDeadline { seconds: 600 }).unwrap();
    let refs = common::org(&e, hour, vec![Target::DepartmentHead]).await;
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

    // Just before the warning time: nothing, however long the watcher looks.
    clock.advance(warn_at - e.now() - TimeDelta::seconds(1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(entry_time(&e, "remind").await, None, "never before the threshold");

    clock.advance(TimeDelta::seconds(1));
    let reminded = written(&e, "remind").await;
    assert!(
        reminded >= warn_at && reminded - warn_at < TimeDelta::seconds(1),
        "reminded at {reminded}, warn_at {warn_at}"
    );
    // Shortly before the deadline the watcher reads and decides what falls due then (this
    // engine decides 300 ms ahead), but writes only once the deadline has come: an
    // escalation seen by a look that ended before the deadline would be one written early.
    clock.advance(due_at - e.now() - TimeDelta::milliseconds(200));
    let looking = Instant::now();
    while looking.elapsed() < Duration::from_millis(400) {
        let seen = entry_time(&e, "escalate").await;
        let looked_until = e.now();
        assert!(
            seen.is_none() || looked_until >= due_at,
            "escalated before the deadline: seen at {looked_until}, due {due_at}"
        );
        if seen.is_some() {
            break;
        }
    }
    let escalated = written(&e, "escalate").await;
    assert!(
        escalated >= due_at && escalated - due_at < TimeDelta::seconds(1),
        "escalated at {escalated}, due_at {due_at}"
    );
    e.shutdown();
    watcher.await.unwrap();
}

/// A workflow started five years ago on office hours: its explanation lists the first and
/// the last 50 of its 5,000-odd segments, sums the rest exactly, and stays small.
async fn the_clock_of_a_five_year_old_workflow_is_explained_small_and_exact(db: TestDb) {
    use escalator_domain::{Calendar, Week, Window};
    let clock = ShiftedClock::new();
    let e = common::engine_at(&db, &clock);
    let hour = SlaPolicy::new("hour", 3600, WarningWindow::BeforeDeadline { seconds: 600 }).unwrap();
    let (_, chain) = common::org(&e, hour, vec![Target::DepartmentHead]).await;
    let office = Calendar::new(
        "Europe/Berlin",
        Week::weekdays(&[
            Window::parse("09:00", "12:00").unwrap(),
            Window::parse("13:00", "17:00").unwrap(),
        ]),
        vec![],
    )
    .unwrap();
    let now = Utc::now();
    let calendar = e.store().create_calendar("Office", &office, now).await.unwrap();
    // Long past its deadline: the explanation runs from the start to now.
    let day = SlaPolicy::new(
        "a business day",
        7 * 3600,
        WarningWindow::BeforeDeadline { seconds: 3600 },
    )
    .unwrap();
    let policy = e.store().create_policy(&day, Some(calendar.id), now).await.unwrap();
    let created = e
        .create_workflow(
            &common::input("OLD-1", "mgr@x.io", 5 * 365 * 24, (policy.id, chain)),
            &common::admin(),
            None,
        )
        .await
        .unwrap();
    let started = Instant::now();
    let explained = e.explain_sla(created.view.workflow.id, &common::admin()).await.unwrap();
    let took = started.elapsed();
    let json = serde_json::to_string(&explained).unwrap();
    eprintln!("explained in {took:?}, {} bytes", json.len());
    assert_eq!(explained.segments.len(), 100);
    let omitted = explained.omitted.clone().expect("the middle is summed");
    assert!(omitted.segments > 4_000, "{omitted:?}");
    // Exact: what is listed and what is summed add up to the clock's elapsed time.
    let listed = escalator_domain::SegmentTotals::of(&explained.segments);
    assert_eq!(
        listed.counted_seconds + omitted.totals.counted_seconds,
        explained.sla.elapsed.num_seconds()
    );
    assert_eq!(explained.totals, listed.plus(omitted.totals));
    assert!(json.len() < 20_000, "{} bytes", json.len());
}
