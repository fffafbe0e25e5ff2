//! The directory (admins): departments and users, creating and editing them, and setting
//! a user's password. The engine validates and audits every change.

use escalator_domain::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentView {
    pub key: String,
    pub name: String,
    pub head: Option<String>,
}

/// A user of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub department: Option<String>,
    pub manager: Option<String>,
    /// Mobile number for SMS (E.164).
    pub phone: Option<String>,
}

/// Everything on the directory page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryData {
    pub departments: Vec<DepartmentView>,
    pub users: Vec<UserView>,
    /// Whether the signed-in user may change departments and users (the page shows its editors).
    pub can_edit: bool,
}

#[cfg(feature = "ssr")]
fn blank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The departments and the users the signed-in user may see (the page edits them: admins).
#[server(prefix = "/ui/fn", endpoint = "admin_directory")]
pub async fn admin_directory() -> Result<DirectoryData, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let departments = escalator.departments(&actor).await?;
    let users = escalator.users(&actor).await?;
    Ok(DirectoryData {
        departments: departments
            .into_iter()
            .map(|d| DepartmentView {
                key: d.key.to_string(),
                name: d.name,
                head: d.head.map(|h| h.to_string()),
            })
            .collect(),
        users: users
            .into_iter()
            .map(|u| UserView {
                email: u.email.to_string(),
                name: u.name,
                role: u.role,
                department: u.department.map(|d| d.to_string()),
                manager: u.manager.map(|m| m.to_string()),
                phone: u.phone.map(|p| p.to_string()),
            })
            .collect(),
        can_edit: actor.require_admin().is_ok(),
    })
}

/// Creates or replaces department `key` (`head`: a user's e-mail, or blank for none).
#[server(prefix = "/ui/fn", endpoint = "put_department")]
pub async fn put_department(key: String, name: String, head: Option<String>) -> Result<DepartmentView, AppError> {
    use crate::ssr;
    use escalator_engine::directory::DepartmentInput;

    let actor = ssr::actor().await?;
    actor.require_admin()?;
    let input = DepartmentInput {
        name,
        head: blank(head),
    };
    let (department, _) = ssr::escalator()?.put_department(key.trim(), &input, &actor).await?;
    Ok(DepartmentView {
        key: department.key.to_string(),
        name: department.name,
        head: department.head.map(|h| h.to_string()),
    })
}

/// Creates or replaces user `email` (not their password). `role`: `admin`,
/// `department_head`, `approver` or `viewer`; blank department or manager: none.
#[server(prefix = "/ui/fn", endpoint = "put_user")]
pub async fn put_user(
    email: String,
    name: String,
    role: String,
    department: Option<String>,
    manager: Option<String>,
    phone: Option<String>,
) -> Result<UserView, AppError> {
    use crate::ssr;
    use escalator_engine::directory::UserInput;

    let actor = ssr::actor().await?;
    actor.require_admin()?;
    let input = UserInput {
        name,
        role,
        department: blank(department),
        manager: blank(manager),
        phone: blank(phone),
    };
    let (user, _) = ssr::escalator()?.put_user(email.trim(), &input, &actor).await?;
    Ok(UserView {
        email: user.email.to_string(),
        name: user.name,
        role: user.role,
        department: user.department.map(|d| d.to_string()),
        manager: user.manager.map(|m| m.to_string()),
        phone: user.phone.map(|p| p.to_string()),
    })
}

/// Sets user `email`'s password (admins only; audited as `password_set`, without the password).
#[server(prefix = "/ui/fn", endpoint = "set_password")]
pub async fn set_password(email: String, password: String) -> Result<(), AppError> {
    use crate::ssr;
    let actor = ssr::actor().await?;
    ssr::escalator()?.set_password_as(&email, &password, &actor).await?;
    Ok(())
}
