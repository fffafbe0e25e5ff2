//! `./scripts/bench.sh [flags]` (or `cargo run --release -p bench -- [flags]`): Escalator's
//! benchmarks (issue 8). Each scenario builds its own data, runs several times on SQLite
//! and (with `ESCALATOR_BENCH_PG_URL`, an admin URL of a PostgreSQL cluster) PostgreSQL,
//! and prints median / min / max next to its goal, plus the machine it ran on. Numbers,
//! not tests: nothing here fails on a timing.
//!
//! Scenarios: 1 `tick` (one tick against the raw-SQL floor at each size), 2 `growth` (tick
//! time at the largest size over the smallest), 3 `outbox` (delivery with a no-op
//! channel), 4 `http` (`wrk` against the API and the page), 5 `metrics` (scrapes at the
//! largest size), 6 `memory` (peak RSS of the server during 4, 5 and 7, and of the tick
//! in-process), 7 `ingest` (`POST /api/v1/workflows`, 8 clients), 8 `reports` (the SLA
//! report over 1M recorded outcomes).
//!
//! Over 500 lines: one runner whose scenarios share their data builders and report; each scenario is one function.

/// The shipped server's allocator (see `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod data;
mod db;
mod explain;
mod http;
mod memory;
mod outbox;
mod peers;
mod report;
mod reports;
mod tick;

use std::path::PathBuf;
use std::time::Instant;

use async_trait::async_trait;
use escalator_engine::notify::{Channel, DeliveryError};
use escalator_storage::OutboxMessage;

use crate::db::Databases;
use crate::report::{Goal, Line, Unit};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Accepts everything: measures Escalator, not a mail server.
pub struct Noop;

#[async_trait]
impl Channel for Noop {
    fn name(&self) -> &'static str {
        "noop"
    }
    async fn deliver(&self, _: &OutboxMessage) -> std::result::Result<(), DeliveryError> {
        Ok(())
    }
}

const SCENARIOS: &[&str] = &[
    "tick", "growth", "outbox", "http", "metrics", "memory", "ingest", "reports", "peers",
];

