//! Workflow services: creating a workflow and reading it with its live SLA state; acting
//! on it (`actions`), its reminders (`reminders`), its page and explained clock (`page`),
//! and the cached counts per SLA status (`counts`).

mod actions;
mod counts;
mod outcomes;
mod page;
mod reminders;
mod story;

pub use actions::ActionRequest;
use counts::Cached;
pub use counts::{CountsCache, COUNTS_MAX_AGE, COUNTS_TTL};
pub use outcomes::Backfilled;
pub use page::{SlaExplanation, WorkflowPage};
pub use story::{story, Delivery, StoryLine};

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::{
    evaluate, terms_at, PolicyRef, Role, SlaState, Timeline as SlaTimeline, ValidationError, WorkflowState,
    WorkflowStatus,
};
use escalator_storage::{
    AuditEntry, AuditFilter, Hold, NewAudit, NewWorkflow, OutboxMessage, Reminder, ReminderFilter, StoreError,
    WorkflowFilter, WorkflowRecord,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Actor;
use crate::clock::truncate;
use crate::service::Rules;
use crate::{EngineError, EngineResult, Escalator};

/// What a source system sends to start watching a workflow.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkflow {
    /// The source system's id; unique.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub external_id: String,
    /// E.g. `purchase`, `leave`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 100,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub workflow_type: String,
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 500,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub title: String,
    /// The pending step, e.g. `Manager Approval`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub stage: String,
    /// A department key.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9_-]+$")
    )]
    pub department: String,
    /// E-mail of a user in the directory.
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 254))]
    pub initiator: String,
    /// E-mail of a user in the directory; non-admins assign within the department only.
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 254))]
    pub assignee: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub policy_id: i64,
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub chain_id: i64,
    /// When the stage really started (imports); defaults to now.
    pub started_at: Option<DateTime<Utc>>,
}

/// A workflow with its SLA state at the time it was read.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkflowView {
    #[serde(flatten)]
    pub workflow: WorkflowRecord,
    pub sla: SlaState,
}

/// How far back an imported start may lie.
const MAX_IMPORT_AGE_DAYS: i64 = 3660;

