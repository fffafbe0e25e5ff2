//! SMS through any HTTP provider: the URL, method, headers (e.g. `Authorization`) and the
//! request body (a minijinja template given the number and the text) are configuration,
//! so plugging in a provider needs no code.

use std::time::Duration;

use async_trait::async_trait;
use escalator_storage::OutboxMessage;
use minijinja::Environment;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::json;

use super::{render, Channel, DeliveryError};
use crate::links::LinkSigner;

pub(super) const NAME: &str = "sms";

/// The default body: JSON with the number, the text and a reference unique per delivery row.
pub const DEFAULT_SMS_BODY: &str =
    r#"{"to": {{ to|json }}, "text": {{ text|json }}, "reference": {{ reference|json }}}"#;

/// Settings of the HTTP SMS provider.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// The provider's endpoint.
    pub url: String,
    /// `POST` (default), `PUT`, …
    pub method: String,
    /// Extra request headers, e.g. `("Authorization", "Bearer …")`.
    pub headers: Vec<(String, String)>,
    /// The body: a minijinja template with `to` (E.164 number), `text`, `reference`, and
    /// the filters `json` (a JSON string literal) and `urlencode` (for form bodies).
    pub body_template: String,
    /// The body's `Content-Type`.
    pub content_type: String,
    /// Base URL of the UI, for links in messages.
    pub public_url: Option<String>,
    pub timeout: Duration,
}

/// Sends text messages through one HTTP provider.
pub struct SmsChannel {
    client: reqwest::Client,
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    config: SmsConfig,
    /// Signs the one action link a text to a workflow's assignee carries.
    links: Option<LinkSigner>,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_filter("json", |value: minijinja::Value| {
        serde_json::to_string(&value)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
    });
    env.add_filter("urlencode", |value: String| urlencode(&value));
    env
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl SmsChannel {
    /// Validates the settings (URL, method, headers, template) and builds the HTTP client.
    pub fn new(config: SmsConfig) -> Result<Self, String> {
        let url = reqwest::Url::parse(config.url.trim()).map_err(|e| format!("invalid SMS URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the SMS URL must be http or https".into());
        }
        let method = reqwest::Method::from_bytes(config.method.trim().to_uppercase().as_bytes())
            .map_err(|e| format!("invalid SMS method {:?}: {e}", config.method))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|e| format!("invalid SMS header name {name:?}: {e}"))?;
            let value =
                HeaderValue::from_str(value.trim()).map_err(|e| format!("invalid value of SMS header {name}: {e}"))?;
            headers.insert(name, value);
        }
        let content_type = HeaderValue::from_str(&config.content_type)
            .map_err(|e| format!("invalid SMS content type {:?}: {e}", config.content_type))?;
        headers.insert(CONTENT_TYPE, content_type);
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("Escalator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        let channel = Self {
            client,
            method,
            url,
            headers,
            config,
            links: None,
        };
        // A template error shows at start-up, not at the first message.
        channel
            .body("+4915100000000", "test", "outbox-0")
            .map_err(|e| format!("invalid SMS body template: {e}"))?;
        Ok(channel)
    }

    /// The request body for one message.
    pub fn body(&self, to: &str, text: &str, reference: &str) -> Result<String, String> {
        environment()
            .render_str(
                &self.config.body_template,
                json!({ "to": to, "text": text, "reference": reference }),
            )
            .map_err(|e| e.to_string())
    }

    /// The text of one message: its subject, and the workflow's link when there is one.
    pub fn text(&self, m: &OutboxMessage) -> Result<String, DeliveryError> {
        let reader = m.recipient.as_deref().or(m.payload["recipient"].as_str());
        let rendered = render(&m.payload, None, reader).map_err(DeliveryError)?;
        let link = self
            .config
            .public_url
            .as_ref()
            .zip(m.workflow_id)
            .map(|(base, id)| format!("{}/workflows/{id}", base.trim_end_matches('/')));
        // A text carries one action (the first its kind offers: acknowledge a reminder,
        // approve an escalation), and the workflow's link.
        let action = match (&self.links, &self.config.public_url, reader) {
            (Some(signer), Some(base), Some(reader)) => signer.message_links(base, m, reader).into_iter().next(),
            _ => None,
        };
        let mut text = rendered.subject;
        if let Some((words, url)) = action {
            text = format!("{text} {words}: {url}");
        }
        if let Some(link) = link {
            text = format!("{text} Open: {link}");
        }
        Ok(text)
    }

    /// Adds a one-click action link, signed by `links`, to texts for a workflow's assignee.
    pub fn with_links(self, links: LinkSigner) -> Self {
        Self {
            links: Some(links),
            ..self
        }
    }
}

