//! Who may see and do what: the one set of rules behind the REST API, the UI's server
//! functions and the CLI (they call engine services, which apply these).
//!
//! - Workflows: admins all; department heads their department's; viewers their
//!   department's, read-only; approvers those assigned to them. Whoever a workflow is
//!   assigned to — also a head or viewer of another department the chain routed it to —
//!   sees it and may complete or advance it.
//! - Assigning (create, advance, reassign): admins anyone; everyone else only people of
//!   the workflow's department. Changing a workflow's SLA policy on advance: admins and
//!   the workflow's department head, never its assignee (who would pick a laxer SLA).
//! - People: admins everyone with phone numbers; everyone else the people of their own
//!   department (whom they work with and may assign to), phone numbers only their own.
//! - SLA policies, calendars and chains: admins (who edit them) and department heads
//!   (who start workflows under them) read them; only admins change them.
//! - SLA reports: admins for every department, department heads for their own.

use escalator_domain::{Action, Role, User};
use escalator_storage::{WorkflowFilter, WorkflowRecord};

use crate::{EngineError, EngineResult};

/// The authenticated caller of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub email: String,
    pub role: Role,
    pub department: Option<String>,
    /// How the action reached us when not through the API or the UI (a message link),
    /// named in its audit entry.
    pub via: Option<&'static str>,
}

impl From<&User> for Actor {
    fn from(user: &User) -> Self {
        Self {
            email: user.email.to_string(),
            role: user.role,
            department: user.department.as_ref().map(ToString::to_string),
            via: None,
        }
    }
}

impl Actor {
    /// An internal actor with admin rights, named in audit entries (`system`, `demo`, `cli`).
    pub fn internal(name: &str) -> Self {
        Self {
            email: name.into(),
            role: Role::Admin,
            department: None,
            via: None,
        }
    }

    /// The same actor, acting through `channel` (named in audit entries).
    pub fn via(self, channel: &'static str) -> Self {
        Self {
            via: Some(channel),
            ..self
        }
    }

    /// The normalised address of `email` if this actor may manage that person's own
    /// settings (profile, notification preferences): themselves, or anyone for admins.
    pub fn own_or_admin(&self, email: &str) -> EngineResult<String> {
        let email = email.trim().to_lowercase();
        if self.is_admin() || self.email == email {
            Ok(email)
        } else {
            Err(EngineError::Forbidden(
                "only admins manage other people's settings".into(),
            ))
        }
    }

    /// The department an SLA report may cover for this actor, given the one asked for:
    /// admins any (or all, `None`), heads their own only; everyone else none.
    pub fn report_scope(&self, asked: Option<&str>) -> EngineResult<Option<String>> {
        match self.role {
            Role::Admin => Ok(asked.map(str::to_string)),
            Role::DepartmentHead => {
                let own = self.department.clone().unwrap_or_default();
                match asked {
                    Some(other) if other != own => Err(EngineError::Forbidden(format!(
                        "department heads read the reports of their own department ({own})"
                    ))),
                    _ => Ok(Some(own)),
                }
            }
            Role::Approver | Role::Viewer => Err(EngineError::Forbidden(
                "SLA reports are for admins and department heads".into(),
            )),
        }
    }

    /// Whether this actor is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Fails with 403 unless the actor is an admin.
    pub fn require_admin(&self) -> EngineResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(EngineError::Forbidden("only admins may do this".into()))
        }
    }

    fn in_department(&self, department: &str) -> bool {
        self.department.as_deref() == Some(department)
    }

    fn is_assignee(&self, w: &WorkflowRecord) -> bool {
        w.state.assignee == self.email
    }

    /// Whether the actor may see a workflow at all.
    pub fn can_view(&self, w: &WorkflowRecord) -> bool {
        self.is_assignee(w)
            || match self.role {
                Role::Admin => true,
                Role::DepartmentHead | Role::Viewer => self.in_department(&w.department),
                Role::Approver => false,
            }
    }

    /// Whether the actor may perform `action` on a workflow it can see.
    pub fn can_act(&self, w: &WorkflowRecord, action: Action) -> bool {
        match self.role {
            Role::Admin => true,
            Role::DepartmentHead if self.in_department(&w.department) => true,
            _ => self.is_assignee(w) && matches!(action, Action::Complete | Action::Advance),
        }
    }

    /// Whether the actor may hand a workflow of `department` to `to`: admins anyone,
    /// everyone else people of that department only.
    pub fn may_assign(&self, department: &str, to: &User) -> EngineResult<()> {
        if self.is_admin() || to.department.as_ref().is_some_and(|d| d.as_str() == department) {
            Ok(())
        } else {
            Err(EngineError::Forbidden(format!(
                "only admins assign outside the workflow's department ({department})"
            )))
        }
    }

    /// Whether the actor may record absences and a delegate for `email`, and read them:
    /// people for themselves, admins for anyone.
    pub fn may_manage_availability(&self, email: &str) -> EngineResult<()> {
        if self.is_admin() || self.email == email {
            Ok(())
        } else {
            Err(EngineError::Forbidden(
                "only admins manage other people's absences and delegates".into(),
            ))
        }
    }

    /// Whether the actor may put a workflow under another SLA policy: admins and the
    /// workflow's department head.
    pub fn may_change_policy(&self, w: &WorkflowRecord) -> EngineResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            Role::DepartmentHead if self.in_department(&w.department) => Ok(()),
            _ => Err(EngineError::Forbidden(
                "only admins and the workflow's department head change its SLA policy".into(),
            )),
        }
    }

    /// What the actor may see of a person: `None` for nothing, else the record, with the
    /// phone number left out unless the actor is an admin or the person.
    pub fn sees_person(&self, user: &User) -> Option<User> {
        let own = user.email.as_str() == self.email;
        let colleague = user.department.as_ref().is_some_and(|d| self.in_department(d.as_str()));
        match (self.is_admin() || own, colleague) {
            (true, _) => Some(user.clone()),
            (false, true) => Some(User {
                phone: None,
                ..user.clone()
            }),
            (false, false) => None,
        }
    }

    /// Fails with 403 unless the actor may read SLA policies, calendars and chains.
    pub fn require_rules_reader(&self) -> EngineResult<()> {
        match self.role {
            Role::Admin | Role::DepartmentHead => Ok(()),
            Role::Approver | Role::Viewer => Err(EngineError::Forbidden(
                "only admins and department heads read SLA policies, calendars and chains".into(),
            )),
        }
    }

    /// Narrows a listing to what the actor may see.
    pub fn scope(&self, filter: &mut WorkflowFilter) {
        match self.role {
            Role::Admin => {}
            Role::DepartmentHead | Role::Viewer => {
                let own = self.department.clone().unwrap_or_default();
                if filter.department.as_ref().is_some_and(|d| *d != own) {
                    // Another department: only what the chain routed to this person there.
                    if filter.assignee.as_ref().is_some_and(|a| *a != self.email) {
                        filter.limit = 0;
                    }
                    filter.assignee = Some(self.email.clone());
                } else {
                    filter.department = Some(own);
                    filter.or_assignee = Some(self.email.clone());
                }
            }
            Role::Approver => {
                if filter.assignee.as_ref().is_some_and(|a| *a != self.email) {
                    filter.limit = 0;
                }
                filter.assignee = Some(self.email.clone());
            }
        }
    }
}
