//! Message texts: subject, plain text and HTML from the outbox payload, with minijinja
//! templates kept next to this file.

use chrono::{DateTime, Utc};
use escalator_domain::readable;
use minijinja::Environment;
use serde_json::Value;

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The built-in templates, compiled once: each rendering used to compile all ten anew
/// (the template compiler was the largest user-space item in a profile of delivery).
static ENVIRONMENT: std::sync::LazyLock<Environment<'static>> = std::sync::LazyLock::new(environment);

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("escalated.txt", include_str!("templates/escalated.txt")),
        ("escalated.html", include_str!("templates/escalated.html")),
        ("reminder.txt", include_str!("templates/reminder.txt")),
        ("reminder.html", include_str!("templates/reminder.html")),
        ("assigned.txt", include_str!("templates/assigned.txt")),
        ("assigned.html", include_str!("templates/assigned.html")),
        ("attention.txt", include_str!("templates/attention.txt")),
        ("attention.html", include_str!("templates/attention.html")),
        ("digest.txt", include_str!("templates/digest.txt")),
        ("digest.html", include_str!("templates/digest.html")),
    ] {
        // The templates are compiled in; a syntax error is caught by the tests below.
        if let Err(err) = env.add_template(name, source) {
            tracing::error!(%err, name, "invalid built-in template");
        }
    }
    env
}

/// Who reads a rendering and what it may offer them.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// The UI address of the workflow, when a public URL is configured.
    pub link: Option<&'a str>,
    /// The one person the rendering is for (in-app, SMS), or `None` for a message several
    /// people read (an e-mail with copies).
    pub reader: Option<&'a str>,
    /// One-click actions for the addressee: (words, signed URL).
    pub actions: &'a [(String, String)],
    /// When it is read, for relative times ("in 8 h").
    pub now: DateTime<Utc>,
}

/// Renders a notification payload (`template`, `workflow`, …); `link` is the UI address
/// of the workflow when a public URL is configured. `reader` is the one person the
/// rendering is for (in-app, SMS), or `None` for a message several people read (an
/// e-mail with copies): only its addressee is told "to you", everyone else whom it went to.
pub fn render(payload: &Value, link: Option<&str>, reader: Option<&str>) -> Result<Rendered, String> {
    render_for(
        payload,
        &Reading {
            link,
            reader,
            actions: &[],
            now: Utc::now(),
        },
    )
}

