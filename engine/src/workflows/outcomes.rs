//! SLA outcomes: judged when a stage ends (complete, advance, cancel) and written with
//! that transition; and rebuilt from the audit log for stages that ended before outcomes
//! were recorded (`escalator outcomes backfill`).

use chrono::{DateTime, Utc};
use escalator_domain::{judge, StageEnd, Timeline as SlaTimeline};
use escalator_storage::{AuditEntry, AuditFilter, Hold, NewOutcome, WorkflowFilter, WorkflowOrder, WorkflowRecord};
use serde::Serialize;

use crate::access::Actor;
use crate::service::Rules;
use crate::{EngineResult, Escalator};

/// What ends a stage, as the audit log names it.
fn stage_end(action: &str) -> Option<StageEnd> {
    match action {
        "complete" => Some(StageEnd::Completed),
        "advance" => Some(StageEnd::Advanced),
        "cancel" => Some(StageEnd::Cancelled),
        _ => None,
    }
}

/// One stage of a workflow as it stood when it ended: what judging it needs.
#[derive(Debug, Clone)]
pub(crate) struct EndedStage<'a> {
    pub workflow: &'a WorkflowRecord,
    pub stage_seq: i64,
    pub stage: String,
    pub started_at: DateTime<Utc>,
    pub assignee: String,
    pub level: u32,
    pub policy_id: i64,
    pub policy_version: i64,
}

impl<'a> EndedStage<'a> {
    /// The workflow's current stage, about to end.
    pub fn current(w: &'a WorkflowRecord) -> Self {
        Self {
            workflow: w,
            stage_seq: w.state.stage_seq,
            stage: w.state.stage.clone(),
            started_at: w.state.stage_started_at,
            assignee: w.state.assignee.clone(),
            level: w.state.level,
            policy_id: w.state.policy_id,
            policy_version: w.state.policy_version,
        }
    }

