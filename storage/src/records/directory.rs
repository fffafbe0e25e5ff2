//! Departments and users: rows, and the in-memory directory a tick resolves targets with.

use super::*;

/// The directory in memory: every department and person, who is away and the groups.
/// Enough to resolve every escalation target of a tick, and the names, roles and
/// department filters a page shows.
#[derive(Debug, Clone, Default)]
pub struct DirectorySnapshot {
    departments: Vec<Department>,
    heads: HashMap<String, String>,
    users: HashMap<String, User>,
    away: AwaySnapshot,
    groups: HashMap<String, Group>,
}

impl DirectorySnapshot {
    /// Builds a snapshot from departments and users.
    pub fn new(departments: Vec<Department>, users: Vec<User>) -> Self {
        Self {
            heads: departments
                .iter()
                .filter_map(|d| Some((d.key.to_string(), d.head.as_ref()?.to_string())))
                .collect(),
            departments,
            users: users.into_iter().map(|u| (u.email.to_string(), u)).collect(),
            away: AwaySnapshot::default(),
            groups: HashMap::new(),
        }
    }

    /// The same directory, with its groups.
    pub fn with_groups(mut self, groups: Vec<(String, Group)>) -> Self {
        self.groups = groups.into_iter().collect();
        self
    }

    /// The same directory, knowing who is away.
    pub fn with_away(mut self, away: AwaySnapshot) -> Self {
        self.away = away;
        self
    }

    /// The person with this (lower-case) e-mail.
    pub fn user(&self, email: &str) -> Option<&User> {
        self.users.get(email)
    }

    /// Whether the person was deactivated.
    pub fn is_deactivated(&self, email: &str) -> bool {
        self.away.deactivated.contains(email)
    }

    /// Every department, by key.
    pub fn departments(&self) -> &[Department] {
        &self.departments
    }

    /// Whether anyone may have work to hand on at `at`: a deactivated person, or an
    /// absence that has begun and was not handed on yet (marking it moves the rules
    /// generation). When not, the tick need not look for such work.
    pub fn anyone_away(&self, at: DateTime<Utc>) -> bool {
        !self.away.deactivated.is_empty() || self.away.handover_due.iter().any(|starts| *starts <= at)
    }
}

impl Directory for DirectorySnapshot {
    fn department_head(&self, department: &str) -> Option<&str> {
        self.heads.get(department).map(String::as_str)
    }
    fn manager_of(&self, user: &str) -> Option<&str> {
        self.users.get(user)?.manager.as_ref().map(Email::as_str)
    }
    fn has_user(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }
    fn presence(&self, user: &str, at: DateTime<Utc>) -> Presence<'_> {
        self.away.presence(user, at)
    }
    fn group(&self, key: &str) -> Option<&Group> {
        self.groups.get(key)
    }
}

/// A stored group definition, validated again on the way out.
pub(crate) fn group_of(definition: &str) -> Result<Group, StoreError> {
    let group: Group = serde_json::from_str(definition).map_err(|e| corrupt("groups", e))?;
    group.validate().map_err(|e| corrupt("groups", e))?;
    Ok(group)
}

#[derive(sqlx::FromRow)]
pub(crate) struct DepartmentRow {
    key: String,
    name: String,
    head_email: Option<String>,
}

impl TryFrom<DepartmentRow> for Department {
    type Error = StoreError;
    fn try_from(r: DepartmentRow) -> Result<Self, StoreError> {
        let c = |e| corrupt("departments", e);
        Ok(Department {
            key: DepartmentKey::parse(&r.key).map_err(c)?,
            name: r.name,
            head: r.head_email.as_deref().map(Email::parse).transpose().map_err(c)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    email: String,
    name: String,
    role: String,
    department_key: Option<String>,
    manager_email: Option<String>,
    phone: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        let c = |e| corrupt("users", e);
        Ok(User {
            email: Email::parse(&r.email).map_err(c)?,
            name: r.name,
            role: Role::parse(&r.role).map_err(c)?,
            department: r
                .department_key
                .as_deref()
                .map(DepartmentKey::parse)
                .transpose()
                .map_err(c)?,
            manager: r.manager_email.as_deref().map(Email::parse).transpose().map_err(c)?,
            phone: r.phone.as_deref().map(Phone::parse).transpose().map_err(c)?,
        })
    }
}
