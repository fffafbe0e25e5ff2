//! SLA reports as data: counts of outcomes, compliance over time, breakdowns, backlog and
//! the most overdue work; and the pure rules that shape them (periods, compliance, the
//! tables behind every chart). The API returns a [`SlaReport`] as JSON; the UI draws it.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Counts over a set of SLA outcomes: decisions (completed or advanced) met and breached,
/// cancellations, and the reminders and escalations they took.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub met: i64,
    pub breached: i64,
    pub cancelled: i64,
    pub escalations: i64,
    pub reminders: i64,
    /// Working time beyond the targets, summed over the breached decisions.
    pub over_seconds: i64,
}

impl OutcomeCounts {
    /// Both sets together.
    pub fn plus(self, other: OutcomeCounts) -> OutcomeCounts {
        OutcomeCounts {
            met: self.met.saturating_add(other.met),
            breached: self.breached.saturating_add(other.breached),
            cancelled: self.cancelled.saturating_add(other.cancelled),
            escalations: self.escalations.saturating_add(other.escalations),
            reminders: self.reminders.saturating_add(other.reminders),
            over_seconds: self.over_seconds.saturating_add(other.over_seconds),
        }
    }

    /// Decisions: met plus breached.
    pub fn decided(self) -> i64 {
        self.met.saturating_add(self.breached)
    }

    /// The share of decisions that kept their SLA; none without decisions.
    pub fn compliance(self) -> Option<f64> {
        let decided = self.decided();
        (decided > 0).then(|| self.met as f64 / decided as f64)
    }
}

/// How a report's time axis is grouped.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportPeriod {
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

impl ReportPeriod {
    /// The name used in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportPeriod::Day => "day",
            ReportPeriod::Week => "week",
            ReportPeriod::Month => "month",
        }
    }

    /// The period of a query's name.
    pub fn parse(name: &str) -> Option<Self> {
        [ReportPeriod::Day, ReportPeriod::Week, ReportPeriod::Month]
            .into_iter()
            .find(|p| p.as_str() == name)
    }

    /// What suits a range of `days`: days up to two months, weeks up to a year, else months.
    pub fn for_days(days: i64) -> Self {
        match days {
            ..=62 => ReportPeriod::Day,
            63..=366 => ReportPeriod::Week,
            _ => ReportPeriod::Month,
        }
    }

    /// The first day of the period holding `day`.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            ReportPeriod::Day => day,
            ReportPeriod::Week => day
                .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
                .unwrap_or(day),
            ReportPeriod::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the period after the one starting on `start`; none past the
    /// calendar's end.
    fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            ReportPeriod::Day => start.checked_add_days(Days::new(1)),
            ReportPeriod::Week => start.checked_add_days(Days::new(7)),
            ReportPeriod::Month => start.checked_add_months(Months::new(1)),
        }
    }
}

/// One period of the compliance series.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodPoint {
    /// The period's first day (UTC).
    pub start: NaiveDate,
    pub counts: OutcomeCounts,
    /// met / (met + breached); none without decisions.
    pub compliance: Option<f64>,
}

/// Folds per-day counts into every period from `from` to `to` (inclusive days), empty
/// periods included, so a chart's time axis has no gaps.
pub fn series(
    days: &[(NaiveDate, OutcomeCounts)],
    period: ReportPeriod,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<PeriodPoint> {
    let mut points = Vec::new();
    let mut start = period.start_of(from);
    while start <= to {
        let next = period.next(start);
        let counts = days
            .iter()
            .filter(|(day, _)| *day >= start && next.is_none_or(|next| *day < next))
            .fold(OutcomeCounts::default(), |sum, (_, c)| sum.plus(*c));
        points.push(PeriodPoint {
            start,
            counts,
            compliance: counts.compliance(),
        });
        let Some(next) = next else { break };
        start = next;
    }
    points
}

/// One group of a breakdown.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// The group's key: a department key, a policy id, a type, a stage or an e-mail.
    pub key: String,
    /// How people call it: the department's or policy's name, the person's name.
    pub label: String,
    pub counts: OutcomeCounts,
    pub compliance: Option<f64>,
}

/// Outcomes grouped by one dimension, most breaches first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// `department`, `policy`, `workflow_type`, `stage` or `assignee` (who held the stage
    /// when it ended).
    pub by: String,
    pub groups: Vec<GroupRow>,
}

/// Open workflows whose stage is of one age, by SLA status now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacklogRow {
    /// `< 1 d`, `1–3 d`, `3–7 d`, `7–30 d` or `≥ 30 d`.
    pub age: String,
    pub ok: i64,
    pub warning: i64,
    pub breached: i64,
    pub paused: i64,
}

