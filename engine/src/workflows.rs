//! Workflow services: creating a workflow and reading it with its live SLA state.

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::{
    evaluate, explain, terms_at, Action, EventKind, PolicyRef, Role, Segment, SlaState, Timeline as SlaTimeline,
    ValidationError, WorkflowState, WorkflowStatus,
};
use escalator_storage::{
    Applied, AuditEntry, AuditFilter, Hold, HoldChange, NewAudit, NewWorkflow, OutboxMessage, Reminder, ReminderFilter,
    StoreError, WorkflowChange, WorkflowFilter, WorkflowRecord,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Actor;
use crate::clock::truncate;
use crate::events;
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

        let terms = terms_at(&policy.policy, &chain.chain, 0)
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
            state: WorkflowState::start(stage, assignee.email.to_string(), policy_ref, started_at, &sla),
            idempotency_key: idempotency_key.map(str::to_string),
            now,
        };
        let audit = NewAudit {
            actor: actor.email.clone(),
            action: "create".into(),
            workflow_id: None,
            details: json!({
                "external_id": new.external_id,
                "stage": new.state.stage,
                "assignee": new.state.assignee,
                "started_at": started_at,
                "due_at": sla.due_at,
            }),
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
        clock_of(w, &self.rules().await?, holds, at)
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
        let rules = self.rules().await?;
        let ids: Vec<i64> = records.iter().map(|w| w.id).collect();
        let holds = self.store.holds(&ids).await?;
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

    /// Completes, advances, reassigns or cancels a workflow, with its audit entry and event.
    pub async fn act(&self, id: i64, request: &ActionRequest, actor: &Actor) -> EngineResult<WorkflowView> {
        let action = request.action();
        // A concurrent change (a tick, another client) makes ours stale: decide again on the new version.
        for _ in 0..3 {
            let w = self.visible(id, actor).await?;
            if !actor.can_act(&w, action) {
                return Err(EngineError::Forbidden(format!(
                    "you may not {} this workflow",
                    action.name()
                )));
            }
            w.state.status.allows(action)?;
            let change = self.plan_action(&w, request, actor).await?;
            let notifies = !change.outbox.is_empty();
            if self.store.apply(std::slice::from_ref(&change)).await?.first() == Some(&Applied::Stale) {
                continue;
            }
            self.rearm();
            if notifies {
                self.request_delivery();
            }
            // The resulting state, also when the actor can no longer see the workflow (they
            // just handed it to someone else): what they did must be answered, not hidden.
            let after = self
                .store
                .workflow(id)
                .await?
                .ok_or_else(|| EngineError::not_found("workflow", id))?;
            return self.view(after).await;
        }
        Err(EngineError::Conflict(
            "the workflow changed while this request was applied; retry".into(),
        ))
    }

    async fn plan_action(
        &self,
        w: &WorkflowRecord,
        request: &ActionRequest,
        actor: &Actor,
    ) -> EngineResult<WorkflowChange> {
        let now = self.now();
        let mut details = serde_json::Map::new();
        let mut hold = None;
        let (state, kind) = match request {
            ActionRequest::Complete { note } => {
                let note = optional_text("note", note)?;
                if let Some(note) = &note {
                    details.insert("note".into(), json!(note));
                }
                (w.state.complete(now)?, EventKind::Completed { note })
            }
            ActionRequest::Cancel { reason } => {
                let reason = optional_text("reason", reason)?;
                if let Some(reason) = &reason {
                    details.insert("reason".into(), json!(reason));
                }
                (w.state.cancel(now)?, EventKind::Cancelled { reason })
            }
            ActionRequest::Advance {
                stage,
                policy_id,
                assignee,
            } => {
                let stage = text("stage", stage, 200)?;
                let policy_id = match policy_id.filter(|p| *p != w.state.policy_id) {
                    Some(other) => {
                        actor.may_change_policy(w)?;
                        other
                    }
                    None => w.state.policy_id,
                };
                let assignee = match assignee {
                    Some(assignee) => Some(self.assignable(w, assignee, actor).await?),
                    None => None,
                };
                let policy = self
                    .store
                    .policy(policy_id)
                    .await?
                    .ok_or_else(|| ValidationError::new("policy_id", format!("unknown SLA policy {policy_id}")))?;
                let sla = evaluate(&policy.policy.terms(), &SlaTimeline::started(now), now);
                let policy = PolicyRef {
                    id: policy.id,
                    version: policy.version,
                };
                let state = w.state.advance(stage, assignee, policy, &sla, now)?;
                details.insert("from_stage".into(), json!(w.state.stage));
                details.insert("to_stage".into(), json!(state.stage));
                details.insert("due_at".into(), json!(sla.due_at));
                let kind = EventKind::Advanced {
                    from_stage: w.state.stage.clone(),
                    from_assignee: w.state.assignee.clone(),
                };
                (state, kind)
            }
            ActionRequest::Hold { reason } => {
                let reason = text("reason", reason, 500)?;
                let state = w.state.hold()?;
                hold = Some(HoldChange::Open {
                    reason: reason.clone(),
                    by: actor.email.clone(),
                    resume_status: w.state.status,
                });
                details.insert("reason".into(), json!(reason));
                (state, EventKind::Held { reason })
            }
            ActionRequest::Resume => {
                let mut holds = self.store.holds(&[w.id]).await?;
                let open = holds.iter_mut().find(|h| h.resumed_at.is_none());
                let resume_status = open.as_ref().map_or(WorkflowStatus::Pending, |h| h.resume_status);
                let mut paused_seconds = None;
                if let Some(open) = open {
                    open.resumed_at = Some(now);
                    paused_seconds = Some((now - open.held_at).num_seconds());
                    details.insert("paused_seconds".into(), json!(paused_seconds));
                }
                let sla = self.clock_with(w, &holds, now).await?;
                let state = w.state.resume(resume_status, &sla)?;
                hold = Some(HoldChange::Close);
                details.insert("due_at".into(), json!(sla.due_at));
                (state, EventKind::Resumed { paused_seconds })
            }
            ActionRequest::Reassign { assignee, reason } => {
                let assignee = self.assignable(w, assignee, actor).await?;
                let reason = optional_text("reason", reason)?;
                if let Some(reason) = &reason {
                    details.insert("reason".into(), json!(reason));
                }
                let kind = EventKind::Reassigned {
                    from_assignee: w.state.assignee.clone(),
                    reason,
                };
                (w.state.reassign(assignee)?, kind)
            }
        };
        let action = request.action().name();
        details.insert("from_assignee".into(), json!(w.state.assignee));
        details.insert("to_assignee".into(), json!(state.assignee));
        details.insert("status".into(), json!(state.status.as_str()));
        let event = events::event(w, &state, &actor.email, now, kind);
        let outbox = events::rows(&event, &format!("{action}:{}:{}", w.id, w.version))
            .map_err(|e| EngineError::Internal(format!("event: {e}")))?;
        Ok(WorkflowChange {
            workflow_id: w.id,
            expected_version: w.version,
            state,
            claim: None,
            reminder: None,
            hold,
            audit: vec![NewAudit {
                actor: actor.email.clone(),
                action: action.into(),
                workflow_id: Some(w.id),
                details: serde_json::Value::Object(details),
                at: now,
            }],
            outbox,
            now,
        })
    }

    /// Validates a new assignee: in the directory, and one the actor may assign
    /// ([`Actor::may_assign`]).
    async fn assignable(&self, w: &WorkflowRecord, raw: &str, actor: &Actor) -> EngineResult<String> {
        let email = raw.trim().to_lowercase();
        let user = self
            .store
            .user(&email)
            .await?
            .ok_or_else(|| ValidationError::new("assignee", format!("{email} is not a user in the directory")))?;
        actor.may_assign(&w.department, &user)?;
        Ok(user.email.to_string())
    }

    /// The reminders the actor may see: admins anyone's (optionally filtered), department
    /// heads those of their department's workflows, everyone else their own.
    pub async fn reminders(&self, mut filter: ReminderFilter, actor: &Actor) -> EngineResult<Vec<Reminder>> {
        match actor.role {
            Role::Admin => {}
            Role::DepartmentHead => filter.department = Some(actor.department.clone().unwrap_or_default()),
            Role::Approver | Role::Viewer => filter.assignee = Some(actor.email.clone()),
        }
        filter.limit = filter.limit.clamp(1, 500);
        Ok(self.store.reminders(&filter).await?)
    }

    /// [`Escalator::reminders`], each with its workflow's title (read once per workflow).
    pub async fn reminders_titled(
        &self,
        filter: ReminderFilter,
        actor: &Actor,
    ) -> EngineResult<Vec<(Reminder, String)>> {
        let reminders = self.reminders(filter, actor).await?;
        let mut titles: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        let mut rows = Vec::with_capacity(reminders.len());
        for r in reminders {
            let title = match titles.get(&r.workflow_id) {
                Some(title) => title.clone(),
                None => {
                    let title = self
                        .store
                        .workflow(r.workflow_id)
                        .await?
                        .map(|w| w.title)
                        .unwrap_or_default();
                    titles.insert(r.workflow_id, title.clone());
                    title
                }
            };
            rows.push((r, title));
        }
        Ok(rows)
    }

    /// Acknowledges a reminder: the assignee's own, any of their department's for a
    /// department head, any for admins. Repeating it is harmless.
    pub async fn acknowledge_reminder(&self, id: i64, actor: &Actor) -> EngineResult<Reminder> {
        let missing = || EngineError::not_found("reminder", id);
        let reminder = self.store.reminder(id).await?.ok_or_else(missing)?;
        let allowed = match actor.role {
            Role::Admin => true,
            _ if reminder.assignee == actor.email => true,
            Role::DepartmentHead => self
                .store
                .workflow(reminder.workflow_id)
                .await?
                .is_some_and(|w| actor.department.as_deref() == Some(w.department.as_str())),
            Role::Approver | Role::Viewer => false,
        };
        if !allowed {
            return Err(missing());
        }
        let audit = NewAudit {
            actor: actor.email.clone(),
            action: "reminder_acknowledged".into(),
            workflow_id: Some(reminder.workflow_id),
            details: json!({ "reminder_id": id, "level": reminder.level, "stage_seq": reminder.stage_seq }),
            at: self.now(),
        };
        self.store
            .acknowledge_reminder(id, &actor.email, &audit)
            .await?
            .ok_or_else(|| EngineError::not_found("reminder", id))
    }
}

