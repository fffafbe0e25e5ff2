//! The pending-workflows table, a workflow's detail page and the actions on it.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{PendingPage, WorkflowDetail};

#[cfg(feature = "ssr")]
mod convert {
    use chrono::{DateTime, Utc};
    use escalator_domain::SlaStatus;
    use escalator_engine::workflows::WorkflowView;

    use crate::model::WorkflowRow;

    /// A workflow's row; `names` gives people's names by e-mail.
    pub fn row(view: &WorkflowView, names: &std::collections::HashMap<String, String>) -> WorkflowRow {
        let w = &view.workflow;
        WorkflowRow {
            assignee_name: names
                .get(&w.state.assignee)
                .cloned()
                .unwrap_or_else(|| w.state.assignee.clone()),
            id: w.id,
            external_id: w.external_id.clone(),
            title: w.title.clone(),
            workflow_type: w.workflow_type.clone(),
            department: w.department.clone(),
            stage: w.state.stage.clone(),
            assignee: w.state.assignee.clone(),
            status: w.state.status.as_str().to_string(),
            level: w.state.level,
            sla: view.sla.status,
            warn_at: view.sla.warn_at,
            due_at: view.sla.due_at,
            remaining_seconds: view.sla.remaining.num_seconds(),
        }
    }

    /// `<due_at in ms>.<id>`: the keyset cursor of the by-deadline order.
    pub fn cursor(due_at: DateTime<Utc>, id: i64) -> String {
        format!("{}.{id}", due_at.timestamp_millis())
    }

    pub fn parse_cursor(raw: &str) -> Option<(DateTime<Utc>, i64)> {
        let (ms, id) = raw.split_once('.')?;
        Some((DateTime::from_timestamp_millis(ms.parse().ok()?)?, id.parse().ok()?))
    }

