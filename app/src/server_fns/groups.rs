//! Groups a chain level can target: admins edit them here (overrides through the API),
//! department heads read them.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::GroupsData;

/// Every group (admins and department heads).
#[server(prefix = "/ui/fn", endpoint = "admin_groups")]
pub async fn admin_groups() -> Result<GroupsData, AppError> {
    use crate::model::GroupView;
    use crate::ssr;
    use escalator_domain::{Period, Strategy};

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let groups = escalator.groups(&actor).await?;
    let members: Vec<String> = groups
        .iter()
        .flat_map(|r| r.group.members.iter().map(ToString::to_string))
        .collect();
    let people = escalator.names_of(&members).await?.into_iter().collect();
    Ok(GroupsData {
        people,
        can_edit: actor.require_admin().is_ok(),
        groups: groups
            .into_iter()
            .map(|r| {
                let (strategy, period, starts_on) = match r.group.strategy {
                    Strategy::FirstPresent => ("first_present", "week", String::new()),
                    Strategy::RoundRobin => ("round_robin", "week", String::new()),
                    Strategy::Rotation { period, starts_on } => (
                        "rotation",
                        if period == Period::Day { "day" } else { "week" },
                        starts_on.to_string(),
                    ),
                };
                GroupView {
                    key: r.key,
                    name: r.group.name,
                    strategy: strategy.into(),
                    period: period.into(),
                    starts_on,
                    time_zone: r.group.time_zone,
                    members: r
                        .group
                        .members
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n"),
                    overrides: r.group.overrides.len(),
                }
            })
            .collect(),
    })
}

/// Creates or replaces group `key` from the form (admins); its overrides are kept.
// One argument per form field: the form posts them flat, with or without JavaScript.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/ui/fn", endpoint = "save_group")]
pub async fn save_group(
    key: String,
    name: String,
    strategy: String,
    period: Option<String>,
    starts_on: Option<String>,
    time_zone: Option<String>,
    members: String,
) -> Result<(), AppError> {
    use crate::ssr;
    use escalator_domain::{Email, Group, Period, Strategy};

    let actor = ssr::actor().await?;
    actor.require_admin()?;
    let invalid = |field: &str, message: String| ssr::fail(AppError::invalid(field, &message));
    let strategy = match strategy.as_str() {
        "first_present" => Strategy::FirstPresent,
        "round_robin" => Strategy::RoundRobin,
        "rotation" => Strategy::Rotation {
            period: match period.as_deref() {
                Some("day") => Period::Day,
                _ => Period::Week,
            },
            starts_on: starts_on
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .parse()
                .map_err(|_| invalid("strategy.starts_on", "a rotation starts on a date (YYYY-MM-DD)".into()))?,
        },
        _ => return Err(invalid("strategy", "choose how the group picks a member".into())),
    };
    let members = members
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| Email::parse(l).map_err(|e| invalid(&format!("members[{i}]"), e.message)))
        .collect::<Result<Vec<_>, _>>()?;
    let escalator = ssr::escalator()?;
    let key = key.trim().to_string();
    // The form does not edit overrides: keep those the group has.
    let overrides = match escalator.group(&key, &actor).await {
        Ok(existing) => existing.group.overrides,
        Err(_) => Vec::new(),
    };
    let group = Group {
        name,
        members,
        strategy,
        time_zone: time_zone
            .map(|z| z.trim().to_string())
            .filter(|z| !z.is_empty())
            .unwrap_or_else(|| "UTC".into()),
        overrides,
    };
    escalator.put_group(&key, &group, &actor).await?;
    Ok(())
}