/// Upper bounds (seconds) of the backlog's age buckets; the last bucket is open.
pub const BACKLOG_AGES: [(i64, &str); 4] = [
    (86_400, "< 1 d"),
    (3 * 86_400, "1–3 d"),
    (7 * 86_400, "3–7 d"),
    (30 * 86_400, "7–30 d"),
];
/// The last backlog bucket's name.
pub const BACKLOG_OLDEST: &str = "≥ 30 d";

/// An open workflow past its deadline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueRow {
    pub workflow_id: i64,
    pub title: String,
    pub department: String,
    pub assignee: String,
    /// The assignee's name.
    pub assignee_name: String,
    pub due_at: DateTime<Utc>,
    /// Wall-clock seconds since the deadline.
    pub overdue_seconds: i64,
}

/// An SLA report over the stages that ended between two days, and the open backlog now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaReport {
    /// The first day covered (UTC).
    pub from: NaiveDate,
    /// The last day covered (UTC, inclusive).
    pub to: NaiveDate,
    /// The department covered; none for all.
    pub department: Option<String>,
    pub policy_id: Option<i64>,
    pub workflow_type: Option<String>,
    pub period: ReportPeriod,
    pub totals: OutcomeCounts,
    pub compliance: Option<f64>,
    pub series: Vec<PeriodPoint>,
    pub breakdowns: Vec<Breakdown>,
    /// Stages decided in the range, and their wall-clock time to decision: the upper bound
    /// of the time bucket (15 m … 30 d) the median and the 90th percentile fall in.
    pub decisions: i64,
    pub median_decision_seconds: Option<i64>,
    pub p90_decision_seconds: Option<i64>,
    pub backlog: Vec<BacklogRow>,
    /// The open workflows longest past their deadline (at most 10).
    pub overdue: Vec<OverdueRow>,
}

/// A table of a report: its column names and rows, as the page shows it and CSV exports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The names of a report's tables: `compliance`, one per breakdown, `backlog`, `overdue`.
pub const TABLES: [&str; 8] = [
    "compliance",
    "department",
    "policy",
    "workflow_type",
    "stage",
    "assignee",
    "backlog",
    "overdue",
];

fn percent(share: Option<f64>) -> String {
    share.map_or_else(String::new, |s| format!("{:.1}", s * 100.0))
}

fn count_cells(c: &OutcomeCounts) -> [String; 6] {
    [
        c.met.to_string(),
        c.breached.to_string(),
        c.cancelled.to_string(),
        c.escalations.to_string(),
        c.reminders.to_string(),
        c.over_seconds.to_string(),
    ]
}