    /// The SLA status a name (`ok`, `warning`, `breached`, `paused`) stands for.
    pub fn sla_status(name: &str) -> Option<SlaStatus> {
        [
            SlaStatus::Ok,
            SlaStatus::Warning,
            SlaStatus::Breached,
            SlaStatus::Paused,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// Rows per page of the pending table.
pub const PAGE_SIZE: i64 = 50;

/// One page of the open workflows the user may see, least time left first (or newest
/// first with `sort=newest`), with counts per SLA status.
#[server(prefix = "/ui/fn", endpoint = "pending")]
pub async fn pending(
    department: Option<String>,
    sla: Option<String>,
    assignee: Option<String>,
    sort: Option<String>,
    after: Option<String>,
) -> Result<PendingPage, AppError> {
    use crate::ssr;
    use escalator_domain::Role;
    use escalator_storage::{WorkflowFilter, WorkflowOrder};

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    // `attention`: overdue at the top of the chain, a filter beside the SLA statuses.
    let sla = blank(sla);
    let needs_attention = sla.as_deref() == Some("attention");
    let sla_status = sla
        .filter(|_| !needs_attention)
        .map(|name| {
            convert::sla_status(&name).ok_or_else(|| {
                ssr::fail(AppError::invalid(
                    "sla",
                    "must be ok, warning, breached, paused or attention",
                ))
            })
        })
        .transpose()?;
    let newest = blank(sort).as_deref() == Some("newest");
    let after = blank(after);
    let (order, after_due, before_id) = match (&after, newest) {
        (None, _) => (
            if newest {
                WorkflowOrder::Newest
            } else {
                WorkflowOrder::DueSoonest
            },
            None,
            None,
        ),
        (Some(raw), true) => (
            WorkflowOrder::Newest,
            None,
            Some(
                raw.parse::<i64>()
                    .map_err(|_| ssr::fail(AppError::invalid("after", "not a page cursor")))?,
            ),
        ),
        (Some(raw), false) => (
            WorkflowOrder::DueSoonest,
            Some(convert::parse_cursor(raw).ok_or_else(|| ssr::fail(AppError::invalid("after", "not a page cursor")))?),
            None,
        ),
    };
    let filter = WorkflowFilter {
        open_only: true,
        department: blank(department),
        assignee: blank(assignee).map(|a| a.to_lowercase()),
        sla_status,
        needs_attention,
        order,
        after_due,
        before_id,
        limit: PAGE_SIZE + 1,
        ..WorkflowFilter::default()
    };
    let mut views = escalator.workflows(filter.clone(), &actor).await?;
    let more = views.len() as i64 > PAGE_SIZE;
    views.truncate(PAGE_SIZE as usize);
    let next = more.then(|| views.last()).flatten().map(|v| match order {
        WorkflowOrder::Newest => v.workflow.id.to_string(),
        WorkflowOrder::DueSoonest => convert::cursor(v.workflow.state.due_at, v.workflow.id),
    });
    let assignees: Vec<String> = views.iter().map(|v| v.workflow.state.assignee.clone()).collect();
    let names = escalator.names_of(&assignees).await?;
    let counts = escalator
        .sla_counts(filter, &actor)
        .await?
        .into_iter()
        .filter_map(|(status, n)| Some((convert::sla_status(&status)?, n)))
        .collect();
    let departments = escalator
        .departments(&actor)
        .await?
        .into_iter()
        .filter(|d| actor.role == Role::Admin || actor.department.as_deref() == Some(d.key.as_str()))
        .map(|d| (d.key.to_string(), d.name))
        .collect();
    Ok(PendingPage {
        now: escalator.now(),
        rows: views.iter().map(|v| convert::row(v, &names)).collect(),
        counts,
        next,
        departments,
    })
}

/// A workflow with its clock, the explanation of its deadline, its chain and timeline,
/// and the actions the user may take.
#[server(prefix = "/ui/fn", endpoint = "workflow")]
pub async fn workflow(id: i64) -> Result<WorkflowDetail, AppError> {
    use crate::model::{ChainStep, DeliveryRow, TimelineEntry};
    use crate::ssr;
    use escalator_domain::Action;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let escalator_engine::workflows::WorkflowPage {
        view,
        explanation,
        chain,
        policy_name: policy,
        story,
        names,
        ..
    } = escalator.workflow_page(id, &actor).await?;
    let viewer_zone = ssr::viewer_zone(&actor).await?;
    let w = &view.workflow;
    let name = |email: &str| names.get(email).cloned().unwrap_or_else(|| email.to_string());
    let mut steps = vec![ChainStep {
        target: "Original assignee".into(),
        time_limit_seconds: 0,
        current: w.state.level == 0,
    }];
    steps.extend(chain.levels.iter().enumerate().map(|(i, level)| ChainStep {
        target: level.target.words(name),
        time_limit_seconds: level.time_limit().num_seconds(),
        current: w.state.level as usize == i + 1,
    }));
    let entries: Vec<TimelineEntry> = story
        .into_iter()
        .map(|line| TimelineEntry {
            at: line.at,
            action: line.action,
            headline: line.headline,
            note: line.note,
            actor: line.actor,
            deliveries: line
                .deliveries
                .into_iter()
                .map(|d| DeliveryRow {
                    channel: d.channel,
                    to: d.to,
                    status: d.status,
                    attempts: d.attempts,
                    error: d.error,
                })
                .collect(),
            raw: line.raw,
        })
        .collect();
    let actions = Action::ALL
        .into_iter()
        .filter(|a| actor.can_act(w, *a) && w.state.status.allows(*a).is_ok())
        .map(|a| a.name().to_string())
        .collect();
    Ok(WorkflowDetail {
        now: escalator.now(),
        row: convert::row(&view, &names),
        initiator: w.initiator.clone(),
        initiator_name: name(&w.initiator),
        assignee_name: name(&w.state.assignee),
        viewer_zone,
        created_at: w.created_at,
        policy,
        policy_version: w.state.policy_version,
        time_zone: explanation.time_zone,
        chain: chain.name.clone(),
        steps,
        segments: explanation.segments,
        omitted: explanation.omitted,
        routing: explanation.routing,
        timeline: entries,
        actions,
    })
}

/// Performs an action on a workflow: `complete`, `advance` (with `stage`, optional
/// `assignee`), `reassign` (with `assignee`), `hold` (with `reason`), `resume`, `cancel`.
#[server(prefix = "/ui/fn", endpoint = "act")]
pub async fn act(
    id: i64,
    action: String,
    stage: Option<String>,
    assignee: Option<String>,
    reason: Option<String>,
    hold_hours: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr;
    use escalator_engine::workflows::ActionRequest;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let request = match action.as_str() {
        "complete" => ActionRequest::Complete { note: blank(reason) },
        "advance" => ActionRequest::Advance {
            stage: blank(stage).ok_or_else(|| ssr::fail(AppError::invalid("stage", "name the next stage")))?,
            policy_id: None,
            assignee: blank(assignee),
        },
        "reassign" => ActionRequest::Reassign {
            assignee: blank(assignee)
                .ok_or_else(|| ssr::fail(AppError::invalid("assignee", "choose the new assignee")))?,
            reason: blank(reason),
        },
        "hold" => ActionRequest::Hold {
            reason: blank(reason).ok_or_else(|| ssr::fail(AppError::invalid("reason", "say why it is on hold")))?,
            // The engine checks the end (in the future, at most 90 days ahead).
            until: match blank(hold_hours) {
                Some(hours) => Some(
                    hours
                        .parse::<i64>()
                        .ok()
                        .filter(|h| *h > 0)
                        .and_then(chrono::TimeDelta::try_hours)
                        .and_then(|d| escalator.now().checked_add_signed(d))
                        .ok_or_else(|| ssr::fail(AppError::invalid("hold_hours", "choose how long")))?,
                ),
                None => None,
            },
        },
        "resume" => ActionRequest::Resume,
        "cancel" => ActionRequest::Cancel { reason: blank(reason) },
        _ => return Err(ssr::fail(AppError::invalid("action", "unknown action"))),
    };
    escalator.act(id, &request, &actor).await?;
    Ok(())
}
