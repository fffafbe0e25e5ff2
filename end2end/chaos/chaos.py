#!/usr/bin/env python3
"""Chaos harness for Escalator (issue 15): N replicas on one PostgreSQL database, a
steady stream of workflows created through the REST API, kill -9 of random replicas
(and on purpose of the tick holder), an SMTP outage, then checks from the database and
from what the SMTP sink received. Prints a JSON report and a human summary; exit status
1 on any violation, 2 when the harness itself could not run.

Run with Debian's interpreter, /usr/bin/python3 (3.11): the SMTP sink needs Debian's
python3-aiosmtpd, which lives in /usr/lib/python3/dist-packages (pyenv's python3 on
PATH does not see it). Everything else is the standard library plus the `psql` CLI.

    /usr/bin/python3 end2end/chaos/chaos.py --short      # ~3 minutes
    /usr/bin/python3 end2end/chaos/chaos.py              # long profile, ~10 minutes
    /usr/bin/python3 end2end/chaos/chaos.py --help       # every number can be overridden
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "chaos.test"
# The Message-ID domain is the domain of ESCALATOR_SMTP_FROM (server/src/config.rs), and
# the id is `<outbox-{outbox.id}@{domain}>` (engine/src/notify/email.rs).
SMTP_FROM = f"Escalator <escalator@{DOMAIN}>"
# The application_name of the connection holding the tick's advisory lock. The issue says
# `escalator-tick pid=<pid>`; storage/src/lock.rs (in progress) writes `escalator-lock tick
# pid=<pid>`. Both are accepted; the pid is what follows `pid=`.
TICK_APP_NAMES = ("escalator-tick pid=%", "escalator-lock tick pid=%")

# Profile defaults; every one has a flag. The short profile must stay under 3 minutes of
# wall time including set-up even when the engine never quiesces (it then waits for the
# full --quiesce-timeout): 8 s set-up + 60 s creation + 54 s chain + 35 s + 15 s SIGTERM.
PROFILES: dict[str, dict[str, Any]] = {
    "short": dict(
        replicas=3, rate=6.0, create_seconds=60, creators=4, departments=4, assignees=5,
        target_seconds=30, warning_seconds=10, level_seconds=12, chain_levels=2,
        kill_min=3.0, kill_max=10.0, holder_every_min=3, holder_every_max=4,
        restart_min=1.0, restart_max=3.0, chaos_tail=30, outage_seconds=15,
        quiesce_timeout=35, min_kills=5, min_holder_kills=1,
        # Looser lateness bounds than the goals: ~700 escalations make p99 the 7th worst
        # sample, and one holder kill just before a burst of deadlines is a larger share of
        # a short run; 30 s max still catches a lease that is not taken over (300 s).
        max_esc_p99=5.0, max_esc_max=30.0, max_drain=35.0,
    ),
    "long": dict(
        replicas=3, rate=10.0, create_seconds=330, creators=4, departments=4, assignees=5,
        target_seconds=30, warning_seconds=10, level_seconds=15, chain_levels=2,
        kill_min=3.0, kill_max=10.0, holder_every_min=3, holder_every_max=4,
        restart_min=1.0, restart_max=3.0, chaos_tail=60, outage_seconds=60,
        quiesce_timeout=150, min_kills=30, min_holder_kills=3,
        # The goals of issue 15.
        max_esc_p99=2.0, max_esc_max=15.0, max_drain=30.0,
    ),
}

# ----------------------------------------------------------------------------- queries
# Every check reads the database with one of these (reported verbatim by --print-queries).
Q_QUIESCE = """
SELECT count(*),
       count(*) FILTER (WHERE next_check_at IS NOT NULL),
       count(*) FILTER (WHERE next_check_at <= now()),
       (SELECT count(*) FROM outbox WHERE status = 'pending'),
       (SELECT count(*) FROM outbox WHERE status = 'dead')
FROM workflows"""
Q_HOLDER_ADVISORY = f"""
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()
  AND (a.application_name LIKE '{TICK_APP_NAMES[0]}' OR a.application_name LIKE '{TICK_APP_NAMES[1]}')"""
Q_HOLDER_LEASE = "SELECT holder FROM leases WHERE name = 'tick' AND expires_at > now()"
Q_WORKFLOW_IDS = """
SELECT external_id, count(*) FROM workflows WHERE external_id LIKE 'chaos-%' GROUP BY external_id"""
Q_WORKFLOWS = """
SELECT id, department_key, status, level, (next_check_at IS NULL)::int,
       extract(epoch FROM created_at), extract(epoch FROM due_at),
       COALESCE(extract(epoch FROM next_check_at)::text, '')
FROM workflows WHERE external_id LIKE 'chaos-%'"""
# One engine transition is one audit row; the key is the transition's claim (stage_seq is
# constant here: the harness never advances a stage). `level` is the level the workflow
# was at: `from_level` for escalate, `level` for remind and chain_exhausted.
Q_AUDIT_DUPLICATES = """
SELECT workflow_id, action, lvl, rep, count(*) FROM (
  SELECT workflow_id, action,
         COALESCE(details::jsonb->>'from_level', details::jsonb->>'level') AS lvl,
         COALESCE(details::jsonb->>'repeat', '0') AS rep
  FROM audit_log
  WHERE workflow_id IS NOT NULL AND action IN ('remind', 'escalate', 'chain_exhausted')) t
GROUP BY workflow_id, action, lvl, rep HAVING count(*) > 1"""
Q_AUDIT_TRANSITIONS = """
SELECT workflow_id, action, extract(epoch FROM at),
       COALESCE(details::jsonb->>'from_level', details::jsonb->>'level', ''),
       COALESCE(extract(epoch FROM (details::jsonb->>'due_at')::timestamptz)::text, ''),
       COALESCE(details::jsonb->>'to_assignee', '')
