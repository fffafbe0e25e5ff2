//! SLA policies (and their versions), business calendars and escalation chains: records
//! and their rows.

use super::*;

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
    ack_timeout_seconds: Option<i64>,
    exhausted_repeat_seconds: Option<i64>,
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
    follow_up: [Option<i64>; 3],
) -> Result<SlaPolicy, StoreError> {
    let [reminder_repeat_seconds, ack_timeout_seconds, exhausted_repeat_seconds] = follow_up;
    let warning = match warning_kind {
        "before_deadline" => WarningWindow::BeforeDeadline { seconds: warning_value },
        "elapsed_percent" => WarningWindow::ElapsedPercent {
            percent: u8::try_from(warning_value).map_err(|e| corrupt("sla_policies", e))?,
        },
        other => return Err(corrupt("sla_policies", format!("warning_kind {other:?}"))),
    };
    let policy = SlaPolicy::new(name, target_seconds, warning)
        .and_then(|p| p.with_reminder_repeat(reminder_repeat_seconds))
        .and_then(|p| p.with_acknowledgement_timeout(ack_timeout_seconds))
        .and_then(|p| p.with_exhausted_repeat(exhausted_repeat_seconds))
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
                [
                    r.reminder_repeat_seconds,
                    r.ack_timeout_seconds,
                    r.exhausted_repeat_seconds,
                ],
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
    ack_timeout_seconds: Option<i64>,
    exhausted_repeat_seconds: Option<i64>,
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
                [
                    r.reminder_repeat_seconds,
                    r.ack_timeout_seconds,
                    r.exhausted_repeat_seconds,
                ],
            )?,
        })
    }
}
