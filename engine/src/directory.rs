//! The directory (departments, users), SLA policies, calendars and escalation chains:
//! reads as each actor may see them ([`Actor`]'s rules), and admins' changes, each
//! validating its references (a rejected request changes nothing) and audited.

use escalator_domain::{
    Calendar, Department, DepartmentKey, Email, EscalationChain, Holiday, Level, Phone, Role, SlaPolicy, Target, User,
    ValidationError, WarningWindow, Week,
};
use escalator_storage::{CalendarRecord, ChainRecord, NewAudit, PolicyRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Actor;
use crate::{EngineError, EngineResult, Escalator};

/// The body of `PUT /departments/{key}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub name: String,
    /// E-mail of the department head; must be a user in the directory.
    pub head: Option<String>,
}

/// The body of `PUT /users/{email}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub name: String,
    /// `admin`, `department_head`, `approver` or `viewer`.
    #[cfg_attr(feature = "openapi", schema(value_type = escalator_domain::Role))]
    pub role: String,
    pub department: Option<String>,
    /// E-mail of the user's manager; must be a user in the directory.
    pub manager: Option<String>,
    /// Mobile number for SMS, international (E.164) form, e.g. `+4915112345678`.
    #[serde(default)]
    pub phone: Option<String>,
}

/// The body of `POST`/`PUT /sla-policies`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub name: String,
    /// Measured in working time of the calendar, if any (else 24/7); at most a year.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 31_622_400))]
    pub target_seconds: i64,
    pub warning: WarningWindow,
    /// The business calendar to measure in; omitted: 24/7.
    #[serde(default)]
    pub calendar_id: Option<i64>,
    /// Repeat the reminder this often (seconds) until the assignee acknowledges it; omitted: once.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 31_622_400))]
    pub reminder_repeat_seconds: Option<i64>,
    /// Acknowledging the reminder holds escalation for this much working time; then the
    /// workflow escalates as if unacknowledged. Omitted: an acknowledgement only stops repeats.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 31_622_400))]
    pub ack_timeout_seconds: Option<i64>,
    /// Once the chain is exhausted, tell its last level again this often (seconds, at most
    /// ten times). Omitted: the exhaustion is recorded once and nobody is told.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 31_622_400))]
    pub exhausted_repeat_seconds: Option<i64>,
}

/// The body of `POST`/`PUT /calendars`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Working windows per weekday in local wall-clock time, e.g.
    /// `{"monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}], …}`.
    /// A window counts exactly the instants whose local time lies inside it, so across a
    /// daylight-saving change it can be shorter (Berlin, 2026-03-29, 02:30–04:00 counts
    /// 03:00–04:00; 02:10–02:50, inside the gap, counts nothing) or longer and in two
    /// pieces (St John's, 2023-11-05, 01:45–02:15 counts 01:45–02:00 NDT and 01:45–02:15
    /// NST: 45 minutes). `00:00` is the local day's first instant and `24:00` the next
    /// day's (where midnight is skipped, the day starts at 01:00).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub windows: Week,
    /// `{"kind": "date", "date": "2026-12-24"}` or `{"kind": "yearly", "month": 12, "day": 25}`
    /// (`"since": 2027` for every year from 2027 on, as an iCalendar rule starting then).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub holidays: Vec<Holiday>,
    /// An iCalendar (.ics) holiday file whose all-day events are added as holidays.
    pub ics: Option<String>,
}

/// The body of `POST`/`PUT /escalation-chains`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainInput {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
        )
    )]
    pub name: String,
    pub levels: Vec<Level>,
}

fn name(field: &str, raw: &str) -> Result<String, ValidationError> {
    crate::workflows::text(field, raw, 200)
}

impl Escalator {
    async fn existing_user(&self, field: &str, raw: &str) -> EngineResult<Email> {
        let email = Email::parse(raw).map_err(|e| ValidationError::new(field, e.message))?;
        if self.store.user(email.as_str()).await?.is_none() {
            return Err(ValidationError::new(field, format!("{email} is not a user in the directory")).into());
        }
        Ok(email)
    }

