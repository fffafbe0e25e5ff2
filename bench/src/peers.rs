//! Scenario 9: Escalator beside what users would run instead, on the same PostgreSQL and
//! the same data: graphile-worker (one job per deadline, default and tuned), the seed's
//! Celery + Redis (beat task, and one ETA task per deadline), and `escalator serve`. Each
//! system does the same work per due workflow (the version-checked change to the
//! department head, the transition claim, the audit entry, the two outbox rows) on its own
//! copy of the 100k-open data set, in a burst (10k due at once) and in a steady stream
//! (10k due evenly over `--peer-span` seconds). `bench/peers/harness.py` runs one system and
//! measures it; `bench/peers/install.sh` installs the peers (npm, a Python venv, Redis).

use std::path::Path;
use std::process::Command;

use crate::db::{Databases, Db};
use crate::report::{Goal, Line, Unit};
use crate::{data, Result};

/// The systems, Escalator first (the others' ratios are to it).
pub const SYSTEMS: [&str; 5] = ["escalator", "graphile", "graphile-tuned", "celery-beat", "celery-eta"];

/// What the harness printed for one run.
#[derive(Debug, Clone)]
struct Run {
    system: String,
    setup: String,
    burst_seconds: f64,
    per_second: f64,
    lateness: (f64, f64, f64),
    cpu_seconds: f64,
    peak_rss_mb: f64,
}

fn number(v: &serde_json::Value, key: &str) -> f64 {
    v.get(key).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN)
}

fn parse(out: &str, due: i64) -> Result<Run> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or("the harness printed no result")?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let effects = v.get("effects").cloned().unwrap_or_default();
    let count = |k: &str| effects.get(k).and_then(serde_json::Value::as_i64).unwrap_or(-1);
    let expected = [
        ("escalated", due),
        ("transitions", due),
        ("audit", due),
        ("outbox", 2 * due),
    ];
    for (what, want) in expected {
        if count(what) != want {
            return Err(format!("{}: {what} {} instead of {want}: {line}", v["system"], count(what)).into());
        }
    }
    Ok(Run {
        system: v["system"].as_str().unwrap_or_default().to_string(),
        setup: v["setup"].as_str().unwrap_or_default().to_string(),
        burst_seconds: number(&v, "burst_seconds"),
        per_second: number(&v, "per_second"),
        lateness: (
            number(&v, "lateness_p50"),
            number(&v, "lateness_p99"),
            number(&v, "lateness_max"),
        ),
        cpu_seconds: number(&v, "cpu_seconds"),
        peak_rss_mb: number(&v, "peak_rss_mb"),
    })
}

/// Installs the peers' packages (idempotent): node modules, the Python venv, Redis.
fn install(root: &Path) -> Result<()> {
    let status = Command::new("bash").arg(root.join("bench/peers/install.sh")).status()?;
    if !status.success() {
        return Err(format!("bench/peers/install.sh failed ({status})").into());
    }
    Ok(())
}

fn run_one(root: &Path, db: &Db, system: &str, mode: &str, span: f64, server: &Path, logs: &Path) -> Result<String> {
    let output = Command::new(root.join("bench/peers/.venv/bin/python"))
        .arg(root.join("bench/peers/harness.py"))
        .args(["--db", &db.url, "--system", system, "--mode", mode])
        .args(["--span", &span.to_string()])
        .arg("--escalator")
        .arg(server)
        .arg("--logs")
        .arg(logs)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "{system} ({mode}): {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        )
        .into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Runs every system in both modes on PostgreSQL and adds the lines (with ratios to Escalator).
#[allow(clippy::too_many_arguments)]
pub async fn measure(
    dbs: &mut Databases,
    root: &Path,
    open: i64,
    due: i64,
    span: f64,
    systems: &[String],
    server: &Path,
    logs: &Path,
    lines: &mut Vec<Line>,
) -> Result<()> {
    install(root)?;
    let template = data::template(dbs, "postgres", open, due).await?;
    for mode in ["burst", "steady"] {
        let mut runs: Vec<Run> = Vec::new();
        for system in systems {
            let copy = dbs.copy(&template, "peer").await?;
            eprintln!("    {system}, {mode}…");
            let result = run_one(root, &copy, system, mode, span, server, logs);
            dbs.remove(&copy).await?;
            let run = parse(&result?, due)?;
            eprintln!("      {:.1} s, {}", run.burst_seconds, summary(&run));
            runs.push(run);
        }
        let ours = runs.iter().find(|r| r.system == "escalator").cloned();
        for run in &runs {
            let ratio = |theirs: f64, mine: f64| {
                if run.system == "escalator" || !mine.is_finite() || mine <= 0.0 {
                    String::new()
                } else {
                    format!("{:.2}× Escalator's", theirs / mine)
                }
            };
            let (value, label, compare) = if mode == "burst" {
                (
                    run.burst_seconds,
                    format!("9. peers: {}k due at once, time to escalate them all", due / 1000),
                    ratio(run.burst_seconds, ours.as_ref().map_or(f64::NAN, |o| o.burst_seconds)),
                )
            } else {
                (
                    run.lateness.1,
                    format!("9. peers: {}k due over {span:.0} s, lateness p99", due / 1000),
                    ratio(run.lateness.1, ours.as_ref().map_or(f64::NAN, |o| o.lateness.1)),
                )
            };
            let mut note = summary(run);
            if !compare.is_empty() {
                note = format!("{compare}; {note}");
            }
            lines.push(
                Line::new(
                    format!("{label}, {}", run.setup),
                    "postgres",
                    Unit::Seconds,
                    vec![value],
                    Goal::None,
                )
                .note(note),
            );
        }
    }
    Ok(())
}

/// A run's rate, lateness, CPU and memory, for the progress line and the table's note.
fn summary(run: &Run) -> String {
    format!(
        "{:.0} escalations/s; lateness p50 {}, p99 {}, max {}; {:.1} CPU s; peak RSS {:.0} MB",
        run.per_second,
        seconds(run.lateness.0),
        seconds(run.lateness.1),
        seconds(run.lateness.2),
        run.cpu_seconds,
        run.peak_rss_mb
    )
}

/// A lateness as people read it: milliseconds under a second (steady streams differ
/// there), seconds above.
fn seconds(value: f64) -> String {
    if value < 1.0 {
        format!("{:.1} ms", value * 1000.0)
    } else {
        format!("{value:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_with_missing_effects_is_refused() {
        let ok = r#"{"system":"x","setup":"X","effects":{"escalated":2,"transitions":2,"audit":2,"outbox":4},"burst_seconds":1.5,"per_second":1.3,"lateness_p50":0.1,"lateness_p99":0.2,"lateness_max":0.3,"cpu_seconds":1,"peak_rss_mb":10}"#;
        let run = parse(ok, 2).unwrap();
        assert_eq!(run.lateness, (0.1, 0.2, 0.3));
        let short = ok.replace(r#""outbox":4"#, r#""outbox":3"#);
        assert!(parse(&short, 2)
            .unwrap_err()
            .to_string()
            .contains("outbox 3 instead of 4"));
    }
}
