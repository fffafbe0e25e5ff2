//! SLA policies and business calendars (admins): lists, create/edit, the preview of an
//! edit's impact on open workflows, and applying a policy's current version to them.
//! Calendars travel as text: one weekday's windows per line, one holiday per line.

use chrono::{DateTime, Utc};
use escalator_domain::SlaStatus;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A stored SLA policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView {
    pub id: i64,
    pub name: String,
    pub target_seconds: i64,
    /// `before_deadline` (value in seconds) or `elapsed_percent` (value in percent).
    pub warning_kind: String,
    pub warning_value: i64,
    pub calendar_id: Option<i64>,
    /// Reminders repeat this often until acknowledged; none: once.
    pub reminder_repeat_seconds: Option<i64>,
    /// An acknowledgement holds escalation this long (working time); none: it only stops repeats.
    pub ack_timeout_seconds: Option<i64>,
    /// An exhausted chain's top is told again this often; none: once, nobody told.
    pub exhausted_repeat_seconds: Option<i64>,
    /// The calendar's name, or `24/7`.
    pub calendar: String,
    pub version: i64,
}

/// A stored business calendar, with its text forms for the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarView {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    /// `mon 09:00-12:00 13:00-17:00`, one weekday per line.
    pub windows: String,
    /// `2026-12-24 Christmas Eve` (a date) or `12-25 Christmas Day` (yearly), one per line.
    pub holidays: String,
}

/// Everything on the policies page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoliciesData {
    pub policies: Vec<PolicyView>,
    pub calendars: Vec<CalendarView>,
    /// Whether the signed-in user may change policies and calendars (the page shows its editors).
    pub can_edit: bool,
    /// The zone rules deadlines are computed with, in words.
    pub zone_rules: String,
}

/// What an edit would do to one open workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactRow {
    pub workflow_id: i64,
    pub external_id: String,
    pub old_status: SlaStatus,
    pub new_status: SlaStatus,
    pub old_due_at: DateTime<Utc>,
    pub new_due_at: DateTime<Utc>,
}

/// The impact of a proposed edit, computed without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPreview {
    pub open_workflows: u64,
    pub status_changes: u64,
    /// Workflows whose deadline would move (at most 500).
    pub workflows: Vec<ImpactRow>,
    /// The viewer's time zone, for the deadlines.
    pub zone: String,
}

/// The zone rules in use and what they would do to open workflows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRulesView {
    /// The rules, in words.
    pub rules: String,
    pub impact: PolicyPreview,
}

/// The result of applying a policy's current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedView {
    pub version: i64,
    pub applied: u64,
}

#[cfg(feature = "ssr")]
mod convert {
    use chrono::Weekday;
    use escalator_domain::{Calendar, Holiday, WarningWindow, Week, Window, WindowEnd};
    use escalator_engine::directory::{CalendarInput, PolicyInput};
    use escalator_storage::{CalendarRecord, PolicyRecord};

    use super::{CalendarView, ImpactRow, PolicyView};
    use crate::error::AppError;
    use crate::ssr;

    /// One moved deadline as the page shows it.
    pub fn impact(i: escalator_engine::versions::Impact) -> ImpactRow {
        ImpactRow {
            workflow_id: i.workflow_id,
            external_id: i.external_id,
            old_status: i.old_status,
            new_status: i.new_status,
            old_due_at: i.old_due_at,
            new_due_at: i.new_due_at,
        }
    }

    const DAYS: [(Weekday, &str); 7] = [
        (Weekday::Mon, "mon"),
        (Weekday::Tue, "tue"),
        (Weekday::Wed, "wed"),
        (Weekday::Thu, "thu"),
        (Weekday::Fri, "fri"),
        (Weekday::Sat, "sat"),
        (Weekday::Sun, "sun"),
    ];

