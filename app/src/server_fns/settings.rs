//! A person's availability: absences, standing delegate, and (admins) deactivation. The
//! engine decides who may change whose (themselves, or admins for anyone).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SettingsData;

/// The settings page of `user` (blank: the signed-in user's own).
#[server(prefix = "/ui/fn", endpoint = "settings")]
pub async fn settings(user: Option<String>) -> Result<SettingsData, AppError> {
    use crate::model::AbsenceRow;
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let email = user
        .map(|u| u.trim().to_lowercase())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| actor.email.clone());
    let view = escalator.availability(&email, &actor).await?;
    let person = escalator.user(&email, &actor).await?;
    let time_zone = escalator.preferences(&actor, &email).await?.zone().name().to_string();
    let mut people: Vec<(String, String)> = escalator
        .users(&actor)
        .await?
        .into_iter()
        .filter(|u| u.email.as_str() != email)
        .map(|u| (u.email.to_string(), u.name))
        .collect();
    people.sort();
    Ok(SettingsData {
        own: email == actor.email,
        admin: actor.is_admin(),
        email,
        name: person.name,
        delegate: view.availability.delegate,
        deactivated_at: view.availability.deactivated_at,
        away_now: view.away_now,
        time_zone,
        absences: view
            .absences
            .into_iter()
            .map(|a| AbsenceRow {
                id: a.id,
                starts_at: a.absence.starts_at,
                ends_at: a.absence.ends_at,
                reason: a.absence.reason,
                delegate: a.absence.delegate,
                handed_over: a.handed_over_at.is_some(),
            })
            .collect(),
        people,
    })
}

/// Records an absence of `user`: dates (the last day included) or local times in their zone.
#[server(prefix = "/ui/fn", endpoint = "add_absence")]
pub async fn add_absence(
    user: String,
    from: String,
    to: String,
    reason: Option<String>,
    delegate: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr;
    use escalator_engine::availability::AbsenceInput;

    let actor = ssr::actor().await?;
    let input = AbsenceInput {
        from,
        to,
        reason,
        delegate: delegate.filter(|d| !d.trim().is_empty()),
    };
    ssr::escalator()?.add_absence(&user, &input, &actor).await?;
    Ok(())
}

/// Imports the absences of an iCalendar file for `user`; how many were added.
#[server(prefix = "/ui/fn", endpoint = "import_absences")]
pub async fn import_absences(user: String, ics: String) -> Result<usize, AppError> {
    use crate::ssr;
    let actor = ssr::actor().await?;
    Ok(ssr::escalator()?.import_absences(&user, &ics, &actor).await?.len())
}

/// Deletes an absence of `user`.
#[server(prefix = "/ui/fn", endpoint = "remove_absence")]
pub async fn remove_absence(user: String, id: i64) -> Result<(), AppError> {
    use crate::ssr;
    let actor = ssr::actor().await?;
    ssr::escalator()?.remove_absence(&user, id, &actor).await?;
    Ok(())
}

/// Sets (or, blank, clears) the standing delegate of `user`.
#[server(prefix = "/ui/fn", endpoint = "set_delegate")]
pub async fn set_delegate(user: String, delegate: Option<String>) -> Result<(), AppError> {
    use crate::ssr;
    let actor = ssr::actor().await?;
    ssr::escalator()?
        .set_delegate(&user, delegate.as_deref(), &actor)
        .await?;
    Ok(())
}

/// Deactivates (`active` false) or reactivates `user` (admins).
#[server(prefix = "/ui/fn", endpoint = "set_active")]
pub async fn set_active(user: String, active: bool) -> Result<(), AppError> {
    use crate::ssr;
    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    if active {
        escalator.reactivate_user(&user, &actor).await?;
    } else {
        escalator.deactivate_user(&user, &actor).await?;
    }
    Ok(())
}