/// How long a count of open workflows per SLA status is served without a recount.
pub const COUNTS_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// The oldest count served while a recount runs; older ones are recounted inline, so a
/// scope viewed now and then still shows current counts, and only busy scopes (where a
/// view waiting for a recount would hurt) see counts up to this old.
pub const COUNTS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(15);

/// A counting scope: department, assignee, `or_assignee` and policy of the filter.
type CountsKey = (Option<String>, Option<String>, Option<String>, Option<i64>);

#[derive(Debug)]
struct Counted {
    at: std::time::Instant,
    counts: Vec<(String, i64)>,
    refreshing: bool,
}

/// What the cache holds for a scope.
enum Cached {
    Fresh(Vec<(String, i64)>),
    /// Served as is; `refresh` is true for the one caller that should recount.
    Stale {
        counts: Vec<(String, i64)>,
        refresh: bool,
    },
    Missing,
}

/// Recent SLA counts per (department, assignee, policy) scope.
#[derive(Debug, Default)]
pub struct CountsCache(std::sync::Mutex<std::collections::HashMap<CountsKey, Counted>>);

impl CountsCache {
    fn lookup(&self, key: &CountsKey, now: std::time::Instant) -> Cached {
        let Ok(mut map) = self.0.lock() else {
            return Cached::Missing;
        };
        let Some(entry) = map.get_mut(key) else {
            return Cached::Missing;
        };
        let age = now.saturating_duration_since(entry.at);
        if age < COUNTS_TTL {
            Cached::Fresh(entry.counts.clone())
        } else if age < COUNTS_MAX_AGE {
            let refresh = !entry.refreshing;
            entry.refreshing = true;
            Cached::Stale {
                counts: entry.counts.clone(),
                refresh,
            }
        } else {
            Cached::Missing
        }
    }