    pub fn policy(record: &PolicyRecord, calendars: &[CalendarRecord]) -> PolicyView {
        let (warning_kind, warning_value) = match record.policy.warning {
            WarningWindow::BeforeDeadline { seconds } => ("before_deadline", seconds),
            WarningWindow::ElapsedPercent { percent } => ("elapsed_percent", i64::from(percent)),
        };
        let calendar = record
            .calendar_id
            .map(|id| {
                calendars
                    .iter()
                    .find(|c| c.id == id)
                    .map_or_else(|| format!("calendar {id}"), |c| c.name.clone())
            })
            .unwrap_or_else(|| "24/7".into());
        PolicyView {
            id: record.id,
            name: record.policy.name.clone(),
            target_seconds: record.policy.target_seconds,
            warning_kind: warning_kind.into(),
            warning_value,
            calendar_id: record.calendar_id,
            reminder_repeat_seconds: record.policy.reminder_repeat_seconds,
            ack_timeout_seconds: record.policy.ack_timeout_seconds,
            exhausted_repeat_seconds: record.policy.exhausted_repeat_seconds,
            calendar,
            version: record.version,
        }
    }

    fn window_text(w: &Window) -> String {
        let end = match w.end {
            WindowEnd::At(t) => t.format("%H:%M").to_string(),
            WindowEnd::EndOfDay => "24:00".into(),
        };
        format!("{}-{end}", w.start.format("%H:%M"))
    }

    fn holiday_text(h: &Holiday) -> String {
        let (when, name) = match h {
            Holiday::Date { date, name } => (date.format("%Y-%m-%d").to_string(), name),
            Holiday::Yearly {
                month,
                day,
                since: Some(year),
                name,
            } => (format!("{month:02}-{day:02} (from {year})"), name),
            Holiday::Yearly { month, day, name, .. } => (format!("{month:02}-{day:02}"), name),
        };
        match name {
            Some(name) => format!("{when} {name}"),
            None => when,
        }
    }

