//! What the store reads and writes: records (rows with ids and timestamps), new rows,
//! changes, filters. Row structs mirror the tables; conversions validate into the domain.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use escalator_domain::{
    Calendar, Department, DepartmentKey, Directory, Email, EscalationChain, Level, NotificationPreferences, Phone,
    Role, SlaPolicy, SlaStatus, User, WarningWindow, WorkflowState, WorkflowStatus,
};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A stored SLA policy.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub id: i64,
    #[serde(flatten)]
    pub policy: SlaPolicy,
    /// The business calendar its times are measured in; none: 24/7.
    pub calendar_id: Option<i64>,
    /// Incremented by every edit of the policy or its calendar.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One version of an SLA policy, with its calendar as it was then.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersion {
    pub policy_id: i64,
    pub version: i64,
    pub policy: SlaPolicy,
}

/// A stored business calendar.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarRecord {
    pub id: i64,
    pub name: String,
    /// Time zone, working windows per weekday, holidays.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub calendar: Calendar,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stored escalation chain.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainRecord {
    pub id: i64,
    #[serde(flatten)]
    pub chain: EscalationChain,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stored workflow instance.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRecord {
    pub id: i64,
    pub external_id: String,
    pub workflow_type: String,
    pub title: String,
    pub department: String,
    pub initiator: String,
    pub chain_id: i64,
    #[serde(flatten)]
    pub state: WorkflowState,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

/// A workflow to insert.
#[derive(Debug, Clone)]
pub struct NewWorkflow {
    pub external_id: String,
    pub workflow_type: String,
    pub title: String,
    pub department: String,
    pub initiator: String,
    pub chain_id: i64,
    pub state: WorkflowState,
    /// The client's Idempotency-Key, so a retried create returns the first result.
    pub idempotency_key: Option<String>,
    pub now: DateTime<Utc>,
}

/// Which workflows to list.
#[derive(Debug, Clone, Default)]
pub struct WorkflowFilter {
    pub status: Option<WorkflowStatus>,
    pub open_only: bool,
    pub department: Option<String>,
    pub assignee: Option<String>,
    /// With `department`: also the workflows of other departments assigned to this person
    /// (`department = … OR assignee = …`): what a head or viewer sees.
    pub or_assignee: Option<String>,
    /// Only those under this SLA policy.
    pub policy_id: Option<i64>,
    /// Only those in this SLA status at `now`.
    pub sla_status: Option<SlaStatus>,
    pub now: Option<DateTime<Utc>>,
    /// Only those whose id is below this (keyset pagination, newest first).
    pub before_id: Option<i64>,
    /// The listing order.
    pub order: WorkflowOrder,
    /// Only those after this (due_at, id) (keyset pagination in [`WorkflowOrder::DueSoonest`]).
    pub after_due: Option<(DateTime<Utc>, i64)>,
    pub limit: i64,
}

/// How a workflow listing is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WorkflowOrder {
    /// Newest first (by id).
    #[default]
    Newest,
    /// Least time left first (by deadline, then id).
    DueSoonest,
}

/// A stored browser session: tower-sessions' record as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: String,
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

/// Which reminders to list.
#[derive(Debug, Clone, Default)]
pub struct ReminderFilter {
    pub assignee: Option<String>,
    /// Only reminders of this department's workflows.
    pub department: Option<String>,
    pub workflow_id: Option<i64>,
    pub unacknowledged_only: bool,
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// A stored API token (never the secret itself).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: i64,
    pub user: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where the previous page of due workflows ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueCursor {
    pub next_check_at: DateTime<Utc>,
    pub id: i64,
}

/// The once-only key of an engine transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    Remind,
    Escalate,
    Exhaust,
}

impl ClaimKind {
    fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Remind => "remind",
            ClaimKind::Escalate => "escalate",
            ClaimKind::Exhaust => "exhaust",
        }
    }
}

/// A (workflow, stage, level, kind, seq) key: a change carrying one happens at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub stage_seq: i64,
    pub level: u32,
    pub kind: ClaimKind,
    /// 0, or the number of a reminder's repeat.
    pub seq: u32,
}

impl Claim {
    pub(crate) fn kind_str(&self) -> &'static str {
        self.kind.as_str()
    }
}

/// A reminder to create with a change.
#[derive(Debug, Clone)]
pub struct NewReminder {
    pub assignee: String,
    pub due_at: DateTime<Utc>,
    /// 0 for the first reminder (inserted), n for the n-th repeat (counted on the same row,
    /// skipped with its side effects when the reminder was acknowledged meanwhile).
    pub repeat: u32,
}

