//! Absences, delegates and deactivation: people record when they are away and who takes
//! their work; every assignment is routed past people who are away (create, advance,
//! escalate), and when an absence starts (or a person is deactivated) their open work is
//! handed on once, by the tick.

use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::{
    assign, evaluate, next_level, parse_absences_ics, parse_bound, route, routing_note, terms_at, Absence, Assignment,
    Directory, Escalation, EscalationChain, EventKind, Presence, Timeline, ValidationError, WorkflowStatus,
};
use escalator_storage::{
    AbsenceRecord, Applied, Availability, Hold, NewAudit, WorkflowChange, WorkflowFilter, WorkflowRecord,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Actor;
use crate::events;
use crate::service::Rules;
use crate::tick::SYSTEM_ACTOR;
use crate::workflows::timeline_of;
use crate::{EngineError, EngineResult, Escalator};

/// The longest iCalendar file an import reads: escaped as JSON at worst (12 bytes a
/// character, a surrogate pair) it still fits the 2 MB body limit, so a longer one is
/// refused by name, as too long.
const MAX_ICS_CHARS: usize = 150_000;

/// The longest absence one record may cover.
const MAX_ABSENCE_DAYS: i64 = 366;

/// An absence as people enter it: bounds as dates (`2026-12-24`, the end day included),
/// local times in the person's time zone (`2026-12-24T13:00`) or instants with an offset.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceInput {
    /// First day or instant away.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-21", max_length = 40))]
    pub from: String,
    /// Last day away (included), or the instant they are back.
    #[cfg_attr(feature = "openapi", schema(example = "2027-01-03", max_length = 40))]
    pub to: String,
    /// Shown to colleagues who are routed past them, e.g. "holiday".
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub reason: Option<String>,
    /// Who takes their work during this absence (instead of their standing delegate).
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub delegate: Option<String>,
}

/// A person's availability: their standing delegate, whether they are deactivated, and
/// their absences that have not ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AvailabilityView {
    pub email: String,
    #[serde(flatten)]
    pub availability: Availability,
    /// Away right now.
    pub away_now: bool,
    pub absences: Vec<AbsenceRecord>,
}

/// What an absence-starting hand-over did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandOver {
    /// Workflows handed to someone present.
    pub moved: u64,
    /// Workflows another change got to first (tried again at the next tick).
    pub stale: u64,
}

impl Escalator {
    /// A person's availability (themselves and admins).
    pub async fn availability(&self, email: &str, actor: &Actor) -> EngineResult<AvailabilityView> {
        let email = self.availability_subject(email, actor).await?;
        let now = self.now();
        let availability = self
            .store
            .availability(&email)
            .await?
            .ok_or_else(|| EngineError::not_found("user", &email))?;
        let absences = self.store.absences(&email, now).await?;
        let away_now = availability.deactivated_at.is_some() || absences.iter().any(|a| a.absence.covers(now));
        Ok(AvailabilityView {
            email,
            availability,
            away_now,
            absences,
        })
    }