const HELP: &str = "usage: bench [flags]
  --only LIST          scenarios, comma-separated: tick,growth,outbox,http,metrics,memory,ingest,reports,peers (default: all)
  --backends LIST      sqlite,postgres (default: sqlite, and postgres when ESCALATOR_BENCH_PG_URL is set)
  --runs N             runs per measurement (default 3)
  --sizes LIST         open workflows for the tick (default 100000,1000000)
  --due N              due workflows in every tick data set (default 10000)
  --http-rows N        open workflows for the HTTP scenarios and ingest (default 100000)
  --metrics-rows N     open workflows for the metrics scrape (default: the largest size)
  --rows N             outbox rows to deliver (default 20000)
  --outcomes N         recorded SLA outcomes for the reports (default 1000000)
  --report-calls N     timed report calls per shape (default 100)
  --peers LIST         systems for the peers scenario (PostgreSQL only; default: all):
                       escalator,graphile,graphile-tuned,celery-beat,celery-eta
  --peer-span S        seconds the steady variant spreads the due workflows over (default 120)
  --duration S         seconds per wrk run (default 5)
  --connections N      wrk connections for the API and the page (default 4)
  --clients N          concurrent ingest clients (default 8)
  --scrapes N          /metrics scrapes (default 50)
  --batch-size N       due workflows per tick transaction (default: the engine's, 2000)
  --page PATH          the page to measure (default /)
  --page-cookie C      Cookie header for the page (or ESCALATOR_BENCH_PAGE_COOKIE; default: sign in as the admin)
  --server PATH        the escalator binary (default target/release/escalator)
  --data-dir DIR       where SQLite files and server logs go (default target/bench)
  --keep-data          keep the generated templates and reuse them while valid
  --prepare            only build (and keep) the data sets the other flags ask for, measure nothing
  --reuse-data         use data sets left by --prepare or --keep-data while valid, drop them at the end";

/// The command line.
struct Args {
    only: Vec<String>,
    backends: Vec<&'static str>,
    runs: usize,
    sizes: Vec<i64>,
    due: i64,
    http_rows: i64,
    metrics_rows: i64,
    outbox_rows: usize,
    outcomes: i64,
    report_calls: usize,
    peers: Vec<String>,
    peer_span: f64,
    duration: u64,
    connections: usize,
    clients: usize,
    scrapes: usize,
    page: String,
    page_cookie: Option<String>,
    server: PathBuf,
    data_dir: PathBuf,
    reuse: bool,
    keep: bool,
    prepare: bool,
}

fn parse_args(argv: &[String]) -> Result<Args> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut a = Args {
        only: SCENARIOS.iter().map(|s| s.to_string()).collect(),
        backends: vec!["sqlite"],
        runs: 3,
        sizes: vec![100_000, 1_000_000],
        due: 10_000,
        http_rows: 100_000,
        metrics_rows: 0,
        outbox_rows: 20_000,
        outcomes: 1_000_000,
        report_calls: 100,
        peers: peers::SYSTEMS.iter().map(|s| s.to_string()).collect(),
        peer_span: 120.0,
        duration: 5,
        connections: 4,
        clients: 8,
        scrapes: 50,
        page: "/".into(),
        page_cookie: std::env::var("ESCALATOR_BENCH_PAGE_COOKIE").ok(),
        server: root.join("target/release/escalator"),
        data_dir: root.join("target/bench"),
        reuse: false,
        keep: false,
        prepare: false,
    };
    if std::env::var("ESCALATOR_BENCH_PG_URL").is_ok() {
        a.backends.push("postgres");
    }
    let mut i = 0;
    while i < argv.len() {
        let flag = argv[i].as_str();
        if flag == "--help" || flag == "-h" {
            println!("{HELP}");
            std::process::exit(0);
        }
        if matches!(flag, "--keep-data" | "--reuse-data" | "--prepare") {
            // --keep-data reuses and keeps; --reuse-data only reuses; --prepare builds and
            // keeps (for the invocation that measures).
            a.reuse |= flag != "--prepare";
            a.keep |= flag != "--reuse-data";
            a.prepare |= flag == "--prepare";
            i += 1;
            continue;
        }
        let value = argv
            .get(i + 1)
            .ok_or_else(|| format!("{flag} needs a value\n{HELP}"))?
            .clone();
        let number = |v: &str| {
            v.replace('_', "")
                .parse::<i64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag {
            "--only" => {
                a.only = value.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = a.only.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
                    return Err(format!("unknown scenario {bad}\n{HELP}").into());
                }
            }
            "--backends" => {
                a.backends = Vec::new();
                for b in value.split(',') {
                    match b.trim() {
                        "sqlite" => a.backends.push("sqlite"),
                        "postgres" => a.backends.push("postgres"),
                        other => return Err(format!("unknown backend {other}").into()),
                    }
                }
            }
            "--runs" => a.runs = number(&value)?.max(1) as usize,
            "--sizes" => {
                a.sizes = value.split(',').map(number).collect::<std::result::Result<_, _>>()?;
                a.sizes.sort_unstable();
            }
            "--due" => a.due = number(&value)?.max(1),
            "--http-rows" => a.http_rows = number(&value)?.max(1),
            "--metrics-rows" => a.metrics_rows = number(&value)?.max(1),
            "--rows" | "--outbox-rows" => a.outbox_rows = number(&value)?.max(1) as usize,
            "--outcomes" => a.outcomes = number(&value)?.max(1),
            "--report-calls" => a.report_calls = number(&value)?.max(1) as usize,
            "--peers" => {
                a.peers = value.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = a.peers.iter().find(|s| !peers::SYSTEMS.contains(&s.as_str())) {
                    return Err(format!("unknown system {bad}\n{HELP}").into());
                }
            }
            "--peer-span" => a.peer_span = number(&value)?.max(1) as f64,
            "--duration" => a.duration = number(&value)?.max(1) as u64,
            "--connections" => a.connections = number(&value)?.max(1) as usize,
            "--clients" => a.clients = number(&value)?.max(1) as usize,
            "--scrapes" => a.scrapes = number(&value)?.max(1) as usize,
            "--batch-size" => {
                let _ = tick::BATCH_SIZE.set(number(&value)?.max(1));
            }
            "--page" => a.page = value,
            "--page-cookie" => a.page_cookie = Some(value),
            "--server" => a.server = PathBuf::from(value),
            "--data-dir" => a.data_dir = PathBuf::from(value),
            other => return Err(format!("unknown flag {other}\n{HELP}").into()),
        }
        i += 2;
    }
    if a.sizes.is_empty() {
        return Err("--sizes needs at least one size".into());
    }
    if a.metrics_rows == 0 {
        a.metrics_rows = a.sizes.iter().copied().max().unwrap_or(1_000_000);
    }
    Ok(a)
}

