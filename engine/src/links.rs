//! One-click actions from messages: links signed with a server secret (HMAC-SHA256, any
//! of several keys verifies, the first signs, so keys rotate), and following one. Reading
//! a link ([`Escalator::link_page`]) never changes anything: mail scanners fetch links.
//! Acting ([`Escalator::follow_link`]) goes through the same services and access rules as
//! the API, once per link, audited `via` the message.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use escalator_domain::{
    LinkAction, LinkClaims, LinkTarget, NotificationKind, ValidationError, WorkflowStatus, SNOOZE_CHOICES,
};
use escalator_storage::{LinkUse, OutboxMessage};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::Actor;
use crate::workflows::ActionRequest;
use crate::{EngineError, EngineResult, Escalator};

/// How an action taken from a message is named in its audit entry.
pub const VIA_MESSAGE: &str = "message link";

/// The name of the generated signing key in the database, used when none is configured.
pub const GENERATED_KEY: &str = "message_links";

const VERSION: &str = "v1";

/// Signs and checks message links.
#[derive(Clone)]
pub struct LinkSigner {
    keys: Vec<Vec<u8>>,
    ttl: TimeDelta,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSigner")
            .field("keys", &self.keys.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl Default for LinkSigner {
    /// A random key of this process, links valid for 72 h (tests; servers share a key).
    fn default() -> Self {
        Self {
            keys: vec![random_secret().into_bytes()],
            ttl: TimeDelta::hours(72),
        }
    }
}

/// 256 random bits as hex: a new signing key.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    // Without randomness the key is still secret per process (time and address).
    if getrandom::fill(&mut bytes).is_err() {
        let fallback = Sha256::digest(format!("{:?}{:p}", std::time::SystemTime::now(), &bytes));
        bytes.copy_from_slice(&fallback);
    }
    hex::encode(bytes)
}

impl LinkSigner {
    /// A signer with `keys` (the first signs, every one verifies) and links valid for `ttl`.
    pub fn new(keys: &[String], ttl: TimeDelta) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("at least one link signing key is needed".into());
        }
        if let Some(short) = keys.iter().find(|k| k.len() < 32) {
            return Err(format!(
                "a link signing key must be at least 32 characters (one is {})",
                short.len()
            ));
        }
        if ttl <= TimeDelta::zero() {
            return Err("links must be valid for some time".into());
        }
        Ok(Self {
            keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            ttl,
        })
    }

    /// How long a link acts after its message was written.
    pub fn ttl(&self) -> TimeDelta {
        self.ttl
    }

    fn mac(key: &[u8], body: &str) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        mac.update(VERSION.as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        mac
    }

    /// The token of a link: `v1.<claims>.<signature>`, URL-safe.
    pub fn sign(&self, claims: &LinkClaims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let key = self.keys.first().map(Vec::as_slice).unwrap_or_default();
        let signature = URL_SAFE_NO_PAD.encode(Self::mac(key, &body).finalize().into_bytes());
        format!("{VERSION}.{body}.{signature}")
    }

    /// The claims of a token signed by any of the keys; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<LinkClaims> {
        let mut parts = token.split('.');
        let (Some(VERSION), Some(body), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        // verify_slice compares in constant time.
        self.keys
            .iter()
            .any(|key| Self::mac(key, body).verify_slice(&signature).is_ok())
            .then(|| URL_SAFE_NO_PAD.decode(body).ok())
            .flatten()
            .and_then(|json| serde_json::from_slice(&json).ok())
    }

    /// The link for `recipient` to take `action` on the workflow at `stage` and `level`,
    /// valid from `now` for the signer's time to live.
    pub fn link(&self, base: &str, action: LinkAction, target: &LinkFor<'_>, now: DateTime<Utc>) -> String {
        let claims = LinkClaims {
            workflow_id: target.workflow_id,
            action,
            recipient: target.recipient.to_string(),
            stage: target.stage.to_string(),
            level: target.level,
            expires_at: now.checked_add_signed(self.ttl).unwrap_or(now).timestamp(),
        };
        format!("{}/act/{}", base.trim_end_matches('/'), self.sign(&claims))
    }
}