    fn put(&self, key: CountsKey, counts: Vec<(String, i64)>, now: std::time::Instant) {
        if let Ok(mut map) = self.0.lock() {
            // Scopes are departments and people: bounded, but never let it grow unchecked.
            if map.len() >= 10_000 {
                map.retain(|_, c| now.saturating_duration_since(c.at) < COUNTS_MAX_AGE);
            }
            map.insert(
                key,
                Counted {
                    at: now,
                    counts,
                    refreshing: false,
                },
            );
        }
    }

    /// Lets the next caller try again after a failed background recount.
    fn refresh_failed(&self, key: &CountsKey) {
        if let Ok(mut map) = self.0.lock() {
            if let Some(entry) = map.get_mut(key) {
                entry.refreshing = false;
            }
        }
    }
}

/// A workflow's clock at its current level.
fn clock_of(w: &WorkflowRecord, rules: &Rules, holds: &[Hold], at: DateTime<Utc>) -> EngineResult<SlaState> {
    Ok(evaluate(&rules.terms(w)?, &timeline_of(w, holds), at))
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

/// An action on a workflow, as clients send it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionRequest {
    Complete {
        note: Option<String>,
    },
    Advance {
        stage: String,
        policy_id: Option<i64>,
        assignee: Option<String>,
    },
    Reassign {
        assignee: String,
        reason: Option<String>,
    },
    Cancel {
        reason: Option<String>,
    },
    Hold {
        reason: String,
    },
    Resume,
}

impl ActionRequest {
    /// The domain action this request performs.
    pub fn action(&self) -> Action {
        match self {
            ActionRequest::Complete { .. } => Action::Complete,
            ActionRequest::Advance { .. } => Action::Advance,
            ActionRequest::Reassign { .. } => Action::Reassign,
            ActionRequest::Cancel { .. } => Action::Cancel,
            ActionRequest::Hold { .. } => Action::Hold,
            ActionRequest::Resume => Action::Resume,
        }
    }
}

