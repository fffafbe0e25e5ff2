//! Demo data: a small organisation with workflows started 1 h, 23 h and 48 h ago, so that
//! the first tick reminds one and escalates others. Loading twice changes nothing.

use chrono::TimeDelta;
use escalator_domain::{
    Department, DepartmentKey, Email, EscalationChain, Level, Role, SlaPolicy, Target, User, ValidationError,
    WarningWindow,
};
use serde::Serialize;

use crate::access::Actor;
use crate::workflows::CreateWorkflow;
use crate::{EngineError, EngineResult, Escalator};

/// What `escalator demo` loaded.
#[derive(Debug, Default, Serialize)]
pub struct DemoSummary {
    pub departments: usize,
    pub users: usize,
    pub workflows_created: usize,
    pub workflows_existing: usize,
}

/// The password of every demo user (only set where a user has none yet).
pub const DEMO_PASSWORD: &str = "escalator-demo";

const DEPARTMENTS: &[(&str, &str, &str)] = &[
    ("finance", "Finance", "dana.head@acme.example"),
    ("hr", "Human Resources", "harriet.head@acme.example"),
    ("engineering", "Engineering", "eve.head@acme.example"),
];

/// (email, name, role, department, manager)
type DemoUser = (
    &'static str,
    &'static str,
    Role,
    Option<&'static str>,
    Option<&'static str>,
);

const USERS: &[DemoUser] = &[
    ("admin@acme.example", "Ada Admin", Role::Admin, None, None),
    ("olivia.coo@acme.example", "Olivia Operations", Role::Admin, None, None),
    (
        "dana.head@acme.example",
        "Dana Finance-Head",
        Role::DepartmentHead,
        Some("finance"),
        Some("olivia.coo@acme.example"),
    ),
    (
        "mike.manager@acme.example",
        "Mike Manager",
        Role::Approver,
        Some("finance"),
        Some("dana.head@acme.example"),
    ),
    (
        "alice@acme.example",
        "Alice Approver",
        Role::Approver,
        Some("finance"),
        Some("mike.manager@acme.example"),
    ),
    (
        "ivan@acme.example",
        "Ivan Initiator",
        Role::Viewer,
        Some("finance"),
        Some("mike.manager@acme.example"),
    ),
    (
        "harriet.head@acme.example",
        "Harriet HR-Head",
        Role::DepartmentHead,
        Some("hr"),
        Some("olivia.coo@acme.example"),
    ),
    (
        "hank@acme.example",
        "Hank HR",
        Role::Approver,
        Some("hr"),
        Some("harriet.head@acme.example"),
    ),
    (
        "eve.head@acme.example",
        "Eve Engineering-Head",
        Role::DepartmentHead,
        Some("engineering"),
        Some("olivia.coo@acme.example"),
    ),
    (
        "ed@acme.example",
        "Ed Engineer",
        Role::Approver,
        Some("engineering"),
        Some("eve.head@acme.example"),
    ),
];

/// (external id, type, title, department, initiator, assignee, hours ago)
const WORKFLOWS: &[(&str, &str, &str, &str, &str, &str, i64)] = &[
    (
        "PO-1001",
        "purchase",
        "Laptop for new hire",
        "finance",
        "ivan@acme.example",
        "alice@acme.example",
        1,
    ),
    (
        "PO-1002",
        "purchase",
        "Conference travel",
        "finance",
        "ivan@acme.example",
        "alice@acme.example",
        23,
    ),
    (
        "PO-1003",
        "purchase",
        "Office furniture",
        "finance",
        "ivan@acme.example",
        "mike.manager@acme.example",
        48,
    ),
    (
        "LV-2001",
        "leave",
        "Parental leave request",
        "hr",
        "ed@acme.example",
        "hank@acme.example",
        30,
    ),
    (
        "LV-2002",
        "leave",
        "Two days off",
        "hr",
        "alice@acme.example",
        "hank@acme.example",
        5,
    ),
    (
        "CT-3001",
        "contract",
        "Cloud vendor contract",
        "engineering",
        "ed@acme.example",
        "eve.head@acme.example",
        12,
    ),
    (
        "CT-3002",
        "contract",
        "Support contract renewal",
        "engineering",
        "ed@acme.example",
        "ed@acme.example",
        22,
    ),
];

