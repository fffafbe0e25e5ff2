//! Browser sessions and API tokens: records and rows.

use super::*;

/// A stored browser session: tower-sessions' record as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: String,
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

/// A stored API token (never the secret itself).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: i64,
    pub user: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: i64,
    user_email: String,
    name: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            id: r.id,
            user: r.user_email,
            name: r.name,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// The first use of a one-click link in a message (links act once).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkUse {
    /// SHA-256 of the link's token.
    pub token_hash: String,
    pub workflow_id: i64,
    pub recipient: String,
    pub action: String,
    pub used_at: DateTime<Utc>,
    /// What it did, in words; `None` while its action runs.
    pub outcome: Option<String>,
}
