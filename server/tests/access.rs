//! The role × route matrix: every REST route and every UI server function, called as
//! every role, answers what the engine's access rules promise, and every refused call
//! that could change something is shown to have changed nothing (the whole observable
//! database compared before and after). Table-driven: the REST rows are checked against
//! the served OpenAPI document and the UI rows against the registered server functions,
//! so a route without a row fails this test.
//!
//! Over 500 lines: the access matrix (every route and server function × every caller) and its table of expectations.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{Browser, TestApp, ADMIN, FINANCE_APPROVER, FINANCE_HEAD, FINANCE_MANAGER, FINANCE_VIEWER};
use escalator_storage::{AuditFilter, OutboxStatus, ReminderFilter, WorkflowFilter};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both!(
    every_route_answers_every_role_as_the_rules_say,
    every_server_function_answers_every_role_as_the_rules_say
);

/// The head of another department than the fixtures' (finance).
const OTHER_HEAD: &str = "harriet.head@acme.example";

/// Who calls. The first five have their own expectation in each row; the others are
/// refused (401) everywhere but on public routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    /// Head of the workflow's department (finance).
    Head,
    /// Head of another department (HR).
    OtherHead,
    /// The approver the workflow is assigned to.
    Assignee,
    /// A viewer of the workflow's department.
    Viewer,
    Anonymous,
    Revoked,
    Garbage,
}

const ROLES: [Role; 8] = [
    Role::Admin,
    Role::Head,
    Role::OtherHead,
    Role::Assignee,
    Role::Viewer,
    Role::Anonymous,
    Role::Revoked,
    Role::Garbage,
];

impl Role {
    fn email(self) -> Option<&'static str> {
        match self {
            Role::Admin => Some(ADMIN),
            Role::Head => Some(FINANCE_HEAD),
            Role::OtherHead => Some(OTHER_HEAD),
            Role::Assignee => Some(FINANCE_APPROVER),
            Role::Viewer => Some(FINANCE_VIEWER),
            Role::Anonymous | Role::Revoked | Role::Garbage => None,
        }
    }
}

/// What a row expects of a role: `A` answered (2xx), `F` forbidden (403), `N` not found
/// (404: the caller may not know it exists), `P` public (2xx for everyone, signed in or not).
fn expected(row: &str, role: Role) -> char {
    let chars: Vec<char> = row.chars().collect();
    if chars == ['P'] {
        return 'A';
    }
    assert_eq!(chars.len(), 5, "an expectation per signed-in role: {row}");
    match role {
        Role::Admin => chars[0],
        Role::Head => chars[1],
        Role::OtherHead => chars[2],
        Role::Assignee => chars[3],
        Role::Viewer => chars[4],
        Role::Anonymous | Role::Revoked | Role::Garbage => 'U',
    }
}

fn status_of(expectation: char) -> Option<StatusCode> {
    match expectation {
        'A' => None,
        'F' => Some(StatusCode::FORBIDDEN),
        'N' => Some(StatusCode::NOT_FOUND),
        'U' => Some(StatusCode::UNAUTHORIZED),
        'I' => Some(StatusCode::UNPROCESSABLE_ENTITY),
        other => panic!("unknown expectation {other:?}"),
    }
}

/// What a row needs to exist before it is called; each cell gets fresh ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    /// An open finance workflow assigned to the approver.
    Workflow,
    /// The same, on hold.
    HeldWorkflow,
    /// A workflow in its warning window, reminded, the reminder and in-app notification
    /// delivered to the approver.
    Reminded,
    Policy,
    Chain,
    Calendar,
    Webhook,
    DeadLetter,
    /// An absence of the approver.
    Absence,
    /// A fresh person of finance (`matrix<n>@acme.example`), to deactivate.
    Person,
    /// A group `matrix-<n>`.
    Group,
}