    /// Records an absence (themselves and admins); audited.
    pub async fn add_absence(&self, email: &str, input: &AbsenceInput, actor: &Actor) -> EngineResult<AbsenceRecord> {
        let email = self.availability_subject(email, actor).await?;
        let zone = self
            .store
            .notification_preferences(&email)
            .await?
            .unwrap_or_default()
            .zone();
        let starts_at = parse_bound("from", &input.from, &zone, false)?;
        let ends_at = parse_bound("to", &input.to, &zone, true)?;
        if ends_at <= starts_at {
            return Err(ValidationError::new("to", "must be after from").into());
        }
        if ends_at - starts_at > TimeDelta::days(MAX_ABSENCE_DAYS) {
            return Err(
                ValidationError::new("to", format!("an absence covers at most {MAX_ABSENCE_DAYS} days")).into(),
            );
        }
        if ends_at <= self.now() {
            return Err(ValidationError::new("to", "must be in the future").into());
        }
        let reason = match input.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => Some(crate::workflows::text("reason", r, 200)?),
            _ => None,
        };
        let delegate = match &input.delegate {
            Some(d) => Some(self.delegate_for(&email, d).await?),
            None => None,
        };
        let absence = Absence {
            starts_at,
            ends_at,
            reason,
            delegate,
        };
        let audit = NewAudit {
            actor: actor.email.clone(),
            action: "absence_recorded".into(),
            workflow_id: None,
            details: json!({ "user": email, "starts_at": starts_at, "ends_at": ends_at, "delegate": absence.delegate }),
            at: self.now(),
        };
        let record = self.store.add_absence(&email, &absence, &audit).await?;
        // An absence starting now is a threshold: the deadline watcher hands the work on.
        self.rearm();
        Ok(record)
    }

    /// Imports the absences of an iCalendar file (themselves and admins): each event not
    /// yet over becomes an absence, audited; one already recorded with the same bounds is
    /// left as it is, so importing the same file again adds nothing. The whole file is
    /// checked before anything is stored.
    pub async fn import_absences(&self, email: &str, ics: &str, actor: &Actor) -> EngineResult<Vec<AbsenceRecord>> {
        let email = self.availability_subject(email, actor).await?;
        let zone = self
            .store
            .notification_preferences(&email)
            .await?
            .unwrap_or_default()
            .zone();
        let now = self.now();
        escalator_domain::text::check("ics", ics)?;
        if ics.trim().is_empty() || ics.chars().count() > MAX_ICS_CHARS {
            return Err(ValidationError::new("ics", format!("must be 1-{MAX_ICS_CHARS} characters")).into());
        }
        let parsed = parse_absences_ics(ics, &zone).map_err(ValidationError::from)?;
        if let Some(long) = parsed
            .iter()
            .find(|a| a.ends_at - a.starts_at > TimeDelta::days(MAX_ABSENCE_DAYS))
        {
            return Err(ValidationError::new(
                "ics",
                format!(
                    "the absence from {} covers more than {MAX_ABSENCE_DAYS} days",
                    long.starts_at
                ),
            )
            .into());
        }
        let existing = self.store.absences(&email, now).await?;
        let mut added = Vec::new();
        for absence in parsed.into_iter().filter(|a| a.ends_at > now) {
            let known = existing.iter().chain(added.iter()).any(|r: &AbsenceRecord| {
                r.absence.starts_at == absence.starts_at && r.absence.ends_at == absence.ends_at
            });
            if known {
                continue;
            }
            let audit = NewAudit {
                actor: actor.email.clone(),
                action: "absence_recorded".into(),
                workflow_id: None,
                details: json!({ "user": email, "starts_at": absence.starts_at, "ends_at": absence.ends_at, "source": "ics" }),
                at: now,
            };
            added.push(self.store.add_absence(&email, &absence, &audit).await?);
        }
        self.rearm();
        Ok(added)
    }

    /// Deletes an absence (themselves and admins); audited. Work already handed on stays.
    pub async fn remove_absence(&self, email: &str, id: i64, actor: &Actor) -> EngineResult<()> {
        let email = self.availability_subject(email, actor).await?;
        let audit = NewAudit {
            actor: actor.email.clone(),
            action: "absence_removed".into(),
            workflow_id: None,
            details: json!({ "user": email, "absence_id": id }),
            at: self.now(),
        };
        if self.store.delete_absence(&email, id, &audit).await? {
            Ok(())
        } else {
            Err(EngineError::not_found("absence", id))
        }
    }

    /// Sets or clears a person's standing delegate (themselves and admins); audited.
    pub async fn set_delegate(
        &self,
        email: &str,
        delegate: Option<&str>,
        actor: &Actor,
    ) -> EngineResult<AvailabilityView> {
        let email = self.availability_subject(email, actor).await?;
        let delegate = match delegate.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(self.delegate_for(&email, d).await?),
            None => None,
        };
        let audit = NewAudit {
            actor: actor.email.clone(),
            action: "delegate_set".into(),
            workflow_id: None,
            details: json!({ "user": email, "delegate": delegate }),
            at: self.now(),
        };
        if !self.store.set_delegate(&email, delegate.as_deref(), &audit).await? {
            return Err(EngineError::not_found("user", &email));
        }
        self.availability(&email, actor).await
    }

    /// Deactivates a person (admins, not themselves): they are signed out, their tokens
    /// revoked, and routing treats them as away for good; their open work is handed on by
    /// the next tick. Audited; reversible with [`Escalator::reactivate_user`].
    pub async fn deactivate_user(&self, email: &str, actor: &Actor) -> EngineResult<AvailabilityView> {
        actor.require_admin()?;
        let email = email.trim().to_lowercase();
        if email == actor.email {
            return Err(EngineError::Conflict("you cannot deactivate yourself".into()));
        }
        self.set_deactivated(&email, Some(self.now()), "user_deactivated", actor)
            .await?;
        self.rearm();
        self.availability(&email, actor).await
    }

    /// Reactivates a deactivated person (admins); audited. Work handed on stays where it went.
    pub async fn reactivate_user(&self, email: &str, actor: &Actor) -> EngineResult<AvailabilityView> {
        actor.require_admin()?;
        let email = email.trim().to_lowercase();
        self.set_deactivated(&email, None, "user_reactivated", actor).await?;
        self.availability(&email, actor).await
    }

    async fn set_deactivated(
        &self,
        email: &str,
        at: Option<DateTime<Utc>>,
        action: &str,
        actor: &Actor,
    ) -> EngineResult<()> {
        let audit = NewAudit {
            actor: actor.email.clone(),
            action: action.into(),
            workflow_id: None,
            details: json!({ "user": email }),
            at: self.now(),
        };
        if self.store.set_deactivated(email, at, &audit).await? {
            Ok(())
        } else {
            Err(EngineError::not_found("user", email))
        }
    }

    /// The person whose availability the actor may manage: themselves, or anyone for admins.
    async fn availability_subject(&self, email: &str, actor: &Actor) -> EngineResult<String> {
        let email = email.trim().to_lowercase();
        actor.may_manage_availability(&email)?;
        if self.store.user(&email).await?.is_none() {
            return Err(EngineError::not_found("user", &email));
        }
        Ok(email)
    }

    /// A delegate for `email`: a user in the directory, not themselves.
    async fn delegate_for(&self, email: &str, raw: &str) -> EngineResult<String> {
        let delegate = raw.trim().to_lowercase();
        if delegate == email {
            return Err(ValidationError::new("delegate", "cannot be the person themselves").into());
        }
        match self.store.user(&delegate).await? {
            Some(user) => Ok(user.email.to_string()),
            None => Err(ValidationError::new("delegate", format!("{delegate} is not a user in the directory")).into()),
        }
    }

    /// Where work meant for `person` at `level` goes now: to them when present (the common
    /// case, read from the small table of who is away), else as [`assign`] decides on the
    /// whole directory.
    pub(crate) async fn route_assignment(
        &self,
        chain: &EscalationChain,
        department: &str,
        person: &str,
        level: u32,
        now: DateTime<Utc>,
        seed: u64,
    ) -> EngineResult<Assignment> {
        let away = self.store.away(now).await?;
        if away.presence(person, now) == Presence::Present {
            return Ok(Assignment {
                assignee: person.to_string(),
                level,
                passed_over: Vec::new(),
                skipped: Vec::new(),
            });
        }
        let directory = self.store.directory(now).await?;
        Ok(assign(chain, &directory, department, person, level, now, seed))
    }

    /// Hands on the open work of people whose absence has started (or who were
    /// deactivated): to their delegate, else one level up the chain to someone present.
    /// Work nobody present can take stays (its deadline still escalates it, past whoever is
    /// away). Once per absence: a workflow changed meanwhile leaves its absence for the next tick.
    pub(crate) async fn hand_over(
        &self,
        now: DateTime<Utc>,
        rules: &Rules,
        directory: &impl Directory,
    ) -> EngineResult<HandOver> {
        if self.config.handover == crate::Handover::Off {
            return Ok(HandOver::default());
        }
        let absences = self.store.absences_to_hand_over(now).await?;
        let mut people: Vec<String> = absences
            .iter()
            .filter(|(_, _, ends_at)| *ends_at > now)
            .map(|(_, person, _)| person.clone())
            .collect();
        people.extend(self.store.deactivated_with_open_work().await?);
        people.sort();
        people.dedup();
        let mut done = HandOver::default();
        let mut retry: Vec<&str> = Vec::new();
        for person in &people {
            let moved = self
                .hand_over_person(person, now, rules, directory, self.config.handover)
                .await?;
            done.moved += moved.moved;
            done.stale += moved.stale;
            if moved.stale > 0 {
                retry.push(person);
            }
        }
        let finished: Vec<i64> = absences
            .iter()
            .filter(|(_, person, _)| !retry.contains(&person.as_str()))
            .map(|(id, _, _)| *id)
            .collect();
        self.store.mark_handed_over(&finished, now).await?;
        if done.moved > 0 {
            tracing::info!(moved = done.moved, "handed on the work of people who are away");
            self.request_delivery();
        }
        Ok(done)
    }

    async fn hand_over_person(
        &self,
        person: &str,
        now: DateTime<Utc>,
        rules: &Rules,
        directory: &impl Directory,
        mode: crate::Handover,
    ) -> EngineResult<HandOver> {
        let mut done = HandOver::default();
        let mut before_id = None;
        loop {
            let page = self
                .store
                .workflows(&WorkflowFilter {
                    assignee: Some(person.to_string()),
                    open_only: true,
                    before_id,
                    limit: 200,
                    ..WorkflowFilter::default()
                })
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            before_id = Some(last.id);
            let holds = self.holds_of(&page).await?;
            let changes: Vec<WorkflowChange> = page
                .iter()
                .filter_map(|w| plan_hand_over(w, rules, directory, &holds, now, mode))
                .collect();
            if changes.is_empty() {
                continue;
            }
            for outcome in self.store.apply(&changes).await? {
                match outcome {
                    Applied::Stale => done.stale += 1,
                    Applied::Done | Applied::AlreadyClaimed => done.moved += 1,
                }
            }
        }
        Ok(done)
    }
}

