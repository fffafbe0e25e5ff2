//! The REST API over real HTTP, on SQLite and PostgreSQL: every route's happy path, every
//! class of error with its JSON body, idempotency, role visibility and the seed scenario.
//!
//! Over 500 lines: one suite for the whole REST API, a test per behaviour, sharing `common`'s typed helpers.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use chrono::{SecondsFormat, TimeDelta, Utc};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both!(
    health_and_readiness,
    departments_are_upserted_listed_and_read,
    users_are_upserted_listed_and_read,
    sla_policies_are_created_read_and_replaced,
    escalation_chains_are_created_read_and_replaced,
    a_workflow_is_created_and_read_with_its_timeline,
    workflow_listings_filter_and_page,
    workflow_actions_complete_advance_reassign_cancel,
    the_seed_scenario_escalates_to_the_department_head,
    the_audit_log_filters_and_pages,
    reminders_are_listed_and_acknowledged,
    the_openapi_document_lists_every_route,
    malformed_requests_are_400_naming_the_field,
    missing_bad_and_revoked_tokens_are_401,
    forbidden_requests_are_403_and_change_nothing,
    unknown_ids_and_routes_are_404,
    conflicts_are_409_and_change_nothing,
    invalid_values_are_422_and_change_nothing,
    an_idempotency_key_makes_a_retried_create_safe,
    department_heads_see_only_their_department,
    approvers_see_only_their_workflows,
    business_calendars_measure_deadlines_and_explain_them,
    policy_edits_are_versions_previewed_and_applied,
    notification_preferences_phones_and_repeating_policies,
);

const API: &str = "/api/v1";

fn path(rest: &str) -> String {
    format!("{API}{rest}")
}

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap_or_else(|| panic!("not a page: {page}"))
}

async fn health_and_readiness(app: TestApp) {
    let (status, body) = app.send(app.request(Method::GET, "/healthz", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));

    // The harness runs no scheduler: the database is fine, the service is not ready.
    let (status, body) = app.send(app.request(Method::GET, "/readyz", None)).await;
    assert_eq!(body["database"], "ok", "{body}");
    assert_eq!(body["scheduler"], "stopped", "{body}");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    app.scheduler_is_running(true);
    let (status, body) = app.send(app.request(Method::GET, "/readyz", None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["status"], "ready");
    // The zone rules deadlines use: the system's (Debian's tzdata), and the bundled copy's.
    let system = std::fs::read_to_string("/usr/share/zoneinfo/tzdata.zi")
        .ok()
        .and_then(|t| escalator_domain::sla::zones::tzdata_version(&t).map(str::to_string));
    let rules = &body["tz_rules"];
    assert_eq!(rules["source"], "system", "{body}");
    assert_eq!(rules["system"], json!(system), "{body}");
    assert_eq!(rules["in_use"], json!(system), "{body}");
    let bundled = escalator_domain::sla::zones::bundled_rules_version();
    assert_eq!(rules["bundled"], bundled, "{body}");
    let newer = |a: &Option<String>| {
        a.as_deref()
            .is_some_and(|a| escalator_domain::sla::zones::is_newer(bundled, a))
    };
    assert_eq!(rules["bundled_newer"], newer(&system), "{body}");
    assert_eq!(rules["system_newer"], false, "{body}");
    let in_use = system.unwrap_or_else(|| "unknown".into());

    for url in ["/metrics", "/api/v1/metrics/prometheus"] {
        let (status, text) = app.send(app.request(Method::GET, url, None)).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert!(text.as_str().is_some_and(|t| t.contains("# TYPE")), "{url}: {text}");
        let info = format!("escalator_build_info{{tz_rules=\"{in_use}\",version=");
        assert!(text.as_str().is_some_and(|t| t.contains(&info)), "{url}: {text}");
    }
}

async fn departments_are_upserted_listed_and_read(app: TestApp) {
    let before = app.counts().await;
    let created = app
        .put(&path("/departments/legal"), &app.admin, json!({"name": "Legal"}))
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1, json!({"key": "legal", "name": "Legal", "head": null}));

    let replaced = app
        .put(
            &path("/departments/legal"),
            &app.admin,
            json!({"name": "Legal & Compliance", "head": "Dana.Head@acme.example"}),
        )
        .await;
    assert_eq!(replaced.0, StatusCode::OK, "{}", replaced.1);
    assert_eq!(replaced.1["name"], "Legal & Compliance");
    assert_eq!(replaced.1["head"], FINANCE_HEAD, "the head's e-mail is normalised");

    let (status, list) = app.get(&path("/departments"), &app.viewer).await;
    assert_eq!(status, StatusCode::OK);
    let keys: BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, BTreeSet::from(["engineering", "finance", "hr", "legal"]));

    let (status, one) = app.get(&path("/departments/legal"), &app.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, replaced.1);

    let after = app.counts().await;
    assert_eq!(after.departments, before.departments + 1);
    assert_eq!(after.audit, before.audit + 2, "each upsert is audited");

    // Invalid key and unknown head: 422, nothing written.
    let bad_key = app
        .put(&path("/departments/Not%20OK"), &app.admin, json!({"name": "X"}))
        .await;
    assert_error(&bad_key, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", Some("key"));
    let bad_head = app
        .put(
            &path("/departments/ops"),
            &app.admin,
            json!({"name": "Ops", "head": "nobody@acme.example"}),
        )
        .await;
    assert_error(
        &bad_head,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("head"),
    );
    assert_eq!(app.counts().await, after);
}

async fn users_are_upserted_listed_and_read(app: TestApp) {
    let body = json!({"name": "Zoe Approver", "role": "approver", "department": "finance", "manager": FINANCE_HEAD});
    let created = app.put(&path("/users/Zoe@Acme.example"), &app.admin, body).await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(
        created.1,
        json!({"email": "zoe@acme.example", "name": "Zoe Approver", "role": "approver",
               "department": "finance", "manager": FINANCE_HEAD})
    );

    let body = json!({"name": "Zoe Viewer", "role": "viewer", "department": "hr"});
    let replaced = app.put(&path("/users/zoe@acme.example"), &app.admin, body).await;
    assert_eq!(replaced.0, StatusCode::OK, "{}", replaced.1);
    assert_eq!(replaced.1["role"], "viewer");
    assert_eq!(replaced.1["manager"], Value::Null);

    let emails = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, list) = app.get(&path("/users"), &app.admin).await;
    assert_eq!(status, StatusCode::OK);
    let all = emails(&list);
    assert!(
        all.contains(&"zoe@acme.example".to_string()) && all.contains(&ADMIN.to_string()),
        "{all:?}"
    );
    assert_eq!(all.len(), 11, "admins see ten demo users and Zoe");

    // Everyone else sees the people of their own department (Zoe moved to HR), phone
    // numbers only their own.
    let (status, list) = app.get(&path("/users"), &app.approver).await;
    assert_eq!(status, StatusCode::OK);
    let colleagues = emails(&list);
    assert!(colleagues.contains(&FINANCE_HEAD.to_string()), "{colleagues:?}");
    assert!(!colleagues.contains(&"zoe@acme.example".to_string()), "{colleagues:?}");
    assert!(!colleagues.contains(&HR_APPROVER.to_string()), "{colleagues:?}");
    let (status, one) = app.get(&path("/users/ZOE@acme.example"), &app.approver).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{one}");
    let (status, one) = app.get(&path("/users/ZOE@acme.example"), &app.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, replaced.1);
    let with_phone = json!({"name": "Alice", "role": "approver", "department": "finance", "phone": "+4915112345678"});
    let (status, _) = app
        .put(&path(&format!("/users/{FINANCE_APPROVER}")), &app.admin, with_phone)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, own) = app
        .get(&path(&format!("/users/{FINANCE_APPROVER}")), &app.approver)
        .await;
    assert_eq!(own["phone"], "+4915112345678", "one's own phone number");
    let (_, seen_by_head) = app.get(&path(&format!("/users/{FINANCE_APPROVER}")), &app.head).await;
    assert_eq!(seen_by_head["name"], "Alice");
    assert!(
        seen_by_head.get("phone").is_none(),
        "a colleague's phone stays private: {seen_by_head}"
    );
    // An admin cannot demote themselves (another admin can).
    let (_, me_before) = app.get(&path(&format!("/users/{ADMIN}")), &app.admin).await;
    let demote = app
        .put(
            &path(&format!("/users/{ADMIN}")),
            &app.admin,
            json!({"name": "Admin", "role": "viewer"}),
        )
        .await;
    assert_error(&demote, StatusCode::FORBIDDEN, "forbidden", None);
    let (_, me_after) = app.get(&path(&format!("/users/{ADMIN}")), &app.admin).await;
    assert_eq!(me_after, me_before);

    let before = app.counts().await;
    let cases = [
        (json!({"name": "Q", "role": "boss"}), "role"),
        (
            json!({"name": "Q", "role": "viewer", "department": "nowhere"}),
            "department",
        ),
        (
            json!({"name": "Q", "role": "viewer", "manager": "ghost@acme.example"}),
            "manager",
        ),
        (json!({"name": " ", "role": "viewer"}), "name"),
    ];
    for (body, field) in cases {
        let rejected = app.put(&path("/users/q@acme.example"), &app.admin, body).await;
        assert_error(
            &rejected,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some(field),
        );
    }
    let bad_email = app
        .put(
            &path("/users/not-an-email"),
            &app.admin,
            json!({"name": "Q", "role": "viewer"}),
        )
        .await;
    assert_error(
        &bad_email,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("email"),
    );
    assert_eq!(app.counts().await, before);
}

