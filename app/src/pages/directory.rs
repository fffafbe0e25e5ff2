//! Users and departments (admins): both lists, a form for a department and one for a user
//! (new, or the one named by `?department=<key>` / `?user=<email>`), and setting a user's
//! password. Plain forms: they work without JavaScript.

use escalator_domain::Role;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{ErrorNote, Person};
use crate::model::{role_label, People};
use crate::server_fns::directory::{
    admin_directory, DepartmentView, DirectoryData, PutDepartment, PutUser, SetPassword, UserView,
};
use crate::server_fns::session::urlencode;

#[derive(Clone, Copy)]
struct Actions {
    department: ServerAction<PutDepartment>,
    user: ServerAction<PutUser>,
    password: ServerAction<SetPassword>,
}

/// The directory page.
#[component]
pub fn Page() -> impl IntoView {
    let actions = Actions {
        department: ServerAction::<PutDepartment>::new(),
        user: ServerAction::<PutUser>::new(),
        password: ServerAction::<SetPassword>::new(),
    };
    // Reload after successful saves only: a rejected one keeps the form as typed.
    let reload = RwSignal::new(0u32);
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(d)) = actions.department.value().get() {
            message.set(Some(format!("Saved department {} ({}).", d.name, d.key)));
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(u)) = actions.user.value().get() {
            message.set(Some(format!("Saved user {}.", u.email)));
            reload.update(|n| *n += 1);
        }
    });
    let data = Resource::new(move || reload.get(), |_| admin_directory());
    view! {
        <h1>"Users and departments"</h1>
        {move || message.get().map(|m| view! { <p class="notice" role="status" data-testid="directory-saved">{m}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <Directory data actions/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Directory(data: DirectoryData, actions: Actions) -> impl IntoView {
    let query = use_query_map();
    let DirectoryData {
        departments,
        users,
        can_edit,
    } = data;
    let people: People = users.iter().map(|u| (u.email.clone(), u.name.clone())).collect();
    let department_names: People = departments.iter().map(|d| (d.key.clone(), d.name.clone())).collect();
    let person = {
        let people = people.clone();
        move |email: Option<String>| match email {
            Some(email) => view! { <Person name=people.name(&email) email/> }.into_any(),
            None => "—".into_any(),
        }
    };
    let keys: Vec<String> = departments.iter().map(|d| d.key.clone()).collect();
    let department_editor = {
        let departments = departments.clone();
        move || {
            let key = query.read().get("department");
            let department = key.and_then(|k| departments.iter().find(|d| d.key == k).cloned());
            view! { <DepartmentEditor department action=actions.department/> }
        }
    };
    let user_editor = {
        let users = users.clone();
        let keys = keys.clone();
        move || {
            let email = query.read().get("user");
            let user = email.and_then(|e| users.iter().find(|u| u.email == e).cloned());
            view! { <UserEditor user departments=keys.clone() actions/> }
        }
    };
    view! {
        <datalist id="directory-users">
            {people.options().into_iter().map(|(email, name)| view! { <option value=email>{name}</option> }).collect_view()}
        </datalist>
        <section aria-labelledby="departments-h" class="stack">
            <h2 id="departments-h">"Departments"</h2>
            {can_edit.then(|| view! {
                <p><a href="/directory#department-editor" data-testid="new-department">"New department"</a></p>
            })}
            <div class="table-wrap">
                <table data-testid="departments">
                    <thead><tr>
                        <th scope="col">"Key"</th><th scope="col">"Name"</th><th scope="col">"Head"</th>
                        <th scope="col"><span class="sr-only">"Edit"</span></th>
                    </tr></thead>
                    <tbody>
                        {departments.iter().map(|d| view! {
                            <tr data-testid=format!("department-{}", d.key)>
                                <td><code>{d.key.clone()}</code></td>
                                <td>{d.name.clone()}</td>
                                <td>{person(d.head.clone())}</td>
                                <td>{can_edit.then(|| view! {
                                    <a href=format!("/directory?department={}#department-editor", urlencode(&d.key))
                                        data-testid="edit-department">"Edit"</a>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {departments.is_empty().then(|| view! { <p class="empty">"No departments yet."</p> })}
            {can_edit.then_some(department_editor)}
        </section>
        <section aria-labelledby="users-h" class="stack">
            <h2 id="users-h">"Users"</h2>
            {can_edit.then(|| view! {
                <p><a href="/directory#user-editor" data-testid="new-user">"New user"</a></p>
            })}
            <div class="table-wrap">
                <table data-testid="users">
                    <thead><tr>
                        <th scope="col">"E-mail"</th><th scope="col">"Name"</th><th scope="col">"Role"</th>
                        <th scope="col">"Department"</th><th scope="col">"Manager"</th>
                        <th scope="col"><span class="sr-only">"Edit"</span></th>
                    </tr></thead>
                    <tbody>
                        {users.iter().map(|u| view! {
                            <tr data-testid=format!("user-{}", u.email)>
                                <td>{u.email.clone()}</td>
                                <td>{u.name.clone()}</td>
                                <td>{role_label(u.role)}</td>
                                <td>{u.department.as_deref().map_or_else(|| "—".to_string(), |k| department_names.name(k))}</td>
                                <td>{person(u.manager.clone())}</td>
                                <td>{can_edit.then(|| view! {
                                    <a href=format!("/directory?user={}#user-editor", urlencode(&u.email))
                                        data-testid="edit-user">"Edit"</a>
                                    " · "
                                    <a href=format!("/settings?user={}", urlencode(&u.email))
                                        data-testid="user-availability">"Absences"</a>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {can_edit.then_some(user_editor)}
        </section>
    }
}

#[component]
fn DepartmentEditor(department: Option<DepartmentView>, action: ServerAction<PutDepartment>) -> impl IntoView {
    let editing = department.is_some();
    let title = department
        .as_ref()
        .map_or_else(|| "New department".to_string(), |d| format!("Edit “{}”", d.name));
    let (key, name, head) = department
        .map(|d| (d.key, d.name, d.head.unwrap_or_default()))
        .unwrap_or_default();
    let field_error = move |field: &'static str| {
        move || {
            action
                .value()
                .get()
                .and_then(Result::err)
                .and_then(|e| e.for_field(field))
        }
    };
    let general_error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| !matches!(e.field.as_deref(), Some("key" | "name" | "head")))
    };
    view! {
        <section class="card" id="department-editor" aria-labelledby="department-editor-h" data-testid="department-editor">
            <h3 id="department-editor-h">{title}</h3>
            <ActionForm action attr:class="stack">
                {move || general_error().map(|error| view! { <ErrorNote error/> })}
                <div class="field">
                    <label for="department-key">"Key"</label>
                    <input id="department-key" name="key" required value=key readonly=editing
                        pattern="[a-z0-9_\\-]+" aria-describedby="department-key-help" data-testid="department-key"/>
                    <span id="department-key-help" class="muted small">"Lower-case letters, digits, - and _; cannot change later."</span>
                    <span class="field-error" role="alert">{field_error("key")}</span>
                </div>
                <div class="field">
                    <label for="department-name">"Name"</label>
                    <input id="department-name" name="name" required value=name data-testid="department-name"/>
                    <span class="field-error" role="alert">{field_error("name")}</span>
                </div>
                <div class="field">
                    <label for="department-head">"Head (e-mail, optional)"</label>
                    <input id="department-head" name="head" type="email" list="directory-users" value=head
                        data-testid="department-head"/>
                    <span class="field-error" role="alert">{field_error("head")}</span>
                </div>
                <button type="submit" data-testid="save-department">
                    {if editing { "Save department" } else { "Create department" }}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn UserEditor(user: Option<UserView>, departments: Vec<String>, actions: Actions) -> impl IntoView {
    let editing = user.is_some();
    let title = user
        .as_ref()
        .map_or_else(|| "New user".to_string(), |u| format!("Edit {}", u.email));
    let email = user.as_ref().map(|u| u.email.clone()).unwrap_or_default();
    let name = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let role = user.as_ref().map_or(Role::Approver, |u| u.role);
    let department = user.as_ref().and_then(|u| u.department.clone()).unwrap_or_default();
    let manager = user.as_ref().and_then(|u| u.manager.clone()).unwrap_or_default();
    let phone = user.as_ref().and_then(|u| u.phone.clone()).unwrap_or_default();
    let action = actions.user;
    let field_error = move |field: &'static str| {
        move || {
            action
                .value()
                .get()
                .and_then(Result::err)
                .and_then(|e| e.for_field(field))
        }
    };
    let general_error = move || {
        action.value().get().and_then(Result::err).filter(|e| {
            !matches!(
                e.field.as_deref(),
                Some("email" | "name" | "role" | "department" | "manager" | "phone")
            )
        })
    };
    let password = actions.password;
    let password_error = move |field: &'static str| {
        move || {
            password
                .value()
                .get()
                .and_then(Result::err)
                .and_then(|e| e.for_field(field))
        }
    };
    let password_general = move || {
        password
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| e.field.as_deref() != Some("password"))
    };
    let password_email = email.clone();
    view! {
        <section class="card" id="user-editor" aria-labelledby="user-editor-h" data-testid="user-editor">
            <h3 id="user-editor-h">{title}</h3>
            <ActionForm action attr:class="stack">
                {move || general_error().map(|error| view! { <ErrorNote error/> })}
                <div class="field">
                    <label for="user-email">"E-mail"</label>
                    <input id="user-email" name="email" type="email" required value=email readonly=editing
                        data-testid="user-email"/>
                    <span class="field-error" role="alert">{field_error("email")}</span>
                </div>
                <div class="field">
                    <label for="user-name">"Name"</label>
                    <input id="user-name" name="name" required value=name data-testid="user-name"/>
                    <span class="field-error" role="alert">{field_error("name")}</span>
                </div>
                <div class="field">
                    <label for="user-role">"Role"</label>
                    <select id="user-role" name="role" data-testid="user-role">
                        {Role::ALL.iter().map(|r| view! {
                            <option value=r.as_str() selected={*r == role}>{role_label(*r)}</option>
                        }).collect_view()}
                    </select>
                    <span class="field-error" role="alert">{field_error("role")}</span>
                </div>
                <div class="field">
                    <label for="user-department">"Department"</label>
                    <select id="user-department" name="department" data-testid="user-department">
                        <option value="" selected=department.is_empty()>"(none)"</option>
                        {departments.into_iter().map(|k| {
                            let selected = k == department;
                            let label = k.clone();
                            view! { <option value=k selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                    <span class="field-error" role="alert">{field_error("department")}</span>
                </div>
                <div class="field">
                    <label for="user-manager">"Manager (e-mail, optional)"</label>
                    <input id="user-manager" name="manager" type="email" list="directory-users" value=manager
                        data-testid="user-manager"/>
                    <span class="field-error" role="alert">{field_error("manager")}</span>
                </div>
                <div class="field">
                    <label for="user-phone">"Mobile for SMS (optional, e.g. +4915112345678)"</label>
                    <input id="user-phone" name="phone" type="tel" value=phone data-testid="user-phone"/>
                    <span class="field-error" role="alert">{field_error("phone")}</span>
                </div>
                <button type="submit" data-testid="save-user">{if editing { "Save user" } else { "Create user" }}</button>
            </ActionForm>
            {editing.then(|| view! {
                <ActionForm action=password attr:class="stack password-form">
                    <h4>"Set password"</h4>
                    <input type="hidden" name="email" value=password_email.clone()/>
                    {move || password_general().map(|error| view! { <ErrorNote error/> })}
                    <div class="field">
                        <label for="user-password">"New password (at least 8 characters)"</label>
                        <input id="user-password" name="password" type="password" autocomplete="new-password"
                            required minlength="8" data-testid="user-password"/>
                        <span class="field-error" role="alert">{password_error("password")}</span>
                    </div>
                    <button type="submit" data-testid="set-password">"Set password"</button>
                    {move || matches!(password.value().get(), Some(Ok(()))).then(|| view! {
                        <p class="notice" role="status" data-testid="password-set">"Password set."</p>
                    })}
                </ActionForm>
            })}
        </section>
    }
}
