//! Groups a chain level can target ("Finance approvers"): admins define them (members,
//! first-present, round-robin or an on-call rotation with overrides); admins and
//! department heads read them, like chains.

use escalator_domain::{group::validate_key, Group, ValidationError};
use escalator_storage::NewAudit;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Actor;
use crate::{EngineError, EngineResult, Escalator};

/// A group with its key.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupRecord {
    pub key: String,
    #[serde(flatten)]
    pub group: Group,
}

impl Escalator {
    /// Creates or replaces a group (admins); every member must be a user. Audited.
    /// Returns the group and whether it was created.
    pub async fn put_group(&self, key: &str, group: &Group, actor: &Actor) -> EngineResult<(GroupRecord, bool)> {
        actor.require_admin()?;
        validate_key(key)?;
        group.validate()?;
        for (i, member) in group.members.iter().enumerate() {
            if self.store.user(member.as_str()).await?.is_none() {
                return Err(ValidationError::new(
                    format!("members[{i}]"),
                    format!("{member} is not a user in the directory"),
                )
                .into());
            }
        }
        for (i, o) in group.overrides.iter().enumerate() {
            if self.store.user(o.person.as_str()).await?.is_none() {
                return Err(ValidationError::new(
                    format!("overrides[{i}].person"),
                    format!("{} is not a user in the directory", o.person),
                )
                .into());
            }
        }
        let created = self.store.upsert_group(key, group, self.now()).await?;
        let entry = NewAudit {
            actor: actor.email.clone(),
            action: if created { "group_created" } else { "group_updated" }.into(),
            workflow_id: None,
            details: json!({ "key": key, "group": group }),
            at: self.now(),
        };
        self.store.append_audit(&entry).await?;
        Ok((
            GroupRecord {
                key: key.to_string(),
                group: group.clone(),
            },
            created,
        ))
    }

    /// Every group (admins and department heads).
    pub async fn groups(&self, actor: &Actor) -> EngineResult<Vec<GroupRecord>> {
        actor.require_rules_reader()?;
        Ok(self
            .store
            .groups()
            .await?
            .into_iter()
            .map(|(key, group)| GroupRecord { key, group })
            .collect())
    }

    /// One group (admins and department heads).
    pub async fn group(&self, key: &str, actor: &Actor) -> EngineResult<GroupRecord> {
        actor.require_rules_reader()?;
        let group = self
            .store
            .group(key)
            .await?
            .ok_or_else(|| EngineError::not_found("group", key))?;
        Ok(GroupRecord {
            key: key.to_string(),
            group,
        })
    }
}