/// Fresh objects of one cell.
#[derive(Debug, Default)]
struct Fixture {
    n: u32,
    /// The demo's policy and chain, for workflows created by the call itself.
    demo_policy: i64,
    demo_chain: i64,
    workflow: i64,
    external_id: String,
    reminder: i64,
    notification: i64,
    policy: i64,
    chain: i64,
    calendar: i64,
    webhook: i64,
    dead: i64,
    absence: i64,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Fixture {
    async fn new(app: &TestApp, needs: Needs) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut fx = Fixture {
            n,
            demo_policy: app.policy_id,
            demo_chain: app.chain_id,
            external_id: format!("MATRIX-{n}"),
            ..Fixture::default()
        };
        match needs {
            Needs::Nothing => {}
            Needs::Workflow | Needs::HeldWorkflow => {
                let created = app.create_workflow(app.new_workflow(&fx.external_id)).await;
                fx.workflow = created["id"].as_i64().unwrap();
                if needs == Needs::HeldWorkflow {
                    let path = format!("/api/v1/workflows/{}/hold", fx.workflow);
                    let (status, body) = app.post(&path, &app.admin, json!({"reason": "waiting"})).await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                }
            }
            Needs::Reminded => {
                let mut body = app.new_workflow(&fx.external_id);
                body["started_at"] = json!((chrono::Utc::now() - chrono::TimeDelta::hours(23)).to_rfc3339());
                fx.workflow = app.create_workflow(body).await["id"].as_i64().unwrap();
                app.escalator.tick().await.unwrap();
                app.escalator.deliver_outbox().await.unwrap();
                let store = app.escalator.store();
                let reminders = store
                    .reminders(&ReminderFilter {
                        workflow_id: Some(fx.workflow),
                        limit: 1,
                        ..ReminderFilter::default()
                    })
                    .await
                    .unwrap();
                fx.reminder = reminders.first().expect("reminded").id;
                let inbox = store.notifications(FINANCE_APPROVER, false, None, 50).await.unwrap();
                fx.notification = inbox
                    .iter()
                    .find(|n| n.workflow_id == Some(fx.workflow))
                    .expect("an in-app reminder")
                    .id;
            }
            Needs::Policy => {
                let (status, body) = app.post("/api/v1/sla-policies", &app.admin, policy_body(n)).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                fx.policy = body["id"].as_i64().unwrap();
            }
            Needs::Chain => {
                let (status, body) = app.post("/api/v1/escalation-chains", &app.admin, chain_body(n)).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                fx.chain = body["id"].as_i64().unwrap();
            }
            Needs::Calendar => {
                let (status, body) = app.post("/api/v1/calendars", &app.admin, calendar_body(n)).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                fx.calendar = body["id"].as_i64().unwrap();
            }
            Needs::Webhook => {
                let (status, body) = app.post("/api/v1/webhooks", &app.admin, webhook_body()).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                fx.webhook = body["id"].as_i64().unwrap();
            }
            Needs::DeadLetter => {
                // A tick queues the reminder of a workflow in its warning window; nothing
                // delivers it here, so it can be failed for good.
                let mut body = app.new_workflow(&fx.external_id);
                body["started_at"] = json!((chrono::Utc::now() - chrono::TimeDelta::hours(23)).to_rfc3339());
                app.create_workflow(body).await;
                app.escalator.tick().await.unwrap();
                let store = app.escalator.store();
                let now = chrono::Utc::now();
                let claimed = store
                    .claim_outbox(now, now + chrono::TimeDelta::minutes(1), 1)
                    .await
                    .unwrap();
                fx.dead = claimed.first().expect("a pending outbox row").id;
                store.outbox_failed(fx.dead, "matrix", None).await.unwrap();
            }
            Needs::Absence => {
                let path = format!("/api/v1/users/{FINANCE_APPROVER}/absences");
                let (status, body) = app.post(&path, &app.admin, absence_body()).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                fx.absence = body["id"].as_i64().unwrap();
            }
            Needs::Group => {
                let path = fx.concrete("/api/v1/groups/{key}");
                let (status, body) = app
                    .send(app.request(Method::PUT, &path, Some(&app.admin)).json(&group_body()))
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
            Needs::Person => {
                let path = fx.concrete("/api/v1/users/{email}");
                let body = json!({"name": "Matrix", "role": "approver", "department": "finance"});
                let (status, body) = app
                    .send(app.request(Method::PUT, &path, Some(&app.admin)).json(&body))
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }
        fx
    }

    /// `path` with the fixture's ids in place of the OpenAPI document's parameters.
    fn concrete(&self, path: &str) -> String {
        path.replace("{key}", &format!("matrix-{}", self.n))
            .replace("{email}", &format!("matrix{}@acme.example", self.n))
            .replace("{workflow_type}", "purchase")
            .replace("{external_id}", &self.external_id)
    }
}

fn policy_body(n: u32) -> Value {
    json!({"name": format!("Matrix {n}"), "target_seconds": 3600, "warning": {"kind": "before_deadline", "seconds": 600}})
}

fn chain_body(n: u32) -> Value {
    json!({"name": format!("Matrix {n}"), "levels": [{"target": {"kind": "department_head"}, "time_limit_seconds": 600}]})
}

fn calendar_body(n: u32) -> Value {
    json!({"name": format!("Matrix {n}"), "time_zone": "Europe/Berlin",
           "windows": {"monday": [{"start": "09:00", "end": "17:00"}]}, "holidays": []})
}

fn webhook_body() -> Value {
    json!({"url": "http://127.0.0.1:9/matrix", "event_types": ["workflow.escalated"]})
}

/// One REST route: method, the path as the OpenAPI document writes it, the path to call
/// (`{id}`-like parts filled from the fixture), what it needs, its body, its expectations.
struct ApiRow {
    method: &'static str,
    route: &'static str,
    needs: Needs,
    call: fn(&Fixture, &str) -> String,
    body: fn(&Fixture) -> Option<Value>,
    expect: &'static str,
}

fn same(fx: &Fixture, route: &str) -> String {
    fx.concrete(route)
}
fn workflow(fx: &Fixture, route: &str) -> String {
    route.replace("{id}", &fx.workflow.to_string())
}
fn policy(fx: &Fixture, route: &str) -> String {
    route.replace("{id}", &fx.policy.to_string())
}
fn chain(fx: &Fixture, route: &str) -> String {
    route.replace("{id}", &fx.chain.to_string())
}
fn calendar(fx: &Fixture, route: &str) -> String {
    route.replace("{id}", &fx.calendar.to_string())
}
fn webhook(fx: &Fixture, route: &str) -> String {
    route.replace("{id}", &fx.webhook.to_string())
}
fn reminder(fx: &Fixture, route: &str) -> String {
    route.replace("{id}", &fx.reminder.to_string())
}
fn notification(fx: &Fixture, route: &str) -> String {
    route.replace("{id}", &fx.notification.to_string())
}
fn dead(fx: &Fixture, route: &str) -> String {
    route.replace("{id}", &fx.dead.to_string())
}
fn finance(_: &Fixture, route: &str) -> String {
    route.replace("{key}", "finance")
}
fn finance_report(_: &Fixture, route: &str) -> String {
    format!("{route}?department=finance")
}
fn approver(_: &Fixture, route: &str) -> String {
    route.replace("{email}", FINANCE_APPROVER)
}
fn absence(fx: &Fixture, route: &str) -> String {
    route
        .replace("{email}", FINANCE_APPROVER)
        .replace("{id}", &fx.absence.to_string())
}
fn group_body() -> Value {
    json!({"name": "Matrix", "members": [FINANCE_APPROVER], "strategy": {"kind": "first_present"}})
}
fn absence_body() -> Value {
    json!({"from": "2030-01-01", "to": "2030-01-02", "reason": "matrix"})
}

fn none(_: &Fixture) -> Option<Value> {
    None
}
fn empty(_: &Fixture) -> Option<Value> {
    Some(json!({}))
}

const fn row(
    method: &'static str,
    route: &'static str,
    needs: Needs,
    call: fn(&Fixture, &str) -> String,
    body: fn(&Fixture) -> Option<Value>,
    expect: &'static str,
) -> ApiRow {
    ApiRow {
        method,
        route,
        needs,
        call,
        body,
        expect,
    }
}

/// Roles: admin, head of the workflow's department, head of another, the assignee, a viewer.
const API: &[ApiRow] = &[
    row("get", "/api/v1/departments", Needs::Nothing, same, none, "AAAAA"),
    row(
        "get",
        "/api/v1/departments/{key}",
        Needs::Nothing,
        finance,
        none,
        "AAAAA",
    ),
    row(
        "put",
        "/api/v1/departments/{key}",
        Needs::Nothing,
        same,
        |_| Some(json!({"name": "Matrix"})),
        "AFFFF",
    ),
    row("get", "/api/v1/users", Needs::Nothing, same, none, "AAAAA"),
    row("get", "/api/v1/users/{email}", Needs::Nothing, approver, none, "AANAA"),
    row(
        "put",
        "/api/v1/users/{email}",
        Needs::Nothing,
        same,
        |_| Some(json!({"name": "Matrix", "role": "viewer", "department": "finance"})),
        "AFFFF",
    ),
    row(
        "get",
        "/api/v1/users/{email}/preferences",
        Needs::Nothing,
        approver,
        none,
        "AFFAF",
    ),
    row(
        "put",
        "/api/v1/users/{email}/preferences",
        Needs::Nothing,
        approver,
        |_| Some(json!({"time_zone": "Europe/Berlin"})),
        "AFFAF",
    ),
    row(
        "get",
        "/api/v1/users/{email}/availability",
        Needs::Nothing,
        approver,
        none,
        "AFFAF",
    ),
    row(
        "get",
        "/api/v1/users/{email}/absences",
        Needs::Nothing,
        approver,
        none,
        "AFFAF",
    ),
    row(
        "post",
        "/api/v1/users/{email}/absences",
        Needs::Nothing,
        approver,
        |_| Some(absence_body()),
        "AFFAF",
    ),
    row(
        "post",
        "/api/v1/users/{email}/absences/import",
        Needs::Nothing,
        approver,
        |fx| {
            let day = 20300201 + fx.n % 20;
            Some(json!({"ics": format!("BEGIN:VEVENT\nDTSTART;VALUE=DATE:{day}\nEND:VEVENT\n")}))
        },
        "AFFAF",
    ),
    row(
        "delete",
        "/api/v1/users/{email}/absences/{id}",
        Needs::Absence,
        absence,
        none,
        "AFFAF",
    ),
    row(
        "put",
        "/api/v1/users/{email}/delegate",
        Needs::Nothing,
        approver,
        |_| Some(json!({"delegate": FINANCE_HEAD})),
        "AFFAF",
    ),
    row(
        "post",
        "/api/v1/users/{email}/deactivate",
        Needs::Person,
        same,
        none,
        "AFFFF",
    ),
    row(
        "post",
        "/api/v1/users/{email}/reactivate",
        Needs::Person,
        same,
        none,
        "AFFFF",
    ),
    row("get", "/api/v1/groups", Needs::Nothing, same, none, "AAAFF"),
    row("get", "/api/v1/groups/{key}", Needs::Group, same, none, "AAAFF"),
    row(
        "put",
        "/api/v1/groups/{key}",
        Needs::Nothing,
        same,
        |_| Some(group_body()),
        "AFFFF",
    ),
    row("get", "/api/v1/sla-policies", Needs::Nothing, same, none, "AAAFF"),
    row(
        "post",
        "/api/v1/sla-policies",
        Needs::Nothing,
        same,
        |fx| Some(policy_body(fx.n)),
        "AFFFF",
    ),
    row("get", "/api/v1/sla-policies/{id}", Needs::Policy, policy, none, "AAAFF"),
    row(
        "put",
        "/api/v1/sla-policies/{id}",
        Needs::Policy,
        policy,
        |fx| Some(policy_body(fx.n + 1000)),
        "AFFFF",
    ),
    row(
        "post",
        "/api/v1/sla-policies/{id}/preview",
        Needs::Policy,
        policy,
        |fx| Some(policy_body(fx.n)),
        "AFFFF",
    ),
    row(
        "post",
        "/api/v1/sla-policies/{id}/apply",
        Needs::Policy,
        policy,
        none,
        "AFFFF",
    ),
    row("get", "/api/v1/zone-rules", Needs::Nothing, same, none, "AFFFF"),
    row("post", "/api/v1/zone-rules/apply", Needs::Nothing, same, none, "AFFFF"),
    row("get", "/api/v1/escalation-chains", Needs::Nothing, same, none, "AAAFF"),
    row(
        "post",
        "/api/v1/escalation-chains",
        Needs::Nothing,
        same,
        |fx| Some(chain_body(fx.n)),
        "AFFFF",
    ),
    row(
        "get",
        "/api/v1/escalation-chains/{id}",
        Needs::Chain,
        chain,
        none,
        "AAAFF",
    ),
    row(
        "put",
        "/api/v1/escalation-chains/{id}",
        Needs::Chain,
        chain,
        |fx| Some(chain_body(fx.n + 1000)),
        "AFFFF",
    ),
    row("get", "/api/v1/calendars", Needs::Nothing, same, none, "AAAFF"),
    row(
        "post",
        "/api/v1/calendars",
        Needs::Nothing,
        same,
        |fx| Some(calendar_body(fx.n)),
        "AFFFF",
    ),
    row(
        "get",
        "/api/v1/calendars/{id}",
        Needs::Calendar,
        calendar,
        none,
        "AAAFF",
    ),
    row(
        "put",
        "/api/v1/calendars/{id}",
        Needs::Calendar,
        calendar,
        |fx| Some(calendar_body(fx.n + 1000)),
        "AFFFF",
    ),
    row(
        "post",
        "/api/v1/workflows",
        Needs::Nothing,
        same,
        |fx| {
            Some(
                json!({"external_id": fx.external_id, "workflow_type": "purchase", "title": "Matrix",
                "stage": "Approval", "department": "finance", "initiator": FINANCE_VIEWER,
                "assignee": FINANCE_APPROVER, "policy_id": fx.demo_policy, "chain_id": fx.demo_chain}),
            )
        },
        "AAFFF",
    ),
    row("get", "/api/v1/workflows", Needs::Nothing, same, none, "AAAAA"),
    row(
        "get",
        "/api/v1/workflows/{id}",
        Needs::Workflow,
        workflow,
        none,
        "AANAA",
    ),
    row(
        "post",
        "/api/v1/workflows/{id}/complete",
        Needs::Workflow,
        workflow,
        empty,
        "AANAF",
    ),
    row(
        "post",
        "/api/v1/workflows/{id}/advance",
        Needs::Workflow,
        workflow,
        |_| Some(json!({"stage": "Next"})),
        "AANAF",
    ),
    row(
        "post",
        "/api/v1/workflows/{id}/reassign",
        Needs::Workflow,
        workflow,
        |_| Some(json!({"assignee": FINANCE_MANAGER})),
        "AANFF",
    ),
    row(
        "post",
        "/api/v1/workflows/{id}/cancel",
        Needs::Workflow,
        workflow,
        empty,
        "AANFF",
    ),
    row(
        "post",
        "/api/v1/workflows/{id}/hold",
        Needs::Workflow,
        workflow,
        |_| Some(json!({"reason": "waiting"})),
        "AANFF",
    ),
    row(
        "post",
        "/api/v1/workflows/{id}/resume",
        Needs::HeldWorkflow,
        workflow,
        none,
        "AANFF",
    ),
    row(
        "get",
        "/api/v1/workflows/{id}/sla",
        Needs::Workflow,
        workflow,
        none,
        "AANAA",
    ),
    row(
        "get",
        "/api/v1/workflows/external/{workflow_type}/{external_id}",
        Needs::Workflow,
        same,
        none,
        "AANAA",
    ),
    row(
        "post",
        "/api/v1/workflows/external/{workflow_type}/{external_id}/complete",
        Needs::Workflow,
        same,
        empty,
        "AANAF",
    ),
    row(
        "post",
        "/api/v1/workflows/external/{workflow_type}/{external_id}/advance",
        Needs::Workflow,
        same,
        |_| Some(json!({"stage": "Next"})),
        "AANAF",
    ),
    row(
        "post",
        "/api/v1/workflows/external/{workflow_type}/{external_id}/cancel",
        Needs::Workflow,
        same,
        empty,
        "AANFF",
    ),
    row("post", "/api/v1/escalations/run", Needs::Nothing, same, none, "AFFFF"),
    row("get", "/api/v1/audit-log", Needs::Nothing, same, none, "AFFFF"),
    row("get", "/api/v1/reminders", Needs::Nothing, same, none, "AAAAA"),
    // Reports: admins any department's, heads their own's only.
    row("get", "/api/v1/reports/sla", Needs::Nothing, same, none, "AAAFF"),
    row(
        "get",
        "/api/v1/reports/sla",
        Needs::Nothing,
        finance_report,
        none,
        "AAFFF",
    ),
    row(
        "post",
        "/api/v1/reminders/{id}/ack",
        Needs::Reminded,
        reminder,
        none,
        "AANAN",
    ),
    row("get", "/api/v1/notifications", Needs::Nothing, same, none, "AAAAA"),
    row(
        "post",
        "/api/v1/notifications/read-all",
        Needs::Nothing,
        same,
        none,
        "AAAAA",
    ),
    // Inboxes are personal: someone else's notification does not exist for the caller.
    row(
        "post",
        "/api/v1/notifications/{id}/read",
        Needs::Reminded,
        notification,
        none,
        "NNNAN",
    ),
    row(
        "post",
        "/api/v1/webhooks",
        Needs::Nothing,
        same,
        |_| Some(webhook_body()),
        "AFFFF",
    ),
    row("get", "/api/v1/webhooks", Needs::Nothing, same, none, "AFFFF"),
    row(
        "delete",
        "/api/v1/webhooks/{id}",
        Needs::Webhook,
        webhook,
        none,
        "AFFFF",
    ),
    row(
        "get",
        "/api/v1/webhooks/{id}/deliveries",
        Needs::Webhook,
        webhook,
        none,
        "AFFFF",
    ),
    row("get", "/api/v1/outbox", Needs::Nothing, same, none, "AFFFF"),
    row(
        "post",
        "/api/v1/outbox/{id}/retry",
        Needs::DeadLetter,
        dead,
        none,
        "AFFFF",
    ),
    row(
        "post",
        "/api/v1/outbox/{id}/discard",
        Needs::DeadLetter,
        dead,
        none,
        "AFFFF",
    ),
    row("get", "/api/v1/openapi.json", Needs::Nothing, same, none, "P"),
    row("get", "/api/v1/metrics/prometheus", Needs::Nothing, same, none, "P"),
];

/// Everything a call could change, read straight from the store.
async fn snapshot(app: &TestApp) -> Value {
    let s = app.escalator.store();
    let everything = WorkflowFilter {
        limit: 100_000,
        ..WorkflowFilter::default()
    };
    let mut inboxes = Vec::new();
    let mut preferences = Vec::new();
    let mut availability = Vec::new();
    let long_ago = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    for role in ROLES {
        if let Some(email) = role.email() {
            inboxes.push(json!(s.notifications(email, false, None, 1000).await.unwrap()));
            preferences.push(json!(s.notification_preferences(email).await.unwrap()));
            availability.push(json!([
                s.availability(email).await.unwrap(),
                s.absences(email, long_ago).await.unwrap()
            ]));
        }
    }
    json!({
        "workflows": s.workflows(&everything).await.unwrap(),
        "audit": s.audit_entries(&AuditFilter { limit: 100_000, ..AuditFilter::default() }).await.unwrap().len(),
        "policies": s.policies().await.unwrap(),
        "versions": s.policy_versions().await.unwrap().len(),
        "chains": s.chains().await.unwrap(),
        "calendars": s.calendars().await.unwrap(),
        "departments": s.departments().await.unwrap(),
        "users": s.users().await.unwrap(),
        "webhooks": s.webhooks().await.unwrap(),
        "groups": s.groups().await.unwrap().len(),
        "outbox": s.outbox(None, 100_000).await.unwrap(),
        "reminders": s.reminders(&ReminderFilter { limit: 100_000, ..ReminderFilter::default() }).await.unwrap(),
        "inboxes": inboxes,
        "preferences": preferences,
        "availability": availability,
        "dead": s.outbox(Some(OutboxStatus::Dead), 1000).await.unwrap().len(),
    })
}

async fn tokens(app: &TestApp) -> Vec<(Role, Option<String>)> {
    let (revoked, record) = app.escalator.create_token(ADMIN, "revoked").await.unwrap();
    assert!(app
        .escalator
        .store()
        .revoke_token(record.id, chrono::Utc::now())
        .await
        .unwrap());
    let mut out = Vec::new();
    for role in ROLES {
        let token = match role {
            Role::Anonymous => None,
            Role::Revoked => Some(revoked.clone()),
            Role::Garbage => Some("esc_not-a-token".to_string()),
            _ => Some(app.token(role.email().unwrap()).await),
        };
        out.push((role, token));
    }
    out
}

async fn every_route_answers_every_role_as_the_rules_say(app: TestApp) {
    // Every documented route has a row, and every row a documented route.
    let (_, doc) = app.send(app.request(Method::GET, "/api/v1/openapi.json", None)).await;
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "put", "post", "delete", "patch"].contains(&m.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let rows: BTreeSet<(String, String)> = API
        .iter()
        .map(|r| (r.method.to_string(), r.route.to_string()))
        .collect();
    assert_eq!(rows, documented, "a row per documented route, and no other");

    let callers = tokens(&app).await;
    let mut cells = 0;
    let mut refused = 0;
    for row in API {
        for (role, token) in &callers {
            let fx = Fixture::new(&app, row.needs).await;
            let path = (row.call)(&fx, row.route);
            let method = Method::from_bytes(row.method.to_uppercase().as_bytes()).unwrap();
            let changes = method != Method::GET;
            let before = if changes { Some(snapshot(&app).await) } else { None };
            let mut request = app.request(method.clone(), &path, token.as_deref());
            if let Some(body) = (row.body)(&fx) {
                request = request.json(&body);
            }
            let (status, body) = app.send(request).await;
            let want = expected(row.expect, *role);
            let cell = format!("{} {} as {role:?}", row.method, row.route);
            cells += 1;
            match status_of(want) {
                None => assert!(status.is_success(), "{cell}: {status} {body}"),
                Some(code) => {
                    refused += 1;
                    assert_eq!(status, code, "{cell}: {body}");
                    assert!(body["error"]["code"].is_string(), "{cell}: a JSON error body: {body}");
                    if let Some(before) = before {
                        assert_eq!(snapshot(&app).await, before, "{cell}: a refused call changed something");
                    }
                }
            }
        }
    }
    println!(
        "REST matrix: {} routes × {} roles = {cells} calls, {refused} refused",
        API.len(),
        ROLES.len()
    );
}

/// One UI server function, its arguments (form fields, or JSON), its expectations.
struct UiRow {
    name: &'static str,
    needs: Needs,
    args: fn(&Fixture) -> Args,
    /// For the five signed-in roles; without a session every function but `whoami`,
    /// `login` and `logout` answers 401.
    expect: &'static str,
}

enum Args {
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

fn no_args(_: &Fixture) -> Args {
    Args::Form(Vec::new())
}

const fn ui(name: &'static str, needs: Needs, args: fn(&Fixture) -> Args, expect: &'static str) -> UiRow {
    UiRow {
        name,
        needs,
        args,
        expect,
    }
}

const UI: &[UiRow] = &[
    ui("audit", Needs::Nothing, no_args, "AFFFF"),
    ui("sla_report", Needs::Nothing, no_args, "AAAFF"),
    ui(
        "sla_report",
        Needs::Nothing,
        |_| Args::Form(vec![("filters[department]", "finance".into())]),
        "AAFFF",
    ),
    ui("admin_chains", Needs::Nothing, no_args, "AAAFF"),
    ui(
        "save_chain",
        Needs::Nothing,
        |fx| {
            Args::Json(json!({"id": null, "name": format!("Matrix {}", fx.n),
                "levels": [{"target": "department_head", "hours": "1", "minutes": "0"}]}))
        },
        "AFFFF",
    ),
    ui("admin_directory", Needs::Nothing, no_args, "AAAAA"),
    ui(
        "put_department",
        Needs::Nothing,
        |fx| Args::Form(vec![("key", format!("matrix-{}", fx.n)), ("name", "Matrix".into())]),
        "AFFFF",
    ),
    ui(
        "put_user",
        Needs::Nothing,
        |fx| {
            Args::Form(vec![
                ("email", format!("matrix{}@acme.example", fx.n)),
                ("name", "Matrix".into()),
                ("role", "viewer".into()),
                ("department", "finance".into()),
            ])
        },
        "AFFFF",
    ),
    ui(
        "set_password",
        Needs::Nothing,
        // Not a caller of this matrix: the others must still sign in with the demo password.
        |_| {
            Args::Form(vec![
                ("email", FINANCE_MANAGER.into()),
                ("password", "a-new-long-password".into()),
            ])
        },
        "AFFFF",
    ),
    ui("reminders", Needs::Nothing, no_args, "AAAAA"),
    ui(
        "acknowledge",
        Needs::Reminded,
        |fx| Args::Form(vec![("id", fx.reminder.to_string())]),
        "AANAN",
    ),
    ui("notifications", Needs::Nothing, no_args, "AAAAA"),
    ui(
        "mark_read",
        Needs::Reminded,
        |fx| Args::Form(vec![("id", fx.notification.to_string())]),
        "NNNAN",
    ),
    ui("admin_policies", Needs::Nothing, no_args, "AAAFF"),
    ui(
        "save_policy",
        Needs::Nothing,
        |fx| Args::Form(policy_form(fx, None)),
        "AFFFF",
    ),
    ui(
        "preview_policy",
        Needs::Policy,
        |fx| Args::Form(policy_form(fx, Some(fx.policy))),
        "AFFFF",
    ),
    ui(
        "apply_policy",
        Needs::Policy,
        |fx| Args::Form(vec![("id", fx.policy.to_string())]),
        "AFFFF",
    ),
    ui("preview_zone_rules", Needs::Nothing, no_args, "AFFFF"),
    ui("apply_zone_rules", Needs::Nothing, no_args, "AFFFF"),
    ui(
        "save_calendar",
        Needs::Nothing,
        |fx| {
            Args::Form(vec![
                ("name", format!("Matrix {}", fx.n)),
                ("time_zone", "UTC".into()),
                ("windows", "mon-fri 09:00-17:00".into()),
            ])
        },
        "AFFFF",
    ),
    ui(
        "settings",
        Needs::Nothing,
        |_| Args::Form(vec![("user", FINANCE_APPROVER.into())]),
        "AFFAF",
    ),
    ui(
        "add_absence",
        Needs::Nothing,
        |_| {
            Args::Form(vec![
                ("user", FINANCE_APPROVER.into()),
                ("from", "2030-03-01".into()),
                ("to", "2030-03-02".into()),
            ])
        },
        "AFFAF",
    ),
    ui(
        "import_absences",
        Needs::Nothing,
        |fx| {
            let day = 20300401 + fx.n % 20;
            Args::Form(vec![
                ("user", FINANCE_APPROVER.into()),
                ("ics", format!("BEGIN:VEVENT\nDTSTART;VALUE=DATE:{day}\nEND:VEVENT\n")),
            ])
        },
        "AFFAF",
    ),
    ui(
        "remove_absence",
        Needs::Absence,
        |fx| Args::Form(vec![("user", FINANCE_APPROVER.into()), ("id", fx.absence.to_string())]),
        "AFFAF",
    ),
    ui(
        "set_delegate",
        Needs::Nothing,
        |_| {
            Args::Form(vec![
                ("user", FINANCE_APPROVER.into()),
                ("delegate", FINANCE_HEAD.into()),
            ])
        },
        "AFFAF",
    ),
    ui(
        "save_profile",
        Needs::Nothing,
        |_| {
            Args::Form(vec![
                ("user", FINANCE_APPROVER.into()),
                ("name", "Alice Approver".into()),
                ("reminder_email", "on".into()),
                ("reminder_in_app", "on".into()),
                ("escalation_email", "on".into()),
                ("escalation_in_app", "on".into()),
                ("assignment_email", "on".into()),
                ("assignment_in_app", "on".into()),
                ("attention_email", "on".into()),
                ("attention_in_app", "on".into()),
            ])
        },
        "AFFAF",
    ),
    // Everyone's own only (there is no `user`): a wrong current password is refused for
    // every caller, so the matrix's callers keep the demo password.
    ui(
        "change_password",
        Needs::Nothing,
        |_| {
            Args::Form(vec![
                ("current_password", "not-the-password".into()),
                ("new_password", "another-long-password".into()),
            ])
        },
        "IIIII",
    ),
    ui("integrations", Needs::Nothing, no_args, "AAAAA"),
    ui(
        "create_token",
        Needs::Nothing,
        |_| Args::Form(vec![("name", "matrix".into())]),
        "AAAAA",
    ),
    // Nobody's token: not found for everyone (owners and admins are tested in ui.rs).
    ui(
        "revoke_token",
        Needs::Nothing,
        |_| Args::Form(vec![("id", "987654".into())]),
        "NNNNN",
    ),
    ui(
        "register_webhook",
        Needs::Nothing,
        |_| Args::Form(vec![("url", "https://hooks.example.com/matrix".into())]),
        "AFFFF",
    ),
    ui(
        "set_webhook_active",
        Needs::Nothing,
        |_| Args::Form(vec![("id", "987654".into()), ("active", "false".into())]),
        "NFFFF",
    ),
    ui(
        "rotate_webhook_secret",
        Needs::Nothing,
        |_| Args::Form(vec![("id", "987654".into())]),
        "NFFFF",
    ),
    ui(
        "retry_dead",
        Needs::Nothing,
        |_| Args::Form(vec![("id", "all".into())]),
        "AFFFF",
    ),
    ui(
        "discard_dead",
        Needs::Nothing,
        |_| Args::Form(vec![("id", "987654".into())]),
        "NFFFF",
    ),
    ui(
        "set_active",
        Needs::Person,
        |fx| Args::Form(vec![("user", fx.concrete("{email}")), ("active", "false".into())]),
        "AFFFF",
    ),
    ui("admin_groups", Needs::Nothing, no_args, "AAAFF"),
    ui(
        "save_group",
        Needs::Nothing,
        |fx| {
            Args::Form(vec![
                ("key", format!("matrix-{}", fx.n)),
                ("name", "Matrix".into()),
                ("strategy", "first_present".into()),
                ("members", FINANCE_APPROVER.into()),
            ])
        },
        "AFFFF",
    ),
    ui("whoami", Needs::Nothing, no_args, "AAAAA"),
    ui("pending", Needs::Nothing, no_args, "AAAAA"),
    ui(
        "workflow",
        Needs::Workflow,
        |fx| Args::Form(vec![("id", fx.workflow.to_string())]),
        "AANAA",
    ),
    ui(
        "act",
        Needs::Workflow,
        |fx| Args::Form(vec![("id", fx.workflow.to_string()), ("action", "complete".into())]),
        "AANAF",
    ),
    ui(
        "login",
        Needs::Nothing,
        |_| {
            Args::Form(vec![
                ("email", FINANCE_APPROVER.into()),
                ("password", escalator_engine::demo::DEMO_PASSWORD.into()),
            ])
        },
        "AAAAA",
    ),
    ui("logout", Needs::Nothing, no_args, "AAAAA"),
];

fn policy_form(fx: &Fixture, id: Option<i64>) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("name", format!("Matrix {}", fx.n)),
        ("target_hours", "1".into()),
        ("target_minutes", "0".into()),
        ("warning_kind", "elapsed_percent".into()),
        ("warning_value", "50".into()),
    ];
    if let Some(id) = id {
        fields.insert(0, ("id", id.to_string()));
    }
    fields
}

/// Functions anyone may call without a session.
const OPEN: [&str; 3] = ["whoami", "login", "logout"];

async fn every_server_function_answers_every_role_as_the_rules_say(app: TestApp) {
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/ui/fn/").to_string())
        .collect();
    let rows: BTreeSet<String> = UI.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(rows, registered, "a row per server function, and no other");

    let mut cells = 0;
    let mut refused = 0;
    for row in UI {
        for role in [
            Role::Admin,
            Role::Head,
            Role::OtherHead,
            Role::Assignee,
            Role::Viewer,
            Role::Anonymous,
            Role::Garbage,
        ] {
            let fx = Fixture::new(&app, row.needs).await;
            let mut browser = match role.email() {
                Some(email) => Browser::sign_in(&app, email).await,
                None => Browser::new(&app),
            };
            if role == Role::Garbage {
                browser.cookie = Some("escalator_session=not-a-session".into());
            }
            let before = snapshot(&app).await;
            let (status, body) = match (row.args)(&fx) {
                Args::Form(fields) => {
                    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    browser.call(row.name, &fields).await
                }
                Args::Json(value) => browser.call_json(row.name, value).await,
            };
            let want = match role {
                Role::Anonymous | Role::Garbage if OPEN.contains(&row.name) => 'A',
                _ => expected(row.expect, role),
            };
            let cell = format!("{} as {role:?}", row.name);
            cells += 1;
            match status_of(want) {
                None => assert!(
                    status.is_success() || status.is_redirection(),
                    "{cell}: {status} {body}"
                ),
                Some(code) => {
                    refused += 1;
                    assert_eq!(status, code, "{cell}: {body}");
                    assert_eq!(snapshot(&app).await, before, "{cell}: a refused call changed something");
                }
            }
        }
    }
    println!(
        "UI matrix: {} server functions × 7 callers = {cells} calls, {refused} refused",
        UI.len()
    );
}

on_both!(
    assignments_and_policy_changes_follow_the_rules,
    whoever_holds_a_workflow_sees_and_decides_it
);

async fn assignments_and_policy_changes_follow_the_rules(app: TestApp) {
    let id = app.create_workflow(app.new_workflow("RULES-1")).await["id"]
        .as_i64()
        .unwrap();
    let advance = format!("/api/v1/workflows/{id}/advance");
    let before = snapshot(&app).await;
    // The assignee may not hand a finance workflow to HR, nor pick a laxer SLA policy.
    let to_hr = app
        .post(
            &advance,
            &app.approver,
            json!({"stage": "Next", "assignee": common::HR_APPROVER}),
        )
        .await;
    assert_eq!(to_hr.0, StatusCode::FORBIDDEN, "{}", to_hr.1);
    let (_, laxer) = app.post("/api/v1/sla-policies", &app.admin, policy_body(9_001)).await;
    let laxer = laxer["id"].as_i64().unwrap();
    let before_policy = snapshot(&app).await;
    let other_policy = app
        .post(&advance, &app.approver, json!({"stage": "Next", "policy_id": laxer}))
        .await;
    assert_eq!(other_policy.0, StatusCode::FORBIDDEN, "{}", other_policy.1);
    assert_eq!(snapshot(&app).await, before_policy, "refused advances change nothing");
    assert_ne!(before, before_policy, "(the policy was created in between)");
    // Keeping the current policy is no change of policy.
    let (status, same) = app
        .post(
            &advance,
            &app.approver,
            json!({"stage": "Review", "policy_id": app.policy_id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{same}");

    // Handing it to a colleague works and answers with the result, although the approver
    // no longer sees the workflow afterwards.
    let (status, handed) = app
        .post(
            &advance,
            &app.approver,
            json!({"stage": "Sign-off", "assignee": FINANCE_MANAGER}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{handed}");
    assert_eq!(handed["assignee"], FINANCE_MANAGER);
    assert_eq!(handed["stage"], "Sign-off");
    let (status, _) = app.get(&format!("/api/v1/workflows/{id}"), &app.approver).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no longer the approver's");

    // The department head may change the policy; an admin may assign across departments.
    let (status, body) = app
        .post(&advance, &app.head, json!({"stage": "Final", "policy_id": laxer}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["policy_id"], laxer);
    let head_to_hr = app
        .post(
            &format!("/api/v1/workflows/{id}/reassign"),
            &app.head,
            json!({"assignee": common::HR_APPROVER}),
        )
        .await;
    assert_eq!(head_to_hr.0, StatusCode::FORBIDDEN, "{}", head_to_hr.1);
    let (status, body) = app
        .post(
            &format!("/api/v1/workflows/{id}/reassign"),
            &app.admin,
            json!({"assignee": common::HR_APPROVER}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn whoever_holds_a_workflow_sees_and_decides_it(app: TestApp) {
    // A chain routed a finance workflow to the head of HR (here: an admin's reassignment).
    let id = app.create_workflow(app.new_workflow("ROUTED-1")).await["id"]
        .as_i64()
        .unwrap();
    let (status, body) = app
        .post(
            &format!("/api/v1/workflows/{id}/reassign"),
            &app.admin,
            json!({"assignee": OTHER_HEAD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other_head = app.token(OTHER_HEAD).await;
    let (status, one) = app.get(&format!("/api/v1/workflows/{id}"), &other_head).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the link in their escalation e-mail opens: {one}"
    );
    let (_, listed) = app.get("/api/v1/workflows", &other_head).await;
    assert!(common::ids(&listed).contains(&id), "in their list too: {listed}");
    let (_, filtered) = app.get("/api/v1/workflows?department=finance", &other_head).await;
    assert_eq!(common::ids(&filtered), vec![id], "of finance, only what is theirs");
    let (_, own) = app.get("/api/v1/workflows?department=hr", &other_head).await;
    assert!(common::ids(&own).contains(&id) && common::ids(&own).len() > 1, "{own}");
    // They may decide it, not run finance: no hold, no reassignment.
    let hold = app
        .post(
            &format!("/api/v1/workflows/{id}/hold"),
            &other_head,
            json!({"reason": "mine now"}),
        )
        .await;
    assert_eq!(hold.0, StatusCode::FORBIDDEN, "{}", hold.1);
    let (status, done) = app
        .post(&format!("/api/v1/workflows/{id}/complete"), &other_head, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "completed");
}

on_both!(the_ui_refuses_control_characters_like_the_api);

async fn the_ui_refuses_control_characters_like_the_api(app: TestApp) {
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let before = snapshot(&app).await;
    let (status, body) = admin
        .call("put_department", &[("key", "finance"), ("name", "Fi\u{0}nance")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "name");
    let id = app.workflow_id("PO-1001").await.to_string();
    let (status, body) = admin
        .call("act", &[("id", &id), ("action", "hold"), ("reason", "wait\u{1b}[2J")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "reason");
    assert_eq!(snapshot(&app).await, before, "nothing changed");
}
