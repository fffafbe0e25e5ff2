//! Credentials: API tokens (random, shown once, stored as SHA-256) and passwords (argon2).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::TimeDelta;
use escalator_domain::ValidationError;
use escalator_storage::{AuditFilter, NewAudit, TokenRecord};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::access::Actor;
use crate::{EngineError, EngineResult, Escalator};

/// Prefix of every token, so leaked tokens are recognisable by secret scanners.
const TOKEN_PREFIX: &str = "esc_";

/// SHA-256 of a token: tokens are 256 random bits, so a fast hash is enough (no brute force).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> EngineResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| EngineError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> EngineResult<String> {
    if password.chars().count() < 8 {
        return Err(ValidationError::new("password", "must be at least 8 characters").into());
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ValidationError::new("password", e.to_string()).into())
}

/// Checks a password against a stored argon2 hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

impl Escalator {
    /// Creates a token for a user; returns the secret (shown once) and its record.
    pub async fn create_token(&self, email: &str, name: &str) -> EngineResult<(String, TokenRecord)> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(ValidationError::new("name", "must be 1-100 characters").into());
        }
        let email = email.trim().to_lowercase();
        if self.store.user(&email).await?.is_none() {
            return Err(ValidationError::new("email", "no such user").into());
        }
        let token = new_token()?;
        let record = self
            .store
            .create_token(&email, name, &token_hash(&token), self.now())
            .await?;
        Ok((token, record))
    }

    /// Creates an API token of the actor's own, named `name`; the secret is returned once
    /// and never stored. Audited (the name, never the secret).
    pub async fn create_own_token(&self, actor: &Actor, name: &str) -> EngineResult<(String, TokenRecord)> {
        let created = self.create_token(&actor.email, name).await?;
        self.audit_login(
            &actor.email,
            "token_created",
            json!({ "token_id": created.1.id, "name": created.1.name }),
        )
        .await?;
        Ok(created)
    }

    /// API tokens, of one user or all, newest first: admins anyone's, everyone else their own.
    pub async fn tokens(&self, email: Option<&str>, actor: &Actor) -> EngineResult<Vec<TokenRecord>> {
        let email = match email {
            Some(e) => Some(e.trim().to_lowercase()),
            None if actor.is_admin() => None,
            None => Some(actor.email.clone()),
        };
        if email.as_deref().is_some_and(|e| e != actor.email) {
            actor.require_admin()?;
        }
        Ok(self.store.tokens(email.as_deref()).await?)
    }

    /// Revokes a live token (admins: anyone's; everyone else: their own).
    pub async fn revoke_token(&self, id: i64, actor: &Actor) -> EngineResult<()> {
        let missing = || EngineError::not_found("live token", id);
        let token = self
            .tokens(None, &Actor::internal("token lookup"))
            .await?
            .into_iter()
            .find(|t| t.id == id && t.revoked_at.is_none())
            .ok_or_else(missing)?;
        if token.user != actor.email {
            actor.require_admin()?;
        }
        if !self.store.revoke_token(id, self.now()).await? {
            return Err(missing());
        }
        Ok(())
    }

    /// The actor a bearer token authenticates, if it is live.
    pub async fn authenticate_token(&self, token: &str) -> EngineResult<Option<Actor>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        Ok(self
            .store
            .token_owner(&token_hash(token))
            .await?
            .map(|(_, user)| Actor::from(&user)))
    }

    /// The actor an e-mail and password authenticate.
    pub async fn authenticate_password(&self, email: &str, password: &str) -> EngineResult<Option<Actor>> {
        let email = email.trim().to_lowercase();
        let Some(hash) = self.store.password_hash(&email).await? else {
            // Spend the same time as a real check, so timing does not reveal which users exist.
            let _ = verify_password(
                password,
                "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$ZHVtbXlkdW1teWR1bW15ZHVtbXlkdW1teQ",
            );
            return Ok(None);
        };
        if !verify_password(password, &hash) {
            return Ok(None);
        }
        Ok(self.store.user(&email).await?.map(|u| Actor::from(&u)))
    }

    /// Sets a user's password.
    pub async fn set_password(&self, email: &str, password: &str) -> EngineResult<()> {
        let hash = hash_password(password)?;
        if self
            .store
            .set_password_hash(&email.trim().to_lowercase(), &hash, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(EngineError::not_found("user", email))
        }
    }
}

