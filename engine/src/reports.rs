//! SLA reports: how the stages that ended in a range of days kept their promises, where
//! and with whom they did not, how long decisions took, and the open backlog now. Admins
//! read every department's, heads their own ([`Actor::report_scope`]).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeDelta, Utc};
use escalator_domain::report::{series, BacklogRow, Breakdown, GroupRow, OverdueRow, BACKLOG_AGES, BACKLOG_OLDEST};
use escalator_domain::{ReportPeriod, SlaReport, SlaStatus, ValidationError};
use escalator_storage::{Dimension, OutcomeFilter, WorkflowFilter, WorkflowOrder};
use serde::Deserialize;

use crate::access::Actor;
use crate::{EngineResult, Escalator};

/// The longest range a report covers.
pub const MAX_REPORT_DAYS: i64 = 3660;
/// The groups each breakdown lists.
const GROUPS: usize = 10;

/// What a report covers, as clients ask for it (every field optional).
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day (UTC, `YYYY-MM-DD`); default 29 days before `to`.
    #[cfg_attr(feature = "openapi", param(format = Date))]
    pub from: Option<String>,
    /// Last day, included (UTC, `YYYY-MM-DD`); default today.
    #[cfg_attr(feature = "openapi", param(format = Date))]
    pub to: Option<String>,
    /// A department's key (heads: their own only).
    pub department: Option<String>,
    pub policy_id: Option<i64>,
    pub workflow_type: Option<String>,
    /// `day`, `week` or `month`; default by the range's length.
    #[cfg_attr(feature = "openapi", param(pattern = "^(day|week|month)$"))]
    pub period: Option<String>,
}

/// A day of a query: `YYYY-MM-DD` from 1970 to 9999 (so the day after it exists).
/// Absent is the default; present but empty is refused like any other non-day.
fn day(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ValidationError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let day =
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| ValidationError::new(field, "a day as YYYY-MM-DD"))?;
    if !(1970..=9999).contains(&day.year()) {
        return Err(ValidationError::new(field, "a day between the years 1970 and 9999"));
    }
    Ok(Some(day))
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

impl Escalator {
    /// An SLA report (admins: any department or all; heads: their own).
    pub async fn sla_report(&self, query: &ReportQuery, actor: &Actor) -> EngineResult<SlaReport> {
        let department = actor.report_scope(blank(&query.department).as_deref())?;
        let now = self.now();
        let today = now.date_naive();
        let to = day("to", query.to.as_deref())?.unwrap_or(today);
        let from = match day("from", query.from.as_deref())? {
            Some(from) => from,
            None => to.checked_sub_days(Days::new(29)).unwrap_or(to),
        };
        if from > to {
            return Err(ValidationError::new("from", "must not be after `to`").into());
        }
        let length = (to - from).num_days() + 1;
        if length > MAX_REPORT_DAYS {
            return Err(ValidationError::new("from", format!("a report covers at most {MAX_REPORT_DAYS} days")).into());
        }
        let period = match query.period.as_deref() {
            None => ReportPeriod::for_days(length),
            Some(p) => ReportPeriod::parse(p).ok_or_else(|| ValidationError::new("period", "day, week or month"))?,
        };
        let filter = OutcomeFilter {
            from: Some(midnight(from)),
            to: Some(midnight(to.checked_add_days(Days::new(1)).unwrap_or(to))),
            department: department.clone(),
            policy_id: query.policy_id,
            workflow_type: blank(&query.workflow_type),
        };

        // The parts are independent reads: asked at once, they take about as long as the
        // slowest (the pool has a connection for each).
        let bounds: Vec<i64> = BACKLOG_AGES.iter().map(|(s, _)| *s).collect();
        let (days, breakdowns, (decisions, quantiles), open, overdue) = tokio::try_join!(
            async { Ok::<_, crate::EngineError>(self.store.outcomes_by_day(&filter).await?) },
            self.breakdowns(&filter),
            async { Ok(self.store.decision_quantiles(&filter, &[0.5, 0.9]).await?) },
            async { Ok(self.store.backlog(&filter, &bounds, now).await?) },
            self.overdue(&filter, now),
        )?;
        let days: Vec<_> = days.into_iter().map(|d| (d.day, d.counts)).collect();
        let points = series(&days, period, from, to);
        let totals = days
            .iter()
            .fold(Default::default(), |t: escalator_domain::OutcomeCounts, (_, c)| {
                t.plus(*c)
            });
        let mut backlog: Vec<BacklogRow> = BACKLOG_AGES
            .iter()
            .map(|(_, age)| *age)
            .chain([BACKLOG_OLDEST])
            .map(|age| BacklogRow {
                age: age.into(),
                ..BacklogRow::default()
            })
            .collect();
        for (bucket, status, count) in open {
            if let Some(row) = backlog.get_mut(bucket) {
                match status {
                    SlaStatus::Ok => row.ok += count,
                    SlaStatus::Warning => row.warning += count,
                    SlaStatus::Breached => row.breached += count,
                    SlaStatus::Paused => row.paused += count,
                }
            }
        }

        Ok(SlaReport {
            from,
            to,
            department,
            policy_id: query.policy_id,
            workflow_type: filter.workflow_type.clone(),
            period,
            compliance: totals.compliance(),
            totals,
            series: points,
            breakdowns,
            decisions,
            median_decision_seconds: quantiles.first().copied(),
            p90_decision_seconds: quantiles.get(1).copied(),
            backlog,
            overdue,
        })
    }

