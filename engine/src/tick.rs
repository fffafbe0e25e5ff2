//! One tick of the escalation engine (the seed's `check_workflow_escalations_task`):
//! read the due workflows, decide each with the pure domain, apply the decisions as
//! version-checked changes that carry their audit entries and outbox rows.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use escalator_domain::{decide, routing_note, Decision, Directory, EventKind, ReminderState, Subject, WorkflowStatus};
use escalator_storage::{
    Applied, Claim, ClaimKind, DueCursor, HeldLock, Hold, HoldChange, NewAudit, NewReminder, Reminder, WorkflowChange,
    WorkflowRecord,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::events;
use crate::service::Rules;
use crate::workflows::{resumed, timeline_of};
use crate::{EngineResult, Escalator};

/// The actor name of the engine in audit entries.
pub const SYSTEM_ACTOR: &str = "system";

/// What one tick did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TickSummary {
    /// Due workflows looked at.
    pub checked: u64,
    /// Reminders created.
    pub reminded: u64,
    /// Workflows escalated one (or more, when levels were skipped) level up.
    pub escalated: u64,
    /// Breached workflows whose chain had no further level.
    pub exhausted: u64,
    /// Workflows handed on because their assignee went away (an absence started, or they
    /// were deactivated).
    #[serde(default)]
    pub handed_over: u64,
    /// Snoozed workflows (on a hold with an end) resumed because their hold ended.
    #[serde(default)]
    pub resumed: u64,
    /// Workflows that failed; counted and audited, the tick went on.
    pub failed: u64,
    /// Workflows another tick changed first (nothing done twice).
    pub stale: u64,
    /// Wall time of the tick.
    pub duration_seconds: f64,
    /// True when another replica held the tick lease, so this one did nothing.
    pub skipped: bool,
}

/// One page of due workflows, decided.
#[derive(Default)]
struct Page {
    /// The changes to apply, and what each will count as.
    planned: Vec<WorkflowChange>,
    effects: Vec<Planned>,
    /// Workflows that could not be decided, and why.
    failures: Vec<(i64, String)>,
    checked: u64,
    /// Where the following page starts; `None` after the last page.
    next: Option<DueCursor>,
}

impl TickSummary {
    /// Adds the counts of a part of this tick.
    fn add(&mut self, part: TickSummary) {
        self.checked += part.checked;
        self.reminded += part.reminded;
        self.escalated += part.escalated;
        self.exhausted += part.exhausted;
        self.handed_over += part.handed_over;
        self.resumed += part.resumed;
        self.failed += part.failed;
        self.stale += part.stale;
    }
}

/// What a planned change will count as, once applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Remind,
    Escalate,
    Exhaust,
    Resume,
    Reschedule,
}

/// A planned change's effect, and the threshold it acts on (the workflow's `next_check_at`:
/// its warning time, deadline or repeat time), for the lateness metric.
#[derive(Debug, Clone, Copy)]
struct Planned {
    effect: Effect,
    due_since: DateTime<Utc>,
}

/// The name of the lock that lets one replica at a time run the tick.
const TICK_LOCK: &str = "tick";

/// How long a kept tick lock is trusted without asking the database whether it is still
/// ours. Trusting it wrongly (its connection died unnoticed) only lets two replicas tick
/// at once, which every change's version check makes safe.
const KEPT_LOCK_TRUSTED: std::time::Duration = std::time::Duration::from_secs(1);

/// The tick lock the deadline watcher keeps between ticks while thresholds follow each
/// other closely: taking and giving it back are two round trips of every small tick.
#[derive(Default)]
pub(crate) struct KeptLock {
    lock: Option<Box<dyn HeldLock>>,
    checked: Option<Instant>,
}

impl Escalator {
    /// Runs one tick unless another replica holds the tick lock. Within this process ticks
    /// take turns: a caller arriving while one runs waits for it, then runs its own (cheap
    /// when the first left nothing due).
    pub async fn tick(&self) -> EngineResult<TickSummary> {
        self.tick_then(false, None).await
    }