impl Args {
    fn wants(&self, scenario: &str) -> bool {
        self.only.iter().any(|s| s == scenario)
    }

    /// Sizes the tick runs at: all for scenarios 1 and 2, the largest for memory alone.
    fn tick_sizes(&self) -> Vec<i64> {
        if self.wants("tick") || self.wants("growth") {
            self.sizes.clone()
        } else if self.wants("memory") {
            vec![self.sizes[self.sizes.len() - 1]]
        } else {
            Vec::new()
        }
    }

    /// Whether a server runs on the HTTP data set (scenarios 4, 7 and 6's server peak).
    fn serves_http(&self) -> bool {
        self.wants("http") || self.wants("ingest") || self.wants("memory")
    }

    /// Whether the reports scenario runs (on the HTTP data set).
    fn reports(&self) -> bool {
        self.wants("reports")
    }

    /// Whether a server runs on the metrics data set (scenario 5 and 6's start-up peak).
    fn serves_metrics(&self) -> bool {
        self.wants("metrics") || self.wants("memory")
    }

    /// Sizes (open workflows) of the data sets the chosen scenarios run on.
    fn data_sets(&self) -> Vec<i64> {
        let mut sets = self.tick_sizes();
        if self.serves_http() || self.reports() {
            sets.push(self.http_rows);
        }
        if self.serves_metrics() {
            sets.push(self.metrics_rows);
        }
        sets.sort_unstable();
        sets.dedup();
        sets
    }
}

/// `100k`, `1M`, `2500`.
fn size(n: i64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |m| m.trim().to_string());
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_gb = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{model}, {cpus} CPUs, {ram_gb:.0} GB RAM")
}

async fn backend_version(dbs: &mut Databases, backend: &'static str) -> String {
    let probe = async {
        let (db, store) = dbs
            .empty(backend, &format!("escalator_bench_probe_{}", std::process::id()))
            .await?;
        let pool = store.pool();
        let version = if backend == "sqlite" {
            let v = db::text(&pool, "SELECT sqlite_version()").await?;
            format!("SQLite {v} (WAL, synchronous=NORMAL)")
        } else {
            let v = db::text(&pool, "SHOW server_version").await?;
            let fsync = db::text(&pool, "SHOW fsync").await?;
            let commit = db::text(&pool, "SHOW synchronous_commit").await?;
            let buffers = db::text(&pool, "SHOW shared_buffers").await?;
            format!("PostgreSQL {v} (fsync={fsync}, synchronous_commit={commit}, shared_buffers={buffers})")
        };
        db::close(&pool).await;
        dbs.remove(&db).await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(version)
    };
    probe.await.unwrap_or_else(|e| format!("{backend}: {e}"))
}

#[tokio::main]
async fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut dbs = match Databases::new(
        args.data_dir.clone(),
        std::env::var("ESCALATOR_BENCH_PG_URL").ok(),
        args.reuse,
        args.keep,
    ) {
        Ok(dbs) => dbs,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(2);
        }
    };
    if args.prepare {
        let mut failed = false;
        for backend in args.backends.clone() {
            for open in args.data_sets() {
                if let Err(err) = data::template(&mut dbs, backend, open, args.due).await {
                    eprintln!("{backend}: {err}");
                    failed = true;
                }
            }
        }
        dbs.cleanup().await;
        eprintln!("data sets ready in {:.0} s", started.elapsed().as_secs_f64());
        std::process::exit(i32::from(failed));
    }
    let mut lines = Vec::new();
    let mut versions = Vec::new();
    let mut failures = Vec::new();
    for backend in args.backends.clone() {
        versions.push(backend_version(&mut dbs, backend).await);
        if let Err(err) = run_backend(&args, &mut dbs, backend, &mut lines).await {
            eprintln!("{backend}: {err}");
            failures.push(format!("{backend}: {err}"));
        }
    }
    dbs.cleanup().await;

    println!();
    println!(
        "{} — {}; {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine(),
        versions.join("; ")
    );
    println!(
        "runs {}, due {}, tick sizes {}, HTTP at {}, metrics at {}, wrk {} s × {} connections, {} ingest clients; {:.0} s in all",
        args.runs,
        args.due,
        args.sizes.iter().map(|s| size(*s)).collect::<Vec<_>>().join(" and "),
        size(args.http_rows),
        size(args.metrics_rows),
        args.duration,
        args.connections,
        args.clients,
        started.elapsed().as_secs_f64()
    );
    println!();
    print!("{}", report::table(&lines));
    for failure in &failures {
        println!("\nfailed: {failure}");
    }
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

