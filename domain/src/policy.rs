//! SLA policies: how long a stage may take and when its assignee is warned.

use std::sync::Arc;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::{Calendar, ValidationError};

/// When the warning (reminder) fires, relative to a target duration.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum WarningWindow {
    /// Warn this many seconds before the deadline (the seed: 2 h before a 24 h deadline).
    BeforeDeadline {
        #[cfg_attr(feature = "openapi", schema(minimum = 0))]
        seconds: i64,
    },
    /// Warn once this percentage of the target has elapsed (e.g. 90).
    ElapsedPercent {
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
        percent: u8,
    },
}

impl WarningWindow {
    /// How long before the deadline of a `target`-long clock the warning fires.
    /// Never more than the target itself: a warning cannot come before the start.
    pub fn lead_time(self, target: TimeDelta) -> TimeDelta {
        let lead = match self {
            WarningWindow::BeforeDeadline { seconds } => TimeDelta::seconds(seconds),
            WarningWindow::ElapsedPercent { percent } => {
                let remaining_pct = 100 - i64::from(percent.min(100));
                TimeDelta::milliseconds(target.num_milliseconds() * remaining_pct / 100)
            }
        };
        lead.clamp(TimeDelta::zero(), target)
    }

    fn validate(self) -> Result<(), ValidationError> {
        match self {
            WarningWindow::BeforeDeadline { seconds } if seconds < 0 => {
                Err(ValidationError::new("warning.seconds", "must be zero or positive"))
            }
            WarningWindow::ElapsedPercent { percent } if percent == 0 || percent > 100 => {
                Err(ValidationError::new("warning.percent", "must be between 1 and 100"))
            }
            _ => Ok(()),
        }
    }
}

/// The longest target a policy or level may have (a year); keeps date arithmetic far from overflow.
pub const MAX_TARGET_SECONDS: i64 = 366 * 24 * 3600;

/// Validates a duration given in seconds: positive and at most [`MAX_TARGET_SECONDS`].
pub fn validate_target_seconds(field: &str, seconds: i64) -> Result<TimeDelta, ValidationError> {
    if seconds <= 0 {
        return Err(ValidationError::new(field, "must be a positive number of seconds"));
    }
    if seconds > MAX_TARGET_SECONDS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_TARGET_SECONDS} seconds (a year)"),
        ));
    }
    Ok(TimeDelta::seconds(seconds))
}

/// An SLA policy: the stage must complete within `target`; the assignee is warned per `warning`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub name: String,
    pub target_seconds: i64,
    pub warning: WarningWindow,
    /// The business calendar the target is measured in (24/7 by default). Stored by
    /// reference; not part of the policy's wire format.
    #[serde(skip, default = "Calendar::shared_always")]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub calendar: Arc<Calendar>,
    /// Repeat the reminder this often (wall-clock seconds) until the assignee acknowledges
    /// it or the deadline passes; once only when unset.
    #[serde(default)]
    pub reminder_repeat_seconds: Option<i64>,
    /// Acknowledging the reminder holds escalation for this much working time (counted in
    /// the policy's calendar from the acknowledgement); then the workflow escalates as if
    /// unacknowledged. Unset: an acknowledgement only stops reminder repeats.
    #[serde(default)]
    pub ack_timeout_seconds: Option<i64>,
    /// Once the chain is exhausted, tell the last level again this often (wall-clock), at
    /// most [`MAX_EXHAUSTED_REPEATS`] times; once only when unset.
    #[serde(default)]
    pub exhausted_repeat_seconds: Option<i64>,
}

/// How many times the top of an exhausted chain is told again, at most.
pub const MAX_EXHAUSTED_REPEATS: u32 = 10;

impl SlaPolicy {
    /// Builds a validated policy.
    pub fn new(name: &str, target_seconds: i64, warning: WarningWindow) -> Result<Self, ValidationError> {
        crate::text::check("name", name)?;
        let sent = name.chars().count();
        let name = name.trim();
        if name.is_empty() || sent > 200 {
            return Err(ValidationError::new("name", "must be 1-200 characters"));
        }
        validate_target_seconds("target_seconds", target_seconds)?;
        warning.validate()?;
        if let WarningWindow::BeforeDeadline { seconds } = warning {
            if seconds >= target_seconds {
                return Err(ValidationError::new(
                    "warning.seconds",
                    "must be shorter than the target",
                ));
            }
        }
        Ok(Self {
            name: name.to_string(),
            target_seconds,
            warning,
            calendar: Calendar::shared_always(),
            reminder_repeat_seconds: None,
            ack_timeout_seconds: None,
            exhausted_repeat_seconds: None,
        })
    }

    /// The same policy repeating its reminder every `seconds` (positive, at most a year).
    pub fn with_reminder_repeat(self, seconds: Option<i64>) -> Result<Self, ValidationError> {
        if let Some(s) = seconds {
            validate_target_seconds("reminder_repeat_seconds", s)?;
        }
        Ok(Self {
            reminder_repeat_seconds: seconds,
            ..self
        })
    }