    pub fn calendar(record: &CalendarRecord) -> CalendarView {
        let c: &Calendar = &record.calendar;
        let windows = DAYS
            .iter()
            .filter(|(day, _)| !c.windows().on(*day).is_empty())
            .map(|(day, name)| {
                let ws: Vec<String> = c.windows().on(*day).iter().map(window_text).collect();
                format!("{name} {}", ws.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n");
        CalendarView {
            id: record.id,
            name: record.name.clone(),
            time_zone: c.time_zone().name().to_string(),
            windows,
            holidays: c.holidays().iter().map(holiday_text).collect::<Vec<_>>().join("\n"),
        }
    }

    fn invalid(field: &str, message: String) -> AppError {
        ssr::fail(AppError::invalid(field, message))
    }

    fn day_index(raw: &str) -> Option<usize> {
        let raw = raw.to_ascii_lowercase();
        DAYS.iter()
            .position(|(_, short)| raw == *short || (raw.len() > 3 && raw.starts_with(short)))
    }

    /// `mon 09:00-17:00`, `mon-fri 09:00-12:00 13:00-17:00`, `sat,sun 10:00-14:00`.
    pub fn week(text: &str) -> Result<Week, AppError> {
        let mut week = Week::default();
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: &str| invalid("windows", format!("line {n}: {what} (e.g. `mon-fri 09:00-17:00`)"));
            let mut words = line.split_whitespace();
            let days_word = words.next().unwrap_or_default();
            let mut days = Vec::new();
            for part in days_word.split(',') {
                match part.split_once('-') {
                    Some((from, to)) => {
                        let (Some(from), Some(to)) = (day_index(from), day_index(to)) else {
                            return Err(bad("unknown weekday"));
                        };
                        if from > to {
                            return Err(bad("a day range runs forwards"));
                        }
                        days.extend(from..=to);
                    }
                    None => days.push(day_index(part).ok_or_else(|| bad("unknown weekday"))?),
                }
            }
            let mut windows = Vec::new();
            for range in words {
                let (start, end) = range.split_once('-').ok_or_else(|| bad("a window is HH:MM-HH:MM"))?;
                windows.push(Window::parse(start, end).map_err(|e| bad(&format!("{} {}", e.field, e.message)))?);
            }
            if windows.is_empty() {
                return Err(bad("no working window"));
            }
            for day in days {
                let (weekday, _) = DAYS[day];
                let mut all = week.on(weekday).to_vec();
                all.extend(windows.iter().copied());
                week = week.with(weekday, &all);
            }
        }
        Ok(week)
    }

    /// `2026-12-24 Christmas Eve` (one date) or `12-25 Christmas Day` (every year).
    pub fn holidays(text: &str) -> Result<Vec<Holiday>, AppError> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (when, name) = match line.split_once(char::is_whitespace) {
                Some((when, name)) => (when, Some(name.trim()).filter(|n| !n.is_empty())),
                None => (line, None),
            };
            let bad = || {
                invalid(
                    "holidays",
                    format!("line {n}: start with YYYY-MM-DD (one date) or MM-DD (every year)"),
                )
            };
            let holiday = if let Ok(date) = chrono::NaiveDate::parse_from_str(when, "%Y-%m-%d") {
                Holiday::on(date, name)
            } else {
                let (m, d) = when.split_once('-').ok_or_else(bad)?;
                // `12-25 (from 2027) Name`: every year from 2027 on.
                let (since, name) = match name.and_then(|n| n.strip_prefix("(from ")) {
                    Some(rest) => {
                        let (year, name) = rest.split_once(')').ok_or_else(bad)?;
                        let name = Some(name.trim()).filter(|n| !n.is_empty());
                        (Some(year.trim().parse::<i32>().map_err(|_| bad())?), name)
                    }
                    None => (None, name),
                };
                let month = m.parse().map_err(|_| bad())?;
                let day = d.parse().map_err(|_| bad())?;
                Holiday::Yearly {
                    month,
                    day,
                    since,
                    name: name.map(str::to_string),
                }
            };
            out.push(holiday);
        }
        Ok(out)
    }

    pub fn calendar_input(
        name: String,
        time_zone: String,
        windows: &str,
        holidays: &str,
    ) -> Result<CalendarInput, AppError> {
        Ok(CalendarInput {
            name,
            time_zone,
            windows: week(windows)?,
            holidays: self::holidays(holidays)?,
            ics: None,
        })
    }

    /// The engine's errors about windows or holidays name a part of them; the form has one
    /// text box for each.
    pub fn calendar_error(mut error: AppError) -> AppError {
        if let Some(field) = error.field.clone() {
            for whole in ["windows", "holidays"] {
                if field.starts_with(whole) && field != whole {
                    error.message = format!("{field}: {}", error.message);
                    error.field = Some(whole.into());
                }
            }
        }
        error
    }