    /// Judges the stage ended at `now` by `by`: on its policy version's own terms (the
    /// promise of the stage, whatever the escalation levels allowed), from the stage's
    /// start, around the workflow's holds.
    pub fn judge(
        &self,
        rules: &Rules,
        holds: &[Hold],
        end: StageEnd,
        by: &str,
        now: DateTime<Utc>,
    ) -> EngineResult<NewOutcome> {
        let key = (self.policy_id, self.policy_version);
        let policy = rules
            .policies
            .get(&key)
            .ok_or_else(|| crate::EngineError::not_found("SLA policy version", format!("{} v{}", key.0, key.1)))?;
        let pauses = holds
            .iter()
            .filter(|h| h.workflow_id == self.workflow.id && h.held_at < now)
            .filter(|h| h.resumed_at.is_none_or(|r| r > self.started_at))
            .map(|h| (h.held_at.max(self.started_at), h.resumed_at.map(|r| r.min(now))))
            .collect();
        let timeline = SlaTimeline {
            started_at: self.started_at,
            pauses,
        };
        let judged = judge(&policy.terms(), &timeline, now);
        Ok(NewOutcome {
            workflow_id: self.workflow.id,
            stage_seq: self.stage_seq,
            stage: self.stage.clone(),
            department: self.workflow.department.clone(),
            workflow_type: self.workflow.workflow_type.clone(),
            policy_id: self.policy_id,
            policy_version: self.policy_version,
            assignee: self.assignee.clone(),
            decided_by: by.to_string(),
            ended_by: end,
            outcome: judged.outcome,
            level: self.level,
            target_seconds: judged.target.num_seconds(),
            used_seconds: judged.used.num_seconds(),
            over_seconds: judged.over.num_seconds(),
            held_seconds: judged.held.num_seconds(),
            started_at: self.started_at,
            ended_at: now,
        })
    }
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Backfilled {
    /// Workflows whose audit log was read.
    pub workflows: u64,
    /// Ended stages found in those logs.
    pub stages: u64,
    /// Outcomes written (stages that had none).
    pub written: u64,
}

impl Escalator {
    /// Rebuilds the SLA outcomes of stages that ended before outcomes were recorded, from
    /// the audit log (admins; the CLI acts as the system). Stages that have an outcome keep
    /// it, so running it twice writes nothing the second time.
    pub async fn backfill_outcomes(&self, actor: &Actor) -> EngineResult<Backfilled> {
        actor.require_admin()?;
        let rules = self.kept(self.now()).await?.rules;
        let mut done = Backfilled::default();
        let mut before_id = None;
        loop {
            let page = self
                .store
                .workflows(&WorkflowFilter {
                    before_id,
                    order: WorkflowOrder::Newest,
                    limit: 200,
                    ..WorkflowFilter::default()
                })
                .await?;
            let Some(last) = page.last() else { break };
            before_id = Some(last.id);
            let ids: Vec<i64> = page.iter().map(|w| w.id).collect();
            let holds = self.store.holds(&ids).await?;
            let mut rows = Vec::new();
            for w in &page {
                let audit = self
                    .store
                    .audit_entries(&AuditFilter {
                        workflow_id: Some(w.id),
                        limit: 10_000,
                        ..AuditFilter::default()
                    })
                    .await?;
                done.workflows += 1;
                let ended = replay(w, &audit, &rules, &holds)?;
                done.stages += ended.len() as u64;
                rows.extend(ended);
            }
            done.written += self.store.backfill_outcomes(&rows).await?;
        }
        Ok(done)
    }
}

/// The ended stages of one workflow, replayed from its audit log: a stage starts at the
/// create (or at the advance that ended the one before), follows its escalations and
/// policy applications, and ends at a complete, advance or cancel.
fn replay(w: &WorkflowRecord, audit: &[AuditEntry], rules: &Rules, holds: &[Hold]) -> EngineResult<Vec<NewOutcome>> {
    let mut entries: Vec<&AuditEntry> = audit.iter().collect();
    entries.sort_by_key(|a| a.id);
    // The policy version in force at an instant: the one a later application moved away
    // from, else the workflow's current one.
    let version_at = |at: DateTime<Utc>| {
        entries
            .iter()
            .find(|a| a.action == "policy_applied" && a.at > at)
            .and_then(|a| a.details["from_version"].as_i64())
            .unwrap_or(w.state.policy_version)
    };
    let mut outcomes = Vec::new();
    let mut stage: Option<EndedStage<'_>> = None;
    for a in entries.iter().copied() {
        let details = &a.details;
        let level = details["to_level"]
            .as_u64()
            .or_else(|| details["level"].as_u64())
            .and_then(|l| u32::try_from(l).ok());
        match a.action.as_str() {
            "create" => {
                stage = Some(EndedStage {
                    workflow: w,
                    stage_seq: 1,
                    stage: details["stage"].as_str().unwrap_or(&w.state.stage).to_string(),
                    started_at: details["started_at"]
                        .as_str()
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        .map_or(w.created_at, |t| t.with_timezone(&Utc)),
                    assignee: details["assignee"].as_str().unwrap_or(&w.state.assignee).to_string(),
                    level: level.unwrap_or(0),
                    policy_id: w.state.policy_id,
                    policy_version: 0,
                });
            }
            action => {
                let Some(current) = stage.as_mut() else { continue };
                let Some(end) = stage_end(action) else {
                    // Escalations, reassignments and hand-overs move the stage on.
                    if let Some(to) = details["to_assignee"].as_str() {
                        current.assignee = to.to_string();
                    }
                    if let Some(level) = level {
                        current.level = level;
                    }
                    continue;
                };
                // The ended stage: held by the assignee before the action, under the
                // policy version the entry names (older entries: the one then in force).
                let mut ended = current.clone();
                if let Some(from) = details["from_assignee"].as_str() {
                    ended.assignee = from.to_string();
                }
                ended.policy_id = details["policy_id"].as_i64().unwrap_or(ended.policy_id);
                ended.policy_version = details["policy_version"].as_i64().unwrap_or_else(|| version_at(a.at));
                outcomes.push(ended.judge(rules, holds, end, &a.actor, a.at)?);
                if end == StageEnd::Advanced {
                    current.stage_seq += 1;
                    current.stage = details["to_stage"].as_str().unwrap_or_default().to_string();
                    current.started_at = a.at;
                    current.assignee = details["to_assignee"].as_str().unwrap_or_default().to_string();
                    current.level = level.unwrap_or(0);
                    current.policy_id = details["to_policy_id"].as_i64().unwrap_or(current.policy_id);
                } else {
                    stage = None;
                }
            }
        }
    }
    Ok(outcomes)
}