async fn sla_policies_are_created_read_and_replaced(app: TestApp) {
    let body =
        json!({"name": "Urgent (4 h)", "target_seconds": 14400, "warning": {"kind": "elapsed_percent", "percent": 75}});
    let (status, created) = app.post(&path("/sla-policies"), &app.admin, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["name"], "Urgent (4 h)");
    assert_eq!(created["target_seconds"], 14400);
    assert_eq!(created["warning"], json!({"kind": "elapsed_percent", "percent": 75}));

    for reader in [&app.approver, &app.viewer] {
        let (status, body) = app.get(&path("/sla-policies"), reader).await;
        assert_error(&(status, body), StatusCode::FORBIDDEN, "forbidden", None);
        let (status, body) = app.get(&path(&format!("/sla-policies/{id}")), reader).await;
        assert_error(&(status, body), StatusCode::FORBIDDEN, "forbidden", None);
    }
    let (status, list) = app.get(&path("/sla-policies"), &app.head).await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{list}");
    assert!(listed.contains(&id) && listed.contains(&app.policy_id));

    let (status, one) = app.get(&path(&format!("/sla-policies/{id}")), &app.head).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, created);

    let body = json!({"name": "Urgent (8 h)", "target_seconds": 28800, "warning": {"kind": "before_deadline", "seconds": 3600}});
    let (status, replaced) = app.put(&path(&format!("/sla-policies/{id}")), &app.admin, body).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["id"], id);
    assert_eq!(replaced["target_seconds"], 28800);
    assert_eq!(replaced["warning"], json!({"kind": "before_deadline", "seconds": 3600}));
    let (_, read) = app.get(&path(&format!("/sla-policies/{id}")), &app.admin).await;
    assert_eq!(read, replaced);

    let before = app.counts().await;
    let invalid = [
        (
            json!({"name": "x", "target_seconds": -1, "warning": {"kind": "elapsed_percent", "percent": 50}}),
            "target_seconds",
        ),
        (
            json!({"name": "x", "target_seconds": 0, "warning": {"kind": "elapsed_percent", "percent": 50}}),
            "target_seconds",
        ),
        (
            json!({"name": "x", "target_seconds": 60, "warning": {"kind": "elapsed_percent", "percent": 0}}),
            "warning.percent",
        ),
        (
            json!({"name": "x", "target_seconds": 60, "warning": {"kind": "before_deadline", "seconds": 60}}),
            "warning.seconds",
        ),
        (
            json!({"name": "", "target_seconds": 60, "warning": {"kind": "elapsed_percent", "percent": 50}}),
            "name",
        ),
    ];
    for (body, field) in invalid {
        let rejected = app.post(&path("/sla-policies"), &app.admin, body.clone()).await;
        assert_error(
            &rejected,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some(field),
        );
        let rejected = app.put(&path(&format!("/sla-policies/{id}")), &app.admin, body).await;
        assert_error(
            &rejected,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some(field),
        );
    }
    let body = json!({"name": "x", "target_seconds": 60, "warning": {"kind": "elapsed_percent", "percent": 50}});
    let missing = app.put(&path("/sla-policies/987654"), &app.admin, body).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(app.counts().await, before);
    let (_, read) = app.get(&path(&format!("/sla-policies/{id}")), &app.admin).await;
    assert_eq!(read, replaced, "a rejected replace changes nothing");
}

async fn escalation_chains_are_created_read_and_replaced(app: TestApp) {
    let body = json!({"name": "Manager, then COO", "levels": [
        {"target": {"kind": "manager_of"}, "time_limit_seconds": 3600},
        {"target": {"kind": "user", "email": COO}, "time_limit_seconds": 7200},
    ]});
    let (status, created) = app.post(&path("/escalation-chains"), &app.admin, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["levels"][1]["target"], json!({"kind": "user", "email": COO}));

    for reader in [&app.approver, &app.viewer] {
        let (status, body) = app.get(&path("/escalation-chains"), reader).await;
        assert_error(&(status, body), StatusCode::FORBIDDEN, "forbidden", None);
    }
    let (status, list) = app.get(&path("/escalation-chains"), &app.head).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");

    let (status, one) = app.get(&path(&format!("/escalation-chains/{id}")), &app.head).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, created);

    let body = json!({"name": "Department head only", "levels": [
        {"target": {"kind": "department_head"}, "time_limit_seconds": 600},
    ]});
    let (status, replaced) = app
        .put(&path(&format!("/escalation-chains/{id}")), &app.admin, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["name"], "Department head only");
    assert_eq!(replaced["levels"].as_array().unwrap().len(), 1);
    let (_, read) = app.get(&path(&format!("/escalation-chains/{id}")), &app.admin).await;
    assert_eq!(read, replaced);

    let before = app.counts().await;
    let unknown_user = json!({"name": "x", "levels": [
        {"target": {"kind": "department_head"}, "time_limit_seconds": 600},
        {"target": {"kind": "user", "email": "ghost@acme.example"}, "time_limit_seconds": 600},
    ]});
    let rejected = app.post(&path("/escalation-chains"), &app.admin, unknown_user).await;
    assert_error(
        &rejected,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("levels[1].target.email"),
    );
    let bad_limit = json!({"name": "x", "levels": [{"target": {"kind": "manager_of"}, "time_limit_seconds": -5}]});
    let rejected = app
        .put(&path(&format!("/escalation-chains/{id}")), &app.admin, bad_limit)
        .await;
    assert_eq!(rejected.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", rejected.1);
    assert_eq!(rejected.1["error"]["code"], "invalid_value");
    let body = json!({"name": "x", "levels": [{"target": {"kind": "manager_of"}, "time_limit_seconds": 5}]});
    let missing = app.put(&path("/escalation-chains/987654"), &app.admin, body).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(app.counts().await, before);
}

async fn a_workflow_is_created_and_read_with_its_timeline(app: TestApp) {
    let before = app.counts().await;
    let (status, created) = app
        .post(&path("/workflows"), &app.head, app.new_workflow("PO-7001"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["external_id"], "PO-7001");
    assert_eq!(created["status"], "pending");
    assert_eq!(created["stage"], "Manager Approval");
    assert_eq!(created["stage_seq"], 1);
    assert_eq!(created["assignee"], FINANCE_APPROVER);
    assert_eq!(created["level"], 0);
    assert_eq!(created["department"], "finance");
    assert_eq!(created["sla"]["status"], "ok");
    assert!(created["sla"]["remaining"].as_i64().unwrap() > 23 * 3600, "{created}");
    assert!(created.get("idempotency_key").is_none());

    let after = app.counts().await;
    assert_eq!(after.workflows, before.workflows + 1);
    assert_eq!(after.audit, before.audit + 1);

    let (status, detail) = app.get(&path(&format!("/workflows/{id}")), &app.head).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["id"], id);
    assert_eq!(detail["title"], "Standing desk");
    assert_eq!(detail["sla"]["status"], "ok");
    let audit = detail["timeline"]["audit"].as_array().unwrap();
    assert_eq!(audit.len(), 1, "{detail}");
    assert_eq!(audit[0]["action"], "create");
    assert_eq!(audit[0]["actor"], FINANCE_HEAD);
    assert_eq!(audit[0]["workflow_id"], id);
    assert_eq!(detail["timeline"]["reminders"], json!([]));
    assert!(detail["timeline"]["notifications"].is_array());

    // An import that started 23 h ago is in its warning window.
    let mut body = app.new_workflow("PO-7002");
    body["started_at"] = json!(rfc3339(Utc::now() - TimeDelta::hours(23)));
    let warned = app.create_workflow(body).await;
    assert_eq!(warned["sla"]["status"], "warning");
    assert!(warned["sla"]["elapsed"].as_i64().unwrap() >= 23 * 3600);
}

