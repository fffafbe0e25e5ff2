//! One-click actions from e-mail, end to end on SQLite and PostgreSQL: a real SMTP server
//! receives the escalation mail, the test takes the signed links out of its text, a GET
//! shows the confirmation page and changes nothing, the page's POST acts once (audited
//! as the recipient, via the message), and a second POST only says what already happened.

mod common;
#[path = "../../engine/tests/support/smtp.rs"]
mod smtp;

use chrono::{TimeDelta, Utc};
use common::{spawn_app_with, TestApp, FINANCE_HEAD, FINANCE_MANAGER};
use escalator_engine::Actor;
use escalator_storage::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use smtp::{header, text_body, SmtpServer};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(super::Backend::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(super::Backend::Postgres).await; })*
        }
    };
}

on_both_backends!(
    a_link_from_the_mail_shows_then_acts_once,
    a_snooze_link_pauses_for_the_chosen_time,
    the_delegate_link_hands_over_and_stale_or_forged_links_explain_themselves,
);

/// The app with e-mail to `smtp`, and the SMTP server.
async fn app_with_mail(backend: Backend) -> (TestApp, SmtpServer) {
    let mut smtp = SmtpServer::stopped();
    smtp.start();
    let port = smtp.port;
    let app = spawn_app_with(backend, |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = port;
        c.smtp_security = escalator_engine::notify::SmtpSecurity::None;
    })
    .await;
    (app, smtp)
}

/// Creates a breached workflow, escalates it to the finance head and delivers the mail;
/// the workflow's id and the action links (words → URL) of the head's e-mail.
async fn escalated_mail(app: &TestApp, smtp: &SmtpServer, external_id: &str) -> (i64, Vec<(String, String)>) {
    let mut body = app.new_workflow(external_id);
    body["started_at"] = json!((Utc::now() - TimeDelta::hours(48)).to_rfc3339());
    let id = app.create_workflow(body).await["id"].as_i64().unwrap();
    let before = smtp.messages().len();
    app.escalator.tick().await.unwrap();
    app.escalator.deliver_outbox().await.unwrap();
    let mails = smtp.messages();
    let mail = mails[before..]
        .iter()
        .find(|m| {
            header(m, "To").as_deref() == Some(FINANCE_HEAD)
                && header(m, "Subject").is_some_and(|s| s.contains(external_id) || s.contains("escalated"))
                && text_body(m).contains(external_id)
        })
        .unwrap_or_else(|| panic!("the escalation mail of {external_id} among {:#?}", &mails[before..]));
    let text = text_body(mail);
    let links = text
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .filter_map(|l| l.split_once(": http"))
        .map(|(label, rest)| (label.to_string(), format!("http{}", rest.trim())))
        .collect();
    (id, links)
}

fn link<'a>(links: &'a [(String, String)], label: &str) -> &'a str {
    links
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, url)| url.as_str())
        .unwrap_or_else(|| panic!("a {label:?} link among {links:?}"))
}