/// An audit entry to append.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub actor: String,
    pub action: String,
    pub workflow_id: Option<i64>,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// What an outbox row carries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// A message to people (e-mail, in-app, SMS).
    Notification,
    /// An event for other systems (webhooks).
    Event,
}

/// An outbox row to insert.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    pub kind: OutboxKind,
    pub topic: String,
    pub payload: serde_json::Value,
    /// Unique per logical message: inserting the same key twice is a no-op.
    pub dedupe_key: String,
    /// The delivery channel; `None` for a message still to be routed to its channels.
    pub channel: Option<String>,
    /// The person a delivery row is for (an e-mail's first To address), for quiet hours and digests.
    pub recipient: Option<String>,
    /// Not delivered before this instant (quiet hours, digests); at once when `None`.
    pub not_before: Option<DateTime<Utc>>,
}

/// One atomic, version-checked change to a workflow and its side effects.
#[derive(Debug, Clone)]
pub struct WorkflowChange {
    pub workflow_id: i64,
    pub expected_version: i64,
    pub state: WorkflowState,
    /// When present, the side effects below happen only if this key is new.
    pub claim: Option<Claim>,
    pub reminder: Option<NewReminder>,
    pub hold: Option<HoldChange>,
    pub audit: Vec<NewAudit>,
    pub outbox: Vec<NewOutbox>,
    pub now: DateTime<Utc>,
}

/// Opening or closing a hold (pause of the SLA clock), applied with a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldChange {
    /// Pause now; `resume_status` is the status to return to.
    Open {
        reason: String,
        by: String,
        resume_status: WorkflowStatus,
    },
    /// Resume: closes the open hold now.
    Close,
}

/// A pause of a workflow's SLA clock.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub id: i64,
    pub workflow_id: i64,
    pub held_at: DateTime<Utc>,
    pub resumed_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub held_by: String,
    pub resume_status: WorkflowStatus,
}

/// The outcome of one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// State and side effects written.
    Done,
    /// State written; the claim existed already, so side effects were skipped.
    AlreadyClaimed,
    /// Someone else changed the workflow first; nothing written.
    Stale,
}

/// A stored audit entry.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub workflow_id: Option<i64>,
    pub details: serde_json::Value,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub workflow_id: Option<i64>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// A stored reminder.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    pub id: i64,
    pub workflow_id: i64,
    pub stage_seq: i64,
    pub level: u32,
    pub assignee: String,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    /// How many times it was sent (repeats until acknowledged, when the policy says so).
    pub sent_count: u32,
    /// When it was last sent.
    pub last_sent_at: DateTime<Utc>,
}

/// Delivery state of an outbox row.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Delivered,
    Dead,
}

impl OutboxStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Dead => "dead",
        }
    }
}

/// A stored outbox row.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub kind: OutboxKind,
    pub topic: String,
    pub workflow_id: Option<i64>,
    pub payload: serde_json::Value,
    pub dedupe_key: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub channel: Option<String>,
    /// The person a delivery row is for.
    pub recipient: Option<String>,
    /// The digest that carries (or carried) this row, when it was combined into one.
    pub digest_id: Option<i64>,
}

/// An in-app notification to store.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user: String,
    pub outbox_id: i64,
    pub workflow_id: Option<i64>,
    pub topic: String,
    pub title: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// How to reach a user: their phone and notification preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub email: String,
    pub phone: Option<Phone>,
    pub preferences: NotificationPreferences,
}

/// A stored in-app notification.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub user: String,
    pub workflow_id: Option<i64>,
    pub topic: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A registered webhook endpoint.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    /// Shared secret of the HMAC signature; never serialised back to clients.
    #[serde(skip_serializing)]
    pub secret: String,
    /// Topics it receives (`workflow.escalated`, …); empty means every event.
    pub event_types: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether this endpoint receives events of `topic`.
    pub fn wants(&self, topic: &str) -> bool {
        self.active && (self.event_types.is_empty() || self.event_types.iter().any(|t| t == topic))
    }
}

/// One attempt to deliver an event to a webhook.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub outbox_id: i64,
    pub event_id: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: DateTime<Utc>,
}