#[async_trait]
impl Channel for SmsChannel {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        let to = m.payload["phone"]
            .as_str()
            .ok_or_else(|| DeliveryError("an SMS without a phone number".into()))?;
        let text = self.text(m)?;
        let body = self
            .body(to, &text, &format!("outbox-{}", m.id))
            .map_err(DeliveryError)?;
        let response = self
            .client
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError(format!("SMS provider: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(DeliveryError(format!(
                "SMS provider answered HTTP {}",
                response.status()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(template: &str) -> SmsConfig {
        SmsConfig {
            url: "https://sms.example.com/send".into(),
            method: "post".into(),
            headers: vec![("Authorization".into(), "Bearer k".into())],
            body_template: template.into(),
            content_type: "application/json".into(),
            public_url: None,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn the_default_body_is_json() {
        let c = SmsChannel::new(config(DEFAULT_SMS_BODY)).unwrap();
        let body = c.body("+4915112345678", "Say \"hi\" «now»", "outbox-7").unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v,
            json!({"to": "+4915112345678", "text": "Say \"hi\" «now»", "reference": "outbox-7"})
        );
    }

    #[test]
    fn form_bodies_are_url_encoded() {
        let c = SmsChannel::new(config("To={{ to|urlencode }}&Body={{ text|urlencode }}")).unwrap();
        assert_eq!(
            c.body("+4915112345678", "a b&c", "r").unwrap(),
            "To=%2B4915112345678&Body=a%20b%26c"
        );
    }

    /// The error of settings that must be refused (the channel has no Debug: it holds secrets).
    fn refused(c: SmsConfig) -> String {
        match SmsChannel::new(c) {
            Ok(_) => panic!("accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(refused(config("{{ to")).contains("template"));
        let mut bad = config(DEFAULT_SMS_BODY);
        bad.url = "ftp://x".into();
        assert!(refused(bad).contains("http"));
        let mut bad = config(DEFAULT_SMS_BODY);
        bad.headers = vec![("Bad Header".into(), "x".into())];
        assert!(refused(bad).contains("header"));
    }

    #[test]
    fn a_text_to_the_assignee_carries_one_signed_action() {
        let mut c = config(DEFAULT_SMS_BODY);
        c.public_url = Some("https://esc.example.com".into());
        let signer = LinkSigner::default();
        let channel = SmsChannel::new(c).unwrap().with_links(signer.clone());
        let workflow = json!({"id": 9, "title": "Chairs", "external_id": "PO-9", "stage": "Approval",
            "level": 1, "assignee": "dana@x.io", "due_at": "2026-12-07T10:00:00Z"});
        let message = |recipient: &str| OutboxMessage {
            id: 1,
            created_at: chrono::Utc::now(),
            kind: escalator_storage::OutboxKind::Notification,
            topic: "workflow.escalated".into(),
            workflow_id: Some(9),
            payload: json!({"template": "escalation", "workflow": workflow, "to": ["dana@x.io"],
                "recipient": recipient, "phone": "+4915112345678"}),
            dedupe_key: "k".into(),
            status: escalator_storage::OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: chrono::Utc::now(),
            last_error: None,
            delivered_at: None,
            channel: Some(NAME.into()),
            recipient: Some(recipient.into()),
            digest_id: None,
        };
        let text = channel.text(&message("dana@x.io")).unwrap();
        let (_, rest) = text.split_once("Approve (complete): ").expect("an approve link");
        let url = rest.split_whitespace().next().unwrap();
        let token = url.strip_prefix("https://esc.example.com/act/").unwrap();
        let claims = signer.verify(token).unwrap();
        assert_eq!((claims.workflow_id, claims.recipient.as_str()), (9, "dana@x.io"));
        assert!(text.ends_with("Open: https://esc.example.com/workflows/9"), "{text}");
        // A copy (not the assignee) gets no action.
        let copy = channel.text(&message("ivan@x.io")).unwrap();
        assert!(!copy.contains("/act/"), "{copy}");
    }
}
