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
    let preferences = escalator.preferences(&actor, &email).await?;
    let time_zone = preferences.zone().name().to_string();
    let channels = escalator_domain::NotificationKind::ALL
        .into_iter()
        .map(|kind| {
            use escalator_domain::PersonalChannel;
            // Without a choice: e-mail and in-app (SMS costs money and is opt-in).
            let chosen = preferences.channels_for(kind);
            let has = |c: PersonalChannel| chosen.map_or(c != PersonalChannel::Sms, |list| list.contains(&c));
            crate::model::ChannelChoice {
                kind: kind.as_str().to_string(),
                label: kind.label().to_string(),
                email: has(PersonalChannel::Email),
                in_app: has(PersonalChannel::InApp),
                sms: has(PersonalChannel::Sms),
            }
        })
        .collect();
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
        phone: person.phone.map(|p| p.to_string()),
        quiet_start: preferences.quiet_hours.map(|q| q.start.format("%H:%M").to_string()),
        quiet_end: preferences.quiet_hours.map(|q| q.end.format("%H:%M").to_string()),
        zone_chosen: preferences.time_zone.is_some(),
        channels,
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

/// Saves `user`'s profile and notification settings: name, phone, time zone, quiet hours
/// and, per kind of message, the channels (checkboxes `<kind>_<channel>`).
#[server(prefix = "/ui/fn", endpoint = "save_profile")]
#[allow(clippy::too_many_arguments)] // one form: its fields are the arguments
pub async fn save_profile(
    user: String,
    name: String,
    phone: Option<String>,
    time_zone: Option<String>,
    quiet_start: Option<String>,
    quiet_end: Option<String>,
    reminder_email: Option<String>,
    reminder_in_app: Option<String>,
    reminder_sms: Option<String>,
    escalation_email: Option<String>,
    escalation_in_app: Option<String>,
    escalation_sms: Option<String>,
    assignment_email: Option<String>,
    assignment_in_app: Option<String>,
    assignment_sms: Option<String>,
    attention_email: Option<String>,
    attention_in_app: Option<String>,
    attention_sms: Option<String>,
) -> Result<(), AppError> {
    use escalator_domain::{NotificationKind, NotificationPreferences, PersonalChannel, QuietHours};

    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let quiet_hours = match (blank(quiet_start), blank(quiet_end)) {
        (Some(start), Some(end)) => {
            Some(QuietHours::parse(&start, &end).map_err(|e| ssr::fail(AppError::invalid(&e.field, e.message)))?)
        }
        (None, None) => None,
        _ => {
            return Err(ssr::fail(AppError::invalid(
                "quiet_end",
                "give both the start and the end of the quiet hours, or neither",
            )))
        }
    };
    let picked = |email: Option<String>, in_app: Option<String>, sms: Option<String>| {
        [
            (email, PersonalChannel::Email),
            (in_app, PersonalChannel::InApp),
            (sms, PersonalChannel::Sms),
        ]
        .into_iter()
        .filter_map(|(on, channel)| on.map(|_| channel))
        .collect::<Vec<_>>()
    };
    let channels = [
        (
            NotificationKind::Reminder,
            picked(reminder_email, reminder_in_app, reminder_sms),
        ),
        (
            NotificationKind::Escalation,
            picked(escalation_email, escalation_in_app, escalation_sms),
        ),
        (
            NotificationKind::Assignment,
            picked(assignment_email, assignment_in_app, assignment_sms),
        ),
        (
            NotificationKind::Attention,
            picked(attention_email, attention_in_app, attention_sms),
        ),
    ]
    .into_iter()
    .collect();
    let preferences = NotificationPreferences {
        channels,
        time_zone: blank(time_zone),
        quiet_hours,
    };
    escalator
        .update_profile(&user, &name, blank(phone).as_deref(), &actor)
        .await?;
    escalator.set_preferences(&actor, &user, preferences).await?;
    Ok(())
}

/// Changes the signed-in user's own password, given the current one.
#[server(prefix = "/ui/fn", endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    ssr::escalator()?
        .change_password(&actor, &current_password, &new_password)
        .await?;
    Ok(())
}
