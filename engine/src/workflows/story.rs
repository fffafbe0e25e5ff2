//! A workflow's timeline as a story people read: one line per thing that happened
//! ("Escalated to Dana Head (level 1) — SLA breached after 2 d"), people by name, and the
//! messages each caused grouped under it with their delivery state. Pure: the page's data
//! in, lines out.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use escalator_domain::readable;
use escalator_storage::{AuditEntry, OutboxStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Timeline;

/// One line of a workflow's story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryLine {
    pub at: DateTime<Utc>,
    /// The audit action (`escalate`, `hold`, …), for styling and tests.
    pub action: String,
    /// What happened, in words.
    pub headline: String,
    /// Why or how, when there is more to say (a reason, a routing note, "from a message").
    pub note: Option<String>,
    /// Who did it, by name; "Escalator" for the engine.
    pub actor: String,
    /// The messages it caused, one per channel and recipient.
    pub deliveries: Vec<Delivery>,
    /// The audit entry's details as recorded.
    pub raw: String,
}

/// One message of a line: where it went and how its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `e-mail`, `in-app`, `SMS`, `webhook`.
    pub channel: String,
    /// To whom, by name (none for webhooks).
    pub to: Option<String>,
    /// `delivered`, `pending` (with attempts so far) or `failed`.
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
}

fn channel_words(channel: &str) -> Option<&'static str> {
    match channel {
        "email" => Some("e-mail"),
        "in_app" => Some("in-app"),
        "sms" => Some("SMS"),
        "webhook" => Some("webhook"),
        // The log channel and the unrouted message rows are plumbing, not deliveries.
        _ => None,
    }
}

/// The story of a timeline, newest first; `names` maps e-mails to people's names.
pub fn story(timeline: &Timeline, names: &HashMap<String, String>) -> Vec<StoryLine> {
    let name = |email: &str| -> String {
        match email {
            "system" => "Escalator".into(),
            e => names.get(e).cloned().unwrap_or_else(|| e.to_string()),
        }
    };
    let mut lines: Vec<StoryLine> = timeline
        .audit
        .iter()
        .map(|a| StoryLine {
            at: a.at,
            action: a.action.clone(),
            headline: headline(a, &name),
            note: note(a, &name),
            actor: name(&a.actor),
            deliveries: Vec::new(),
            raw: a.details.to_string(),
        })
        .collect();
    // A change's messages are written in its transaction, at its instant: each delivery
    // joins the latest line at or before the message it fans out from.
    let base_at: HashMap<&str, DateTime<Utc>> = timeline
        .notifications
        .iter()
        .filter(|m| m.channel.is_none())
        .map(|m| (m.dedupe_key.as_str(), m.created_at))
        .collect();
    for m in &timeline.notifications {
        let Some(channel) = m.channel.as_deref().and_then(channel_words) else {
            continue;
        };
        let at = base_at
            .iter()
            .filter(|(key, _)| m.dedupe_key.starts_with(*key))
            .max_by_key(|(key, _)| key.len())
            .map_or(m.created_at, |(_, at)| *at);
        let delivery = Delivery {
            channel: channel.into(),
            to: m.recipient.as_deref().map(&name),
            status: match m.status {
                OutboxStatus::Delivered => "delivered".into(),
                OutboxStatus::Pending => "pending".into(),
                OutboxStatus::Dead => "failed".into(),
                OutboxStatus::Discarded => "failed, discarded".into(),
            },
            attempts: m.attempts,
            error: m.last_error.clone(),
        };
        if let Some(line) = lines.iter_mut().filter(|l| l.at <= at).max_by_key(|l| l.at) {
            line.deliveries.push(delivery);
        }
    }
    for line in &mut lines {
        if line.action == "remind" {
            let mut channels: Vec<&str> = line.deliveries.iter().map(|d| d.channel.as_str()).collect();
            channels.sort_unstable();
            channels.dedup();
            if !channels.is_empty() {
                line.headline = format!("{} by {}", line.headline, and_list(&channels));
            }
        }
    }
    lines.sort_by_key(|l| std::cmp::Reverse(l.at));
    lines
}

fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn text<'a>(details: &'a Value, key: &str) -> Option<&'a str> {
    details[key].as_str().filter(|s| !s.is_empty())
}

fn headline(a: &AuditEntry, name: &dyn Fn(&str) -> String) -> String {
    let d = &a.details;
    let person = |key: &str| text(d, key).map(name).unwrap_or_else(|| "someone".into());
    let level = |key: &str| d[key].as_u64().map(|l| format!(" (level {l})")).unwrap_or_default();
    let elapsed = d["elapsed_seconds"]
        .as_i64()
        .map(|s| format!(" — SLA breached after {}", readable::length(s)))
        .unwrap_or_default();
    match a.action.as_str() {
        "create" => format!(
            "Started at stage “{}”, assigned to {}",
            text(d, "stage").unwrap_or("?"),
            person("assignee")
        ),
        "remind" => format!("Reminder sent to {}", person("assignee")),
        "escalate" => format!("Escalated to {}{}{elapsed}", person("to_assignee"), level("to_level")),
        "chain_exhausted" => format!(
            "Overdue at the top of its chain, still with {}{elapsed}",
            person("assignee")
        ),
        "escalation_target_unresolved" => format!(
            "Level {} passed over: {}",
            d["level"].as_u64().unwrap_or_default(),
            text(d, "reason").unwrap_or("its target did not resolve")
        ),
        "handed_over" => format!("Handed over to {} (the assignee is away)", person("to_assignee")),
        "complete" => "Completed".into(),
        "cancel" => "Cancelled".into(),
        "advance" => format!(
            "Moved on to stage “{}”, assigned to {}",
            text(d, "to_stage").unwrap_or("?"),
            person("to_assignee")
        ),
        "reassign" => format!(
            "Reassigned from {} to {}",
            person("from_assignee"),
            person("to_assignee")
        ),
        "hold" => match d["until"].as_str().and_then(|u| DateTime::parse_from_rfc3339(u).ok()) {
            Some(until) => format!(
                "Snoozed until {}",
                readable::short_time(until.with_timezone(&Utc), &readable::zone(None))
            ),
            None => "Put on hold".into(),
        },
        "resume" => match d["paused_seconds"].as_i64() {
            Some(s) => format!("Resumed after {} on hold", readable::length(s)),
            None => "Resumed".into(),
        },
        "reminder_acknowledged" => "Reminder acknowledged".into(),
        "escalation_failed" => "Could not be escalated".into(),
        "policy_applied" => "Moved to the current version of its SLA policy".into(),
        "delivery_retried" => "A failed message was sent again".into(),
        other => other.replace('_', " "),
    }
}

