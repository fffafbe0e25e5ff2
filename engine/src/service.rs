use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use escalator_domain::{terms_at, EscalationChain, SlaPolicy, SlaTerms};
use escalator_storage::WorkflowRecord;

use escalator_storage::Store;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::notify::Channels;
use crate::outbox::Backoff;
use crate::{EngineError, EngineResult};

/// Engine settings; the server fills them from its configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How many due workflows one batch (one transaction) handles. Each transaction
    /// rewrites the index pages its rows touch, so small ones write the same pages again and
    /// again (at 500, SQLite's write-ahead log held 1.8× the pages of one transaction); large
    /// ones hold SQLite's single write lock longer (2,000 takes ~0.1 s).
    pub batch_size: i64,
    /// Time to live of the tick's lock on SQLite, renewed every third of it while a tick
    /// runs (a dead holder's lock is free after it). PostgreSQL's lock dies with its session.
    pub tick_lock_ttl: Duration,
    /// How soon a replica that found the tick lock taken tries again, so that one takes
    /// over within this long after the holder died.
    pub tick_lock_retry: Duration,
    /// Longest the deadline watcher sleeps without reading the next deadline again, which
    /// is how it learns of changes made by other replicas.
    pub watch_recheck: Duration,
    /// How long before a threshold the deadline watcher reads and decides what falls due
    /// then, so that only the write is left when it comes (which is never before it).
    pub decide_ahead: Duration,
    /// How long claimed outbox rows stay hidden from other workers. Renewed while their
    /// batch is being delivered, so only a dead worker's rows come back, within this long.
    pub claim_lease: Duration,
    /// How long a shutdown lets work in flight finish: sends still running at half of it
    /// are abandoned and their rows handed back.
    pub shutdown_grace: Duration,
    /// Retry policy of outbox deliveries.
    pub backoff: Backoff,
    /// How many outbox rows one delivery round claims.
    pub delivery_batch: i64,
    /// How long delivery waits after this process queued something before it looks, so
    /// that one round routes and delivers what several ticks queued (in-app rows in one
    /// insert) instead of a few transactions per escalation competing with the next one.
    pub delivery_linger: Duration,
    /// How many delivery rounds run at once in this process (each claims its own rows),
    /// so that one slow channel round trip does not hold up the rest.
    pub delivery_workers: usize,
    /// A name unique to this process, for leases and worker names.
    pub instance: String,
    /// Hold urgent notifications (escalations) during quiet hours too.
    pub quiet_hours_hold_urgent: bool,
    /// How many non-urgent e-mails one person gets before the rest is combined into a digest.
    pub digest: DigestPolicy,
    /// The hosts webhook URLs may name; empty: any.
    pub webhook_hosts: Vec<String>,
    /// Where the engine reads time (the system clock; tests move a manual one).
    pub clock: crate::clock::SharedClock,
    /// What happens to a person's open work when their absence starts.
    pub handover: Handover,
    /// Signs and checks the one-click links in messages.
    pub links: crate::links::LinkSigner,
}

/// What happens to the open workflows of a person whose absence starts (or who is
/// deactivated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handover {
    /// To their delegate; without one, one level up the chain.
    #[default]
    DelegateOrEscalate,
    /// To their delegate only; without one it stays (its deadline still escalates it).
    Delegate,
    /// Nothing moves when an absence starts; only new assignments and escalations go
    /// past people who are away.
    Off,
}

/// At most `max_mails` individual non-urgent e-mails per person in any `window`; beyond
/// that they are collected into one digest, sent `window` after the first collected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestPolicy {
    /// 0 turns digests off.
    pub max_mails: u32,
    pub window: Duration,
}

impl Default for DigestPolicy {
    fn default() -> Self {
        Self {
            max_mails: 5,
            window: Duration::from_secs(15 * 60),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            batch_size: 2_000,
            tick_lock_ttl: Duration::from_secs(10),
            tick_lock_retry: Duration::from_secs(1),
            watch_recheck: Duration::from_secs(5),
            // Reading and deciding a threshold's page takes a few round trips: 1–3 ms, but
            // several times that on a busy machine, and a write that starts late is late.
            decide_ahead: Duration::from_millis(20),
            claim_lease: Duration::from_secs(15),
            shutdown_grace: Duration::from_secs(10),
            backoff: Backoff::default(),
            delivery_batch: 500,
            delivery_linger: Duration::from_millis(50),
            delivery_workers: 4,
            instance: instance_name(),
            quiet_hours_hold_urgent: false,
            digest: DigestPolicy::default(),
            webhook_hosts: Vec::new(),
            clock: crate::clock::SharedClock::default(),
            handover: Handover::default(),
            links: crate::links::LinkSigner::default(),
        }
    }
}

