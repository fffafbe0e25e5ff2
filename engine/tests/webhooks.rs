//! Webhooks against a real local HTTP receiver: signed events, retried after a 500,
//! logged per endpoint; on SQLite and PostgreSQL.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use escalator_domain::{SlaPolicy, Target, WarningWindow};
use escalator_engine::clock::ShiftedClock;
use escalator_engine::notify::webhook::WebhookEvent;
use escalator_engine::notify::{signature, Channels, LogChannel, WebhookChannel};
use escalator_engine::outbox::Backoff;
use escalator_engine::{Actor, EngineConfig, Escalator, Metrics};
use escalator_storage::testing::TestDb;
use serde_json::Value;

on_both!(events_are_signed_retried_after_a_500_and_logged);

const SECRET: &str = "whsec_test_secret_0123456789";
const RETRY: Duration = Duration::from_millis(300);

/// What the receiver saw: (event id, type, signature valid, status answered).
#[derive(Default)]
struct Receiver {
    failures_left: usize,
    seen: Vec<(String, String, bool, u16)>,
}

async fn receive(State(r): State<Arc<Mutex<Receiver>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let timestamp: i64 = h("x-escalator-timestamp").parse().unwrap_or(0);
    let valid = h("x-escalator-signature") == signature(SECRET, timestamp, &body);
    let envelope: Value = serde_json::from_slice(&body).unwrap_or_default();
    let id = envelope["id"].as_str().unwrap_or_default().to_string();
    // The body is the documented shape: a WebhookEvent whose data is a typed Event of its type.
    let typed = serde_json::from_slice::<WebhookEvent>(&body)
        .ok()
        .and_then(|w| serde_json::from_value::<escalator_domain::Event>(w.data).ok())
        .is_some_and(|event| Some(event.topic().as_str()) == envelope["type"].as_str());
    let valid = valid && typed;
    assert_eq!(h("x-escalator-event-id"), id);
    let mut r = r.lock().unwrap();
    let status = if r.failures_left > 0 {
        r.failures_left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    r.seen.push((
        id,
        envelope["type"].as_str().unwrap_or_default().to_string(),
        valid,
        status.as_u16(),
    ));
    status
}

async fn events_are_signed_retried_after_a_500_and_logged(db: TestDb) {
    let receiver = Arc::new(Mutex::new(Receiver {
        failures_left: 1,
        ..Receiver::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new().route("/hook", post(receive)).with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let channels = Channels::new()
        .notifications_to(Arc::new(LogChannel))
        .webhooks(Arc::new(WebhookChannel::new(db.store.clone()).unwrap()));
    let clock = ShiftedClock::new();
    let config = EngineConfig {
        backoff: Backoff {
            base: RETRY,
            cap: RETRY,
            max_attempts: 5,
        },
        clock: clock.shared(),
        ..EngineConfig::default()
    };
    let e = Escalator::new(
        db.store.clone(),
        channels,
        Arc::new(Metrics::new(900.0).unwrap()),
        config,
    );
    let admin = Actor::internal("test");
    let (hook, secret) = e
        .register_webhook(&admin, &url, Some(SECRET), &["workflow.escalated".into()])
        .await
        .unwrap();
    assert_eq!(secret, SECRET);
    // Only the documented event types can be subscribed to.
    let unknown = e
        .register_webhook(
            &admin,
            &url,
            Some(SECRET),
            &["workflow.escalated".into(), "workflow.escalate".into()],
        )
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("event_types[1]"), "{unknown}");
    // An endpoint for other events receives nothing here.
    e.register_webhook(&admin, &url, Some(SECRET), &["workflow.completed".into()])
        .await
        .unwrap();

    let policy = SlaPolicy::new("p", 3600, WarningWindow::BeforeDeadline { seconds: 60 }).unwrap();
    let refs = common::org(&e, policy, vec![Target::DepartmentHead]).await;
    for i in 0..2 {
        let input = common::input(&format!("W-{i}"), "ann@x.io", 2, refs);
        e.create_workflow(&input, &admin, None).await.unwrap();
    }
    assert_eq!(e.tick().await.unwrap().escalated, 2);

    let first = e.deliver_outbox().await.unwrap();
    assert_eq!(first.retried, 1, "the receiver's first answer is a 500: {first:?}");
    clock.advance(chrono::TimeDelta::from_std(RETRY).unwrap());
    let second = e.deliver_outbox().await.unwrap();
    assert_eq!(second.retried, 0, "{second:?}");

    let seen = receiver.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 3, "two events, one of them twice: {seen:?}");
    assert!(
        seen.iter()
            .all(|(_, kind, valid, _)| *valid && kind == "workflow.escalated"),
        "{seen:?}"
    );
    let mut delivered: Vec<&str> = seen.iter().filter(|s| s.3 == 204).map(|s| s.0.as_str()).collect();
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), 2, "each event delivered, under its own id: {seen:?}");
    let retried = &seen.iter().find(|s| s.3 == 500).unwrap().0;
    assert!(
        delivered.contains(&retried.as_str()),
        "the retry carries the same event id"
    );

    let log = e.store().webhook_deliveries(hook.id, 10).await.unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log.iter().filter(|d| d.status_code == Some(500)).count(), 1);
    assert!(log
        .iter()
        .any(|d| d.error.as_deref() == Some("HTTP 500 Internal Server Error")));
}
