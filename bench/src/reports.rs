//! Scenario 8: SLA reports over many recorded outcomes (1,000,000 by default) on the HTTP
//! data set (100k open workflows): the engine's report as the Reports page and
//! `GET /api/v1/reports/sla` call it, in milliseconds, for three shapes — an admin's last
//! 30 days over every department, an admin's year by week, a head's department's 30 days.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use escalator_domain::Role;
use escalator_engine::notify::Channels;
use escalator_engine::reports::ReportQuery;
use escalator_engine::{Actor, EngineConfig, Escalator, Metrics};

use crate::db::{self, Arg, Databases, Db};
use crate::{data, http};
use crate::{Noop, Result};

/// The INSERT … SELECT of `$1` outcomes over the last year: `$2` now (Unix seconds), `$3`
/// the first workflow id, `$4` how many workflows, `$5`–`$6` policy and version. One in
/// seven breached, one in twenty cancelled, ten departments, four types, three stages.
fn outcomes_sql(postgres: bool) -> String {
    let numbers = db::numbers_sql(postgres, 0);
    let t = |expr: &str| db::unix_time_sql(postgres, expr);
    format!(
        "INSERT INTO sla_outcomes (workflow_id, stage_seq, stage, department_key, workflow_type, policy_id, \
         policy_version, assignee_email, decided_by, ended_by, outcome, level, target_seconds, used_seconds, \
         over_seconds, held_seconds, duration_seconds, reminders, escalations, started_at, ended_at, source) \
         SELECT $3 + (i % $4), 2 + i / $4, \
         CASE i % 3 WHEN 0 THEN 'Manager Approval' WHEN 1 THEN 'Finance Review' ELSE 'Director' END, \
         'dept' || (i % 10), CASE i % 4 WHEN 0 THEN 'purchase' WHEN 1 THEN 'leave' WHEN 2 THEN 'contract' ELSE 'travel' END, \
         $5, $6, 'approver.dept' || (i % 10) || '@bench.example', 'head.dept' || (i % 10) || '@bench.example', \
         CASE WHEN i % 20 = 0 THEN 'cancelled' WHEN i % 3 = 0 THEN 'advanced' ELSE 'completed' END, \
         CASE WHEN i % 7 = 0 THEN 'breached' ELSE 'met' END, CASE WHEN i % 7 = 0 THEN 1 ELSE 0 END, \
         86400, d, CASE WHEN i % 7 = 0 THEN 3600 ELSE 0 END, 0, d, i % 2, CASE WHEN i % 7 = 0 THEN 1 ELSE 0 END, \
         {started}, {ended}, 'backfill' \
         FROM (SELECT i, $2 - (i * 31) % 31536000 AS e, (i * 7919) % 172800 AS d FROM ({numbers}) AS n) AS x",
        started = t("e - d"),
        ended = t("e"),
    )
}

/// Report times (ms) per shape on `copy` (removed at the end): `(label, samples)`. With a server binary, also the year
/// report through HTTP: the Reports page (rendered on the server, signed in) and
/// `GET /api/v1/reports/sla`, each with its own connection as a browser's first visit.
pub async fn measure(
    dbs: &mut Databases,
    copy: Db,
    outcomes: i64,
    samples: usize,
    server: Option<(&Path, &Path)>,
) -> Result<(Vec<(&'static str, Vec<f64>)>, Option<(Vec<f64>, usize)>)> {
    let store = escalator_storage::connect(&copy.url).await?;
    let pool = store.pool();
    let first = db::scalar(&pool, "SELECT MIN(id) FROM workflows", &[]).await?;
    let count = db::scalar(&pool, "SELECT COUNT(*) FROM workflows", &[]).await?;
    let policy = store
        .policies()
        .await?
        .into_iter()
        .next()
        .ok_or("no policy in the data set")?;
    let started = Instant::now();
    db::exec(
        &pool,
        &outcomes_sql(copy.backend == "postgres"),
        &[
            Arg::Int(outcomes),
            Arg::Int(chrono::Utc::now().timestamp()),
            Arg::Int(first),
            Arg::Int(count.max(1)),
            Arg::Int(policy.id),
            Arg::Int(policy.version),
        ],
    )
    .await?;
    // Written in bulk, past the store: the daily sums the store keeps with each outcome
    // are rebuilt from them once.
    let groups = store.rebuild_outcome_days().await?;
    db::exec(&pool, "ANALYZE", &[]).await?;
    eprintln!(
        "    {outcomes} outcomes ({groups} day-groups) written and analysed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let engine = Escalator::new(
        store,
        Channels::only(Arc::new(Noop)),
        Arc::new(Metrics::new(900.0)?),
        EngineConfig::default(),
    );
    let admin = Actor::internal("bench");
    let head = Actor {
        email: "head.dept3@bench.example".into(),
        role: Role::DepartmentHead,
        department: Some("dept3".into()),
        via: None,
    };
    let year_from = (chrono::Utc::now() - chrono::TimeDelta::days(364))
        .date_naive()
        .to_string();
    let year = ReportQuery {
        from: Some(year_from.clone()),
        period: Some("week".into()),
        ..ReportQuery::default()
    };
    let shapes: [(&'static str, &Actor, ReportQuery); 3] = [
        ("admin, 30 days, all departments", &admin, ReportQuery::default()),
        ("admin, 365 days by week, all departments", &admin, year),
        ("head, 30 days, one department", &head, ReportQuery::default()),
    ];
    let mut results = Vec::new();
    for (label, actor, query) in shapes {
        // One unmeasured call warms the caches, as a page visited before would.
        let report = engine.sla_report(&query, actor).await?;
        eprintln!("    {label}: {} decisions", report.decisions);
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            engine.sla_report(&query, actor).await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        results.push((label, times));
    }
    db::close(&pool).await;
    drop(engine);
    let mut explained = None;
    if let Some((binary, log)) = server {
        let server = http::Server::start(binary, &copy, log)?;
        results.extend(over_http(&server, &year_from, samples)?);
        explained = Some(crate::explain::over_http(&server, samples)?);
    }
    dbs.remove(&copy).await?;
    Ok((results, explained))
}

/// The year report by week through a running server: the page and the API.
fn over_http(server: &http::Server, from: &str, samples: usize) -> Result<Vec<(&'static str, Vec<f64>)>> {
    let cookie = http::login(&server.addr, data::ADMIN, http::PASSWORD)?;
    let bearer = format!("Bearer {}", server.token);
    let query = format!("from={from}&period=week");
    let calls: [(&'static str, String, (&str, &str)); 2] = [
        (
            "admin, 365 days by week, the Reports page over HTTP",
            format!("/reports?{query}"),
            ("Cookie", &cookie),
        ),
        (
            "admin, 365 days by week, GET /api/v1/reports/sla",
            format!("/api/v1/reports/sla?{query}"),
            ("Authorization", &bearer),
        ),
    ];
    let mut results = Vec::new();
    for (label, path, header) in calls {
        let (status, body) = http::get(&server.addr, &path, &[header])?;
        if status != 200 {
            return Err(format!("{path} answered {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            let (status, _) = http::get(&server.addr, &path, &[header])?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            if status != 200 {
                return Err(format!("{path} answered {status}").into());
            }
        }
        results.push((label, times));
    }
    Ok(results)
}

/// The 99th percentile (nearest rank) of `samples`.
pub fn p99(samples: &[f64]) -> f64 {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let rank = ((v.len() as f64) * 0.99).ceil() as usize;
    v.get(rank.saturating_sub(1)).copied().unwrap_or(f64::NAN)
}
