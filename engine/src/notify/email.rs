//! E-mail over SMTP with lettre: plain text and HTML, To the new assignee with the
//! previous assignee and the initiator in Cc, and a Message-ID derived from the outbox
//! row so that a re-send after a crash is recognisable.

use std::time::Duration;

use async_trait::async_trait;
use escalator_storage::OutboxMessage;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use chrono::Utc;

use super::templates::{render_for, Reading};
use super::{Channel, DeliveryError};
use crate::links::LinkSigner;

pub(super) const NAME: &str = "email";

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text (a local relay, tests).
    None,
    /// Upgrade with STARTTLS (port 587).
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
}

/// SMTP settings.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    /// Domain part of Message-IDs.
    pub message_id_domain: String,
    /// Base URL of the UI, for links in messages.
    pub public_url: Option<String>,
    pub timeout: Duration,
}

/// Sends e-mail through one SMTP server.
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    config: SmtpConfig,
    /// Signs the one-click action links of messages to a workflow's assignee.
    links: Option<LinkSigner>,
}

impl SmtpChannel {
    /// Builds the transport; fails on an invalid address or TLS set-up.
    pub fn new(config: SmtpConfig) -> Result<Self, String> {
        let builder = match config.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host).map_err(|e| e.to_string())?
            }
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(|e| e.to_string())?
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let from = config
            .from
            .parse()
            .map_err(|e| format!("invalid from address {:?}: {e}", config.from))?;
        Ok(Self {
            transport: builder.build(),
            from,
            config,
            links: None,
        })
    }

    /// Adds one-click action links, signed by `links`, to messages for a workflow's
    /// assignee (needs the public URL).
    pub fn with_links(self, links: LinkSigner) -> Self {
        Self {
            links: Some(links),
            ..self
        }
    }

    /// The e-mail for one outbox row.
    pub fn message(&self, m: &OutboxMessage) -> Result<Message, DeliveryError> {
        let link = self
            .config
            .public_url
            .as_ref()
            .zip(m.workflow_id)
            .map(|(base, id)| format!("{}/workflows/{id}", base.trim_end_matches('/')));
        let actions = match (&self.links, &self.config.public_url, m.payload["to"][0].as_str()) {
            (Some(signer), Some(base), Some(to)) => signer.message_links(base, m, to),
            _ => Vec::new(),
        };
        // Relative times ("in 8 h") are as of sending.
        let now = Utc::now();
        let reading = Reading {
            link: link.as_deref(),
            reader: None,
            actions: &actions,
            now,
        };
        let rendered = render_for(&m.payload, &reading).map_err(DeliveryError)?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(rendered.subject)
            .message_id(Some(format!("<outbox-{}@{}>", m.id, self.config.message_id_domain)));
        let mailbox = |r: &str| {
            r.parse::<Mailbox>()
                .map_err(|e| DeliveryError(format!("invalid recipient {r:?}: {e}")))
        };
        let (to, cc) = (addresses(&m.payload["to"]), addresses(&m.payload["cc"]));
        if to.is_empty() {
            return Err(DeliveryError("a notification without recipients".into()));
        }
        for r in &to {
            builder = builder.to(mailbox(r)?);
        }
        for r in cc.iter().filter(|c| !to.contains(c)) {
            builder = builder.cc(mailbox(r)?);
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(rendered.text),
                    )
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(rendered.html)),
            )
            .map_err(|e| DeliveryError(e.to_string()))
    }
}

fn addresses(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[async_trait]
impl Channel for SmtpChannel {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn deliver(&self, m: &OutboxMessage) -> Result<(), DeliveryError> {
        let message = self.message(m)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError(format!("SMTP: {e}")))
    }
}
