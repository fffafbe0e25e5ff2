//! Configuration in one layered load: defaults, then an optional TOML file, then
//! environment variables (each setting read by its name, see [`Config::apply_env`]), then
//! command-line flags; one validation of the result. Every key is listed in the README
//! (a test keeps the two the same). Over 500 lines: a third of it is its tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use escalator_engine::links::LinkSigner;
use escalator_engine::notify::{SmsConfig, SmtpConfig, SmtpSecurity, DEFAULT_SMS_BODY};
use escalator_engine::outbox::Backoff;
use escalator_engine::scheduler::SchedulerConfig;
use escalator_engine::{DigestPolicy, EngineConfig};
use escalator_storage::DbSettings;
use serde::{Deserialize, Serialize};

/// A configuration problem, reported before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid configuration file {path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("invalid value {value:?} for {key}: {message}")]
    Invalid {
        key: String,
        value: String,
        message: String,
    },
}

/// All settings of the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `ESCALATOR_LISTEN`.
    pub listen: SocketAddr,
    /// `ESCALATOR_METRICS_LISTEN`: serve metrics on a separate address too.
    pub metrics_listen: Option<SocketAddr>,
    /// `ESCALATOR_TICK_SCHEDULE`: cron with seconds, UTC.
    pub tick_schedule: String,
    /// `ESCALATOR_TICK_INTERVAL_SECONDS`: the period the schedule amounts to, exported for alerts.
    pub tick_interval_seconds: u64,
    /// `ESCALATOR_BATCH_SIZE`: due workflows per transaction.
    pub batch_size: i64,
    /// `ESCALATOR_OUTBOX_MAX_ATTEMPTS`.
    pub outbox_max_attempts: i64,
    /// `ESCALATOR_OUTBOX_BACKOFF_BASE_SECONDS`.
    pub outbox_backoff_base_seconds: u64,
    /// `ESCALATOR_OUTBOX_BACKOFF_CAP_SECONDS`.
    pub outbox_backoff_cap_seconds: u64,
    /// `ESCALATOR_LOG_FORMAT`: `text` or `json`.
    pub log_format: String,
    /// `LEPTOS_SITE_ROOT`: where the built UI (`pkg/`) lives.
    pub site_root: Option<PathBuf>,
    /// `ESCALATOR_PUBLIC_URL`: the UI's external address, for links in messages.
    pub public_url: Option<String>,
    /// `ESCALATOR_SESSION_IDLE_MINUTES`: a UI session ends after this long without a request.
    pub session_idle_minutes: i64,
    /// `ESCALATOR_COOKIE_SECURE`: send the session cookie over HTTPS only (default: when
    /// the public URL is https).
    pub cookie_secure: Option<bool>,
    /// `ESCALATOR_SMTP_HOST`: e-mail is sent only when set.
    pub smtp_host: Option<String>,
    /// `ESCALATOR_SMTP_PORT`.
    pub smtp_port: u16,
    /// `ESCALATOR_SMTP_SECURITY`: `none`, `starttls` or `tls`.
    pub smtp_security: SmtpSecurity,
    /// `ESCALATOR_SMTP_USERNAME`.
    pub smtp_username: Option<String>,
    /// `ESCALATOR_SMTP_PASSWORD`.
    pub smtp_password: Option<String>,
    /// `ESCALATOR_SMTP_FROM`.
    pub smtp_from: String,
    /// `ESCALATOR_SMS_URL`: the HTTP SMS provider's endpoint; SMS is sent only when set.
    pub sms_url: Option<String>,
    /// `ESCALATOR_SMS_METHOD`.
    pub sms_method: String,
    /// `ESCALATOR_SMS_HEADERS` (a JSON object in the environment, a table in the file).
    pub sms_headers: BTreeMap<String, String>,
    /// `ESCALATOR_SMS_BODY_TEMPLATE`: minijinja with `to`, `text`, `reference`.
    pub sms_body_template: String,
    /// `ESCALATOR_SMS_CONTENT_TYPE`.
    pub sms_content_type: String,
    /// `ESCALATOR_QUIET_HOURS_HOLD_ESCALATIONS`: escalations wait for quiet hours to end too.
    pub quiet_hours_hold_escalations: bool,
    /// `ESCALATOR_DIGEST_MAX_MAILS`: individual non-urgent e-mails per person and window (0: no digests).
    pub digest_max_mails: u32,
    /// `ESCALATOR_DIGEST_WINDOW_SECONDS`.
    pub digest_window_seconds: u64,
    /// `ESCALATOR_TICK_LOCK_TTL_SECONDS`: SQLite's tick lease, renewed while a tick runs.
    pub tick_lock_ttl_seconds: u64,
    /// `ESCALATOR_TICK_LOCK_RETRY_SECONDS`: how soon a replica tries again for a held tick lock.
    pub tick_lock_retry_seconds: u64,
    /// `ESCALATOR_WATCH_RECHECK_SECONDS`: longest the deadline watcher sleeps without a look.
    pub watch_recheck_seconds: u64,
    /// `ESCALATOR_OUTBOX_CLAIM_SECONDS`: how long claimed outbox rows stay hidden, renewed while sent.
    pub outbox_claim_seconds: u64,
    /// `ESCALATOR_SHUTDOWN_GRACE_SECONDS`: how long SIGTERM waits for work in flight.
    pub shutdown_grace_seconds: u64,
    /// `ESCALATOR_DB_STATEMENT_TIMEOUT_SECONDS`: PostgreSQL's statement_timeout for pooled sessions.
    pub db_statement_timeout_seconds: u64,
    /// `ESCALATOR_DB_BUSY_TIMEOUT_SECONDS`: SQLite's busy_timeout.
    pub db_busy_timeout_seconds: u64,
    /// `ESCALATOR_OUTBOX_WORKERS`: delivery rounds running at once per process.
    pub outbox_workers: u64,
    /// `ESCALATOR_OUTBOX_LINGER_MS`: how long delivery waits after this process queued
    /// something, so that one round takes what several changes queued (0: at once).
    pub outbox_linger_ms: u64,
    /// `ESCALATOR_ABSENCE_HANDOVER`: what happens to a person's open work when their
    /// absence starts: `delegate_or_escalate`, `delegate` or `off`.
    pub absence_handover: escalator_engine::Handover,
    /// `ESCALATOR_WEBHOOK_HOSTS`: the hosts webhook URLs may name (comma-separated in the
    /// environment, a list in the file); empty: any.
    pub webhook_hosts: Vec<String>,
    /// `ESCALATOR_LINK_SECRETS`: keys signing the one-click links in messages
    /// (comma-separated, at least 32 characters each; the first signs, every one verifies).
    /// Empty: a key generated once and kept in the database, shared by the replicas.
    pub link_secrets: Vec<String>,
    /// `ESCALATOR_LINK_TTL_HOURS`: how long a one-click link acts after its message was sent.
    pub link_ttl_hours: u64,
    /// `ESCALATOR_TZ_RULES`: where zone rules come from: `system` (the system's tz
    /// database, `$TZDIR` or `/usr/share/zoneinfo`, with the bundled copy for zones it
    /// lacks) or `bundled` (only the copy in the binary, the same on every machine).
    pub tz_rules: escalator_domain::sla::zones::RulesSource,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: default_database_url(),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            metrics_listen: None,
            tick_schedule: SchedulerConfig::default().tick_schedule,
            tick_interval_seconds: 900,
            batch_size: EngineConfig::default().batch_size,
            outbox_max_attempts: Backoff::default().max_attempts,
            outbox_backoff_base_seconds: Backoff::default().base.as_secs(),
            outbox_backoff_cap_seconds: Backoff::default().cap.as_secs(),
            log_format: "text".into(),
            site_root: None,
            public_url: None,
            session_idle_minutes: 60,
            cookie_secure: None,
            smtp_host: None,
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password: None,
            smtp_from: "Escalator <escalator@localhost>".into(),
            sms_url: None,
            sms_method: "POST".into(),
            sms_headers: BTreeMap::new(),
            sms_body_template: DEFAULT_SMS_BODY.into(),
            sms_content_type: "application/json".into(),
            quiet_hours_hold_escalations: false,
            digest_max_mails: DigestPolicy::default().max_mails,
            digest_window_seconds: DigestPolicy::default().window.as_secs(),
            tick_lock_ttl_seconds: EngineConfig::default().tick_lock_ttl.as_secs(),
            tick_lock_retry_seconds: EngineConfig::default().tick_lock_retry.as_secs(),
            watch_recheck_seconds: EngineConfig::default().watch_recheck.as_secs(),
            outbox_linger_ms: u64::try_from(EngineConfig::default().delivery_linger.as_millis()).unwrap_or(50),
            outbox_claim_seconds: EngineConfig::default().claim_lease.as_secs(),
            shutdown_grace_seconds: EngineConfig::default().shutdown_grace.as_secs(),
            db_statement_timeout_seconds: DbSettings::default().statement_timeout.as_secs(),
            db_busy_timeout_seconds: DbSettings::default().busy_timeout.as_secs(),
            webhook_hosts: Vec::new(),
            link_secrets: Vec::new(),
            link_ttl_hours: 72,
            tz_rules: escalator_domain::sla::zones::RulesSource::System,
            absence_handover: escalator_engine::Handover::default(),
            outbox_workers: EngineConfig::default().delivery_workers as u64,
        }
    }
}