async fn run_backend(args: &Args, dbs: &mut Databases, backend: &'static str, lines: &mut Vec<Line>) -> Result<()> {
    eprintln!("== {backend}");
    if args.reports() {
        eprintln!("  8. SLA reports over {} outcomes", size(args.outcomes));
        // The HTTP data set as a running server finds it (its due workflows ticked), so a
        // server started on it measures reports, not a first tick's backlog.
        let copy = served_copy(args, dbs, backend, args.http_rows, "reports").await?;
        // Through HTTP as well when the release server is built (the in-process figures
        // are the database's share; the page adds rendering and the connection).
        let log = args.data_dir.join(format!("server-{backend}-reports.log"));
        let server = args.server.exists().then_some((args.server.as_path(), log.as_path()));
        if server.is_none() {
            eprintln!(
                "    (no {}: the report is timed in-process only)",
                args.server.display()
            );
        }
        let (reports, explained) = reports::measure(dbs, copy, args.outcomes, args.report_calls, server).await?;
        for (shape, times) in reports {
            let median = Line::new("", backend, Unit::Millis, times.clone(), Goal::None)
                .stats()
                .map_or(f64::NAN, |(m, _, _)| m);
            lines.push(
                Line::new(
                    format!("8. SLA report p99, {shape}, {} outcomes", size(args.outcomes)),
                    backend,
                    Unit::Millis,
                    vec![reports::p99(&times)],
                    Goal::AtMost(200.0),
                )
                .note(format!("median {median:.0} ms of {} calls", times.len())),
            );
        }
        if let Some((times, bytes)) = explained {
            let median = Line::new("", backend, Unit::Millis, times.clone(), Goal::None)
                .stats()
                .map_or(f64::NAN, |(m, _, _)| m);
            lines.push(
                Line::new(
                    "10. explained clock of a five-year-old workflow, GET /api/v1/workflows/{id}/sla p99",
                    backend,
                    Unit::Millis,
                    vec![reports::p99(&times)],
                    Goal::AtMost(10.0),
                )
                .note(format!(
                    "median {median:.1} ms of {} calls, {:.1} KB",
                    times.len(),
                    bytes as f64 / 1024.0
                )),
            );
        }
    }
    if args.wants("peers") && backend == "postgres" {
        check_server_binary(args)?;
        eprintln!("  9. peers on {} open, {} due", size(args.http_rows), size(args.due));
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        peers::measure(
            dbs,
            &root,
            args.http_rows,
            args.due,
            args.peer_span,
            &args.peers,
            &args.server,
            &args.data_dir,
            lines,
        )
        .await?;
    }
    if args.wants("outbox") {
        eprintln!("  3. outbox delivery ({} rows)", args.outbox_rows);
        let per_second = outbox::measure(dbs, backend, args.outbox_rows, args.runs).await?;
        let goal = if backend == "postgres" { 10_000.0 } else { 2_000.0 };
        lines.push(
            Line::new(
                "3. outbox delivery, no-op channel (claim → deliver → mark, batches of 1,000)",
                backend,
                Unit::PerSecond,
                per_second,
                Goal::AtLeast(goal),
            )
            .note(format!("{} rows", args.outbox_rows)),
        );
    }

    let sizes = args.tick_sizes();
    if !sizes.is_empty() {
        let mut per_size = Vec::new();
        for &open in &sizes {
            eprintln!("  1. tick at {} open, {} due", size(open), args.due);
            let template = data::template(dbs, backend, open, args.due).await?;
            let runs = tick::measure(dbs, &template, args.runs, args.due).await?;
            per_size.push((open, runs));
        }
        for (open, runs) in &per_size {
            if !args.wants("tick") {
                break;
            }
            let label = format!("{} open / {} due", size(*open), size(args.due));
            let note = runs.notes.join("; ");
            lines.push(
                Line::new(
                    format!("1. tick, {label}"),
                    backend,
                    Unit::Millis,
                    runs.tick_ms.clone(),
                    Goal::None,
                )
                .note(note),
            );
            lines.push(Line::new(
                format!("1. floor (raw SQL, 1 transaction), {label}"),
                backend,
                Unit::Millis,
                runs.floor_ms.clone(),
                Goal::None,
            ));
            let ratios = runs.tick_ms.iter().zip(&runs.floor_ms).map(|(t, f)| t / f).collect();
            lines.push(Line::new(
                format!("1. tick / floor, {label}"),
                backend,
                Unit::Ratio,
                ratios,
                // Issue 21's goal (issue 8 asked for 2×).
                Goal::AtMost(1.5),
            ));
        }
        if let (true, Some((small, a)), Some((large, b))) = (args.wants("growth"), per_size.first(), per_size.last()) {
            if large > small {
                let ratios = b.tick_ms.iter().zip(&a.tick_ms).map(|(l, s)| l / s).collect();
                lines.push(Line::new(
                    format!(
                        "2. growth: tick({}) / tick({}), {} due each",
                        size(*large),
                        size(*small),
                        size(args.due)
                    ),
                    backend,
                    Unit::Ratio,
                    ratios,
                    Goal::AtMost(1.2),
                ));
                let floors = b.floor_ms.iter().zip(&a.floor_ms).map(|(l, s)| l / s).collect();
                lines.push(
                    Line::new(
                        format!(
                            "2. growth of the floor: floor({}) / floor({})",
                            size(*large),
                            size(*small)
                        ),
                        backend,
                        Unit::Ratio,
                        floors,
                        Goal::None,
                    )
                    .note("what the database itself grows by"),
                );
            }
        }
        if let (true, Some((open, runs))) = (args.wants("memory"), per_size.last()) {
            lines.push(
                Line::new(
                    format!("6. peak RSS, tick in-process ({} open)", size(*open)),
                    backend,
                    Unit::Megabytes,
                    runs.tick_rss_mb.clone(),
                    Goal::AtMost(150.0),
                )
                .note("bench process, VmHWM reset before the tick"),
            );
        }
    }

    if args.serves_http() {
        http_scenarios(args, dbs, backend, lines).await?;
    }
    if args.serves_metrics() {
        metrics_scenario(args, dbs, backend, lines).await?;
    }
    Ok(())
}

