//! In-app notifications and how to reach a person: records and rows.

use super::*;

/// An in-app notification to store.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user: String,
    pub outbox_id: i64,
    pub workflow_id: Option<i64>,
    pub topic: String,
    pub title: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// How to reach a user: their phone and notification preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub email: String,
    pub name: String,
    pub phone: Option<Phone>,
    pub preferences: NotificationPreferences,
    /// Their standing delegate, offered as a one-click hand-over in their messages.
    pub delegate: Option<String>,
}

/// A stored in-app notification.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub user: String,
    pub workflow_id: Option<i64>,
    pub topic: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: i64,
    user_email: String,
    workflow_id: Option<i64>,
    topic: String,
    title: String,
    body: String,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = StoreError;
    fn try_from(r: NotificationRow) -> Result<Self, StoreError> {
        Ok(Notification {
            id: r.id,
            user: r.user_email,
            workflow_id: r.workflow_id,
            topic: r.topic,
            title: r.title,
            body: r.body,
            created_at: r.created_at,
            read_at: r.read_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    email: String,
    name: String,
    phone: Option<String>,
    notification_preferences: Option<String>,
    delegate_email: Option<String>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> Result<Self, StoreError> {
        Ok(Contact {
            phone: r
                .phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .map_err(|e| corrupt("users", e))?,
            preferences: match r.notification_preferences {
                Some(json) => serde_json::from_str(&json).map_err(|e| corrupt("users", e))?,
                None => NotificationPreferences::default(),
            },
            email: r.email,
            name: r.name,
            delegate: r.delegate_email,
        })
    }
}
