//! Policy versions and zone rules: open workflows keep the deadlines computed under the
//! rules they started with; an admin previews a change's impact without changing anything,
//! and applies it to open workflows explicitly (audited).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use escalator_domain::sla::zones;
use escalator_domain::{evaluate, terms_at, SlaStatus, WorkflowStatus};
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

/// The zone rules deadlines are computed with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZoneRules {
    /// `system` (the system's tz database, the bundled copy for zones it lacks), `bundled`
    /// or `directory`.
    pub source: String,
    /// The version in use, e.g. `2025b` (none when its database names none).
    pub in_use: Option<String>,
    /// The version bundled into this binary.
    pub bundled: String,
    /// The system's version, from its `tzdata.zi` (none when it has none).
    pub system: Option<String>,
}

impl ZoneRules {
    /// Whether the bundled copy is newer than the rules in use (update tzdata, or use it).
    pub fn bundled_newer(&self) -> bool {
        self.in_use
            .as_deref()
            .is_some_and(|u| zones::is_newer(&self.bundled, u))
    }

    /// Whether the system has newer rules than those in use.
    pub fn system_newer(&self) -> bool {
        self.system
            .as_deref()
            .zip(self.in_use.as_deref())
            .is_some_and(|(s, u)| zones::is_newer(s, u))
    }
}

/// What the zone rules in use do to the deadlines of open workflows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZoneRulesPreview {
    pub rules: ZoneRules,
    /// Open workflows whose stored deadline differs from the one these rules give.
    /// Workflows on hold are left out: resuming recomputes their deadline.
    pub impact: Preview,
}

/// The result of recomputing open workflows' deadlines under the zone rules in use.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppliedZoneRules {
    pub rules: ZoneRules,
    pub applied: u64,
}

/// Where the system keeps its zone rules: `$TZDIR`, else `/usr/share/zoneinfo`.
fn system_zoneinfo() -> std::path::PathBuf {
    std::env::var_os("TZDIR").map_or_else(|| "/usr/share/zoneinfo".into(), Into::into)
}

/// The version a tz database directory names in its `tzdata.zi`.
fn version_in(dir: &std::path::Path) -> Option<String> {
    use std::io::BufRead;
    let file = std::fs::File::open(dir.join("tzdata.zi")).ok()?;
    let mut first = String::new();
    std::io::BufReader::new(file).read_line(&mut first).ok()?;
    zones::tzdata_version(&first).map(str::to_string)
}

/// The zone rules in use now, and the versions available.
pub fn zone_rules() -> ZoneRules {
    let dir = system_zoneinfo();
    let system = version_in(&dir);
    let bundled = zones::bundled_rules_version().to_string();
    let directory = zones::rules_dir().and_then(|d| version_in(&d));
    rules_in_use(zones::rules_source(), dir.is_dir(), system, bundled, directory)
}

/// Which rules answer: a system without a tz database (a slim container) is answered by
/// the bundled copy, whatever the setting says.
fn rules_in_use(
    source: &str,
    system_has_database: bool,
    system: Option<String>,
    bundled: String,
    directory: Option<String>,
) -> ZoneRules {
    let (source, in_use) = match source {
        "directory" => ("directory", directory),
        "system" if system_has_database => ("system", system.clone()),
        _ => ("bundled", Some(bundled.clone())),
    };
    ZoneRules {
        source: source.to_string(),
        in_use,
        bundled,
        system,
    }
}

const LISTED: usize = 500;