    fn number(field: &str, raw: &str) -> Result<i64, AppError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(0);
        }
        raw.parse().map_err(|_| invalid(field, "must be a whole number".into()))
    }

    /// A policy input from the form's fields.
    pub fn policy_input(
        name: String,
        target_hours: &str,
        target_minutes: &str,
        warning_kind: &str,
        warning_value: &str,
        calendar_id: Option<String>,
        follow_up: [Option<String>; 3],
    ) -> Result<PolicyInput, AppError> {
        let hours = number("target_seconds", target_hours)?;
        let minutes = number("target_seconds", target_minutes)?;
        let target_seconds = hours
            .checked_mul(3600)
            .and_then(|h| minutes.checked_mul(60).and_then(|m| h.checked_add(m)))
            .ok_or_else(|| invalid("target_seconds", "is too long".into()))?;
        let warning = match warning_kind {
            "before_deadline" => {
                let minutes = number("warning.seconds", warning_value)?;
                WarningWindow::BeforeDeadline {
                    seconds: minutes
                        .checked_mul(60)
                        .ok_or_else(|| invalid("warning.seconds", "is too long".into()))?,
                }
            }
            "elapsed_percent" => WarningWindow::ElapsedPercent {
                percent: u8::try_from(number("warning.percent", warning_value)?)
                    .map_err(|_| invalid("warning.percent", "must be between 1 and 100".into()))?,
            },
            _ => return Err(invalid("warning.kind", "choose when to warn".into())),
        };
        let calendar_id = match calendar_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                raw.parse()
                    .map_err(|_| invalid("calendar_id", "choose a calendar".into()))?,
            ),
        };
        // Minutes in the form, seconds in the policy; blank or 0: unset.
        let seconds = |field: &str, minutes: &Option<String>| -> Result<Option<i64>, AppError> {
            match minutes.as_deref().map(str::trim) {
                None | Some("") | Some("0") => Ok(None),
                Some(raw) => Ok(Some(
                    number(field, raw)?
                        .checked_mul(60)
                        .ok_or_else(|| invalid(field, "is too long".into()))?,
                )),
            }
        };
        let [repeat_minutes, ack_timeout_minutes, top_repeat_minutes] = follow_up;
        Ok(PolicyInput {
            name,
            target_seconds,
            warning,
            calendar_id,
            reminder_repeat_seconds: seconds("reminder_repeat_seconds", &repeat_minutes)?,
            ack_timeout_seconds: seconds("ack_timeout_seconds", &ack_timeout_minutes)?,
            exhausted_repeat_seconds: seconds("exhausted_repeat_seconds", &top_repeat_minutes)?,
        })
    }
}

/// All SLA policies and calendars (admins and department heads read them; admins edit them).
#[server(prefix = "/ui/fn", endpoint = "admin_policies")]
pub async fn admin_policies() -> Result<PoliciesData, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let escalator = ssr::escalator()?;
    let calendars = escalator.calendars(&actor).await?;
    let policies = escalator.policies(&actor).await?;
    Ok(PoliciesData {
        policies: policies.iter().map(|p| convert::policy(p, &calendars)).collect(),
        calendars: calendars.iter().map(convert::calendar).collect(),
        can_edit: actor.require_admin().is_ok(),
        zone_rules: zone_rules_text(&escalator_engine::versions::zone_rules()),
    })
}

/// `2025b, from the system's tz database (bundled copy: 2026f)`.
#[cfg(feature = "ssr")]
fn zone_rules_text(rules: &escalator_engine::versions::ZoneRules) -> String {
    let version = rules.in_use.as_deref().unwrap_or("version unknown");
    let from = match rules.source.as_str() {
        "system" => "from the system's tz database",
        "bundled" => "bundled into Escalator",
        _ => "from the configured tz database",
    };
    format!("{version}, {from} (bundled copy: {})", rules.bundled)
}

/// What the zone rules in use (read afresh) would do to the deadlines of open workflows.
#[server(prefix = "/ui/fn", endpoint = "preview_zone_rules")]
pub async fn preview_zone_rules() -> Result<ZoneRulesView, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let preview = ssr::escalator()?.preview_zone_rules(&actor).await?;
    Ok(ZoneRulesView {
        rules: zone_rules_text(&preview.rules),
        impact: PolicyPreview {
            zone: ssr::viewer_zone(&actor).await?,
            open_workflows: preview.impact.open_workflows,
            status_changes: preview.impact.status_changes,
            workflows: preview.impact.workflows.into_iter().map(convert::impact).collect(),
        },
    })
}

/// Recomputes open workflows' deadlines under the zone rules in use (audited per workflow);
/// how many moved.
#[server(prefix = "/ui/fn", endpoint = "apply_zone_rules")]
pub async fn apply_zone_rules() -> Result<u64, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    Ok(ssr::escalator()?.apply_zone_rules(&actor).await?.applied)
}