    /// The deadline watcher's tick for the threshold `at`, which may still be a few
    /// milliseconds ahead: it reads and decides what falls due by `at` first, then waits
    /// for the clock to reach `at` and only then writes, so the write is all that is left
    /// between a deadline and its escalation. Keeps the tick lock afterwards;
    /// [`Escalator::release_tick_lock`] gives it back.
    pub(crate) async fn tick_at(&self, at: DateTime<Utc>) -> EngineResult<TickSummary> {
        self.tick_then(true, Some(at)).await
    }

    /// Gives back a tick lock kept between ticks (the watcher going idle, or stopping).
    pub(crate) async fn release_tick_lock(&self) {
        let kept = self.tick_gate.lock().await.lock.take();
        if let Some(lock) = kept {
            lock.release().await;
        }
    }

    async fn tick_then(&self, keep: bool, at: Option<DateTime<Utc>>) -> EngineResult<TickSummary> {
        let mut gate = self.tick_gate.lock().await;
        let mut kept = gate.lock.take();
        let trusted = gate.checked.is_some_and(|at| at.elapsed() < KEPT_LOCK_TRUSTED);
        if let Some(lock) = kept.as_mut().filter(|_| !trusted) {
            if lock.still_held().await {
                gate.checked = Some(Instant::now());
            } else {
                kept = None;
            }
        }
        let lock = match kept {
            Some(lock) => Some(lock),
            None => {
                gate.checked = Some(Instant::now());
                self.store
                    .try_lock(TICK_LOCK, &self.config.instance, self.config.tick_lock_ttl)
                    .await?
            }
        };
        let Some(mut lock) = lock else {
            tracing::debug!("another replica holds the tick lock; skipping this tick");
            self.metrics.record_skipped_tick();
            return Ok(TickSummary {
                skipped: true,
                ..TickSummary::default()
            });
        };
        let result = self.run_tick(Some(&mut lock), at).await;
        if keep && result.is_ok() && !self.stopping() {
            gate.lock = Some(lock);
        } else {
            lock.release().await;
        }
        result
    }

    /// Runs one tick without taking the lock. Correct even when several run at once:
    /// every change is conditional on the version it was decided from.
    pub async fn tick_unleased(&self) -> EngineResult<TickSummary> {
        self.run_tick(None, None).await
    }

    /// Runs a tick as of `at` (default: now), under `lock` when one was taken.
    async fn run_tick(
        &self,
        lock: Option<&mut Box<dyn HeldLock>>,
        at: Option<DateTime<Utc>>,
    ) -> EngineResult<TickSummary> {
        let started = Instant::now();
        let now = at.map_or_else(|| self.now(), |at| at.max(self.now()));
        let result = self.process_due(now, lock).await;
        let elapsed = started.elapsed().as_secs_f64();
        match result {
            Ok(mut summary) => {
                summary.duration_seconds = elapsed;
                self.metrics.record_tick(&summary);
                tracing::info!(
                    checked = summary.checked,
                    reminded = summary.reminded,
                    escalated = summary.escalated,
                    exhausted = summary.exhausted,
                    handed_over = summary.handed_over,
                    resumed = summary.resumed,
                    failed = summary.failed,
                    stale = summary.stale,
                    duration_seconds = elapsed,
                    "tick finished"
                );
                if summary.reminded + summary.escalated + summary.exhausted + summary.handed_over + summary.resumed > 0
                {
                    self.request_delivery();
                }
                Ok(summary)
            }
            Err(err) => {
                self.metrics.record_failed_tick(elapsed);
                tracing::error!(%err, "tick failed");
                Err(err)
            }
        }
    }

