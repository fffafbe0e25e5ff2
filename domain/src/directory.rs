//! The organisation: departments, users and their roles, and the look-ups the
//! escalation engine needs to resolve "department head" or "manager of".

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ValidationError;

/// A user's e-mail address, lower-cased; the user's identity everywhere in Escalator.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises an address (trimmed, lower-case, one `@`, a dot in the domain).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim().to_lowercase();
        let invalid = || ValidationError::new("email", format!("{raw:?} is not an e-mail address"));
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let ok = !local.is_empty()
            && value.len() <= 254
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(value))
        } else {
            Err(invalid())
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A department's short key (`finance`, `hr-emea`): lower-case letters, digits, `-` and `_`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DepartmentKey(String);

impl DepartmentKey {
    /// Validates a key: 1 to 64 characters of `[a-z0-9_-]`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(ValidationError::new(
                "key",
                "a department key is 1-64 characters of a-z, 0-9, '-' and '_'",
            ))
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DepartmentKey {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DepartmentKey> for String {
    fn from(value: DepartmentKey) -> Self {
        value.0
    }
}

impl fmt::Display for DepartmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a user may do; see the README's role table.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    DepartmentHead,
    Approver,
    Viewer,
}

impl Role {
    /// All roles, in decreasing power.
    pub const ALL: [Role; 4] = [Role::Admin, Role::DepartmentHead, Role::Approver, Role::Viewer];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::DepartmentHead => "department_head",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw).ok_or_else(|| {
            ValidationError::new(
                "role",
                format!("unknown role {raw:?}; expected admin, department_head, approver or viewer"),
            )
        })
    }
}

/// A department and its head, the usual escalation target.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub key: DepartmentKey,
    pub name: String,
    pub head: Option<Email>,
}

/// A person in the directory.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub department: Option<DepartmentKey>,
    pub manager: Option<Email>,
    /// Mobile number for SMS notifications (E.164); left out of the JSON when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<crate::Phone>,
}

/// The look-ups that escalation targets need; implemented over a snapshot of the directory.
pub trait Directory {
    /// The head of `department`, if it has one.
    fn department_head(&self, department: &str) -> Option<&str>;
    /// The manager of `user`, if the user exists and has one.
    fn manager_of(&self, user: &str) -> Option<&str>;
    /// Whether `user` is in the directory (and so can be assigned work).
    fn has_user(&self, user: &str) -> bool;
    /// Whether `user` can take work at `at`; everyone is present unless the directory
    /// knows of absences and deactivations.
    fn presence(&self, user: &str, at: chrono::DateTime<chrono::Utc>) -> crate::Presence<'_> {
        let _ = (user, at);
        crate::Presence::Present
    }
    /// The group with this key, if the directory has groups.
    fn group(&self, key: &str) -> Option<&crate::Group> {
        let _ = key;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_validated() {
        assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.d",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad:?}");
        }
    }

    #[test]
    fn department_keys_are_slugs() {
        assert!(DepartmentKey::parse("hr-emea_2").is_ok());
        for bad in ["", "HR", "a b", "é", &"x".repeat(65)] {
            assert!(DepartmentKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert_eq!(Role::parse("root").unwrap_err().field, "role");
    }
}
