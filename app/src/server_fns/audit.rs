//! The audit log page (admins): filters, paging; the CSV export is a plain GET route
//! of the server (`/ui/export/audit.csv`) with the same filters.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::AuditPage;

/// Rows per page of the audit log.
pub const AUDIT_PAGE_SIZE: i64 = 50;

/// The audit log's filters as the page's query string carries them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditQuery {
    pub workflow_id: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (inclusive day) or RFC 3339 (exclusive).
    pub to: Option<String>,
    pub before: Option<String>,
}

#[cfg(feature = "ssr")]
pub mod parse {
    //! Parsing of the audit filters, shared by the page and the CSV export.
    use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
    use escalator_storage::AuditFilter;

    use super::AuditQuery;
    use crate::error::AppError;

    fn instant(field: &str, raw: &str, end_of_day: bool) -> Result<DateTime<Utc>, AppError> {
        if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
            return Ok(at.with_timezone(&Utc));
        }
        let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| AppError::invalid(field, "use YYYY-MM-DD or an RFC 3339 time"))?;
        let start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        Ok(if end_of_day { start + TimeDelta::days(1) } else { start })
    }

    /// The storage filter a query stands for.
    pub fn filter(q: &AuditQuery, limit: i64) -> Result<AuditFilter, AppError> {
        let blank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let number = |field: &str, v: &Option<String>| -> Result<Option<i64>, AppError> {
            blank(v)
                .map(|s| {
                    s.parse::<i64>()
                        .map_err(|_| AppError::invalid(field, "must be a number"))
                })
                .transpose()
        };
        Ok(AuditFilter {
            workflow_id: number("workflow_id", &q.workflow_id)?,
            action: blank(&q.action),
            actor: blank(&q.actor),
            from: blank(&q.from).map(|s| instant("from", &s, false)).transpose()?,
            to: blank(&q.to).map(|s| instant("to", &s, true)).transpose()?,
            before_id: number("before", &q.before)?,
            limit,
        })
    }
}

/// A page of the audit log, newest first.
#[server(prefix = "/ui/fn", endpoint = "audit")]
pub async fn audit(#[server(default)] query: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::model::AuditRow;
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let filter = parse::filter(&query, AUDIT_PAGE_SIZE + 1).map_err(ssr::fail)?;
    let mut entries = escalator.audit_log(filter, &actor).await?;
    let zone = ssr::viewer_zone(&actor).await?;
    let more = entries.len() as i64 > AUDIT_PAGE_SIZE;
    entries.truncate(AUDIT_PAGE_SIZE as usize);
    Ok(AuditPage {
        next: more.then(|| entries.last().map(|e| e.id)).flatten(),
        zone: zone.clone(),
        rows: entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: e.at,
                actor: e.actor,
                action: e.action,
                workflow_id: e.workflow_id,
                fields: fields(&e.details, &zone),
                details: e.details.to_string(),
            })
            .collect(),
    })
}

/// An audit entry's details as labelled fields: `from_assignee` reads "From assignee",
/// times read in the viewer's zone, lists and objects stay compact JSON.
#[cfg(feature = "ssr")]
fn fields(details: &serde_json::Value, zone: &str) -> Vec<(String, String)> {
    use serde_json::Value;
    let zone = escalator_domain::readable::zone(Some(zone));
    let Value::Object(map) = details else {
        return Vec::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(key, value)| {
            let mut label = key.replace('_', " ");
            if let Some(first) = label.get(0..1) {
                label = format!("{}{}", first.to_uppercase(), label.get(1..).unwrap_or_default());
            }
            let text = match value {
                Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
                    Ok(at) => escalator_domain::readable::short_time(at.with_timezone(&chrono::Utc), &zone),
                    Err(_) => s.clone(),
                },
                Value::Number(n) if key.ends_with("_seconds") => n
                    .as_i64()
                    .map_or_else(|| n.to_string(), escalator_domain::readable::length),
                other => other.to_string(),
            };
            (label, text)
        })
        .collect()
}