    /// Works through the due workflows page by page. Stops early, after the page being
    /// written, when the process shuts down or the lock was lost (another replica may be
    /// on it; what is left is due for the next tick).
    async fn process_due(
        &self,
        now: DateTime<Utc>,
        mut lock: Option<&mut Box<dyn HeldLock>>,
    ) -> EngineResult<TickSummary> {
        let inputs = self.kept(now).await?;
        let (rules, directory) = (&*inputs.rules, &*inputs.directory);
        let mut summary = TickSummary::default();
        // First the work of people who just went away, so that what falls due below is
        // already with someone present. The directory was read at this tick's rules
        // generation, so with nobody away in it there is nothing to look for.
        if directory.anyone_away(now) {
            if !self.reached(now).await {
                return Ok(summary);
            }
            let handed = self.hand_over(now, rules, directory).await?;
            summary.handed_over = handed.moved;
            summary.stale += handed.stale;
        }
        // The next page is read and decided while the current one is written: the pages
        // are disjoint (a keyset cursor), writing is the database's time and deciding is
        // ours, so the two overlap instead of taking turns.
        let first = self.plan_page(now, None, rules, directory).await?;
        // Decided ahead of its threshold, written only once it has come (never early).
        if !self.reached(now).await {
            return Ok(summary);
        }
        let mut page = Some(first);
        while let Some(Page {
            planned,
            effects,
            failures,
            checked,
            next,
        }) = page.take()
        {
            summary.checked += checked;
            for (workflow_id, reason) in &failures {
                self.record_failure(&mut summary, *workflow_id, reason, now).await;
            }
            let following = async {
                match next {
                    Some(cursor) => self.plan_page(now, Some(cursor), rules, directory).await.map(Some),
                    None => Ok(None),
                }
            };
            let (applied, following) = tokio::join!(self.apply_batch(planned, effects, now), following);
            summary.add(applied);
            page = following?;
            if page.is_some() && self.stopping() {
                tracing::info!("shutting down: the tick stops after this page");
                break;
            }
            if let (Some(_), Some(lock)) = (&page, lock.as_deref_mut()) {
                if !lock.still_held().await {
                    tracing::warn!("lost the tick lock; stopping this tick after its page");
                    break;
                }
            }
        }
        Ok(summary)
    }

    /// Waits until the engine's clock shows `at` (a few milliseconds at most, for a tick
    /// decided ahead); false when it does not get there, as a test's stopped clock may not.
    async fn reached(&self, at: DateTime<Utc>) -> bool {
        for _ in 0..4 {
            match (at - self.now()).to_std() {
                Ok(ahead) if !ahead.is_zero() => sleep_precisely(ahead).await,
                _ => return true,
            }
        }
        self.now() >= at
    }

    /// Reads the page of due workflows after `after` and decides each.
    async fn plan_page(
        &self,
        now: DateTime<Utc>,
        after: Option<DueCursor>,
        rules: &Rules,
        directory: &impl Directory,
    ) -> EngineResult<Page> {
        let due = self.store.due_workflows(now, after, self.config.batch_size).await?;
        let full = due.len() >= usize::try_from(self.config.batch_size).unwrap_or(usize::MAX);
        let mut page = Page {
            checked: due.len() as u64,
            next: due.last().filter(|_| full).map(|last| DueCursor {
                next_check_at: last.state.next_check_at.unwrap_or(now),
                id: last.id,
            }),
            ..Page::default()
        };
        if due.is_empty() {
            return Ok(page);
        }
        // Holds of this page only (a workflow resumed after a pause counts around it).
        let ids: Vec<i64> = due.iter().map(|w| w.id).collect();
        let holds = self.holds_of(&due).await?;
        let reminders = self.store.reminders_of(&ids).await?;
        for workflow in &due {
            match plan(workflow, rules, directory, &holds, &reminders, now) {
                Ok(Some((change, effect))) => {
                    page.planned.push(change);
                    page.effects.push(Planned {
                        effect,
                        due_since: workflow.state.next_check_at.unwrap_or(now),
                    });
                }
                Ok(None) => {}
                Err(reason) => page.failures.push((workflow.id, reason)),
            }
        }
        Ok(page)
    }