impl LinkSigner {
    /// The one-click links of a message row for `reader`: only when they are the workflow's
    /// assignee, the actions its kind offers (the hand-over when routing found them a
    /// delegate), each signed for them, this stage and level, and expiring the time to
    /// live after the message was written. (words, URL) pairs.
    pub fn message_links(&self, base: &str, m: &OutboxMessage, reader: &str) -> Vec<(String, String)> {
        let Some(kind) = NotificationKind::from_topic(&m.topic) else {
            return Vec::new();
        };
        let workflow = &m.payload["workflow"];
        let (Some(id), Some(stage), Some(level)) = (
            workflow["id"].as_i64(),
            workflow["stage"].as_str(),
            workflow["level"].as_u64().and_then(|l| u32::try_from(l).ok()),
        ) else {
            return Vec::new();
        };
        if workflow["assignee"].as_str() != Some(reader) {
            return Vec::new();
        }
        let target = LinkFor {
            workflow_id: id,
            recipient: reader,
            stage,
            level,
        };
        LinkAction::offered(kind, m.payload["delegate"].is_string())
            .into_iter()
            .map(|action| {
                (
                    action.label().to_string(),
                    self.link(base, action, &target, m.created_at),
                )
            })
            .collect()
    }
}

/// Whom and what a message's links are for.
#[derive(Debug, Clone, Copy)]
pub struct LinkFor<'a> {
    pub workflow_id: i64,
    pub recipient: &'a str,
    pub stage: &'a str,
    pub level: u32,
}

/// What the page of a link shows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkPage {
    pub action: LinkAction,
    /// The person the link acts as.
    pub recipient: String,
    pub recipient_name: Option<String>,
    /// The recipient's time zone (their preferences), for the times the page shows.
    pub time_zone: Option<String>,
    pub workflow: Option<LinkWorkflow>,
    pub state: LinkState,
}

/// The workflow as the page summarises it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkWorkflow {
    pub id: i64,
    pub title: String,
    pub external_id: String,
    pub workflow_type: String,
    pub department: String,
    pub stage: String,
    pub status: WorkflowStatus,
    pub assignee: String,
    pub assignee_name: Option<String>,
    pub level: u32,
    pub due_at: DateTime<Utc>,
}