    async fn audit_admin(&self, actor: &Actor, action: &str, details: serde_json::Value) -> EngineResult<()> {
        let entry = NewAudit {
            actor: actor.email.clone(),
            action: action.into(),
            workflow_id: None,
            details,
            at: self.now(),
        };
        Ok(self.store.append_audit(&entry).await?)
    }

    /// Creates or replaces a department; returns it and whether it was new.
    pub async fn put_department(
        &self,
        key: &str,
        input: &DepartmentInput,
        actor: &Actor,
    ) -> EngineResult<(Department, bool)> {
        actor.require_admin()?;
        let key = DepartmentKey::parse(key)?;
        let head = match &input.head {
            Some(h) => Some(self.existing_user("head", h).await?),
            None => None,
        };
        let department = Department {
            key,
            name: name("name", &input.name)?,
            head,
        };
        let created = self.store.department(department.key.as_str()).await?.is_none();
        self.store.upsert_department(&department, self.now()).await?;
        self.audit_admin(actor, "department_upserted", json!(department))
            .await?;
        Ok((department, created))
    }

    /// Creates or replaces a user (not their password); returns it and whether it was new.
    pub async fn put_user(&self, email: &str, input: &UserInput, actor: &Actor) -> EngineResult<(User, bool)> {
        actor.require_admin()?;
        let email = Email::parse(email)?;
        let role = Role::parse(&input.role)?;
        if email.as_str() == actor.email && role != Role::Admin {
            // Nobody locks themselves (or the last admin) out by a slip of a form.
            return Err(EngineError::Forbidden(
                "admins cannot take away their own admin role; another admin can".into(),
            ));
        }
        let department = match &input.department {
            Some(d) => {
                let key = DepartmentKey::parse(d).map_err(|e| ValidationError::new("department", e.message))?;
                if self.store.department(key.as_str()).await?.is_none() {
                    return Err(ValidationError::new("department", format!("unknown department {d:?}")).into());
                }
                Some(key)
            }
            None => None,
        };
        let manager = match &input.manager {
            Some(m) => {
                let m = self.existing_user("manager", m).await?;
                if m == email {
                    return Err(ValidationError::new("manager", "a user cannot be their own manager").into());
                }
                Some(m)
            }
            None => None,
        };
        let user = User {
            email,
            name: name("name", &input.name)?,
            role,
            department,
            manager,
            phone: input.phone.as_deref().map(Phone::parse).transpose()?,
        };
        let created = self.store.user(user.email.as_str()).await?.is_none();
        self.store.upsert_user(&user, self.now()).await?;
        self.audit_admin(actor, "user_upserted", json!(user)).await?;
        Ok((user, created))
    }

    /// The names of the people with these e-mails (unknown ones are left out), for pages
    /// that show people by name. Only pass e-mails the reader already sees.
    pub async fn names_of(&self, emails: &[String]) -> EngineResult<std::collections::HashMap<String, String>> {
        let directory = self.kept(self.now()).await?.directory;
        Ok(emails
            .iter()
            .filter_map(|email| Some((email.clone(), directory.user(email)?.name.clone())))
            .collect())
    }

