// The graphile-worker peer: one job per due workflow, scheduled at its deadline
// (`run_at`), whose task does what Escalator's tick does for that workflow, in one
// transaction: the version-checked state change (to the department head, level + 1, new
// deadline, version + 1), the transition claim, the `escalate` audit entry and the
// notification and event outbox rows.
//
//   node escalate.js schedule   adds the jobs for the workflows in bench_deadlines
//   node escalate.js work       runs the worker until it is stopped
//
// DATABASE_URL, GRAPHILE_CONCURRENCY (default: graphile-worker's own, 1) and
// GRAPHILE_POLL_INTERVAL_MS (default: its own, 2000) configure it.
const { run, runMigrations } = require("graphile-worker");
const { Pool } = require("pg");

const LEVEL_SECONDS = 8 * 3600;
const WARN_BEFORE_SECONDS = 2 * 3600;
const connectionString = process.env.DATABASE_URL;

async function escalate(payload, helpers) {
  await helpers.withPgClient(async (client) => {
    await client.query("BEGIN");
    try {
      const { rows } = await client.query(
        `SELECT w.id, w.version, w.level, w.stage_seq, w.status, w.assignee_email, w.initiator_email,
                w.external_id, w.workflow_type, w.title, w.stage, w.department_key, w.due_at,
                w.level_started_at, d.head_email, now() AS now
           FROM workflows w JOIN departments d ON d.key = w.department_key
          WHERE w.id = $1 FOR UPDATE OF w`,
        [payload.id],
      );
      const w = rows[0];
      if (!w || !["pending", "escalated"].includes(w.status) || w.due_at > w.now || Number(w.level) !== 0) {
        await client.query("ROLLBACK");
        return;
      }
      const dueAt = new Date(w.now.getTime() + LEVEL_SECONDS * 1000);
      const warnAt = new Date(dueAt.getTime() - WARN_BEFORE_SECONDS * 1000);
      const elapsed = Math.floor((w.now - w.level_started_at) / 1000);
      const updated = await client.query(
        `UPDATE workflows SET status = 'escalated', assignee_email = $2, level = level + 1,
                level_started_at = $3, warn_at = $4, due_at = $5, next_check_at = $4, updated_at = $3,
                version = version + 1
          WHERE id = $1 AND version = $6`,
        [w.id, w.head_email, w.now, warnAt, dueAt, w.version],
      );
      if (updated.rowCount !== 1) {
        await client.query("ROLLBACK");
        return;
      }
      await client.query(
        `INSERT INTO sla_transitions (workflow_id, stage_seq, level, kind, at) VALUES ($1, $2, $3, 'escalate', $4)`,
        [w.id, w.stage_seq, w.level, w.now],
      );
      const details = {
        reason: "sla_breach",
        elapsed_seconds: elapsed,
        elapsed: `${Math.floor(elapsed / 3600)}h`,
        from_assignee: w.assignee_email,
        to_assignee: w.head_email,
        from_level: Number(w.level),
        to_level: Number(w.level) + 1,
        due_at: w.due_at.toISOString(),
        next_due_at: dueAt.toISOString(),
      };
      await client.query(
        `INSERT INTO audit_log (at, actor, action, workflow_id, details) VALUES ($1, 'system', 'escalate', $2, $3)`,
        [w.now, w.id, JSON.stringify(details)],
      );
      const message = JSON.stringify({
        template: "escalated",
        to: [w.head_email],
        cc: [w.assignee_email, w.initiator_email],
        workflow: {
          id: Number(w.id),
          external_id: w.external_id,
          type: w.workflow_type,
          title: w.title,
          stage: w.stage,
          department: w.department_key,
          initiator: w.initiator_email,
        },
        from_assignee: w.assignee_email,
        level: Number(w.level) + 1,
        elapsed_seconds: elapsed,
        due_at: dueAt.toISOString(),
      });
      const key = `escalate:${w.id}:${w.stage_seq}:${w.level}`;
      await client.query(
        `INSERT INTO outbox (created_at, kind, topic, workflow_id, payload, dedupe_key, status, attempts, next_attempt_at)
         VALUES ($1, 'notification', 'workflow.escalated', $2, $3, $4, 'pending', 0, $1),
                ($1, 'event', 'workflow.escalated', $2, $3, $5, 'pending', 0, $1)`,
        [w.now, w.id, message, `${key}:notify`, `${key}:event`],
      );
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK");
      throw e;
    }
  });
}

async function main() {
  const mode = process.argv[2];
  if (mode === "schedule") {
    await runMigrations({ connectionString });
    const pool = new Pool({ connectionString });
    // Jobs made inside the database, as graphile-worker's documentation suggests for
    // work that starts there: one add_job per workflow, due at its deadline.
    const { rows } = await pool.query(
      `SELECT count(graphile_worker.add_job('escalate', json_build_object('id', id), run_at := due_at,
                                            job_key := 'escalate:' || id))
         FROM bench_deadlines`,
    );
    console.log(`scheduled ${rows[0].count} jobs`);
    await pool.end();
  } else if (mode === "work") {
    const options = { connectionString, taskList: { escalate }, noHandleSignals: false };
    if (process.env.GRAPHILE_CONCURRENCY) options.concurrency = Number(process.env.GRAPHILE_CONCURRENCY);
    if (process.env.GRAPHILE_POLL_INTERVAL_MS) options.pollInterval = Number(process.env.GRAPHILE_POLL_INTERVAL_MS);
    const runner = await run(options);
    await runner.promise;
  } else {
    throw new Error("usage: node escalate.js schedule|work");
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