impl SlaReport {
    /// One of its [`TABLES`]; none for another name.
    pub fn table(&self, name: &str) -> Option<Table> {
        const COUNTS: [&str; 7] = [
            "met",
            "breached",
            "cancelled",
            "escalations",
            "reminders",
            "over_seconds",
            "compliance_percent",
        ];
        match name {
            "compliance" => Some(Table {
                columns: [&["period_start"][..], &COUNTS].concat(),
                rows: self
                    .series
                    .iter()
                    .map(|p| {
                        let mut row = vec![p.start.to_string()];
                        row.extend(count_cells(&p.counts));
                        row.push(percent(p.compliance));
                        row
                    })
                    .collect(),
            }),
            "backlog" => Some(Table {
                columns: vec!["age", "ok", "warning", "breached", "paused"],
                rows: self
                    .backlog
                    .iter()
                    .map(|b| {
                        vec![
                            b.age.clone(),
                            b.ok.to_string(),
                            b.warning.to_string(),
                            b.breached.to_string(),
                            b.paused.to_string(),
                        ]
                    })
                    .collect(),
            }),
            "overdue" => Some(Table {
                columns: vec![
                    "workflow_id",
                    "title",
                    "department",
                    "assignee",
                    "due_at",
                    "overdue_seconds",
                ],
                rows: self
                    .overdue
                    .iter()
                    .map(|o| {
                        vec![
                            o.workflow_id.to_string(),
                            o.title.clone(),
                            o.department.clone(),
                            o.assignee.clone(),
                            o.due_at.to_rfc3339(),
                            o.overdue_seconds.to_string(),
                        ]
                    })
                    .collect(),
            }),
            by => {
                let breakdown = self.breakdowns.iter().find(|b| b.by == by)?;
                Some(Table {
                    columns: [&["key", "name"][..], &COUNTS].concat(),
                    rows: breakdown
                        .groups
                        .iter()
                        .map(|g| {
                            let mut row = vec![g.key.clone(), g.label.clone()];
                            row.extend(count_cells(&g.counts));
                            row.push(percent(g.compliance));
                            row
                        })
                        .collect(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn counts(met: i64, breached: i64) -> OutcomeCounts {
        OutcomeCounts {
            met,
            breached,
            ..OutcomeCounts::default()
        }
    }

    #[test]
    fn compliance_is_the_share_of_decisions_kept() {
        assert_eq!(counts(9, 1).compliance(), Some(0.9));
        assert_eq!(counts(0, 0).compliance(), None);
        let cancelled_only = OutcomeCounts {
            cancelled: 3,
            ..OutcomeCounts::default()
        };
        assert_eq!(cancelled_only.compliance(), None, "cancellations are not decisions");
    }

    #[test]
    fn series_fill_every_period_and_fold_days_into_weeks_and_months() {
        let days = [
            (day("2026-11-30"), counts(1, 0)),
            (day("2026-12-02"), counts(1, 1)),
            (day("2026-12-14"), counts(0, 2)),
        ];
        let daily = series(&days, ReportPeriod::Day, day("2026-11-30"), day("2026-12-14"));
        assert_eq!(daily.len(), 15, "no gaps");
        assert_eq!(daily[2].counts, counts(1, 1));
        assert_eq!(daily[1].compliance, None);
        let weekly = series(&days, ReportPeriod::Week, day("2026-11-30"), day("2026-12-14"));
        assert_eq!(
            weekly.iter().map(|p| p.start).collect::<Vec<_>>(),
            vec![day("2026-11-30"), day("2026-12-07"), day("2026-12-14")]
        );
        assert_eq!(weekly[0].counts, counts(2, 1));
        assert_eq!(weekly[1].counts, counts(0, 0));
        let monthly = series(&days, ReportPeriod::Month, day("2026-11-30"), day("2026-12-14"));
        assert_eq!(monthly.len(), 2);
        assert_eq!((monthly[0].start, monthly[0].counts), (day("2026-11-01"), counts(1, 0)));
        assert_eq!(monthly[1].counts, counts(1, 3));
        let total = weekly.iter().fold(OutcomeCounts::default(), |t, p| t.plus(p.counts));
        assert_eq!(total, counts(2, 3), "folding keeps every outcome");
    }

    #[test]
    fn periods_suit_the_range_and_start_on_mondays_and_firsts() {
        assert_eq!(ReportPeriod::for_days(30), ReportPeriod::Day);
        assert_eq!(ReportPeriod::for_days(90), ReportPeriod::Week);
        assert_eq!(ReportPeriod::for_days(800), ReportPeriod::Month);
        assert_eq!(ReportPeriod::Week.start_of(day("2026-12-06")), day("2026-11-30"));
        assert_eq!(ReportPeriod::Month.start_of(day("2026-12-06")), day("2026-12-01"));
        assert_eq!(ReportPeriod::parse("week"), Some(ReportPeriod::Week));
        assert_eq!(ReportPeriod::parse("year"), None);
    }

    #[test]
    fn every_table_has_as_many_cells_as_columns() {
        let report = SlaReport {
            from: day("2026-12-01"),
            to: day("2026-12-02"),
            department: None,
            policy_id: None,
            workflow_type: None,
            period: ReportPeriod::Day,
            totals: counts(1, 1),
            compliance: Some(0.5),
            series: series(
                &[(day("2026-12-01"), counts(1, 1))],
                ReportPeriod::Day,
                day("2026-12-01"),
                day("2026-12-02"),
            ),
            breakdowns: vec![Breakdown {
                by: "department".into(),
                groups: vec![GroupRow {
                    key: "finance".into(),
                    label: "Finance".into(),
                    counts: counts(1, 1),
                    compliance: Some(0.5),
                }],
            }],
            decisions: 2,
            median_decision_seconds: Some(60),
            p90_decision_seconds: Some(120),
            backlog: vec![BacklogRow {
                age: "< 1 d".into(),
                ok: 1,
                ..BacklogRow::default()
            }],
            overdue: vec![],
        };
        for name in ["compliance", "department", "backlog", "overdue"] {
            let table = report.table(name).unwrap();
            assert!(
                table.rows.iter().all(|r| r.len() == table.columns.len()),
                "{name}: {table:?}"
            );
        }
        assert_eq!(report.table("compliance").unwrap().rows[0][7], "50.0");
        assert_eq!(report.table("department").unwrap().rows[0][1], "Finance");
        assert!(report.table("policy").is_none(), "no such breakdown in this report");
        assert!(report.table("nonsense").is_none());
    }
}