/// `hostname-pid-random`: unique per process, readable in the leases table.
fn instance_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "escalator".into());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{host}-{}-{nonce:08x}", std::process::id())
}

/// The engine: one per process, cheap to clone, shared by scheduler, CLI, API and UI.
#[derive(Clone)]
pub struct Escalator {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) channels: Arc<Channels>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) config: Arc<EngineConfig>,
    /// Wakes the deadline watcher when a change may have moved the next threshold.
    pub(crate) wake: Arc<tokio::sync::Notify>,
    /// Wakes the delivery watcher when a change queued outbox rows.
    pub(crate) deliver: Arc<tokio::sync::Notify>,
    /// Recent SLA counts per scope (see `Escalator::sla_counts`).
    pub(crate) counts: Arc<crate::workflows::CountsCache>,
    /// One tick at a time in this process: the watcher and the cron wait for each other.
    /// Holds the tick lock the deadline watcher kept between its ticks, if any.
    pub(crate) tick_gate: Arc<tokio::sync::Mutex<crate::tick::KeptLock>>,
    /// The rules and directory last read (see `Escalator::kept`).
    pub(crate) kept: Arc<KeptCell>,
    /// Set for the engine of one read-only request ([`Escalator::for_reading`]): the rules
    /// and directory it read first, which the rest of the request reuses.
    pub(crate) reading: Option<Arc<tokio::sync::OnceCell<Kept>>>,
    /// Cancelled when the process shuts down.
    pub(crate) stop: CancellationToken,
}

impl Escalator {
    /// An engine over `store` delivering through `channels`.
    pub fn new(store: Arc<dyn Store>, channels: Channels, metrics: Arc<Metrics>, config: EngineConfig) -> Self {
        Self {
            store,
            channels: Arc::new(channels),
            metrics,
            config: Arc::new(config),
            wake: Arc::new(tokio::sync::Notify::new()),
            deliver: Arc::new(tokio::sync::Notify::new()),
            counts: Arc::default(),
            tick_gate: Arc::default(),
            kept: Arc::default(),
            reading: None,
            stop: CancellationToken::new(),
        }
    }

    /// Now, by the engine's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.0.now()
    }

    /// The clock's jumps, for watchers to look again when a test moves time.
    pub(crate) fn clock_jumps(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.config.clock.0.jumps()
    }

    /// Stops taking on work: a tick ends after the page it is writing, delivery hands back
    /// the rows it has not sent, the watcher and the scheduler return.
    pub fn shutdown(&self) {
        self.stop.cancel();
    }

    /// Whether [`Escalator::shutdown`] was called.
    pub fn stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Resolves once [`Escalator::shutdown`] is called.
    pub async fn stopped(&self) {
        self.stop.cancelled().await
    }

    /// Resolves half the grace period after the shutdown: sends still running then are
    /// abandoned, their rows handed back.
    pub(crate) async fn hard_stop(&self) {
        self.stop.cancelled().await;
        tokio::time::sleep(self.config.shutdown_grace / 2).await;
    }

    /// The store, for tests that look at what the engine wrote; front ends call the
    /// engine's services instead.
    #[cfg(any(test, feature = "testing"))]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Tells the deadline watcher that thresholds may have moved.
    pub(crate) fn rearm(&self) {
        self.wake.notify_one();
    }

    /// Wakes this process's delivery watcher: a change queued outbox rows.
    pub(crate) fn request_delivery(&self) {
        self.deliver.notify_one();
    }
}

/// Every version of every SLA policy, and the escalation chains: small tables, read once
/// per tick or page.
pub(crate) struct Rules {
    pub policies: HashMap<(i64, i64), SlaPolicy>,
    pub chains: HashMap<i64, EscalationChain>,
}