/// Failed sign-ins allowed per account within [`LOGIN_WINDOW_MINUTES`]; further attempts
/// are refused without checking the password until the window has passed.
pub const MAX_FAILED_LOGINS: usize = 5;
/// The window over which failed sign-ins are counted.
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

impl Escalator {
    /// Signs a user in with e-mail and password. Every attempt is audited (`login`,
    /// `login_failed`, `login_throttled`, with the client address when known); failures
    /// are counted from the audit log, so the limit holds across replicas.
    pub async fn login(&self, email: &str, password: &str, client: Option<&str>) -> EngineResult<Actor> {
        let email: String = email.trim().to_lowercase().chars().take(254).collect();
        let at = self.now();
        let recent_failures = self
            .store
            .audit_entries(&AuditFilter {
                action: Some("login_failed".into()),
                actor: Some(email.clone()),
                from: Some(at - TimeDelta::minutes(LOGIN_WINDOW_MINUTES)),
                limit: MAX_FAILED_LOGINS as i64,
                ..AuditFilter::default()
            })
            .await?;
        let details = json!({ "client": client });
        if recent_failures.len() >= MAX_FAILED_LOGINS {
            self.audit_login(&email, "login_throttled", details).await?;
            return Err(EngineError::TooManyAttempts(format!(
                "too many failed sign-ins; try again in {LOGIN_WINDOW_MINUTES} minutes"
            )));
        }
        match self.authenticate_password(&email, password).await? {
            Some(actor) => {
                self.audit_login(&email, "login", details).await?;
                Ok(actor)
            }
            None => {
                self.audit_login(&email, "login_failed", details).await?;
                Err(EngineError::Unauthenticated("wrong e-mail or password".into()))
            }
        }
    }

    /// Changes one's own password, proving the current one; audited (never a password).
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> EngineResult<()> {
        let proven = self
            .store
            .password_hash(&actor.email)
            .await?
            .is_some_and(|hash| verify_password(current, &hash));
        if !proven {
            return Err(ValidationError::new("current_password", "this is not your current password").into());
        }
        if new.chars().count() < 8 {
            return Err(ValidationError::new("new_password", "must be at least 8 characters").into());
        }
        if new == current {
            return Err(ValidationError::new("new_password", "choose a password other than the current one").into());
        }
        self.set_password(&actor.email, new).await?;
        self.audit_login(&actor.email, "password_changed", json!({})).await
    }

    /// Sets a user's password on an admin's behalf; audited as `password_set` (the
    /// e-mail only, never the password).
    pub async fn set_password_as(&self, email: &str, password: &str, actor: &Actor) -> EngineResult<()> {
        actor.require_admin()?;
        let email = email.trim().to_lowercase();
        self.set_password(&email, password).await?;
        self.audit_login(&actor.email, "password_set", json!({ "email": email }))
            .await
    }

    /// Audits a sign-out.
    pub async fn logout(&self, actor: &Actor) -> EngineResult<()> {
        self.audit_login(&actor.email, "logout", json!({})).await
    }

    /// The actor a signed-in user's e-mail stands for now (roles may have changed since
    /// sign-in); `None` if the user no longer exists or was deactivated (which signs them out).
    pub async fn actor(&self, email: &str) -> EngineResult<Option<Actor>> {
        let directory = self.kept(self.now()).await?.directory;
        if directory.is_deactivated(email) {
            return Ok(None);
        }
        Ok(directory.user(email).map(Actor::from))
    }

    async fn audit_login(&self, email: &str, action: &str, details: serde_json::Value) -> EngineResult<()> {
        let entry = NewAudit {
            actor: email.to_string(),
            action: action.into(),
            workflow_id: None,
            details,
            at: self.now(),
        };
        Ok(self.store.append_audit(&entry).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("esc_") && a.len() == 4 + 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