    /// The same policy holding escalation for `seconds` of working time after an
    /// acknowledgement (positive, at most a year).
    pub fn with_acknowledgement_timeout(self, seconds: Option<i64>) -> Result<Self, ValidationError> {
        if let Some(s) = seconds {
            validate_target_seconds("ack_timeout_seconds", s)?;
        }
        Ok(Self {
            ack_timeout_seconds: seconds,
            ..self
        })
    }

    /// The same policy telling the top of an exhausted chain again every `seconds`.
    pub fn with_exhausted_repeat(self, seconds: Option<i64>) -> Result<Self, ValidationError> {
        if let Some(s) = seconds {
            validate_target_seconds("exhausted_repeat_seconds", s)?;
        }
        Ok(Self {
            exhausted_repeat_seconds: seconds,
            ..self
        })
    }

    /// How often the reminder repeats, if it does.
    pub fn reminder_repeat(&self) -> Option<TimeDelta> {
        self.reminder_repeat_seconds.map(TimeDelta::seconds)
    }

    /// The same policy measured in `calendar`'s working time.
    pub fn with_calendar(self, calendar: Arc<Calendar>) -> Self {
        Self { calendar, ..self }
    }

    /// Terms of `target` under this policy's warning window and calendar (chain levels).
    pub fn terms_for(&self, target: TimeDelta) -> SlaTerms {
        SlaTerms::new(target, self.warning).with_calendar(self.calendar.clone())
    }

    /// The terms of the policy's own clock (escalation level 0).
    pub fn terms(&self) -> SlaTerms {
        self.terms_for(TimeDelta::seconds(self.target_seconds))
    }
}

/// What one SLA clock promises: a target duration and the warning lead time before it,
/// both counted in the working time of `calendar` (24/7 unless one is attached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTerms {
    pub target: TimeDelta,
    pub warn_before: TimeDelta,
    /// When the clock counts; shared, so terms stay cheap to clone.
    pub calendar: Arc<Calendar>,
}

impl SlaTerms {
    /// Terms for a 24/7 clock of `target` with `warning` applied to it.
    pub fn new(target: TimeDelta, warning: WarningWindow) -> Self {
        Self {
            target,
            warn_before: warning.lead_time(target),
            calendar: Calendar::shared_always(),
        }
    }

    /// The same terms counted in `calendar`'s working time ("8 business hours").
    pub fn with_calendar(self, calendar: impl Into<Arc<Calendar>>) -> Self {
        Self {
            calendar: calendar.into(),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_policy_warns_two_hours_before() {
        let p = SlaPolicy::new("Standard", 24 * 3600, WarningWindow::BeforeDeadline { seconds: 7200 }).unwrap();
        assert_eq!(p.terms().warn_before, TimeDelta::hours(2));
    }

    #[test]
    fn percentage_warnings_scale_with_the_target() {
        let w = WarningWindow::ElapsedPercent { percent: 75 };
        assert_eq!(w.lead_time(TimeDelta::hours(8)), TimeDelta::hours(2));
        assert_eq!(w.lead_time(TimeDelta::hours(4)), TimeDelta::hours(1));
    }

    #[test]
    fn a_lead_time_never_exceeds_the_target() {
        let w = WarningWindow::BeforeDeadline { seconds: 7200 };
        assert_eq!(w.lead_time(TimeDelta::hours(1)), TimeDelta::hours(1));
    }

    #[test]
    fn invalid_policies_name_the_field() {
        let before = |s| WarningWindow::BeforeDeadline { seconds: s };
        assert_eq!(SlaPolicy::new("", 10, before(1)).unwrap_err().field, "name");
        assert_eq!(SlaPolicy::new("p", -5, before(1)).unwrap_err().field, "target_seconds");
        assert_eq!(
            SlaPolicy::new("p", 10, before(-1)).unwrap_err().field,
            "warning.seconds"
        );
        assert_eq!(
            SlaPolicy::new("p", 10, before(10)).unwrap_err().field,
            "warning.seconds"
        );
        let pct = WarningWindow::ElapsedPercent { percent: 0 };
        assert_eq!(SlaPolicy::new("p", 10, pct).unwrap_err().field, "warning.percent");
        assert_eq!(
            SlaPolicy::new("p", MAX_TARGET_SECONDS + 1, before(1))
                .unwrap_err()
                .field,
            "target_seconds"
        );
        let p = SlaPolicy::new("p", 10, before(1)).unwrap();
        assert_eq!(
            p.clone().with_reminder_repeat(Some(0)).unwrap_err().field,
            "reminder_repeat_seconds"
        );
        assert_eq!(
            p.with_reminder_repeat(Some(60)).unwrap().reminder_repeat(),
            Some(TimeDelta::minutes(1))
        );
    }
}