impl Rules {
    /// The policy version a workflow runs under.
    pub fn policy_of(&self, w: &WorkflowRecord) -> Result<&SlaPolicy, EngineError> {
        let (id, version) = (w.state.policy_id, w.state.policy_version);
        self.policies
            .get(&(id, version))
            .ok_or_else(|| EngineError::not_found("SLA policy version", format!("{id} v{version}")))
    }

    /// A workflow's escalation chain.
    pub fn chain_of(&self, w: &WorkflowRecord) -> Result<&EscalationChain, EngineError> {
        self.chains
            .get(&w.chain_id)
            .ok_or_else(|| EngineError::not_found("escalation chain", w.chain_id))
    }

    /// The terms of a workflow's current level.
    pub fn terms(&self, w: &WorkflowRecord) -> Result<SlaTerms, EngineError> {
        let policy = self.policy_of(w)?;
        Ok(terms_at(policy, self.chain_of(w)?, w.state.level).unwrap_or_else(|| policy.terms()))
    }
}

/// The rules and directory as read at one rules generation: what a tick decides with and
/// what pages resolve names, roles and clocks with.
#[derive(Clone)]
pub(crate) struct Kept {
    generation: i64,
    read_at: std::time::Instant,
    pub(crate) rules: Arc<Rules>,
    pub(crate) directory: Arc<escalator_storage::DirectorySnapshot>,
}

/// The kept [`Kept`], and the lock that lets one caller at a time read it again.
#[derive(Default)]
pub(crate) struct KeptCell {
    current: std::sync::Mutex<Option<Kept>>,
    reading: tokio::sync::Mutex<()>,
}

impl KeptCell {
    fn fresh(&self, generation: i64) -> Option<Kept> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .filter(|k| k.generation == generation && k.read_at.elapsed() < KEEP_AT_MOST)
    }
}

/// How long the rules and directory are reused at most, even when the database says they
/// did not change: zone rules live outside the database (a changed tzdata reaches the
/// tick within a minute, as it reaches the cached zone files within five), and absences
/// are read from the time of reading on.
const KEEP_AT_MOST: std::time::Duration = std::time::Duration::from_secs(60);

impl Escalator {
    /// The rules and directory, as the database holds them now. Reading them is most of a
    /// small tick's fixed cost (about 1.5–2.5 ms of ~4 ms at a deadline every few
    /// milliseconds) and most of a page view's statements, so they are kept and read again
    /// only when the store's rules generation moved: each call costs one one-row read, and
    /// a change committed anywhere (any replica) is seen by the next call. The generation
    /// is read first: a change committed while the rules are read leaves them tagged older,
    /// so the next call reads again. One caller reads at a time; the others wait for it.
    pub(crate) async fn kept(&self, now: chrono::DateTime<chrono::Utc>) -> EngineResult<Kept> {
        match &self.reading {
            Some(once) => once.get_or_try_init(|| self.read_kept(now)).await.cloned(),
            None => self.read_kept(now).await,
        }
    }

    /// The engine for one request that only reads (a page view): every call it makes
    /// sees the rules and directory as of its first look, read (or checked) once instead
    /// of once per call. Not for requests that change anything: they would not see their
    /// own changes to the rules or the directory.
    pub fn for_reading(&self) -> Escalator {
        Escalator {
            reading: Some(Arc::default()),
            ..self.clone()
        }
    }

    async fn read_kept(&self, now: chrono::DateTime<chrono::Utc>) -> EngineResult<Kept> {
        let generation = self.store.rules_generation().await?;
        if let Some(kept) = self.kept.fresh(generation) {
            return Ok(kept);
        }
        let _reading = self.kept.reading.lock().await;
        if let Some(kept) = self.kept.fresh(generation) {
            return Ok(kept);
        }
        let fresh = Kept {
            generation,
            read_at: std::time::Instant::now(),
            rules: Arc::new(self.rules().await?),
            directory: Arc::new(self.store.directory(now).await?),
        };
        *self
            .kept
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fresh.clone());
        Ok(fresh)
    }

    /// Reads every policy version and chain.
    pub(crate) async fn rules(&self) -> EngineResult<Rules> {
        let policies = self
            .store
            .policy_versions()
            .await?
            .into_iter()
            .map(|v| ((v.policy_id, v.version), v.policy))
            .collect();
        let chains = self
            .store
            .chains()
            .await?
            .into_iter()
            .map(|c| (c.id, c.chain))
            .collect();
        Ok(Rules { policies, chains })
    }
}