async fn workflow_listings_filter_and_page(app: TestApp) {
    let list = |query: &'static str| {
        let app = &app;
        async move {
            let (status, page) = app.get(&path(&format!("/workflows{query}")), &app.admin).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            page
        }
    };
    let externals = |page: &Value| -> BTreeSet<String> {
        items(page)
            .iter()
            .map(|w| w["external_id"].as_str().unwrap().to_string())
            .collect()
    };
    let set = |ids: &[&str]| -> BTreeSet<String> { ids.iter().map(|s| s.to_string()).collect() };

    let all = list("").await;
    assert_eq!(items(&all).len(), 7, "the demo's seven workflows");
    assert_eq!(all["next_before_id"], Value::Null);
    let all_ids = ids(&all);
    assert!(all_ids.windows(2).all(|w| w[0] > w[1]), "newest first: {all_ids:?}");

    assert_eq!(items(&list("?status=pending").await).len(), 7);
    assert_eq!(
        externals(&list("?department=finance").await),
        set(&["PO-1001", "PO-1002", "PO-1003"])
    );
    assert_eq!(
        externals(&list("?assignee=Alice@acme.example").await),
        set(&["PO-1001", "PO-1002"])
    );
    assert_eq!(
        externals(&list("?sla_status=breached").await),
        set(&["PO-1003", "LV-2001"])
    );
    assert_eq!(
        externals(&list("?sla_status=warning").await),
        set(&["PO-1002", "CT-3002"])
    );
    assert_eq!(
        externals(&list("?sla_status=ok&department=finance").await),
        set(&["PO-1001"])
    );
    assert_eq!(items(&list("?department=legal").await).len(), 0);

    let cancelled = app.workflow_id("LV-2002").await;
    let (status, _) = app
        .post(&path(&format!("/workflows/{cancelled}/cancel")), &app.admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(externals(&list("?status=cancelled").await), set(&["LV-2002"]));
    assert_eq!(items(&list("?status=pending").await).len(), 6);
    assert_eq!(items(&list("?status=escalated").await).len(), 0);

    // Keyset pagination: pages of three, then of two, partition the listing.
    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    let mut pages = 0;
    loop {
        let query = match before {
            Some(b) => format!("/workflows?limit=3&before_id={b}"),
            None => "/workflows?limit=3".to_string(),
        };
        let (status, page) = app.get(&path(&query), &app.admin).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        seen.extend(ids(&page));
        match page["next_before_id"].as_i64() {
            Some(next) => {
                assert_eq!(items(&page).len(), 3);
                assert_eq!(Some(&next), seen.last(), "the cursor is the last id of the page");
                before = Some(next);
            }
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all_ids);

    // limit equal to what is left: a full page with a cursor, then an empty last page.
    let page = list("?limit=7").await;
    let last = page["next_before_id"].as_i64().expect("a full page has a cursor");
    let (_, rest) = app
        .get(&path(&format!("/workflows?limit=7&before_id={last}")), &app.admin)
        .await;
    assert_eq!(rest, json!({"items": [], "next_before_id": null}));

    // Bad filters.
    let bad = app.get(&path("/workflows?status=lost"), &app.admin).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "malformed_request", Some("status"));
    let bad = app.get(&path("/workflows?sla_status=late"), &app.admin).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "malformed_request", Some("sla_status"));
    let bad = app.get(&path("/workflows?limit=many"), &app.admin).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "malformed_request", Some("limit"));
    let bad = app.get(&path("/workflows?limit=0"), &app.admin).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", Some("limit"));
    let bad = app.get(&path("/workflows?limit=501"), &app.admin).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", Some("limit"));
}

