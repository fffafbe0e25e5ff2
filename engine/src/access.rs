//! Who may see and do what. One set of rules for the REST API and the UI's server
//! functions: admins everything; department heads their department's workflows;
//! approvers the workflows assigned to them; viewers their department's, read-only.

use escalator_domain::{Action, Role, User};
use escalator_storage::{WorkflowFilter, WorkflowRecord};

use crate::{EngineError, EngineResult};

/// The authenticated caller of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub email: String,
    pub role: Role,
    pub department: Option<String>,
}

impl From<&User> for Actor {
    fn from(user: &User) -> Self {
        Self {
            email: user.email.to_string(),
            role: user.role,
            department: user.department.as_ref().map(ToString::to_string),
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

    /// Whether the actor may see a workflow at all.
    pub fn can_view(&self, w: &WorkflowRecord) -> bool {
        match self.role {
            Role::Admin => true,
            Role::DepartmentHead | Role::Viewer => self.in_department(&w.department),
            Role::Approver => w.state.assignee == self.email,
        }
    }

    /// Whether the actor may perform `action` on a workflow it can see.
    pub fn can_act(&self, w: &WorkflowRecord, action: Action) -> bool {
        match self.role {
            Role::Admin => true,
            Role::DepartmentHead => self.in_department(&w.department),
            Role::Approver => w.state.assignee == self.email && matches!(action, Action::Complete | Action::Advance),
            Role::Viewer => false,
        }
    }

    /// Narrows a listing to what the actor may see.
    pub fn scope(&self, filter: &mut WorkflowFilter) {
        match self.role {
            Role::Admin => {}
            Role::DepartmentHead | Role::Viewer => {
                // Asking for another department yields nothing rather than an error.
                let own = self.department.clone().unwrap_or_default();
                if filter.department.as_ref().is_some_and(|d| *d != own) {
                    filter.limit = 0;
                }
                filter.department = Some(own);
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
