"""Runs one system on one prepared copy of the benchmark's data set and prints its figures.

    harness.py --db URL --system SYSTEM --mode burst|steady [--span S] [--lead S]
               [--timeout S] [--escalator PATH] [--logs DIR]

The copy holds the 100k-open data set; its due workflows (10k) are given new deadlines:
all at T0 (burst) or spread evenly over --span seconds from T0 (steady), T0 being --lead
seconds after the start, so every system is up and its jobs scheduled before the first
deadline. Each system then escalates them its own way. Measured from the database:
lateness = commit time of the workflow's escalation (track_commit_timestamp) minus its
deadline; the burst's duration = last commit minus T0. Measured from /proc: CPU seconds and
peak resident memory of all the system's processes (its broker too; not PostgreSQL,
which every system shares). Prints one JSON object. Escalator also delivers what it
wrote (the in-app notifications, fanned out per channel, and the events); the peers only
write the rows, so the outbox rows counted are the ones each escalation wrote.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

SYSTEMS = {
    "escalator": "Escalator: escalator serve (tick + deadline watcher, as shipped)",
    "graphile": "graphile-worker, one job per deadline (run_at), default settings (concurrency 1, poll 2 s)",
    "graphile-tuned": "graphile-worker, one job per deadline (run_at), concurrency 8, poll 250 ms",
    "celery-beat": "Celery + Redis, the seed's beat task (interval 10 s) escalating one by one",
    "celery-eta": "Celery + Redis, one ETA task per deadline",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(roots):
    """The pids of the processes started and all their descendants."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except OSError:
                pass
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def sample(pids, cpu):
    """Adds each process's CPU ticks to `cpu` (last seen per pid); the tree's RSS in bytes."""
    rss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu[pid] = int(fields[11]) + int(fields[12])
            with open(f"/proc/{pid}/statm") as f:
                rss += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return rss


class Processes:
    def __init__(self, logs):
        self.procs = []
        self.logs = logs

    def start(self, name, args, env=None, cwd=None):
        log = open(self.logs / f"peer-{name}.log", "w")
        p = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def roots(self):
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.time() + 15
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def wait_for(check, seconds, what):
    started = time.time()
    while time.time() - started < seconds:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} not ready within {seconds} s")


def prepare(db, mode, t0, span):
    with psycopg.connect(db, autocommit=True) as c:
        if c.execute("SHOW track_commit_timestamp").fetchone()[0] != "on":
            raise SystemExit("PostgreSQL needs track_commit_timestamp=on (lateness is read from commit times)")
        c.execute(
            "CREATE TABLE bench_deadlines AS SELECT id, next_check_at AS due_at FROM workflows "
            "WHERE next_check_at IS NOT NULL AND next_check_at <= now() ORDER BY id"
        )
        n = c.execute("SELECT count(*) FROM bench_deadlines").fetchone()[0]
        step = 0 if mode == "burst" else span / max(n, 1)
        c.execute(
            "UPDATE bench_deadlines b SET due_at = %s + make_interval(secs => %s * r.rank) "
            "FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rank FROM bench_deadlines) r WHERE r.id = b.id",
            (t0, step),
        )
        # The deadline moves; the warning stays passed, so at its deadline a workflow is
        # escalated without a reminder first (as in the tick benchmark).
        c.execute(
            "UPDATE workflows w SET due_at = b.due_at, next_check_at = b.due_at FROM bench_deadlines b WHERE b.id = w.id"
        )
        c.execute("CREATE INDEX ON bench_deadlines (id)")
        c.execute("ANALYZE")
    return n


