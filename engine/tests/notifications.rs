//! Repeated reminders, channel preferences and SMS through a real local HTTP receiver;
//! on SQLite and PostgreSQL.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use chrono::{TimeDelta, Utc};
use escalator_domain::{
    NotificationKind, NotificationPreferences, PersonalChannel, Phone, SlaPolicy, Target, WarningWindow,
};
use escalator_engine::clock::ShiftedClock;
use escalator_engine::notify::{
    Channel, Channels, DeliveryError, InAppChannel, SmsChannel, SmsConfig, DEFAULT_SMS_BODY,
};
use escalator_engine::outbox::Backoff;
use escalator_engine::workflows::CreateWorkflow;
use escalator_engine::{Actor, EngineConfig, EngineError, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use escalator_storage::{AuditFilter, OutboxKind, OutboxMessage, OutboxStatus, ReminderFilter};
use serde_json::Value;

on_both!(
    reminders_repeat_until_acknowledged_and_never_double,
    preferences_choose_channels_per_kind,
    sms_goes_through_the_configured_http_provider,
);

const RETRY: Duration = Duration::from_millis(300);
const REPEAT_SECONDS: i64 = 2;

/// An engine on `store` reading `clock`, which the test moves instead of sleeping.
fn engine_with(store: Arc<dyn escalator_storage::Store>, channels: Channels, clock: &ShiftedClock) -> Escalator {
    let config = EngineConfig {
        clock: clock.shared(),
        backoff: Backoff {
            base: RETRY,
            cap: RETRY,
            max_attempts: 5,
        },
        ..EngineConfig::default()
    };
    Escalator::new(store, channels, Arc::new(Metrics::new(900.0).unwrap()), config)
}

/// A delivery double that records rows under the name of a real channel.
struct Recorder {
    name: &'static str,
    seen: Mutex<Vec<OutboxMessage>>,
}

impl Recorder {
    fn new(name: &'static str) -> Arc<Self> {
        Arc::new(Self {
            name,
            seen: Mutex::new(Vec::new()),
        })
    }

    fn seen(&self) -> Vec<OutboxMessage> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl Channel for Recorder {
    fn name(&self) -> &'static str {
        self.name
    }
    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        self.seen.lock().unwrap().push(m.clone());
        Ok(())
    }
}

/// A workflow of "ops" started `seconds_ago`.
fn started(ext: &str, assignee: &str, seconds_ago: i64, (policy_id, chain_id): (i64, i64)) -> CreateWorkflow {
    CreateWorkflow {
        started_at: Some(Utc::now() - TimeDelta::seconds(seconds_ago)),
        ..common::input(ext, assignee, 0, (policy_id, chain_id))
    }
}

fn admin() -> Actor {
    Actor::internal("test")
}

/// The actor of a directory user (an approver in `common::org`).
async fn user_actor(e: &Escalator, email: &str) -> Actor {
    Actor::from(&e.store().user(email).await.unwrap().unwrap())
}

