//! Acting on a workflow: a person's request becomes one transition of the domain's state
//! machine, with its audit entry and its event, applied as a version-checked change.

use chrono::{DateTime, Utc};
use escalator_domain::{
    evaluate, terms_at, Action, EventKind, PolicyRef, StageEnd, Timeline as SlaTimeline, ValidationError,
};
use escalator_storage::{Applied, HoldChange, NewAudit, WorkflowChange, WorkflowRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::outcomes::EndedStage;
use super::{optional_text, resumed, routing_details, text, WorkflowView};
use crate::access::Actor;
use crate::events;
use crate::{EngineError, EngineResult, Escalator};

impl Escalator {
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
            if let Some(o) = change.outcome.as_ref().filter(|o| o.ended_by.is_decision()) {
                self.metrics
                    .record_outcome(o.outcome.as_str(), &o.department, o.policy_id);
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
                let requested = match assignee {
                    Some(assignee) => self.assignable(w, assignee, actor).await?,
                    None => w.state.assignee.clone(),
                };
                let policy = self
                    .store
                    .policy(policy_id)
                    .await?
                    .ok_or_else(|| ValidationError::new("policy_id", format!("unknown SLA policy {policy_id}")))?;
                let chain = self
                    .store
                    .chain(w.chain_id)
                    .await?
                    .ok_or_else(|| EngineError::not_found("escalation chain", w.chain_id))?;
                // The next stage goes to someone present: past absences, as at create.
                let routed = self
                    .route_assignment(
                        &chain.chain,
                        &w.department,
                        &requested,
                        0,
                        now,
                        u64::try_from(w.id).unwrap_or_default(),
                    )
                    .await?;
                let terms =
                    terms_at(&policy.policy, &chain.chain, routed.level).unwrap_or_else(|| policy.policy.terms());
                let sla = evaluate(&terms, &SlaTimeline::started(now), now);
                let policy = PolicyRef {
                    id: policy.id,
                    version: policy.version,
                };
                let state = w
                    .state
                    .advance(stage, routed.assignee.clone(), routed.level, policy, &sla, now)?;
                details.insert("from_stage".into(), json!(w.state.stage));
                details.insert("to_stage".into(), json!(state.stage));
                details.insert("to_policy_id".into(), json!(state.policy_id));
                details.insert("due_at".into(), json!(sla.due_at));
                routing_details(&mut details, &requested, &routed);
                let kind = EventKind::Advanced {
                    from_stage: w.state.stage.clone(),
                    from_assignee: w.state.assignee.clone(),
                };
                (state, kind)
            }
            ActionRequest::Hold { reason, until } => {
                let reason = text("reason", reason, 500)?;
                if let Some(until) = until {
                    snooze_end(*until, now)?;
                    details.insert("until".into(), json!(until));
                }
                let state = w.state.hold(*until)?;
                hold = Some(HoldChange::Open {
                    reason: reason.clone(),
                    by: actor.email.clone(),
                    resume_status: w.state.status,
                });
                details.insert("reason".into(), json!(reason));
                (state, EventKind::Held { reason, until: *until })
            }
            ActionRequest::Resume => {
                let holds = self.store.holds(&[w.id]).await?;
                let resumed = resumed(w, &self.kept(now).await?.rules, &holds, now)?;
                hold = Some(HoldChange::Close);
                if let Some(paused) = resumed.paused_seconds {
                    details.insert("paused_seconds".into(), json!(paused));
                }
                details.insert("due_at".into(), json!(resumed.due_at));
                let kind = EventKind::Resumed {
                    paused_seconds: resumed.paused_seconds,
                };
                (resumed.state, kind)
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
        // A held workflow that leaves the hold other than by resuming (advanced, completed
        // or cancelled) ends its hold too: an open hold left behind would count against
        // its clock and make the next hold collide with it.
        if hold.is_none()
            && w.state.status == escalator_domain::WorkflowStatus::OnHold
            && state.status != escalator_domain::WorkflowStatus::OnHold
        {
            hold = Some(HoldChange::Close);
        }
        let action = request.action().name();
        let ended = match request {
            ActionRequest::Complete { .. } => Some(StageEnd::Completed),
            ActionRequest::Advance { .. } => Some(StageEnd::Advanced),
            ActionRequest::Cancel { .. } => Some(StageEnd::Cancelled),
            _ => None,
        };
        // The stage's SLA outcome, written with the transition that ends it.
        let outcome = match ended {
            Some(end) => {
                let holds = self.store.holds(&[w.id]).await?;
                let outcome =
                    EndedStage::current(w).judge(&self.kept(now).await?.rules, &holds, end, &actor.email, now)?;
                details.insert("sla".into(), json!(outcome.outcome.as_str()));
                details.insert("policy_id".into(), json!(outcome.policy_id));
                details.insert("policy_version".into(), json!(outcome.policy_version));
                Some(outcome)
            }
            None => None,
        };
        details.insert("from_assignee".into(), json!(w.state.assignee));
        details.insert("to_assignee".into(), json!(state.assignee));
        details.insert("status".into(), json!(state.status.as_str()));
        if let Some(via) = actor.via {
            details.insert("via".into(), json!(via));
        }
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
            outcome,
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
        /// When the engine resumes it by itself (a snooze); held until someone resumes it when absent.
        until: Option<DateTime<Utc>>,
    },
    Resume,
}

/// The longest snooze: a hold meant for longer has no end.
pub const MAX_SNOOZE_DAYS: i64 = 90;

/// Checks the end of a snooze: later than now, and at most [`MAX_SNOOZE_DAYS`] ahead.
fn snooze_end(until: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ValidationError> {
    if until <= now {
        return Err(ValidationError::new("until", "the end of a hold must be in the future"));
    }
    if until - now > chrono::TimeDelta::days(MAX_SNOOZE_DAYS) {
        return Err(ValidationError::new(
            "until",
            format!("a hold with an end lasts at most {MAX_SNOOZE_DAYS} days; leave `until` out for an open-ended one"),
        ));
    }
    Ok(())
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