    /// Applies a batch in one transaction; if that fails, retries one by one so that a
    /// single bad workflow is isolated, counted and audited. Returns what it counted.
    async fn apply_batch(
        &self,
        changes: Vec<WorkflowChange>,
        effects: Vec<Planned>,
        now: DateTime<Utc>,
    ) -> TickSummary {
        let mut summary = TickSummary::default();
        if changes.is_empty() {
            return summary;
        }
        match self.store.apply(&changes).await {
            Ok(outcomes) => {
                for (planned, outcome) in effects.into_iter().zip(outcomes) {
                    self.count(&mut summary, planned, outcome);
                }
            }
            Err(err) => {
                tracing::warn!(%err, size = changes.len(), "batch failed; applying one by one");
                for (change, planned) in changes.into_iter().zip(effects) {
                    match self.store.apply(std::slice::from_ref(&change)).await {
                        Ok(outcomes) => outcomes.into_iter().for_each(|o| self.count(&mut summary, planned, o)),
                        Err(err) => {
                            self.record_failure(&mut summary, change.workflow_id, &err.to_string(), now)
                                .await
                        }
                    }
                }
            }
        }
        summary
    }

    async fn record_failure(&self, summary: &mut TickSummary, workflow_id: i64, reason: &str, now: DateTime<Utc>) {
        summary.failed += 1;
        tracing::error!(workflow_id, reason, "escalation failed for a workflow");
        let entry = NewAudit {
            actor: SYSTEM_ACTOR.into(),
            action: "escalation_failed".into(),
            workflow_id: Some(workflow_id),
            details: json!({ "error": reason }),
            at: now,
        };
        if let Err(err) = self.store.append_audit(&entry).await {
            tracing::error!(%err, workflow_id, "could not audit an escalation failure");
        }
    }

    /// Counts an applied change, and how late after its threshold a reminder or an
    /// escalation was made (committed).
    fn count(&self, summary: &mut TickSummary, planned: Planned, outcome: Applied) {
        let late = || {
            (self.now() - planned.due_since)
                .to_std()
                .unwrap_or_default()
                .as_secs_f64()
        };
        match (outcome, planned.effect) {
            (Applied::Stale, _) => summary.stale += 1,
            (Applied::AlreadyClaimed, _) | (Applied::Done, Effect::Reschedule) => {}
            (Applied::Done, Effect::Remind) => {
                summary.reminded += 1;
                self.metrics.record_lateness("remind", late());
            }
            (Applied::Done, Effect::Escalate) => {
                summary.escalated += 1;
                self.metrics.record_lateness("escalate", late());
            }
            (Applied::Done, Effect::Exhaust) => summary.exhausted += 1,
            (Applied::Done, Effect::Resume) => summary.resumed += 1,
        }
    }
}

/// Sleeps about `wait`, or exactly when it is short. tokio's timer counts whole
/// milliseconds and wakes up to one late, which a threshold's write would add to its
/// lateness; so the last two milliseconds are slept on a blocking thread (nanosleep, tens of
/// microseconds late). Longer waits sleep on the timer until that close (callers look
/// at the clock again).
async fn sleep_precisely(wait: Duration) {
    const COARSE: Duration = Duration::from_millis(2);
    if wait > COARSE {
        tokio::time::sleep(wait - COARSE).await;
    } else if tokio::task::spawn_blocking(move || std::thread::sleep(wait))
        .await
        .is_err()
    {
        tokio::time::sleep(wait).await;
    }
}

