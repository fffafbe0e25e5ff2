//! E-mail against a real SMTP server (Debian's python3-aiosmtpd, started here): the seed's
//! escalation mail, and an SMTP outage that delays every message but loses and doubles none.
//!
//! Over 500 lines: e-mail against a real SMTP server, including its outages; the server harness is part of it.

mod common;
#[path = "support/smtp.rs"]
mod smtp;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::{
    Department, DepartmentKey, Email, EscalationChain, Level, NotificationPreferences, QuietHours, Role, SlaPolicy,
    Target, User, WarningWindow,
};
use escalator_engine::clock::ShiftedClock;
use escalator_engine::notify::{Channels, InAppChannel, LogChannel, SmtpChannel, SmtpConfig, SmtpSecurity};
use escalator_engine::outbox::Backoff;
use escalator_engine::workflows::CreateWorkflow;
use escalator_engine::{Actor, DigestPolicy, EngineConfig, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use escalator_storage::{OutboxMessage, OutboxStatus};
use smtp::{header, quoted_printable, text_body, SmtpServer};

on_both!(
    the_escalation_mail_reaches_the_head_with_copies,
    an_smtp_outage_delays_but_never_drops_or_doubles,
    quiet_hours_hold_a_reminder_until_they_end,
    escalations_bypass_quiet_hours_unless_configured,
    excess_mails_are_combined_into_one_digest,
);

const RETRY: Duration = Duration::from_millis(300);

fn engine(db: &TestDb, smtp_port: u16) -> Escalator {
    engine_with(db, smtp_port, EngineConfig::default())
}

/// An engine whose other settings (digests, quiet hours) come from `base`.
fn engine_with(db: &TestDb, smtp_port: u16, base: EngineConfig) -> Escalator {
    let email = SmtpChannel::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp_port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "Escalator <escalator@acme.example>".into(),
        message_id_domain: "acme.example".into(),
        public_url: Some("http://escalator.acme.example".into()),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let channels = Channels::new()
        .notifications_to(Arc::new(InAppChannel::new(db.store.clone())))
        .notifications_to(Arc::new(email))
        .events_to(Arc::new(LogChannel));
    let config = EngineConfig {
        backoff: Backoff {
            base: RETRY,
            cap: RETRY,
            max_attempts: 50,
        },
        ..base
    };
    Escalator::new(
        db.store.clone(),
        channels,
        Arc::new(Metrics::new(900.0).unwrap()),
        config,
    )
}

/// The seed's scenario: a workflow 48 h at "Manager Approval" under a 24 h SLA.
async fn seed_scenario(e: &Escalator, n: usize) {
    scenario(e, n, 48).await;
    assert_eq!(e.tick().await.unwrap().escalated, n as u64);
}

/// The seed's organisation and `n` workflows assigned to Mike, started `hours_ago` under
/// the 24 h SLA warned 2 h before (23: reminded; 48: escalated to Dana, the head).
async fn scenario(e: &Escalator, n: usize, hours_ago: i64) {
    let s = e.store();
    let now = Utc::now();
    let email = |x: &str| Email::parse(x).unwrap();
    let key = DepartmentKey::parse("finance").unwrap();
    s.upsert_department(
        &Department {
            key: key.clone(),
            name: "Finance".into(),
            head: Some(email("dana.head@acme.example")),
        },
        now,
    )
    .await
    .unwrap();
    for (who, name, role) in [
        ("dana.head@acme.example", "Dana Head", Role::DepartmentHead),
        ("mike.manager@acme.example", "Mike Manager", Role::Approver),
        ("ivan@acme.example", "Ivan Initiator", Role::Viewer),
    ] {
        let user = User {
            email: email(who),
            name: name.into(),
            role,
            department: Some(key.clone()),
            manager: None,
            phone: None,
        };
        s.upsert_user(&user, now).await.unwrap();
    }
    let policy = s
        .create_policy(
            &SlaPolicy::new("24h", 86400, WarningWindow::BeforeDeadline { seconds: 7200 }).unwrap(),
            None,
            now,
        )
        .await
        .unwrap();
    let chain = s
        .create_chain(
            &EscalationChain::new(
                "head",
                vec![Level {
                    target: Target::DepartmentHead,
                    time_limit_seconds: 28800,
                }],
            )
            .unwrap(),
            now,
        )
        .await
        .unwrap();
    for i in 0..n {
        let input = CreateWorkflow {
            external_id: format!("PO-{i}"),
            workflow_type: "purchase".into(),
            title: format!("Office furniture {i}"),
            stage: "Manager Approval".into(),
            department: "finance".into(),
            initiator: "ivan@acme.example".into(),
            assignee: "mike.manager@acme.example".into(),
            policy_id: policy.id,
            chain_id: chain.id,
            started_at: Some(now - TimeDelta::hours(hours_ago)),
        };
        e.create_workflow(&input, &Actor::internal("test"), None).await.unwrap();
    }
}

async fn the_escalation_mail_reaches_the_head_with_copies(db: TestDb) {
    let mut smtp = SmtpServer::stopped();
    smtp.start();
    let e = engine(&db, smtp.port);
    seed_scenario(&e, 1).await;
    // The initiator reads the mail in New York: one copy of the text, their clock added
    // (messages are routed to people when they are delivered).
    let new_york = NotificationPreferences {
        time_zone: Some("America/New_York".into()),
        ..NotificationPreferences::default()
    };
    e.set_preferences(&Actor::internal("test"), "ivan@acme.example", new_york)
        .await
        .unwrap();
    let summary = e.deliver_outbox().await.unwrap();
    assert_eq!(summary.retried, 0, "{summary:?}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one e-mail for one escalation");
    let mail = &mails[0];
    assert_eq!(header(mail, "To").as_deref(), Some("dana.head@acme.example"));
    assert_eq!(
        header(mail, "Cc").as_deref(),
        Some("mike.manager@acme.example, ivan@acme.example")
    );
    assert_eq!(
        header(mail, "Subject").as_deref(),
        Some("Urgent: workflow «Office furniture 0» escalated to Dana Head"),
        "one mail for the addressee and the copies: it names whom it went to"
    );
    let email_row = e
        .store()
        .outbox(Some(OutboxStatus::Delivered), 100)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.channel.as_deref() == Some("email"))
        .expect("the e-mail delivery row");
    assert_eq!(
        header(mail, "Message-ID"),
        Some(format!("<outbox-{}@acme.example>", email_row.id))
    );
    let body = text_body(mail);
    assert!(body.contains("breached its SLA after 2 d"), "{body}");
    // People by name, the deadline in words with its zone and how far away it is.
    assert!(body.contains("has been escalated to Dana Head (level 1)"), "{body}");
    assert!(body.contains("Previous assignee: Mike Manager"), "{body}");
    assert!(body.contains("Initiator: Ivan Initiator"), "{body}");
    assert!(
        body.contains(" EST) — in 7 h") || body.contains(" EST) — in 8 h"),
        "the addressee's UTC and the initiator's New York time: {body}"
    );
    assert!(body.contains(" UTC ("), "{body}");
    assert!(
        !body.contains("T0") && !body.contains(".000"),
        "no machine timestamps: {body}"
    );
    assert!(body.contains("http://escalator.acme.example/workflows/"), "{body}");
    // In-app: one notification per addressee, the bell's unread count.
    for who in [
        "dana.head@acme.example",
        "mike.manager@acme.example",
        "ivan@acme.example",
    ] {
        assert_eq!(e.store().unread_notifications(who).await.unwrap(), 1, "{who}");
    }
}

