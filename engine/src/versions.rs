//! Policy versions: open workflows keep the version they started with; an admin previews
//! a change's impact without changing anything, and applies the current version to open
//! workflows explicitly (audited).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use escalator_domain::{evaluate, terms_at, SlaStatus};
use escalator_storage::{Applied, NewAudit, WorkflowChange, WorkflowFilter, WorkflowRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Actor;
use crate::directory::PolicyInput;
use crate::workflows::timeline_of;
use crate::{EngineError, EngineResult, Escalator};

/// What a policy change does to one open workflow.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Impact {
    pub workflow_id: i64,
    pub external_id: String,
    pub old_status: SlaStatus,
    pub new_status: SlaStatus,
    pub old_due_at: DateTime<Utc>,
    pub new_due_at: DateTime<Utc>,
}

/// The impact of a proposed change, computed without changing anything.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preview {
    pub open_workflows: u64,
    /// Open workflows whose SLA status would be different now.
    pub status_changes: u64,
    /// Open workflows whose deadline would move (at most 500 listed).
    pub workflows: Vec<Impact>,
}

/// The result of applying a policy's current version to its open workflows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppliedVersion {
    pub version: i64,
    pub applied: u64,
}

const LISTED: usize = 500;

impl Escalator {
    async fn open_workflows_of(&self, policy_id: i64) -> EngineResult<Vec<WorkflowRecord>> {
        let mut all = Vec::new();
        let mut before_id = None;
        loop {
            let filter = WorkflowFilter {
                policy_id: Some(policy_id),
                open_only: true,
                before_id,
                limit: 500,
                ..Default::default()
            };
            let page = self.store.workflows(&filter).await?;
            let Some(last) = page.last() else { break };
            before_id = Some(last.id);
            let full = page.len() == 500;
            all.extend(page);
            if !full {
                break;
            }
        }
        Ok(all)
    }

    /// How many open workflows a proposed change of policy `id` would move, and how.
    pub async fn preview_policy(&self, id: i64, input: &PolicyInput, actor: &Actor) -> EngineResult<Preview> {
        actor.require_admin()?;
        self.store
            .policy(id)
            .await?
            .ok_or_else(|| EngineError::not_found("SLA policy", id))?;
        let mut proposed = self.validate_policy(input).await?;
        if let Some(calendar_id) = input.calendar_id {
            let calendar = self
                .store
                .calendar(calendar_id)
                .await?
                .ok_or_else(|| EngineError::not_found("calendar", calendar_id))?;
            proposed = proposed.with_calendar(Arc::new(calendar.calendar));
        }
        let rules = self.rules().await?;
        let open = self.open_workflows_of(id).await?;
        let ids: Vec<i64> = open.iter().map(|w| w.id).collect();
        let holds = self.store.holds(&ids).await?;
        let now = self.now();
        let mut preview = Preview {
            open_workflows: open.len() as u64,
            status_changes: 0,
            workflows: Vec::new(),
        };
        for w in &open {
            let timeline = timeline_of(w, &holds);
            let old = evaluate(&rules.terms(w)?, &timeline, now);
            let new_terms = terms_at(&proposed, rules.chain_of(w)?, w.state.level).unwrap_or_else(|| proposed.terms());
            let new = evaluate(&new_terms, &timeline, now);
            if old.status != new.status {
                preview.status_changes += 1;
            }
            if old.due_at != new.due_at && preview.workflows.len() < LISTED {
                preview.workflows.push(Impact {
                    workflow_id: w.id,
                    external_id: w.external_id.clone(),
                    old_status: old.status,
                    new_status: new.status,
                    old_due_at: old.due_at,
                    new_due_at: new.due_at,
                });
            }
        }
        Ok(preview)
    }

    /// Moves every open workflow of policy `id` to its current version (audited per workflow).
    pub async fn apply_policy(&self, id: i64, actor: &Actor) -> EngineResult<AppliedVersion> {
        actor.require_admin()?;
        let current = self
            .store
            .policy(id)
            .await?
            .ok_or_else(|| EngineError::not_found("SLA policy", id))?;
        let rules = self.rules().await?;
        let open: Vec<WorkflowRecord> = self
            .open_workflows_of(id)
            .await?
            .into_iter()
            .filter(|w| w.state.policy_version != current.version)
            .collect();
        let ids: Vec<i64> = open.iter().map(|w| w.id).collect();
        let holds = self.store.holds(&ids).await?;
        let now = self.now();
        let mut applied = 0;
        for w in open {
            let mut moved = w.clone();
            moved.state.policy_version = current.version;
            let sla = evaluate(&rules.terms(&moved)?, &timeline_of(&moved, &holds), now);
            let state = moved.state.reclocked(&sla);
            let change = WorkflowChange {
                workflow_id: w.id,
                expected_version: w.version,
                state,
                claim: None,
                reminder: None,
                hold: None,
                audit: vec![NewAudit {
                    actor: actor.email.clone(),
                    action: "policy_applied".into(),
                    workflow_id: Some(w.id),
                    details: json!({
                        "policy_id": id,
                        "from_version": w.state.policy_version,
                        "to_version": current.version,
                        "old_due_at": w.state.due_at,
                        "new_due_at": sla.due_at,
                    }),
                    at: now,
                }],
                outbox: Vec::new(),
                outcome: None,
                now,
            };
            if self.store.apply(std::slice::from_ref(&change)).await?.first() == Some(&Applied::Done) {
                applied += 1;
            }
        }
        self.rearm();
        Ok(AppliedVersion {
            version: current.version,
            applied,
        })
    }
}