FROM audit_log
WHERE workflow_id IS NOT NULL AND action IN ('remind', 'escalate', 'chain_exhausted')"""
Q_AUDIT_ACTIONS = "SELECT action, count(*) FROM audit_log WHERE workflow_id IS NOT NULL GROUP BY action"
Q_TRANSITIONS = "SELECT kind, count(*) FROM sla_transitions GROUP BY kind"
Q_REMINDER_DUPLICATES = """
SELECT workflow_id, stage_seq, level, count(*), sum(sent_count) FROM reminders
GROUP BY workflow_id, stage_seq, level HAVING count(*) > 1 OR sum(sent_count) > 1"""
Q_REMINDER_COUNT = "SELECT count(*) FROM reminders"
Q_OUTBOX_STATUS = "SELECT status, COALESCE(channel, '(unrouted)'), count(*) FROM outbox GROUP BY 1, 2"
Q_OUTBOX_EMAILS = """
SELECT id, status, topic, COALESCE(payload::jsonb->>'to', '[]'), COALESCE(payload::jsonb->>'cc', '[]')
FROM outbox WHERE channel = 'email'"""
Q_IN_APP_MISSING = """
SELECT count(*) FROM outbox o WHERE o.channel = 'in_app' AND o.status = 'delivered'
  AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.outbox_id = o.id)"""
Q_DRAINED = """
SELECT COALESCE(extract(epoch FROM max(delivered_at))::text, ''),
       count(*) FILTER (WHERE status <> 'delivered') FROM outbox"""
Q_DIGESTED = "SELECT count(*) FROM outbox WHERE digest_id IS NOT NULL"

ALL_QUERIES = {k: v for k, v in globals().items() if k.startswith("Q_")}


# ----------------------------------------------------------------------------- helpers
def log(msg: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fmt(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds}s"


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def stats(values: list[float]) -> dict[str, Any]:
    r = lambda v: None if v is None else round(v, 3)  # noqa: E731
    return {
        "count": len(values),
        "p50": r(percentile(values, 50)),
        "p99": r(percentile(values, 99)),
        "max": r(max(values) if values else None),
        "min": r(min(values) if values else None),
    }


class Psql:
    """The database through the `psql` CLI: no driver needed. Rows come back as lists
    of strings separated by the unit separator (no value here contains it)."""

    SEP = "\x1f"

    def __init__(self, url: str):
        self.url = url
        self.env = {**os.environ, "PGAPPNAME": "escalator-chaos", "PGCONNECT_TIMEOUT": "10"}

    def rows(self, sql: str, timeout: float = 60) -> list[list[str]]:
        r = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-F", self.SEP, "-d", self.url, "-c", sql],
            capture_output=True, text=True, timeout=timeout, env=self.env,
        )
        if r.returncode != 0:
            raise RuntimeError(f"psql failed ({r.returncode}): {r.stderr.strip()}\n{sql}")
        return [line.split(self.SEP) for line in r.stdout.splitlines() if line != ""]

    def one(self, sql: str, timeout: float = 60) -> list[str]:
        rows = self.rows(sql, timeout)
        return rows[0] if rows else []


def with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def api(port: int, method: str, path: str, token: str | None = None, body: Any = None,
        headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, Any]:
    """One HTTP request; raises OSError / HTTPException on connection problems."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return resp.status, parsed
    finally:
        conn.close()


# ----------------------------------------------------------------------------- report
@dataclass
class Report:
    profile: str
    ok: bool = False
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run_dir: str = ""
    binary: str = ""
    database: str = ""
    started_at: str | None = None
    wall_seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    workflows: dict[str, Any] = field(default_factory=dict)
    creator: dict[str, Any] = field(default_factory=dict)
    kills: dict[str, Any] = field(default_factory=dict)
    outage: dict[str, Any] = field(default_factory=dict)
    quiescence: dict[str, Any] = field(default_factory=dict)
    transitions: dict[str, Any] = field(default_factory=dict)
    reminders: dict[str, Any] = field(default_factory=dict)
    outbox: dict[str, Any] = field(default_factory=dict)
    mail: dict[str, Any] = field(default_factory=dict)
    lateness: dict[str, Any] = field(default_factory=dict)
    sigterm: dict[str, Any] = field(default_factory=dict)
    replicas: dict[str, Any] = field(default_factory=dict)

    def violate(self, what: str) -> None:
        self.violations.append(what)


# ----------------------------------------------------------------------------- SMTP sink
def run_sink(port: int, path: str) -> None:
    """The SMTP sink, run as its own process (`--smtp-sink PORT FILE`) so that taking it
    down is a SIGKILL: the port closes and every open connection is reset, like a crashed
    mail server. Each received message is appended to FILE as one JSON line *before* the
    250 reply, so a crash between the two shows up as a duplicate, never as a loss."""
    try:
        from aiosmtpd.smtp import SMTP
    except ImportError:  # pyenv's python3: borrow Debian's pure-Python package.
        sys.path.append("/usr/lib/python3/dist-packages")
        from aiosmtpd.smtp import SMTP
    import asyncio
    import email
    import email.header
    import email.utils

    out = open(path, "a", buffering=1, encoding="utf-8")

    def addresses(msg, name):
        return sorted(a.lower() for _, a in email.utils.getaddresses(msg.get_all(name, [])) if a)

    class Recorder:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            msg = email.message_from_bytes(envelope.content)
            subject = str(email.header.make_header(email.header.decode_header(msg.get("Subject", ""))))
            out.write(json.dumps({
                "message_id": (msg.get("Message-ID") or "").strip(),
                "to": addresses(msg, "To"),
                "cc": addresses(msg, "Cc"),
                "subject": subject,
                "at": time.time(),
            }) + "\n")
            out.flush()
            return "250 OK"

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(Recorder(), hostname="chaos-sink", ident="escalator chaos sink"),
            "127.0.0.1", port, reuse_address=True)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Sink:
    """Starts, kills and restarts the sink subprocess on a fixed port."""

    def __init__(self, run_dir: Path, port: int):
        self.run_dir, self.port = run_dir, port
        self.file = run_dir / "mails.jsonl"
        self.proc: subprocess.Popen | None = None
        self.incarnation = 0

    def start(self, timeout: float = 15) -> None:
        self.incarnation += 1
        errlog = open(self.run_dir / f"sink.{self.incarnation}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--smtp-sink", str(self.port), str(self.file)],
            stdout=subprocess.PIPE, stderr=errlog, text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"SMTP sink exited ({self.proc.returncode}); see {errlog.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("SMTP sink did not start listening in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def messages(self) -> list[dict[str, Any]]:
        if not self.file.exists():
            return []
        out = []
        for line in self.file.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line cut by the sink's SIGKILL mid-write (never acknowledged)
        return out


# ----------------------------------------------------------------------------- replicas
@dataclass
class Replica:
    slot: int
    port: int
    proc: subprocess.Popen | None = None
    incarnation: int = 0
    state: str = "down"  # down | starting | up | stopped
    started_mono: float = 0.0
    next_health: float = 0.0
    restart_at: float | None = None
    killed_by_us: bool = False