fn note(a: &AuditEntry, name: &dyn Fn(&str) -> String) -> Option<String> {
    let d = &a.details;
    let mut parts: Vec<String> = Vec::new();
    for key in ["reason", "note", "error"] {
        if let Some(t) = text(d, key) {
            // Machine reasons read as words.
            let words = match t {
                "sla_warning" | "sla_breach" => continue,
                "hold_ended" => "its snooze ended".to_string(),
                "acknowledged_not_decided" => "acknowledged, but not decided in time".to_string(),
                other => other.to_string(),
            };
            parts.push(words);
        }
    }
    if a.action == "remind" {
        if let Some(s) = d["remaining_seconds"].as_i64() {
            parts.push(format!("{} left", readable::length(s.max(0))));
        }
    }
    if a.action == "complete" || a.action == "cancel" || a.action == "hold" {
        if let Some(from) = text(d, "from_assignee").filter(|f| *f != a.actor) {
            parts.push(format!("it was with {}", name(from)));
        }
    }
    if let Some(via) = text(d, "via") {
        parts.push(format!("via {via}"));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use escalator_storage::{OutboxKind, OutboxMessage};
    use serde_json::json;

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, minute, 0).unwrap()
    }

    fn audit(id: i64, minute: u32, actor: &str, action: &str, details: Value) -> AuditEntry {
        AuditEntry {
            id,
            at: at(minute),
            actor: actor.into(),
            action: action.into(),
            workflow_id: Some(7),
            details,
        }
    }

    fn row(
        key: &str,
        minute: u32,
        channel: Option<&str>,
        recipient: Option<&str>,
        status: OutboxStatus,
    ) -> OutboxMessage {
        OutboxMessage {
            id: 1,
            created_at: at(minute),
            kind: OutboxKind::Notification,
            topic: "workflow.escalated".into(),
            workflow_id: Some(7),
            payload: json!({}),
            dedupe_key: key.into(),
            status,
            attempts: 1,
            next_attempt_at: at(minute),
            last_error: None,
            delivered_at: None,
            channel: channel.map(Into::into),
            recipient: recipient.map(Into::into),
            digest_id: None,
        }
    }

    #[test]
    fn the_timeline_reads_as_a_story_with_deliveries_under_their_event() {
        let names: HashMap<String, String> = [
            ("dana@x.io", "Dana Head"),
            ("mike@x.io", "Mike Manager"),
            ("alice@x.io", "Alice"),
        ]
        .into_iter()
        .map(|(e, n)| (e.to_string(), n.to_string()))
        .collect();
        let timeline = Timeline {
            audit: vec![
                audit(
                    1,
                    0,
                    "api",
                    "create",
                    json!({"stage": "Approval", "assignee": "alice@x.io"}),
                ),
                audit(
                    2,
                    10,
                    "system",
                    "remind",
                    json!({"assignee": "alice@x.io", "remaining_seconds": 7200}),
                ),
                audit(
                    3,
                    20,
                    "system",
                    "escalate",
                    json!({"to_assignee": "dana@x.io", "to_level": 1, "elapsed_seconds": 172_800}),
                ),
                audit(
                    4,
                    30,
                    "dana@x.io",
                    "hold",
                    json!({"reason": "waiting for the supplier", "from_assignee": "dana@x.io", "via": "message link"}),
                ),
            ],
            reminders: vec![],
            notifications: vec![
                row("remind:7:1:0:notify", 10, None, None, OutboxStatus::Delivered),
                row(
                    "remind:7:1:0:notify:email",
                    11,
                    Some("email"),
                    Some("alice@x.io"),
                    OutboxStatus::Delivered,
                ),
                row(
                    "remind:7:1:0:notify:in_app:alice@x.io",
                    11,
                    Some("in_app"),
                    Some("alice@x.io"),
                    OutboxStatus::Delivered,
                ),
                row("escalate:7:1:0:notify", 20, None, None, OutboxStatus::Delivered),
                row(
                    "escalate:7:1:0:notify:email",
                    21,
                    Some("email"),
                    Some("dana@x.io"),
                    OutboxStatus::Pending,
                ),
                row(
                    "escalate:7:1:0:notify:log",
                    21,
                    Some("log"),
                    None,
                    OutboxStatus::Delivered,
                ),
            ],
        };
        let lines = story(&timeline, &names);
        let headlines: Vec<&str> = lines.iter().map(|l| l.headline.as_str()).collect();
        assert_eq!(
            headlines,
            [
                "Put on hold",
                "Escalated to Dana Head (level 1) — SLA breached after 2 d",
                "Reminder sent to Alice by e-mail and in-app",
                "Started at stage “Approval”, assigned to Alice",
            ]
        );
        assert_eq!(lines[0].actor, "Dana Head");
        assert_eq!(
            lines[0].note.as_deref(),
            Some("waiting for the supplier · via message link")
        );
        assert_eq!(lines[1].actor, "Escalator");
        assert_eq!(lines[1].deliveries.len(), 1, "the log channel is not a delivery");
        assert_eq!(lines[1].deliveries[0].status, "pending");
        assert_eq!(lines[1].deliveries[0].to.as_deref(), Some("Dana Head"));
        assert_eq!(lines[2].deliveries.len(), 2);
        assert_eq!(lines[2].note.as_deref(), Some("2 h left"));
        assert!(lines[3].raw.contains("\"stage\":\"Approval\""));
    }
}