async fn an_smtp_outage_delays_but_never_drops_or_doubles(db: TestDb) {
    let clock = ShiftedClock::new();
    let mut smtp = SmtpServer::stopped();
    let e = engine_with(
        &db,
        smtp.port,
        EngineConfig {
            clock: clock.shared(),
            ..EngineConfig::default()
        },
    );
    seed_scenario(&e, 3).await;
    let down = e.deliver_outbox().await.unwrap();
    assert_eq!(down.retried, 3, "every e-mail fails while SMTP is down: {down:?}");
    assert!(smtp.messages().is_empty());
    let pending = e.store().outbox(Some(OutboxStatus::Pending), 100).await.unwrap();
    assert_eq!(
        pending.iter().filter(|m| m.channel.as_deref() == Some("email")).count(),
        3
    );
    assert!(pending
        .iter()
        .all(|m| m.last_error.as_deref().is_some_and(|err| err.starts_with("SMTP"))));

    smtp.start();
    clock.advance(retry());
    let up = e.deliver_outbox().await.unwrap();
    assert_eq!((up.delivered, up.retried, up.dead), (3, 0, 0), "{up:?}");
    clock.advance(retry());
    e.deliver_outbox().await.unwrap();
    let mails = smtp.messages();
    assert_eq!(mails.len(), 3, "each arrives once");
    let mut ids: Vec<String> = mails.iter().filter_map(|m| header(m, "Message-ID")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "three distinct Message-IDs: {ids:?}");
    assert!(e
        .store()
        .outbox(Some(OutboxStatus::Pending), 100)
        .await
        .unwrap()
        .is_empty());
}