/// The change that hands one workflow of a person who went away to someone present, if
/// anyone present can take it.
fn plan_hand_over(
    w: &WorkflowRecord,
    rules: &Rules,
    directory: &impl Directory,
    holds: &[Hold],
    now: DateTime<Utc>,
    mode: crate::Handover,
) -> Option<WorkflowChange> {
    let routed = route(directory, &w.state.assignee, now);
    let chain = rules.chain_of(w).ok()?;
    let (state, passed_over) = match routed.to {
        Some(to) if to != w.state.assignee => (w.state.reassign(to).ok()?, routed.passed_over),
        Some(_) => return None,
        // Nobody on the delegation path: one level up, unless the clock is paused.
        None if w.state.status != WorkflowStatus::OnHold && mode == crate::Handover::DelegateOrEscalate => {
            let seed = u64::try_from(w.id).unwrap_or_default();
            let reached = next_level(
                chain,
                directory,
                &w.department,
                &w.state.assignee,
                w.state.level,
                now,
                seed,
            )
            .ok()?;
            let policy = rules.policy_of(w).ok()?;
            let terms = terms_at(policy, chain, reached.level)?;
            let current = terms_at(policy, chain, w.state.level)?;
            let escalation = Escalation {
                from_level: w.state.level,
                to_level: reached.level,
                to_assignee: reached.to,
                skipped: reached.skipped,
                passed_over: reached.passed_over,
                acknowledged_until: None,
                breached: evaluate(&current, &timeline_of(w, holds), now),
                next: evaluate(&terms, &Timeline::started(now), now),
            };
            let state = w.state.escalate(&escalation, now).ok()?;
            (state, [routed.passed_over, escalation.passed_over].concat())
        }
        None => return None,
    };
    let note = routing_note(&passed_over, &state.assignee);
    let audit = NewAudit {
        actor: SYSTEM_ACTOR.into(),
        action: "handed_over".into(),
        workflow_id: Some(w.id),
        details: json!({
            "from_assignee": w.state.assignee,
            "to_assignee": state.assignee,
            "from_level": w.state.level,
            "to_level": state.level,
            "passed_over": passed_over,
            "note": note,
        }),
        at: now,
    };
    let kind = EventKind::HandedOver {
        from_assignee: w.state.assignee.clone(),
        from_level: w.state.level,
        passed_over,
    };
    let event = events::event(w, &state, SYSTEM_ACTOR, now, kind);
    let outbox = events::rows(&event, &format!("handover:{}:{}", w.id, w.version)).ok()?;
    Some(WorkflowChange {
        workflow_id: w.id,
        expected_version: w.version,
        state,
        claim: None,
        reminder: None,
        hold: None,
        audit: vec![audit],
        outbox,
        outcome: None,
        now,
    })
}
