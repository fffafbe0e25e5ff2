//! Scenario 10: the explained clock of a workflow started five years ago, through HTTP.
//! `GET /api/v1/workflows/{id}/sla` on Berlin office hours with a lunch break; the answer
//! lists the first and last 50 segments and sums the rest, so its size and time stay
//! bounded however old the workflow is.

use crate::http::{request, Server};
use crate::Result;

/// Times (ms) of `samples` calls, each on a new connection, and the answer's size (bytes).
pub fn over_http(server: &Server, samples: usize) -> Result<(Vec<f64>, usize)> {
    let bearer = format!("Bearer {}", server.token);
    let post = |path: &str, body: serde_json::Value| -> Result<serde_json::Value> {
        let (status, _, answer) = request(
            &server.addr,
            "POST",
            path,
            &[("Authorization", &bearer), ("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )?;
        if status != 201 {
            return Err(format!("{path} answered {status}: {}", String::from_utf8_lossy(&answer)).into());
        }
        Ok(serde_json::from_slice(&answer)?)
    };
    let day = serde_json::json!([{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]);
    let calendar = post(
        "/api/v1/calendars",
        serde_json::json!({"name": "Berlin office (bench)", "time_zone": "Europe/Berlin",
            "windows": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                "friday": day, "saturday": [], "sunday": []}}),
    )?;
    let policy = post(
        "/api/v1/sla-policies",
        serde_json::json!({"name": "a business day (bench)", "target_seconds": 7 * 3600,
            "warning": {"kind": "before_deadline", "seconds": 3600}, "calendar_id": calendar["id"]}),
    )?;
    let chains = crate::http::get(&server.addr, "/api/v1/escalation-chains", &[("Authorization", &bearer)])?;
    let chains: serde_json::Value = serde_json::from_slice(&chains.1)?;
    let chain = chains[0]["id"].clone();
    let started = chrono::Utc::now() - chrono::TimeDelta::days(5 * 365);
    let workflow = post(
        "/api/v1/workflows",
        serde_json::json!({"external_id": "BENCH-FIVE-YEARS", "workflow_type": "purchase",
            "title": "Five years old", "stage": "Manager Approval", "department": "dept1",
            "initiator": "initiator.dept1@bench.example", "assignee": "approver.dept1@bench.example",
            "policy_id": policy["id"], "chain_id": chain, "started_at": started.to_rfc3339()}),
    )?;
    let path = format!("/api/v1/workflows/{}/sla", workflow["id"]);
    let headers = [("Authorization", bearer.as_str())];
    // One unmeasured call, as for the other HTTP figures.
    let (status, body) = crate::http::get(&server.addr, &path, &headers)?;
    if status != 200 {
        return Err(format!("{path} answered {status}").into());
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = std::time::Instant::now();
        let (status, _) = crate::http::get(&server.addr, &path, &headers)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            return Err(format!("{path} answered {status}").into());
        }
    }
    Ok((times, body.len()))
}