class Cluster:
    """The replicas and their supervisor: restarts a killed replica after 1-3 s (like
    systemd or Kubernetes would), notices replicas that died by themselves, and marks a
    replica up once /healthz and then /readyz answer 200."""

    def __init__(self, args, run_dir: Path, binary: Path, env: dict[str, str], stop: threading.Event):
        self.args, self.run_dir, self.binary, self.env, self.stop = args, run_dir, binary, env, stop
        self.lock = threading.RLock()
        self.replicas = [Replica(slot=i, port=free_port()) for i in range(args.replicas)]
        self.frozen = False  # during shutdown: no restarts
        self.unexpected_exits: list[dict[str, Any]] = []
        self.restarts = 0
        self.start_failures: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)

    # -- lifecycle
    def spawn(self, r: Replica) -> None:
        r.incarnation += 1
        logf = open(self.run_dir / f"replica{r.slot}.{r.incarnation}.log", "w")
        r.proc = subprocess.Popen(
            [str(self.binary), "serve", "--listen", f"127.0.0.1:{r.port}"],
            stdout=logf, stderr=subprocess.STDOUT, env=self.env, cwd=self.run_dir, start_new_session=True)
        logf.close()
        r.state, r.killed_by_us, r.restart_at = "starting", False, None
        r.started_mono = r.next_health = time.monotonic()

    def start_all(self, timeout: float = 90) -> None:
        with self.lock:
            for r in self.replicas:
                self.spawn(r)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            if all(r.state == "up" for r in self.replicas):
                return
            time.sleep(0.1)
        raise RuntimeError("replicas did not become ready in time; see replica*.log")

    def _healthy(self, r: Replica) -> bool:
        try:
            if api(r.port, "GET", "/healthz", timeout=1)[0] != 200:
                return False
            return api(r.port, "GET", "/readyz", timeout=1)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    def _supervise(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            with self.lock:
                todo = list(self.replicas)
            for r in todo:
                with self.lock:
                    if self.frozen or r.state == "stopped":
                        continue
                    proc = r.proc
                    if r.state in ("up", "starting") and proc and proc.poll() is not None and not r.killed_by_us:
                        self.unexpected_exits.append({
                            "at": time.time(), "slot": r.slot, "incarnation": r.incarnation,
                            "pid": proc.pid, "returncode": proc.returncode, "state": r.state})
                        log(f"replica {r.slot} (pid {proc.pid}) exited by itself with {proc.returncode}")
                        r.state, r.restart_at = "down", now + 1.0
                    if r.state == "down" and r.restart_at is not None and now >= r.restart_at:
                        self.spawn(r)
                        self.restarts += 1
                        continue
                    check = r.state == "starting" and now >= r.next_health
                if check:
                    healthy = self._healthy(r)
                    with self.lock:
                        if r.state != "starting" or r.proc is not proc:
                            continue
                        if healthy:
                            r.state = "up"
                        elif time.monotonic() - r.started_mono > self.args.start_timeout:
                            self.start_failures.append({"at": time.time(), "slot": r.slot, "incarnation": r.incarnation})
                            log(f"replica {r.slot} not ready after {self.args.start_timeout}s; restarting it")
                            r.killed_by_us = True
                            proc.kill()
                            r.state, r.restart_at = "down", time.monotonic() + 1.0
                        else:
                            r.next_health = time.monotonic() + 0.25
            self.stop.wait(0.1)

    # -- queries
    def up(self) -> list[Replica]:
        with self.lock:
            return [r for r in self.replicas if r.state == "up"]

    def by_pid(self, pid: int) -> Replica | None:
        with self.lock:
            for r in self.replicas:
                if r.state == "up" and r.proc and r.proc.pid == pid and r.proc.poll() is None:
                    return r
        return None

    def pick(self, exclude: int | None = None) -> Replica | None:
        ups = self.up()
        others = [r for r in ups if r.slot != exclude] or ups
        return random.choice(others) if others else None

    # -- faults
    def kill(self, r: Replica) -> int | None:
        """kill -9; the supervisor restarts it after restart_min..restart_max seconds."""
        with self.lock:
            if r.state != "up" or not r.proc or r.proc.poll() is not None:
                return None
            r.killed_by_us = True
            pid = r.proc.pid
            os.kill(pid, signal.SIGKILL)
            r.state = "down"
            r.restart_at = time.monotonic() + random.uniform(self.args.restart_min, self.args.restart_max)
        try:
            r.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        return pid

    def wait_all_up(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(r.state == "up" for r in self.replicas):
                    return True
            time.sleep(0.1)
        return False

    def sigterm_all(self, grace: float) -> list[dict[str, Any]]:
        """SIGTERM every live replica at once and time each exit."""
        with self.lock:
            self.frozen = True
            live = [r for r in self.replicas if r.proc and r.proc.poll() is None]
            t0 = time.monotonic()
            for r in live:
                r.proc.send_signal(signal.SIGTERM)
        results = []
        for r in live:
            left = max(0.0, grace - (time.monotonic() - t0))
            try:
                rc = r.proc.wait(timeout=left)
                results.append({"slot": r.slot, "pid": r.proc.pid, "returncode": rc,
                                "seconds": round(time.monotonic() - t0, 3), "timed_out": False})
            except subprocess.TimeoutExpired:
                r.proc.kill()
                r.proc.wait(timeout=10)
                results.append({"slot": r.slot, "pid": r.proc.pid, "returncode": None,
                                "seconds": None, "timed_out": True})
            r.state = "stopped"
        return results

    def kill_everything(self) -> None:
        with self.lock:
            self.frozen = True
            for r in self.replicas:
                if r.proc and r.proc.poll() is None:
                    try:
                        os.kill(r.proc.pid, signal.SIGKILL)
                        r.proc.wait(timeout=10)
                    except (OSError, subprocess.TimeoutExpired):
                        pass
                r.state = "stopped"


# ----------------------------------------------------------------------------- harness
class Harness:
    def __init__(self, args):
        self.args = args
        self.report = Report(profile=args.profile)
        self.stop = threading.Event()
        self.rng = random.Random(args.seed)
        random.seed(args.seed)
        # Not from the seeded generator: two runs with one --seed must not share a database.
        self.run_id = "".join(random.SystemRandom().choices(string.ascii_lowercase + string.digits, k=8))
        self.run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix=f"escalator-chaos-{self.run_id}-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.db_name = f"chaos_{self.run_id}"
        self.admin_db: Psql | None = None
        self.db: Psql | None = None
        self.db_created = False
        self.binary: Path | None = None
        self.cluster: Cluster | None = None
        self.sink: Sink | None = None
        self.token = ""
        self.policy_id = self.chain_id = 0
        self.heads: dict[str, str] = {}
        self.execs: list[str] = []
        self.lock = threading.Lock()
        # Creator bookkeeping.
        self.attempted: set[str] = set()
        self.outcomes: dict[str, int] = {}
        self.retries = 0
        self.gave_up: list[str] = []
        self.client_errors: list[dict[str, Any]] = []
        self.next_index = 0
        self.creation_done_at: float | None = None
        # Faults.
        self.kills: list[dict[str, Any]] = []
        self.holder_mechanisms: set[str] = set()
        self.holder_misses = 0
        self.outage_down: float | None = None
        self.outage_up: float | None = None
        self.holder_stale = 0
        self.has_leases = False
        self.t0 = time.time()
        self.quiesce_end = self.t0

    # -------------------------------------------------------------------- set-up
    def start_postgres(self) -> str:
        url = os.environ.get("ESCALATOR_TEST_PG_URL") or self.args.pg_url
        if url:
            return url
        log("ESCALATOR_TEST_PG_URL unset: starting the throwaway cluster with .ci/postgres.sh")
        r = subprocess.run(["bash", str(REPO / ".ci/postgres.sh")], capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f".ci/postgres.sh failed: {r.stderr}")
        return r.stdout.strip().splitlines()[-1]

    def copy_binary(self) -> None:
        src = Path(self.args.bin)
        if not src.is_absolute():
            src = REPO / src
        if not src.exists():
            raise RuntimeError(f"no binary at {src} (build it, or pass --bin / ESCALATOR_BIN)")
        # A private copy: a concurrent `cargo build` may replace target/debug/escalator.
        self.binary = self.run_dir / "escalator"
        shutil.copy2(src, self.binary)
        self.report.binary = f"{src} (mtime {iso(src.stat().st_mtime)})"

    def cli(self, *argv: str, timeout: float = 120) -> str:
        r = subprocess.run([str(self.binary), *argv], capture_output=True, text=True, timeout=timeout,
                           env=self.replica_env(), cwd=self.run_dir)
        if r.returncode != 0:
            raise RuntimeError(f"escalator {' '.join(argv)} failed: {r.stderr.strip()[-2000:]}")
        return r.stdout

    def replica_env(self) -> dict[str, str]:
        # A clean environment: nothing of the caller's ESCALATOR_* or config file leaks in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ESCALATOR_") and k != "DATABASE_URL"}
        env.update({
            "DATABASE_URL": self.db.url,
            "ESCALATOR_SMTP_HOST": "127.0.0.1",
            "ESCALATOR_SMTP_PORT": str(self.sink.port),
            "ESCALATOR_SMTP_SECURITY": "none",
            "ESCALATOR_SMTP_FROM": SMTP_FROM,
            "ESCALATOR_OUTBOX_BACKOFF_BASE_SECONDS": "1",
            "ESCALATOR_OUTBOX_BACKOFF_CAP_SECONDS": "5",
            # So the outage dead-letters nothing: every mail must arrive in the end.
            "ESCALATOR_OUTBOX_MAX_ATTEMPTS": "1000",
            # No digests: every mail stands alone and is matched by its Message-ID.
            "ESCALATOR_DIGEST_MAX_MAILS": "0",
            "RUST_LOG": self.args.rust_log,
        })
        return env

    def set_up(self) -> None:
        a = self.args
        pg = self.start_postgres()
        self.admin_db = Psql(pg)
        self.admin_db.rows(f"CREATE DATABASE {self.db_name}")
        self.db_created = True
        self.db = Psql(with_database(pg, self.db_name))
        self.report.database = self.db_name
        self.copy_binary()
        self.sink = Sink(self.run_dir, free_port())
        self.sink.start()
        log(f"run dir {self.run_dir}; database {self.db_name}; SMTP sink on {self.sink.port}")

        self.cli("migrate")
        admin = f"admin@{DOMAIN}"
        self.cli("user", "create", "--email", admin, "--name", "Chaos admin", "--role", "admin")
        self.token = self.cli("token", "create", "--email", admin, "--name", "chaos").strip().splitlines()[-1]
        self.has_leases = self.db.one("SELECT (to_regclass('public.leases') IS NOT NULL)::int") == ["1"]

        self.cluster = Cluster(a, self.run_dir, self.binary, self.replica_env(), self.stop)
        self.cluster.start_all()
        log(f"{a.replicas} replicas up on ports {[r.port for r in self.cluster.replicas]}")
        self.load_directory()

    def put(self, method: str, path: str, body: Any) -> Any:
        port = self.cluster.replicas[0].port
        status, data = api(port, method, "/api/v1" + path, self.token, body)
        if status not in (200, 201):
            raise RuntimeError(f"{method} {path} -> {status}: {data}")
        return data

    def load_directory(self) -> None:
        """Departments with heads, assignees, initiators, the executives of the chain's
        named-user levels, a 30 s policy and the chain."""
        a = self.args
        for d in range(a.departments):
            self.put("PUT", f"/departments/d{d}", {"name": f"Department {d}"})
        self.execs = [f"exec{k}@{DOMAIN}" for k in range(1, a.chain_levels)]
        for k, e in enumerate(self.execs, 1):
            self.put("PUT", f"/users/{e}", {"name": f"Executive {k}", "role": "approver"})
        for d in range(a.departments):
            dep = f"d{d}"
            head = f"head-{dep}@{DOMAIN}"
            self.heads[dep] = head
            self.put("PUT", f"/users/{head}", {"name": f"Head {d}", "role": "department_head", "department": dep})
            self.put("PUT", f"/users/initiator-{dep}@{DOMAIN}", {"name": f"Initiator {d}", "role": "viewer", "department": dep})
            for j in range(a.assignees):
                self.put("PUT", f"/users/a{j}-{dep}@{DOMAIN}",
                         {"name": f"Assignee {j} {d}", "role": "approver", "department": dep, "manager": head})
            self.put("PUT", f"/departments/{dep}", {"name": f"Department {d}", "head": head})
        policy = self.put("POST", "/sla-policies", {
            "name": f"chaos {a.target_seconds}s", "target_seconds": a.target_seconds,
            "warning": {"kind": "before_deadline", "seconds": a.warning_seconds}})
        levels = [{"target": {"kind": "department_head"}, "time_limit_seconds": a.level_seconds}]
        levels += [{"target": {"kind": "user", "email": e}, "time_limit_seconds": a.level_seconds} for e in self.execs]
        chain = self.put("POST", "/escalation-chains", {"name": "chaos chain", "levels": levels})
        self.policy_id, self.chain_id = policy["id"], chain["id"]

    # -------------------------------------------------------------------- creator
    def lifetime(self) -> float:
        """Seconds from creation to the chain's exhaustion when the engine is on time."""
        return self.args.target_seconds + self.args.level_seconds * self.args.chain_levels

    def total_workflows(self) -> int:
        return int(self.args.rate * self.args.create_seconds)

    def workflow_body(self, i: int) -> dict[str, Any]:
        a = self.args
        dep = f"d{i % a.departments}"
        return {
            "external_id": f"chaos-{self.run_id}-{i:06d}", "workflow_type": "purchase",
            "title": f"Chaos order {i}", "stage": "Approval", "department": dep,
            "initiator": f"initiator-{dep}@{DOMAIN}",
            "assignee": f"a{(i // a.departments) % a.assignees}-{dep}@{DOMAIN}",
            "policy_id": self.policy_id, "chain_id": self.chain_id,
        }

    def create_one(self, i: int, hard_deadline: float) -> None:
        body = self.workflow_body(i)
        ext = body["external_id"]
        with self.lock:
            self.attempted.add(ext)
        deadline = min(hard_deadline, time.monotonic() + self.args.create_retry_seconds)
        last_slot, attempt = None, 0
        while not self.stop.is_set() and time.monotonic() < deadline:
            r = self.cluster.pick(exclude=last_slot)
            if r is None:
                time.sleep(0.1)
                continue
            attempt += 1
            try:
                status, data = api(r.port, "POST", "/api/v1/workflows", self.token, body,
                                   {"Idempotency-Key": ext}, timeout=self.args.http_timeout)
            except (OSError, http.client.HTTPException):
                status, data = None, None
            # 201 created, 200 replayed by the idempotency key, 409: an earlier attempt
            # whose answer we lost landed (the key is the external id, so it is ours).
            if status in (200, 201, 409):
                with self.lock:
                    self.outcomes[str(status)] = self.outcomes.get(str(status), 0) + 1
                    self.retries += attempt - 1
                return
            if status is not None and status < 500:
                with self.lock:
                    self.client_errors.append({"external_id": ext, "status": status, "body": data})
                    self.retries += attempt - 1
                return
            last_slot = r.slot  # connection error or 5xx: another replica, after a pause
            time.sleep(min(0.05 * attempt, 0.5))
        with self.lock:
            self.gave_up.append(ext)
            self.retries += max(0, attempt - 1)

    def creator(self, t_start: float, hard_deadline: float) -> None:
        """Paced: workflow i is sent at t_start + i / rate, by whichever worker is free."""
        total = self.total_workflows()
        while not self.stop.is_set():
            with self.lock:
                i = self.next_index
                if i >= total:
                    return
                self.next_index += 1
            wait = t_start + i / self.args.rate - time.monotonic()
            if wait > 0:
                self.stop.wait(wait)
            if time.monotonic() >= hard_deadline:
                return
            self.create_one(i, hard_deadline)

    # -------------------------------------------------------------------- faults
    def find_holder(self) -> tuple[int, str] | None:
        """The OS pid of the tick holder, now: (a) the session advisory lock held by the
        connection named `escalator-tick pid=<pid>` (or `escalator-lock tick pid=<pid>`), else (b) the `leases` row `tick`
        (holder `<hostname>-<pid>-<nonce>`; present only while a tick runs)."""
        try:
            for (app,) in self.db.rows(Q_HOLDER_ADVISORY, timeout=5):
                return int(app.split("pid=", 1)[1].split()[0]), "advisory"
            if self.has_leases:
                for (holder,) in self.db.rows(Q_HOLDER_LEASE, timeout=5):
                    return int(holder.rsplit("-", 2)[1]), "lease"
        except (RuntimeError, ValueError, IndexError, subprocess.TimeoutExpired):
            pass
        return None

    def poll_live_holder(self, seconds: float) -> tuple[Replica, str] | None:
        """Polls every 50 ms for a holder that is one of our live replicas. A holder pid
        that is not alive is a lease left behind by a killed replica (counted)."""
        deadline = time.monotonic() + seconds
        stale = False
        while time.monotonic() < deadline and not self.stop.is_set():
            found = self.find_holder()
            if found:
                r = self.cluster.by_pid(found[0])
                if r:
                    return r, found[1]
                stale = True
            time.sleep(0.05)
        if stale:
            self.holder_stale += 1
        return None

    def killer(self, chaos_end: float) -> None:
        a = self.args
        since_holder, gap = 0, self.rng.randint(a.holder_every_min, a.holder_every_max)
        for _ in range(100000):  # bounded; the loop really ends at chaos_end
            if self.stop.wait(self.rng.uniform(a.kill_min, a.kill_max)) or time.monotonic() >= chaos_end:
                return
            # Keep one replica serving: kill only while at least two are up.
            for _ in range(100):
                if len(self.cluster.up()) >= 2 or self.stop.is_set():
                    break
                time.sleep(0.1)
            if len(self.cluster.up()) < 2:
                continue
            want_holder = since_holder + 1 >= gap
            target, mechanism = None, None
            if want_holder:
                hit = self.poll_live_holder(a.holder_wait)
                if hit:
                    target, mechanism = hit
                else:
                    self.holder_misses += 1
                    log("no live tick holder found; killing a random replica instead")
            if target is None:
                target = self.cluster.pick()
                if target is None:
                    continue
                now_holder = self.find_holder()
                is_holder = bool(now_holder and target.proc and now_holder[0] == target.proc.pid)
                mechanism = now_holder[1] if is_holder else None
            else:
                is_holder = True
            pid = self.cluster.kill(target)
            if pid is None:
                continue
            if mechanism:
                self.holder_mechanisms.add(mechanism)
            self.kills.append({"at": time.time(), "t": round(time.time() - self.t0, 2), "slot": target.slot,
                               "pid": pid, "holder": is_holder, "targeted_holder": want_holder and is_holder,
                               "mechanism": mechanism})
            log(f"kill -9 replica {target.slot} pid {pid}{' (tick holder, ' + mechanism + ')' if is_holder else ''}")
            if want_holder and is_holder:
                since_holder, gap = 0, self.rng.randint(a.holder_every_min, a.holder_every_max)
            else:
                since_holder += 1

    def outage(self, start: float) -> None:
        if self.args.outage_seconds <= 0:
            return
        if self.stop.wait(max(0.0, start - time.monotonic())):
            return
        self.sink.kill()
        self.outage_down = time.time()
        log(f"SMTP sink DOWN for {self.args.outage_seconds}s")
        if self.stop.wait(self.args.outage_seconds):
            return
        for attempt in range(1, 11):  # bounded: a sink that stays down fails the mail check
            try:
                self.sink.start()
                break
            except RuntimeError as e:
                log(f"SMTP sink restart {attempt} failed: {e}")
                time.sleep(1)
        self.outage_up = time.time()
        log("SMTP sink back UP")

    # -------------------------------------------------------------------- phases
    def chaos(self) -> None:
        """Creation, kills and the SMTP outage run together; this thread reports progress."""
        a = self.args
        t_start = time.monotonic()
        create_end = t_start + a.create_seconds
        chaos_end = create_end + a.chaos_tail
        hard_deadline = create_end + a.create_grace
        window = chaos_end - t_start
        outage_start = t_start + (a.outage_at if a.outage_at is not None else max(0.0, (window - a.outage_seconds) / 2))
        threads = [threading.Thread(target=self.creator, args=(t_start, hard_deadline), name=f"creator{k}", daemon=True)
                   for k in range(a.creators)]
        killer = threading.Thread(target=self.killer, args=(chaos_end,), name="killer", daemon=True)
        outage = threading.Thread(target=self.outage, args=(outage_start,), name="outage", daemon=True)
        for t in [*threads, killer, outage]:
            t.start()
        log(f"chaos: {self.total_workflows()} workflows over {a.create_seconds}s, kills until +{round(window)}s, "
            f"SMTP outage of {a.outage_seconds}s at +{round(outage_start - t_start)}s")
        last_print = 0.0
        while not self.stop.is_set():
            alive = [t for t in [*threads, killer, outage] if t.is_alive()]
            if self.creation_done_at is None and not any(t.is_alive() for t in threads):
                self.creation_done_at = time.time()
                log(f"creation finished: {len(self.attempted)} attempted")
            if not alive:
                break
            if time.monotonic() - last_print >= 10:
                last_print = time.monotonic()
                self.progress()
            time.sleep(0.2)
        if self.creation_done_at is None:
            self.creation_done_at = time.time()

    def progress(self) -> None:
        try:
            total, open_, due, pending, dead = self.db.one(Q_QUIESCE, timeout=10)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError):
            total = open_ = due = pending = dead = "?"
        ups = [r.slot for r in self.cluster.up()]
        log(f"+{round(time.time() - self.t0)}s workflows={total} open={open_} due={due} outbox_pending={pending} "
            f"dead={dead} kills={len(self.kills)} (holder {sum(k['holder'] for k in self.kills)}) up={ups}")

    def last_fault_at(self) -> float | None:
        times = [k["at"] for k in self.kills] + [t for t in (self.outage_up,) if t]
        return max(times) if times else None

    def quiesce(self) -> None:
        """Waits, bounded, until every workflow went through its whole chain (no open
        check time left) and the outbox has no pending row."""
        a = self.args
        nominal_last = (self.creation_done_at or time.time()) + self.lifetime()
        deadline = max(time.time(), nominal_last) + a.quiesce_timeout
        log(f"waiting for quiescence (at most until +{round(deadline - self.t0)}s)")
        q: dict[str, Any] = {"quiesced": False, "timeout_at": iso(deadline)}
        last_print = 0.0
        while time.time() < deadline and not self.stop.is_set():
            try:
                total, open_, due, pending, dead = (int(x) for x in self.db.one(Q_QUIESCE, timeout=20))
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                log(f"quiescence poll failed: {e}")
                time.sleep(1)
                continue
            q.update(workflows=total, open_with_check=open_, due_now=due, outbox_pending=pending, outbox_dead=dead)
            if open_ == 0 and pending == 0 and total >= len(self.attempted) - len(self.gave_up):
                q["quiesced"] = True
                break
            if time.monotonic() - last_print >= 10:
                last_print = time.monotonic()
                log(f"  open={open_} due={due} outbox_pending={pending} dead={dead}")
            time.sleep(0.5)
        self.quiesce_end = time.time()
        q["observed_at"] = iso(self.quiesce_end)
        self.report.quiescence = q
        if not q["quiesced"]:
            log("NOT quiescent before the hard timeout")

    def shutdown_replicas(self) -> None:
        a = self.args
        all_up = self.cluster.wait_all_up(a.start_timeout)
        bound = a.sigterm_grace + a.sigterm_margin
        results = self.cluster.sigterm_all(bound)
        self.report.sigterm = {"all_up_before": all_up, "bound_seconds": bound, "replicas": results}
        for res in results:
            if res["timed_out"]:
                self.report.violate(f"SIGTERM: replica {res['slot']} (pid {res['pid']}) still running after {bound}s")
            elif res["returncode"] != 0:
                self.report.violate(f"SIGTERM: replica {res['slot']} exited with {res['returncode']}")
        log("SIGTERM: " + ", ".join(f"r{x['slot']}={x['returncode']}@{x['seconds']}s" for x in results))

    # -------------------------------------------------------------------- checks
    def check(self) -> None:
        rep, a = self.report, self.args
        db = self.db

        # 1. Every attempted external id exists exactly once.
        present = {ext: int(n) for ext, n in db.rows(Q_WORKFLOW_IDS)}
        missing_ids = sorted(self.attempted - present.keys())
        dup_ids = sorted(e for e, n in present.items() if n > 1)
        unknown_ids = sorted(present.keys() - self.attempted)
        rep.workflows = {"attempted": len(self.attempted), "in_database": len(present), "missing": len(missing_ids),
                         "missing_sample": missing_ids[:10], "duplicated": len(dup_ids), "not_attempted": len(unknown_ids)}
        if missing_ids:
            rep.violate(f"{len(missing_ids)} attempted workflows are missing (e.g. {missing_ids[:3]})")
        if dup_ids or unknown_ids:
            rep.violate(f"workflows: {len(dup_ids)} duplicated external ids, {len(unknown_ids)} never attempted")

        # 2. Transitions: duplicates, completeness, targets, nothing early, lateness.
        dups = db.rows(Q_AUDIT_DUPLICATES)
        workflows = {int(r[0]): r for r in db.rows(Q_WORKFLOWS)}
        seen: dict[tuple[int, str, int], list[tuple[float, float | None, str]]] = {}
        for wid, action, at, lvl, due, to in db.rows(Q_AUDIT_TRANSITIONS):
            if int(wid) not in workflows or lvl == "":
                continue
            seen.setdefault((int(wid), action, int(lvl)), []).append((float(at), float(due) if due else None, to))
        levels = a.chain_levels
        lost_esc, skipped_rem, incomplete, wrong_target = 0, 0, 0, 0
        early: list[dict[str, Any]] = []
        esc_late, rem_late, exh_late = [], [], []
        # A threshold the engine never acted on is late by at least the time we waited.
        overdue: list[float] = []
        for wid, w in workflows.items():
            _, dep, status, level, closed, _created, final_due, next_check = w
            if not (int(level) == levels and closed == "1"):
                incomplete += 1
            if next_check and float(next_check) < self.quiesce_end:
                overdue.append(self.quiesce_end - float(next_check))
            for lv in range(levels + 1):
                lead = min(a.warning_seconds, a.target_seconds if lv == 0 else a.level_seconds)
                rem = seen.get((wid, "remind", lv))
                if rem:
                    for at, due, _ in rem:
                        warn = due - lead
                        rem_late.append(at - warn)
                        if at < warn:
                            early.append({"workflow_id": wid, "action": "remind", "level": lv, "at": iso(at), "threshold": iso(warn)})
                elif (wid, "escalate", lv) in seen or (wid, "chain_exhausted", lv) in seen:
                    skipped_rem += 1  # the level breached, but its reminder never came
            for lv in range(levels):
                esc = seen.get((wid, "escalate", lv))
                if not esc:
                    lost_esc += 1
                    continue
                for at, due, to in esc:
                    esc_late.append(at - due)
                    if at < due:
                        early.append({"workflow_id": wid, "action": "escalate", "level": lv, "at": iso(at), "threshold": iso(due)})
                    expected = self.heads.get(dep) if lv == 0 else self.execs[lv - 1]
                    if to != expected:
                        wrong_target += 1
            exh = seen.get((wid, "chain_exhausted", levels))
            if not exh:
                lost_esc += 1
            elif int(level) == levels:
                for at, _, _ in exh:
                    exh_late.append(at - float(final_due))
                    if at < float(final_due):
                        early.append({"workflow_id": wid, "action": "chain_exhausted", "level": levels, "at": iso(at), "threshold": iso(float(final_due))})
        actions = {k: int(v) for k, v in db.rows(Q_AUDIT_ACTIONS)}
        claims = {k: int(v) for k, v in db.rows(Q_TRANSITIONS)}
        rep.transitions = {
            "audit_actions": actions, "sla_transitions": claims,
            "duplicate_audit_groups": len(dups), "duplicate_audit_sample": dups[:10],
            "missing_escalations_or_exhaustions": lost_esc, "skipped_reminders": skipped_rem,
            "incomplete_workflows": incomplete, "wrong_escalation_target": wrong_target,
            "early": len(early), "early_sample": early[:10],
        }
        if dups:
            rep.violate(f"{len(dups)} duplicated audit transitions (workflow, action, level, repeat)")
        if lost_esc or incomplete:
            rep.violate(f"{lost_esc} missing escalations/exhaustions; {incomplete} workflows did not finish their chain")
        if skipped_rem:
            rep.violate(f"{skipped_rem} reminders never sent (the level's deadline passed first: tick later than the warning window)")
        if wrong_target:
            rep.violate(f"{wrong_target} escalations went to the wrong person")
        if early:
            rep.violate(f"{len(early)} transitions before their threshold")
        if actions.get("escalation_failed"):
            rep.violate(f"{actions['escalation_failed']} escalation_failed audit entries")

        # 3. Reminders: one row per (workflow, stage, level); no repeats are configured.
        rdups = db.rows(Q_REMINDER_DUPLICATES)
        rep.reminders = {"rows": int(db.one(Q_REMINDER_COUNT)[0]), "duplicate_or_repeated": len(rdups), "sample": rdups[:10]}
        if rdups:
            rep.violate(f"{len(rdups)} duplicated or repeated reminders")

        # 4. Outbox: everything delivered, nothing dead or pending, no digests.
        by_status: dict[str, dict[str, int]] = {}
        for status, channel, n in db.rows(Q_OUTBOX_STATUS):
            by_status.setdefault(status, {})[channel] = int(n)
        not_delivered = sum(n for s, chans in by_status.items() if s != "delivered" for n in chans.values())
        in_app_missing = int(db.one(Q_IN_APP_MISSING)[0])
        digested = int(db.one(Q_DIGESTED)[0])
        rep.outbox = {"by_status_and_channel": by_status, "not_delivered": not_delivered,
                      "in_app_without_notification": in_app_missing, "digested": digested}
        if not_delivered:
            rep.violate(f"outbox: {not_delivered} rows not delivered ({ {s: sum(c.values()) for s, c in by_status.items()} })")
        if in_app_missing:
            rep.violate(f"{in_app_missing} delivered in-app rows have no notification")

        # 5. Every e-mail row reached the sink (by Message-ID); duplicates counted.
        self.check_mail()

        # 6. Lateness.
        # The assertion reads escalations plus the thresholds still unacted on at the end
        # (lower bounds): a stuck engine must not pass for a punctual one.
        rep.lateness = {"escalation_seconds": stats(esc_late), "reminder_seconds": stats(rem_late),
                        "exhaustion_seconds": stats(exh_late), "overdue_at_end_seconds": stats(overdue),
                        "escalation_with_overdue_seconds": stats(esc_late + overdue)}
        e = rep.lateness["escalation_with_overdue_seconds"]
        if e["p99"] is not None and e["p99"] > a.max_esc_p99:
            rep.violate(f"escalation lateness p99 {e['p99']}s > {a.max_esc_p99}s (overdue thresholds included)")
        if e["max"] is not None and e["max"] > a.max_esc_max:
            rep.violate(f"escalation lateness max {e['max']}s > {a.max_esc_max}s (overdue thresholds included)")

        # 7. Drain time after the last fault.
        self.check_drain()

    def check_mail(self) -> None:
        rep = self.report
        rows = self.db.rows(Q_OUTBOX_EMAILS)
        expected = {f"<outbox-{r[0]}@{DOMAIN}>": r for r in rows}
        received: dict[str, list[dict[str, Any]]] = {}
        for m in self.sink.messages():
            received.setdefault(m["message_id"], []).append(m)
        missing = sorted(set(expected) - set(received), key=lambda x: int(x[8:].split("@")[0]))
        unknown = sorted(set(received) - set(expected))
        mismatched = 0
        for mid, (_, _, _, to, cc) in expected.items():
            got = received.get(mid)
            if got and (sorted(x.lower() for x in json.loads(to)) != got[0]["to"]
                        or sorted(x.lower() for x in json.loads(cc)) != got[0]["cc"]):
                mismatched += 1
        # A duplicate is explained when its first copy arrived just before a crash: the
        # sender (or the sink) died between the SMTP 250 and recording the delivery.
        windows = [(k["at"] - self.args.dup_window, k["at"] + 1) for k in self.kills]
        if self.outage_down:
            windows.append((self.outage_down - 2, self.outage_down + 1))
        dups = {mid: ms for mid, ms in received.items() if len(ms) > 1}
        unexplained = [mid for mid, ms in dups.items()
                       if not any(lo <= min(m["at"] for m in ms) <= hi for lo, hi in windows)]
        rep.mail = {
            "email_outbox_rows": len(expected), "received_messages": sum(len(v) for v in received.values()),
            "received_unique": len(received), "missing": len(missing), "missing_sample": missing[:10],
            "unknown_message_ids": len(unknown), "recipient_mismatches": mismatched,
            "duplicates": len(dups), "duplicate_extra_copies": sum(len(v) - 1 for v in dups.values()),
            "duplicates_outside_crash_window": len(unexplained), "duplicate_sample": sorted(dups)[:10],
        }
        if missing:
            rep.violate(f"{len(missing)} e-mails never reached the SMTP sink (e.g. {missing[:3]})")
        if unknown:
            rep.violate(f"{len(unknown)} received e-mails match no outbox row")
        if mismatched:
            rep.violate(f"{mismatched} e-mails with To/Cc different from their outbox row")
        if unexplained:
            rep.violate(f"{len(unexplained)} duplicated e-mails outside any crash window (e.g. {unexplained[:3]})")

    def check_drain(self) -> None:
        rep, a = self.report, self.args
        last_delivered, not_delivered = self.db.one(Q_DRAINED)
        last_fault = self.last_fault_at()
        # The outbox cannot drain before the last workflow's last threshold: measure from
        # the later of that and the last fault (kills run until about then by default).
        nominal_last = float(self.db.one("SELECT COALESCE(extract(epoch FROM max(created_at))::text, '0') "
                                         "FROM workflows")[0]) + self.lifetime()
        reference = max(last_fault or 0.0, nominal_last)
        q = rep.quiescence
        q.update(last_fault_at=iso(last_fault), nominal_last_threshold=iso(nominal_last),
                 last_delivered_at=iso(float(last_delivered)) if last_delivered else None)
        if not q.get("quiesced"):
            # Nothing more was due to be sent only because the engine stopped acting.
            q["drain_after_last_fault_seconds"] = None
            q["drain_after_reference_seconds"] = None
            rep.violate(f"not quiescent {a.quiesce_timeout}s after the last threshold: drain time not measurable")
        elif int(not_delivered) == 0 and last_delivered:
            drained = float(last_delivered)
            q["drain_after_last_fault_seconds"] = round(drained - last_fault, 3) if last_fault else None
            q["drain_after_reference_seconds"] = round(max(0.0, drained - reference), 3)
            if q["drain_after_reference_seconds"] > a.max_drain:
                rep.violate(f"outbox drained {q['drain_after_reference_seconds']}s after the last fault/threshold > {a.max_drain}s")
        else:
            q["drain_after_last_fault_seconds"] = None
            q["drain_after_reference_seconds"] = None
            rep.violate(f"outbox never drained ({not_delivered} rows not delivered at the end)")

    def summarize_faults(self) -> None:
        rep, a = self.report, self.args
        holder_kills = sum(k["holder"] for k in self.kills)
        rep.kills = {"total": len(self.kills), "holder": holder_kills,
                     "holder_mechanisms": sorted(self.holder_mechanisms),
                     "holder_searches_without_live_holder": self.holder_misses,
                     "holder_searches_finding_a_dead_holder": self.holder_stale,
                     "events": [{k: v for k, v in e.items() if k != "at"} for e in self.kills]}
        if len(self.kills) < a.min_kills or holder_kills < a.min_holder_kills:
            rep.violate(f"profile not met: {len(self.kills)} kills ({holder_kills} of the tick holder), "
                        f"wanted >= {a.min_kills} ({a.min_holder_kills})")
        rep.outage = {"planned_seconds": a.outage_seconds, "down_at": iso(self.outage_down), "up_at": iso(self.outage_up),
                      "seconds": round(self.outage_up - self.outage_down, 2) if self.outage_down and self.outage_up else None}
        rep.creator = {"outcomes": self.outcomes, "retries": self.retries, "gave_up": len(self.gave_up),
                       "gave_up_sample": self.gave_up[:10], "client_errors": len(self.client_errors),
                       "client_error_sample": self.client_errors[:5]}
        if self.client_errors:
            rep.violate(f"{len(self.client_errors)} workflow creations refused with a 4xx other than 409")
        c = self.cluster
        rep.replicas = {"restarts": c.restarts, "unexpected_exits": c.unexpected_exits,
                        "start_failures": c.start_failures,
                        "ports": [r.port for r in c.replicas]}
        if c.unexpected_exits:
            rep.violate(f"{len(c.unexpected_exits)} replica exits nobody asked for")

    # -------------------------------------------------------------------- run
    def run(self) -> int:
        a, rep = self.args, self.report
        rep.started_at = iso(self.t0)
        rep.run_dir = str(self.run_dir)
        rep.settings = {k: v for k, v in vars(a).items() if k not in ("smtp_sink",)}
        try:
            self.set_up()
            self.chaos()
            self.quiesce()
            self.shutdown_replicas()
            self.summarize_faults()
            self.check()
        finally:
            self.cleanup()
        rep.wall_seconds = round(time.time() - self.t0, 1)
        rep.ok = not rep.violations
        self.emit()
        return 0 if rep.ok else 1

    def cleanup(self) -> None:
        """Runs on every exit, Ctrl-C and exceptions included: no child survives, the
        temporary database is dropped (unless --keep)."""
        self.stop.set()
        if self.cluster:
            self.cluster.kill_everything()
        if self.sink:
            self.sink.kill()
        if self.db_created and not self.args.keep and self.admin_db:
            try:
                self.admin_db.rows(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)", timeout=60)
            except Exception as e:  # noqa: BLE001 (best effort on the way out)
                log(f"could not drop {self.db_name}: {e}")
        if self.binary and self.binary.exists() and not self.args.keep:
            self.binary.unlink()

    def emit(self) -> None:
        rep = self.report
        text = json.dumps(dataclasses.asdict(rep), indent=2, default=str)
        (self.run_dir / "report.json").write_text(text)
        if self.args.json_out:
            Path(self.args.json_out).write_text(text)
        print(text)
        q, m, l = rep.quiescence, rep.mail, rep.lateness
        esc, rem = l.get("escalation_seconds", {}), l.get("reminder_seconds", {})
        lines = [
            "",
            f"=== Escalator chaos ({rep.profile}) — {'PASS' if rep.ok else 'FAIL'} in {rep.wall_seconds}s ===",
            f"workflows: {rep.workflows.get('attempted')} attempted, {rep.workflows.get('in_database')} in the database, "
            f"{rep.workflows.get('missing')} missing; creator outcomes {rep.creator.get('outcomes')}, "
            f"{rep.creator.get('retries')} retries, {rep.creator.get('gave_up')} given up",
            f"kills: {rep.kills.get('total')} ({rep.kills.get('holder')} of the tick holder, via "
            f"{rep.kills.get('holder_mechanisms')}); restarts {rep.replicas.get('restarts')}; "
            f"SMTP outage {rep.outage.get('seconds')}s",
            f"quiesced: {q.get('quiesced')}; outbox drained {fmt(q.get('drain_after_last_fault_seconds'))} after the "
            f"last fault, {fmt(q.get('drain_after_reference_seconds'))} after max(last fault, last threshold)",
            f"transitions: audit {rep.transitions.get('audit_actions')}, duplicates "
            f"{rep.transitions.get('duplicate_audit_groups')}, early {rep.transitions.get('early')}, "
            f"skipped reminders {rep.transitions.get('skipped_reminders')}",
            f"escalation lateness p50/p99/max: {esc.get('p50')}/{esc.get('p99')}/{esc.get('max')} s; "
            f"reminders {rem.get('p50')}/{rem.get('p99')}/{rem.get('max')} s; "
            f"{l.get('overdue_at_end_seconds', {}).get('count')} thresholds still overdue at the end "
            f"(max {fmt(l.get('overdue_at_end_seconds', {}).get('max'))})",
            f"mail: {m.get('email_outbox_rows')} e-mail rows, {m.get('received_unique')} received, "
            f"{m.get('missing')} missing, {m.get('duplicates')} duplicated "
            f"({m.get('duplicates_outside_crash_window')} outside a crash window)",
            "SIGTERM: " + ", ".join(f"replica {x['slot']} -> {x['returncode']} in {x['seconds']}s"
                                    for x in rep.sigterm.get("replicas", [])),
            f"logs and report: {rep.run_dir}",
        ]
        if rep.violations:
            lines.append("VIOLATIONS:")
            lines += [f"  - {v}" for v in rep.violations]
        print("\n".join(lines), file=sys.stderr)


# ----------------------------------------------------------------------------- CLI
def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--short", action="store_true", help="the short profile (<= 3 minutes); default: long")
    p.add_argument("--bin", default=os.environ.get("ESCALATOR_BIN", "target/debug/escalator"),
                   help="escalator binary (copied before use); default $ESCALATOR_BIN or target/debug/escalator")
    p.add_argument("--pg-url", help="PostgreSQL server URL (default $ESCALATOR_TEST_PG_URL, else .ci/postgres.sh)")
    p.add_argument("--keep", action="store_true", help="keep the database and the binary copy")
    p.add_argument("--run-dir", help="where logs and report.json go (default: a new temp dir)")
    p.add_argument("--json-out", help="also write the JSON report here")
    p.add_argument("--seed", type=int, default=None, help="random seed (kill timing, victims)")
    p.add_argument("--rust-log", default="info", help="RUST_LOG of the replicas")
    p.add_argument("--print-queries", action="store_true", help="print the SQL of every check and exit")
    num = p.add_argument_group("numbers (profile defaults in brackets: short / long)")

    def n(flag, typ, help_):
        key = flag[2:].replace("-", "_")
        num.add_argument(flag, type=typ, default=None,
                         help=f"{help_} [{PROFILES['short'][key]} / {PROFILES['long'][key]}]")

    n("--replicas", int, "replicas")
    n("--rate", float, "workflows created per second")
    n("--create-seconds", int, "seconds of creation")
    n("--creators", int, "creator threads")
    n("--departments", int, "departments")
    n("--assignees", int, "assignees per department")
    n("--target-seconds", int, "SLA target")
    n("--warning-seconds", int, "warning window before each deadline")
    n("--level-seconds", int, "time limit of each chain level")
    n("--chain-levels", int, "chain levels: department head, then named users")
    n("--kill-min", float, "shortest pause between kills")
    n("--kill-max", float, "longest pause between kills")
    n("--holder-every-min", int, "kill the tick holder at least every N-th kill (low end)")
    n("--holder-every-max", int, "... (high end)")
    n("--restart-min", float, "restart delay after a kill, low end")
    n("--restart-max", float, "restart delay after a kill, high end")
    n("--chaos-tail", int, "seconds kills go on after creation stops")
    n("--outage-seconds", int, "SMTP outage length (0: none)")
    n("--quiesce-timeout", int, "seconds to wait for quiescence after the last nominal threshold")
    n("--min-kills", int, "kills the profile must reach")
    n("--min-holder-kills", int, "holder kills the profile must reach")
    n("--max-esc-p99", float, "asserted escalation lateness p99 (s)")
    n("--max-esc-max", float, "asserted escalation lateness max (s)")
    n("--max-drain", float, "asserted drain time after max(last fault, last threshold) (s)")
    num.add_argument("--outage-at", type=float, default=None, help="outage start, seconds into the chaos window [centred]")
    num.add_argument("--holder-wait", type=float, default=3.0, help="how long to look for a live tick holder [3]")
    num.add_argument("--create-retry-seconds", type=float, default=60.0, help="give up one workflow after this [60]")
    num.add_argument("--create-grace", type=float, default=30.0, help="creation may run late by this much [30]")
    num.add_argument("--http-timeout", type=float, default=10.0, help="per request [10]")
    num.add_argument("--start-timeout", type=float, default=60.0, help="replica start to /readyz 200 [60]")
    num.add_argument("--sigterm-grace", type=float, default=10.0, help="shutdown grace [10]")
    num.add_argument("--sigterm-margin", type=float, default=5.0, help="added to the grace [5]")
    # Observed: first copies come <= 1 s before the kill (rows are marked delivered per
    # batch); 20 s leaves room for a slow batch without excusing unrelated duplicates.
    num.add_argument("--dup-window", type=float, default=20.0,
                     help="a duplicate mail whose first copy came this long before a kill is explained by it [20]")
    args = p.parse_args(argv)
    args.profile = "short" if args.short else "long"
    for k, v in PROFILES[args.profile].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.replicas < 2:
        p.error("--replicas must be at least 2 (one stays up while another is killed)")
    if args.chain_levels < 1:
        p.error("--chain-levels must be at least 1")
    return args


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--smtp-sink":
        run_sink(int(argv[1]), argv[2])
        return 0
    args = parse_args(argv)
    if args.print_queries:
        for k, v in ALL_QUERIES.items():
            print(f"-- {k}\n{v.strip()};\n")
        return 0
    # SIGTERM/SIGHUP end the run like Ctrl-C: through the `finally` that kills children.
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    harness = Harness(args)
    try:
        return harness.run()
    except KeyboardInterrupt:
        log("interrupted; children killed, database dropped")
        return 130
    except Exception as e:  # noqa: BLE001 (the harness failed, not the system under test)
        log(f"harness error: {e!r}")
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