def start(system, db, procs, escalator, redis_port):
    if system == "escalator":
        port = free_port()
        procs.start("escalator", [escalator, "serve"],
                    {"DATABASE_URL": db, "ESCALATOR_LISTEN": f"127.0.0.1:{port}", "RUST_LOG": os.environ.get("RUST_LOG", "warn")})
        wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200, 120,
                 "escalator")
        return
    if system.startswith("graphile"):
        env = {"DATABASE_URL": db}
        subprocess.run(["node", "escalate.js", "schedule"], cwd=HERE, env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL)
        if system == "graphile-tuned":
            env.update({"GRAPHILE_CONCURRENCY": "8", "GRAPHILE_POLL_INTERVAL_MS": "250"})
        procs.start(system, ["node", "escalate.js", "work"], env, cwd=HERE)
        return
    redis = shutil.which("redis-server") or "/usr/bin/redis-server"
    procs.start("redis", [redis, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    broker = f"redis://127.0.0.1:{redis_port}/0"

    def redis_up():
        with socket.create_connection(("127.0.0.1", redis_port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    wait_for(redis_up, 30, "redis")
    env = {"DATABASE_URL": db, "CELERY_BROKER_URL": broker, "BEAT_SECONDS": "10"}
    python = sys.executable
    procs.start(f"{system}-worker", [python, "-m", "celery", "-A", "celery_peer", "worker", "--loglevel", "WARNING"],
                env, cwd=HERE)
    if system == "celery-beat":
        schedule = procs.logs / "celerybeat-schedule"
        for old in procs.logs.glob("celerybeat-schedule*"):
            old.unlink()
        procs.start("celery-beat-beat", [python, "-m", "celery", "-A", "celery_peer", "beat", "--loglevel", "WARNING",
                                         "--schedule", str(schedule)], env, cwd=HERE)
    else:
        os.environ.update(env)
        sys.path.insert(0, str(HERE))
        import celery_peer  # noqa: E402  (configured by the environment just set)

        with psycopg.connect(db, autocommit=True) as c:
            rows = c.execute("SELECT id, due_at FROM bench_deadlines ORDER BY due_at, id").fetchall()
        for workflow_id, due_at in rows:
            celery_peer.escalate_task.apply_async((workflow_id,), eta=due_at)


def measure(db, n, t0, procs, timeout):
    cpu = {}
    peak = 0
    done = 0
    ended = time.time() + timeout
    with psycopg.connect(db, autocommit=True) as c:
        while time.time() < ended:
            peak = max(peak, sample(tree(procs.roots()), cpu))
            done = c.execute(
                "SELECT count(*) FROM bench_deadlines b JOIN workflows w ON w.id = b.id WHERE w.level >= 1"
            ).fetchone()[0]
            if done >= n:
                break
            time.sleep(0.25)
        peak = max(peak, sample(tree(procs.roots()), cpu))
        lateness = [
            r[0] for r in c.execute(
                "SELECT EXTRACT(EPOCH FROM pg_xact_commit_timestamp(a.xmin) - b.due_at)::float8 "
                "FROM bench_deadlines b JOIN audit_log a ON a.workflow_id = b.id AND a.action = 'escalate' "
                "ORDER BY 1"
            ).fetchall()
        ]
        last = c.execute(
            "SELECT EXTRACT(EPOCH FROM max(pg_xact_commit_timestamp(a.xmin)) - %s)::float8 "
            "FROM bench_deadlines b JOIN audit_log a ON a.workflow_id = b.id AND a.action = 'escalate'",
            (t0,),
        ).fetchone()[0]
        effects = c.execute(
            """SELECT (SELECT count(*) FROM bench_deadlines b JOIN workflows w ON w.id = b.id
                        WHERE w.level = 1 AND w.status = 'escalated'),
                      (SELECT count(*) FROM sla_transitions t JOIN bench_deadlines b ON b.id = t.workflow_id
                        WHERE t.kind = 'escalate'),
                      (SELECT count(*) FROM audit_log a JOIN bench_deadlines b ON b.id = a.workflow_id
                        WHERE a.action = 'escalate'),
                      (SELECT count(*) FROM outbox o JOIN bench_deadlines b ON b.id = o.workflow_id
                        WHERE o.topic = 'workflow.escalated' AND o.channel IS NULL)"""
        ).fetchone()
    return done, lateness, last, sum(cpu.values()) / TICKS, peak / 1e6, effects


def quantile(values, q):
    if not values:
        return None
    return values[min(len(values) - 1, max(0, int(-(-q * len(values) // 1)) - 1))]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--db", required=True)
    a.add_argument("--system", required=True, choices=sorted(SYSTEMS))
    a.add_argument("--mode", required=True, choices=["burst", "steady"])
    a.add_argument("--span", type=float, default=120.0)
    a.add_argument("--lead", type=float, default=30.0)
    a.add_argument("--timeout", type=float, default=600.0)
    a.add_argument("--escalator", default="target/release/escalator")
    a.add_argument("--logs", default="target/bench")
    args = a.parse_args()
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    t0 = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=args.lead)
    n = prepare(args.db, args.mode, t0, args.span)
    procs = Processes(logs)
    try:
        start(args.system, args.db, procs, os.path.abspath(args.escalator), free_port())
        if datetime.now(timezone.utc) > t0:
            raise SystemExit(f"{args.system} took longer than the lead ({args.lead} s) to start")
        budget = args.lead + (args.span if args.mode == "steady" else 0) + args.timeout
        done, lateness, last, cpu, peak, effects = measure(args.db, n, t0, procs, budget)
    finally:
        procs.stop()
    print(json.dumps({
        "system": args.system,
        "setup": SYSTEMS[args.system],
        "mode": args.mode,
        "due": n,
        "escalated": done,
        "effects": {"escalated": effects[0], "transitions": effects[1], "audit": effects[2], "outbox": effects[3]},
        "burst_seconds": last,
        "per_second": (done / last) if last and last > 0 else None,
        "lateness_p50": quantile(lateness, 0.5),
        "lateness_p99": quantile(lateness, 0.99),
        "lateness_max": lateness[-1] if lateness else None,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak,
    }))


if __name__ == "__main__":
    main()