    /// Outcomes by every dimension, the groups named as people call them.
    async fn breakdowns(&self, filter: &OutcomeFilter) -> EngineResult<Vec<Breakdown>> {
        let (departments, policies, grouped) = tokio::try_join!(
            self.store.departments(),
            self.store.policies(),
            self.store.breakdowns(filter, GROUPS),
        )?;
        let departments: HashMap<String, String> =
            departments.into_iter().map(|d| (d.key.to_string(), d.name)).collect();
        let policies: HashMap<String, String> = policies
            .into_iter()
            .map(|p| (p.id.to_string(), p.policy.name))
            .collect();
        let mut breakdowns = Vec::new();
        for (by, groups) in grouped {
            let people = match by {
                Dimension::Assignee => {
                    let emails: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
                    self.names_of(&emails).await?
                }
                _ => HashMap::new(),
            };
            let label = |key: &str| {
                match by {
                    Dimension::Department => departments.get(key),
                    Dimension::Policy => policies.get(key),
                    Dimension::Assignee => people.get(key),
                    Dimension::WorkflowType | Dimension::Stage => None,
                }
                .cloned()
                .unwrap_or_else(|| key.to_string())
            };
            breakdowns.push(Breakdown {
                by: by.as_str().into(),
                groups: groups
                    .iter()
                    .map(|g| GroupRow {
                        label: label(&g.key),
                        key: g.key.clone(),
                        counts: g.counts,
                        compliance: g.counts.compliance(),
                    })
                    .collect(),
            });
        }
        Ok(breakdowns)
    }

    /// The open workflows longest past their deadline (at most 10), within the filter.
    async fn overdue(&self, filter: &OutcomeFilter, now: DateTime<Utc>) -> EngineResult<Vec<OverdueRow>> {
        let workflows = self
            .store
            .workflows(&WorkflowFilter {
                open_only: true,
                department: filter.department.clone(),
                policy_id: filter.policy_id,
                sla_status: Some(SlaStatus::Breached),
                now: Some(now),
                order: WorkflowOrder::DueSoonest,
                limit: 200,
                ..WorkflowFilter::default()
            })
            .await?;
        let chosen: Vec<_> = workflows
            .into_iter()
            .filter(|w| filter.workflow_type.as_ref().is_none_or(|t| *t == w.workflow_type))
            .take(10)
            .collect();
        let emails: Vec<String> = chosen.iter().map(|w| w.state.assignee.clone()).collect();
        let names = self.names_of(&emails).await?;
        Ok(chosen
            .into_iter()
            .map(|w| OverdueRow {
                workflow_id: w.id,
                assignee_name: names
                    .get(&w.state.assignee)
                    .cloned()
                    .unwrap_or_else(|| w.state.assignee.clone()),
                overdue_seconds: (now - w.state.due_at).max(TimeDelta::zero()).num_seconds(),
                due_at: w.state.due_at,
                title: w.title,
                department: w.department,
                assignee: w.state.assignee,
            })
            .collect())
    }
}
