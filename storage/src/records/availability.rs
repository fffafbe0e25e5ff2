//! Absences, standing delegates and deactivation: records and rows.

use super::*;

/// A stored absence.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsenceRecord {
    pub id: i64,
    pub user: String,
    #[serde(flatten)]
    pub absence: Absence,
    pub created_at: DateTime<Utc>,
    /// When the person's open work was handed on (the absence had started).
    pub handed_over_at: Option<DateTime<Utc>>,
}

/// A person's availability settings: their standing delegate and whether they are deactivated.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    /// Who takes their work while they are away (unless an absence names someone else).
    pub delegate: Option<String>,
    /// Since when they are deactivated: permanently away, signed out, tokens revoked.
    pub deactivated_at: Option<DateTime<Utc>>,
}

/// Who is away and whom their work goes to: what routing needs at one instant.
#[derive(Debug, Clone, Default)]
pub struct AwaySnapshot {
    /// Absences that have not ended, per person.
    pub absences: HashMap<String, Vec<Absence>>,
    /// Standing delegates.
    pub delegates: HashMap<String, String>,
    /// Deactivated people.
    pub deactivated: std::collections::HashSet<String>,
    /// When the absences whose people's work was not handed on yet begin.
    pub handover_due: Vec<DateTime<Utc>>,
}

impl AwaySnapshot {
    /// Whether `user` can take work at `at`, and if not, whom it goes to.
    pub fn presence(&self, user: &str, at: DateTime<Utc>) -> Presence<'_> {
        let standing = self.delegates.get(user).map(String::as_str);
        if self.deactivated.contains(user) {
            return Presence::Away {
                until: None,
                delegate: standing,
            };
        }
        match self
            .absences
            .get(user)
            .and_then(|list| list.iter().find(|a| a.covers(at)))
        {
            Some(absence) => Presence::Away {
                until: Some(absence.ends_at),
                delegate: absence.delegate.as_deref().or(standing),
            },
            None => Presence::Present,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AbsenceRow {
    id: i64,
    user_email: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    reason: Option<String>,
    delegate_email: Option<String>,
    created_at: DateTime<Utc>,
    handed_over_at: Option<DateTime<Utc>>,
}

impl From<AbsenceRow> for AbsenceRecord {
    fn from(r: AbsenceRow) -> Self {
        AbsenceRecord {
            id: r.id,
            user: r.user_email,
            absence: Absence {
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                reason: r.reason,
                delegate: r.delegate_email,
            },
            created_at: r.created_at,
            handed_over_at: r.handed_over_at,
        }
    }
}