fn email(raw: &str) -> Result<Email, ValidationError> {
    Email::parse(raw)
}

impl Escalator {
    /// Loads the demo organisation, its policy and chain, and its workflows.
    pub async fn load_demo(&self) -> EngineResult<DemoSummary> {
        let now = self.now();
        let store = &self.store;
        let mut summary = DemoSummary::default();
        for (key, name, _) in DEPARTMENTS {
            // Heads are set after the users exist; a department may not point at nobody.
            let existing = store.department(key).await?;
            let head = existing.and_then(|d| d.head);
            store
                .upsert_department(
                    &Department {
                        key: DepartmentKey::parse(key)?,
                        name: (*name).into(),
                        head,
                    },
                    now,
                )
                .await?;
            summary.departments += 1;
        }
        // One hash for all: every demo user signs in with the same documented password.
        let password_hash = crate::auth::hash_password(DEMO_PASSWORD)?;
        for (address, name, role, department, manager) in USERS {
            let user = User {
                email: email(address)?,
                name: (*name).into(),
                role: *role,
                department: department.map(DepartmentKey::parse).transpose()?,
                manager: manager.map(email).transpose()?,
                phone: None,
            };
            store.upsert_user(&user, now).await?;
            if store.password_hash(address).await?.is_none() {
                store.set_password_hash(address, &password_hash, now).await?;
            }
            summary.users += 1;
        }
        for (key, name, head) in DEPARTMENTS {
            store
                .upsert_department(
                    &Department {
                        key: DepartmentKey::parse(key)?,
                        name: (*name).into(),
                        head: Some(email(head)?),
                    },
                    now,
                )
                .await?;
        }

        let policy_name = "Standard approval (24 h, warn 2 h before)";
        let policy = match store
            .policies()
            .await?
            .into_iter()
            .find(|p| p.policy.name == policy_name)
        {
            Some(p) => p,
            None => {
                let p = SlaPolicy::new(
                    policy_name,
                    24 * 3600,
                    WarningWindow::BeforeDeadline { seconds: 2 * 3600 },
                )?;
                store.create_policy(&p, None, now).await?
            }
        };
        let chain_name = "Department head, then COO";
        let chain = match store.chains().await?.into_iter().find(|c| c.chain.name == chain_name) {
            Some(c) => c,
            None => {
                let c = EscalationChain::new(
                    chain_name,
                    vec![
                        Level {
                            target: Target::DepartmentHead,
                            time_limit_seconds: 8 * 3600,
                        },
                        Level {
                            target: Target::User {
                                email: email("olivia.coo@acme.example")?,
                            },
                            time_limit_seconds: 8 * 3600,
                        },
                    ],
                )?;
                store.create_chain(&c, now).await?
            }
        };

        for (external_id, kind, title, department, initiator, assignee, hours) in WORKFLOWS {
            let input = CreateWorkflow {
                external_id: (*external_id).into(),
                workflow_type: (*kind).into(),
                title: (*title).into(),
                stage: "Manager Approval".into(),
                department: (*department).into(),
                initiator: (*initiator).into(),
                assignee: (*assignee).into(),
                policy_id: policy.id,
                chain_id: chain.id,
                started_at: Some(now - TimeDelta::hours(*hours)),
            };
            match self.create_workflow(&input, &Actor::internal("demo"), None).await {
                Ok(_) => summary.workflows_created += 1,
                Err(EngineError::Conflict(_)) => summary.workflows_existing += 1,
                Err(other) => return Err(other),
            }
        }
        Ok(summary)
    }
}