/// Renders a notification payload for `reading`: people by name (routing adds `names`),
/// times in the reader's zone (`time_zone`) with the zone named and how far away they are.
pub fn render_for(payload: &Value, reading: &Reading<'_>) -> Result<Rendered, String> {
    // Messages are typed by their notification kind; those queued before were named by
    // their template (`escalated`, `assigned`) and carried the deadline and level at the top.
    let template = match payload["template"].as_str() {
        Some("escalation" | "escalated") => "escalated",
        Some("reminder") => "reminder",
        Some("attention") => "attention",
        Some("digest") => "digest",
        _ => "assigned",
    };
    let name = |email: &Value| -> Value {
        match email.as_str() {
            Some(e) => payload["names"][e].as_str().map_or_else(|| Value::from(e), Value::from),
            None => Value::Null,
        }
    };
    let title = payload["workflow"]["title"].as_str().unwrap_or("a workflow");
    let addressee = &payload["to"][0];
    let whom = match (reading.reader, addressee.as_str()) {
        (Some(reader), Some(to)) if reader == to => "you".to_string(),
        (_, Some(_)) => name(addressee).as_str().unwrap_or_default().to_string(),
        (_, None) => "you".to_string(),
    };
    let subject = match template {
        "escalated" => format!("Urgent: workflow «{title}» escalated to {whom}"),
        "reminder" => format!("Reminder: workflow «{title}» is due soon"),
        "attention" => format!("Needs attention: workflow «{title}» is overdue at the top of its chain"),
        "digest" => format!(
            "Escalator: {} notifications",
            payload["items"].as_array().map_or(0, Vec::len)
        ),
        _ => format!("Workflow «{title}» assigned to {whom}"),
    };
    let mut context = payload.clone();
    if context["workflow"].is_object() && context["workflow"]["due_at"].is_null() {
        context["workflow"]["due_at"] = payload["due_at"].clone();
    }
    if context["to_level"].is_null() {
        context["to_level"] = payload["level"].clone();
    }
    context["link"] = reading.link.map_or(Value::Null, |l| Value::String(l.to_string()));
    context["whom"] = Value::String(whom);
    context["actions"] = Value::Array(
        reading
            .actions
            .iter()
            .map(|(label, url)| serde_json::json!({ "label": label, "url": url }))
            .collect(),
    );
    for (key, email) in [
        ("assignee_name", &payload["workflow"]["assignee"]),
        ("initiator_name", &payload["workflow"]["initiator"]),
        ("from_name", &payload["from_assignee"]),
        ("actor_name", &payload["actor"]),
    ] {
        context[key] = name(email);
    }
    let zone = readable::zone(payload["time_zone"].as_str());
    if let Some(due) = context["workflow"]["due_at"]
        .as_str()
        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
    {
        // The copies of a mail read the addressee's text: their zones are added.
        let others: Vec<_> = payload["copy_zones"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|z| readable::zone(Some(z)))
            .collect();
        context["due"] = Value::String(readable::deadline_for_all(
            due.with_timezone(&Utc),
            &zone,
            &others,
            reading.now,
        ));
    }
    for (seconds, text) in [("elapsed_seconds", "elapsed"), ("remaining_seconds", "remaining")] {
        if let Some(s) = payload[seconds].as_i64() {
            context[text] = Value::String(readable::length(s.max(0)));
        }
    }
    let render = |name: String| {
        ENVIRONMENT
            .get_template(&name)
            .and_then(|t| t.render(&context))
            .map_err(|e| format!("template {name}: {e}"))
    };
    Ok(Rendered {
        subject,
        text: render(format!("{template}.txt"))?,
        html: render(format!("{template}.html"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_renders() {
        let workflow = json!({"title": "Office chairs", "type": "purchase", "external_id": "PO-9", "stage": "Manager Approval",
            "initiator": "ivan@x.io", "department": "finance"});
        for template in ["escalated", "reminder", "assigned", "attention"] {
            let payload = json!({"template": template, "workflow": workflow, "elapsed_seconds": 172800, "remaining_seconds": 3600,
                "due_at": "2026-11-26T10:00:00Z", "from_assignee": "mike@x.io", "level": 1, "actor": "dana@x.io"});
            let r = render(&payload, Some("http://localhost:3000/workflows/9"), None).unwrap();
            assert!(r.subject.contains("Office chairs"), "{template}: {}", r.subject);
            assert!(r.text.contains("PO-9") && r.html.contains("PO-9"), "{template}");
            assert!(r.text.contains("http://localhost:3000/workflows/9"), "{template}");
        }
        let escalated = json!({"template": "escalated", "workflow": workflow, "elapsed_seconds": 172800,
            "to": ["dana@x.io"], "cc": ["mike@x.io", "ivan@x.io"]});
        let to_dana = render(&escalated, None, Some("dana@x.io")).unwrap();
        assert_eq!(to_dana.subject, "Urgent: workflow «Office chairs» escalated to you");
        assert!(to_dana.text.contains("after 2 d"), "{}", to_dana.text);
        // The copies are told whom it went to, in their own notification and in a shared mail.
        let to_mike = render(&escalated, None, Some("mike@x.io")).unwrap();
        assert_eq!(
            to_mike.subject,
            "Urgent: workflow «Office chairs» escalated to dana@x.io"
        );
        let mail = render(&escalated, None, None).unwrap();
        assert_eq!(mail.subject, "Urgent: workflow «Office chairs» escalated to dana@x.io");
    }

    #[test]
    fn a_typed_escalation_notice_renders_its_deadline_level_and_copies() {
        use chrono::{TimeZone, Utc};
        use escalator_domain::{Event, EventKind, WorkflowStatus, WorkflowSummary};
        let due = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        let event = Event {
            workflow: WorkflowSummary {
                id: 9,
                external_id: "PO-9".into(),
                workflow_type: "purchase".into(),
                title: "Office chairs".into(),
                department: "finance".into(),
                initiator: "ivan@x.io".into(),
                stage: "Manager Approval".into(),
                status: WorkflowStatus::Escalated,
                assignee: "dana@x.io".into(),
                level: 2,
                due_at: due,
            },
            actor: "system".into(),
            at: due,
            kind: EventKind::Escalated {
                from_assignee: "mike@x.io".into(),
                to_assignee: "dana@x.io".into(),
                from_level: 1,
                to_level: 2,
                elapsed_seconds: 7200,
                breached_due_at: due,
                skipped: vec![],
                passed_over: vec![],
                acknowledged_until: None,
            },
        };
        let mut payload = serde_json::to_value(event.notice().unwrap()).unwrap();
        let r = render(&payload, None, Some("dana@x.io")).unwrap();
        assert_eq!(r.subject, "Urgent: workflow «Office chairs» escalated to you");
        assert!(r.text.contains("(level 2)"), "{}", r.text);
        assert!(
            r.text.contains("New deadline: Thursday 26 November, 10:00 UTC"),
            "{}",
            r.text
        );
        assert!(r.text.contains("Previous assignee: mike@x.io"), "{}", r.text);

        // With what routing adds: names, the reader's zone; and one-click actions.
        payload["names"] = json!({"dana@x.io": "Dana Head", "mike@x.io": "Mike Manager", "ivan@x.io": "Ivan I."});
        payload["time_zone"] = json!("Europe/Berlin");
        let actions = [("Approve (complete)".to_string(), "http://x/act/v1.a.b".to_string())];
        let reading = Reading {
            link: Some("http://x/workflows/9"),
            reader: None,
            actions: &actions,
            now: due - chrono::TimeDelta::hours(8),
        };
        let r = render_for(&payload, &reading).unwrap();
        assert_eq!(r.subject, "Urgent: workflow «Office chairs» escalated to Dana Head");
        assert!(r.text.contains("escalated to Dana Head (level 2)"), "{}", r.text);
        assert!(r.text.contains("Previous assignee: Mike Manager"), "{}", r.text);
        assert!(
            r.text
                .contains("New deadline: Thursday 26 November, 11:00 CET — in 8 h"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("- Approve (complete): http://x/act/v1.a.b"),
            "{}",
            r.text
        );
        // A copy reader in New York finds their own clock in the same text.
        payload["copy_zones"] = json!(["America/New_York"]);
        let r = render_for(&payload, &reading).unwrap();
        assert!(
            r.text
                .contains("New deadline: Thursday 26 November, 11:00 CET (26 Nov 05:00 EST) — in 8 h"),
            "{}",
            r.text
        );
        // minijinja escapes `/` in attributes as `&#x2f;`, which every reader decodes.
        assert!(
            r.html
                .replace("&#x2f;", "/")
                .contains("<a href=\"http://x/act/v1.a.b\">Approve (complete)</a>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn a_digest_lists_its_items() {
        let payload = json!({"template": "digest", "items": [
            {"subject": "Reminder: workflow «A» is due soon", "link": "http://x/workflows/1"},
            {"subject": "Reminder: workflow «<b>» is due soon", "link": null}]});
        let r = render(&payload, None, None).unwrap();
        assert_eq!(r.subject, "Escalator: 2 notifications");
        assert!(
            r.text
                .contains("- Reminder: workflow «A» is due soon: http://x/workflows/1"),
            "{}",
            r.text
        );
        assert!(r.text.contains("«<b>»") && !r.html.contains("<b>"), "{}", r.html);
    }

    #[test]
    fn html_is_escaped() {
        let payload = json!({"template": "assigned", "workflow": {"title": "<script>x</script>", "external_id": "1", "stage": "s"}, "actor": "a"});
        let r = render(&payload, None, None).unwrap();
        assert!(!r.html.contains("<script>"), "{}", r.html);
    }
}