impl Config {
    /// Whether the session cookie is marked Secure: as configured, else when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.cookie_secure
            .unwrap_or_else(|| self.public_url.as_deref().is_some_and(|u| u.starts_with("https://")))
    }

    /// The origin (scheme, host, port) of the public URL, accepted as our own by the
    /// cross-site check.
    pub fn public_origin(&self) -> Option<String> {
        let url = self.public_url.as_deref()?;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next().unwrap_or(rest);
        Some(format!("{scheme}://{host}"))
    }
}

/// `sqlite:` + `escalator.db` next to the binary (the current directory if unknown).
fn default_database_url() -> String {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    format!("sqlite:{}", dir.join("escalator.db").display())
}

/// The environment variable of a setting.
fn env_name(key: &str) -> String {
    match key {
        "database_url" => "DATABASE_URL".into(),
        "site_root" => "LEPTOS_SITE_ROOT".into(),
        _ => format!("ESCALATOR_{}", key.to_uppercase()),
    }
}

/// Reads an environment variable's text as the setting `key` of `settings` takes it: a
/// number or a flag, a JSON object (SMS headers), a comma-separated list (webhook hosts),
/// or the text itself — a password of digits stays text. The setting's type decides: the
/// first reading that makes a valid configuration wins.
fn read_env(
    settings: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    raw: &str,
) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let list = raw
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(Value::from)
        .collect();
    let readings = [
        serde_json::from_str::<Value>(raw).ok(),
        Some(Value::String(raw.to_string())),
        Some(Value::Array(list)),
    ];
    let mut as_text = None;
    for reading in readings.into_iter().flatten() {
        let mut trial = settings.clone();
        trial.insert(key.to_string(), reading.clone());
        match serde_json::from_value::<Config>(Value::Object(trial)) {
            Ok(_) => return Ok(reading),
            Err(e) if reading.is_string() => as_text = Some(e.to_string()),
            Err(_) => {}
        }
    }
    Err(as_text.unwrap_or_else(|| "not a valid value".into()))
}

