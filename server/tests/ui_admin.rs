//! The admin pages' server functions over real HTTP, on SQLite and PostgreSQL: escalation
//! chains (audited, validated per level), SLA policies (preview changes nothing, save,
//! apply) and calendars, users and departments, passwords; non-admins get 403 and change
//! nothing; the pages render without JavaScript.
//!
//! Over 500 lines: the admin pages' end-to-end tests, one per page and form.

#[macro_use]
mod common;

use common::*;
use escalator_domain::Target;
use escalator_storage::{AuditFilter, WorkflowFilter};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_one_at_a_time!(
    an_admin_builds_a_chain_level_by_level_and_it_is_audited,
    invalid_levels_are_refused_with_the_field_at_fault,
    non_admins_get_403_from_every_admin_function_and_change_nothing,
    a_policy_preview_changes_nothing_then_save_and_apply_do,
    calendars_are_edited_as_text,
    admins_manage_departments_users_and_passwords,
    admin_pages_render_without_javascript,
);

/// Asserts a server function's error: status, kind and the field it names.
fn assert_fails(response: &(StatusCode, Value), status: StatusCode, kind: &str, field: Option<&str>) {
    let (actual, body) = response;
    assert_eq!(*actual, status, "status of {body}");
    assert_eq!(body["kind"], json!(kind), "kind of {body}");
    assert_eq!(body["field"], json!(field), "field of {body}");
}

async fn audit_actions(app: &TestApp, actor: &str) -> Vec<(String, Value)> {
    app.escalator
        .store()
        .audit_entries(&AuditFilter {
            actor: Some(actor.into()),
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.details))
        .collect()
}