const MIKE: &str = "mike.manager@acme.example";
const DANA: &str = "dana.head@acme.example";

/// Quiet hours in Berlin from an hour ago until `seconds` from now (whole seconds), and
/// the instant they end.
fn quiet_now(seconds: i64) -> (NotificationPreferences, DateTime<Utc>) {
    let now = Utc::now();
    let end = now + TimeDelta::seconds(seconds);
    let end = end - TimeDelta::nanoseconds(i64::from(end.timestamp_subsec_nanos())) + TimeDelta::seconds(1);
    let berlin = chrono_tz::Europe::Berlin;
    let local = |t: DateTime<Utc>| t.with_timezone(&berlin).format("%H:%M:%S").to_string();
    let start = now - TimeDelta::hours(1);
    let prefs = NotificationPreferences {
        time_zone: Some("Europe/Berlin".into()),
        quiet_hours: Some(QuietHours::parse(&local(start), &local(end)).unwrap()),
        ..NotificationPreferences::default()
    };
    (prefs, end)
}

fn email_rows(rows: &[OutboxMessage], to: &str) -> Vec<OutboxMessage> {
    rows.iter()
        .filter(|m| m.channel.as_deref() == Some("email") && m.recipient.as_deref() == Some(to))
        .cloned()
        .collect()
}

/// Moves `clock` to just after `at`, instead of sleeping until then.
fn advance_past(clock: &ShiftedClock, e: &Escalator, at: DateTime<Utc>) {
    clock.advance(at - e.now() + TimeDelta::milliseconds(1));
}

/// The longest wait after a failed attempt.
fn retry() -> TimeDelta {
    TimeDelta::from_std(RETRY).unwrap()
}

async fn quiet_hours_hold_a_reminder_until_they_end(db: TestDb) {
    let mut smtp = SmtpServer::stopped();
    smtp.start();
    let clock = ShiftedClock::new();
    let e = engine_with(
        &db,
        smtp.port,
        EngineConfig {
            clock: clock.shared(),
            ..EngineConfig::default()
        },
    );
    scenario(&e, 1, 23).await;
    let (prefs, end) = quiet_now(4);
    e.set_preferences(&Actor::internal("test"), MIKE, prefs).await.unwrap();
    assert_eq!(e.tick().await.unwrap().reminded, 1);

    e.deliver_outbox().await.unwrap();
    assert!(smtp.messages().is_empty(), "held during Mike's quiet hours");
    assert_eq!(
        e.store().unread_notifications(MIKE).await.unwrap(),
        1,
        "in-app is not held"
    );
    let rows = e.store().outbox(Some(OutboxStatus::Pending), 100).await.unwrap();
    let held = email_rows(&rows, MIKE);
    assert_eq!(held.len(), 1, "{rows:?}");
    assert_eq!(
        held[0].next_attempt_at, end,
        "held until the quiet hours end, not dropped"
    );
    assert_eq!(held[0].attempts, 0);

    advance_past(&clock, &e, end);
    e.deliver_outbox().await.unwrap();
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "delivered once the quiet hours are over");
    assert_eq!(header(&mails[0], "To").as_deref(), Some(MIKE));
    assert_eq!(
        header(&mails[0], "Subject").as_deref(),
        Some("Reminder: workflow «Office furniture 0» is due soon")
    );
}

async fn escalations_bypass_quiet_hours_unless_configured(db: TestDb) {
    let mut smtp = SmtpServer::stopped();
    smtp.start();
    let e = engine(&db, smtp.port);
    scenario(&e, 0, 48).await;
    let (prefs, end) = quiet_now(6);
    e.set_preferences(&Actor::internal("test"), DANA, prefs).await.unwrap();
    scenario_workflow(&e, "PO-urgent", 48).await;
    assert_eq!(e.tick().await.unwrap().escalated, 1);
    e.deliver_outbox().await.unwrap();
    let mails = smtp.messages();
    assert_eq!(
        mails.len(),
        1,
        "an escalation is urgent: sent inside Dana's quiet hours"
    );
    assert_eq!(header(&mails[0], "To").as_deref(), Some(DANA));

    // Configured to hold escalations too: the next one waits for the end of quiet hours.
    let clock = ShiftedClock::new();
    let held = engine_with(
        &db,
        smtp.port,
        EngineConfig {
            quiet_hours_hold_urgent: true,
            clock: clock.shared(),
            ..EngineConfig::default()
        },
    );
    scenario_workflow(&held, "PO-held", 48).await;
    assert_eq!(held.tick().await.unwrap().escalated, 1);
    held.deliver_outbox().await.unwrap();
    assert_eq!(smtp.messages().len(), 1, "held");
    let rows = held.store().outbox(Some(OutboxStatus::Pending), 100).await.unwrap();
    let waiting = email_rows(&rows, DANA);
    assert_eq!(waiting.len(), 1, "{rows:?}");
    assert_eq!(waiting[0].next_attempt_at, end);
    advance_past(&clock, &held, end);
    held.deliver_outbox().await.unwrap();
    assert_eq!(smtp.messages().len(), 2);
}

