//! Absences, delegates and deactivation on SQLite and PostgreSQL: escalations and new
//! work go past people who are away, an absence starting hands open work on exactly once
//! (two replicas at once), and a deactivated person is signed out and their work moves.

mod common;

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use common::{admin, audit, engine_at, input, org};
use escalator_domain::{SlaPolicy, Target, WarningWindow, WorkflowStatus};
use escalator_engine::availability::AbsenceInput;
use escalator_engine::clock::{Clock, ShiftedClock};
use escalator_engine::notify::{Channels, LogChannel};
use escalator_engine::{Actor, EngineConfig, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use escalator_storage::OutboxKind;
use serde_json::json;

on_both!(
    the_seed_scenario_with_the_head_on_holiday_goes_to_the_heads_delegate,
    an_absence_starting_hands_open_work_on_once_even_with_two_replicas,
    new_work_for_someone_away_goes_to_their_delegate_or_up_the_chain,
    a_deactivated_person_is_signed_out_and_their_work_moves_up,
    people_manage_their_own_absences_and_admins_anyones,
    a_chain_level_targets_a_group_round_robin_past_absent_members,
    the_hand_over_can_be_limited_to_delegates_or_turned_off,
);

fn policy() -> SlaPolicy {
    SlaPolicy::new("48h", 48 * 3600, WarningWindow::BeforeDeadline { seconds: 3600 }).unwrap()
}

fn away(from: chrono::DateTime<Utc>, to: chrono::DateTime<Utc>, delegate: Option<&str>) -> AbsenceInput {
    AbsenceInput {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        reason: Some("holiday".into()),
        delegate: delegate.map(str::to_string),
    }
}

async fn the_seed_scenario_with_the_head_on_holiday_goes_to_the_heads_delegate(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    let refs = org(&e, policy(), vec![Target::DepartmentHead]).await;
    // The head (boss@) is on holiday for two weeks; solo@ stands in.
    e.add_absence(
        "boss@x.io",
        &away(
            Utc::now() - TimeDelta::days(1),
            Utc::now() + TimeDelta::days(13),
            Some("solo@x.io"),
        ),
        &admin(),
    )
    .await
    .unwrap();
    let created = e
        .create_workflow(&input("PO-48", "mgr@x.io", 49, refs), &admin(), None)
        .await
        .unwrap();
    let summary = e.tick().await.unwrap();
    assert_eq!(summary.escalated, 1, "{summary:?}");

    let w = e.workflow(created.view.workflow.id, &admin()).await.unwrap().workflow;
    assert_eq!((w.state.assignee.as_str(), w.state.level), ("solo@x.io", 1));
    let entries = audit(&e, "escalate").await;
    assert_eq!(entries.len(), 1, "one audit entry");
    let note = entries[0].details["note"].as_str().unwrap_or_default();
    assert!(
        note.starts_with("skipped boss@x.io (absent until ") && note.ends_with("delegated to solo@x.io"),
        "{note}"
    );

    let outbox = e.store().outbox(None, 20).await.unwrap();
    let mail = outbox
        .iter()
        .find(|m| m.kind == OutboxKind::Notification)
        .expect("a notification");
    assert_eq!(mail.payload["to"], json!(["solo@x.io"]));
    assert_eq!(mail.payload["cc"], json!(["mgr@x.io", "init@x.io"]));
    let event = outbox.iter().find(|m| m.kind == OutboxKind::Event).expect("an event");
    assert_eq!(event.payload["passed_over"][0]["person"], "boss@x.io");
    // The explained clock says how the assignee was reached.
    let explained = e.explain_sla(created.view.workflow.id, &admin()).await.unwrap();
    assert_eq!(explained.routing.as_deref(), Some(note));
}

async fn an_absence_starting_hands_open_work_on_once_even_with_two_replicas(db: TestDb) {
    let clock = ShiftedClock::new();
    let (a, b) = (engine_at(&db, &clock), engine_at(&db, &clock));
    let refs = org(&a, policy(), vec![Target::DepartmentHead]).await;
    for i in 0..12 {
        a.create_workflow(&input(&format!("W-{i}"), "mgr@x.io", 1, refs), &admin(), None)
            .await
            .unwrap();
    }
    // mgr@ goes on holiday in an hour, handing to ann@.
    let start = clock.now() + TimeDelta::hours(1);
    a.add_absence(
        "mgr@x.io",
        &away(start, start + TimeDelta::days(5), Some("ann@x.io")),
        &Actor::from(&e_user("mgr@x.io")),
    )
    .await
    .unwrap();
    // Not yet: nothing moves before the absence starts.
    assert_eq!(a.tick().await.unwrap().handed_over, 0);
    assert_eq!(
        a.store().next_check_at().await.unwrap(),
        Some(start),
        "the start is a threshold"
    );

    clock.advance(TimeDelta::hours(1));
    // Two replicas tick at once, without the tick lock: each workflow moves once.
    let (x, y) = tokio::join!(a.tick_unleased(), b.tick_unleased());
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.handed_over + y.handed_over, 12, "{x:?} {y:?}");
    let ann = a
        .workflows(
            escalator_storage::WorkflowFilter {
                assignee: Some("ann@x.io".into()),
                open_only: true,
                limit: 100,
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(ann.len(), 12);
    assert!(ann.iter().all(|w| w.workflow.state.level == 0));
    assert_eq!(audit(&a, "handed_over").await.len(), 12, "audited once each");
    let notices = a.store().outbox(None, 200).await.unwrap();
    let assigned = notices.iter().filter(|m| m.topic == "workflow.assigned").count();
    assert_eq!(assigned, 12, "ann is told once per workflow");
    // Later ticks move nothing again, also after the absence ends.
    assert_eq!(a.tick().await.unwrap().handed_over, 0);
    clock.advance(TimeDelta::days(6));
    assert_eq!(a.tick().await.unwrap().handed_over, 0);
}

fn e_user(email: &str) -> escalator_domain::User {
    escalator_domain::User {
        email: common::email(email),
        name: email.into(),
        role: escalator_domain::Role::Approver,
        department: Some(escalator_domain::DepartmentKey::parse("ops").unwrap()),
        manager: None,
        phone: None,
    }
}

async fn new_work_for_someone_away_goes_to_their_delegate_or_up_the_chain(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    let refs = org(&e, policy(), vec![Target::ManagerOf, Target::DepartmentHead]).await;
    let now = clock.now();
    // ann@ is away with a standing delegate: new work goes to the delegate, at level 0.
    e.set_delegate("ann@x.io", Some("solo@x.io"), &admin()).await.unwrap();
    e.add_absence(
        "ann@x.io",
        &away(now - TimeDelta::hours(1), now + TimeDelta::days(2), None),
        &admin(),
    )
    .await
    .unwrap();
    let delegated = e
        .create_workflow(&input("N-1", "ann@x.io", 0, refs), &admin(), None)
        .await
        .unwrap();
    assert_eq!(
        (
            delegated.view.workflow.state.assignee.as_str(),
            delegated.view.workflow.state.level
        ),
        ("solo@x.io", 0)
    );
    let created = audit(&e, "create").await;
    assert_eq!(created[0].details["requested_assignee"], "ann@x.io");

    // init@ is away without any delegate: up the chain to their manager's level… init@
    // has no manager, so level 1 does not resolve and level 2 (the head) takes it.
    e.add_absence(
        "init@x.io",
        &away(now - TimeDelta::hours(1), now + TimeDelta::days(2), None),
        &admin(),
    )
    .await
    .unwrap();
    let up = e
        .create_workflow(&input("N-2", "init@x.io", 0, refs), &admin(), None)
        .await
        .unwrap();
    assert_eq!(
        (up.view.workflow.state.assignee.as_str(), up.view.workflow.state.level),
        ("boss@x.io", 2)
    );
    // Its clock is level 2's (8 h), not the stage's 48 h.
    assert!(up.view.sla.remaining <= TimeDelta::hours(8));

    // Advancing to the next stage routes again: back from holiday, ann@ takes it herself.
    clock.advance(TimeDelta::days(3));
    let advanced = e
        .act(
            delegated.view.workflow.id,
            &escalator_engine::workflows::ActionRequest::Advance {
                stage: "Finance".into(),
                policy_id: None,
                assignee: Some("ann@x.io".into()),
            },
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(advanced.workflow.state.assignee, "ann@x.io");
}

async fn a_deactivated_person_is_signed_out_and_their_work_moves_up(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    let refs = org(&e, policy(), vec![Target::ManagerOf, Target::DepartmentHead]).await;
    let w = e
        .create_workflow(&input("D-1", "ann@x.io", 1, refs), &admin(), None)
        .await
        .unwrap();
    let (token, _) = e.create_token("ann@x.io", "laptop").await.unwrap();
    assert!(e.authenticate_token(&token).await.unwrap().is_some());
    assert!(e.actor("ann@x.io").await.unwrap().is_some());

    let view = e.deactivate_user("ann@x.io", &admin()).await.unwrap();
    assert!(view.availability.deactivated_at.is_some() && view.away_now);
    assert!(e.authenticate_token(&token).await.unwrap().is_none(), "tokens revoked");
    assert!(e.actor("ann@x.io").await.unwrap().is_none(), "sessions end");
    let summary = e.tick().await.unwrap();
    assert_eq!(summary.handed_over, 1, "{summary:?}");
    let moved = e.workflow(w.view.workflow.id, &admin()).await.unwrap().workflow;
    // No delegate: one level up, to ann's manager.
    assert_eq!((moved.state.assignee.as_str(), moved.state.level), ("mgr@x.io", 1));
    assert_eq!(moved.state.status, WorkflowStatus::Escalated);
    assert_eq!(audit(&e, "user_deactivated").await.len(), 1);
    // Nobody deactivates themselves, and reactivation is audited and lets them in again.
    let admin_user = Actor::internal("admin");
    assert!(e.deactivate_user("admin", &admin_user).await.is_err());
    e.reactivate_user("ann@x.io", &admin()).await.unwrap();
    assert!(e.actor("ann@x.io").await.unwrap().is_some());
    assert!(
        e.authenticate_token(&token).await.unwrap().is_none(),
        "revoked tokens stay revoked"
    );
    assert_eq!(audit(&e, "user_reactivated").await.len(), 1);
}

async fn people_manage_their_own_absences_and_admins_anyones(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    org(&e, policy(), vec![Target::DepartmentHead]).await;
    let ann = Actor::from(&e_user("ann@x.io"));
    let now = clock.now();
    let mine = e
        .add_absence(
            "ann@x.io",
            &away(now + TimeDelta::days(1), now + TimeDelta::days(3), Some("mgr@x.io")),
            &ann,
        )
        .await
        .unwrap();
    // Not someone else's, not a bad range, not oneself as delegate, not an unknown delegate.
    assert!(matches!(
        e.add_absence("mgr@x.io", &away(now, now + TimeDelta::days(1), None), &ann)
            .await,
        Err(escalator_engine::EngineError::Forbidden(_))
    ));
    let field = |r: Result<_, escalator_engine::EngineError>| match r {
        Err(escalator_engine::EngineError::Invalid(v)) => v.field,
        other => panic!("expected a validation error, got {other:?}"),
    };
    assert_eq!(
        field(
            e.add_absence(
                "ann@x.io",
                &away(now + TimeDelta::days(2), now + TimeDelta::days(1), None),
                &ann
            )
            .await
        ),
        "to"
    );
    assert_eq!(
        field(
            e.add_absence("ann@x.io", &away(now, now + TimeDelta::days(1), Some("ann@x.io")), &ann)
                .await
        ),
        "delegate"
    );
    assert_eq!(
        field(
            e.add_absence(
                "ann@x.io",
                &away(now, now + TimeDelta::days(1), Some("nobody@x.io")),
                &ann
            )
            .await
        ),
        "delegate"
    );
    let bad = AbsenceInput {
        from: "soon".into(),
        to: "2030-01-01".into(),
        reason: None,
        delegate: None,
    };
    assert_eq!(field(e.add_absence("ann@x.io", &bad, &ann).await), "from");
    // An import: empty, too long or malformed files are refused by name; importing twice adds nothing.
    let field_of = |r: Result<Vec<escalator_storage::AbsenceRecord>, escalator_engine::EngineError>| match r {
        Err(escalator_engine::EngineError::Invalid(v)) => v.field,
        other => panic!("expected a validation error, got {other:?}"),
    };
    assert_eq!(field_of(e.import_absences("ann@x.io", " ", &ann).await), "ics");
    assert_eq!(
        field_of(e.import_absences("ann@x.io", &"x".repeat(150_001), &ann).await),
        "ics"
    );
    assert_eq!(
        field_of(e.import_absences("ann@x.io", "BEGIN:VEVENT\nEND:VEVENT\n", &ann).await),
        "ics"
    );
    let ics = "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20300105\nSUMMARY:Ski\nEND:VEVENT\n";
    assert_eq!(e.import_absences("ann@x.io", ics, &ann).await.unwrap().len(), 1);
    assert_eq!(e.import_absences("ann@x.io", ics, &ann).await.unwrap().len(), 0);

    let view = e.availability("ann@x.io", &ann).await.unwrap();
    assert_eq!(view.absences.len(), 2);
    assert!(!view.away_now);
    assert!(e.availability("mgr@x.io", &ann).await.is_err());
    e.remove_absence("ann@x.io", mine.id, &admin()).await.unwrap();
    assert_eq!(e.availability("ann@x.io", &ann).await.unwrap().absences.len(), 1);
    assert_eq!(audit(&e, "absence_recorded").await.len(), 2);
    assert_eq!(audit(&e, "absence_removed").await.len(), 1);
}

async fn a_chain_level_targets_a_group_round_robin_past_absent_members(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_at(&db, &clock);
    // The org (its chain stored as is) first: a group's members must be users.
    let refs = org(
        &e,
        policy(),
        vec![
            Target::Group {
                group: "ops-approvers".into(),
            },
            Target::DepartmentHead,
        ],
    )
    .await;
    let group = escalator_domain::Group {
        name: "Ops approvers".into(),
        members: ["boss@x.io", "solo@x.io", "init@x.io"].map(common::email).to_vec(),
        strategy: escalator_domain::Strategy::RoundRobin,
        time_zone: "UTC".into(),
        overrides: vec![],
    };
    let (_, created) = e.put_group("ops-approvers", &group, &admin()).await.unwrap();
    assert!(created);
    let bad = e
        .put_group(
            "ops-approvers",
            &escalator_domain::Group {
                members: vec![common::email("ghost@x.io")],
                ..group.clone()
            },
            &admin(),
        )
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("members[0]"), "{bad}");

    // solo@ is away: round-robin goes past them.
    let now = clock.now();
    e.add_absence(
        "solo@x.io",
        &away(now - TimeDelta::hours(1), now + TimeDelta::days(5), None),
        &admin(),
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        let w = e
            .create_workflow(&input(&format!("G-{i}"), "ann@x.io", 49, refs), &admin(), None)
            .await
            .unwrap();
        ids.push(w.view.workflow.id);
    }
    assert_eq!(e.tick().await.unwrap().escalated, 6);
    let mut picked = std::collections::BTreeMap::new();
    for id in ids {
        let w = e.workflow(id, &admin()).await.unwrap().workflow;
        assert_eq!(w.state.level, 1);
        *picked.entry(w.state.assignee).or_insert(0) += 1;
    }
    assert!(!picked.contains_key("solo@x.io"), "{picked:?}");
    assert_eq!(picked.len(), 2, "spread over both present members: {picked:?}");
    assert_eq!(picked.values().sum::<i32>(), 6);

    // Nobody in the group present: the level is skipped for the department head's.
    for who in ["boss@x.io", "init@x.io"] {
        e.add_absence(
            who,
            &away(now - TimeDelta::hours(1), now + TimeDelta::days(5), None),
            &admin(),
        )
        .await
        .unwrap();
    }
    let w = e
        .create_workflow(&input("G-9", "ann@x.io", 49, refs), &admin(), None)
        .await
        .unwrap();
    e.tick().await.unwrap();
    // …whose head (boss@) is away too, without a delegate: the chain is exhausted, both
    // levels skipped saying why, and it stays with ann@.
    let exhausted = audit(&e, "chain_exhausted").await;
    let entry = exhausted
        .iter()
        .find(|a| a.workflow_id == Some(w.view.workflow.id))
        .expect("exhausted");
    assert_eq!(entry.details["skipped"][0]["target"], "group:ops-approvers");
    assert!(entry.details["skipped"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("boss@x.io (absent until"));
    let w = e.workflow(w.view.workflow.id, &admin()).await.unwrap().workflow;
    assert_eq!(w.state.assignee, "ann@x.io");
    assert_eq!(e.groups(&admin()).await.unwrap().len(), 1);
}

async fn the_hand_over_can_be_limited_to_delegates_or_turned_off(db: TestDb) {
    let clock = ShiftedClock::new();
    let with = |handover| {
        Escalator::new(
            db.store.clone(),
            Channels::only(Arc::new(LogChannel)),
            Arc::new(Metrics::new(900.0).unwrap()),
            EngineConfig {
                clock: clock.shared(),
                handover,
                ..EngineConfig::default()
            },
        )
    };
    let (off, delegate_only) = (
        with(escalator_engine::Handover::Off),
        with(escalator_engine::Handover::Delegate),
    );
    let refs = org(&off, policy(), vec![Target::ManagerOf]).await;
    let w = off
        .create_workflow(&input("H-1", "ann@x.io", 1, refs), &admin(), None)
        .await
        .unwrap();
    let now = clock.now();
    off.add_absence(
        "ann@x.io",
        &away(now + TimeDelta::minutes(1), now + TimeDelta::days(2), None),
        &admin(),
    )
    .await
    .unwrap();
    clock.advance(TimeDelta::minutes(2));
    // Off: nothing moves. Delegate only, without a delegate: nothing moves either.
    assert_eq!(off.tick().await.unwrap().handed_over, 0);
    let id = w.view.workflow.id;
    assert_eq!(
        off.workflow(id, &admin()).await.unwrap().workflow.state.assignee,
        "ann@x.io"
    );
    let later = clock.now();
    off.add_absence(
        "ann@x.io",
        &away(later + TimeDelta::minutes(1), later + TimeDelta::days(2), None),
        &admin(),
    )
    .await
    .unwrap();
    clock.advance(TimeDelta::minutes(2));
    assert_eq!(delegate_only.tick().await.unwrap().handed_over, 0);
    assert_eq!(
        off.workflow(id, &admin()).await.unwrap().workflow.state.assignee,
        "ann@x.io"
    );
    // With a delegate, delegate-only hands it on.
    delegate_only
        .set_delegate("ann@x.io", Some("solo@x.io"), &admin())
        .await
        .unwrap();
    let last = clock.now();
    off.add_absence(
        "ann@x.io",
        &away(last + TimeDelta::minutes(1), last + TimeDelta::days(2), None),
        &admin(),
    )
    .await
    .unwrap();
    clock.advance(TimeDelta::minutes(2));
    assert_eq!(delegate_only.tick().await.unwrap().handed_over, 1);
    assert_eq!(
        off.workflow(id, &admin()).await.unwrap().workflow.state.assignee,
        "solo@x.io"
    );
}