/// A number that spreads new workflows over round-robin groups before they have an id:
/// FNV-1a of the source system's id.
fn seed_of(external_id: &str) -> u64 {
    external_id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Adds how routing went to an audit entry's details, when it passed anyone over: the
/// person asked for, the people and levels passed, and a sentence for the timeline.
pub(crate) fn routing_details(
    details: &mut serde_json::Map<String, serde_json::Value>,
    requested: &str,
    routed: &escalator_domain::Assignment,
) {
    if routed.passed_over.is_empty() && routed.skipped.is_empty() {
        return;
    }
    details.insert("requested_assignee".into(), json!(requested));
    details.insert("level".into(), json!(routed.level));
    details.insert("passed_over".into(), json!(routed.passed_over));
    details.insert("skipped_levels".into(), json!(routed.skipped));
    if let Some(note) = escalator_domain::routing_note(&routed.passed_over, &routed.assignee) {
        details.insert("note".into(), json!(note));
    }
}

/// An optional note or reason: up to 2,000 characters; blank is none.
fn optional_text(field: &str, value: &Option<String>) -> Result<Option<String>, ValidationError> {
    if let Some(v) = value {
        escalator_domain::text::check(field, v)?;
    }
    match value.as_deref() {
        Some(v) if v.chars().count() > 2000 => Err(ValidationError::new(field, "must be at most 2000 characters")),
        Some(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
        _ => Ok(None),
    }
}

/// Client text: at most `max` characters as sent (so the API document's `maxLength`
/// holds), not blank, trimmed.
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    escalator_domain::text::check(field, value)?;
    let sent = value.chars().count();
    let value = value.trim();
    if value.is_empty() || sent > max {
        return Err(ValidationError::new(field, format!("must be 1-{max} characters")));
    }
    Ok(value.to_string())
}

impl Escalator {
    /// Starts watching a workflow. Validates every reference; a rejected input changes nothing.
    /// With an idempotency key, repeating a create returns the first result.
    pub async fn create_workflow(
        &self,
        input: &CreateWorkflow,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> EngineResult<Created> {
        if !matches!(actor.role, Role::Admin | Role::DepartmentHead) {
            return Err(EngineError::Forbidden(
                "only admins and department heads create workflows".into(),
            ));
        }
        if actor.role == Role::DepartmentHead && actor.department.as_deref() != Some(input.department.as_str()) {
            return Err(EngineError::Forbidden(
                "department heads create workflows of their own department only".into(),
            ));
        }
        if let Some(created) = self.replay(input.external_id.trim(), idempotency_key, actor).await? {
            return Ok(created);
        }
        let now = self.now();
        let external_id = text("external_id", &input.external_id, 200)?;
        let workflow_type = text("workflow_type", &input.workflow_type, 100)?;
        let title = text("title", &input.title, 500)?;
        let stage = text("stage", &input.stage, 200)?;
        let started_at = truncate(input.started_at.unwrap_or(now));
        if started_at > now {
            return Err(ValidationError::new("started_at", "must not be in the future").into());
        }
        if started_at < now - TimeDelta::days(MAX_IMPORT_AGE_DAYS) {
            return Err(ValidationError::new("started_at", "must be within the last ten years").into());
        }
        let store = &self.store;
        let department = store
            .department(&input.department)
            .await?
            .ok_or_else(|| ValidationError::new("department", format!("unknown department {:?}", input.department)))?;
        let initiator = store
            .user(&input.initiator.trim().to_lowercase())
            .await?
            .ok_or_else(|| ValidationError::new("initiator", "not a user in the directory"))?;
        let assignee = store
            .user(&input.assignee.trim().to_lowercase())
            .await?
            .ok_or_else(|| ValidationError::new("assignee", "not a user in the directory"))?;
        actor.may_assign(department.key.as_str(), &assignee)?;
        let policy = store
            .policy(input.policy_id)
            .await?
            .ok_or_else(|| ValidationError::new("policy_id", format!("unknown SLA policy {}", input.policy_id)))?;
        let chain = store
            .chain(input.chain_id)
            .await?
            .ok_or_else(|| ValidationError::new("chain_id", format!("unknown escalation chain {}", input.chain_id)))?;

        // The workflow goes to someone present: past absences, to a delegate or up the chain.
        let routed = self
            .route_assignment(
                &chain.chain,
                department.key.as_str(),
                assignee.email.as_str(),
                0,
                now,
                seed_of(&external_id),
            )
            .await?;
        let terms = terms_at(&policy.policy, &chain.chain, routed.level)
            .ok_or_else(|| ValidationError::new("policy_id", "policy has no terms"))?;
        let sla = evaluate(&terms, &SlaTimeline::started(started_at), now);
        let policy_ref = PolicyRef {
            id: policy.id,
            version: policy.version,
        };
        let new = NewWorkflow {
            external_id,
            workflow_type,
            title,
            department: department.key.to_string(),
            initiator: initiator.email.to_string(),
            chain_id: chain.id,
            state: WorkflowState::start(
                stage,
                routed.assignee.clone(),
                routed.level,
                policy_ref,
                started_at,
                &sla,
            ),
            idempotency_key: idempotency_key.map(str::to_string),
            now,
        };
        let audit = NewAudit {
            actor: actor.email.clone(),
            action: "create".into(),
            workflow_id: None,
            details: {
                let mut details = serde_json::Map::new();
                details.insert("external_id".into(), json!(new.external_id));
                details.insert("stage".into(), json!(new.state.stage));
                details.insert("assignee".into(), json!(new.state.assignee));
                details.insert("started_at".into(), json!(started_at));
                details.insert("due_at".into(), json!(sla.due_at));
                routing_details(&mut details, assignee.email.as_str(), &routed);
                serde_json::Value::Object(details)
            },
            at: now,
        };
        let workflow = match store.insert_workflow(&new, &audit).await {
            Ok(workflow) => workflow,
            Err(StoreError::Conflict(_)) => {
                // A retry that raced the first request with the same key: replay the winner.
                if let Some(created) = self.replay(&new.external_id, idempotency_key, actor).await? {
                    return Ok(created);
                }
                return Err(EngineError::Conflict(format!(
                    "a workflow with external_id {:?} exists",
                    new.external_id
                )));
            }
            Err(other) => return Err(other.into()),
        };
        self.rearm();
        Ok(Created {
            view: WorkflowView { workflow, sla },
            replayed: false,
        })
    }

    /// The workflow an earlier create with this idempotency key made, if any.
    /// Only for a caller who may see it: a key must not reveal another department's workflow.
    async fn replay(
        &self,
        external_id: &str,
        idempotency_key: Option<&str>,
        actor: &Actor,
    ) -> EngineResult<Option<Created>> {
        let Some(key) = idempotency_key else {
            return Ok(None);
        };
        match self.store.workflow_by_external_id(external_id).await? {
            Some(existing) if existing.idempotency_key.as_deref() == Some(key) && actor.can_view(&existing) => {
                Ok(Some(Created {
                    view: self.view(existing).await?,
                    replayed: true,
                }))
            }
            _ => Ok(None),
        }
    }

    /// A workflow with its SLA state now, if the actor may see it (else "not found",
    /// so that ids of other departments' workflows do not leak).
    pub async fn workflow(&self, id: i64, actor: &Actor) -> EngineResult<WorkflowView> {
        let workflow = self.visible(id, actor).await?;
        self.view(workflow).await
    }

    /// A workflow by its source system's type and id, if the actor may see it.
    pub async fn workflow_by_external_id(
        &self,
        workflow_type: &str,
        external_id: &str,
        actor: &Actor,
    ) -> EngineResult<WorkflowView> {
        let missing = || EngineError::not_found("workflow", format!("{workflow_type}/{external_id}"));
        let workflow = self
            .store
            .workflow_by_external_id(external_id.trim())
            .await?
            .filter(|w| w.workflow_type == workflow_type.trim() && actor.can_view(w))
            .ok_or_else(missing)?;
        self.view(workflow).await
    }

    async fn visible(&self, id: i64, actor: &Actor) -> EngineResult<WorkflowRecord> {
        self.store
            .workflow(id)
            .await?
            .filter(|w| actor.can_view(w))
            .ok_or_else(|| EngineError::not_found("workflow", id))
    }

    /// Adds the live SLA state to a stored workflow.
    pub async fn view(&self, workflow: WorkflowRecord) -> EngineResult<WorkflowView> {
        let sla = self.sla_of(&workflow, self.now()).await?;
        Ok(WorkflowView { workflow, sla })
    }

    /// Evaluates a workflow's current clock.
    pub(crate) async fn sla_of(&self, w: &WorkflowRecord, at: DateTime<Utc>) -> EngineResult<SlaState> {
        let holds = self.store.holds(&[w.id]).await?;
        self.clock_with(w, &holds, at).await
    }

    /// A workflow's clock at `at` with the given holds.
    async fn clock_with(&self, w: &WorkflowRecord, holds: &[Hold], at: DateTime<Utc>) -> EngineResult<SlaState> {
        clock_of(w, &self.kept(self.now()).await?.rules, holds, at)
    }

    /// A workflow, its SLA state and everything that happened to it.
    pub async fn workflow_with_timeline(&self, id: i64, actor: &Actor) -> EngineResult<(WorkflowView, Timeline)> {
        let view = self.workflow(id, actor).await?;
        Ok((view, self.timeline(id).await?))
    }

    /// Everything that happened to a workflow (the caller checked that it may be seen).
    async fn timeline(&self, id: i64) -> EngineResult<Timeline> {
        let audit = self
            .store
            .audit_entries(&AuditFilter {
                workflow_id: Some(id),
                limit: 1000,
                ..Default::default()
            })
            .await?;
        let reminders = self
            .store
            .reminders(&ReminderFilter {
                workflow_id: Some(id),
                limit: 1000,
                ..Default::default()
            })
            .await?;
        let notifications = self.store.workflow_outbox(id).await?;
        Ok(Timeline {
            audit,
            reminders,
            notifications,
        })
    }

    /// A page of the workflows the actor may see, in the filter's order.
    pub async fn workflows(&self, mut filter: WorkflowFilter, actor: &Actor) -> EngineResult<Vec<WorkflowView>> {
        filter.limit = filter.limit.clamp(0, 500);
        actor.scope(&mut filter);
        if filter.limit == 0 {
            return Ok(Vec::new());
        }
        let now = self.now();
        filter.now = Some(now);
        let records = self.store.workflows(&filter).await?;
        let rules = self.kept(now).await?.rules;
        let holds = self.holds_of(&records).await?;
        records
            .into_iter()
            .map(|workflow| {
                let sla = clock_of(&workflow, &rules, &holds, now)?;
                Ok(WorkflowView { workflow, sla })
            })
            .collect()
    }

    /// Open workflows per SLA status among those the actor may see, under the filter's
    /// department, assignee and policy. Counting reads every open workflow of the scope,
    /// so a count is reused: fresh for [`COUNTS_TTL`], then served while one background
    /// task recounts it (no page view waits for a recount), up to [`COUNTS_MAX_AGE`].
    pub async fn sla_counts(&self, mut filter: WorkflowFilter, actor: &Actor) -> EngineResult<Vec<(String, i64)>> {
        filter.limit = 1;
        actor.scope(&mut filter);
        if filter.limit == 0 {
            return Ok(Vec::new());
        }
        let key = (
            filter.department.clone(),
            filter.assignee.clone(),
            filter.or_assignee.clone(),
            filter.policy_id,
        );
        match self.counts.lookup(&key, std::time::Instant::now()) {
            Cached::Fresh(counts) => return Ok(counts),
            Cached::Stale { counts, refresh } => {
                if refresh {
                    let (store, cache, now) = (self.store.clone(), self.counts.clone(), self.now());
                    tokio::spawn(async move {
                        match store.sla_counts(&filter, now).await {
                            Ok(counts) => cache.put(key, counts, std::time::Instant::now()),
                            Err(err) => {
                                cache.refresh_failed(&key);
                                tracing::warn!(%err, "could not recount SLA statuses");
                            }
                        }
                    });
                }
                return Ok(counts);
            }
            Cached::Missing => {}
        }
        let counts = self.store.sla_counts(&filter, self.now()).await?;
        self.counts.put(key, counts.clone(), std::time::Instant::now());
        Ok(counts)
    }

    /// The holds of these workflows that may count for their clocks: none are read for
    /// workflows their read says have none at the current level.
    pub(crate) async fn holds_of<'a>(
        &self,
        records: impl IntoIterator<Item = &'a WorkflowRecord>,
    ) -> EngineResult<Vec<Hold>> {
        let ids: Vec<i64> = records
            .into_iter()
            .filter(|w| w.held_at_level != Some(false))
            .map(|w| w.id)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.holds(&ids).await?)
    }
}