async fn workflow_actions_complete_advance_reassign_cancel(app: TestApp) {
    let id = app.workflow_id("PO-1001").await;
    let url = |action: &str| path(&format!("/workflows/{id}/{action}"));

    let (status, advanced) = app
        .post(
            &url("advance"),
            &app.admin,
            json!({"stage": "Finance Review", "assignee": FINANCE_MANAGER}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{advanced}");
    assert_eq!(advanced["stage"], "Finance Review");
    assert_eq!(advanced["stage_seq"], 2);
    assert_eq!(advanced["assignee"], FINANCE_MANAGER);
    assert_eq!(advanced["status"], "pending");
    assert_eq!(advanced["level"], 0);
    assert_eq!(advanced["sla"]["status"], "ok");

    let (status, reassigned) = app
        .post(
            &url("reassign"),
            &app.head,
            json!({"assignee": FINANCE_APPROVER, "reason": "Mike is away"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reassigned}");
    assert_eq!(reassigned["assignee"], FINANCE_APPROVER);
    assert_eq!(reassigned["stage_seq"], 2);

    // The assignee approves; the body is optional.
    let (status, completed) = app
        .send(app.request(Method::POST, &url("complete"), Some(&app.approver)))
        .await;
    assert_eq!(status, StatusCode::OK, "{completed}");
    assert_eq!(completed["status"], "completed");
    assert!(completed["closed_at"].is_string());

    let (status, detail) = app.get(&path(&format!("/workflows/{id}")), &app.admin).await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = detail["timeline"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["complete", "reassign", "advance", "create"], "newest first");
    let reassign = &detail["timeline"]["audit"][1];
    assert_eq!(reassign["actor"], FINANCE_HEAD);
    assert_eq!(reassign["details"]["reason"], "Mike is away");
    assert_eq!(reassign["details"]["from_assignee"], FINANCE_MANAGER);
    let topics: BTreeSet<&str> = detail["timeline"]["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["topic"].as_str().unwrap())
        .collect();
    for topic in [
        "workflow.advanced",
        "workflow.reassigned",
        "workflow.completed",
        "workflow.assigned",
    ] {
        assert!(topics.contains(topic), "{topic} in {topics:?}");
    }

    // Cancel another, then completing it is an illegal transition that names the status.
    let other = app.workflow_id("PO-1002").await;
    let (status, cancelled) = app
        .post(
            &path(&format!("/workflows/{other}/cancel")),
            &app.admin,
            json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");

    let before = app.counts().await;
    let illegal = app
        .post(&path(&format!("/workflows/{other}/complete")), &app.admin, json!({}))
        .await;
    assert_error(&illegal, StatusCode::CONFLICT, "illegal_transition", Some("status"));
    let message = illegal.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("cancelled"), "{message}");
    let again = app
        .post(&path(&format!("/workflows/{other}/cancel")), &app.admin, json!({}))
        .await;
    assert_error(&again, StatusCode::CONFLICT, "illegal_transition", Some("status"));
    let advance_done = app.post(&url("advance"), &app.admin, json!({"stage": "Again"})).await;
    assert_error(
        &advance_done,
        StatusCode::CONFLICT,
        "illegal_transition",
        Some("status"),
    );

    // Invalid action input on an open workflow.
    let open = app.workflow_id("PO-1003").await;
    let unknown = app
        .post(
            &path(&format!("/workflows/{open}/reassign")),
            &app.admin,
            json!({"assignee": "ghost@acme.example"}),
        )
        .await;
    assert_error(
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("assignee"),
    );
    let out_of_department = app
        .post(
            &path(&format!("/workflows/{open}/reassign")),
            &app.head,
            json!({"assignee": HR_APPROVER}),
        )
        .await;
    assert_error(&out_of_department, StatusCode::FORBIDDEN, "forbidden", None);
    let blank_stage = app
        .post(
            &path(&format!("/workflows/{open}/advance")),
            &app.admin,
            json!({"stage": "  "}),
        )
        .await;
    assert_error(
        &blank_stage,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("stage"),
    );
    let unknown_policy = app
        .post(
            &path(&format!("/workflows/{open}/advance")),
            &app.admin,
            json!({"stage": "Next", "policy_id": 987654}),
        )
        .await;
    assert_error(
        &unknown_policy,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("policy_id"),
    );
    let unknown_field = app
        .post(
            &path(&format!("/workflows/{open}/cancel")),
            &app.admin,
            json!({"why": "x"}),
        )
        .await;
    assert_error(
        &unknown_field,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        Some("why"),
    );
    assert_eq!(app.counts().await, before, "rejected actions change nothing");
    let (_, still) = app.get(&path(&format!("/workflows/{open}")), &app.admin).await;
    assert_eq!(still["stage_seq"], 1);
    assert_eq!(still["assignee"], FINANCE_MANAGER);
}

async fn the_seed_scenario_escalates_to_the_department_head(app: TestApp) {
    let mut body = app.new_workflow("PO-SEED");
    body["started_at"] = json!(rfc3339(Utc::now() - TimeDelta::hours(48)));
    let created = app.create_workflow(body).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["sla"]["status"], "breached");

    let forbidden = app.post(&path("/escalations/run"), &app.head, json!({})).await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, "forbidden", None);

    let (status, summary) = app
        .send(app.request(Method::POST, &path("/escalations/run"), Some(&app.admin)))
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    // Ours and the demo's two breached workflows escalate; two more get reminders.
    assert_eq!(summary["escalated"], 3, "{summary}");
    assert_eq!(summary["reminded"], 2, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");

    let (status, detail) = app.get(&path(&format!("/workflows/{id}")), &app.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["status"], "escalated");
    assert_eq!(detail["assignee"], FINANCE_HEAD);
    assert_eq!(detail["level"], 1);
    assert_eq!(detail["stage"], "Manager Approval");
    assert_eq!(detail["sla"]["status"], "ok", "the head has a fresh 8 h clock");

    let (status, log) = app
        .get(
            &path(&format!("/audit-log?workflow_id={id}&action=escalate")),
            &app.admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entries = items(&log);
    assert_eq!(entries.len(), 1, "{log}");
    let details = &entries[0]["details"];
    assert_eq!(entries[0]["actor"], "system");
    assert_eq!(details["elapsed"], "48h", "{details}");
    assert!(details["elapsed_seconds"].as_i64().unwrap() >= 172_800, "{details}");
    assert_eq!(details["from_assignee"], FINANCE_APPROVER);
    assert_eq!(details["to_assignee"], FINANCE_HEAD);

    // The head now sees it as theirs; a second run does not escalate it again.
    let (_, mine) = app
        .get(
            &path(&format!("/workflows?assignee={FINANCE_HEAD}&status=escalated")),
            &app.head,
        )
        .await;
    assert!(ids(&mine).contains(&id), "{mine}");
    let (_, summary) = app.post(&path("/escalations/run"), &app.admin, json!({})).await;
    assert_eq!(summary["escalated"], 0, "{summary}");
}

async fn the_audit_log_filters_and_pages(app: TestApp) {
    let id = app.workflow_id("PO-1001").await;
    // Everything the demo wrote is older than t0; only the completion below is newer.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let t0 = Utc::now();
    let (status, _) = app
        .post(
            &path(&format!("/workflows/{id}/complete")),
            &app.approver,
            json!({"note": "ok"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let t1 = Utc::now() + TimeDelta::seconds(1);
    let total = app.counts().await.audit;

    let get = |query: String| {
        let app = &app;
        async move {
            let (status, page) = app.get(&path(&format!("/audit-log{query}")), &app.admin).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            page
        }
    };

    let all = get(String::new()).await;
    assert_eq!(items(&all).len(), total);
    let all_ids = ids(&all);
    assert!(all_ids.windows(2).all(|w| w[0] > w[1]), "newest first");

    let creates = get("?action=create".into()).await;
    assert_eq!(items(&creates).len(), 7, "{creates}");
    assert!(field(&creates, "actor").iter().all(|a| **a == json!("demo")));

    let by_alice = get(format!("?actor={FINANCE_APPROVER}")).await;
    assert_eq!(items(&by_alice).len(), 1, "{by_alice}");
    assert_eq!(by_alice["items"][0]["action"], "complete");
    assert_eq!(by_alice["items"][0]["details"]["note"], "ok");

    let of_workflow = get(format!("?workflow_id={id}")).await;
    assert_eq!(field(&of_workflow, "action"), [&json!("complete"), &json!("create")]);
    let combined = get(format!("?workflow_id={id}&action=complete&actor={FINANCE_APPROVER}")).await;
    assert_eq!(items(&combined).len(), 1);

    let since = get(format!("?from={}", rfc3339(t0))).await;
    assert_eq!(items(&since).len(), 1, "only the completion is newer than t0: {since}");
    assert_eq!(items(&get(format!("?from={}", rfc3339(t1))).await).len(), 0);
    assert_eq!(items(&get(format!("?to={}", rfc3339(t0))).await).len(), total - 1);
    assert_eq!(
        items(&get(format!("?from={}&to={}", rfc3339(t0), rfc3339(t1))).await).len(),
        1
    );

    // Pages of two walk the whole log exactly once.
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    for _ in 0..100 {
        let page = get(query.clone()).await;
        assert!(items(&page).len() <= 2);
        seen.extend(ids(&page));
        match page["next_before_id"].as_i64() {
            Some(next) => query = format!("?limit=2&before_id={next}"),
            None => break,
        }
    }
    assert_eq!(seen, all_ids);

    let bad = app.get(&path("/audit-log?from=yesterday"), &app.admin).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "malformed_request", Some("from"));
    let bad = app.get(&path("/audit-log?to=2024-13-01"), &app.admin).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "malformed_request", Some("to"));
    let bad = app.get(&path("/audit-log?workflow_id=one"), &app.admin).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "malformed_request", Some("workflow_id"));
    let bad = app.get(&path("/audit-log?limit=0"), &app.admin).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", Some("limit"));
    let forbidden = app.get(&path("/audit-log"), &app.head).await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, "forbidden", None);
}

async fn reminders_are_listed_and_acknowledged(app: TestApp) {
    let (status, _) = app.post(&path("/escalations/run"), &app.admin, json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // PO-1002 (Alice, 23 h) and CT-3002 (Ed, 22 h) are in their warning window.
    let (status, all) = app.get(&path("/reminders"), &app.admin).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(items(&all).len(), 2, "{all}");
    let (_, eds) = app.get(&path("/reminders?assignee=ed@acme.example"), &app.admin).await;
    assert_eq!(field(&eds, "assignee"), [&json!("ed@acme.example")]);

    let (status, mine) = app.get(&path("/reminders"), &app.approver).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(items(&mine).len(), 1, "{mine}");
    let reminder = &mine["items"][0];
    assert_eq!(reminder["assignee"], FINANCE_APPROVER);
    assert_eq!(reminder["workflow_id"], app.workflow_id("PO-1002").await);
    assert_eq!(reminder["acknowledged_at"], Value::Null);
    let rid = reminder["id"].as_i64().unwrap();
    // Non-admins see only their own, whatever they ask for.
    let (_, asked) = app
        .get(&path("/reminders?assignee=ed@acme.example"), &app.approver)
        .await;
    assert_eq!(ids(&asked), [rid]);

    // Someone else's reminder is not found; so is an unknown one.
    let theirs = app
        .post(&path(&format!("/reminders/{rid}/ack")), &app.hr_approver, json!({}))
        .await;
    assert_error(&theirs, StatusCode::NOT_FOUND, "not_found", None);
    let unknown = app.post(&path("/reminders/987654/ack"), &app.approver, json!({})).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found", None);

    let (status, acked) = app
        .send(app.request(
            Method::POST,
            &path(&format!("/reminders/{rid}/ack")),
            Some(&app.approver),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{acked}");
    assert_eq!(acked["id"], rid);
    assert_eq!(acked["acknowledged_by"], FINANCE_APPROVER);
    assert!(acked["acknowledged_at"].is_string());
    let (status, again) = app
        .post(&path(&format!("/reminders/{rid}/ack")), &app.approver, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "repeating an acknowledgement is harmless");
    assert_eq!(again["acknowledged_at"], acked["acknowledged_at"]);

    let (_, open) = app.get(&path("/reminders?open=true"), &app.approver).await;
    assert_eq!(items(&open).len(), 0, "{open}");
    let (_, open) = app.get(&path("/reminders?open=true"), &app.admin).await;
    assert_eq!(items(&open).len(), 1, "{open}");

    let (_, log) = app
        .get(&path("/audit-log?action=reminder_acknowledged"), &app.admin)
        .await;
    assert!(!items(&log).is_empty(), "{log}");
    assert_eq!(log["items"][0]["actor"], FINANCE_APPROVER);
    assert_eq!(log["items"][0]["details"]["reminder_id"], rid);

    let (_, page) = app.get(&path("/reminders?limit=1"), &app.admin).await;
    assert_eq!(items(&page).len(), 1);
    let next = page["next_before_id"].as_i64().expect("a cursor");
    let (_, rest) = app
        .get(&path(&format!("/reminders?limit=1&before_id={next}")), &app.admin)
        .await;
    assert_eq!(items(&rest).len(), 1);
    assert_ne!(ids(&rest), ids(&page));
    let bad = app.get(&path("/reminders?limit=0"), &app.admin).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", Some("limit"));
}

/// Routes that answer without a token.
const PUBLIC: [&str; 2] = ["/api/v1/openapi.json", "/api/v1/metrics/prometheus"];

const HTTP_METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async fn the_openapi_document_lists_every_route(app: TestApp) {
    let (status, doc) = app.send(app.request(Method::GET, &path("/openapi.json"), None)).await;
    assert_eq!(status, StatusCode::OK, "the document needs no token");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let paths = doc["paths"].as_object().expect("paths");

    // Routes and their documentation are registered together (utoipa-axum), so every
    // documented operation must really be served: without a token, 401 (not 404/405).
    for (route, item) in paths {
        let methods: Vec<&str> = HTTP_METHODS.into_iter().filter(|m| item.get(*m).is_some()).collect();
        assert!(!methods.is_empty(), "{route} has no operation");
        let public = PUBLIC.contains(&route.as_str());
        for method in &methods {
            let operation = &item[*method];
            assert!(operation["responses"].as_object().is_some_and(|r| !r.is_empty()));
            if !public {
                assert_eq!(operation["security"], json!([{"bearer": []}]), "{method} {route}");
            }
        }
        let concrete = route
            .replace("{key}", "finance")
            .replace("{email}", ADMIN)
            .replace("{workflow_type}", "purchase")
            .replace("{external_id}", "PO-1001")
            .replace("{id}", "1");
        for method in &methods {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = app.send(app.request(m, &concrete, None)).await;
            if public {
                assert_eq!(status, StatusCode::OK, "{method} {concrete}");
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {concrete}: {body}");
            }
        }
    }
    // Operation ids name client methods: each must be unique (the OpenAPI spec requires it).
    let mut operation_ids = BTreeSet::new();
    for (route, item) in paths {
        for method in HTTP_METHODS {
            if let Some(id) = item.get(method).and_then(|op| op["operationId"].as_str()) {
                assert!(
                    operation_ids.insert(id),
                    "operationId {id} of {method} {route} is not unique"
                );
            }
        }
    }
    assert_eq!(paths.len(), 53, "52 API paths and the metrics path: {:?}", paths.keys());
}

async fn malformed_requests_are_400_naming_the_field(app: TestApp) {
    let before = app.counts().await;

    let broken = app
        .send_raw(
            Method::POST,
            &path("/workflows"),
            &app.admin,
            r#"{"external_id": "PO-1","#,
        )
        .await;
    assert_error(&broken, StatusCode::BAD_REQUEST, "malformed_request", None);
    let broken = app
        .send_raw(Method::PUT, &path("/departments/legal"), &app.admin, "{name: Legal}")
        .await;
    assert_eq!(broken.0, StatusCode::BAD_REQUEST, "{}", broken.1);
    assert_eq!(broken.1["error"]["code"], "malformed_request");
    let trailing = app
        .send_raw(
            Method::PUT,
            &path("/departments/legal"),
            &app.admin,
            r#"{"name": "L"} {}"#,
        )
        .await;
    assert_eq!(trailing.0, StatusCode::BAD_REQUEST, "{}", trailing.1);
    // serde would read a struct whose fields all have defaults from `[]`: found by
    // schemathesis on the preferences, refused for every body.
    let preferences = path(&format!("/users/{ADMIN}/preferences"));
    for body in ["[]", " [\"x\"]", "null", "7"] {
        let not_an_object = app.send_raw(Method::PUT, &preferences, &app.admin, body).await;
        assert_error(&not_an_object, StatusCode::BAD_REQUEST, "malformed_request", Some("."));
    }

    let mut wrong_type = app.new_workflow("PO-400");
    wrong_type["policy_id"] = json!("one");
    let rejected = app.post(&path("/workflows"), &app.admin, wrong_type).await;
    assert_error(
        &rejected,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        Some("policy_id"),
    );
    let mut wrong_time = app.new_workflow("PO-400");
    wrong_time["started_at"] = json!("last tuesday");
    let rejected = app.post(&path("/workflows"), &app.admin, wrong_time).await;
    assert_error(
        &rejected,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        Some("started_at"),
    );

    let mut missing = app.new_workflow("PO-400");
    missing.as_object_mut().unwrap().remove("title");
    let rejected = app.post(&path("/workflows"), &app.admin, missing).await;
    assert_error(&rejected, StatusCode::BAD_REQUEST, "malformed_request", Some("title"));

    let nested = json!({"name": "x", "target_seconds": 60, "warning": {"kind": "elapsed_percent", "percent": "most"}});
    let rejected = app.post(&path("/sla-policies"), &app.admin, nested).await;
    assert_eq!(rejected.0, StatusCode::BAD_REQUEST, "{}", rejected.1);
    assert_eq!(rejected.1["error"]["code"], "malformed_request");
    let bad_target = json!({"name": "x", "levels": [{"target": {"kind": "user", "email": "not an address"}, "time_limit_seconds": 60}]});
    let rejected = app.post(&path("/escalation-chains"), &app.admin, bad_target).await;
    assert_eq!(rejected.0, StatusCode::BAD_REQUEST, "{}", rejected.1);
    assert_eq!(rejected.1["error"]["code"], "malformed_request");
    let not_a_list = json!({"name": "x", "levels": {"target": "head"}});
    let rejected = app.post(&path("/escalation-chains"), &app.admin, not_a_list).await;
    assert_error(&rejected, StatusCode::BAD_REQUEST, "malformed_request", Some("levels"));

    let rejected = app
        .post(&path("/workflows/1/advance"), &app.admin, json!({"stage": 7}))
        .await;
    assert_error(&rejected, StatusCode::BAD_REQUEST, "malformed_request", Some("stage"));
    let rejected = app.post(&path("/workflows/1/reassign"), &app.admin, json!({})).await;
    assert_error(
        &rejected,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        Some("assignee"),
    );

    let rejected = app.get(&path("/workflows/abc"), &app.admin).await;
    assert_error(&rejected, StatusCode::BAD_REQUEST, "invalid_path", Some("path"));

    let text = app
        .request(Method::POST, &path("/workflows"), Some(&app.admin))
        .header("content-type", "text/plain")
        .body(app.new_workflow("PO-415").to_string());
    let rejected = app.send(text).await;
    assert_error(
        &rejected,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );

    assert_eq!(app.counts().await, before, "a rejected request changes nothing");
}

async fn missing_bad_and_revoked_tokens_are_401(app: TestApp) {
    let url = path("/workflows");
    let no_token = app.send(app.request(Method::GET, &url, None)).await;
    assert_error(
        &no_token,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("Authorization"),
    );
    let bad = app.get(&url, "esc_0123456789abcdef").await;
    assert_error(&bad, StatusCode::UNAUTHORIZED, "unauthorized", Some("Authorization"));
    let not_ours = app.get(&url, "not-even-a-token").await;
    assert_error(
        &not_ours,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("Authorization"),
    );
    let basic = app
        .send(app.request(Method::GET, &url, None).basic_auth(ADMIN, Some("password")))
        .await;
    assert_error(&basic, StatusCode::UNAUTHORIZED, "unauthorized", Some("Authorization"));

    let (secret, record) = app.escalator.create_token(ADMIN, "soon revoked").await.unwrap();
    let (status, _) = app.get(&url, &secret).await;
    assert_eq!(status, StatusCode::OK, "the token works before it is revoked");
    assert!(app.escalator.store().revoke_token(record.id, Utc::now()).await.unwrap());
    let revoked = app.get(&url, &secret).await;
    assert_error(
        &revoked,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("Authorization"),
    );

    // Authentication comes first: a create without a token writes nothing.
    let before = app.counts().await;
    let rejected = app
        .send(app.request(Method::POST, &url, None).json(&app.new_workflow("PO-401")))
        .await;
    assert_error(
        &rejected,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("Authorization"),
    );
    let rejected = app.post(&url, &secret, app.new_workflow("PO-401")).await;
    assert_error(
        &rejected,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("Authorization"),
    );
    assert_eq!(app.counts().await, before);
}

async fn forbidden_requests_are_403_and_change_nothing(app: TestApp) {
    let before = app.counts().await;
    let policy = json!({"name": "x", "target_seconds": 60, "warning": {"kind": "elapsed_percent", "percent": 50}});
    let chain = json!({"name": "x", "levels": [{"target": {"kind": "manager_of"}, "time_limit_seconds": 60}]});
    let finance = app.workflow_id("PO-1003").await;
    let hr_workflow = json!({
        "external_id": "LV-403", "workflow_type": "leave", "title": "Sabbatical", "stage": "Manager Approval",
        "department": "hr", "initiator": HR_APPROVER, "assignee": HR_APPROVER,
        "policy_id": app.policy_id, "chain_id": app.chain_id,
    });

    let cases = [
        app.post(&path("/sla-policies"), &app.approver, policy.clone()).await,
        app.put(&path(&format!("/sla-policies/{}", app.policy_id)), &app.head, policy)
            .await,
        app.post(&path("/escalation-chains"), &app.head, chain.clone()).await,
        app.put(
            &path(&format!("/escalation-chains/{}", app.chain_id)),
            &app.viewer,
            chain,
        )
        .await,
        app.put(&path("/departments/legal"), &app.head, json!({"name": "Legal"}))
            .await,
        app.put(
            &path("/users/q@acme.example"),
            &app.approver,
            json!({"name": "Q", "role": "admin"}),
        )
        .await,
        app.post(&path("/workflows"), &app.approver, app.new_workflow("PO-403"))
            .await,
        app.post(&path("/workflows"), &app.viewer, app.new_workflow("PO-403"))
            .await,
        app.post(&path("/workflows"), &app.head, hr_workflow).await,
        app.post(&path(&format!("/workflows/{finance}/cancel")), &app.viewer, json!({}))
            .await,
        app.post(&path(&format!("/workflows/{finance}/complete")), &app.viewer, json!({}))
            .await,
        app.post(&path("/escalations/run"), &app.viewer, json!({})).await,
        app.get(&path("/audit-log"), &app.approver).await,
    ];
    for (i, response) in cases.iter().enumerate() {
        assert_eq!(response.0, StatusCode::FORBIDDEN, "case {i}: {}", response.1);
        assert_error(response, StatusCode::FORBIDDEN, "forbidden", None);
    }

    // Approvers complete or advance their own workflows, but do not reassign or cancel them.
    let own = app.workflow_id("PO-1001").await;
    for action in ["reassign", "cancel"] {
        let response = app
            .post(
                &path(&format!("/workflows/{own}/{action}")),
                &app.approver,
                json!({"assignee": FINANCE_MANAGER}),
            )
            .await;
        if action == "reassign" {
            assert_error(&response, StatusCode::FORBIDDEN, "forbidden", None);
        } else {
            // `cancel` does not take an assignee: the body is rejected before the rights are checked.
            assert_eq!(response.0, StatusCode::BAD_REQUEST, "{}", response.1);
            let response = app
                .post(&path(&format!("/workflows/{own}/cancel")), &app.approver, json!({}))
                .await;
            assert_error(&response, StatusCode::FORBIDDEN, "forbidden", None);
        }
    }
    assert_eq!(app.counts().await, before, "a forbidden request changes nothing");
    let (_, still) = app.get(&path(&format!("/workflows/{finance}")), &app.admin).await;
    assert_eq!(still["status"], "pending");
}

async fn unknown_ids_and_routes_are_404(app: TestApp) {
    let before = app.counts().await;
    for url in [
        "/workflows/987654",
        "/sla-policies/987654",
        "/escalation-chains/987654",
        "/departments/nowhere",
        "/users/ghost@acme.example",
    ] {
        let response = app.get(&path(url), &app.admin).await;
        assert_error(&response, StatusCode::NOT_FOUND, "not_found", None);
    }
    for action in ["complete", "advance", "reassign", "cancel"] {
        let body = json!({"stage": "x", "assignee": FINANCE_APPROVER});
        let body = match action {
            "advance" => json!({"stage": body["stage"]}),
            "reassign" => json!({"assignee": body["assignee"]}),
            _ => json!({}),
        };
        let response = app
            .post(&path(&format!("/workflows/987654/{action}")), &app.admin, body)
            .await;
        assert_error(&response, StatusCode::NOT_FOUND, "not_found", None);
    }
    let response = app.post(&path("/reminders/987654/ack"), &app.admin, json!({})).await;
    assert_error(&response, StatusCode::NOT_FOUND, "not_found", None);

    // Unknown API routes answer JSON, with or without a token.
    let response = app.get(&path("/nope"), &app.admin).await;
    assert_error(&response, StatusCode::NOT_FOUND, "not_found", None);
    let response = app
        .send(app.request(Method::GET, &path("/workflows/1/history"), None))
        .await;
    assert_error(&response, StatusCode::NOT_FOUND, "not_found", None);
    let response = app
        .send(app.request(Method::DELETE, &path("/workflows/1"), Some(&app.admin)))
        .await;
    assert_error(&response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None);
    assert_eq!(app.counts().await, before);
}

async fn conflicts_are_409_and_change_nothing(app: TestApp) {
    app.create_workflow(app.new_workflow("PO-409")).await;
    let before = app.counts().await;
    let duplicate = app
        .post(&path("/workflows"), &app.admin, app.new_workflow("PO-409"))
        .await;
    assert_error(&duplicate, StatusCode::CONFLICT, "conflict", None);
    assert!(duplicate.1["error"]["message"].as_str().unwrap().contains("PO-409"));
    let demo = app
        .post(&path("/workflows"), &app.head, app.new_workflow("PO-1001"))
        .await;
    assert_error(&demo, StatusCode::CONFLICT, "conflict", None);
    assert_eq!(app.counts().await, before);
}

async fn invalid_values_are_422_and_change_nothing(app: TestApp) {
    let before = app.counts().await;
    let invalid = |field: &str, value: Value| {
        let mut body = app.new_workflow("PO-422");
        body[field] = value;
        body
    };
    let future = rfc3339(Utc::now() + TimeDelta::hours(1));
    let ancient = rfc3339(Utc::now() - TimeDelta::days(4000));
    let cases = [
        (invalid("department", json!("nowhere")), "department"),
        (invalid("assignee", json!("ghost@acme.example")), "assignee"),
        (invalid("initiator", json!("ghost@acme.example")), "initiator"),
        (invalid("started_at", json!(future)), "started_at"),
        (invalid("started_at", json!(ancient)), "started_at"),
        (invalid("policy_id", json!(987654)), "policy_id"),
        (invalid("chain_id", json!(987654)), "chain_id"),
        (invalid("title", json!("   ")), "title"),
        (invalid("external_id", json!("")), "external_id"),
        (invalid("stage", json!("x".repeat(201))), "stage"),
    ];
    for (body, field) in cases {
        let rejected = app.post(&path("/workflows"), &app.admin, body).await;
        assert_error(
            &rejected,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some(field),
        );
        assert_eq!(app.counts().await, before, "rejected {field} changed something");
    }

    let negative =
        json!({"name": "Negative", "target_seconds": -3600, "warning": {"kind": "before_deadline", "seconds": 0}});
    let rejected = app.post(&path("/sla-policies"), &app.admin, negative).await;
    assert_error(
        &rejected,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("target_seconds"),
    );
    let too_long = json!({"name": "Forever", "target_seconds": 400 * 24 * 3600, "warning": {"kind": "elapsed_percent", "percent": 90}});
    let rejected = app.post(&path("/sla-policies"), &app.admin, too_long).await;
    assert_error(
        &rejected,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("target_seconds"),
    );

    let empty_chain = json!({"name": "Nobody", "levels": []});
    let rejected = app.post(&path("/escalation-chains"), &app.admin, empty_chain).await;
    assert_eq!(rejected.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", rejected.1);

    let limit = app.get(&path("/workflows?limit=0"), &app.admin).await;
    assert_error(&limit, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", Some("limit"));
    let limit = app.get(&path("/workflows?limit=-3"), &app.admin).await;
    assert_error(&limit, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", Some("limit"));
    assert_eq!(app.counts().await, before);
}

async fn an_idempotency_key_makes_a_retried_create_safe(app: TestApp) {
    let before = app.counts().await;
    let create = |external_id: &str, key: Option<&str>| {
        let mut request = app
            .request(Method::POST, &path("/workflows"), Some(&app.admin))
            .json(&app.new_workflow(external_id));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        app.send(request)
    };

    let (status, first) = create("PO-IDEM", Some("retry-123")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, replay) = create("PO-IDEM", Some("retry-123")).await;
    assert_eq!(status, StatusCode::OK, "{replay}");
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(replay["external_id"], "PO-IDEM");
    let after = app.counts().await;
    assert_eq!(after.workflows, before.workflows + 1);
    assert_eq!(after.audit, before.audit + 1, "a replay is not audited again");

    // Another key for the same external id is a conflict, not a replay.
    let other_key = create("PO-IDEM", Some("retry-456")).await;
    assert_error(&other_key, StatusCode::CONFLICT, "conflict", None);

    let (status, _) = create("PO-NOKEY", None).await;
    assert_eq!(status, StatusCode::CREATED);
    let again = create("PO-NOKEY", None).await;
    assert_error(&again, StatusCode::CONFLICT, "conflict", None);
    // A key on a retry of a keyless create does not adopt it.
    let adopt = create("PO-NOKEY", Some("late-key")).await;
    assert_error(&adopt, StatusCode::CONFLICT, "conflict", None);
    assert_eq!(app.counts().await.workflows, before.workflows + 2);

    // Retries racing the first request: one creates, every other one replays it.
    let racing: Vec<_> = (0..6).map(|_| create("PO-RACE", Some("race-key"))).collect();
    let responses = futures_join_all(racing).await;
    let created: Vec<_> = responses.iter().filter(|(s, _)| *s == StatusCode::CREATED).collect();
    assert_eq!(created.len(), 1, "{responses:?}");
    for (status, body) in &responses {
        assert!(
            matches!(*status, StatusCode::CREATED | StatusCode::OK),
            "{status}: {body}"
        );
        assert_eq!(body["id"], created[0].1["id"]);
    }
    assert_eq!(app.counts().await.workflows, before.workflows + 3);
}

/// Runs futures concurrently on this task (no extra dependency for `join_all`).
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

async fn department_heads_see_only_their_department(app: TestApp) {
    let (status, page) = app.get(&path("/workflows"), &app.head).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(items(&page).len(), 3, "{page}");
    assert!(field(&page, "department").iter().all(|d| **d == json!("finance")));

    let (_, asked) = app.get(&path("/workflows?department=hr"), &app.head).await;
    assert_eq!(items(&asked).len(), 0, "another department's listing is empty: {asked}");

    let hr = app.workflow_id("LV-2001").await;
    let hidden = app.get(&path(&format!("/workflows/{hr}")), &app.head).await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "not_found", None);
    let hidden = app
        .post(&path(&format!("/workflows/{hr}/cancel")), &app.head, json!({}))
        .await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "not_found", None);

    let finance = app.workflow_id("PO-1003").await;
    let (status, detail) = app.get(&path(&format!("/workflows/{finance}")), &app.head).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["external_id"], "PO-1003");

    // Viewers of finance read the same listing, and act on nothing.
    let (_, viewed) = app.get(&path("/workflows"), &app.viewer).await;
    assert_eq!(ids(&viewed), ids(&page));
    let hidden = app.get(&path(&format!("/workflows/{hr}")), &app.viewer).await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "not_found", None);
}

async fn approvers_see_only_their_workflows(app: TestApp) {
    let (status, page) = app.get(&path("/workflows"), &app.approver).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(items(&page).len(), 2, "{page}");
    assert!(field(&page, "assignee").iter().all(|a| **a == json!(FINANCE_APPROVER)));

    let (_, asked) = app
        .get(&path(&format!("/workflows?assignee={HR_APPROVER}")), &app.approver)
        .await;
    assert_eq!(items(&asked).len(), 0, "{asked}");

    // Mike's workflow, in Alice's own department, is still not hers to see.
    let mikes = app.workflow_id("PO-1003").await;
    let hidden = app.get(&path(&format!("/workflows/{mikes}")), &app.approver).await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "not_found", None);
    let hidden = app
        .post(&path(&format!("/workflows/{mikes}/complete")), &app.approver, json!({}))
        .await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "not_found", None);

    let (_, hanks) = app.get(&path("/workflows"), &app.hr_approver).await;
    assert_eq!(items(&hanks).len(), 2);
    assert!(field(&hanks, "department").iter().all(|d| **d == json!("hr")));

    // Once a workflow leaves her, Alice no longer sees it.
    let own = app.workflow_id("PO-1002").await;
    let (status, detail) = app.get(&path(&format!("/workflows/{own}")), &app.approver).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let (status, _) = app
        .post(
            &path(&format!("/workflows/{own}/reassign")),
            &app.admin,
            json!({"assignee": FINANCE_MANAGER}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let gone = app.get(&path(&format!("/workflows/{own}")), &app.approver).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "not_found", None);
    let (_, page) = app.get(&path("/workflows"), &app.approver).await;
    assert_eq!(items(&page).len(), 1);
}

async fn business_calendars_measure_deadlines_and_explain_them(app: TestApp) {
    let office = |d: &[&str]| {
        json!(d
            .iter()
            .map(|_| json!({"start": "09:00", "end": "17:00"}))
            .collect::<Vec<_>>())
    };
    let calendar = json!({
        "name": "Berlin office",
        "time_zone": "Europe/Berlin",
        "windows": {
            "monday": office(&["x"]), "tuesday": office(&["x"]), "wednesday": office(&["x"]),
            "thursday": office(&["x"]), "friday": office(&["x"]), "saturday": [], "sunday": [],
        },
        "holidays": [{"kind": "yearly", "month": 12, "day": 25, "name": "Christmas"}],
    });
    let (status, created) = app.post(&path("/calendars"), &app.admin, calendar.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let calendar_id = created["id"].as_i64().unwrap();
    let (status, listed) = app.get(&path("/calendars"), &app.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let mut bad = calendar.clone();
    bad["time_zone"] = json!("Mars/Olympus_Mons");
    let rejected = app.post(&path("/calendars"), &app.admin, bad).await;
    assert_error(
        &rejected,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("time_zone"),
    );
    // A yearly holiday's first year (RFC 5545's DTSTART) must be a year; the error names it.
    for since in [json!(0), json!(10_000)] {
        let mut bad = calendar.clone();
        bad["holidays"] = json!([{"kind": "yearly", "month": 5, "day": 8, "name": "Liberation Day", "since": since}]);
        let rejected = app.post(&path("/calendars"), &app.admin, bad).await;
        assert_error(
            &rejected,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("holidays[0].since"),
        );
    }
    let mut bad = calendar.clone();
    bad["holidays"] = json!([{"kind": "yearly", "month": 5, "day": 8, "since": "2027"}]);
    let rejected = app.post(&path("/calendars"), &app.admin, bad).await;
    // A year written as text is malformed, not just out of range (the holiday is named:
    // its kind decides which fields it has).
    assert_error(
        &rejected,
        StatusCode::BAD_REQUEST,
        "malformed_request",
        Some("holidays[0]"),
    );

    let policy = json!({"name": "8 business hours", "target_seconds": 28800,
        "warning": {"kind": "before_deadline", "seconds": 3600}, "calendar_id": calendar_id});
    let (status, policy) = app.post(&path("/sla-policies"), &app.admin, policy).await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    assert_eq!(policy["calendar_id"], calendar_id);
    let unknown = json!({"name": "x", "target_seconds": 60, "warning": {"kind": "before_deadline", "seconds": 0}, "calendar_id": 999});
    let rejected = app.post(&path("/sla-policies"), &app.admin, unknown).await;
    assert_error(
        &rejected,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("calendar_id"),
    );

    // Monday 2026-11-23 09:00 in Berlin (08:00Z): 8 business hours end at 17:00 (16:00Z).
    let mut body = app.new_workflow("CAL-1");
    body["policy_id"] = policy["id"].clone();
    body["started_at"] = json!("2026-11-23T08:00:00Z");
    let created = app.create_workflow(body).await;
    assert_eq!(created["sla"]["due_at"], "2026-11-23T16:00:00Z", "{created}");
    assert_eq!(created["sla"]["warn_at"], "2026-11-23T15:00:00Z", "{created}");

    let id = created["id"].as_i64().unwrap();
    let (status, explained) = app.get(&path(&format!("/workflows/{id}/sla")), &app.admin).await;
    assert_eq!(status, StatusCode::OK, "{explained}");
    assert_eq!(explained["time_zone"], "Europe/Berlin");
    assert_eq!(explained["calendar_id"], calendar_id);
    let segments = explained["segments"].as_array().unwrap();
    assert_eq!(segments[0]["kind"], "counted");
    assert_eq!(segments[0]["from"], "2026-11-23T08:00:00Z");
    assert_eq!(segments[0]["to"], "2026-11-23T16:00:00Z");
    assert_eq!(segments[1]["kind"], "outside_working_hours");
    for pair in segments.windows(2) {
        assert_eq!(pair[0]["to"], pair[1]["from"], "segments are contiguous");
    }
    let hidden = app.get(&path(&format!("/workflows/{id}/sla")), &app.hr_approver).await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "not_found", None);

    // Editing the calendar makes a new version of the policy; the workflow keeps its own.
    let mut longer = calendar.clone();
    longer["windows"]["monday"] = json!([{"start": "08:00", "end": "18:00"}]);
    let (status, _) = app
        .put(&path(&format!("/calendars/{calendar_id}")), &app.admin, longer)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, policy_now) = app
        .get(&path(&format!("/sla-policies/{}", policy["id"])), &app.admin)
        .await;
    assert_eq!(policy_now["version"], 2);
    let (_, kept) = app.get(&path(&format!("/workflows/{id}")), &app.admin).await;
    assert_eq!(kept["policy_version"], 1);
    assert_eq!(kept["sla"]["due_at"], "2026-11-23T16:00:00Z");
}

async fn policy_edits_are_versions_previewed_and_applied(app: TestApp) {
    let day = json!({"name": "Day", "target_seconds": 86400, "warning": {"kind": "before_deadline", "seconds": 7200}});
    let (status, policy) = app.post(&path("/sla-policies"), &app.admin, day).await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    assert_eq!(policy["version"], 1);
    let policy_id = policy["id"].as_i64().unwrap();
    let mut body = app.new_workflow("VER-1");
    body["policy_id"] = json!(policy_id);
    body["started_at"] = json!(rfc3339(Utc::now() - TimeDelta::hours(10)));
    let created = app.create_workflow(body).await;
    let id = created["id"].as_i64().unwrap();
    let old_due = created["sla"]["due_at"].clone();
    assert_eq!(created["sla"]["status"], "ok");

    let shorter =
        json!({"name": "Day", "target_seconds": 28800, "warning": {"kind": "before_deadline", "seconds": 3600}});
    // The preview changes nothing and reports the ok → breached move.
    let (status, preview) = app
        .post(
            &path(&format!("/sla-policies/{policy_id}/preview")),
            &app.admin,
            shorter.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["open_workflows"], 1);
    assert_eq!(preview["status_changes"], 1);
    assert_eq!(preview["workflows"][0]["workflow_id"], id);
    assert_eq!(preview["workflows"][0]["old_status"], "ok");
    assert_eq!(preview["workflows"][0]["new_status"], "breached");
    let (_, unchanged) = app.get(&path(&format!("/sla-policies/{policy_id}")), &app.admin).await;
    assert_eq!(unchanged["version"], 1, "a preview is not an edit");

    // The edit makes version 2; the open workflow keeps version 1 until it is applied.
    let (status, edited) = app
        .put(&path(&format!("/sla-policies/{policy_id}")), &app.admin, shorter)
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["version"], 2);
    let (_, kept) = app.get(&path(&format!("/workflows/{id}")), &app.admin).await;
    assert_eq!(kept["policy_version"], 1);
    assert_eq!(kept["sla"]["due_at"], old_due);
    assert_eq!(kept["sla"]["status"], "ok");

    let forbidden = app
        .post(&path(&format!("/sla-policies/{policy_id}/apply")), &app.head, json!({}))
        .await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, "forbidden", None);
    let (status, applied) = app
        .post(
            &path(&format!("/sla-policies/{policy_id}/apply")),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["applied"], 1);
    assert_eq!(applied["version"], 2);
    let (_, moved) = app.get(&path(&format!("/workflows/{id}")), &app.admin).await;
    assert_eq!(moved["policy_version"], 2);
    assert_eq!(moved["sla"]["status"], "breached");
    let (_, log) = app
        .get(
            &path(&format!("/audit-log?workflow_id={id}&action=policy_applied")),
            &app.admin,
        )
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    assert_eq!(log["items"][0]["details"]["from_version"], 1);

    // New workflows take the new version.
    let mut body = app.new_workflow("VER-2");
    body["policy_id"] = json!(policy_id);
    let fresh = app.create_workflow(body).await;
    assert_eq!(fresh["policy_version"], 2);
}

async fn notification_preferences_phones_and_repeating_policies(app: TestApp) {
    // A phone number through the directory sync, normalised; a bad one is 422 naming it.
    let body = json!({"name": "Alice", "role": "approver", "department": "finance", "phone": "+49 151 1234-5678"});
    let (status, user) = app
        .put(&path(&format!("/users/{FINANCE_APPROVER}")), &app.admin, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["phone"], "+4915112345678");
    let before = app.counts().await;
    let bad = json!({"name": "Alice", "role": "approver", "phone": "0151 12345678"});
    let rejected = app
        .put(&path(&format!("/users/{FINANCE_APPROVER}")), &app.admin, bad)
        .await;
    assert_error(
        &rejected,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("phone"),
    );
    assert_eq!(app.counts().await, before);

    // Defaults until set; users set their own, admins anyone's.
    let mine = path(&format!("/users/{FINANCE_APPROVER}/preferences"));
    let (status, prefs) = app.get(&mine, &app.approver).await;
    assert_eq!(status, StatusCode::OK, "{prefs}");
    assert_eq!(prefs, json!({"channels": {}, "time_zone": null, "quiet_hours": null}));
    let wanted = json!({"channels": {"reminder": ["in_app"], "escalation": ["email", "sms", "in_app"]},
        "time_zone": "Europe/Berlin", "quiet_hours": {"start": "22:00", "end": "07:00"}});
    let (status, saved) = app.put(&mine, &app.approver, wanted.clone()).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved, wanted);
    assert_eq!(app.get(&mine, &app.admin).await.1, wanted);
    let (status, _) = app
        .put(&mine, &app.admin, json!({"channels": {"assignment": []}}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Someone else's: 403; an unknown user: 404; bad values name the field.
    let forbidden = app.get(&mine, &app.viewer).await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, "forbidden", None);
    let forbidden = app.put(&mine, &app.hr_approver, wanted.clone()).await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, "forbidden", None);
    let unknown = app
        .get(&path("/users/ghost@acme.example/preferences"), &app.admin)
        .await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND, "{}", unknown.1);
    let zone = app
        .put(&mine, &app.approver, json!({"time_zone": "Mars/Olympus"}))
        .await;
    assert_error(
        &zone,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("time_zone"),
    );
    let channel = app
        .put(&mine, &app.approver, json!({"channels": {"reminder": ["fax"]}}))
        .await;
    assert_eq!(channel.0, StatusCode::BAD_REQUEST, "{}", channel.1);
    assert!(
        channel.1["error"]["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("channels")),
        "{}",
        channel.1
    );
    let hours = app
        .put(
            &mine,
            &app.approver,
            json!({"quiet_hours": {"start": "25:00", "end": "07:00"}}),
        )
        .await;
    assert_eq!(hours.0, StatusCode::BAD_REQUEST, "{}", hours.1);
    assert!(
        hours.1["error"]["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("quiet_hours")),
        "{}",
        hours.1
    );
    assert_eq!(
        app.get(&mine, &app.approver).await.1["channels"],
        json!({"assignment": []})
    );

    // Policies repeat their reminder when asked; a non-positive interval is 422.
    let body = json!({"name": "Nagging", "target_seconds": 86400, "warning": {"kind": "before_deadline", "seconds": 7200},
        "reminder_repeat_seconds": 1800});
    let (status, policy) = app.post(&path("/sla-policies"), &app.admin, body).await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    assert_eq!(policy["reminder_repeat_seconds"], 1800);
    let body = json!({"name": "Bad", "target_seconds": 86400, "warning": {"kind": "before_deadline", "seconds": 7200},
        "reminder_repeat_seconds": 0});
    let bad = app.post(&path("/sla-policies"), &app.admin, body).await;
    assert_error(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        Some("reminder_repeat_seconds"),
    );
}

on_both!(sla_reports_count_decided_stages_per_department);

/// The SLA report: what it counts, who may read which department's, and refused queries.
async fn sla_reports_count_decided_stages_per_department(app: TestApp) {
    let complete = |id: &Value| path(&format!("/workflows/{}/complete", id["id"]));
    // Finance: one decided in time, one 30 h late; HR: one in time.
    let quick = app.create_workflow(app.new_workflow("R-1")).await;
    let mut late = app.new_workflow("R-2");
    late["started_at"] = json!(rfc3339(Utc::now() - TimeDelta::hours(30)));
    let late = app.create_workflow(late).await;
    let mut hr = app.new_workflow("R-3");
    hr["department"] = json!("hr");
    hr["assignee"] = json!(HR_APPROVER);
    hr["initiator"] = json!(HR_APPROVER);
    let hr = app.create_workflow(hr).await;
    for w in [&quick, &late, &hr] {
        let (status, body) = app.post(&complete(w), &app.admin, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (status, all) = app.get(&path("/reports/sla"), &app.admin).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        (all["totals"]["met"].as_i64(), all["totals"]["breached"].as_i64()),
        (Some(2), Some(1)),
        "{all}"
    );
    assert_eq!(all["decisions"], 3);
    assert_eq!(
        all["series"].as_array().unwrap().len(),
        30,
        "the last 30 days, day by day"
    );
    assert_eq!(all["period"], "day");
    let by_department = all["breakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["by"] == "department")
        .unwrap();
    assert_eq!(by_department["groups"][0]["key"], "finance", "most breaches first");
    assert_eq!(by_department["groups"][0]["label"], "Finance");
    assert_eq!(by_department["groups"][0]["compliance"], 0.5);
    assert!(all["p90_decision_seconds"].as_i64().unwrap() >= 30 * 3600);

    // A head reads their own department's only.
    let (status, own) = app.get(&path("/reports/sla"), &app.head).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["department"], "finance");
    assert_eq!(
        (own["totals"]["met"].as_i64(), own["totals"]["breached"].as_i64()),
        (Some(1), Some(1))
    );
    assert_error(
        &app.get(&path("/reports/sla?department=hr"), &app.head).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    assert_error(
        &app.get(&path("/reports/sla"), &app.approver).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );

    // Admins pick a department; other ranges and periods.
    let (_, hr_only) = app
        .get(&path("/reports/sla?department=hr&period=week"), &app.admin)
        .await;
    assert_eq!(
        (
            hr_only["totals"]["met"].as_i64(),
            hr_only["totals"]["breached"].as_i64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(hr_only["period"], "week");
    let (_, before) = app
        .get(&path("/reports/sla?from=2020-01-01&to=2020-12-31"), &app.admin)
        .await;
    assert_eq!(before["decisions"], 0);
    assert_eq!(before["compliance"], Value::Null);
    assert_eq!(before["period"], "week", "a year goes by weeks");

    // Refused queries name the field.
    let refused = [
        ("/reports/sla?from=2026-13-01", StatusCode::UNPROCESSABLE_ENTITY, "from"),
        (
            "/reports/sla?from=2026-12-10&to=2026-12-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "from",
        ),
        ("/reports/sla?period=year", StatusCode::UNPROCESSABLE_ENTITY, "period"),
        ("/reports/sla?to=", StatusCode::UNPROCESSABLE_ENTITY, "to"),
        ("/reports/sla?period=", StatusCode::UNPROCESSABLE_ENTITY, "period"),
        ("/reports/sla?to=99999-01-01", StatusCode::UNPROCESSABLE_ENTITY, "to"),
        ("/reports/sla?from=1900-01-01", StatusCode::UNPROCESSABLE_ENTITY, "from"),
        ("/reports/sla?form=2026-01-01", StatusCode::BAD_REQUEST, "form"),
    ];
    for (query, status, field) in refused {
        let response = app.get(&path(query), &app.admin).await;
        assert_eq!(response.0, status, "{query}: {}", response.1);
        assert_eq!(response.1["error"]["field"], field, "{query}: {}", response.1);
    }
}
