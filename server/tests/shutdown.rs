//! SIGTERM with delivery stuck: the real binary, an SMTP server that accepts connections
//! and never answers. The process must exit 0 within its grace period and hand the mail it
//! was holding back to the queue, instead of hanging until a SIGKILL.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use escalator_storage::OutboxStatus;

const BIN: &str = env!("CARGO_BIN_EXE_escalator");

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Accepts connections and keeps them open without a word: an SMTP client waits for the
/// greeting until its own timeout.
fn black_hole() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (port, accepted)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_exits_zero_within_the_grace_period_with_delivery_stuck() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("escalator.db").display());
    let demo = Command::new(BIN)
        .args(["demo", "--database-url", &url])
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let (smtp_port, accepted) = black_hole();
    let mut server = Command::new(BIN)
        .args(["serve", "--database-url", &url, "--listen"])
        .arg(format!("127.0.0.1:{}", free_port()))
        .env("ESCALATOR_SMTP_HOST", "127.0.0.1")
        .env("ESCALATOR_SMTP_PORT", smtp_port.to_string())
        .env("ESCALATOR_SMTP_SECURITY", "none")
        .env("ESCALATOR_SHUTDOWN_GRACE_SECONDS", "4")
        .env("ESCALATOR_OUTBOX_SWEEP_SECONDS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The demo's due workflows are reminded and escalated at once; their mail gets stuck.
    let waiting = Instant::now();
    while accepted.load(Ordering::SeqCst) == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "no delivery reached the SMTP server"
        );
        assert!(server.try_wait().unwrap().is_none(), "the server stopped early");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kill = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(8) {
            server.kill().unwrap();
            panic!("still running 8 s after SIGTERM with a 4 s grace period");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(6),
        "{:?}",
        signalled.elapsed()
    );

    // The mail it held is back in the queue for the next replica, at once and with its
    // attempt not counted; nothing was lost or marked delivered unsent.
    let store = escalator_storage::connect(&url).await.unwrap();
    let pending = store.outbox(Some(OutboxStatus::Pending), 1000).await.unwrap();
    let mail: Vec<_> = pending
        .iter()
        .filter(|m| m.channel.as_deref() == Some("email"))
        .collect();
    assert!(!mail.is_empty(), "the e-mail rows are still pending");
    let now = chrono::Utc::now();
    assert!(
        mail.iter().all(|m| m.next_attempt_at <= now && m.attempts == 0),
        "handed back: {mail:?}"
    );
    let delivered_mail = store
        .outbox(Some(OutboxStatus::Delivered), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.channel.as_deref() == Some("email"))
        .count();
    assert_eq!(delivered_mail, 0, "nothing reached the black hole");
}
