"""The seed's own stack as a peer: Celery with Redis as the broker.

Two set-ups, each idiomatic Celery:
- beat: Celery beat fires ``check_workflow_escalations_task`` on an interval (the seed's
  15 minutes; the benchmark shortens it, see bench/peers/README.md), and the task reads
  the pending workflows, checks each one's SLA and escalates the breached ones one by
  one, as the seed's WorkflowEscalationService does;
- eta: one ``escalate_task`` per workflow sent with ``eta`` at its deadline.

Both escalate a workflow exactly as Escalator's tick does, in one transaction: the
version-checked state change, the transition claim, the audit entry and the notification
and event outbox rows.
"""

import json
import os
from datetime import timedelta

import psycopg
from celery import Celery

LEVEL_SECONDS = 8 * 3600
WARN_BEFORE_SECONDS = 2 * 3600

app = Celery("celery_peer", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_ignore_result=True,
    timezone="UTC",
    enable_utc=True,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "check-workflow-escalations": {
            "task": "celery_peer.check_workflow_escalations_task",
            "schedule": float(os.environ.get("BEAT_SECONDS", "900")),
        }
    },
)

_conn = None


def conn():
    """One connection per worker process, opened on first use."""
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _conn


def escalate_one(c, workflow_id):
    """Escalates one due workflow in its own transaction; False when it was not due."""
    with c.transaction():
        row = c.execute(
            """SELECT w.id, w.version, w.level, w.stage_seq, w.status, w.assignee_email, w.initiator_email,
                      w.external_id, w.workflow_type, w.title, w.stage, w.department_key, w.due_at,
                      w.level_started_at, d.head_email, now()
                 FROM workflows w JOIN departments d ON d.key = w.department_key
                WHERE w.id = %s FOR UPDATE OF w""",
            (workflow_id,),
        ).fetchone()
        if row is None:
            return False
        (wid, version, level, stage_seq, status, assignee, initiator, external_id, wtype, title, stage,
         department, due_at, level_started_at, head, now) = row
        if status not in ("pending", "escalated") or due_at > now or level != 0:
            return False
        next_due = now + timedelta(seconds=LEVEL_SECONDS)
        warn = next_due - timedelta(seconds=WARN_BEFORE_SECONDS)
        elapsed = int((now - level_started_at).total_seconds())
        updated = c.execute(
            """UPDATE workflows SET status = 'escalated', assignee_email = %s, level = level + 1,
                      level_started_at = %s, warn_at = %s, due_at = %s, next_check_at = %s, updated_at = %s,
                      version = version + 1
                WHERE id = %s AND version = %s""",
            (head, now, warn, next_due, warn, now, wid, version),
        )
        if updated.rowcount != 1:
            return False
        c.execute(
            "INSERT INTO sla_transitions (workflow_id, stage_seq, level, kind, at) VALUES (%s, %s, %s, 'escalate', %s)",
            (wid, stage_seq, level, now),
        )
        details = {
            "reason": "sla_breach",
            "elapsed_seconds": elapsed,
            "elapsed": f"{elapsed // 3600}h",
            "from_assignee": assignee,
            "to_assignee": head,
            "from_level": level,
            "to_level": level + 1,
            "due_at": due_at.isoformat(),
            "next_due_at": next_due.isoformat(),
        }
        c.execute(
            "INSERT INTO audit_log (at, actor, action, workflow_id, details) VALUES (%s, 'system', 'escalate', %s, %s)",
            (now, wid, json.dumps(details)),
        )
        message = json.dumps({
            "template": "escalated",
            "to": [head],
            "cc": [assignee, initiator],
            "workflow": {"id": wid, "external_id": external_id, "type": wtype, "title": title, "stage": stage,
                         "department": department, "initiator": initiator},
            "from_assignee": assignee,
            "level": level + 1,
            "elapsed_seconds": elapsed,
            "due_at": next_due.isoformat(),
        })
        key = f"escalate:{wid}:{stage_seq}:{level}"
        c.execute(
            """INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts,
                                   next_attempt_at)
               VALUES (%s, 'notification', 'workflow.escalated', %s, %s, %s, 'pending', 0, %s),
                      (%s, 'event', 'workflow.escalated', %s, %s, %s, 'pending', 0, %s)""",
            (now, wid, message, key + ":notify", now, now, wid, message, key + ":event", now),
        )
    return True


@app.task
def check_workflow_escalations_task():
    """The seed's periodic task: every pending workflow read and checked, breached ones escalated."""
    c = conn()
    with c.transaction():
        pending = c.execute(
            "SELECT id, due_at, now() FROM workflows WHERE status IN ('pending', 'escalated') ORDER BY id"
        ).fetchall()
    escalated = 0
    for workflow_id, due_at, now in pending:
        if due_at <= now and escalate_one(c, workflow_id):
            escalated += 1
    return escalated


@app.task
def escalate_task(workflow_id):
    """One workflow's deadline (the ETA set-up)."""
    return escalate_one(conn(), workflow_id)