/// Aggregates for the metrics gauges, computed once per tick rather than per scrape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Open workflows per SLA status name (`ok`, `warning`, `breached`, `paused`).
    pub open_by_sla_status: Vec<(String, i64)>,
    /// The earliest deadline among breached open workflows.
    pub oldest_breach_due_at: Option<DateTime<Utc>>,
    /// Outbox rows per (kind, status) for pending and dead rows.
    pub outbox: Vec<(String, String, i64)>,
    /// The oldest pending outbox row's creation time.
    pub oldest_pending_outbox_at: Option<DateTime<Utc>>,
}

/// The directory in memory: enough to resolve every escalation target of a tick.
#[derive(Debug, Clone, Default)]
pub struct DirectorySnapshot {
    heads: HashMap<String, String>,
    managers: HashMap<String, Option<String>>,
}

impl DirectorySnapshot {
    /// Builds a snapshot from departments and users.
    pub fn new(departments: &[Department], users: &[User]) -> Self {
        Self {
            heads: departments
                .iter()
                .filter_map(|d| Some((d.key.to_string(), d.head.as_ref()?.to_string())))
                .collect(),
            managers: users
                .iter()
                .map(|u| (u.email.to_string(), u.manager.as_ref().map(Email::to_string)))
                .collect(),
        }
    }
}

impl Directory for DirectorySnapshot {
    fn department_head(&self, department: &str) -> Option<&str> {
        self.heads.get(department).map(String::as_str)
    }
    fn manager_of(&self, user: &str) -> Option<&str> {
        self.managers.get(user)?.as_deref()
    }
    fn has_user(&self, user: &str) -> bool {
        self.managers.contains_key(user)
    }
}

// ---- rows ---------------------------------------------------------------------------

fn corrupt(table: &'static str, message: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.to_string(),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DepartmentRow {
    key: String,
    name: String,
    head_email: Option<String>,
}

