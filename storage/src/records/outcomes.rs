//! SLA outcomes (one per ended stage) and the aggregates reports read from them.

use chrono::{DateTime, NaiveDate, Utc};
use escalator_domain::{Outcome, OutcomeCounts, StageEnd};
use serde::{Deserialize, Serialize};

use super::corrupt;
use crate::StoreError;

/// How a stage's SLA ended, to be written with the change that ends the stage. The counts
/// of reminders and escalations are taken by the store in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutcome {
    pub workflow_id: i64,
    pub stage_seq: i64,
    pub stage: String,
    pub department: String,
    pub workflow_type: String,
    pub policy_id: i64,
    pub policy_version: i64,
    pub assignee: String,
    pub decided_by: String,
    pub ended_by: StageEnd,
    pub outcome: Outcome,
    pub level: u32,
    pub target_seconds: i64,
    pub used_seconds: i64,
    pub over_seconds: i64,
    pub held_seconds: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

/// A recorded SLA outcome.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaOutcome {
    pub id: i64,
    pub workflow_id: i64,
    pub stage_seq: i64,
    pub stage: String,
    pub department: String,
    pub workflow_type: String,
    pub policy_id: i64,
    pub policy_version: i64,
    /// Who held the stage when it ended.
    pub assignee: String,
    /// Who ended it.
    pub decided_by: String,
    pub ended_by: StageEnd,
    pub outcome: Outcome,
    /// The escalation level it ended at.
    pub level: i64,
    pub target_seconds: i64,
    /// Working time counted (holds excluded).
    pub used_seconds: i64,
    /// Working time beyond the target (zero when met).
    pub over_seconds: i64,
    pub held_seconds: i64,
    /// Wall-clock time from the stage's start to its end.
    pub duration_seconds: i64,
    pub reminders: i64,
    pub escalations: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// `live` (written by the transition) or `backfill` (rebuilt from the audit log).
    pub source: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutcomeRow {
    id: i64,
    workflow_id: i64,
    stage_seq: i64,
    stage: String,
    department_key: String,
    workflow_type: String,
    policy_id: i64,
    policy_version: i64,
    assignee_email: String,
    decided_by: String,
    ended_by: String,
    outcome: String,
    level: i64,
    target_seconds: i64,
    used_seconds: i64,
    over_seconds: i64,
    held_seconds: i64,
    duration_seconds: i64,
    reminders: i64,
    escalations: i64,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    source: String,
}

impl TryFrom<OutcomeRow> for SlaOutcome {
    type Error = StoreError;
    fn try_from(r: OutcomeRow) -> Result<Self, StoreError> {
        Ok(SlaOutcome {
            ended_by: StageEnd::parse(&r.ended_by)
                .ok_or_else(|| corrupt("sla_outcomes", format!("ended_by {:?}", r.ended_by)))?,
            outcome: Outcome::parse(&r.outcome)
                .ok_or_else(|| corrupt("sla_outcomes", format!("outcome {:?}", r.outcome)))?,
            id: r.id,
            workflow_id: r.workflow_id,
            stage_seq: r.stage_seq,
            stage: r.stage,
            department: r.department_key,
            workflow_type: r.workflow_type,
            policy_id: r.policy_id,
            policy_version: r.policy_version,
            assignee: r.assignee_email,
            decided_by: r.decided_by,
            level: r.level,
            target_seconds: r.target_seconds,
            used_seconds: r.used_seconds,
            over_seconds: r.over_seconds,
            held_seconds: r.held_seconds,
            duration_seconds: r.duration_seconds,
            reminders: r.reminders,
            escalations: r.escalations,
            started_at: r.started_at,
            ended_at: r.ended_at,
            source: r.source,
        })
    }
}

/// Which outcomes a report covers: ended in `[from, to)`, optionally of one department,
/// policy or workflow type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub department: Option<String>,
    pub policy_id: Option<i64>,
    pub workflow_type: Option<String>,
}

/// What a breakdown groups outcomes by.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Department,
    Policy,
    WorkflowType,
    Stage,
    Assignee,
}

impl Dimension {
    /// Every dimension, in the order reports show them.
    pub const ALL: [Dimension; 5] = [
        Dimension::Department,
        Dimension::Policy,
        Dimension::WorkflowType,
        Dimension::Stage,
        Dimension::Assignee,
    ];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Department => "department",
            Dimension::Policy => "policy",
            Dimension::WorkflowType => "workflow_type",
            Dimension::Stage => "stage",
            Dimension::Assignee => "assignee",
        }
    }
}

/// One day's outcomes (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCounts {
    pub day: NaiveDate,
    pub counts: OutcomeCounts,
}

/// One group of a breakdown (its key as text: a department, a policy id, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCounts {
    pub key: String,
    pub counts: OutcomeCounts,
}

/// The six sums every aggregate query selects (`crate::sql::ROLLUP_COUNTS`).
#[derive(sqlx::FromRow)]
pub(crate) struct SumsRow {
    met: i64,
    breached: i64,
    cancelled: i64,
    escalations: i64,
    reminders: i64,
    over_seconds: i64,
}

impl SumsRow {
    fn counts(&self) -> OutcomeCounts {
        OutcomeCounts {
            met: self.met,
            breached: self.breached,
            cancelled: self.cancelled,
            escalations: self.escalations,
            reminders: self.reminders,
            over_seconds: self.over_seconds,
        }
    }
}

/// The sums of one group (a day, …) named by `key`.
#[derive(sqlx::FromRow)]
pub(crate) struct CountsRow {
    pub key: String,
    #[sqlx(flatten)]
    sums: SumsRow,
}

/// The sums of one (department, policy, type, stage, assignee) over the filter's days.
#[derive(sqlx::FromRow)]
pub(crate) struct KeyedCountsRow {
    department_key: String,
    policy_id: String,
    workflow_type: String,
    stage: String,
    assignee_email: String,
    #[sqlx(flatten)]
    sums: SumsRow,
}

impl KeyedCountsRow {
    fn key(&self, by: Dimension) -> &str {
        match by {
            Dimension::Department => &self.department_key,
            Dimension::Policy => &self.policy_id,
            Dimension::WorkflowType => &self.workflow_type,
            Dimension::Stage => &self.stage,
            Dimension::Assignee => &self.assignee_email,
        }
    }
}

/// Every dimension's groups from one read of the sums by all five keys, each most breaches
/// first (then most met, then by key), at most `limit` groups.
pub(crate) fn top_groups(rows: &[KeyedCountsRow], limit: usize) -> Vec<(Dimension, Vec<GroupCounts>)> {
    Dimension::ALL
        .into_iter()
        .map(|by| {
            let mut sums: std::collections::HashMap<&str, OutcomeCounts> = std::collections::HashMap::new();
            for row in rows {
                let sum = sums.entry(row.key(by)).or_default();
                *sum = sum.plus(row.sums.counts());
            }
            let mut groups: Vec<GroupCounts> = sums
                .into_iter()
                .map(|(key, counts)| GroupCounts {
                    key: key.to_string(),
                    counts,
                })
                .collect();
            groups.sort_by(|a, b| {
                (b.counts.breached, b.counts.met)
                    .cmp(&(a.counts.breached, a.counts.met))
                    .then_with(|| a.key.cmp(&b.key))
            });
            groups.truncate(limit);
            (by, groups)
        })
        .collect()
}

impl CountsRow {
    pub(crate) fn counts(&self) -> OutcomeCounts {
        self.sums.counts()
    }
}
