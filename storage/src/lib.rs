//! Escalator's storage layer: the [`Store`] trait and its two implementations,
//! SQLite (the embedded default) and PostgreSQL (production, several replicas).
//!
//! Both run the same SQL text (`$n` placeholders work in both dialects) from one
//! implementation in [`sql`]; each backend only adds its connection set-up, its
//! migrations (`migrations/sqlite`, `migrations/postgres`) and a few dialect words.
//! One contract suite (`tests/contract.rs`) runs every case against both.

mod error;
mod lock;
pub mod postgres;
mod records;
mod sql;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use escalator_domain::{
    Absence, Calendar, Department, EscalationChain, Group, NotificationPreferences, SlaPolicy, User,
};

pub use error::{StoreError, StoreResult};
pub use lock::{lock_application_name, HeldLock};
pub use records::*;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `DATABASE_URL` names: `sqlite:` or `postgres:`/`postgresql:`.
    pub fn from_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }
}

/// A URL without its password, for error messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// How long database work may wait or run, for every pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSettings {
    /// PostgreSQL's `statement_timeout` for pooled sessions: a statement running longer is
    /// cancelled by the server, also when the process that sent it has died. Migrations run
    /// without it.
    pub statement_timeout: Duration,
    /// SQLite's `busy_timeout`: how long a writer waits for the database's write lock.
    pub busy_timeout: Duration,
    /// How long a caller waits for a free pooled connection.
    pub acquire_timeout: Duration,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            statement_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// Connects to the database a URL names, with the default [`DbSettings`]. Does not
/// migrate: call [`Store::migrate`].
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    connect_with(url, &DbSettings::default()).await
}

/// Connects to the database a URL names.
pub async fn connect_with(url: &str, settings: &DbSettings) -> StoreResult<Arc<dyn Store>> {
    Ok(match Backend::from_url(url)? {
        Backend::Sqlite => Arc::new(sqlite::SqliteStore::connect(url, settings).await?),
        Backend::Postgres => Arc::new(postgres::PgStore::connect(url, settings).await?),
    })
}

/// Everything Escalator persists, in roles a caller can name on their own. Implementations
/// must make [`WorkflowStore::apply`] atomic per change and conditional on the workflow's
/// version.
pub trait Store:
    Database
    + DirectoryStore
    + RulesStore
    + WorkflowStore
    + OutboxStore
    + InboxStore
    + AccessStore
    + AvailabilityStore
    + ReportStore
{
}

impl<T> Store for T where
    T: Database
        + DirectoryStore
        + RulesStore
        + WorkflowStore
        + OutboxStore
        + InboxStore
        + AccessStore
        + AvailabilityStore
        + ReportStore
{
}

/// The role traits, for callers of a [`Store`]'s methods.
pub mod prelude {
    pub use crate::{
        AccessStore, AvailabilityStore, Database, DirectoryStore, InboxStore, OutboxStore, ReportStore, RulesStore,
        Store, WorkflowStore,
    };
}

/// The database itself: which backend, migrations, health, cross-process locks.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// The backend behind this store.
    fn backend(&self) -> Backend;
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// Checks that the database answers and is migrated.
    async fn ping(&self) -> StoreResult<()>;
    /// Takes the named lock across processes for `holder` unless another process holds
    /// it. A lock whose process died is free again at once on PostgreSQL (it lives with its
    /// session) and within `ttl` on SQLite (a lease renewed while held).
    async fn try_lock(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<Option<Box<dyn HeldLock>>>;
    /// The underlying pool, for the job queue and for benchmarks' raw SQL.
    fn pool(&self) -> DbPool;
}

