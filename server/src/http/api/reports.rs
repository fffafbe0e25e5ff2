//! `/reports`: SLA outcomes aggregated for people and BI tools (admins: any department;
//! heads: their own).

use axum::extract::State;
use axum::Json;
use escalator_domain::SlaReport;
use escalator_engine::reports::ReportQuery;

use super::auth::Caller;
use super::extract::ApiQuery;
use crate::http::{ApiError, AppState};

/// How the stages that ended between two days kept their SLA: compliance per day, week
/// or month; breaches, escalations and reminders by department, policy, workflow type,
/// stage and assignee; the time to decision (median, p90); the open backlog by age and
/// SLA status; the most overdue workflows.
#[utoipa::path(get, path = "/reports/sla", tag = "reports", operation_id = "sla_report", params(ReportQuery),
    responses((status = 200, body = SlaReport), (status = 400, body = crate::http::error::ErrorBody),
        (status = 401, body = crate::http::error::ErrorBody), (status = 403, body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn sla(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<SlaReport>, ApiError> {
    Ok(Json(state.escalator.sla_report(&query, &actor).await?))
}
