//! What the server functions send to the pages: view models, plain data that both the
//! server and the browser (WASM) compile.

use chrono::{DateTime, Utc};
use escalator_domain::{Omitted, Role, Segment, SlaStatus};
use serde::{Deserialize, Serialize};

/// People's names by e-mail, for pages that show people by name (and suggest them in
/// e-mail fields) rather than by address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct People(pub std::collections::BTreeMap<String, String>);

impl People {
    /// The person's name, or the e-mail itself for someone not in the directory.
    pub fn name(&self, email: &str) -> String {
        self.0.get(email).cloned().unwrap_or_else(|| email.to_string())
    }

    /// `(e-mail, name)` pairs in e-mail order, for a datalist of suggestions.
    pub fn options(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(e, n)| (e.clone(), n.clone())).collect()
    }
}

impl FromIterator<(String, String)> for People {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Self(pairs.into_iter().collect())
    }
}

/// The signed-in user, for the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub department: Option<String>,
    /// Unread in-app notifications.
    pub unread: i64,
}

impl Me {
    /// Whether the user is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// One open workflow in a listing, with what its countdown needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRow {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub workflow_type: String,
    pub department: String,
    pub stage: String,
    pub assignee: String,
    /// The assignee's name (their e-mail when unknown).
    pub assignee_name: String,
    /// `pending`, `escalated`, `on_hold`, `completed`, `cancelled`.
    pub status: String,
    pub level: u32,
    pub sla: SlaStatus,
    pub warn_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Counted time left at `now` of the page (negative once breached); frozen while on hold.
    pub remaining_seconds: i64,
}

/// What a countdown needs of its workflow (cheap to copy into every closure of a row).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaClock {
    pub sla: SlaStatus,
    pub warn_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Counted time left at the page's `now` (frozen while on hold).
    pub remaining_seconds: i64,
}

impl WorkflowRow {
    /// The row's SLA clock.
    pub fn clock(&self) -> SlaClock {
        SlaClock {
            sla: self.sla,
            warn_at: self.warn_at,
            due_at: self.due_at,
            remaining_seconds: self.remaining_seconds,
        }
    }
}

impl SlaClock {
    /// The SLA status at `now`: paused clocks stay paused; others move through warning and
    /// breached as their instants pass.
    pub fn status_at(self, now: DateTime<Utc>) -> SlaStatus {
        match self.sla {
            SlaStatus::Paused => SlaStatus::Paused,
            _ => SlaStatus::running_at(self.warn_at, self.due_at, now),
        }
    }

    /// Seconds left at `now` (frozen while paused), for a page read at `page_now`.
    pub fn remaining_at(self, page_now: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        match self.sla {
            SlaStatus::Paused => self.remaining_seconds,
            _ => self.remaining_seconds - (now - page_now).num_seconds().max(0),
        }
    }
}

/// A page of the pending-workflows table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingPage {
    /// The server's clock when the page was read; the countdowns start from it.
    pub now: DateTime<Utc>,
    pub rows: Vec<WorkflowRow>,
    /// Open workflows per SLA status under the filters' scope.
    pub counts: Vec<(SlaStatus, i64)>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
    /// Departments the user may filter by.
    pub departments: Vec<(String, String)>,
}

/// One line of a workflow's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// The audit action (`escalate`, `hold`, …).
    pub action: String,
    /// What happened, in words.
    pub headline: String,
    pub note: Option<String>,
    /// Who did it, by name.
    pub actor: String,
    /// The messages it caused and how their delivery stands.
    pub deliveries: Vec<DeliveryRow>,
    /// The audit entry's details as recorded (JSON).
    pub raw: String,
}

/// One message of a timeline entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub channel: String,
    pub to: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
}

/// A level of the chain, as the detail page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainStep {
    pub target: String,
    pub time_limit_seconds: i64,
    /// This is the level the workflow is at.
    pub current: bool,
}

/// Everything on the workflow detail page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowDetail {
    pub now: DateTime<Utc>,
    pub row: WorkflowRow,
    pub initiator: String,
    /// The initiator's and the assignee's names (their e-mails when unknown).
    pub initiator_name: String,
    pub assignee_name: String,
    /// The viewer's time zone (IANA), in which the page shows times.
    pub viewer_zone: String,
    pub created_at: DateTime<Utc>,
    pub policy: String,
    pub policy_version: i64,
    pub time_zone: String,
    pub chain: String,
    /// Level 0 is the original assignee; then the chain's levels.
    pub steps: Vec<ChainStep>,
    /// How the assignee was reached past people who were away, if anyone was passed over.
    pub routing: Option<String>,
    pub segments: Vec<Segment>,
    /// The middle of a long explanation, summed (the segments hold its two ends).
    pub omitted: Option<Omitted>,
    pub timeline: Vec<TimelineEntry>,
    /// Actions the user may take now: `complete`, `advance`, `reassign`, `hold`, `resume`, `cancel`.
    pub actions: Vec<String>,
}

/// A reminder in the signed-in user's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderRow {
    pub id: i64,
    pub workflow_id: i64,
    pub workflow_title: String,
    pub assignee: String,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    /// When it was sent, when it is due and when it was acknowledged, in the viewer's zone.
    pub sent_local: String,
    pub due_local: String,
    pub acknowledged_local: Option<String>,
}

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRow {
    pub id: i64,
    pub workflow_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// `created_at` in the viewer's zone.
    pub created_local: String,
    pub read: bool,
}