/// Turns the domain's decision for one due workflow into a change; `Err` names why it
/// cannot be decided (a dangling policy or chain).
fn plan(
    w: &WorkflowRecord,
    rules: &Rules,
    directory: &impl Directory,
    holds: &[Hold],
    reminders: &[Reminder],
    now: DateTime<Utc>,
) -> Result<Option<(WorkflowChange, Effect)>, String> {
    if w.state.status == WorkflowStatus::OnHold {
        return resume_snoozed(w, rules, holds, now).map(Some);
    }
    let policy = rules.policy_of(w).map_err(|e| e.to_string())?;
    let chain = rules.chain_of(w).map_err(|e| e.to_string())?;
    let timeline = timeline_of(w, holds);
    let subject = Subject {
        status: w.state.status,
        level: w.state.level,
        department: &w.department,
        assignee: &w.state.assignee,
        timeline: &timeline,
        reminder: reminders
            .iter()
            .find(|r| r.workflow_id == w.id && r.stage_seq == w.state.stage_seq && r.level == w.state.level)
            .map(|r| ReminderState {
                last_sent_at: r.last_sent_at,
                sent: r.sent_count,
                acknowledged_at: r.acknowledged_at,
            }),
        seed: u64::try_from(w.id).unwrap_or_default(),
    };
    let decision = decide(subject, policy, chain, directory, now);
    let key = |kind: &str| format!("{kind}:{}:{}:{}", w.id, w.state.stage_seq, w.state.level);
    let mut change = WorkflowChange {
        workflow_id: w.id,
        expected_version: w.version,
        state: w.state.reschedule(decision.next_check_at()),
        claim: None,
        reminder: None,
        hold: None,
        audit: Vec::new(),
        outbox: Vec::new(),
        outcome: None,
        now,
    };
    let (effect, event, event_key) = match &decision {
        Decision::Wait { next_check_at } if *next_check_at == w.state.next_check_at => return Ok(None),
        Decision::Wait { .. } => return Ok(Some((change, Effect::Reschedule))),
        Decision::Remind { state, repeat, .. } => {
            let repeat = *repeat;
            change.claim = Some(claim(w, ClaimKind::Remind, repeat));
            change.reminder = Some(NewReminder {
                assignee: w.state.assignee.clone(),
                due_at: state.due_at,
                repeat,
            });
            change.audit.push(audit(
                w,
                "remind",
                now,
                json!({
                    "reason": "sla_warning",
                    "level": w.state.level,
                    "assignee": w.state.assignee,
                    "due_at": state.due_at,
                    "remaining_seconds": state.remaining.num_seconds(),
                    "repeat": repeat,
                }),
            ));
            let kind = EventKind::Reminded {
                remaining_seconds: state.remaining.num_seconds(),
                repeat,
            };
            // The first reminder keeps its historical key; each repeat gets its own.
            let remind_key = match repeat {
                0 => key("remind"),
                n => format!("{}:{n}", key("remind")),
            };
            (Effect::Remind, kind, remind_key)
        }
        Decision::Escalate(e) => {
            change.state = w.state.escalate(e, now).map_err(|err| err.to_string())?;
            change.claim = Some(claim(w, ClaimKind::Escalate, 0));
            for skipped in &e.skipped {
                change.audit.push(audit(
                    w,
                    "escalation_target_unresolved",
                    now,
                    json!({
                        "level": skipped.level,
                        "target": skipped.target,
                        "reason": skipped.reason,
                    }),
                ));
            }
            change.audit.push(audit(
                w,
                "escalate",
                now,
                json!({
                    "reason": if e.acknowledged_until.is_some() { "acknowledged_not_decided" } else { "sla_breach" },
                    "acknowledged_until": e.acknowledged_until,
                    "elapsed_seconds": e.breached.elapsed.num_seconds(),
                    "elapsed": human(e.breached.elapsed.num_seconds()),
                    "from_assignee": w.state.assignee,
                    "to_assignee": e.to_assignee,
                    "from_level": e.from_level,
                    "to_level": e.to_level,
                    "due_at": e.breached.due_at,
                    "next_due_at": e.next.due_at,
                    "passed_over": e.passed_over,
                    "note": routing_note(&e.passed_over, &e.to_assignee),
                }),
            ));
            let kind = EventKind::Escalated {
                from_assignee: w.state.assignee.clone(),
                to_assignee: e.to_assignee.clone(),
                from_level: e.from_level,
                to_level: e.to_level,
                elapsed_seconds: e.breached.elapsed.num_seconds(),
                breached_due_at: e.breached.due_at,
                skipped: e.skipped.clone(),
                passed_over: e.passed_over.clone(),
                acknowledged_until: e.acknowledged_until,
            };
            (Effect::Escalate, kind, key("escalate"))
        }
        Decision::Exhausted {
            state, skipped, repeat, ..
        } => {
            let repeat = *repeat;
            change.claim = Some(claim(w, ClaimKind::Exhaust, repeat));
            change.audit.push(audit(
                w,
                "chain_exhausted",
                now,
                json!({
                    "reason": "sla_breach",
                    "level": w.state.level,
                    "assignee": w.state.assignee,
                    "elapsed_seconds": state.elapsed.num_seconds(),
                    "skipped": skipped,
                    "repeat": repeat,
                }),
            ));
            let kind = EventKind::ChainExhausted {
                elapsed_seconds: state.elapsed.num_seconds(),
                skipped: skipped.clone(),
                repeat,
            };
            // The first telling keeps its historical key; each repeat gets its own.
            let exhaust_key = match repeat {
                0 => key("exhaust"),
                n => format!("{}:{n}", key("exhaust")),
            };
            (Effect::Exhaust, kind, exhaust_key)
        }
    };
    let event = events::event(w, &change.state, SYSTEM_ACTOR, now, event);
    // The top of the chain is not silence: when the policy says so, its assignee is told
    // (again) that the workflow still needs a decision.
    let addressees = match effect {
        Effect::Exhaust if policy.exhausted_repeat_seconds.is_some() => Some(event.attention()),
        _ => event.addressees(),
    };
    change.outbox = events::rows_to(&event, addressees, &event_key).map_err(|e| e.to_string())?;
    Ok(Some((change, effect)))
}