/// One more of the scenario's workflows (its organisation exists already).
async fn scenario_workflow(e: &Escalator, ext: &str, hours_ago: i64) {
    let policy = e.store().policies().await.unwrap()[0].id;
    let chain = e.store().chains().await.unwrap()[0].id;
    let input = CreateWorkflow {
        external_id: ext.into(),
        workflow_type: "purchase".into(),
        title: format!("Office furniture {ext}"),
        stage: "Manager Approval".into(),
        department: "finance".into(),
        initiator: "ivan@acme.example".into(),
        assignee: MIKE.into(),
        policy_id: policy,
        chain_id: chain,
        started_at: Some(Utc::now() - TimeDelta::hours(hours_ago)),
    };
    e.create_workflow(&input, &Actor::internal("test"), None).await.unwrap();
}

async fn excess_mails_are_combined_into_one_digest(db: TestDb) {
    let mut smtp = SmtpServer::stopped();
    smtp.start();
    let window = Duration::from_secs(2);
    let clock = ShiftedClock::new();
    let e = engine_with(
        &db,
        smtp.port,
        EngineConfig {
            digest: DigestPolicy { max_mails: 2, window },
            clock: clock.shared(),
            ..EngineConfig::default()
        },
    );
    // 5 reminders for Mike at once: 2 mails, the other 3 in one digest a window later.
    scenario(&e, 5, 23).await;
    assert_eq!(e.tick().await.unwrap().reminded, 5);
    let first = e.deliver_outbox().await.unwrap();
    assert_eq!(first.digested, 3, "{first:?}");
    assert_eq!(smtp.messages().len(), 2);

    clock.advance(TimeDelta::from_std(window).unwrap() + TimeDelta::milliseconds(1));
    let second = e.deliver_outbox().await.unwrap();
    assert_eq!((second.delivered, second.digested), (1, 0), "{second:?}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 3, "two mails and one digest");
    let digest = mails
        .iter()
        .find(|m| header(m, "Subject").as_deref() == Some("Escalator: 3 notifications"))
        .expect("the digest");
    assert_eq!(header(digest, "To").as_deref(), Some(MIKE));
    // Every reminder reached Mike exactly once: alone or listed in the digest.
    let bodies: Vec<String> = mails
        .iter()
        .map(|m| String::from_utf8_lossy(&quoted_printable(m)).into_owned())
        .collect();
    for i in 0..5 {
        let title = format!("Office furniture {i}");
        let carried = bodies.iter().filter(|b| b.contains(&format!("«{title}»"))).count()
            + mails
                .iter()
                .filter(|m| header(m, "Subject").is_some_and(|s| s.contains(&format!("«{title}»"))))
                .count();
        assert_eq!(carried, 1, "{title} once: {bodies:?}");
    }

    let all = e.store().outbox(None, 1000).await.unwrap();
    let rows = email_rows(&all, MIKE);
    assert!(rows.iter().all(|m| m.status == OutboxStatus::Delivered), "{rows:?}");
    let digest_row = rows
        .iter()
        .find(|m| m.topic == "workflow.digest")
        .expect("the digest's row");
    assert_eq!(
        header(digest, "Message-ID"),
        Some(format!("<outbox-{}@acme.example>", digest_row.id))
    );
    let carried: Vec<_> = rows.iter().filter(|m| m.digest_id == Some(digest_row.id)).collect();
    assert_eq!(
        carried.len(),
        3,
        "each underlying row is marked delivered via the digest"
    );

    // Nothing more to send, ever.
    clock.advance(TimeDelta::from_std(window).unwrap());
    e.deliver_outbox().await.unwrap();
    assert_eq!(smtp.messages().len(), 3);
}