/// Departments, users, their contacts and notification preferences.
#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    /// Creates or replaces a department.
    async fn upsert_department(&self, department: &Department, now: DateTime<Utc>) -> StoreResult<()>;
    /// One department.
    async fn department(&self, key: &str) -> StoreResult<Option<Department>>;
    /// All departments, by key.
    async fn departments(&self) -> StoreResult<Vec<Department>>;
    /// Creates or replaces a user (not their password).
    async fn upsert_user(&self, user: &User, now: DateTime<Utc>) -> StoreResult<()>;
    /// One user.
    async fn user(&self, email: &str) -> StoreResult<Option<User>>;
    /// All users, by e-mail.
    async fn users(&self) -> StoreResult<Vec<User>>;
    /// The whole directory, for resolving escalation targets, knowing who is away at or
    /// after `now`.
    async fn directory(&self, now: DateTime<Utc>) -> StoreResult<DirectorySnapshot>;
    /// A user's notification preferences (defaults when never set); `None` for an unknown user.
    async fn notification_preferences(&self, email: &str) -> StoreResult<Option<NotificationPreferences>>;
    /// Replaces a user's notification preferences; false if there is no such user.
    async fn set_notification_preferences(
        &self,
        email: &str,
        preferences: &NotificationPreferences,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Phones and preferences of the users among `emails` (unknown addresses are left out).
    async fn contacts(&self, emails: &[String]) -> StoreResult<Vec<Contact>>;
    /// Creates or replaces a group; true if it was created.
    async fn upsert_group(&self, key: &str, group: &Group, now: DateTime<Utc>) -> StoreResult<bool>;
    /// One group.
    async fn group(&self, key: &str) -> StoreResult<Option<Group>>;
    /// All groups, by key.
    async fn groups(&self) -> StoreResult<Vec<(String, Group)>>;
}