/// A workflow's clock at its current level.
fn clock_of(w: &WorkflowRecord, rules: &Rules, holds: &[Hold], at: DateTime<Utc>) -> EngineResult<SlaState> {
    Ok(evaluate(&rules.terms(w)?, &timeline_of(w, holds), at))
}

/// A held workflow resumed at `now`: its open hold closed then, the paused time not
/// counted, back to the status it had before (a person's resume and a snooze's end alike).
pub(crate) fn resumed(w: &WorkflowRecord, rules: &Rules, holds: &[Hold], now: DateTime<Utc>) -> EngineResult<Resumed> {
    let mut holds: Vec<Hold> = holds.iter().filter(|h| h.workflow_id == w.id).cloned().collect();
    let open = holds.iter_mut().find(|h| h.resumed_at.is_none());
    let status = open.as_ref().map_or(WorkflowStatus::Pending, |h| h.resume_status);
    let paused_seconds = open.map(|h| {
        h.resumed_at = Some(now);
        (now - h.held_at).num_seconds()
    });
    let sla = clock_of(w, rules, &holds, now)?;
    Ok(Resumed {
        state: w.state.resume(status, &sla)?,
        paused_seconds,
        due_at: sla.due_at,
    })
}

/// What [`resumed`] decided.
pub(crate) struct Resumed {
    pub state: WorkflowState,
    pub paused_seconds: Option<i64>,
    pub due_at: DateTime<Utc>,
}

/// The clock of a workflow's current level: from the level's start, around its holds.
pub(crate) fn timeline_of(w: &WorkflowRecord, holds: &[Hold]) -> SlaTimeline {
    let start = w.state.level_started_at;
    let pauses = holds
        .iter()
        .filter(|h| h.workflow_id == w.id && h.resumed_at.is_none_or(|r| r > start))
        .map(|h| (h.held_at.max(start), h.resumed_at))
        .collect();
    SlaTimeline {
        started_at: start,
        pauses,
    }
}

/// The result of a create: the workflow, and whether an earlier request with the same
/// idempotency key had created it.
#[derive(Debug, Clone)]
pub struct Created {
    pub view: WorkflowView,
    pub replayed: bool,
}

/// Everything that happened to a workflow.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timeline {
    pub audit: Vec<AuditEntry>,
    pub reminders: Vec<Reminder>,
    pub notifications: Vec<OutboxMessage>,
}