/// A copy of the `open`-workflow data set with its due workflows already ticked, as a
/// server that has been running finds it.
async fn served_copy(args: &Args, dbs: &mut Databases, backend: &'static str, open: i64, run: &str) -> Result<db::Db> {
    let template = data::template(dbs, backend, open, args.due).await?;
    let copy = dbs.copy(&template, run).await?;
    tick::tick_once(&copy).await?;
    // The HTTP scenarios measure a server in its steady state: without this, it would
    // spend the measurement delivering the tick's 20k notifications and events.
    let store = escalator_storage::connect(&copy.url).await?;
    let pool = store.pool();
    db::exec(
        &pool,
        "UPDATE outbox SET status = 'delivered', delivered_at = $1 WHERE status = 'pending'",
        &[db::Arg::Time(chrono::Utc::now())],
    )
    .await?;
    db::close(&pool).await;
    Ok(copy)
}

fn check_server_binary(args: &Args) -> Result<()> {
    if args.server.exists() {
        Ok(())
    } else {
        Err(format!(
            "{} is missing: cargo build --release -p server (./scripts/bench.sh does)",
            args.server.display()
        )
        .into())
    }
}

async fn http_scenarios(args: &Args, dbs: &mut Databases, backend: &'static str, lines: &mut Vec<Line>) -> Result<()> {
    check_server_binary(args)?;
    eprintln!("  4./7. HTTP at {} open", size(args.http_rows));
    let copy = served_copy(args, dbs, backend, args.http_rows, "http").await?;
    let (policy_id, chain_id) = {
        let store = escalator_storage::connect(&copy.url).await?;
        let pool = store.pool();
        let ids = (
            db::scalar(&pool, "SELECT MIN(id) FROM sla_policies", &[]).await?,
            db::scalar(&pool, "SELECT MIN(id) FROM escalation_chains", &[]).await?,
        );
        db::close(&pool).await;
        ids
    };
    let log = args.data_dir.join(format!("server-{backend}-http.log"));
    let mut server = http::Server::start(&args.server, &copy, &log)?;
    let auth = format!("Authorization: Bearer {}", server.token);
    let label = size(args.http_rows);
    let conn = args.connections;

    if args.wants("http") {
        let api = format!("{}/api/v1/workflows", server.base);
        let (status, _) = http::get(
            &server.addr,
            "/api/v1/workflows",
            &[("Authorization", &format!("Bearer {}", server.token))],
        )?;
        if status != 200 {
            return Err(format!("GET /api/v1/workflows answered {status}").into());
        }
        let (p99, rate, errors) = wrk_runs(args, &api, conn, std::slice::from_ref(&auth), None)?;
        lines.push(
            Line::new(
                format!("4. API GET /api/v1/workflows (first page of 50), p99, {label} open"),
                backend,
                Unit::Millis,
                p99,
                Goal::AtMost(20.0),
            )
            .note(format!("wrk -c{conn}{errors}")),
        );
        lines.push(
            Line::new(
                format!("4. API GET /api/v1/workflows, rate, {label} open"),
                backend,
                Unit::PerSecond,
                rate,
                Goal::None,
            )
            .note(format!("wrk -c{conn}, closed loop")),
        );

        let page = format!("{}{}", server.base, args.page);
        // The page wants a session: the one given, or the admin's, signed in now.
        let cookie = match &args.page_cookie {
            Some(cookie) => cookie.clone(),
            None => http::login(&server.addr, data::ADMIN, http::PASSWORD)?,
        };
        let headers = vec![format!("Cookie: {cookie}")];
        let (status, body) = http::get(&server.addr, &args.page, &[("Cookie", cookie.as_str())])?;
        let page_note = format!("{status}, {} bytes", body.len());
        eprintln!("    page {} answered {page_note}", args.page);
        let (p99, rate, errors) = wrk_runs(args, &page, conn, &headers, None)?;
        lines.push(
            Line::new(
                format!("4. page GET {}, p99, {label} open", args.page),
                backend,
                Unit::Millis,
                p99,
                Goal::AtMost(50.0),
            )
            .note(format!("wrk -c{conn}; answered {page_note}{errors}")),
        );
        lines.push(
            Line::new(
                format!("4. page GET {}, rate, {label} open", args.page),
                backend,
                Unit::PerSecond,
                rate,
                Goal::AtLeast(1000.0),
            )
            .note(format!("wrk -c{conn}, closed loop: the rate it sustains")),
        );
    }

    if args.wants("ingest") {
        let url = format!("{}/api/v1/workflows", server.base);
        let mut rates = Vec::new();
        let mut notes = Vec::new();
        for run in 0..args.runs {
            let script = http::ingest_script(
                &args.data_dir,
                &format!("{}{run}", std::process::id()),
                policy_id,
                chain_id,
            )?;
            let r = http::wrk(
                &url,
                args.clients,
                args.duration,
                std::slice::from_ref(&auth),
                Some(&script),
            )?;
            let _ = std::fs::remove_file(&script);
            eprintln!(
                "    ingest run {}: {:.0}/s, p99 {:.1} ms, {} errors",
                run + 1,
                r.requests_per_second,
                r.p99_ms,
                r.errors
            );
            if r.errors > 0 {
                notes.push(format!("{} failed requests", r.errors));
            }
            rates.push(r.requests_per_second);
        }
        notes.insert(0, format!("{} clients (wrk -c{})", args.clients, args.clients));
        lines.push(
            Line::new(
                format!("7. ingest POST /api/v1/workflows, {label} open"),
                backend,
                Unit::PerSecond,
                rates,
                Goal::None,
            )
            .note(notes.join("; ")),
        );
    }

    let peak = server.peak_mb();
    server.stop();
    if args.wants("memory") {
        lines.push(
            Line::new(
                format!("6. server peak RSS, {label} open (API, page, ingest)"),
                backend,
                Unit::Megabytes,
                peak.into_iter().collect(),
                Goal::AtMost(150.0),
            )
            .note("VmHWM of escalator serve"),
        );
    }
    dbs.remove(&copy).await?;
    Ok(())
}