async fn get_page(app: &TestApp, url: &str) -> (StatusCode, String) {
    let response = app.client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post_page(app: &TestApp, url: &str, form: &str) -> (StatusCode, String) {
    let response = app
        .client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn workflow(app: &TestApp, id: i64) -> Value {
    let (status, w) = app.get(&format!("/api/v1/workflows/{id}"), &app.admin).await;
    assert_eq!(status, StatusCode::OK, "{w}");
    w
}

async fn audit(app: &TestApp, id: i64, action: &str) -> Vec<Value> {
    let (status, log) = app
        .get(
            &format!("/api/v1/audit-log?workflow_id={id}&action={action}"),
            &app.admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    log["items"].as_array().unwrap().clone()
}

async fn a_link_from_the_mail_shows_then_acts_once(backend: Backend) {
    let (app, smtp) = app_with_mail(backend).await;
    let (id, links) = escalated_mail(&app, &smtp, "PO-LINK-1").await;
    let labels: Vec<&str> = links.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        ["Approve (complete)", "Snooze"],
        "no delegate set: no hand-over"
    );
    let approve = link(&links, "Approve (complete)");
    assert!(approve.starts_with(&format!("{}/act/v1.", app.address)), "{approve}");

    // A GET (a mail scanner, or the person) shows what it would do and changes nothing.
    for _ in 0..2 {
        let (status, page) = get_page(&app, approve).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("PO-LINK-1") && page.contains("data-testid=\"confirm\""),
            "{page}"
        );
        assert!(
            page.contains("acting as <strong>Dana"),
            "it says whom it acts as: {page}"
        );
        assert!(page.contains("<dt>With</dt><dd>Dana"), "people by name: {page}");
    }
    assert_eq!(workflow(&app, id).await["status"], "escalated");

    // Two clicks at once: exactly one acts.
    let (first, second) = tokio::join!(post_page(&app, approve, ""), post_page(&app, approve, ""));
    assert_eq!((first.0, second.0), (StatusCode::OK, StatusCode::OK));
    let pages = [first.1, second.1];
    let done = pages.iter().filter(|p| p.contains("<h1>Done</h1>")).count();
    let used = pages.iter().filter(|p| p.contains("<h1>Already done</h1>")).count();
    assert_eq!((done, used), (1, 1), "{pages:#?}");
    assert_eq!(workflow(&app, id).await["status"], "completed");
    let completes = audit(&app, id, "complete").await;
    assert_eq!(completes.len(), 1);
    assert_eq!(completes[0]["actor"], FINANCE_HEAD);
    assert_eq!(completes[0]["details"]["via"], "message link");

    // Later clicks say what happened; the other link of the mail is out of date.
    let (status, again) = post_page(&app, approve, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        again.contains("already used") && again.contains("the workflow is completed"),
        "{again}"
    );
    let (_, snooze) = get_page(&app, link(&links, "Snooze")).await;
    assert!(snooze.contains("already completed"), "{snooze}");
    assert_eq!(audit(&app, id, "complete").await.len(), 1);
}

async fn a_snooze_link_pauses_for_the_chosen_time(backend: Backend) {
    let (app, smtp) = app_with_mail(backend).await;
    let (id, links) = escalated_mail(&app, &smtp, "PO-LINK-2").await;
    let snooze = link(&links, "Snooze");
    let (_, page) = get_page(&app, snooze).await;
    assert!(
        page.contains("<select id=\"snooze_hours\" name=\"snooze_hours\">"),
        "{page}"
    );
    // A length the page does not offer is refused and changes nothing; the link still works.
    let (_, refused) = post_page(&app, snooze, "snooze_hours=5").await;
    assert!(refused.contains("choose how long"), "{refused}");
    assert_eq!(workflow(&app, id).await["status"], "escalated");

    let before = Utc::now();
    let (status, done) = post_page(&app, snooze, "snooze_hours=4").await;
    assert_eq!(status, StatusCode::OK);
    assert!(done.contains("Snoozed for 4 hours"), "{done}");
    let w = workflow(&app, id).await;
    assert_eq!(w["status"], "on_hold");
    let until = chrono::DateTime::parse_from_rfc3339(w["next_check_at"].as_str().unwrap()).unwrap();
    let hours = (until.with_timezone(&Utc) - before).num_minutes();
    assert!((239..=241).contains(&hours), "resumes 4 h later: {w}");
    let holds = audit(&app, id, "hold").await;
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0]["actor"], FINANCE_HEAD);
    assert_eq!(holds[0]["details"]["via"], "message link");
}

async fn the_delegate_link_hands_over_and_stale_or_forged_links_explain_themselves(backend: Backend) {
    let (app, smtp) = app_with_mail(backend).await;
    app.escalator
        .set_delegate(FINANCE_HEAD, Some(FINANCE_MANAGER), &Actor::internal("test"))
        .await
        .unwrap();
    let (id, links) = escalated_mail(&app, &smtp, "PO-LINK-3").await;
    let hand_over = link(&links, "Hand to my delegate");
    let (_, page) = get_page(&app, hand_over).await;
    assert!(page.contains(FINANCE_MANAGER), "names the delegate: {page}");
    let (_, done) = post_page(&app, hand_over, "").await;
    assert!(done.contains("Handed to your delegate"), "{done}");
    let w = workflow(&app, id).await;
    assert_eq!(w["assignee"], FINANCE_MANAGER);
    let reassigned = audit(&app, id, "reassign").await;
    assert_eq!(reassigned[0]["details"]["via"], "message link");

    // The workflow moved on: the mail's other link explains that instead of acting.
    let approve = link(&links, "Approve (complete)");
    let (status, stale) = post_page(&app, approve, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(stale.contains("moved on"), "{stale}");
    assert_eq!(workflow(&app, id).await["status"], "escalated");

    // A changed token is not a link.
    let forged = approve.replace("/act/v1.", "/act/v1.x");
    let (status, page) = get_page(&app, &forged).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
    assert!(page.contains("not valid"), "{page}");
    let (status, _) = post_page(&app, &forged, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