/// Where a link stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkState {
    /// It may act: the page asks to confirm (and, to snooze, for how long).
    Ready {
        /// (hours, words) to choose from when snoozing.
        snooze_choices: Vec<(i64, String)>,
        /// Whom a hand-over goes to.
        delegate: Option<String>,
    },
    /// It acted just now.
    Done { outcome: String },
    /// It had acted before; what it did then.
    AlreadyUsed { outcome: String, at: DateTime<Utc> },
    /// It no longer acts: expired, or the workflow moved on.
    Stale { why: String },
    /// The action is not possible (an access rule, nothing to acknowledge, no delegate).
    Refused { why: String },
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Escalator {
    /// What a link would do, changing nothing (a GET: scanners prefetch links).
    pub async fn link_page(&self, token: &str) -> EngineResult<LinkPage> {
        let claims = self.link_claims(token)?;
        let mut page = self.page_of(&claims).await?;
        if let Some(used) = self.store.link_use(&token_hash(token)).await? {
            page.state = already_used(&used);
            return Ok(page);
        }
        if let Err(why) = self.link_target(&claims, &page).await {
            page.state = why;
        }
        Ok(page)
    }

    /// Follows a link (the POST of its page): acts once as its recipient, through the
    /// engine's own services and access rules; a second follow reports the first.
    pub async fn follow_link(&self, token: &str, snooze_hours: Option<&str>) -> EngineResult<LinkPage> {
        let claims = self.link_claims(token)?;
        let mut page = self.page_of(&claims).await?;
        let hash = token_hash(token);
        let actor = match self.link_target(&claims, &page).await {
            Ok(actor) => actor,
            Err(state) => {
                page.state = match self.store.link_use(&hash).await? {
                    Some(used) => already_used(&used),
                    None => state,
                };
                return Ok(page);
            }
        };
        let now = self.now();
        let first = LinkUse {
            token_hash: hash.clone(),
            workflow_id: claims.workflow_id,
            recipient: claims.recipient.clone(),
            action: claims.action.name().into(),
            used_at: now,
            outcome: None,
        };
        if let Some(used) = self.store.claim_link_use(&first).await? {
            page.state = already_used(&used);
            return Ok(page);
        }
        match self.link_action(&claims, &actor, snooze_hours, now).await {
            Ok(outcome) => {
                self.store.finish_link_use(&hash, &outcome).await?;
                page.state = LinkState::Done { outcome };
                page.workflow = self.link_workflow(claims.workflow_id).await?;
                Ok(page)
            }
            Err(err) => {
                self.store.release_link_use(&hash).await?;
                match err {
                    EngineError::Forbidden(why) => page.state = LinkState::Refused { why },
                    EngineError::Invalid(v) => page.state = LinkState::Refused { why: v.message },
                    EngineError::Transition(t) => page.state = LinkState::Refused { why: t.to_string() },
                    EngineError::Conflict(why) => page.state = LinkState::Stale { why },
                    other => return Err(other),
                }
                Ok(page)
            }
        }
    }

    fn link_claims(&self, token: &str) -> EngineResult<LinkClaims> {
        self.config
            .links
            .verify(token)
            .ok_or_else(|| EngineError::not_found("link", "(this link is not valid: it was changed or cut short)"))
    }

    async fn page_of(&self, claims: &LinkClaims) -> EngineResult<LinkPage> {
        let workflow = self.link_workflow(claims.workflow_id).await?;
        let recipient_name = self.store.user(&claims.recipient).await?.map(|u| u.name);
        let time_zone = self
            .store
            .notification_preferences(&claims.recipient)
            .await?
            .and_then(|p| p.time_zone);
        let delegate = match claims.action {
            LinkAction::Delegate => self
                .store
                .availability(&claims.recipient)
                .await?
                .and_then(|a| a.delegate),
            _ => None,
        };
        Ok(LinkPage {
            action: claims.action,
            recipient: claims.recipient.clone(),
            recipient_name,
            time_zone,
            workflow,
            state: LinkState::Ready {
                snooze_choices: SNOOZE_CHOICES.iter().map(|(h, w)| (*h, (*w).to_string())).collect(),
                delegate,
            },
        })
    }

    /// The workflow as a link's page summarises it, with its assignee's name.
    async fn link_workflow(&self, id: i64) -> EngineResult<Option<LinkWorkflow>> {
        let Some(w) = self.store.workflow(id).await? else {
            return Ok(None);
        };
        let assignee_name = self.store.user(&w.state.assignee).await?.map(|u| u.name);
        Ok(Some(LinkWorkflow {
            assignee_name,
            ..summary(&w)
        }))
    }

    /// The actor a link acts as, if it still may act; else the page's state saying why.
    async fn link_target(&self, claims: &LinkClaims, page: &LinkPage) -> Result<Actor, LinkState> {
        let stale = |why: String| LinkState::Stale { why };
        let Some(w) = &page.workflow else {
            return Err(stale("This workflow no longer exists.".into()));
        };
        let target = LinkTarget {
            status: w.status,
            stage: &w.stage,
            level: w.level,
            assignee: &w.assignee,
        };
        claims.check(self.now(), target).map_err(|why| stale(why.to_string()))?;
        let refused = |why: &str| LinkState::Refused { why: why.into() };
        let actor = self
            .actor(&claims.recipient)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| refused("This person can no longer act in Escalator."))?;
        Ok(actor)
    }

    /// Performs a link's action; the outcome in words.
    async fn link_action(
        &self,
        claims: &LinkClaims,
        actor: &Actor,
        snooze_hours: Option<&str>,
        now: DateTime<Utc>,
    ) -> EngineResult<String> {
        let actor = actor.clone().via(VIA_MESSAGE);
        let id = claims.workflow_id;
        match claims.action {
            LinkAction::Acknowledge => {
                let w = self
                    .store
                    .workflow(id)
                    .await?
                    .ok_or_else(|| EngineError::not_found("workflow", id))?;
                let reminder = self
                    .store
                    .reminders_of(&[id])
                    .await?
                    .into_iter()
                    .find(|r| r.stage_seq == w.state.stage_seq && r.level == w.state.level)
                    .ok_or_else(|| {
                        ValidationError::new("action", "there is no reminder to acknowledge at this stage yet")
                    })?;
                self.acknowledge_reminder(reminder.id, &actor).await?;
                Ok("Reminder acknowledged: the escalation waits as the policy allows.".into())
            }
            LinkAction::Complete => {
                self.act(id, &ActionRequest::Complete { note: None }, &actor).await?;
                Ok("Approved: the workflow is completed.".into())
            }
            LinkAction::Snooze => {
                let hours = LinkClaims::snooze_hours(snooze_hours)
                    .ok_or_else(|| ValidationError::new("snooze_hours", "choose how long to snooze"))?;
                let words = SNOOZE_CHOICES
                    .iter()
                    .find(|(h, _)| *h == hours)
                    .map_or("a while", |(_, w)| w);
                let until = TimeDelta::try_hours(hours)
                    .and_then(|d| now.checked_add_signed(d))
                    .ok_or_else(|| ValidationError::new("snooze_hours", "choose how long to snooze"))?;
                let request = ActionRequest::Hold {
                    reason: format!("snoozed for {words} from a message"),
                    until: Some(until),
                };
                self.act(id, &request, &actor).await?;
                Ok(format!(
                    "Snoozed for {words}: the clock is paused until {} and starts again by itself.",
                    until.format("%Y-%m-%d %H:%M UTC")
                ))
            }
            LinkAction::Delegate => {
                let delegate = self
                    .store
                    .availability(&claims.recipient)
                    .await?
                    .and_then(|a| a.delegate)
                    .ok_or_else(|| {
                        ValidationError::new("action", "you have no delegate: choose one on My settings first")
                    })?;
                let request = ActionRequest::Reassign {
                    assignee: delegate.clone(),
                    reason: Some("handed to the delegate from a message".into()),
                };
                self.act(id, &request, &actor).await?;
                Ok(format!("Handed to your delegate, {delegate}."))
            }
        }
    }
}