/// `runs` wrk runs: p99 and rate per run, and a note when requests failed.
fn wrk_runs(
    args: &Args,
    url: &str,
    connections: usize,
    headers: &[String],
    script: Option<&std::path::Path>,
) -> Result<(Vec<f64>, Vec<f64>, String)> {
    let (mut p99, mut rate, mut errors) = (Vec::new(), Vec::new(), 0);
    for run in 0..args.runs {
        let r = http::wrk(url, connections, args.duration, headers, script)?;
        eprintln!(
            "    {url} run {}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
            run + 1,
            r.requests_per_second,
            r.p50_ms,
            r.p99_ms,
            r.errors
        );
        p99.push(r.p99_ms);
        rate.push(r.requests_per_second);
        errors += r.errors;
    }
    let note = if errors > 0 {
        format!("; **{errors} non-2xx/socket errors**")
    } else {
        String::new()
    };
    Ok((p99, rate, note))
}

async fn metrics_scenario(
    args: &Args,
    dbs: &mut Databases,
    backend: &'static str,
    lines: &mut Vec<Line>,
) -> Result<()> {
    check_server_binary(args)?;
    eprintln!("  5. metrics at {} open", size(args.metrics_rows));
    let copy = served_copy(args, dbs, backend, args.metrics_rows, "metrics").await?;
    let log = args.data_dir.join(format!("server-{backend}-metrics.log"));
    let mut server = http::Server::start(&args.server, &copy, &log)?;
    let label = size(args.metrics_rows);
    let times = http::scrape_times(&server.addr, args.scrapes)?;
    let peak = server.peak_mb();
    server.stop();
    if args.wants("metrics") {
        lines.push(
            Line::new(
                format!("5. metrics scrape GET /metrics, {label} open"),
                backend,
                Unit::Millis,
                times,
                Goal::AtMost(5.0),
            )
            .note(format!("{} scrapes, new connection each", args.scrapes)),
        );
    }
    if args.wants("memory") {
        lines.push(
            Line::new(
                format!("6. server peak RSS, {label} open (start-up, scrapes)"),
                backend,
                Unit::Megabytes,
                peak.into_iter().collect(),
                Goal::AtMost(150.0),
            )
            .note("VmHWM of escalator serve"),
        );
    }
    dbs.remove(&copy).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Args {
        let argv: Vec<String> = line.split_whitespace().map(String::from).collect();
        match parse_args(&argv) {
            Ok(args) => args,
            Err(err) => panic!("{line}: {err}"),
        }
    }

    #[test]
    fn data_flags_choose_what_is_reused_and_what_is_kept() {
        let plain = args("");
        assert!(!plain.reuse && !plain.keep && !plain.prepare);
        let kept = args("--keep-data");
        assert!(kept.reuse && kept.keep && !kept.prepare);
        let prepared = args("--prepare --runs 1");
        assert!(prepared.prepare && prepared.keep && !prepared.reuse);
        assert_eq!(prepared.runs, 1);
        let reused = args("--reuse-data");
        assert!(reused.reuse && !reused.keep && !reused.prepare);
    }

    #[test]
    fn data_sets_are_the_sizes_the_chosen_scenarios_run_on() {
        assert_eq!(args("").data_sets(), vec![100_000, 1_000_000]);
        assert_eq!(args("--only http").data_sets(), vec![100_000]);
        assert_eq!(args("--only outbox").data_sets(), Vec::<i64>::new());
        assert_eq!(args("--only tick --sizes 5000,50000").data_sets(), vec![5_000, 50_000]);
        assert_eq!(
            args("--only memory --sizes 1000,2000 --http-rows 1500").data_sets(),
            vec![1_500, 2_000]
        );
        assert_eq!(
            args("--only http,metrics --http-rows 300 --metrics-rows 700").data_sets(),
            vec![300, 700]
        );
    }
}