impl Config {
    /// Loads defaults, the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.into(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.into(),
                    source,
                })?
            }
            None => Config::default(),
        };
        config.apply_env(|key| std::env::var(key).ok())?;
        Ok(config)
    }

    /// Overrides settings from environment variables (`lookup` abstracts the environment
    /// for tests), then validates the result. Every setting is read the same way, by its
    /// name: `ESCALATOR_` and the setting in capitals (`batch_size`:
    /// `ESCALATOR_BATCH_SIZE`), except `DATABASE_URL` and `LEPTOS_SITE_ROOT`, which other
    /// tools name too.
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            key: "environment".into(),
            value: String::new(),
            message,
        };
        let mut layered = match serde_json::to_value(&*self) {
            Ok(serde_json::Value::Object(map)) => map,
            other => return Err(invalid(format!("not a table of settings: {other:?}"))),
        };
        let keys: Vec<String> = layered.keys().cloned().collect();
        for key in keys {
            let name = env_name(&key);
            let Some(raw) = lookup(&name) else {
                continue;
            };
            let value = read_env(&layered, &key, &raw).map_err(|message| ConfigError::Invalid {
                key: name,
                value: raw,
                message,
            })?;
            layered.insert(key, value);
        }
        *self = serde_json::from_value(serde_json::Value::Object(layered)).map_err(|e| invalid(e.to_string()))?;
        self.validate()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, value: String, message: &str| ConfigError::Invalid {
            key: key.to_string(),
            value,
            message: message.into(),
        };
        // Every value is checked here, wherever it came from (defaults, the file, the
        // environment): a range check next to one source let the others through.
        if !(1..=60 * 24 * 30).contains(&self.session_idle_minutes) {
            return Err(invalid(
                "session_idle_minutes",
                self.session_idle_minutes.to_string(),
                "must be 1 to 43200 minutes",
            ));
        }
        if self.batch_size < 1 {
            return Err(invalid("batch_size", self.batch_size.to_string(), "must be at least 1"));
        }
        if self.outbox_max_attempts < 1 {
            return Err(invalid(
                "outbox_max_attempts",
                self.outbox_max_attempts.to_string(),
                "must be at least 1",
            ));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(invalid("log_format", self.log_format.clone(), "must be text or json"));
        }
        if self.digest_max_mails > 0 && self.digest_window_seconds == 0 {
            return Err(invalid(
                "digest_window_seconds",
                self.digest_window_seconds.to_string(),
                "must be at least 1 when digests are on",
            ));
        }
        let at_least_one_second = [
            ("tick_lock_ttl_seconds", self.tick_lock_ttl_seconds),
            ("tick_lock_retry_seconds", self.tick_lock_retry_seconds),
            ("watch_recheck_seconds", self.watch_recheck_seconds),
            ("outbox_claim_seconds", self.outbox_claim_seconds),
            ("shutdown_grace_seconds", self.shutdown_grace_seconds),
            ("db_statement_timeout_seconds", self.db_statement_timeout_seconds),
            ("db_busy_timeout_seconds", self.db_busy_timeout_seconds),
        ];
        if let Some((key, value)) = at_least_one_second.into_iter().find(|(_, v)| *v == 0) {
            return Err(invalid(key, value.to_string(), "must be at least 1 second"));
        }
        if !(1..=32).contains(&self.outbox_workers) {
            return Err(invalid(
                "outbox_workers",
                self.outbox_workers.to_string(),
                "must be 1 to 32",
            ));
        }
        if self.outbox_linger_ms > 5_000 {
            return Err(invalid(
                "outbox_linger_ms",
                self.outbox_linger_ms.to_string(),
                "must be at most 5000 (people wait for what lingers)",
            ));
        }
        if self.tick_lock_ttl_seconds < 3 {
            return Err(invalid(
                "tick_lock_ttl_seconds",
                self.tick_lock_ttl_seconds.to_string(),
                "must be at least 3 seconds (it is renewed every third of it)",
            ));
        }
        if !(1..=24 * 30).contains(&self.link_ttl_hours) {
            return Err(invalid(
                "link_ttl_hours",
                self.link_ttl_hours.to_string(),
                "must be 1 to 720 hours",
            ));
        }
        if let Some(short) = self.link_secrets.iter().find(|k| k.len() < 32) {
            return Err(invalid(
                "link_secrets",
                format!("({} characters)", short.len()),
                "each key must be at least 32 characters",
            ));
        }
        escalator_engine::scheduler::parse_schedule(&self.tick_schedule)
            .map_err(|e| invalid("tick_schedule", self.tick_schedule.clone(), &e.message))?;
        Ok(())
    }

    /// The engine's part.
    pub fn engine(&self) -> EngineConfig {
        EngineConfig {
            batch_size: self.batch_size,
            backoff: Backoff {
                base: Duration::from_secs(self.outbox_backoff_base_seconds),
                cap: Duration::from_secs(self.outbox_backoff_cap_seconds),
                max_attempts: self.outbox_max_attempts,
            },
            quiet_hours_hold_urgent: self.quiet_hours_hold_escalations,
            tick_lock_ttl: Duration::from_secs(self.tick_lock_ttl_seconds),
            tick_lock_retry: Duration::from_secs(self.tick_lock_retry_seconds),
            watch_recheck: Duration::from_secs(self.watch_recheck_seconds),
            claim_lease: Duration::from_secs(self.outbox_claim_seconds),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_seconds),
            webhook_hosts: self.webhook_hosts.clone(),
            handover: self.absence_handover,
            delivery_workers: usize::try_from(self.outbox_workers).unwrap_or(1),
            delivery_linger: Duration::from_millis(self.outbox_linger_ms),
            digest: DigestPolicy {
                max_mails: self.digest_max_mails,
                window: Duration::from_secs(self.digest_window_seconds),
            },
            ..EngineConfig::default()
        }
    }

    /// The signer of message links: the configured keys, else `stored` (the database's).
    pub fn links(&self, stored: Option<String>) -> Result<LinkSigner, ConfigError> {
        let keys = match (&self.link_secrets[..], stored) {
            ([], Some(stored)) => vec![stored],
            (keys, _) => keys.to_vec(),
        };
        let ttl = chrono::TimeDelta::try_hours(i64::try_from(self.link_ttl_hours).unwrap_or(72))
            .unwrap_or(chrono::TimeDelta::hours(72));
        LinkSigner::new(&keys, ttl).map_err(|message| ConfigError::Invalid {
            key: "link_secrets".into(),
            value: format!("({} keys)", keys.len()),
            message,
        })
    }

    /// The database pools' timeouts.
    pub fn database(&self) -> DbSettings {
        DbSettings {
            statement_timeout: Duration::from_secs(self.db_statement_timeout_seconds),
            busy_timeout: Duration::from_secs(self.db_busy_timeout_seconds),
            ..DbSettings::default()
        }
    }

    /// The SMTP settings, when e-mail is configured.
    pub fn smtp(&self) -> Option<SmtpConfig> {
        let host = self.smtp_host.clone()?;
        let message_id_domain = self
            .smtp_from
            .rsplit('@')
            .next()
            .unwrap_or("localhost")
            .trim_end_matches('>')
            .to_string();
        Some(SmtpConfig {
            host,
            port: self.smtp_port,
            security: self.smtp_security,
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            from: self.smtp_from.clone(),
            message_id_domain,
            public_url: self.public_url.clone(),
            timeout: Duration::from_secs(15),
        })
    }

    /// The SMS provider's settings, when SMS is configured.
    pub fn sms(&self) -> Option<SmsConfig> {
        Some(SmsConfig {
            url: self.sms_url.clone()?,
            method: self.sms_method.clone(),
            headers: self.sms_headers.clone().into_iter().collect(),
            body_template: self.sms_body_template.clone(),
            content_type: self.sms_content_type.clone(),
            public_url: self.public_url.clone(),
            timeout: Duration::from_secs(15),
        })
    }

    /// The scheduler's part.
    pub fn scheduler(&self) -> SchedulerConfig {
        SchedulerConfig {
            tick_schedule: self.tick_schedule.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn environment_overrides_defaults() {
        let env: HashMap<&str, &str> = [
            ("DATABASE_URL", "postgres://localhost/x"),
            ("ESCALATOR_LISTEN", "0.0.0.0:8080"),
            ("ESCALATOR_TICK_SCHEDULE", "0 * * * * *"),
        ]
        .into();
        let mut c = Config::default();
        c.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.database_url, "postgres://localhost/x");
        assert_eq!(c.listen.port(), 8080);
        assert_eq!(c.tick_schedule, "0 * * * * *");
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "ESCALATOR_BATCH_SIZE").then(|| "many".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("ESCALATOR_BATCH_SIZE"), "{err}");
        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "ESCALATOR_TICK_SCHEDULE").then(|| "every day".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("tick_schedule"), "{err}");
    }

    #[test]
    fn liveness_timings_come_from_the_environment_and_are_validated() {
        let env: HashMap<&str, &str> = [
            ("ESCALATOR_SHUTDOWN_GRACE_SECONDS", "7"),
            ("ESCALATOR_WATCH_RECHECK_SECONDS", "2"),
            ("ESCALATOR_DB_STATEMENT_TIMEOUT_SECONDS", "45"),
            ("ESCALATOR_OUTBOX_LINGER_MS", "0"),
        ]
        .into();
        let mut c = Config::default();
        c.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.engine().shutdown_grace, Duration::from_secs(7));
        assert_eq!(c.engine().watch_recheck, Duration::from_secs(2));
        assert_eq!(c.database().statement_timeout, Duration::from_secs(45));
        assert_eq!(c.engine().tick_lock_ttl, Duration::from_secs(10));
        assert_eq!(c.engine().delivery_linger, Duration::ZERO);
        assert_eq!(Config::default().engine().delivery_linger, Duration::from_millis(50));
        for (key, value) in [
            ("ESCALATOR_OUTBOX_CLAIM_SECONDS", "0"),
            ("ESCALATOR_OUTBOX_LINGER_MS", "60000"),
            ("ESCALATOR_TICK_LOCK_TTL_SECONDS", "2"),
        ] {
            let mut c = Config::default();
            let err = c.apply_env(|k| (k == key).then(|| value.to_string())).unwrap_err();
            let field = key.trim_start_matches("ESCALATOR_").to_lowercase();
            assert!(err.to_string().contains(&field), "{err}");
        }
    }

    #[test]
    fn values_from_the_file_are_validated_like_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("escalator.toml");
        for bad in [
            "session_idle_minutes = 0",
            "batch_size = 0",
            "outbox_workers = 99",
            "tick_lock_ttl_seconds = 1",
        ] {
            std::fs::write(&path, format!("{bad}\n")).unwrap();
            let err = Config::load(Some(&path)).unwrap_err();
            let key = bad.split(' ').next().unwrap();
            assert!(err.to_string().contains(key), "{bad}: {err}");
        }
    }

    #[test]
    fn a_file_is_read_and_unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("escalator.toml");
        std::fs::write(&path, "database_url = \"sqlite:/tmp/x.db\"\nbatch_size = 50\n").unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.batch_size, 50);
        std::fs::write(&path, "batchsize = 50\n").unwrap();
        assert!(matches!(Config::load(Some(&path)), Err(ConfigError::Parse { .. })));
    }

    #[test]
    fn sms_quiet_hours_and_digests_from_file_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("escalator.toml");
        std::fs::write(
            &path,
            "sms_url = \"https://sms.example.com/send\"\ndigest_max_mails = 3\n\
             [sms_headers]\nAuthorization = \"Bearer file\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        let sms = c.sms().unwrap();
        assert_eq!(
            sms.headers,
            vec![("Authorization".to_string(), "Bearer file".to_string())]
        );
        assert_eq!(
            (sms.method.as_str(), sms.body_template.as_str()),
            ("POST", DEFAULT_SMS_BODY)
        );
        assert_eq!(c.engine().digest.max_mails, 3);
        assert!(!c.engine().quiet_hours_hold_urgent);

        let env: HashMap<&str, &str> = [
            ("ESCALATOR_SMS_HEADERS", r#"{"X-Api-Key": "k"}"#),
            ("ESCALATOR_SMS_METHOD", "PUT"),
            ("ESCALATOR_QUIET_HOURS_HOLD_ESCALATIONS", "true"),
            ("ESCALATOR_DIGEST_WINDOW_SECONDS", "60"),
        ]
        .into();
        let mut c = c;
        c.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(
            c.sms().unwrap().headers,
            vec![("X-Api-Key".to_string(), "k".to_string())]
        );
        assert_eq!(c.sms().unwrap().method, "PUT");
        assert!(c.engine().quiet_hours_hold_urgent);
        assert_eq!(c.engine().digest.window, Duration::from_secs(60));
        assert!(Config::default().sms().is_none());

        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "ESCALATOR_SMS_HEADERS").then(|| "Authorization: x".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("ESCALATOR_SMS_HEADERS"), "{err}");
    }

    #[test]
    fn every_setting_is_read_from_its_documented_variable_and_every_documented_variable_is_a_setting() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("## Configuration")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap();
        let documented: std::collections::BTreeSet<String> = section
            .split('`')
            .filter(|w| {
                (w.starts_with("ESCALATOR_") && w.len() > 10) || *w == "DATABASE_URL" || *w == "LEPTOS_SITE_ROOT"
            })
            .filter(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .map(str::to_string)
            .collect();
        let serde_json::Value::Object(settings) = serde_json::to_value(Config::default()).unwrap() else {
            panic!("an object")
        };
        let read: std::collections::BTreeSet<String> = settings.keys().map(|k| env_name(k)).collect();
        assert_eq!(read, documented);
    }

    #[test]
    fn the_setting_type_decides_how_a_variable_reads() {
        let env: HashMap<&str, &str> = [
            ("ESCALATOR_SMTP_PASSWORD", "12345678"),
            ("ESCALATOR_SMTP_USERNAME", "true"),
            ("ESCALATOR_WEBHOOK_HOSTS", "hooks.example.com, 10.0.0.7"),
            ("ESCALATOR_COOKIE_SECURE", "true"),
            ("ESCALATOR_SMS_BODY_TEMPLATE", r#"{"to": "{{ to }}"}"#),
            ("ESCALATOR_SMTP_SECURITY", "tls"),
        ]
        .into();
        let mut c = Config::default();
        c.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.smtp_password.as_deref(), Some("12345678"));
        assert_eq!(c.smtp_username.as_deref(), Some("true"));
        assert_eq!(c.webhook_hosts, ["hooks.example.com", "10.0.0.7"]);
        assert_eq!(c.cookie_secure, Some(true));
        assert_eq!(c.sms_body_template, r#"{"to": "{{ to }}"}"#);
        assert_eq!(c.smtp_security, SmtpSecurity::Tls);
        let err = Config::default()
            .apply_env(|k| (k == "ESCALATOR_SMTP_SECURITY").then(|| "ssl".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("ESCALATOR_SMTP_SECURITY"), "{err}");
    }
}
