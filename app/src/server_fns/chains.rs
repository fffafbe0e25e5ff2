//! Escalation chains (admins): the list with their levels, and saving one (create or
//! replace, audited by the engine). Saving takes JSON, since a chain is a list of levels.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One level of a chain, as the editor holds and sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LevelDraft {
    /// `department_head`, `manager_of` or `user`.
    pub target: String,
    /// The user's e-mail, for a `user` target.
    #[serde(default)]
    pub email: String,
    /// The time limit: whole hours …
    #[serde(default)]
    pub hours: String,
    /// … plus minutes.
    #[serde(default)]
    pub minutes: String,
}

impl LevelDraft {
    /// The draft of a stored level.
    pub fn of(level: &LevelView) -> Self {
        let s = level.time_limit_seconds.max(0);
        Self {
            target: level.target.clone(),
            email: level.email.clone(),
            hours: (s / 3600).to_string(),
            minutes: (s % 3600 / 60).to_string(),
        }
    }
}

/// A stored level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelView {
    /// `department_head`, `manager_of` or `user`.
    pub target: String,
    /// The user's e-mail for a `user` target, else empty.
    pub email: String,
    pub time_limit_seconds: i64,
}

impl LevelView {
    /// Whom the level escalates to, for people.
    pub fn describe(&self, people: &crate::model::People) -> String {
        match self.target.as_str() {
            "department_head" => "Head of the workflow's department".into(),
            "manager_of" => "Manager of the current assignee".into(),
            "group" => format!("Group {}", self.email),
            _ => people.name(&self.email),
        }
    }
}

/// A stored escalation chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainView {
    pub id: i64,
    pub name: String,
    pub levels: Vec<LevelView>,
}

/// Everything on the chains page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainsData {
    pub chains: Vec<ChainView>,
    /// The directory's users, to name `user` targets and suggest them.
    pub people: crate::model::People,
    /// Whether the signed-in user may change chains (the page shows its editor).
    pub can_edit: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use escalator_domain::{Email, Level, Target};
    use escalator_storage::ChainRecord;

    use super::{ChainView, LevelDraft, LevelView};
    use crate::error::AppError;
    use crate::ssr;

    pub fn chain(record: &ChainRecord) -> ChainView {
        ChainView {
            id: record.id,
            name: record.chain.name.clone(),
            levels: record
                .chain
                .levels
                .iter()
                .map(|level| {
                    let (target, email) = match &level.target {
                        Target::DepartmentHead => ("department_head", String::new()),
                        Target::ManagerOf => ("manager_of", String::new()),
                        Target::User { email } => ("user", email.to_string()),
                        Target::Group { group } => ("group", group.clone()),
                    };
                    LevelView {
                        target: target.into(),
                        email,
                        time_limit_seconds: level.time_limit_seconds,
                    }
                })
                .collect(),
        }
    }

    fn number(raw: &str) -> Option<i64> {
        let raw = raw.trim();
        if raw.is_empty() {
            Some(0)
        } else {
            raw.parse().ok()
        }
    }

    /// The engine's level from a draft; the engine validates the rest (limits, users).
    pub fn level(i: usize, draft: &LevelDraft) -> Result<Level, AppError> {
        let invalid =
            |field: &str, message: &str| ssr::fail(AppError::invalid(&format!("levels[{i}].{field}"), message));
        let target = match draft.target.as_str() {
            "department_head" => Target::DepartmentHead,
            "manager_of" => Target::ManagerOf,
            "user" => Target::User {
                email: Email::parse(&draft.email).map_err(|e| invalid("target.email", &e.message))?,
            },
            "group" => Target::Group {
                group: draft.email.trim().to_string(),
            },
            _ => return Err(invalid("target", "choose whom the level escalates to")),
        };
        let (Some(hours), Some(minutes)) = (number(&draft.hours), number(&draft.minutes)) else {
            return Err(invalid("time_limit_seconds", "hours and minutes must be whole numbers"));
        };
        let time_limit_seconds = hours
            .checked_mul(3600)
            .and_then(|h| minutes.checked_mul(60).and_then(|m| h.checked_add(m)))
            .ok_or_else(|| invalid("time_limit_seconds", "is too long"))?;
        Ok(Level {
            target,
            time_limit_seconds,
        })
    }
}

/// All escalation chains, with the users a level may name (admins and department heads
/// read them; admins edit them).
#[server(prefix = "/ui/fn", endpoint = "admin_chains")]
pub async fn admin_chains() -> Result<ChainsData, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let chains = escalator.chains(&actor).await?;
    let users = escalator.users(&actor).await?;
    Ok(ChainsData {
        chains: chains.iter().map(convert::chain).collect(),
        people: users.into_iter().map(|u| (u.email.to_string(), u.name)).collect(),
        can_edit: actor.require_admin().is_ok(),
    })
}

/// Creates a chain (no `id`) or replaces chain `id`; the engine validates and audits it.
#[server(prefix = "/ui/fn", endpoint = "save_chain", input = Json)]
pub async fn save_chain(id: Option<i64>, name: String, levels: Vec<LevelDraft>) -> Result<ChainView, AppError> {
    use crate::ssr;
    use escalator_engine::directory::ChainInput;

    let actor = ssr::actor().await?;
    // Refuse before looking at the input, so a non-admin learns nothing from validation.
    actor.require_admin()?;
    let input = ChainInput {
        name,
        levels: levels
            .iter()
            .enumerate()
            .map(|(i, draft)| convert::level(i, draft))
            .collect::<Result<_, _>>()?,
    };
    let escalator = ssr::escalator()?;
    let record = match id {
        Some(id) => escalator.update_chain(id, &input, &actor).await?,
        None => escalator.create_chain(&input, &actor).await?,
    };
    Ok(convert::chain(&record))
}