async fn an_admin_builds_a_chain_level_by_level_and_it_is_audited(app: TestApp) {
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let created = admin
        .call_json(
            "save_chain",
            json!({"name": "Legal review", "levels": [
                {"target": "department_head", "hours": "4", "minutes": "0"},
            ]}),
        )
        .await;
    assert_eq!(created.0, StatusCode::OK, "{}", created.1);
    let id = created.1["id"].as_i64().expect("the new chain's id");
    assert_eq!(created.1["levels"].as_array().unwrap().len(), 1);

    // The editor adds a level naming a user, 2 h 30 m, and saves the whole chain.
    let updated = admin
        .call_json(
            "save_chain",
            json!({"id": id, "name": "Legal review", "levels": [
                {"target": "department_head", "email": "", "hours": "4", "minutes": "0"},
                {"target": "user", "email": COO, "hours": "2", "minutes": "30"},
            ]}),
        )
        .await;
    assert_eq!(updated.0, StatusCode::OK, "{}", updated.1);
    assert_eq!(updated.1["levels"][1]["email"], COO);
    assert_eq!(updated.1["levels"][1]["time_limit_seconds"], 9000);

    let stored = app.escalator.store().chain(id).await.unwrap().expect("stored");
    assert_eq!(stored.chain.levels.len(), 2);
    assert_eq!(stored.chain.levels[0].target, Target::DepartmentHead);
    assert!(matches!(&stored.chain.levels[1].target, Target::User { email } if email.as_str() == COO));
    assert_eq!(stored.chain.levels[1].time_limit_seconds, 9000);

    // Reordering and removing go through the same save.
    let reordered = admin
        .call_json(
            "save_chain",
            json!({"id": id, "name": "Legal review", "levels": [
                {"target": "user", "email": COO, "hours": "2", "minutes": "30"},
            ]}),
        )
        .await;
    assert_eq!(reordered.0, StatusCode::OK, "{}", reordered.1);
    let stored = app.escalator.store().chain(id).await.unwrap().unwrap();
    assert_eq!(stored.chain.levels.len(), 1);

    let audit = audit_actions(&app, ADMIN).await;
    let of_chain = |action: &str| {
        audit
            .iter()
            .filter(|(a, d)| a == action && d["id"] == json!(id))
            .count()
    };
    assert_eq!(of_chain("chain_created"), 1, "{audit:?}");
    assert_eq!(of_chain("chain_updated"), 2, "{audit:?}");

    // The list shows it with its level.
    let (status, data) = admin.call("admin_chains", &[]).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    let listed = data["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == json!(id))
        .expect("listed")
        .clone();
    assert_eq!(listed["levels"][0]["target"], "user");
    assert_eq!(data["people"][COO], "Olivia Operations", "suggested by name");
}

async fn invalid_levels_are_refused_with_the_field_at_fault(app: TestApp) {
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let before = app.escalator.store().chain(app.chain_id).await.unwrap().unwrap();
    let save = |levels: Value| json!({"id": app.chain_id, "name": "Changed", "levels": levels});
    let ok = json!({"target": "department_head", "hours": "1", "minutes": "0"});

    let zero = admin
        .call_json(
            "save_chain",
            save(json!([ok, {"target": "manager_of", "hours": "0", "minutes": "0"}])),
        )
        .await;
    assert_fails(
        &zero,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("levels[1].time_limit_seconds"),
    );

    let unknown = admin
        .call_json(
            "save_chain",
            save(json!([ok, {"target": "user", "email": "nobody@acme.example", "hours": "1"}])),
        )
        .await;
    assert_fails(
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("levels[1].target.email"),
    );
    assert!(unknown.1["message"].as_str().unwrap().contains("nobody@acme.example"));

    let malformed = admin
        .call_json(
            "save_chain",
            save(json!([{"target": "user", "email": "not an e-mail", "hours": "1"}])),
        )
        .await;
    assert_fails(
        &malformed,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("levels[0].target.email"),
    );

    let not_a_number = admin
        .call_json(
            "save_chain",
            save(json!([{"target": "department_head", "hours": "two"}])),
        )
        .await;
    assert_fails(
        &not_a_number,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("levels[0].time_limit_seconds"),
    );

    let empty = admin.call_json("save_chain", save(json!([]))).await;
    assert_fails(&empty, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("levels"));

    let nameless = admin
        .call_json("save_chain", json!({"id": app.chain_id, "name": "  ", "levels": [ok]}))
        .await;
    assert_fails(&nameless, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("name"));

    let missing = admin
        .call_json("save_chain", json!({"id": 999_999, "name": "x", "levels": [ok]}))
        .await;
    assert_fails(&missing, StatusCode::NOT_FOUND, "not_found", None);

    let after = app.escalator.store().chain(app.chain_id).await.unwrap().unwrap();
    assert_eq!(after, before, "nothing changed");
    assert!(audit_actions(&app, ADMIN)
        .await
        .iter()
        .all(|(a, _)| a != "chain_updated"));
}

async fn non_admins_get_403_from_every_admin_function_and_change_nothing(app: TestApp) {
    for email in [FINANCE_HEAD, FINANCE_APPROVER, FINANCE_VIEWER] {
        let mut user = Browser::sign_in(&app, email).await;
        let before = app.counts().await;
        let chain_before = app.escalator.store().chain(app.chain_id).await.unwrap().unwrap();
        let policy_before = app.escalator.store().policy(app.policy_id).await.unwrap().unwrap();
        let level = json!({"target": "department_head", "hours": "1", "minutes": "0"});
        let forbidden = |r: &(StatusCode, Value)| assert_fails(r, StatusCode::FORBIDDEN, "forbidden", None);

        // Reading chains and policies: heads, as in the API; editing: admins.
        let reads = |r: &(StatusCode, Value)| {
            if email == FINANCE_HEAD {
                assert_eq!(r.0, StatusCode::OK, "{}", r.1);
                assert_eq!(r.1["can_edit"], false, "{}", r.1);
            } else {
                assert_fails(r, StatusCode::FORBIDDEN, "forbidden", None);
            }
        };
        reads(&user.call("admin_chains", &[]).await);
        forbidden(
            &user
                .call_json("save_chain", json!({"name": "Mine", "levels": [level]}))
                .await,
        );
        forbidden(
            &user
                .call_json(
                    "save_chain",
                    json!({"id": app.chain_id, "name": "Mine", "levels": [level]}),
                )
                .await,
        );
        // Even an invalid input is refused as forbidden, not validated.
        forbidden(
            &user
                .call_json("save_chain", json!({"id": app.chain_id, "name": "", "levels": []}))
                .await,
        );

        let policy = app.policy_id.to_string();
        let policy_fields = [
            ("id", policy.as_str()),
            ("name", "Faster"),
            ("target_hours", "1"),
            ("target_minutes", "0"),
            ("warning_kind", "elapsed_percent"),
            ("warning_value", "50"),
        ];
        reads(&user.call("admin_policies", &[]).await);
        forbidden(&user.call("save_policy", &policy_fields).await);
        forbidden(&user.call("save_policy", &policy_fields[1..]).await);
        forbidden(&user.call("preview_policy", &policy_fields).await);
        forbidden(&user.call("apply_policy", &[("id", policy.as_str())]).await);
        forbidden(
            &user
                .call(
                    "save_calendar",
                    &[
                        ("name", "Office"),
                        ("time_zone", "UTC"),
                        ("windows", "mon-fri 09:00-17:00"),
                    ],
                )
                .await,
        );

        // Everyone sees their department's people (without their phones), nobody edits.
        let (status, directory) = user.call("admin_directory", &[]).await;
        assert_eq!(status, StatusCode::OK, "{directory}");
        assert_eq!(directory["can_edit"], false);
        assert!(directory["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["department"] == "finance" && (u["phone"].is_null() || u["email"] == email)));
        forbidden(
            &user
                .call(
                    "put_department",
                    &[("key", "finance"), ("name", "Taken over"), ("head", email)],
                )
                .await,
        );
        forbidden(
            &user
                .call(
                    "put_user",
                    &[
                        ("email", email),
                        ("name", "Me"),
                        ("role", "admin"),
                        ("department", "finance"),
                    ],
                )
                .await,
        );
        forbidden(
            &user
                .call("set_password", &[("email", ADMIN), ("password", "hijacked-password")])
                .await,
        );

        assert_eq!(app.counts().await, before, "{email} changed nothing");
        assert_eq!(
            app.escalator.store().chain(app.chain_id).await.unwrap().unwrap(),
            chain_before
        );
        assert_eq!(
            app.escalator.store().policy(app.policy_id).await.unwrap().unwrap(),
            policy_before
        );
        let me = app.escalator.store().user(email).await.unwrap().unwrap();
        assert_ne!(
            me.role,
            escalator_domain::Role::Admin,
            "{email} did not promote themselves"
        );
    }
    // The admin's password still works.
    Browser::sign_in(&app, ADMIN).await;
}

async fn a_policy_preview_changes_nothing_then_save_and_apply_do(app: TestApp) {
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let store = app.escalator.store();
    let open = || async {
        let mut w = store
            .workflows(&WorkflowFilter {
                policy_id: Some(app.policy_id),
                open_only: true,
                limit: 1000,
                ..WorkflowFilter::default()
            })
            .await
            .unwrap();
        w.sort_by_key(|w| w.id);
        w
    };
    let workflows_before = open().await;
    assert!(!workflows_before.is_empty(), "the demo has open workflows");
    let policy_before = store.policy(app.policy_id).await.unwrap().unwrap();
    let counts_before = app.counts().await;

    let policy = app.policy_id.to_string();
    // 48 h instead of 24 h: every open workflow's deadline moves by a day.
    let fields = [
        ("id", policy.as_str()),
        ("name", "Standard"),
        ("target_hours", "48"),
        ("target_minutes", "0"),
        ("warning_kind", "before_deadline"),
        ("warning_value", "120"),
        ("calendar_id", ""),
    ];
    let (status, preview) = admin.call("preview_policy", &fields).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["open_workflows"], json!(workflows_before.len()), "{preview}");
    let impacts = preview["workflows"].as_array().unwrap();
    assert_eq!(impacts.len(), workflows_before.len(), "{preview}");
    for impact in impacts {
        let old: chrono::DateTime<chrono::Utc> = serde_json::from_value(impact["old_due_at"].clone()).unwrap();
        let new: chrono::DateTime<chrono::Utc> = serde_json::from_value(impact["new_due_at"].clone()).unwrap();
        assert_eq!(new - old, chrono::TimeDelta::hours(24), "{impact}");
    }

    // An invalid proposal is refused with its field; nothing is previewed.
    let mut bad = fields;
    bad[2] = ("target_hours", "0");
    let (status, body) = admin.call("preview_policy", &bad).await;
    assert_fails(
        &(status, body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("target_seconds"),
    );
    let mut bad = fields;
    bad[5] = ("warning_value", "3000");
    assert_fails(
        &admin.call("preview_policy", &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("warning.seconds"),
    );

    // Previewing changed nothing at all.
    assert_eq!(store.policy(app.policy_id).await.unwrap().unwrap(), policy_before);
    assert_eq!(open().await, workflows_before);
    assert_eq!(app.counts().await, counts_before);

    // Saving makes version 2; open workflows keep version 1 until applied.
    let (status, saved) = admin.call("save_policy", &fields).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["version"], json!(policy_before.version + 1));
    assert_eq!(saved["target_seconds"], 48 * 3600);
    assert_eq!(saved["calendar"], "24/7");
    assert!(open()
        .await
        .iter()
        .all(|w| w.state.policy_version == policy_before.version));

    let (status, applied) = admin.call("apply_policy", &[("id", policy.as_str())]).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["applied"], json!(workflows_before.len()));
    let after = open().await;
    for (old, new) in workflows_before.iter().zip(&after) {
        assert_eq!(new.state.policy_version, policy_before.version + 1);
        assert_eq!(new.state.due_at - old.state.due_at, chrono::TimeDelta::hours(24));
    }
    let audit = audit_actions(&app, ADMIN).await;
    assert!(audit.iter().any(|(a, _)| a == "policy_updated"));
    assert_eq!(
        audit.iter().filter(|(a, _)| a == "policy_applied").count(),
        workflows_before.len()
    );

    // A new policy, measured in percent.
    let (status, created) = admin
        .call(
            "save_policy",
            &[
                ("name", "Quick"),
                ("target_hours", "2"),
                ("target_minutes", "30"),
                ("warning_kind", "elapsed_percent"),
                ("warning_value", "80"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["target_seconds"], 9000);
    assert_eq!(created["warning_kind"], "elapsed_percent");
    assert_eq!(created["version"], 1);
    let (status, data) = admin.call("admin_policies", &[]).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    assert_eq!(data["policies"].as_array().unwrap().len(), 2);
    // The zone rules in use are named, and with unchanged rules no deadline would move.
    let rules = data["zone_rules"].as_str().unwrap();
    assert!(rules.contains("bundled copy"), "{rules}");
    let (status, preview) = admin.call("preview_zone_rules", &[]).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["impact"]["workflows"], serde_json::json!([]), "{preview}");
    let (status, applied) = admin.call("apply_zone_rules", &[]).await;
    assert_eq!((status, applied), (StatusCode::OK, serde_json::json!(0)));
}

async fn calendars_are_edited_as_text(app: TestApp) {
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let (status, created) = admin
        .call(
            "save_calendar",
            &[
                ("name", "Berlin office"),
                ("time_zone", "Europe/Berlin"),
                ("windows", "mon-thu 09:00-12:00 13:00-17:00\nfri 09:00-13:00\n"),
                (
                    "holidays",
                    "12-25 Christmas Day\n2026-12-24 Christmas Eve\n05-08 (from 2027) Liberation Day",
                ),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        created["windows"],
        "mon 09:00-12:00 13:00-17:00\ntue 09:00-12:00 13:00-17:00\nwed 09:00-12:00 13:00-17:00\n\
         thu 09:00-12:00 13:00-17:00\nfri 09:00-13:00"
    );
    assert_eq!(
        created["holidays"],
        "05-08 (from 2027) Liberation Day\n12-25 Christmas Day\n2026-12-24 Christmas Eve"
    );
    let stored = app.escalator.store().calendar(id).await.unwrap().unwrap();
    assert_eq!(stored.calendar.holidays().len(), 3);
    // A yearly holiday with a first year does not fall before it.
    let may_8 = |y| chrono::NaiveDate::from_ymd_opt(y, 5, 8).unwrap();
    assert!(stored.calendar.holiday_on(may_8(2026)).is_none());
    assert!(stored.calendar.holiday_on(may_8(2027)).is_some());

    let id_text = id.to_string();
    let edit = |windows: &'static str, time_zone: &'static str| {
        [
            ("id", id_text.as_str()),
            ("name", "Berlin office"),
            ("time_zone", time_zone),
            ("windows", windows),
        ]
    };
    for (fields, field) in [
        (edit("funday 09:00-17:00", "Europe/Berlin"), "windows"),
        (edit("mon 09:00-12:00 11:00-17:00", "Europe/Berlin"), "windows"),
        (edit("mon 17:00-09:00", "Europe/Berlin"), "windows"),
        (edit("mon 09:00-17:00", "Mars/Olympus"), "time_zone"),
    ] {
        assert_fails(
            &admin.call("save_calendar", &fields).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some(field),
        );
    }
    assert_fails(
        &admin
            .call(
                "save_calendar",
                &[
                    ("name", "x"),
                    ("time_zone", "UTC"),
                    ("windows", "mon 09:00-17:00"),
                    ("holidays", "13-40 Nonsense"),
                ],
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("holidays"),
    );
    assert_eq!(app.escalator.store().calendar(id).await.unwrap().unwrap(), stored);

    let ok = edit("mon-fri 08:00-16:00", "Europe/Berlin");
    let (status, updated) = admin.call("save_calendar", &ok).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["holidays"], "", "holidays left out are removed");
    let audit = audit_actions(&app, ADMIN).await;
    assert!(audit.iter().any(|(a, _)| a == "calendar_created"));
    assert!(audit.iter().any(|(a, _)| a == "calendar_updated"));

    // A policy can be measured in it.
    let calendar = id.to_string();
    let (status, policy) = admin
        .call(
            "save_policy",
            &[
                ("name", "Business hours"),
                ("target_hours", "8"),
                ("target_minutes", ""),
                ("warning_kind", "before_deadline"),
                ("warning_value", "60"),
                ("calendar_id", calendar.as_str()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    assert_eq!(policy["calendar"], "Berlin office");
}

async fn admins_manage_departments_users_and_passwords(app: TestApp) {
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let (status, department) = admin
        .call("put_department", &[("key", "legal"), ("name", "Legal"), ("head", "")])
        .await;
    assert_eq!(status, StatusCode::OK, "{department}");
    assert_eq!(department["head"], Value::Null);

    let new_user = "lena.legal@acme.example";
    let (status, user) = admin
        .call(
            "put_user",
            &[
                ("email", new_user),
                ("name", "Lena Legal"),
                ("role", "department_head"),
                ("department", "legal"),
                ("manager", COO),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["role"], "department_head");
    let stored = app.escalator.store().user(new_user).await.unwrap().unwrap();
    assert_eq!(stored.department.map(|d| d.to_string()).as_deref(), Some("legal"));
    assert_eq!(stored.manager.map(|m| m.to_string()).as_deref(), Some(COO));

    let (status, department) = admin
        .call(
            "put_department",
            &[("key", "legal"), ("name", "Legal"), ("head", new_user)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{department}");
    assert_eq!(department["head"], new_user);
    let legal = app.escalator.store().department("legal").await.unwrap().unwrap();
    assert_eq!(legal.head.map(|h| h.to_string()).as_deref(), Some(new_user));

    // Validation names the field.
    assert_fails(
        &admin
            .call(
                "put_department",
                &[("key", "legal"), ("name", "Legal"), ("head", "ghost@acme.example")],
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("head"),
    );
    assert_fails(
        &admin
            .call("put_department", &[("key", "Not A Key"), ("name", "x")])
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("key"),
    );
    assert_fails(
        &admin
            .call("put_user", &[("email", new_user), ("name", "Lena"), ("role", "boss")])
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("role"),
    );
    assert_fails(
        &admin
            .call(
                "put_user",
                &[
                    ("email", new_user),
                    ("name", "Lena"),
                    ("role", "approver"),
                    ("department", "nowhere"),
                ],
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("department"),
    );
    assert_eq!(
        app.escalator.store().user(new_user).await.unwrap().unwrap().role,
        escalator_domain::Role::DepartmentHead,
        "a refused edit changed nothing"
    );

    // Passwords: set by an admin, at least 8 characters, for existing users only.
    assert_fails(
        &admin
            .call("set_password", &[("email", new_user), ("password", "short")])
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("password"),
    );
    assert_fails(
        &admin
            .call(
                "set_password",
                &[("email", "ghost@acme.example"), ("password", "long enough")],
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let (status, body) = admin
        .call("set_password", &[("email", new_user), ("password", "correct horse")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut lena = Browser::sign_in_with(&app, new_user, "correct horse").await;
    let (status, me) = lena.call("whoami", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], new_user);
    // Lena is a head, not an admin: she sees her department's people, and may not edit.
    let (status, hers) = lena.call("admin_directory", &[]).await;
    assert_eq!(status, StatusCode::OK, "{hers}");
    assert_eq!(hers["can_edit"], false);
    let people: Vec<&str> = hers["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(people, vec![new_user], "only legal's people");

    let audit = audit_actions(&app, ADMIN).await;
    for action in ["department_upserted", "user_upserted", "password_set"] {
        assert!(audit.iter().any(|(a, _)| a == action), "{action} in {audit:?}");
    }
    assert!(
        !audit.iter().any(|(_, d)| d.to_string().contains("correct horse")),
        "the password is not in the audit log"
    );

    let (status, data) = admin.call("admin_directory", &[]).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    assert!(data["departments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["key"] == "legal" && d["head"] == new_user));
    assert!(data["users"].as_array().unwrap().iter().any(|u| u["email"] == new_user));
}

async fn admin_pages_render_without_javascript(app: TestApp) {
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let html = admin.page_html("/chains").await;
    assert!(
        html.contains(&format!(r#"data-testid="chain-{}""#, app.chain_id)),
        "{html}"
    );
    assert!(html.contains("Department head, then COO"));
    // People by name: the COO's level, and the editor's suggestions.
    assert!(
        html.contains("<li>Olivia Operations<!> — "),
        "the user level by name: {html}"
    );
    assert!(html.contains(">Olivia Operations</option>"), "{html}");
    assert!(html.contains(r#"data-testid="level-row""#), "the editor renders");
    let html = admin.page_html(&format!("/chains?edit={}", app.chain_id)).await;
    assert_eq!(
        html.matches(r#"data-testid="level-row""#).count(),
        2,
        "the demo chain's levels"
    );
    assert!(html.contains(r#"data-testid="save-chain""#));

    let html = admin.page_html("/policies").await;
    assert!(html.contains(&format!(r#"data-testid="policy-{}""#, app.policy_id)));
    let html = admin.page_html(&format!("/policies?policy={}", app.policy_id)).await;
    assert!(html.contains(r#"data-testid="preview-policy""#));
    let html = admin.page_html("/directory").await;
    assert!(html.contains(FINANCE_HEAD) && html.contains(r#"data-testid="department-finance""#));
    // Heads and managers by name (the e-mail in the title), departments by name.
    assert!(
        html.contains(&format!(
            r#"title="{FINANCE_HEAD}" class="person">Dana Finance-Head</span>"#
        )),
        "{html}"
    );
    assert!(html.contains(">Mike Manager</span>"), "alice's manager: {html}");
    let html = admin.page_html(&format!("/directory?user={FINANCE_APPROVER}")).await;
    assert!(html.contains(r#"data-testid="set-password""#));

    // A group's members by name.
    let members = format!("{FINANCE_APPROVER}\n{FINANCE_HEAD}");
    let (status, body) = admin
        .call(
            "save_group",
            &[
                ("key", "finance-approvers"),
                ("name", "Finance approvers"),
                ("strategy", "first_present"),
                ("members", members.as_str()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let html = admin.page_html("/groups").await;
    assert!(
        html.contains(&format!(
            r#"title="{FINANCE_APPROVER}" class="person">Alice Approver</span>"#
        )),
        "{html}"
    );
    assert!(html.contains(">Dana Finance-Head</span>"), "{html}");

    // A head reads chains, policies and their department's people, without the editors.
    let head = Browser::sign_in(&app, FINANCE_HEAD).await;
    for (path, shown) in [
        ("/chains", "Department head, then COO"),
        ("/policies", r#"data-testid="policies""#),
        ("/directory", FINANCE_APPROVER),
    ] {
        let html = head.page_html(path).await;
        assert!(html.contains(shown), "{path}: {html}");
        for editor in [
            "new-chain",
            "edit-chain",
            "new-policy",
            "edit-policy",
            "new-user",
            "edit-user",
        ] {
            assert!(
                !html.contains(&format!(r#"data-testid="{editor}""#)),
                "{path} shows {editor}"
            );
        }
    }
    let html = head.page_html("/directory").await;
    assert!(!html.contains(HR_APPROVER), "only finance's people");
    // An approver may not read chains or policies at all.
    let approver = Browser::sign_in(&app, FINANCE_APPROVER).await;
    let html = approver.page_html("/chains").await;
    assert!(html.contains("only admins and department heads"), "{html}");
}

on_both_one_at_a_time!(the_reports_page_draws_a_departments_promises_and_exports_them);

async fn the_reports_page_draws_a_departments_promises_and_exports_them(app: TestApp) {
    // One finance stage decided in time.
    let (status, body) = app
        .post("/api/v1/workflows", &app.admin, app.new_workflow("RP-1"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, body) = app
        .post(&format!("/api/v1/workflows/{id}/complete"), &app.admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A head: their department only, charts drawn on the server with their numbers.
    let head = Browser::sign_in(&app, FINANCE_HEAD).await;
    let html = head.page_html("/reports").await;
    assert!(html.contains(r#"data-testid="compliance-chart""#), "{html}");
    assert!(html.contains(r#"data-testid="report-decided">1<"#), "{html}");
    assert!(html.contains(r#"<option value="finance" selected"#), "{html}");
    assert!(!html.contains(r#"<option value="hr""#), "no other department to choose");
    let html = head.page_html("/reports?department=hr").await;
    assert!(html.contains("their own department"), "refused, and says why: {html}");
    let csv = head.page("/ui/export/report.csv?table=department").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(
        csv.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("key,name,met,breached,cancelled,escalations,reminders,over_seconds,compliance_percent")
    );
    assert_eq!(lines.next(), Some("finance,Finance,1,0,0,0,0,0,100.0"));
    let bad = head.page("/ui/export/report.csv?table=salaries").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // An admin chooses among all departments; an approver has no reports.
    let admin = Browser::sign_in(&app, ADMIN).await;
    let html = admin.page_html("/reports?department=hr&period=week").await;
    assert!(html.contains(r#"<option value="hr" selected"#), "{html}");
    assert!(html.contains(r#"data-testid="report-decided">0<"#), "{html}");
    let approver = Browser::sign_in(&app, FINANCE_APPROVER).await;
    let html = approver.page_html("/reports").await;
    assert!(
        html.contains("SLA reports are for admins and department heads"),
        "{html}"
    );
    let refused = approver.page("/ui/export/report.csv?table=compliance").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
