//! Workflow services: creating a workflow and reading it with its live SLA state.

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::{evaluate, terms_at, SlaState, Timeline, ValidationError, WorkflowStatus};
use escalator_storage::{NewAudit, NewWorkflow, StoreError, WorkflowRecord, WorkflowState};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::{now, truncate};
use crate::{EngineError, EngineResult, Escalator};

/// What a source system sends to start watching a workflow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateWorkflow {
    pub external_id: String,
    pub workflow_type: String,
    pub title: String,
    pub stage: String,
    pub department: String,
    pub initiator: String,
    pub assignee: String,
    pub policy_id: i64,
    pub chain_id: i64,
    /// When the stage really started (imports); defaults to now.
    pub started_at: Option<DateTime<Utc>>,
}

/// A workflow with its SLA state at the time it was read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkflowView {
    #[serde(flatten)]
    pub workflow: WorkflowRecord,
    pub sla: SlaState,
}

/// How far back an imported start may lie.
const MAX_IMPORT_AGE_DAYS: i64 = 3660;

fn text(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be 1-{max} characters"),
        ));
    }
    Ok(value.to_string())
}

impl Escalator {
    /// Starts watching a workflow. Validates every reference; a rejected input changes nothing.
    pub async fn create_workflow(
        &self,
        input: &CreateWorkflow,
        actor: &str,
    ) -> EngineResult<WorkflowView> {
        let now = now();
        let external_id = text("external_id", &input.external_id, 200)?;
        let workflow_type = text("workflow_type", &input.workflow_type, 100)?;
        let title = text("title", &input.title, 500)?;
        let stage = text("stage", &input.stage, 200)?;
        let started_at = truncate(input.started_at.unwrap_or(now));
        if started_at > now {
            return Err(ValidationError::new("started_at", "must not be in the future").into());
        }
        if started_at < now - TimeDelta::days(MAX_IMPORT_AGE_DAYS) {
            return Err(
                ValidationError::new("started_at", "must be within the last ten years").into(),
            );
        }
        let store = &self.store;
        let department = store.department(&input.department).await?.ok_or_else(|| {
            ValidationError::new(
                "department",
                format!("unknown department {:?}", input.department),
            )
        })?;
        let initiator = store
            .user(&input.initiator.trim().to_lowercase())
            .await?
            .ok_or_else(|| ValidationError::new("initiator", "not a user in the directory"))?;
        let assignee = store
            .user(&input.assignee.trim().to_lowercase())
            .await?
            .ok_or_else(|| ValidationError::new("assignee", "not a user in the directory"))?;
        let policy = store.policy(input.policy_id).await?.ok_or_else(|| {
            ValidationError::new(
                "policy_id",
                format!("unknown SLA policy {}", input.policy_id),
            )
        })?;
        let chain = store.chain(input.chain_id).await?.ok_or_else(|| {
            ValidationError::new(
                "chain_id",
                format!("unknown escalation chain {}", input.chain_id),
            )
        })?;

        let terms = terms_at(&policy.policy, &chain.chain, 0)
            .ok_or_else(|| ValidationError::new("policy_id", "policy has no terms"))?;
        let sla = evaluate(&terms, &Timeline::started(started_at), now);
        let new = NewWorkflow {
            external_id,
            workflow_type,
            title,
            department: department.key.to_string(),
            initiator: initiator.email.to_string(),
            chain_id: chain.id,
            state: WorkflowState {
                status: WorkflowStatus::Pending,
                stage,
                stage_seq: 1,
                assignee: assignee.email.to_string(),
                level: 0,
                policy_id: policy.id,
                stage_started_at: started_at,
                level_started_at: started_at,
                warn_at: sla.warn_at,
                due_at: sla.due_at,
                // The warning time, even if past: a workflow imported late is reminded
                // (or, if already breached, escalated) by the next tick.
                next_check_at: Some(sla.warn_at),
                closed_at: None,
            },
            now,
        };
        let audit = NewAudit {
            actor: actor.to_string(),
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
        let workflow = store
            .insert_workflow(&new, &audit)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => EngineError::Conflict(format!(
                    "a workflow with external_id {:?} exists",
                    new.external_id
                )),
                other => other.into(),
            })?;
        Ok(WorkflowView { workflow, sla })
    }

    /// A workflow with its SLA state now.
    pub async fn workflow(&self, id: i64) -> EngineResult<WorkflowView> {
        let workflow = self
            .store
            .workflow(id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow", id))?;
        self.view(workflow).await
    }

    /// Adds the live SLA state to a stored workflow.
    pub async fn view(&self, workflow: WorkflowRecord) -> EngineResult<WorkflowView> {
        let sla = self.sla_of(&workflow, now()).await?;
        Ok(WorkflowView { workflow, sla })
    }

    /// Evaluates a workflow's current clock.
    pub(crate) async fn sla_of(
        &self,
        w: &WorkflowRecord,
        at: DateTime<Utc>,
    ) -> EngineResult<SlaState> {
        let policy = self
            .store
            .policy(w.state.policy_id)
            .await?
            .ok_or_else(|| EngineError::not_found("policy", w.state.policy_id))?;
        let chain = self
            .store
            .chain(w.chain_id)
            .await?
            .ok_or_else(|| EngineError::not_found("chain", w.chain_id))?;
        let terms = terms_at(&policy.policy, &chain.chain, w.state.level)
            .unwrap_or_else(|| policy.policy.terms());
        Ok(evaluate(
            &terms,
            &Timeline::started(w.state.level_started_at),
            at,
        ))
    }
}
