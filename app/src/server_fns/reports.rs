//! The SLA reports page's data: one call into the engine's report (which decides whose
//! departments the reader may see), with the names the filters offer.

use escalator_domain::SlaReport;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The page's filters as the URL carries them (every one optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFilters {
    pub from: Option<String>,
    pub to: Option<String>,
    pub department: Option<String>,
    pub policy_id: Option<String>,
    pub workflow_type: Option<String>,
    pub period: Option<String>,
}

impl ReportFilters {
    /// The filters as a query string (without `?`), for the CSV links.
    pub fn query(&self) -> String {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("department", &self.department),
            ("policy_id", &self.policy_id),
            ("workflow_type", &self.workflow_type),
            ("period", &self.period),
        ]
        .into_iter()
        .filter_map(|(key, value)| {
            value
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{key}={}", crate::server_fns::session::urlencode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
    }
}

#[cfg(feature = "ssr")]
impl ReportFilters {
    /// The engine's query for these form fields (blank means "not given"); the field at
    /// fault when the policy is not a number.
    pub fn into_query(self) -> Result<escalator_engine::reports::ReportQuery, AppError> {
        let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let policy_id = match given(self.policy_id) {
            None => None,
            Some(raw) => Some(
                raw.trim()
                    .parse::<i64>()
                    .map_err(|_| AppError::invalid("policy_id", "a policy id"))?,
            ),
        };
        Ok(escalator_engine::reports::ReportQuery {
            from: given(self.from),
            to: given(self.to),
            department: given(self.department),
            policy_id,
            workflow_type: given(self.workflow_type),
            period: given(self.period),
        })
    }
}

/// A report and what its filters offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPage {
    pub report: SlaReport,
    /// (key, name) of the departments the reader may choose; one for a head.
    pub departments: Vec<(String, String)>,
    /// (id, name) of the SLA policies.
    pub policies: Vec<(i64, String)>,
    /// Whether the reader may choose any department (admins).
    pub all_departments: bool,
    /// The reader's time zone, for the overdue deadlines.
    pub zone: String,
}

/// The SLA report for the filters (admins: any department; heads: their own).
#[server(prefix = "/ui/fn", endpoint = "sla_report")]
pub async fn load_report(#[server(default)] filters: ReportFilters) -> Result<ReportPage, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let query = filters.into_query().map_err(ssr::fail)?;
    let report = escalator.sla_report(&query, &actor).await?;
    let all_departments = actor.is_admin();
    let departments = escalator
        .departments(&actor)
        .await?
        .into_iter()
        .filter(|d| all_departments || report.department.as_deref() == Some(d.key.as_str()))
        .map(|d| (d.key.to_string(), d.name))
        .collect();
    let policies = escalator
        .policies(&actor)
        .await?
        .into_iter()
        .map(|p| (p.id, p.policy.name))
        .collect();
    Ok(ReportPage {
        report,
        departments,
        policies,
        all_departments,
        zone: ssr::viewer_zone(&actor).await?,
    })
}
