//! Escalation chains: who a breached workflow goes to next, and for how long.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::policy::validate_target_seconds;
use crate::{Directory, Email, ValidationError};

/// Whom a level escalates to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "TargetText")]
pub enum Target {
    /// The head of the workflow's department.
    DepartmentHead,
    /// The manager of whoever holds the workflow when it breaches.
    ManagerOf,
    /// A named user.
    User { email: Email },
    /// A group: its strategy picks a present member (see [`crate::Group`]).
    Group { group: String },
}

/// A target as clients write it. Read through this flat form because serde ignores
/// unknown keys next to the tag of a unit variant (`{"kind": "department_head",
/// "email": …}` would be accepted and the e-mail silently dropped).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetText {
    kind: String,
    #[serde(default)]
    email: Option<Email>,
    #[serde(default)]
    group: Option<String>,
}

impl TryFrom<TargetText> for Target {
    type Error = ValidationError;

    fn try_from(text: TargetText) -> Result<Self, ValidationError> {
        if text.group.is_some() && text.kind != "group" {
            return Err(ValidationError::new("group", "only a group target names a group"));
        }
        match (text.kind.as_str(), text.email) {
            ("department_head", None) => Ok(Target::DepartmentHead),
            ("manager_of", None) => Ok(Target::ManagerOf),
            ("user", Some(email)) => Ok(Target::User { email }),
            ("user", None) => Err(ValidationError::new("email", "a user target names the user's e-mail")),
            ("group", None) => match text.group {
                Some(group) => {
                    crate::group::validate_key(&group).map_err(|e| ValidationError::new("group", e.message))?;
                    Ok(Target::Group { group })
                }
                None => Err(ValidationError::new("group", "a group target names the group's key")),
            },
            ("department_head" | "manager_of" | "group", Some(_)) => {
                Err(ValidationError::new("email", "only a user target names an e-mail"))
            }
            (other, _) => Err(ValidationError::new(
                "kind",
                format!("unknown target {other:?}; expected department_head, manager_of, user or group"),
            )),
        }
    }
}

impl Target {
    /// Resolves the target for a workflow of `department` currently with `assignee`.
    /// `None` when it does not exist (no head, no manager, user left the directory).
    pub fn resolve<'d>(&'d self, directory: &'d impl Directory, department: &str, assignee: &str) -> Option<&'d str> {
        match self {
            Target::DepartmentHead => directory.department_head(department),
            Target::ManagerOf => directory.manager_of(assignee),
            Target::User { email } => directory.has_user(email.as_str()).then_some(email.as_str()),
            // A group picks among its members at routing time (see `next_level`).
            Target::Group { .. } => None,
        }
        .filter(|resolved| directory.has_user(resolved))
    }

    /// The target in words, e.g. "Head of the workflow's department"; `name` gives a
    /// person's name for their e-mail.
    pub fn words(&self, name: impl Fn(&str) -> String) -> String {
        match self {
            Target::DepartmentHead => "Head of the workflow's department".into(),
            Target::ManagerOf => "The assignee's manager".into(),
            Target::User { email } => name(email.as_str()),
            Target::Group { group } => format!("Group “{group}”"),
        }
    }

    /// Short description for audit entries and the API.
    pub fn describe(&self) -> String {
        match self {
            Target::DepartmentHead => "department_head".into(),
            Target::ManagerOf => "manager_of".into(),
            Target::User { email } => format!("user:{email}"),
            Target::Group { group } => format!("group:{group}"),
        }
    }
}

/// One step of a chain: the target and how long the workflow may stay there.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub target: Target,
    /// At most a year.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 31_622_400))]
    pub time_limit_seconds: i64,
}

impl Level {
    /// The time the workflow may stay at this level before escalating again.
    pub fn time_limit(&self) -> TimeDelta {
        TimeDelta::seconds(self.time_limit_seconds)
    }
}

/// An ordered list of levels. Level 0 is the original assignee under the SLA policy;
/// escalation level `n` (1-based) is `levels[n - 1]`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationChain {
    pub name: String,
    pub levels: Vec<Level>,
}

/// The longest chain we accept; real chains have two to four levels.
pub const MAX_LEVELS: usize = 20;

impl EscalationChain {
    /// Builds a validated chain.
    pub fn new(name: &str, levels: Vec<Level>) -> Result<Self, ValidationError> {
        crate::text::check("name", name)?;
        let sent = name.chars().count();
        let name = name.trim();
        if name.is_empty() || sent > 200 {
            return Err(ValidationError::new("name", "must be 1-200 characters"));
        }
        if levels.is_empty() || levels.len() > MAX_LEVELS {
            return Err(ValidationError::new(
                "levels",
                format!("a chain has 1 to {MAX_LEVELS} levels"),
            ));
        }
        for (i, level) in levels.iter().enumerate() {
            validate_target_seconds("time_limit_seconds", level.time_limit_seconds)
                .map_err(|e| e.within(&format!("levels[{i}].")))?;
        }
        Ok(Self {
            name: name.to_string(),
            levels,
        })
    }

    /// The level reached at escalation level `n` (1-based), if the chain has it.
    pub fn level(&self, n: u32) -> Option<&Level> {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        self.levels.get(index)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn targets_refuse_keys_they_do_not_have() {
        let read = |json: &str| serde_json::from_str::<Target>(json);
        assert_eq!(read(r#"{"kind": "department_head"}"#).unwrap(), Target::DepartmentHead);
        assert!(matches!(
            read(r#"{"kind": "user", "email": "a@b.io"}"#).unwrap(),
            Target::User { .. }
        ));
        for bad in [
            r#"{"kind": "department_head", "email": "a@b.io"}"#,
            r#"{"kind": "manager_of", "level": 2}"#,
            r#"{"kind": "user"}"#,
            r#"{"kind": "boss"}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let round_trip = serde_json::to_string(&Target::User {
            email: Email::parse("a@b.io").unwrap(),
        })
        .unwrap();
        assert_eq!(
            read(&round_trip).unwrap(),
            Target::User {
                email: Email::parse("a@b.io").unwrap()
            }
        );
    }

    use super::*;

    #[test]
    fn chains_are_validated_per_level() {
        let ok = Level {
            target: Target::DepartmentHead,
            time_limit_seconds: 3600,
        };
        let bad = Level {
            target: Target::ManagerOf,
            time_limit_seconds: 0,
        };
        assert!(EscalationChain::new("c", vec![ok.clone()]).is_ok());
        assert_eq!(EscalationChain::new("c", vec![]).unwrap_err().field, "levels");
        assert_eq!(
            EscalationChain::new("c", vec![ok, bad]).unwrap_err().field,
            "levels[1].time_limit_seconds"
        );
    }

    #[test]
    fn levels_are_one_based() {
        let l = |s| Level {
            target: Target::DepartmentHead,
            time_limit_seconds: s,
        };
        let c = EscalationChain::new("c", vec![l(1), l(2)]).unwrap();
        assert!(c.level(0).is_none());
        assert_eq!(c.level(2).unwrap().time_limit_seconds, 2);
        assert!(c.level(3).is_none());
    }
}