/// An audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub workflow_id: Option<i64>,
    /// The details as labelled fields (label, value), in the recorded order.
    pub fields: Vec<(String, String)>,
    /// The details as recorded (JSON).
    pub details: String,
}

/// A page of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// The viewer's time zone (IANA), in which the page shows times.
    pub zone: String,
    /// The `before` cursor of the next (older) page.
    pub next: Option<i64>,
}

/// How long a duration is, for people: `2 h 05 m`, `45 s`, `3 d 4 h`.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m:02} m")
    } else if m > 0 {
        format!("{m} m {sec:02} s")
    } else {
        format!("{sec} s")
    }
}

/// A label for an SLA status.
pub fn sla_label(status: SlaStatus) -> &'static str {
    match status {
        SlaStatus::Ok => "OK",
        SlaStatus::Warning => "Warning",
        SlaStatus::Breached => "Breached",
        SlaStatus::Paused => "On hold",
    }
}

/// The CSS class of an SLA status.
pub fn sla_class(status: SlaStatus) -> &'static str {
    match status {
        SlaStatus::Ok => "sla-ok",
        SlaStatus::Warning => "sla-warning",
        SlaStatus::Breached => "sla-breached",
        SlaStatus::Paused => "sla-paused",
    }
}

/// A role's name for people.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Admin",
        Role::DepartmentHead => "Department head",
        Role::Approver => "Approver",
        Role::Viewer => "Viewer",
    }
}

/// A person's availability page: their standing delegate, absences not yet over, whether
/// they are away or deactivated, and whom they may choose as a delegate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsData {
    pub email: String,
    pub name: String,
    /// Whether the page is the signed-in user's own (else an admin's view of someone).
    pub own: bool,
    /// Whether the viewer is an admin (may deactivate and reactivate).
    pub admin: bool,
    pub delegate: Option<String>,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub away_now: bool,
    /// The person's time zone, in which dates are read.
    pub time_zone: String,
    pub absences: Vec<AbsenceRow>,
    /// (e-mail, name) of the people who can be chosen as delegate.
    pub people: Vec<(String, String)>,
    pub phone: Option<String>,
    /// Quiet hours ("HH:MM"), if any.
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    /// Whether the person chose their own time zone (else UTC is used).
    pub zone_chosen: bool,
    /// Per kind of message, the channels chosen (or the defaults).
    pub channels: Vec<ChannelChoice>,
}

/// The channels a person gets one kind of message on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelChoice {
    /// `reminder`, `escalation`, `assignment`, `attention`.
    pub kind: String,
    pub label: String,
    pub email: bool,
    pub in_app: bool,
    pub sms: bool,
}

/// One absence in the settings page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbsenceRow {
    pub id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub delegate: Option<String>,
    /// Their open work was handed on when it started.
    pub handed_over: bool,
}

/// The groups page: every group as text the form shows, and whether the viewer edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupsData {
    pub groups: Vec<GroupView>,
    /// The members' names.
    pub people: People,
    pub can_edit: bool,
}

/// One group, as its form shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub key: String,
    pub name: String,
    /// `first_present`, `round_robin` or `rotation`.
    pub strategy: String,
    /// A rotation's `day` or `week`.
    pub period: String,
    /// A rotation's first day (`YYYY-MM-DD`).
    pub starts_on: String,
    pub time_zone: String,
    /// One e-mail per line, in order.
    pub members: String,
    /// How many overrides it has (edited through the API).
    pub overrides: usize,
}

/// The integrations page: API tokens (everyone's own; admins see all), and for admins the
/// webhooks with their latest deliveries and the dead-lettered messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationsData {
    pub admin: bool,
    /// The viewer's time zone (IANA), in which the page shows times.
    pub zone: String,
    /// The names of the tokens' owners and the dead letters' addressees.
    pub people: People,
    pub tokens: Vec<TokenRow>,
    pub webhooks: Vec<WebhookRow>,
    pub dead_letters: Vec<DeadLetterRow>,
}

/// An API token (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub user: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A webhook endpoint and its latest deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    /// (when, HTTP status or error, milliseconds), newest first.
    pub deliveries: Vec<(DateTime<Utc>, String, i64)>,
}

/// A message that could not be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub topic: String,
    pub channel: Option<String>,
    pub recipient: Option<String>,
    pub attempts: i64,
    pub error: Option<String>,
    pub workflow_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0), "0 s");
        assert_eq!(human_duration(59), "59 s");
        assert_eq!(human_duration(61), "1 m 01 s");
        assert_eq!(human_duration(2 * 3600 + 5 * 60 + 9), "2 h 05 m");
        assert_eq!(human_duration(-(3 * 86_400 + 4 * 3600)), "3 d 4 h");
    }

    #[test]
    fn people_are_named_and_strangers_keep_their_address() {
        let people: People = [("a@x.example".to_string(), "Ada".to_string())].into_iter().collect();
        assert_eq!(people.name("a@x.example"), "Ada");
        assert_eq!(people.name("b@x.example"), "b@x.example");
        assert_eq!(people.options(), vec![("a@x.example".to_string(), "Ada".to_string())]);
    }
}
