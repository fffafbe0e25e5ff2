//! Workflows, their changes (state, claim, reminder, hold, audit, outbox in one
//! transaction), holds, reminders and the audit log: records, filters and rows.

use super::*;

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
    /// Whether a hold counts for the current level's clock (open, or ended after the level
    /// began); `None` when the read that made this record did not look.
    #[serde(skip)]
    pub held_at_level: Option<bool>,
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
    /// Only open workflows overdue at the top of their chain (exhausted at their current
    /// stage and level): nobody further up can take them.
    pub needs_attention: bool,
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
    /// The SLA outcome of the stage this change ends (complete, advance, cancel).
    pub outcome: Option<crate::NewOutcome>,
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
    /// Open workflows overdue at the top of their chain (exhausted): they need attention.
    pub needs_attention: i64,
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
    #[sqlx(default)]
    held_at_level: Option<bool>,
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
            held_at_level: r.held_at_level,
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