async fn reminders_repeat_until_acknowledged_and_never_double(db: TestDb) {
    let clock = ShiftedClock::new();
    let e = engine_with(
        db.store.clone(),
        Channels::only(Arc::new(escalator_engine::notify::LogChannel)),
        &clock,
    );
    // Warned 10 s after the start of a 1 h clock; the reminder repeats every 2 s.
    let policy = SlaPolicy::new("1h", 3600, WarningWindow::BeforeDeadline { seconds: 3590 })
        .unwrap()
        .with_reminder_repeat(Some(REPEAT_SECONDS))
        .unwrap();
    let refs = common::org(&e, policy, vec![Target::DepartmentHead]).await;
    let n = 6u64;
    for i in 0..n {
        e.create_workflow(&started(&format!("R-{i}"), "ann@x.io", 60, refs), &admin(), None)
            .await
            .unwrap();
    }
    assert_eq!(e.tick().await.unwrap().reminded, n, "the first reminders");
    assert_eq!(e.tick().await.unwrap().reminded, 0, "no repeat before the interval");

    // Two "replicas" tick at once after the interval: each workflow is repeated once.
    clock.advance(TimeDelta::seconds(REPEAT_SECONDS) + TimeDelta::milliseconds(1));
    let e2 = engine_with(
        escalator_storage::connect(&db.url).await.unwrap(),
        Channels::only(Arc::new(escalator_engine::notify::LogChannel)),
        &clock,
    );
    let (a, b) = tokio::join!(
        tokio::spawn({
            let e = e.clone();
            async move { e.tick_unleased().await.unwrap() }
        }),
        tokio::spawn({
            let e2 = e2.clone();
            async move { e2.tick_unleased().await.unwrap() }
        }),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.reminded + b.reminded, n, "one repeat per workflow: {a:?} {b:?}");
    let reminders = e
        .store()
        .reminders(&ReminderFilter {
            limit: 100,
            ..ReminderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(reminders.len() as u64, n, "one reminder row per workflow and level");
    assert!(reminders.iter().all(|r| r.sent_count == 2), "{reminders:?}");

    // The assignee acknowledges one: its repeats stop (audited), the others go on.
    let acked = &reminders[0];
    let ann = user_actor(&e, "ann@x.io").await;
    let done = e.acknowledge_reminder(acked.id, &ann).await.unwrap();
    assert!(done.acknowledged_at.is_some());
    clock.advance(TimeDelta::seconds(REPEAT_SECONDS) + TimeDelta::milliseconds(1));
    assert_eq!(e.tick().await.unwrap().reminded, n - 1);
    let after = e.store().reminder(acked.id).await.unwrap().unwrap();
    assert_eq!(after.sent_count, 2, "no repeat after the acknowledgement");
    let audit = e
        .store()
        .audit_entries(&AuditFilter {
            action: Some("reminder_acknowledged".into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].workflow_id, Some(acked.workflow_id));
    assert_eq!(audit[0].actor, "ann@x.io");

    // Every repeat is its own notification: 3 for each of the others, 2 for the acknowledged one.
    let mut per_workflow: BTreeMap<i64, usize> = BTreeMap::new();
    for m in e.store().outbox(None, 1000).await.unwrap() {
        if m.kind == OutboxKind::Notification && m.topic == "workflow.reminder" && m.channel.is_none() {
            *per_workflow.entry(m.workflow_id.unwrap()).or_default() += 1;
        }
    }
    for (workflow, count) in per_workflow {
        let expected = if workflow == acked.workflow_id { 2 } else { 3 };
        assert_eq!(count, expected, "workflow {workflow}");
    }
}

async fn preferences_choose_channels_per_kind(db: TestDb) {
    let email = Recorder::new("email");
    let sms = Recorder::new("sms");
    let channels = Channels::new()
        .notifications_to(Arc::new(InAppChannel::new(db.store.clone())))
        .notifications_to(email.clone())
        .notifications_to(sms.clone());
    let clock = ShiftedClock::new();
    let e = engine_with(db.store.clone(), channels, &clock);
    let policy = SlaPolicy::new("1h", 3600, WarningWindow::BeforeDeadline { seconds: 600 }).unwrap();
    let refs = common::org(&e, policy, vec![Target::ManagerOf]).await;
    // ann: reminders in-app only; escalations by SMS and in-app (she has a phone).
    let mut ann = e.store().user("ann@x.io").await.unwrap().unwrap();
    ann.phone = Some(Phone::parse("+49 151 1234 5678").unwrap());
    e.store().upsert_user(&ann, Utc::now()).await.unwrap();
    let prefs = NotificationPreferences {
        channels: [
            (NotificationKind::Reminder, vec![PersonalChannel::InApp]),
            (
                NotificationKind::Escalation,
                vec![PersonalChannel::Sms, PersonalChannel::InApp],
            ),
        ]
        .into(),
        ..NotificationPreferences::default()
    };
    let ann_actor = user_actor(&e, "ann@x.io").await;
    e.set_preferences(&ann_actor, "ann@x.io", prefs.clone()).await.unwrap();
    assert_eq!(e.preferences(&admin(), "ANN@x.io").await.unwrap(), prefs);
    // Someone else's preferences are for admins only; unknown users are 404.
    let mgr_actor = user_actor(&e, "mgr@x.io").await;
    assert!(matches!(
        e.preferences(&mgr_actor, "ann@x.io").await,
        Err(EngineError::Forbidden(_))
    ));
    assert!(matches!(
        e.set_preferences(&admin(), "ghost@x.io", NotificationPreferences::default())
            .await,
        Err(EngineError::NotFound { .. })
    ));
    let bad = NotificationPreferences {
        time_zone: Some("Europe/Atlantis".into()),
        ..NotificationPreferences::default()
    };
    assert!(matches!(
        e.set_preferences(&ann_actor, "ann@x.io", bad).await,
        Err(EngineError::Invalid(v)) if v.field == "time_zone"
    ));

    // A reminder to ann (in warning) and one to mgr (defaults: e-mail and in-app).
    e.create_workflow(&started("W-ann", "ann@x.io", 3300, refs), &admin(), None)
        .await
        .unwrap();
    e.create_workflow(&started("W-mgr", "mgr@x.io", 3300, refs), &admin(), None)
        .await
        .unwrap();
    assert_eq!(e.tick().await.unwrap().reminded, 2);
    e.deliver_outbox().await.unwrap();
    let mails: Vec<Value> = email.seen().iter().map(|m| m.payload["to"].clone()).collect();
    assert_eq!(
        mails,
        vec![serde_json::json!(["mgr@x.io"])],
        "only mgr wants reminder e-mails"
    );
    assert!(sms.seen().is_empty(), "SMS is opt-in");
    assert_eq!(e.store().unread_notifications("ann@x.io").await.unwrap(), 1);
    assert_eq!(e.store().unread_notifications("mgr@x.io").await.unwrap(), 1);

    // ann's workflow escalates to mgr: mgr by e-mail (ann, in copy, declined e-mail for
    // escalations; init@ keeps the copy), ann by SMS.
    let late = e
        .create_workflow(&started("W-late", "ann@x.io", 7200, refs), &admin(), None)
        .await
        .unwrap();
    assert_eq!(e.tick().await.unwrap().escalated, 1);
    e.deliver_outbox().await.unwrap();
    let escalation_mail = email
        .seen()
        .into_iter()
        .find(|m| m.topic == "workflow.escalated")
        .expect("the escalation e-mail");
    assert_eq!(escalation_mail.payload["to"], serde_json::json!(["mgr@x.io"]));
    assert_eq!(escalation_mail.payload["cc"], serde_json::json!(["init@x.io"]));
    assert_eq!(escalation_mail.recipient.as_deref(), Some("mgr@x.io"));
    let texts = sms.seen();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0].payload["phone"], "+4915112345678");
    assert_eq!(texts[0].recipient.as_deref(), Some("ann@x.io"));
    assert_eq!(texts[0].workflow_id, Some(late.view.workflow.id));
    assert!(e
        .store()
        .outbox(Some(OutboxStatus::Pending), 100)
        .await
        .unwrap()
        .is_empty());
}

/// What the SMS provider saw: (authorization header, content type, body).
#[derive(Default)]
struct Provider {
    failures_left: usize,
    seen: Vec<(String, String, Value)>,
}

async fn provider(State(p): State<Arc<Mutex<Provider>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut p = p.lock().unwrap();
    p.seen.push((h("authorization"), h("content-type"), body));
    if p.failures_left > 0 {
        p.failures_left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn sms_goes_through_the_configured_http_provider(db: TestDb) {
    let received = Arc::new(Mutex::new(Provider {
        failures_left: 1,
        ..Provider::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/messages", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/v1/messages", post(provider))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sms = SmsChannel::new(SmsConfig {
        url,
        method: "POST".into(),
        headers: vec![("Authorization".into(), "Bearer sms-key".into())],
        body_template: DEFAULT_SMS_BODY.into(),
        content_type: "application/json".into(),
        public_url: Some("https://escalator.example.com".into()),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let channels = Channels::new()
        .notifications_to(Arc::new(InAppChannel::new(db.store.clone())))
        .notifications_to(Arc::new(sms));
    let clock = ShiftedClock::new();
    let e = engine_with(db.store.clone(), channels, &clock);
    let policy = SlaPolicy::new("1h", 3600, WarningWindow::BeforeDeadline { seconds: 600 }).unwrap();
    let refs = common::org(&e, policy, vec![Target::DepartmentHead]).await;
    for (who, phone) in [("ann@x.io", Some("+4915112345678")), ("mgr@x.io", None)] {
        let mut user = e.store().user(who).await.unwrap().unwrap();
        user.phone = phone.map(|p| Phone::parse(p).unwrap());
        e.store().upsert_user(&user, Utc::now()).await.unwrap();
        let prefs = NotificationPreferences {
            channels: [(NotificationKind::Reminder, vec![PersonalChannel::Sms])].into(),
            ..NotificationPreferences::default()
        };
        e.set_preferences(&admin(), who, prefs).await.unwrap();
    }
    // mgr wants SMS but has no number: nothing to send (and nothing stuck).
    for (ext, who) in [("S-1", "ann@x.io"), ("S-2", "mgr@x.io")] {
        e.create_workflow(&started(ext, who, 3300, refs), &admin(), None)
            .await
            .unwrap();
    }
    assert_eq!(e.tick().await.unwrap().reminded, 2);
    let first = e.deliver_outbox().await.unwrap();
    assert_eq!(
        (first.delivered, first.retried),
        (0, 1),
        "the provider's first answer is a 500: {first:?}"
    );
    let pending = e.store().outbox(Some(OutboxStatus::Pending), 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].last_error.as_deref(),
        Some("SMS provider answered HTTP 500 Internal Server Error")
    );
    clock.advance(TimeDelta::from_std(RETRY).unwrap());
    let second = e.deliver_outbox().await.unwrap();
    assert_eq!((second.delivered, second.retried), (1, 0), "{second:?}");

    let seen = std::mem::take(&mut received.lock().unwrap().seen);
    assert_eq!(seen.len(), 2, "one SMS, sent twice: {seen:?}");
    let ann_workflow = e.store().workflow_by_external_id("S-1").await.unwrap().unwrap();
    for (auth, content_type, body) in &seen {
        assert_eq!(auth, "Bearer sms-key");
        assert_eq!(content_type, "application/json");
        assert_eq!(body["to"], "+4915112345678");
        assert_eq!(
            body["text"],
            format!(
                "Reminder: workflow «Workflow S-1» is due soon Open: https://escalator.example.com/workflows/{}",
                ann_workflow.id
            )
        );
        assert_eq!(
            body["reference"],
            format!("outbox-{}", pending[0].id),
            "the same reference on the retry"
        );
    }
    assert!(e
        .store()
        .outbox(Some(OutboxStatus::Pending), 10)
        .await
        .unwrap()
        .is_empty());
}