impl Escalator {
    /// Every open workflow, or those of one policy.
    async fn open_workflows(&self, policy_id: Option<i64>) -> EngineResult<Vec<WorkflowRecord>> {
        let mut all = Vec::new();
        let mut before_id = None;
        loop {
            let filter = WorkflowFilter {
                policy_id,
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
        let open = self.open_workflows(Some(id)).await?;
        let holds = self.holds_of(&open).await?;
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
            .open_workflows(Some(id))
            .await?
            .into_iter()
            .filter(|w| w.state.policy_version != current.version)
            .collect();
        let holds = self.holds_of(&open).await?;
        let now = self.now();
        let mut applied = 0;
        for w in open {
            let mut moved = w.clone();
            moved.state.policy_version = current.version;
            let sla = evaluate(&rules.terms(&moved)?, &timeline_of(&moved, &holds), now);
            let details = json!({
                "policy_id": id,
                "from_version": w.state.policy_version,
                "to_version": current.version,
                "old_due_at": w.state.due_at,
                "new_due_at": sla.due_at,
            });
            if self
                .reclock(&w, moved.state.reclocked(&sla), "policy_applied", details, actor, now)
                .await?
            {
                applied += 1;
            }
        }
        self.rearm();
        Ok(AppliedVersion {
            version: current.version,
            applied,
        })
    }

    /// Open workflows (not on hold) whose stored deadline the zone rules in use would move.
    ///
    /// The rules are read afresh first, so an operator who just updated the system's tz
    /// database sees its effect at once.
    pub async fn preview_zone_rules(&self, actor: &Actor) -> EngineResult<ZoneRulesPreview> {
        actor.require_admin()?;
        zones::reload();
        let moves = self.zone_rule_moves().await?;
        let mut impact = Preview {
            open_workflows: moves.open,
            status_changes: 0,
            workflows: Vec::new(),
        };
        let now = self.now();
        for (w, sla) in &moves.moved {
            let old_status = SlaStatus::running_at(w.state.warn_at, w.state.due_at, now);
            if old_status != sla.status {
                impact.status_changes += 1;
            }
            if impact.workflows.len() < LISTED {
                impact.workflows.push(Impact {
                    workflow_id: w.id,
                    external_id: w.external_id.clone(),
                    old_status,
                    new_status: sla.status,
                    old_due_at: w.state.due_at,
                    new_due_at: sla.due_at,
                });
            }
        }
        Ok(ZoneRulesPreview {
            rules: zone_rules(),
            impact,
        })
    }

    /// Recomputes the deadlines [`Escalator::preview_zone_rules`] lists (audited per workflow).
    pub async fn apply_zone_rules(&self, actor: &Actor) -> EngineResult<AppliedZoneRules> {
        actor.require_admin()?;
        zones::reload();
        let rules = zone_rules();
        let moves = self.zone_rule_moves().await?;
        let now = self.now();
        let mut applied = 0;
        for (w, sla) in moves.moved {
            let details = json!({
                "tz_rules": rules.in_use,
                "old_due_at": w.state.due_at,
                "new_due_at": sla.due_at,
            });
            if self
                .reclock(&w, w.state.reclocked(&sla), "zone_rules_applied", details, actor, now)
                .await?
            {
                applied += 1;
            }
        }
        self.rearm();
        Ok(AppliedZoneRules { rules, applied })
    }

    /// Writes a workflow's recomputed clock with its audit entry, if it is still at the
    /// version it was computed from; whether it was written.
    async fn reclock(
        &self,
        w: &WorkflowRecord,
        state: escalator_domain::WorkflowState,
        action: &str,
        details: serde_json::Value,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> EngineResult<bool> {
        let change = WorkflowChange {
            workflow_id: w.id,
            expected_version: w.version,
            state,
            claim: None,
            reminder: None,
            hold: None,
            audit: vec![NewAudit {
                actor: actor.email.clone(),
                action: action.into(),
                workflow_id: Some(w.id),
                details,
                at: now,
            }],
            outbox: Vec::new(),
            outcome: None,
            now,
        };
        Ok(self.store.apply(std::slice::from_ref(&change)).await?.first() == Some(&Applied::Done))
    }

    /// The open workflows, and those whose deadline differs under the rules in use.
    async fn zone_rule_moves(&self) -> EngineResult<ZoneRuleMoves> {
        let rules = self.rules().await?;
        let open = self.open_workflows(None).await?;
        let running: Vec<&WorkflowRecord> = open
            .iter()
            .filter(|w| w.state.status != WorkflowStatus::OnHold)
            .collect();
        let holds = self.holds_of(running.iter().copied()).await?;
        let now = self.now();
        let mut moved = Vec::new();
        for w in running {
            let sla = evaluate(&rules.terms(w)?, &timeline_of(w, &holds), now);
            if sla.due_at != w.state.due_at {
                moved.push((w.clone(), sla));
            }
        }
        Ok(ZoneRuleMoves {
            open: open.len() as u64,
            moved,
        })
    }
}

/// Open workflows, and the new clock of those whose deadline moves.
struct ZoneRuleMoves {
    open: u64,
    moved: Vec<(WorkflowRecord, escalator_domain::SlaState)>,
}

#[cfg(test)]
mod tests {
    use super::rules_in_use;

    #[test]
    fn the_rules_in_use_are_named_by_where_they_come_from() {
        let v = |s: &str| Some(s.to_string());
        let system = rules_in_use("system", true, v("2025b"), "2026f".into(), None);
        assert_eq!((system.source.as_str(), system.in_use), ("system", v("2025b")));
        // A tz database without a tzdata.zi names no version: unknown, not the bundled one.
        let unnamed = rules_in_use("system", true, None, "2026f".into(), None);
        assert_eq!((unnamed.source.as_str(), unnamed.in_use), ("system", None));
        // No tz database at all: the bundled copy answers every lookup.
        let slim = rules_in_use("system", false, None, "2026f".into(), None);
        assert_eq!((slim.source.as_str(), slim.in_use), ("bundled", v("2026f")));
        let bundled = rules_in_use("bundled", true, v("2025b"), "2026f".into(), None);
        assert_eq!(
            (bundled.source.as_str(), bundled.in_use, bundled.system),
            ("bundled", v("2026f"), v("2025b"))
        );
        let dir = rules_in_use("directory", true, v("2025b"), "2026f".into(), None);
        assert_eq!((dir.source.as_str(), dir.in_use), ("directory", None));
    }
}
