//! The UI's server functions and pages over real HTTP, on SQLite and PostgreSQL: sign-in
//! and sessions, role rules on direct calls, the cross-site check, throttled sign-ins,
//! server-rendered pages and the CSV export.

#[macro_use]
mod common;

use common::*;
use escalator_engine::demo::DEMO_PASSWORD;
use escalator_storage::{AuditFilter, OutboxStatus};
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_one_at_a_time!(
    sign_in_starts_a_stored_session_and_sign_out_ends_it,
    activity_moves_the_idle_deadline_at_most_once_a_minute,
    a_department_head_sees_only_their_department,
    approvers_and_viewers_get_only_what_their_role_allows,
    cross_site_requests_are_refused_and_change_nothing,
    failed_sign_ins_are_audited_and_throttled,
    pages_need_a_session_and_render_without_javascript,
    a_long_clock_is_summed_and_changes_of_offset_are_marked,
    admins_export_the_audit_log_as_csv,
    my_settings_change_my_profile_messages_and_password,
    tokens_webhooks_and_dead_letters_are_managed_from_the_ui,
);

fn rows(page: &Value) -> Vec<Value> {
    page["rows"].as_array().cloned().unwrap_or_default()
}

async fn sign_in_starts_a_stored_session_and_sign_out_ends_it(app: TestApp) {
    let mut browser = Browser::new(&app);
    let response = browser
        .request(Method::POST, "/ui/fn/login")
        .form(&[("email", FINANCE_HEAD), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.starts_with("escalator_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Max-Age="), "idle expiry: {set_cookie}");
    browser.cookie = Some(set_cookie.split(';').next().unwrap().to_string());

    // The session lives in the database, so any replica can serve the next request.
    let id = browser.session_id();
    let stored = app
        .escalator
        .store()
        .load_session(&id, chrono::Utc::now())
        .await
        .unwrap();
    assert!(stored.expect("the session is stored").data.contains(FINANCE_HEAD));

    let (status, me) = browser.call("whoami", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], FINANCE_HEAD);
    assert_eq!(me["role"], "department_head");

    let (status, _) = browser.call("logout", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.escalator
            .store()
            .load_session(&id, chrono::Utc::now())
            .await
            .unwrap(),
        None
    );
    browser.cookie = Some(format!("escalator_session={id}"));
    let (status, me) = browser.call("whoami", &[]).await;
    assert_eq!(
        (status, me),
        (StatusCode::OK, Value::Null),
        "the old cookie is worthless"
    );
    let (status, body) = browser.call("pending", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["kind"], "unauthenticated");

    let audit = app
        .escalator
        .store()
        .audit_entries(&AuditFilter {
            actor: Some(FINANCE_HEAD.into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, vec!["logout", "login"]);
}

async fn activity_moves_the_idle_deadline_at_most_once_a_minute(app: TestApp) {
    let mut browser = Browser::sign_in(&app, FINANCE_HEAD).await;
    let id = browser.session_id();
    let store = app.escalator.store();
    let stored = || async { store.load_session(&id, chrono::Utc::now()).await.unwrap().unwrap() };

    // The first request after sign-in records when the session was seen.
    assert_eq!(browser.call("whoami", &[]).await.0, StatusCode::OK);
    let first = stored().await;
    let seen = |record: &escalator_storage::SessionRecord| {
        serde_json::from_str::<Value>(&record.data).unwrap()["seen"].as_i64()
    };
    let first_seen = seen(&first).expect("`seen` recorded");

    // Within the minute, requests read the session but write nothing.
    for _ in 0..3 {
        assert_eq!(browser.call("whoami", &[]).await.0, StatusCode::OK);
    }
    assert_eq!(stored().await, first);

    // A minute later (the stored `seen` set back), the next request moves the deadline on.
    let mut data: Value = serde_json::from_str(&first.data).unwrap();
    data["seen"] = Value::from(first_seen - 120);
    let aged = escalator_storage::SessionRecord {
        data: data.to_string(),
        expires_at: first.expires_at - chrono::Duration::minutes(2),
        ..first.clone()
    };
    store.save_session(&aged).await.unwrap();
    assert_eq!(browser.call("whoami", &[]).await.0, StatusCode::OK);
    let touched = stored().await;
    assert!(touched.expires_at > aged.expires_at, "{touched:?} after {aged:?}");
    assert!(seen(&touched).unwrap() > first_seen - 120, "{touched:?}");
}

async fn a_department_head_sees_only_their_department(app: TestApp) {
    let mut head = Browser::sign_in(&app, FINANCE_HEAD).await;
    let (status, page) = head.call("pending", &[]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let finance = rows(&page);
    assert_eq!(finance.len(), 3, "{page}");
    assert!(finance.iter().all(|r| r["department"] == "finance"));
    // Least time left first.
    let due: Vec<&str> = finance.iter().map(|r| r["due_at"].as_str().unwrap()).collect();
    let mut sorted = due.clone();
    sorted.sort();
    assert_eq!(due, sorted);
    let total: i64 = page["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[1].as_i64().unwrap())
        .sum();
    assert_eq!(total, 3, "counts cover the department only: {page}");
    assert_eq!(page["departments"].as_array().unwrap().len(), 1);

    // Asking for another department directly yields nothing, not HR's workflows.
    let (status, page) = head.call("pending", &[("department", "hr")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(rows(&page).is_empty(), "{page}");
    assert!(page["counts"].as_array().unwrap().is_empty(), "{page}");

    // Another department's workflow is not there, whatever the id.
    let hr = app.workflow_id("LV-2001").await;
    let (status, body) = head.call("workflow", &[("id", &hr.to_string())]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(!body.to_string().contains("Parental leave"));
    let (status, _) = head
        .call("act", &[("id", &hr.to_string()), ("action", "complete")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let lv = app.escalator.store().workflow(hr).await.unwrap().unwrap();
    assert_eq!(lv.state.status.as_str(), "pending", "nothing happened to it");

    // Their own: full detail, actions of a head, and reassignment within the department only.
    let po = app.workflow_id("PO-1002").await;
    let (status, detail) = head.call("workflow", &[("id", &po.to_string())]).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["row"]["title"], "Conference travel");
    assert!(!detail["segments"].as_array().unwrap().is_empty());
    let actions: Vec<&str> = detail["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"reassign") && actions.contains(&"hold"),
        "{actions:?}"
    );
    let (status, body) = head
        .call(
            "act",
            &[
                ("id", &po.to_string()),
                ("action", "reassign"),
                ("assignee", HR_APPROVER),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "outside the department: {body}");
    assert_eq!(body["kind"], "forbidden");
    let (status, body) = head
        .call(
            "act",
            &[
                ("id", &po.to_string()),
                ("action", "reassign"),
                ("assignee", FINANCE_MANAGER),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reassigned = app.escalator.store().workflow(po).await.unwrap().unwrap();
    assert_eq!(reassigned.state.assignee, FINANCE_MANAGER);
    // The timeline reads as a story: people by name, newest first, the chain in words.
    let (_, detail) = head.call("workflow", &[("id", &po.to_string())]).await;
    let story = detail["timeline"].as_array().unwrap();
    assert_eq!(story[0]["action"], "reassign", "{detail}");
    assert_eq!(story[0]["actor"], "Dana Finance-Head");
    assert!(
        story[0]["headline"].as_str().unwrap().ends_with("to Mike Manager"),
        "{}",
        story[0]["headline"]
    );
    assert!(
        story.last().unwrap()["headline"]
            .as_str()
            .unwrap()
            .starts_with("Started at stage"),
        "{detail}"
    );
    assert_eq!(detail["assignee_name"], "Mike Manager");
    assert_eq!(detail["steps"][1]["target"], "Head of the workflow's department");

    // The tick reminds the approvers; the head sees and acknowledges their department's reminders only.
    app.escalator.tick().await.unwrap();
    let (status, reminders) = head.call("reminders", &[]).await;
    assert_eq!(status, StatusCode::OK, "{reminders}");
    let reminders = reminders.as_array().unwrap().clone();
    assert!(!reminders.is_empty());
    for r in &reminders {
        let w = app
            .escalator
            .store()
            .workflow(r["workflow_id"].as_i64().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(w.department, "finance", "{r}");
    }
    let id = reminders[0]["id"].as_i64().unwrap().to_string();
    let mut hr = Browser::sign_in(&app, HR_APPROVER).await;
    let (status, _) = hr.call("acknowledge", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not theirs to acknowledge");
    let (status, body) = head.call("acknowledge", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, after) = head.call("reminders", &[]).await;
    let acked = after
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"].as_i64().unwrap().to_string() == id)
        .cloned();
    assert_eq!(acked.unwrap()["acknowledged_by"], FINANCE_HEAD);
}

async fn approvers_and_viewers_get_only_what_their_role_allows(app: TestApp) {
    let mut approver = Browser::sign_in(&app, FINANCE_APPROVER).await;
    let (_, page) = approver.call("pending", &[]).await;
    let mine = rows(&page);
    assert_eq!(mine.len(), 2, "{page}");
    assert!(mine.iter().all(|r| r["assignee"] == FINANCE_APPROVER));
    let (_, page) = approver.call("pending", &[("assignee", FINANCE_MANAGER)]).await;
    assert!(rows(&page).is_empty(), "an approver cannot list someone else's: {page}");

    let po = app.workflow_id("PO-1001").await;
    let (status, body) = approver
        .call("act", &[("id", &po.to_string()), ("action", "cancel")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = approver
        .call("act", &[("id", &po.to_string()), ("action", "complete")])
        .await;
    assert_eq!(status, StatusCode::OK);

    let mut viewer = Browser::sign_in(&app, FINANCE_VIEWER).await;
    let (_, page) = viewer.call("pending", &[]).await;
    assert!(rows(&page).iter().all(|r| r["department"] == "finance"));
    let other = app.workflow_id("PO-1003").await;
    let (_, detail) = viewer.call("workflow", &[("id", &other.to_string())]).await;
    assert_eq!(detail["actions"], Value::Array(vec![]), "viewers are read-only");
    let (status, _) = viewer
        .call(
            "act",
            &[("id", &other.to_string()), ("action", "hold"), ("reason", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = viewer.call("audit", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the audit log is for admins");
}

async fn cross_site_requests_are_refused_and_change_nothing(app: TestApp) {
    let head = Browser::sign_in(&app, FINANCE_HEAD).await;
    let po = app.workflow_id("PO-1003").await;
    let before = app.counts().await;
    let response = head
        .bare(Method::POST, "/ui/fn/act")
        .header(COOKIE, head.cookie.as_ref().unwrap())
        .header(ORIGIN, "https://evil.example")
        .form(&[("id", po.to_string().as_str()), ("action", "cancel")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "Origin");
    // No Origin and no Fetch metadata: refused too.
    let response = head
        .bare(Method::POST, "/ui/fn/act")
        .header(COOKIE, head.cookie.as_ref().unwrap())
        .form(&[("id", po.to_string().as_str()), ("action", "cancel")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.counts().await, before);
    let w = app.escalator.store().workflow(po).await.unwrap().unwrap();
    assert!(w.state.status.is_open());
}

async fn failed_sign_ins_are_audited_and_throttled(app: TestApp) {
    let mut browser = Browser::new(&app);
    for _ in 0..escalator_engine::auth::MAX_FAILED_LOGINS {
        let (status, body) = browser
            .call("login", &[("email", FINANCE_HEAD), ("password", "wrong password")])
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["kind"], "unauthenticated");
    }
    // Even the right password is refused until the window passes.
    let (status, body) = browser
        .call("login", &[("email", FINANCE_HEAD), ("password", DEMO_PASSWORD)])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (_, me) = browser.call("whoami", &[]).await;
    assert_eq!(me, Value::Null);
    // Others are not affected.
    Browser::sign_in(&app, FINANCE_APPROVER).await;

    let audit = app
        .escalator
        .store()
        .audit_entries(&AuditFilter {
            actor: Some(FINANCE_HEAD.into()),
            limit: 20,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let failed = audit.iter().filter(|a| a.action == "login_failed").count();
    assert_eq!(failed, escalator_engine::auth::MAX_FAILED_LOGINS);
    assert_eq!(audit[0].action, "login_throttled");
    assert_eq!(
        audit[0].details["client"], "127.0.0.1",
        "the client address is recorded"
    );

    // A plain form post (no JavaScript) is sent back to the form with the reason.
    let response = browser
        .request(Method::POST, "/ui/fn/login")
        .header("accept", "text/html")
        .form(&[("email", "nobody@acme.example"), ("password", "whatever1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers().get(LOCATION).unwrap().to_str().unwrap();
    assert!(location.starts_with("/login?error=invalid"), "{location}");
}

async fn pages_need_a_session_and_render_without_javascript(app: TestApp) {
    let anonymous = Browser::new(&app);
    let response = anonymous.page("/workflows/1?x=1").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(
        response.headers().get(LOCATION).unwrap(),
        "/login?next=/workflows/1%3Fx%3D1"
    );
    let login = anonymous.page("/login").await;
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(
        html.contains(r#"action="/ui/fn/login""#),
        "a plain form that works without JS"
    );

    let head = Browser::sign_in(&app, FINANCE_HEAD).await;
    let response = head.page("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    // The server-rendered HTML already holds the table: readable without JavaScript.
    assert!(html.contains("Conference travel"), "finance's workflows are rendered");
    assert!(!html.contains("Parental leave"), "HR's are not");
    assert!(html.contains(r#"data-testid="countdown""#));
    let hr = app.workflow_id("LV-2001").await;
    let html = head.page(&format!("/workflows/{hr}")).await.text().await.unwrap();
    assert!(!html.contains("Parental leave"));
    let po = app.workflow_id("PO-1003").await;
    let html = head.page(&format!("/workflows/{po}")).await.text().await.unwrap();
    assert!(html.contains("Office furniture") && html.contains("Why the deadline is then"));
}

async fn a_long_clock_is_summed_and_changes_of_offset_are_marked(app: TestApp) {
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let calendar = json!({
        "name": "Berlin office", "time_zone": "Europe/Berlin",
        "windows": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day,
            "saturday": [], "sunday": []},
    });
    let (status, calendar) = app.post("/api/v1/calendars", &app.admin, calendar).await;
    assert_eq!(status, StatusCode::CREATED, "{calendar}");
    let policy = json!({"name": "a working day", "target_seconds": 28800,
        "warning": {"kind": "before_deadline", "seconds": 3600}, "calendar_id": calendar["id"]});
    let (status, policy) = app.post("/api/v1/sla-policies", &app.admin, policy).await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    // Imported four and a half years late: Monday 2022-03-21, 08:00 UTC. Its first listed
    // weeks hold Berlin's change to summer time on Sunday 2022-03-27 (02:00 → 03:00).
    let mut body = app.new_workflow("OLD-DST");
    body["policy_id"] = policy["id"].clone();
    body["started_at"] = json!("2022-03-21T08:00:00Z");
    let id = app.create_workflow(body).await["id"].as_i64().unwrap();

    let admin = Browser::sign_in(&app, ADMIN).await;
    let html = admin.page(&format!("/workflows/{id}")).await.text().await.unwrap();
    // The middle of the clock is one summed row, with its stretches and totals.
    let omitted = html.matches(r#"class="seg-omitted""#).count();
    assert_eq!(omitted, 1, "one summed row");
    assert!(html.contains(" stretches: "), "the summed row tells what it holds");
    // The segment in which the clocks went forward says so, with both offsets.
    assert!(
        html.contains("the clocks went forward (+01:00 → +02:00): local times skipped do not count"),
        "the change of offset is marked"
    );
    assert!(
        !html.contains("went back"),
        "no autumn change in the first and last weeks listed"
    );
}

async fn admins_export_the_audit_log_as_csv(app: TestApp) {
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let po = app.workflow_id("PO-1001").await;
    let response = admin
        .page(&format!("/ui/export/audit.csv?workflow_id={po}&action=create"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,at,actor,action,workflow_id,details");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains(&format!(",create,{po},")), "{csv}");

    let (status, page) = Browser::sign_in(&app, ADMIN)
        .await
        .call("audit", &[("query[action]", "login")])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(rows(&page).iter().all(|r| r["action"] == "login"));
    assert!(!rows(&page).is_empty());
    // Details read as labelled fields; the JSON stays.
    let (_, page) = Browser::sign_in(&app, ADMIN)
        .await
        .call(
            "audit",
            &[("query[action]", "create"), ("query[workflow_id]", &po.to_string())],
        )
        .await;
    let create = &rows(&page)[0];
    let fields = create["fields"].as_array().unwrap();
    assert!(
        fields.iter().any(|f| f[0] == "External id" && f[1] == "PO-1001"),
        "{create}"
    );
    assert!(
        fields
            .iter()
            .any(|f| f[0] == "Due at" && f[1].as_str().unwrap().ends_with("UTC")),
        "{create}"
    );
    assert!(create["details"].as_str().unwrap().contains("\"external_id\""));

    let head = Browser::sign_in(&app, FINANCE_HEAD).await;
    let response = head.page("/ui/export/audit.csv").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, body) = admin.call("audit", &[("query[from]", "yesterday")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "from");
}

async fn my_settings_change_my_profile_messages_and_password(app: TestApp) {
    let mut alice = Browser::sign_in(&app, FINANCE_APPROVER).await;
    let (status, body) = alice
        .call(
            "save_profile",
            &[
                ("user", FINANCE_APPROVER),
                ("name", "Alice A. Approver"),
                ("phone", "+49 151 1234 5678"),
                ("time_zone", "Europe/Berlin"),
                ("quiet_start", "22:00"),
                ("quiet_end", "07:00"),
                ("reminder_in_app", "on"),
                ("escalation_email", "on"),
                ("escalation_sms", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, page) = alice.call("settings", &[]).await;
    assert_eq!(page["name"], "Alice A. Approver");
    assert_eq!(page["phone"], "+4915112345678");
    assert_eq!(page["time_zone"], "Europe/Berlin");
    assert_eq!(
        (page["quiet_start"].as_str(), page["quiet_end"].as_str()),
        (Some("22:00"), Some("07:00"))
    );
    let reminder = &page["channels"][0];
    assert_eq!(
        (
            &reminder["kind"],
            &reminder["email"],
            &reminder["in_app"],
            &reminder["sms"]
        ),
        (&json!("reminder"), &json!(false), &json!(true), &json!(false))
    );
    let escalation = &page["channels"][1];
    assert_eq!((&escalation["email"], &escalation["sms"]), (&json!(true), &json!(true)));
    // Her pages now tell times in her zone, and name people.
    app.escalator.tick().await.unwrap();
    let (_, reminders) = alice.call("reminders", &[]).await;
    let first = &reminders[0];
    assert!(first["due_local"].as_str().unwrap().ends_with(" CET"), "{first}");
    let (_, pending) = alice.call("pending", &[]).await;
    assert_eq!(pending["rows"][0]["assignee_name"], "Alice A. Approver", "{pending}");

    // Bad input names its field and changes nothing.
    let (status, body) = alice
        .call(
            "save_profile",
            &[
                ("user", FINANCE_APPROVER),
                ("name", "Alice"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "time_zone", "{body}");
    let (status, body) = alice
        .call(
            "save_profile",
            &[("user", FINANCE_APPROVER), ("name", "Alice"), ("quiet_start", "22:00")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "quiet_end", "{body}");

    // The password changes only with the current one, and the new one signs in.
    let (status, body) = alice
        .call(
            "change_password",
            &[
                ("current_password", "wrong-password"),
                ("new_password", "a-brand-new-secret"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "current_password");
    let (status, body) = alice
        .call(
            "change_password",
            &[
                ("current_password", DEMO_PASSWORD),
                ("new_password", "a-brand-new-secret"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let password = |p: &'static str| app.escalator.authenticate_password(FINANCE_APPROVER, p);
    assert!(password("a-brand-new-secret").await.unwrap().is_some());
    assert!(password(DEMO_PASSWORD).await.unwrap().is_none());
}

async fn tokens_webhooks_and_dead_letters_are_managed_from_the_ui(app: TestApp) {
    // An approver creates a token of their own: shown once, and it works on the API.
    let mut alice = Browser::sign_in(&app, FINANCE_APPROVER).await;
    let (status, secret) = alice.call("create_token", &[("name", "ERP sync")]).await;
    assert_eq!(status, StatusCode::OK, "{secret}");
    let secret = secret.as_str().unwrap().to_string();
    let (status, _) = app.get("/api/v1/workflows", &secret).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = alice.call("integrations", &[]).await;
    assert_eq!(page["admin"], false);
    let tokens = page["tokens"].as_array().unwrap();
    assert!(tokens.iter().all(|t| t["user"] == FINANCE_APPROVER), "{page}");
    let mine = tokens.iter().find(|t| t["name"] == "ERP sync").unwrap();
    assert!(!page.to_string().contains(&secret), "the secret is never listed");
    assert_eq!(page["webhooks"], json!([]), "webhooks are the admins'");
    let (status, _) = alice.call("revoke_token", &[("id", &mine["id"].to_string())]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get("/api/v1/workflows", &secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked");

    // An admin registers a webhook (its secret shown once) and sends dead letters again.
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let (status, secret) = admin
        .call(
            "register_webhook",
            &[
                ("url", "https://hooks.example.com/esc"),
                ("event_types", "workflow.escalated, workflow.completed"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{secret}");
    assert!(secret.as_str().unwrap().starts_with("whsec_"));
    let (status, body) = admin
        .call(
            "register_webhook",
            &[
                ("url", "https://hooks.example.com/x"),
                ("event_types", "workflow.exploded"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, page) = admin.call("integrations", &[]).await;
    let hook = &page["webhooks"][0];
    assert_eq!(hook["url"], "https://hooks.example.com/esc");
    assert_eq!(hook["event_types"], json!(["workflow.escalated", "workflow.completed"]));
    let (status, _) = admin
        .call(
            "set_webhook_active",
            &[("id", &hook["id"].to_string()), ("active", "false")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = admin.call("integrations", &[]).await;
    assert_eq!(page["webhooks"][0]["active"], false);
    let (status, rotated) = admin
        .call("rotate_webhook_secret", &[("id", &hook["id"].to_string())])
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert!(rotated.as_str().unwrap().starts_with("whsec_") && rotated != secret);
    let stored = app
        .escalator
        .store()
        .webhook(hook["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Some(stored.secret.as_str()),
        rotated.as_str(),
        "deliveries sign with the new one"
    );

    // A dead letter, listed with its error, goes out again.
    app.escalator.tick().await.unwrap(); // the demo's reminders and escalations
    let store = app.escalator.store();
    let oldest = store
        .outbox(None, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .min()
        .unwrap();
    // Failed with no retry left: dead-lettered.
    store
        .outbox_failed(oldest, "SMTP 550 mailbox unavailable", None)
        .await
        .unwrap();
    let (_, page) = admin.call("integrations", &[]).await;
    let dead = page["dead_letters"].as_array().unwrap();
    assert_eq!(dead.len(), 1, "{page}");
    assert_eq!(dead[0]["error"], "SMTP 550 mailbox unavailable");
    let (status, count) = admin.call("retry_dead", &[("id", "all")]).await;
    assert_eq!((status, count), (StatusCode::OK, json!(1)));
    let (_, page) = admin.call("integrations", &[]).await;
    assert_eq!(page["dead_letters"], json!([]));

    // One that will never go out is discarded: kept on record, off the list, not retried.
    store
        .outbox_failed(oldest, "SMTP 550 mailbox unavailable", None)
        .await
        .unwrap();
    let id = oldest.to_string();
    let (status, _) = admin.call("discard_dead", &[("id", id.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = admin.call("integrations", &[]).await;
    assert_eq!(page["dead_letters"], json!([]), "{page}");
    let discarded = store.outbox(Some(OutboxStatus::Discarded), 500).await.unwrap();
    assert_eq!(discarded.iter().map(|m| m.id).collect::<Vec<_>>(), vec![oldest]);
    assert!(store.outbox(Some(OutboxStatus::Dead), 500).await.unwrap().is_empty());
    let (status, _) = admin.call("retry_dead", &[("id", id.as_str())]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a discarded message is not sent again");
    let (status, _) = admin.call("discard_dead", &[("id", id.as_str())]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "discarding twice");
    // All at once: every other dead letter, and none of the discarded.
    let others: Vec<i64> = store
        .outbox(None, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .filter(|&m| m != oldest)
        .take(2)
        .collect();
    for &other in &others {
        store.outbox_failed(other, "HTTP 410 gone", None).await.unwrap();
    }
    let (status, count) = admin.call("discard_dead", &[("id", "all")]).await;
    assert_eq!((status, count), (StatusCode::OK, json!(others.len())));
    assert_eq!(
        store.outbox(Some(OutboxStatus::Discarded), 500).await.unwrap().len(),
        1 + others.len()
    );
    let audit = store
        .audit_entries(&AuditFilter {
            action: Some("delivery_discarded".into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit.len(),
        1 + others.len(),
        "one entry per discarded message: {audit:?}"
    );
    assert!(
        audit.iter().any(|a| a.details["outbox_id"] == json!(oldest)),
        "{audit:?}"
    );
}