impl TryFrom<DepartmentRow> for Department {
    type Error = StoreError;
    fn try_from(r: DepartmentRow) -> Result<Self, StoreError> {
        let c = |e| corrupt("departments", e);
        Ok(Department {
            key: DepartmentKey::parse(&r.key).map_err(c)?,
            name: r.name,
            head: r.head_email.as_deref().map(Email::parse).transpose().map_err(c)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    email: String,
    name: String,
    role: String,
    department_key: Option<String>,
    manager_email: Option<String>,
    phone: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        let c = |e| corrupt("users", e);
        Ok(User {
            email: Email::parse(&r.email).map_err(c)?,
            name: r.name,
            role: Role::parse(&r.role).map_err(c)?,
            department: r
                .department_key
                .as_deref()
                .map(DepartmentKey::parse)
                .transpose()
                .map_err(c)?,
            manager: r.manager_email.as_deref().map(Email::parse).transpose().map_err(c)?,
            phone: r.phone.as_deref().map(Phone::parse).transpose().map_err(c)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    id: i64,
    name: String,
    target_seconds: i64,
    warning_kind: String,
    warning_value: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    calendar_id: Option<i64>,
    calendar: Option<String>,
    version: i64,
    reminder_repeat_seconds: Option<i64>,
}

/// Splits a warning window into its stored kind and value.
pub(crate) fn warning_columns(w: WarningWindow) -> (&'static str, i64) {
    match w {
        WarningWindow::BeforeDeadline { seconds } => ("before_deadline", seconds),
        WarningWindow::ElapsedPercent { percent } => ("elapsed_percent", i64::from(percent)),
    }
}

/// A policy from its stored columns (current row or version snapshot) and its calendar's definition.
fn policy_from_columns(
    name: &str,
    target_seconds: i64,
    warning_kind: &str,
    warning_value: i64,
    calendar: Option<&str>,
    reminder_repeat_seconds: Option<i64>,
) -> Result<SlaPolicy, StoreError> {
    let warning = match warning_kind {
        "before_deadline" => WarningWindow::BeforeDeadline { seconds: warning_value },
        "elapsed_percent" => WarningWindow::ElapsedPercent {
            percent: u8::try_from(warning_value).map_err(|e| corrupt("sla_policies", e))?,
        },
        other => return Err(corrupt("sla_policies", format!("warning_kind {other:?}"))),
    };
    let policy = SlaPolicy::new(name, target_seconds, warning)
        .and_then(|p| p.with_reminder_repeat(reminder_repeat_seconds))
        .map_err(|e| corrupt("sla_policies", e))?;
    Ok(match calendar {
        Some(definition) => {
            let calendar: Calendar = serde_json::from_str(definition).map_err(|e| corrupt("calendars", e))?;
            policy.with_calendar(std::sync::Arc::new(calendar))
        }
        None => policy,
    })
}

impl TryFrom<PolicyRow> for PolicyRecord {
    type Error = StoreError;
    fn try_from(r: PolicyRow) -> Result<Self, StoreError> {
        Ok(PolicyRecord {
            id: r.id,
            policy: policy_from_columns(
                &r.name,
                r.target_seconds,
                &r.warning_kind,
                r.warning_value,
                r.calendar.as_deref(),
                r.reminder_repeat_seconds,
            )?,
            calendar_id: r.calendar_id,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChainRow {
    id: i64,
    name: String,
    levels: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ChainRow> for ChainRecord {
    type Error = StoreError;
    fn try_from(r: ChainRow) -> Result<Self, StoreError> {
        let c = |e: String| corrupt("escalation_chains", e);
        let levels: Vec<Level> = serde_json::from_str(&r.levels).map_err(|e| c(e.to_string()))?;
        Ok(ChainRecord {
            id: r.id,
            chain: EscalationChain::new(&r.name, levels).map_err(|e| c(e.to_string()))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WorkflowRow {
    id: i64,
    external_id: String,
    workflow_type: String,
    title: String,
    stage: String,
    stage_seq: i64,
    department_key: String,
    initiator_email: String,
    assignee_email: String,
    status: String,
    level: i64,
    policy_id: i64,
    policy_version: i64,
    chain_id: i64,
    stage_started_at: DateTime<Utc>,
    level_started_at: DateTime<Utc>,
    warn_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    next_check_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    idempotency_key: Option<String>,
}

impl TryFrom<WorkflowRow> for WorkflowRecord {
    type Error = StoreError;
    fn try_from(r: WorkflowRow) -> Result<Self, StoreError> {
        Ok(WorkflowRecord {
            id: r.id,
            external_id: r.external_id,
            workflow_type: r.workflow_type,
            title: r.title,
            department: r.department_key,
            initiator: r.initiator_email,
            chain_id: r.chain_id,
            state: WorkflowState {
                status: WorkflowStatus::parse(&r.status).map_err(|e| corrupt("workflows", e))?,
                stage: r.stage,
                stage_seq: r.stage_seq,
                assignee: r.assignee_email,
                level: u32::try_from(r.level).map_err(|e| corrupt("workflows", e))?,
                policy_id: r.policy_id,
                policy_version: r.policy_version,
                stage_started_at: r.stage_started_at,
                level_started_at: r.level_started_at,
                warn_at: r.warn_at,
                due_at: r.due_at,
                next_check_at: r.next_check_at,
                closed_at: r.closed_at,
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            idempotency_key: r.idempotency_key,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    workflow_id: Option<i64>,
    details: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            workflow_id: r.workflow_id,
            details: serde_json::from_str(&r.details).map_err(|e| corrupt("audit_log", e))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReminderRow {
    id: i64,
    workflow_id: i64,
    stage_seq: i64,
    level: i64,
    assignee_email: String,
    due_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<String>,
    sent_count: i64,
    last_sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<ReminderRow> for Reminder {
    type Error = StoreError;
    fn try_from(r: ReminderRow) -> Result<Self, StoreError> {
        Ok(Reminder {
            id: r.id,
            workflow_id: r.workflow_id,
            stage_seq: r.stage_seq,
            level: u32::try_from(r.level).map_err(|e| corrupt("reminders", e))?,
            assignee: r.assignee_email,
            due_at: r.due_at,
            created_at: r.created_at,
            acknowledged_at: r.acknowledged_at,
            acknowledged_by: r.acknowledged_by,
            sent_count: u32::try_from(r.sent_count).map_err(|e| corrupt("reminders", e))?,
            last_sent_at: r.last_sent_at.unwrap_or(r.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: i64,
    created_at: DateTime<Utc>,
    kind: String,
    topic: String,
    workflow_id: Option<i64>,
    payload: String,
    dedupe_key: String,
    status: String,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
    channel: Option<String>,
    recipient: Option<String>,
    digest_id: Option<i64>,
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        let c = |e: String| corrupt("outbox", e);
        Ok(OutboxMessage {
            id: r.id,
            created_at: r.created_at,
            kind: match r.kind.as_str() {
                "notification" => OutboxKind::Notification,
                "event" => OutboxKind::Event,
                other => return Err(c(format!("kind {other:?}"))),
            },
            topic: r.topic,
            workflow_id: r.workflow_id,
            payload: serde_json::from_str(&r.payload).map_err(|e| c(e.to_string()))?,
            dedupe_key: r.dedupe_key,
            status: match r.status.as_str() {
                "pending" => OutboxStatus::Pending,
                "delivered" => OutboxStatus::Delivered,
                "dead" => OutboxStatus::Dead,
                other => return Err(c(format!("status {other:?}"))),
            },
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            delivered_at: r.delivered_at,
            channel: r.channel,
            recipient: r.recipient,
            digest_id: r.digest_id,
        })
    }
}

impl OutboxKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Notification => "notification",
            OutboxKind::Event => "event",
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: i64,
    user_email: String,
    name: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            id: r.id,
            user: r.user_email,
            name: r.name,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: i64,
    user_email: String,
    workflow_id: Option<i64>,
    topic: String,
    title: String,
    body: String,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = StoreError;
    fn try_from(r: NotificationRow) -> Result<Self, StoreError> {
        Ok(Notification {
            id: r.id,
            user: r.user_email,
            workflow_id: r.workflow_id,
            topic: r.topic,
            title: r.title,
            body: r.body,
            created_at: r.created_at,
            read_at: r.read_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    id: i64,
    url: String,
    secret: String,
    event_types: String,
    active: i64,
    created_at: DateTime<Utc>,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;
    fn try_from(r: WebhookRow) -> Result<Self, StoreError> {
        Ok(Webhook {
            id: r.id,
            url: r.url,
            secret: r.secret,
            event_types: serde_json::from_str(&r.event_types).map_err(|e| corrupt("webhooks", e))?,
            active: r.active != 0,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookDeliveryRow {
    id: i64,
    webhook_id: i64,
    outbox_id: i64,
    event_id: String,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    at: DateTime<Utc>,
}

impl TryFrom<WebhookDeliveryRow> for WebhookDelivery {
    type Error = StoreError;
    fn try_from(r: WebhookDeliveryRow) -> Result<Self, StoreError> {
        Ok(WebhookDelivery {
            id: r.id,
            webhook_id: r.webhook_id,
            outbox_id: r.outbox_id,
            event_id: r.event_id,
            status_code: r.status_code,
            error: r.error,
            duration_ms: r.duration_ms,
            at: r.at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HoldRow {
    id: i64,
    workflow_id: i64,
    held_at: DateTime<Utc>,
    resumed_at: Option<DateTime<Utc>>,
    reason: String,
    held_by: String,
    resume_status: String,
}

impl TryFrom<HoldRow> for Hold {
    type Error = StoreError;
    fn try_from(r: HoldRow) -> Result<Self, StoreError> {
        Ok(Hold {
            id: r.id,
            workflow_id: r.workflow_id,
            held_at: r.held_at,
            resumed_at: r.resumed_at,
            reason: r.reason,
            held_by: r.held_by,
            resume_status: WorkflowStatus::parse(&r.resume_status).map_err(|e| corrupt("workflow_holds", e))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CalendarRow {
    id: i64,
    name: String,
    definition: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CalendarRow> for CalendarRecord {
    type Error = StoreError;
    fn try_from(r: CalendarRow) -> Result<Self, StoreError> {
        Ok(CalendarRecord {
            id: r.id,
            name: r.name,
            calendar: serde_json::from_str(&r.definition).map_err(|e| corrupt("calendars", e))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyVersionRow {
    policy_id: i64,
    version: i64,
    name: String,
    target_seconds: i64,
    warning_kind: String,
    warning_value: i64,
    calendar: Option<String>,
    reminder_repeat_seconds: Option<i64>,
}

impl TryFrom<PolicyVersionRow> for PolicyVersion {
    type Error = StoreError;
    fn try_from(r: PolicyVersionRow) -> Result<Self, StoreError> {
        Ok(PolicyVersion {
            policy_id: r.policy_id,
            version: r.version,
            policy: policy_from_columns(
                &r.name,
                r.target_seconds,
                &r.warning_kind,
                r.warning_value,
                r.calendar.as_deref(),
                r.reminder_repeat_seconds,
            )?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    email: String,
    phone: Option<String>,
    notification_preferences: Option<String>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> Result<Self, StoreError> {
        Ok(Contact {
            phone: r
                .phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .map_err(|e| corrupt("users", e))?,
            preferences: match r.notification_preferences {
                Some(json) => serde_json::from_str(&json).map_err(|e| corrupt("users", e))?,
                None => NotificationPreferences::default(),
            },
            email: r.email,
        })
    }
}

/// Converts rows into records, failing on the first corrupt one.
pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}
