//! Wiring: opens the store, builds the engine, and runs HTTP and the jobs until a
//! shutdown signal, then gives work in flight the grace period to finish or hand itself
//! back, and exits.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Json;
use escalator_engine::notify::{Channels, InAppChannel, LogChannel, SmsChannel, SmtpChannel, WebhookChannel};
use escalator_engine::scheduler;
use escalator_engine::{EngineConfig, EngineError, Escalator, Metrics};
use escalator_storage::StoreError;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::config::{Config, ConfigError};
use crate::http::{self, AppState};
use crate::ui;

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus_error::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

mod prometheus_error {
    pub use escalator_engine::metrics::PrometheusError as Error;
}

/// Opens the store (migrating it) and builds the engine with its job queue.
pub async fn engine(config: &Config) -> Result<Escalator, ServerError> {
    let store = escalator_storage::connect_with(&config.database_url, &config.database()).await?;
    store.migrate().await?;
    let links = config.links(if config.link_secrets.is_empty() {
        let generated = escalator_engine::links::random_secret();
        Some(
            store
                .server_secret(escalator_engine::links::GENERATED_KEY, &generated, chrono::Utc::now())
                .await?,
        )
    } else {
        None
    })?;
    let metrics = Arc::new(Metrics::new(config.tick_interval_seconds as f64)?);
    let mut channels = Channels::new()
        .notifications_to(Arc::new(InAppChannel::new(store.clone())))
        .events_to(Arc::new(LogChannel))
        .webhooks(Arc::new(
            WebhookChannel::new(store.clone()).map_err(EngineError::Internal)?,
        ));
    match config.smtp() {
        Some(smtp) => {
            let email = SmtpChannel::new(smtp).map_err(|message| ConfigError::Invalid {
                key: "ESCALATOR_SMTP_*".into(),
                value: config.smtp_host.clone().unwrap_or_default(),
                message,
            })?;
            channels = channels.notifications_to(Arc::new(email.with_links(links.clone())));
        }
        None => tracing::info!("ESCALATOR_SMTP_HOST is not set: notifications are in-app only"),
    }
    {
        let rules = escalator_engine::versions::zone_rules();
        let in_use = rules.in_use.as_deref().unwrap_or("unknown");
        if rules.bundled_newer() {
            tracing::warn!(
                source = %rules.source,
                in_use,
                bundled = %rules.bundled,
                "the time-zone rules in use are older than the ones bundled into Escalator: \
                 update the system's tzdata or set ESCALATOR_TZ_RULES=bundled, then preview and \
                 apply the zone rules (Calendars page, or POST /api/v1/zone-rules/apply)"
            );
        } else {
            tracing::info!(source = %rules.source, in_use, bundled = %rules.bundled, "time-zone rules");
        }
    }
    if let Some(sms) = config.sms() {
        let channel = SmsChannel::new(sms).map_err(|message| ConfigError::Invalid {
            key: "ESCALATOR_SMS_*".into(),
            value: config.sms_url.clone().unwrap_or_default(),
            message,
        })?;
        channels = channels.notifications_to(Arc::new(channel.with_links(links.clone())));
    }
    let engine = EngineConfig {
        links,
        ..config.engine()
    };
    Ok(Escalator::new(store, channels, metrics, engine))
}

/// The whole HTTP application: API, health, metrics and UI, with request metrics.
pub fn app(
    state: AppState,
    site_root: &std::path::Path,
    addr: SocketAddr,
    sessions: &ui::SessionSettings,
) -> axum::Router {
    let metrics = state.escalator.metrics().clone();
    let ui = ui::router(ui::options(site_root, addr), state.escalator.clone(), sessions);
    http::with_tracking(http::routes(state).merge(ui), metrics)
}