/// SLA policies (and their versions), business calendars, escalation chains.
#[async_trait]
pub trait RulesStore: Send + Sync + 'static {
    /// Stores a new SLA policy measured in `calendar_id` (24/7 when `None`).
    async fn create_policy(
        &self,
        policy: &SlaPolicy,
        calendar_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<PolicyRecord>;
    /// Replaces a policy; `None` if there is no such id.
    async fn update_policy(
        &self,
        id: i64,
        policy: &SlaPolicy,
        calendar_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<PolicyRecord>>;
    /// A number that every change to policies, chains, departments, users, absences or
    /// groups moves (database triggers, in the change's transaction): equal numbers mean
    /// the rules and the directory read before are still current.
    async fn rules_generation(&self) -> StoreResult<i64>;
    /// Every version of every policy (small: one row per edit), for the clocks of workflows.
    async fn policy_versions(&self) -> StoreResult<Vec<PolicyVersion>>;
    /// Stores a business calendar.
    async fn create_calendar(&self, name: &str, calendar: &Calendar, now: DateTime<Utc>)
        -> StoreResult<CalendarRecord>;
    /// Replaces a calendar; `None` if there is no such id. Policies using it follow.
    async fn update_calendar(
        &self,
        id: i64,
        name: &str,
        calendar: &Calendar,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<CalendarRecord>>;
    /// One calendar.
    async fn calendar(&self, id: i64) -> StoreResult<Option<CalendarRecord>>;
    /// All calendars, by id.
    async fn calendars(&self) -> StoreResult<Vec<CalendarRecord>>;
    /// One policy.
    async fn policy(&self, id: i64) -> StoreResult<Option<PolicyRecord>>;
    /// All policies, by id.
    async fn policies(&self) -> StoreResult<Vec<PolicyRecord>>;
    /// Stores a new escalation chain.
    async fn create_chain(&self, chain: &EscalationChain, now: DateTime<Utc>) -> StoreResult<ChainRecord>;
    /// Replaces a chain; `None` if there is no such id.
    async fn update_chain(
        &self,
        id: i64,
        chain: &EscalationChain,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ChainRecord>>;
    /// One chain.
    async fn chain(&self, id: i64) -> StoreResult<Option<ChainRecord>>;
    /// All chains, by id.
    async fn chains(&self) -> StoreResult<Vec<ChainRecord>>;
}

/// Workflows, their version-checked changes, holds, reminders and the audit log.
#[async_trait]
pub trait WorkflowStore: Send + Sync + 'static {
    /// Inserts a workflow with its creation audit entry, atomically.
    /// [`StoreError::Conflict`] if the external id exists.
    async fn insert_workflow(&self, workflow: &NewWorkflow, audit: &NewAudit) -> StoreResult<WorkflowRecord>;
    /// One workflow.
    async fn workflow(&self, id: i64) -> StoreResult<Option<WorkflowRecord>>;
    /// One workflow by the id its source system gave it.
    async fn workflow_by_external_id(&self, external_id: &str) -> StoreResult<Option<WorkflowRecord>>;
    /// A page of workflows in the filter's order.
    async fn workflows(&self, filter: &WorkflowFilter) -> StoreResult<Vec<WorkflowRecord>>;
    /// Open workflows per SLA status (`ok`, `warning`, `breached`, `paused`) at `now`,
    /// under the filter's department, assignee and policy (paging and status ignored).
    async fn sla_counts(&self, filter: &WorkflowFilter, now: DateTime<Utc>) -> StoreResult<Vec<(String, i64)>>;
    /// Open workflows whose `next_check_at` is at or before `now`, in (next_check_at, id)
    /// order, strictly after the `after` cursor. Reads through the next-check index only.
    async fn due_workflows(
        &self,
        now: DateTime<Utc>,
        after: Option<DueCursor>,
        limit: i64,
    ) -> StoreResult<Vec<WorkflowRecord>>;
    /// The earliest threshold (an index look-up): a workflow's `next_check_at`, or the start of an
    /// absence whose person's work was not handed on yet. When the engine must wake.
    async fn next_check_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// The holds of some workflows, by workflow then time (for their clocks' timelines).
    async fn holds(&self, workflow_ids: &[i64]) -> StoreResult<Vec<Hold>>;
    /// Applies changes in one transaction, each conditional on its expected version;
    /// an error rolls back the whole batch (the caller retries one by one).
    async fn apply(&self, changes: &[WorkflowChange]) -> StoreResult<Vec<Applied>>;
    /// Audit entries matching `filter`, newest first.
    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
    /// Reminders matching `filter`, newest first.
    async fn reminders(&self, filter: &ReminderFilter) -> StoreResult<Vec<Reminder>>;
    /// One reminder.
    async fn reminder(&self, id: i64) -> StoreResult<Option<Reminder>>;
    /// Acknowledges a reminder (once: a second call changes nothing) with its audit entry.
    async fn acknowledge_reminder(&self, id: i64, by: &str, audit: &NewAudit) -> StoreResult<Option<Reminder>>;
    /// The reminders of some workflows (every stage and level), oldest first.
    async fn reminders_of(&self, workflow_ids: &[i64]) -> StoreResult<Vec<Reminder>>;
    /// Appends one audit entry on its own (entries tied to a change go through [`Store::apply`]).
    async fn append_audit(&self, entry: &NewAudit) -> StoreResult<()>;
    /// Counts for the gauges: open workflows by SLA status at `now`, outbox backlog.
    async fn stats(&self, now: DateTime<Utc>) -> StoreResult<Stats>;
}

/// The transactional outbox: claims, deliveries, retries, dead letters, digests.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Claims up to `limit` deliverable outbox rows: bumps their attempt count and hides
    /// them until `lease_until`, so that a crashed worker's rows come back by themselves.
    /// Touches exactly the rows it returns, in time proportional to `limit` whatever the
    /// backlog and the table's statistics.
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Keeps claimed rows hidden until `lease_until` (a worker still delivering them).
    async fn extend_outbox_claim(&self, ids: &[i64], lease_until: DateTime<Utc>) -> StoreResult<()>;
    /// Hands claimed, undelivered rows back to the queue at once, their attempt not counted
    /// (a worker shutting down).
    async fn release_outbox_claim(&self, ids: &[i64], now: DateTime<Utc>) -> StoreResult<()>;
    /// Marks rows delivered.
    async fn outbox_delivered(&self, ids: &[i64], now: DateTime<Utc>) -> StoreResult<()>;
    /// Records a failed attempt: retried at `retry_at`, or dead-lettered when `None`.
    async fn outbox_failed(&self, id: i64, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()>;
    /// Outbox rows by status, for the API and tests.
    async fn outbox(&self, status: Option<OutboxStatus>, limit: i64) -> StoreResult<Vec<OutboxMessage>>;
    /// Replaces unrouted rows by their per-channel delivery rows, all in one transaction
    /// (a delivery round routes its whole batch at once).
    async fn expand_outbox(&self, routed: &[(&OutboxMessage, Vec<NewOutbox>)], now: DateTime<Utc>) -> StoreResult<()>;
    /// Puts a dead-lettered row back in the queue (an admin's retry); false if it is not dead.
    async fn retry_outbox(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Marks a dead letter discarded (an admin's decision not to send it); false if it is not an undiscarded dead letter.
    async fn discard_outbox(&self, id: i64, by: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// The earliest `next_attempt_at` of a pending row not held for a digest: when delivery must look again.
    async fn next_outbox_attempt(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Outbox rows queued for one workflow, oldest first.
    async fn workflow_outbox(&self, workflow_id: i64) -> StoreResult<Vec<OutboxMessage>>;
    /// How many e-mails were delivered individually to `recipient` since `since` (digests
    /// count as one; the rows a digest carried do not count).
    async fn emails_sent_since(&self, recipient: &str, since: DateTime<Utc>) -> StoreResult<i64>;
    /// Takes claimed e-mail rows out of the queue into the recipient's pending digest
    /// (`digest` is inserted when there is none); returns the digest's row id.
    async fn hold_for_digest(&self, rows: &[i64], digest: &NewOutbox, now: DateTime<Utc>) -> StoreResult<i64>;
    /// The rows a digest carries.
    async fn digest_members(&self, digest_id: i64) -> StoreResult<Vec<OutboxMessage>>;
    /// Marks a sent digest and the `members` it listed delivered; rows that joined it
    /// later go back to the queue.
    async fn digest_delivered(&self, digest_id: i64, members: &[i64], now: DateTime<Utc>) -> StoreResult<()>;
}

/// In-app notifications and webhook endpoints with their delivery log.
#[async_trait]
pub trait InboxStore: Send + Sync + 'static {
    /// Stores in-app notifications (once per outbox row: a row stored before is skipped).
    async fn insert_notifications(&self, notifications: &[NewNotification]) -> StoreResult<()>;
    /// A user's in-app notifications, newest first.
    async fn notifications(
        &self,
        user: &str,
        unread_only: bool,
        before_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Notification>>;
    /// How many of a user's notifications are unread.
    async fn unread_notifications(&self, user: &str) -> StoreResult<i64>;
    /// Marks one (or, with `None`, every) notification of a user read; returns how many changed.
    async fn mark_notifications_read(&self, user: &str, id: Option<i64>, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Registers a webhook endpoint.
    async fn create_webhook(
        &self,
        url: &str,
        secret: &str,
        event_types: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook>;
    /// All webhook endpoints, by id.
    async fn webhooks(&self) -> StoreResult<Vec<Webhook>>;
    /// One webhook endpoint.
    async fn webhook(&self, id: i64) -> StoreResult<Option<Webhook>>;
    /// Switches an endpoint on or off; false if there is no such endpoint.
    async fn set_webhook_active(&self, id: i64, active: bool) -> StoreResult<bool>;
    /// Replaces an endpoint's signing secret; false if there is no such endpoint.
    async fn set_webhook_secret(&self, id: i64, secret: &str) -> StoreResult<bool>;
    /// Logs one delivery attempt to a webhook.
    async fn record_webhook_delivery(&self, delivery: &WebhookDelivery) -> StoreResult<()>;
    /// An endpoint's delivery log, newest first.
    async fn webhook_deliveries(&self, webhook_id: i64, limit: i64) -> StoreResult<Vec<WebhookDelivery>>;
}

/// Absences, standing delegates and deactivation: who can take work.
#[async_trait]
pub trait AvailabilityStore: Send + Sync + 'static {
    /// A person's absences that end after `after`, by start.
    async fn absences(&self, user: &str, after: DateTime<Utc>) -> StoreResult<Vec<AbsenceRecord>>;
    /// Records an absence of `user`, with its audit entry.
    async fn add_absence(&self, user: &str, absence: &Absence, audit: &NewAudit) -> StoreResult<AbsenceRecord>;
    /// Deletes an absence of `user`, with its audit entry; false if they have none with that id.
    async fn delete_absence(&self, user: &str, id: i64, audit: &NewAudit) -> StoreResult<bool>;
    /// A person's standing delegate and deactivation; `None` for an unknown user.
    async fn availability(&self, user: &str) -> StoreResult<Option<Availability>>;
    /// Sets (or clears) a person's standing delegate, with its audit entry; false for an unknown user.
    async fn set_delegate(&self, user: &str, delegate: Option<&str>, audit: &NewAudit) -> StoreResult<bool>;
    /// Deactivates a person (`Some(at)`, revoking every token of theirs in the same
    /// transaction) or reactivates them (`None`), with its audit entry; false for an unknown user.
    async fn set_deactivated(&self, user: &str, at: Option<DateTime<Utc>>, audit: &NewAudit) -> StoreResult<bool>;
    /// Who is away at or after `now`, and whom their work goes to.
    async fn away(&self, now: DateTime<Utc>) -> StoreResult<AwaySnapshot>;
    /// Absences that have started by `now` whose person's open work was not handed on yet:
    /// (absence id, person, end). Those that have ended meanwhile are marked, not handed over.
    async fn absences_to_hand_over(&self, now: DateTime<Utc>) -> StoreResult<Vec<(i64, String, DateTime<Utc>)>>;
    /// Deactivated people who still have open workflows.
    async fn deactivated_with_open_work(&self) -> StoreResult<Vec<String>>;
    /// Records that the work of these absences' people was handed on.
    async fn mark_handed_over(&self, ids: &[i64], now: DateTime<Utc>) -> StoreResult<()>;
}

/// SLA outcomes (one per ended stage, written by [`WorkflowStore::apply`]) and the
/// aggregates reports read from them.
#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    /// The outcomes of one workflow's stages, in stage order.
    async fn workflow_outcomes(&self, workflow_id: i64) -> StoreResult<Vec<SlaOutcome>>;
    /// Outcomes that ended in the filter's range, oldest first, at most `limit`.
    async fn outcomes(&self, f: &OutcomeFilter, limit: i64) -> StoreResult<Vec<SlaOutcome>>;
    /// Counts per UTC day of the stages' ends, by day.
    async fn outcomes_by_day(&self, f: &OutcomeFilter) -> StoreResult<Vec<DayCounts>>;
    /// Counts per group of every dimension (in [`Dimension::ALL`] order), each most
    /// breaches first and at most `limit` groups, from one read of the daily sums.
    async fn breakdowns(&self, f: &OutcomeFilter, limit: usize) -> StoreResult<Vec<(Dimension, Vec<GroupCounts>)>>;
    /// How many stages were decided (completed or advanced), and their wall-clock time to
    /// decision in seconds at each quantile (0 to 1, nearest rank); no values when none were.
    async fn decision_quantiles(&self, f: &OutcomeFilter, quantiles: &[f64]) -> StoreResult<(i64, Vec<i64>)>;
    /// Writes outcomes rebuilt from the audit log, skipping stages that have one; how many are new.
    async fn backfill_outcomes(&self, rows: &[NewOutcome]) -> StoreResult<u64>;
    /// Recomputes the daily sums reports read from every outcome (after outcomes were
    /// loaded in bulk, bypassing the store); how many day-groups there are.
    async fn rebuild_outcome_days(&self) -> StoreResult<u64>;
    /// Open workflows by the age of their stage and their SLA status at `now`: (bucket,
    /// status, count), where bucket `i` holds ages below `age_bounds[i]` seconds (and not
    /// below the one before) and bucket `age_bounds.len()` the older ones. The filter's
    /// department, policy and type apply; its dates do not.
    async fn backlog(
        &self,
        f: &OutcomeFilter,
        age_bounds: &[i64],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(usize, escalator_domain::SlaStatus, i64)>>;
}

/// UI sessions, passwords and API tokens.
#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// Stores a new session; false if the id is taken.
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<bool>;
    /// Stores a session, replacing any with its id.
    async fn save_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// A session that has not expired at `now`.
    async fn load_session(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionRecord>>;
    /// Deletes a session.
    async fn delete_session(&self, id: &str) -> StoreResult<()>;
    /// Deletes sessions expired at `now`; how many.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Sets a user's password hash (argon2 PHC string); false if there is no such user.
    async fn set_password_hash(&self, email: &str, hash: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// A user's password hash, if the user exists and has one.
    async fn password_hash(&self, email: &str) -> StoreResult<Option<String>>;
    /// Stores an API token (its SHA-256 only) for a user.
    async fn create_token(
        &self,
        email: &str,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<TokenRecord>;
    /// The live (unrevoked) token with this hash, with its owner.
    async fn token_owner(&self, token_hash: &str) -> StoreResult<Option<(TokenRecord, User)>>;
    /// Tokens, of one user or all, newest first.
    async fn tokens(&self, email: Option<&str>) -> StoreResult<Vec<TokenRecord>>;
    /// Revokes a token; false if there is no such live token.
    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    /// The shared secret named `name`: stored from `generated` by the first caller, and
    /// the stored one for every caller (replicas agree on it).
    async fn server_secret(&self, name: &str, generated: &str, now: DateTime<Utc>) -> StoreResult<String>;
    /// Claims a link's single use before it acts (`outcome` still `None`): `None` when
    /// this call claimed it, else the earlier use, which the caller reports instead.
    async fn claim_link_use(&self, first: &LinkUse) -> StoreResult<Option<LinkUse>>;
    /// The use of a link, if it was used.
    async fn link_use(&self, token_hash: &str) -> StoreResult<Option<LinkUse>>;
    /// Records what a claimed link did.
    async fn finish_link_use(&self, token_hash: &str, outcome: &str) -> StoreResult<()>;
    /// Frees a claimed link whose action did not happen, so that it may be followed again.
    async fn release_link_use(&self, token_hash: &str) -> StoreResult<()>;
}

/// A backend's connection pool.
#[derive(Clone, Debug)]
pub enum DbPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}