/// Why a workflow is due when it is: its clock and the intervals behind the deadline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlaExplanation {
    pub workflow_id: i64,
    pub level: u32,
    pub policy_id: i64,
    /// The version of the policy the clock runs under.
    pub policy_version: i64,
    /// The policy's calendar; none: 24/7.
    pub calendar_id: Option<i64>,
    pub time_zone: String,
    pub sla: SlaState,
    /// From the start of the current level to the deadline (or now, if later): counted,
    /// outside working hours, holiday or paused.
    pub segments: Vec<Segment>,
}

/// Everything a workflow's page shows: its clock and why, its chain, its timeline.
#[derive(Debug, Clone)]
pub struct WorkflowPage {
    pub view: WorkflowView,
    pub explanation: SlaExplanation,
    pub timeline: Timeline,
    /// The workflow's escalation chain (levels in order).
    pub chain: escalator_domain::EscalationChain,
    /// The name of the SLA policy version it runs under.
    pub policy_name: String,
}

impl Escalator {
    /// The SLA clock of a workflow with the timeline that explains its deadline.
    pub async fn explain_sla(&self, id: i64, actor: &Actor) -> EngineResult<SlaExplanation> {
        let w = self.visible(id, actor).await?;
        let rules = self.rules().await?;
        let holds = self.store.holds(&[w.id]).await?;
        self.explanation_of(&w, &rules, &holds, self.now()).await
    }

    async fn explanation_of(
        &self,
        w: &WorkflowRecord,
        rules: &Rules,
        holds: &[Hold],
        now: DateTime<Utc>,
    ) -> EngineResult<SlaExplanation> {
        let terms = rules.terms(w)?;
        let policy = self
            .store
            .policy(w.state.policy_id)
            .await?
            .ok_or_else(|| EngineError::not_found("SLA policy", w.state.policy_id))?;
        let timeline = timeline_of(w, holds);
        Ok(SlaExplanation {
            workflow_id: w.id,
            level: w.state.level,
            policy_id: policy.id,
            policy_version: w.state.policy_version,
            calendar_id: policy.calendar_id,
            time_zone: terms.calendar.time_zone().name().to_string(),
            sla: evaluate(&terms, &timeline, now),
            segments: explain(&terms, &timeline, now),
        })
    }

    /// A workflow's page, if the actor may see it: rules, holds and the workflow read once.
    pub async fn workflow_page(&self, id: i64, actor: &Actor) -> EngineResult<WorkflowPage> {
        let w = self.visible(id, actor).await?;
        let rules = self.rules().await?;
        let holds = self.store.holds(&[w.id]).await?;
        let now = self.now();
        let explanation = self.explanation_of(&w, &rules, &holds, now).await?;
        let chain = rules.chain_of(&w)?.clone();
        let policy_name = rules.policy_of(&w)?.name.clone();
        let timeline = self.timeline(id).await?;
        let view = WorkflowView {
            sla: explanation.sla,
            workflow: w,
        };
        Ok(WorkflowPage {
            view,
            explanation,
            timeline,
            chain,
            policy_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn counts(n: i64) -> Vec<(String, i64)> {
        vec![("ok".to_string(), n)]
    }

    #[test]
    fn counts_are_fresh_then_served_stale_to_all_but_one_recounter_then_dropped() {
        let cache = CountsCache::default();
        let key: CountsKey = (Some("finance".into()), None, None, None);
        let t0 = Instant::now();
        assert!(matches!(cache.lookup(&key, t0), Cached::Missing));

        cache.put(key.clone(), counts(1), t0);
        assert!(matches!(cache.lookup(&key, t0 + COUNTS_TTL / 2), Cached::Fresh(c) if c == counts(1)));

        // Once stale, the first caller recounts; the others get the old counts without waiting.
        let stale = t0 + COUNTS_TTL + Duration::from_millis(1);
        assert!(matches!(cache.lookup(&key, stale), Cached::Stale { refresh: true, counts: c } if c == counts(1)));
        assert!(matches!(
            cache.lookup(&key, stale),
            Cached::Stale { refresh: false, .. }
        ));

        // A failed recount lets the next caller try again.
        cache.refresh_failed(&key);
        assert!(matches!(cache.lookup(&key, stale), Cached::Stale { refresh: true, .. }));

        // The recount lands: fresh again.
        cache.put(key.clone(), counts(2), stale);
        assert!(matches!(cache.lookup(&key, stale), Cached::Fresh(c) if c == counts(2)));

        // Too old to serve at all: recounted inline.
        assert!(matches!(cache.lookup(&key, stale + COUNTS_MAX_AGE), Cached::Missing));

        // Scopes are separate.
        assert!(matches!(
            cache.lookup(&(None, None, None, None), stale),
            Cached::Missing
        ));
    }
}