fn already_used(used: &LinkUse) -> LinkState {
    LinkState::AlreadyUsed {
        outcome: used
            .outcome
            .clone()
            .unwrap_or_else(|| "It is being carried out right now.".into()),
        at: used.used_at,
    }
}

fn summary(w: &escalator_storage::WorkflowRecord) -> LinkWorkflow {
    LinkWorkflow {
        id: w.id,
        title: w.title.clone(),
        external_id: w.external_id.clone(),
        workflow_type: w.workflow_type.clone(),
        department: w.department.clone(),
        stage: w.state.stage.clone(),
        status: w.state.status,
        assignee: w.state.assignee.clone(),
        assignee_name: None,
        level: w.state.level,
        due_at: w.state.due_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> LinkClaims {
        LinkClaims {
            workflow_id: 7,
            action: LinkAction::Complete,
            recipient: "dana@x.io".into(),
            stage: "Approval".into(),
            level: 1,
            expires_at: 1_900_000_000,
        }
    }

    #[test]
    fn a_signed_link_verifies_and_any_change_breaks_it() {
        let signer = LinkSigner::default();
        let token = signer.sign(&claims());
        assert_eq!(signer.verify(&token), Some(claims()));
        let mut forged = claims();
        forged.recipient = "mallory@x.io".into();
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let signature = token.rsplit('.').next().unwrap();
        assert_eq!(signer.verify(&format!("v1.{forged_body}.{signature}")), None);
        assert_eq!(signer.verify(&token[..token.len() - 2]), None);
        assert_eq!(signer.verify(&format!("{token}.x")), None);
        assert_eq!(LinkSigner::default().verify(&token), None, "another key");
    }

    #[test]
    fn keys_rotate_the_first_signs_every_one_verifies() {
        let old = "o".repeat(32);
        let new = "n".repeat(32);
        let before = LinkSigner::new(std::slice::from_ref(&old), TimeDelta::hours(1)).unwrap();
        let during = LinkSigner::new(&[new.clone(), old.clone()], TimeDelta::hours(1)).unwrap();
        let after = LinkSigner::new(&[new], TimeDelta::hours(1)).unwrap();
        let sent_before = before.sign(&claims());
        assert_eq!(during.verify(&sent_before), Some(claims()));
        assert_eq!(after.verify(&sent_before), None);
        assert_eq!(after.verify(&during.sign(&claims())), Some(claims()));
        assert!(LinkSigner::new(&["short".into()], TimeDelta::hours(1)).is_err());
        assert!(LinkSigner::new(&[], TimeDelta::hours(1)).is_err());
    }
}
