//! A workflow's page and its explained clock: why it is due when it is.

use chrono::{DateTime, Utc};
use escalator_domain::{evaluate, explain_until, summarise, Omitted, Segment, SegmentTotals, SlaState};
use escalator_storage::{AuditEntry, AuditFilter, Hold, WorkflowRecord};
use serde::{Deserialize, Serialize};

use super::{timeline_of, Timeline, WorkflowView};
use crate::access::Actor;
use crate::service::Rules;
use crate::{EngineError, EngineResult, Escalator};

/// The most segments an explanation lists (its beginning and its end): a clock that has run
/// for five years has over 5,000, which made the answer half a megabyte.
const EXPLAINED_SEGMENTS: usize = 100;

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
    /// outside working hours, holiday or paused. At most 100: when there are more (a clock
    /// that has run for months), the first and the last 50, with the ones between in `omitted`.
    pub segments: Vec<Segment>,
    /// The segments left out between the first and the last 50, summed exactly.
    pub omitted: Option<Omitted>,
    /// Seconds per kind over the whole span, the omitted segments included.
    pub totals: SegmentTotals,
    /// How the current assignee was reached when people were away, e.g. "skipped
    /// dana@acme.example (absent until 2026-12-24 17:00 UTC): delegated to mike@acme.example".
    pub routing: Option<String>,
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
    /// The timeline as people read it, newest first.
    pub story: Vec<super::StoryLine>,
    /// Names of the people the page mentions, by e-mail.
    pub names: std::collections::HashMap<String, String>,
}

impl Escalator {
    /// The SLA clock of a workflow with the timeline that explains its deadline.
    pub async fn explain_sla(&self, id: i64, actor: &Actor) -> EngineResult<SlaExplanation> {
        let w = self.visible(id, actor).await?;
        let rules = self.kept(self.now()).await?.rules;
        let holds = self.store.holds(&[w.id]).await?;
        let audit = self
            .store
            .audit_entries(&AuditFilter {
                workflow_id: Some(id),
                limit: 200,
                ..Default::default()
            })
            .await?;
        let mut explanation = self.explanation_of(&w, &rules, &holds, self.now()).await?;
        explanation.routing = routing_of(&audit);
        Ok(explanation)
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
        let sla = evaluate(&terms, &timeline, now);
        let all = explain_until(&terms, &timeline, now, sla.due_at);
        let totals = SegmentTotals::of(&all);
        let (segments, omitted) = summarise(all, EXPLAINED_SEGMENTS);
        Ok(SlaExplanation {
            workflow_id: w.id,
            level: w.state.level,
            policy_id: policy.id,
            policy_version: w.state.policy_version,
            calendar_id: policy.calendar_id,
            time_zone: terms.calendar.time_zone().name().to_string(),
            sla,
            segments,
            omitted,
            totals,
            routing: None,
        })
    }

    /// A workflow's page, if the actor may see it: rules, holds and the workflow read once.
    pub async fn workflow_page(&self, id: i64, actor: &Actor) -> EngineResult<WorkflowPage> {
        let w = self.visible(id, actor).await?;
        let rules = self.kept(self.now()).await?.rules;
        let holds = self.store.holds(&[w.id]).await?;
        let now = self.now();
        let mut explanation = self.explanation_of(&w, &rules, &holds, now).await?;
        let chain = rules.chain_of(&w)?.clone();
        let policy_name = rules.policy_of(&w)?.name.clone();
        let timeline = self.timeline(id).await?;
        explanation.routing = routing_of(&timeline.audit);
        let names = self.names_in(&w, &chain, &timeline).await?;
        let story = super::story(&timeline, &names);
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
            story,
            names,
        })
    }

    /// The names of everyone a workflow's page mentions: its people, its chain's, and
    /// whoever its timeline names.
    async fn names_in(
        &self,
        w: &WorkflowRecord,
        chain: &escalator_domain::EscalationChain,
        timeline: &Timeline,
    ) -> EngineResult<std::collections::HashMap<String, String>> {
        let mut emails: Vec<String> = vec![w.initiator.clone(), w.state.assignee.clone()];
        for level in &chain.levels {
            if let escalator_domain::Target::User { email } = &level.target {
                emails.push(email.to_string());
            }
        }
        for a in &timeline.audit {
            emails.push(a.actor.clone());
            for key in ["assignee", "from_assignee", "to_assignee"] {
                if let Some(e) = a.details[key].as_str() {
                    emails.push(e.to_string());
                }
            }
        }
        emails.extend(timeline.notifications.iter().filter_map(|m| m.recipient.clone()));
        self.names_of(&emails).await
    }
}

/// The routing note of the latest assignment (create, advance, escalation, hand-over, or
/// a person's reassignment, which has none): how the current assignee was reached.
fn routing_of(audit: &[AuditEntry]) -> Option<String> {
    audit
        .iter()
        .filter(|a| {
            matches!(
                a.action.as_str(),
                "create" | "advance" | "escalate" | "handed_over" | "reassign"
            )
        })
        .max_by_key(|a| (a.at, a.id))
        .and_then(|a| a.details["note"].as_str().map(str::to_string))
}
