//! What the store reads and writes, one file per storage role: records (rows with ids
//! and timestamps), new rows, changes, filters. Row structs mirror the tables (sqlx's
//! `FromRow`); their conversions validate into the domain and report a corrupt row.

mod access;
mod availability;
mod directory;
mod inbox;
mod outbox;
mod outcomes;
mod rules;
mod workflows;

pub use access::*;
pub use availability::*;
pub use directory::*;
pub use inbox::*;
pub use outbox::*;
pub use outcomes::*;
pub use rules::*;
pub use workflows::*;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use escalator_domain::{
    Absence, Calendar, Department, DepartmentKey, Directory, Email, EscalationChain, Group, Level,
    NotificationPreferences, Phone, Presence, Role, SlaPolicy, SlaStatus, User, WarningWindow, WorkflowState,
    WorkflowStatus,
};
use serde::{Deserialize, Serialize};

use crate::StoreError;

fn corrupt(table: &'static str, message: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.to_string(),
    }
}

/// Converts rows into records, failing on the first corrupt one.
pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}