/// Creates a policy (no `id`) or replaces policy `id` (a new version; open workflows keep
/// theirs until applied). Target in hours + minutes; warning in minutes before the
/// deadline (`before_deadline`) or percent elapsed (`elapsed_percent`).
// One argument per form field: the form posts them flat, with or without JavaScript.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/ui/fn", endpoint = "save_policy")]
pub async fn save_policy(
    id: Option<i64>,
    name: String,
    target_hours: String,
    target_minutes: String,
    warning_kind: String,
    warning_value: String,
    calendar_id: Option<String>,
    repeat_minutes: Option<String>,
    ack_timeout_minutes: Option<String>,
    top_repeat_minutes: Option<String>,
) -> Result<PolicyView, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    actor.require_admin()?;
    let input = convert::policy_input(
        name,
        &target_hours,
        &target_minutes,
        &warning_kind,
        &warning_value,
        calendar_id,
        [repeat_minutes, ack_timeout_minutes, top_repeat_minutes],
    )?;
    let escalator = ssr::escalator()?;
    let record = match id {
        Some(id) => escalator.update_policy(id, &input, &actor).await?,
        None => escalator.create_policy(&input, &actor).await?,
    };
    let calendars = escalator.calendars(&actor).await?;
    Ok(convert::policy(&record, &calendars))
}

/// What saving these values into policy `id` would do to its open workflows; changes nothing.
// One argument per form field: the form posts them flat, with or without JavaScript.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/ui/fn", endpoint = "preview_policy")]
pub async fn preview_policy(
    id: i64,
    name: String,
    target_hours: String,
    target_minutes: String,
    warning_kind: String,
    warning_value: String,
    calendar_id: Option<String>,
    repeat_minutes: Option<String>,
    ack_timeout_minutes: Option<String>,
    top_repeat_minutes: Option<String>,
) -> Result<PolicyPreview, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    actor.require_admin()?;
    let input = convert::policy_input(
        name,
        &target_hours,
        &target_minutes,
        &warning_kind,
        &warning_value,
        calendar_id,
        [repeat_minutes, ack_timeout_minutes, top_repeat_minutes],
    )?;
    let preview = ssr::escalator()?.preview_policy(id, &input, &actor).await?;
    Ok(PolicyPreview {
        zone: ssr::viewer_zone(&actor).await?,
        open_workflows: preview.open_workflows,
        status_changes: preview.status_changes,
        workflows: preview.workflows.into_iter().map(convert::impact).collect(),
    })
}

/// Moves policy `id`'s open workflows to its current version (audited per workflow).
#[server(prefix = "/ui/fn", endpoint = "apply_policy")]
pub async fn apply_policy(id: i64) -> Result<AppliedView, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    let applied = ssr::escalator()?.apply_policy(id, &actor).await?;
    Ok(AppliedView {
        version: applied.version,
        applied: applied.applied,
    })
}

/// Creates a calendar (no `id`) or replaces calendar `id`. `windows`: one line per weekday
/// (or range) with its windows, `mon-fri 09:00-17:00`; `holidays`: `YYYY-MM-DD name`
/// (one date) or `MM-DD name` (every year), one per line.
#[server(prefix = "/ui/fn", endpoint = "save_calendar")]
pub async fn save_calendar(
    id: Option<i64>,
    name: String,
    time_zone: String,
    windows: String,
    holidays: Option<String>,
) -> Result<CalendarView, AppError> {
    use crate::ssr;

    let actor = ssr::actor().await?;
    actor.require_admin()?;
    let input = convert::calendar_input(name, time_zone, &windows, holidays.as_deref().unwrap_or_default())?;
    let escalator = ssr::escalator()?;
    let saved = match id {
        Some(id) => escalator.update_calendar(id, &input, &actor).await,
        None => escalator.create_calendar(&input, &actor).await,
    };
    let record = saved.map_err(|e| convert::calendar_error(AppError::from(e)))?;
    Ok(convert::calendar(&record))
}