/// Deletes expired UI sessions every ten minutes (any replica may; the delete is idempotent).
async fn sweep_sessions(escalator: Escalator, stop: impl std::future::Future<Output = ()>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = every.tick() => {
                match escalator.delete_expired_sessions().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(n, "expired sessions deleted"),
                    Err(err) => tracing::warn!(%err, "could not delete expired sessions"),
                }
            }
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutting down: finishing work in flight");
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Answers `/healthz` at once and hands every other request to the application once it
/// is ready (503 before), so liveness never waits for migrations.
fn starting(ready: Arc<OnceLock<axum::Router>>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(http::healthz))
        .fallback(move |request: Request| {
            let ready = ready.clone();
            async move {
                match ready.get() {
                    Some(app) => app.clone().oneshot(request).await.into_response(),
                    None => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Json(serde_json::json!({ "status": "starting" })),
                    )
                        .into_response(),
                }
            }
        })
}

/// Runs UI, API, metrics and jobs until a shutdown signal.
pub async fn serve(config: Config, listen: SocketAddr) -> Result<(), ServerError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ServerError::Listen { addr: listen, source })?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let ready = Arc::new(OnceLock::new());
    let serving = axum::serve(
        listener,
        starting(ready.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(stop_rx.clone()));
    let server = tokio::spawn(async move { serving.await });

    let escalator = engine(&config).await?;
    let state = AppState {
        escalator: escalator.clone(),
        scheduler_running: Arc::new(AtomicBool::new(false)),
    };
    let site_root = ui::site_root(config.site_root.as_deref());
    let sessions = ui::SessionSettings {
        secure: config.secure_cookies(),
        idle_minutes: config.session_idle_minutes,
        public_origin: config.public_origin(),
    };
    if ready.set(app(state.clone(), &site_root, addr, &sessions)).is_err() {
        tracing::warn!("the application was already installed");
    }

    if let Some(metrics_addr) = config.metrics_listen {
        let metrics_listener = TcpListener::bind(metrics_addr)
            .await
            .map_err(|source| ServerError::Listen {
                addr: metrics_addr,
                source,
            })?;
        let metrics_app = http::metrics_routes::<()>(escalator.clone());
        let stop = stopped(stop_rx.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(metrics_listener, metrics_app)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::error!(%err, "metrics listener failed");
            }
        });
        tracing::info!("metrics on http://{metrics_addr}/metrics");
    }

    let running = state.scheduler_running.clone();
    let jobs = tokio::spawn({
        let escalator = escalator.clone();
        let config = config.scheduler();
        async move {
            running.store(true, Ordering::Relaxed);
            let result = scheduler::run(escalator, config).await;
            running.store(false, Ordering::Relaxed);
            result
        }
    });
    tokio::spawn({
        let escalator = escalator.clone();
        let stop = stopped(stop_rx.clone());
        async move {
            stop.await;
            escalator.shutdown();
        }
    });
    tokio::spawn(sweep_sessions(escalator.clone(), stopped(stop_rx.clone())));
    if let Err(err) = escalator.refresh_gauges().await {
        tracing::warn!(%err, "could not compute the initial gauges");
    }

    tracing::info!(database = %escalator_storage::redact(&config.database_url), site_root = %site_root.display(), "Escalator is running on http://{addr}");
    let finished = async {
        match server.await {
            Ok(result) => result?,
            Err(err) => tracing::error!(%err, "the HTTP server panicked"),
        }
        match jobs.await {
            Ok(result) => result?,
            Err(err) => tracing::error!(%err, "the job runner panicked"),
        }
        Ok::<(), ServerError>(())
    };
    // Work still running a grace period after the signal is abandoned: the tick's pages are
    // transactions (an unfinished one rolls back), claimed outbox rows were handed back or
    // come back when their claim expires, and the tick lock dies with the process.
    let grace = escalator.config().shutdown_grace;
    let overdue = async {
        stopped(stop_rx.clone()).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = finished => result?,
        () = overdue => tracing::warn!(grace_seconds = grace.as_secs(), "work still in flight after the grace period; exiting anyway"),
    }
    tracing::info!("stopped");
    Ok(())
}