/// A due workflow on hold is a snooze that ended: it resumes as a person's resume would,
/// the paused time not counted, to the status it had before.
fn resume_snoozed(
    w: &WorkflowRecord,
    rules: &Rules,
    holds: &[Hold],
    now: DateTime<Utc>,
) -> Result<(WorkflowChange, Effect), String> {
    let resumed = resumed(w, rules, holds, now).map_err(|e| e.to_string())?;
    let (state, paused_seconds) = (resumed.state, resumed.paused_seconds);
    let status = state.status;
    let event = events::event(w, &state, SYSTEM_ACTOR, now, EventKind::Resumed { paused_seconds });
    let outbox = events::rows(&event, &format!("resume:{}:{}", w.id, w.version)).map_err(|e| e.to_string())?;
    let change = WorkflowChange {
        workflow_id: w.id,
        expected_version: w.version,
        state,
        claim: None,
        reminder: None,
        hold: Some(HoldChange::Close),
        audit: vec![audit(
            w,
            "resume",
            now,
            json!({
                "reason": "hold_ended",
                "paused_seconds": paused_seconds,
                "due_at": resumed.due_at,
                "from_assignee": w.state.assignee,
                "to_assignee": w.state.assignee,
                "status": status.as_str(),
            }),
        )],
        outbox,
        outcome: None,
        now,
    };
    Ok((change, Effect::Resume))
}

fn claim(w: &WorkflowRecord, kind: ClaimKind, seq: u32) -> Claim {
    Claim {
        stage_seq: w.state.stage_seq,
        level: w.state.level,
        kind,
        seq,
    }
}

fn audit(w: &WorkflowRecord, action: &str, at: DateTime<Utc>, details: Value) -> NewAudit {
    NewAudit {
        actor: SYSTEM_ACTOR.into(),
        action: action.into(),
        workflow_id: Some(w.id),
        details,
        at,
    }
}

/// `48h`, `1h30m`, `45m`, `20s`: how the seed writes elapsed time.
pub fn human(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, _) => format!("{m}m"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn elapsed_time_reads_like_the_seed() {
        assert_eq!(human(48 * 3600), "48h");
        assert_eq!(human(5400), "1h30m");
        assert_eq!(human(59), "59s");
        assert_eq!(human(120), "2m");
    }
}