    /// Changes a person's name and phone: their own, or anyone's for admins; audited
    /// (whether a phone is set, never the number).
    pub async fn update_profile(
        &self,
        email: &str,
        new_name: &str,
        phone: Option<&str>,
        actor: &Actor,
    ) -> EngineResult<User> {
        let email = actor.own_or_admin(email)?;
        let mut user = self
            .store
            .user(&email)
            .await?
            .ok_or_else(|| EngineError::not_found("user", &email))?;
        user.name = name("name", new_name)?;
        user.phone = phone
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Phone::parse)
            .transpose()?;
        self.store.upsert_user(&user, self.now()).await?;
        self.audit_admin(
            actor,
            "profile_updated",
            json!({ "user": email, "phone_set": user.phone.is_some() }),
        )
        .await?;
        Ok(user)
    }

    /// Validates a policy input, including that its calendar exists.
    pub(crate) async fn validate_policy(&self, input: &PolicyInput) -> EngineResult<SlaPolicy> {
        if let Some(id) = input.calendar_id {
            if self.store.calendar(id).await?.is_none() {
                return Err(ValidationError::new("calendar_id", format!("unknown calendar {id}")).into());
            }
        }
        Ok(SlaPolicy::new(&input.name, input.target_seconds, input.warning)?
            .with_reminder_repeat(input.reminder_repeat_seconds)?
            .with_acknowledgement_timeout(input.ack_timeout_seconds)?
            .with_exhausted_repeat(input.exhausted_repeat_seconds)?)
    }

    /// Creates an SLA policy.
    pub async fn create_policy(&self, input: &PolicyInput, actor: &Actor) -> EngineResult<PolicyRecord> {
        actor.require_admin()?;
        let policy = self.validate_policy(input).await?;
        let record = self.store.create_policy(&policy, input.calendar_id, self.now()).await?;
        self.audit_admin(actor, "policy_created", json!(record)).await?;
        Ok(record)
    }

    /// Replaces an SLA policy.
    pub async fn update_policy(&self, id: i64, input: &PolicyInput, actor: &Actor) -> EngineResult<PolicyRecord> {
        actor.require_admin()?;
        let policy = self.validate_policy(input).await?;
        let record = self
            .store
            .update_policy(id, &policy, input.calendar_id, self.now())
            .await?
            .ok_or_else(|| EngineError::not_found("SLA policy", id))?;
        self.audit_admin(actor, "policy_updated", json!(record)).await?;
        Ok(record)
    }

    fn parse_calendar(input: &CalendarInput) -> Result<(String, Calendar), ValidationError> {
        let mut holidays = input.holidays.clone();
        if let Some(ics) = &input.ics {
            holidays.extend(Calendar::parse_ics(ics)?);
        }
        let calendar = Calendar::new(&input.time_zone, input.windows.clone(), holidays)?;
        Ok((name("name", &input.name)?, calendar))
    }

    /// Creates a business calendar.
    pub async fn create_calendar(&self, input: &CalendarInput, actor: &Actor) -> EngineResult<CalendarRecord> {
        actor.require_admin()?;
        let (name, calendar) = Self::parse_calendar(input)?;
        let record = self.store.create_calendar(&name, &calendar, self.now()).await?;
        self.audit_admin(
            actor,
            "calendar_created",
            json!({ "calendar_id": record.id, "name": record.name }),
        )
        .await?;
        Ok(record)
    }

    /// Replaces a business calendar; policies using it measure in the new one from now on.
    pub async fn update_calendar(&self, id: i64, input: &CalendarInput, actor: &Actor) -> EngineResult<CalendarRecord> {
        actor.require_admin()?;
        let (name, calendar) = Self::parse_calendar(input)?;
        let record = self
            .store
            .update_calendar(id, &name, &calendar, self.now())
            .await?
            .ok_or_else(|| EngineError::not_found("calendar", id))?;
        self.audit_admin(
            actor,
            "calendar_updated",
            json!({ "calendar_id": record.id, "name": record.name }),
        )
        .await?;
        Ok(record)
    }

    async fn validate_chain(&self, input: &ChainInput) -> EngineResult<EscalationChain> {
        let chain = EscalationChain::new(&input.name, input.levels.clone())?;
        for (i, level) in chain.levels.iter().enumerate() {
            match &level.target {
                Target::User { email } => {
                    self.existing_user(&format!("levels[{i}].target.email"), email.as_str())
                        .await?;
                }
                Target::Group { group } if self.store.group(group).await?.is_none() => {
                    return Err(ValidationError::new(
                        format!("levels[{i}].target.group"),
                        format!("unknown group {group:?}"),
                    )
                    .into());
                }
                _ => {}
            }
        }
        Ok(chain)
    }

    /// Creates an escalation chain.
    pub async fn create_chain(&self, input: &ChainInput, actor: &Actor) -> EngineResult<ChainRecord> {
        actor.require_admin()?;
        let record = self
            .store
            .create_chain(&self.validate_chain(input).await?, self.now())
            .await?;
        self.audit_admin(actor, "chain_created", json!(record)).await?;
        Ok(record)
    }

    /// Replaces an escalation chain.
    pub async fn update_chain(&self, id: i64, input: &ChainInput, actor: &Actor) -> EngineResult<ChainRecord> {
        actor.require_admin()?;
        let chain = self.validate_chain(input).await?;
        let record = self
            .store
            .update_chain(id, &chain, self.now())
            .await?
            .ok_or_else(|| EngineError::not_found("escalation chain", id))?;
        self.audit_admin(actor, "chain_updated", json!(record)).await?;
        Ok(record)
    }

    /// Every department: anyone signed in (departments are the filters of every page).
    pub async fn departments(&self, _actor: &Actor) -> EngineResult<Vec<Department>> {
        Ok(self.kept(self.now()).await?.directory.departments().to_vec())
    }

    /// One department.
    pub async fn department(&self, key: &str, _actor: &Actor) -> EngineResult<Department> {
        self.store
            .department(key)
            .await?
            .ok_or_else(|| EngineError::not_found("department", key))
    }

    /// The people the actor may see, as they may see them ([`Actor::sees_person`]).
    pub async fn users(&self, actor: &Actor) -> EngineResult<Vec<User>> {
        let users = self.store.users().await?;
        Ok(users.iter().filter_map(|u| actor.sees_person(u)).collect())
    }

    /// One person, as the actor may see them; "not found" when they may not.
    pub async fn user(&self, email: &str, actor: &Actor) -> EngineResult<User> {
        let email = email.trim().to_lowercase();
        self.kept(self.now())
            .await?
            .directory
            .user(&email)
            .and_then(|u| actor.sees_person(u))
            .ok_or_else(|| EngineError::not_found("user", email))
    }

    /// Every SLA policy (admins and department heads).
    pub async fn policies(&self, actor: &Actor) -> EngineResult<Vec<PolicyRecord>> {
        actor.require_rules_reader()?;
        Ok(self.store.policies().await?)
    }

    /// One SLA policy (admins and department heads).
    pub async fn policy(&self, id: i64, actor: &Actor) -> EngineResult<PolicyRecord> {
        actor.require_rules_reader()?;
        self.store
            .policy(id)
            .await?
            .ok_or_else(|| EngineError::not_found("SLA policy", id))
    }

    /// Every business calendar (admins and department heads).
    pub async fn calendars(&self, actor: &Actor) -> EngineResult<Vec<CalendarRecord>> {
        actor.require_rules_reader()?;
        Ok(self.store.calendars().await?)
    }

    /// One business calendar (admins and department heads).
    pub async fn calendar(&self, id: i64, actor: &Actor) -> EngineResult<CalendarRecord> {
        actor.require_rules_reader()?;
        self.store
            .calendar(id)
            .await?
            .ok_or_else(|| EngineError::not_found("calendar", id))
    }

    /// Every escalation chain (admins and department heads).
    pub async fn chains(&self, actor: &Actor) -> EngineResult<Vec<ChainRecord>> {
        actor.require_rules_reader()?;
        Ok(self.store.chains().await?)
    }

    /// One escalation chain (admins and department heads).
    pub async fn chain(&self, id: i64, actor: &Actor) -> EngineResult<ChainRecord> {
        actor.require_rules_reader()?;
        self.store
            .chain(id)
            .await?
            .ok_or_else(|| EngineError::not_found("escalation chain", id))
    }
}
