//! Groups: a named set of people a chain level can target ("Finance approvers"), and how
//! the group picks who takes a workflow: the first present member, round-robin among the
//! present members, or an on-call rotation (members take turns by day or week in the
//! group's time zone, with overrides). Whoever is away is passed over; a group nobody
//! in is present resolves to nobody, and the chain moves on to its next level.

use crate::sla::zones::Zone;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{Directory, Email, PassedOver, Presence, ValidationError};

/// A group's short key (`finance-approvers`): lower-case letters, digits, `-` and `_`.
pub fn validate_key(raw: &str) -> Result<(), ValidationError> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "key",
            "a group key is 1-64 characters of a-z, 0-9, '-' and '_'",
        ))
    }
}

/// How a group picks the member who takes a workflow.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Strategy {
    /// The first member, in the group's order, who is present.
    FirstPresent,
    /// Workflows spread over the present members in turn (by workflow number).
    RoundRobin,
    /// Members take turns being on call, one `period` each from `starts_on` (in the
    /// group's time zone); an absent on-call member is passed to the next in turn.
    Rotation { period: Period, starts_on: NaiveDate },
}

/// How long one turn of a rotation lasts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
}

/// Someone on call instead of the rotation for a while.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub person: Email,
}

/// A group of people a chain level can target.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    /// In order: the order of "first present" and of a rotation's turns.
    pub members: Vec<Email>,
    pub strategy: Strategy,
    /// IANA time zone in which a rotation's days and weeks begin.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Overrides of the rotation (or of any strategy): whoever covers `at` takes it first.
    #[serde(default)]
    pub overrides: Vec<Override>,
}

fn utc() -> String {
    "UTC".into()
}

/// Members a group may have at most.
pub const MAX_MEMBERS: usize = 200;

impl Group {
    /// Checks the group's own rules (its members must also be users: the engine checks).
    pub fn validate(&self) -> Result<(), ValidationError> {
        crate::text::check("name", &self.name)?;
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(ValidationError::new("name", "must be 1-200 characters"));
        }
        if self.members.is_empty() || self.members.len() > MAX_MEMBERS {
            return Err(ValidationError::new(
                "members",
                format!("a group has 1 to {MAX_MEMBERS} members"),
            ));
        }
        for (i, m) in self.members.iter().enumerate() {
            if self.members[..i].contains(m) {
                return Err(ValidationError::new(
                    format!("members[{i}]"),
                    format!("{m} is listed twice"),
                ));
            }
        }
        Zone::named(&self.time_zone)
            .ok_or_else(|| ValidationError::new("time_zone", format!("unknown IANA time zone {:?}", self.time_zone)))?;
        for (i, o) in self.overrides.iter().enumerate() {
            if o.to <= o.from {
                return Err(ValidationError::new(format!("overrides[{i}].to"), "must be after from"));
            }
        }
        if self.overrides.len() > 500 {
            return Err(ValidationError::new("overrides", "at most 500"));
        }
        Ok(())
    }

    /// Who in the group takes a workflow at `at` (`seed` spreads round-robin: the
    /// workflow's number), and the members passed over because they were away.
    pub fn pick(&self, directory: &impl Directory, at: DateTime<Utc>, seed: u64) -> (Option<String>, Vec<PassedOver>) {
        let mut passed_over = Vec::new();
        let present = |person: &str, passed_over: &mut Vec<PassedOver>| -> bool {
            if !directory.has_user(person) {
                return false;
            }
            match directory.presence(person, at) {
                Presence::Present => true,
                Presence::Away { until, .. } => {
                    passed_over.push(PassedOver {
                        person: person.to_string(),
                        until,
                    });
                    false
                }
            }
        };
        if let Some(o) = self.overrides.iter().find(|o| o.from <= at && at < o.to) {
            if present(o.person.as_str(), &mut passed_over) {
                return (Some(o.person.to_string()), passed_over);
            }
        }
        let n = self.members.len();
        if n == 0 {
            return (None, passed_over);
        }
        let first = match self.strategy {
            Strategy::FirstPresent => 0,
            Strategy::RoundRobin => usize::try_from(seed % n as u64).unwrap_or(0),
            Strategy::Rotation { period, starts_on } => self.turn(period, starts_on, at) % n,
        };
        for i in 0..n {
            let member = self.members[(first + i) % n].as_str();
            if present(member, &mut passed_over) {
                return (Some(member.to_string()), passed_over);
            }
        }
        (None, passed_over)
    }

    /// The number of the rotation's turn at `at`: whole periods since `starts_on` began in
    /// the group's zone, counted on the local calendar (so a turn lasts a local day or
    /// week across daylight-saving changes, 23 or 25 hours when one falls inside it).
    fn turn(&self, period: Period, starts_on: NaiveDate, at: DateTime<Utc>) -> usize {
        let zone = Zone::named(&self.time_zone).unwrap_or(Zone::UTC);
        let today = at.with_timezone(&zone).date_naive();
        let days = (today - starts_on).num_days().max(0);
        let turns = match period {
            Period::Day => days,
            Period::Week => days / 7,
        };
        usize::try_from(turns).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::{TimeDelta, TimeZone};
    use proptest::prelude::*;

    use super::*;
    // Named, so that it wins over proptest's `Strategy` trait from the glob above.
    use super::Strategy;

    #[derive(Default)]
    struct People {
        away: HashMap<String, DateTime<Utc>>,
    }

    impl Directory for People {
        fn department_head(&self, _: &str) -> Option<&str> {
            None
        }
        fn manager_of(&self, _: &str) -> Option<&str> {
            None
        }
        fn has_user(&self, _: &str) -> bool {
            true
        }
        fn presence(&self, user: &str, _: DateTime<Utc>) -> Presence<'_> {
            match self.away.get(user) {
                Some(until) => Presence::Away {
                    until: Some(*until),
                    delegate: None,
                },
                None => Presence::Present,
            }
        }
    }

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn group(strategy: Strategy) -> Group {
        Group {
            name: "Finance approvers".into(),
            members: ["a@x.io", "b@x.io", "c@x.io"].map(email).to_vec(),
            strategy,
            time_zone: "Europe/Berlin".into(),
            overrides: vec![],
        }
    }

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn the_first_present_member_takes_it() {
        let mut people = People::default();
        let g = group(Strategy::FirstPresent);
        assert_eq!(g.pick(&people, t(2, 9), 7).0.as_deref(), Some("a@x.io"));
        people.away.insert("a@x.io".into(), t(9, 0));
        let (to, passed) = g.pick(&people, t(2, 9), 7);
        assert_eq!(to.as_deref(), Some("b@x.io"));
        assert_eq!(passed[0].person, "a@x.io");
    }

    #[test]
    fn round_robin_spreads_workflows_over_present_members() {
        let mut people = People::default();
        let g = group(Strategy::RoundRobin);
        let picks: Vec<String> = (0..6).map(|seed| g.pick(&people, t(2, 9), seed).0.unwrap()).collect();
        assert_eq!(picks, ["a@x.io", "b@x.io", "c@x.io", "a@x.io", "b@x.io", "c@x.io"]);
        people.away.insert("b@x.io".into(), t(9, 0));
        assert_eq!(g.pick(&people, t(2, 9), 1).0.as_deref(), Some("c@x.io"));
    }

    #[test]
    fn a_weekly_rotation_turns_at_local_midnight_across_a_dst_change_with_overrides() {
        // Weeks from Monday 2026-03-23 in Berlin; the clocks go forward on Sunday the 29th.
        let starts_on = NaiveDate::from_ymd_opt(2026, 3, 23).unwrap();
        let mut g = group(Strategy::Rotation {
            period: Period::Week,
            starts_on,
        });
        let people = People::default();
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let local = |d: u32, h: u32| {
            berlin
                .with_ymd_and_hms(2026, 3, d, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(g.pick(&people, local(23, 0), 0).0.as_deref(), Some("a@x.io"));
        // Sunday 23:59 local (after the change) is still a's week; Monday 00:00 local is b's.
        let sunday_late = local(29, 23) + TimeDelta::minutes(59);
        assert_eq!(g.pick(&people, sunday_late, 0).0.as_deref(), Some("a@x.io"));
        assert_eq!(g.pick(&people, local(30, 0), 0).0.as_deref(), Some("b@x.io"));
        // An override covers b's Tuesday.
        g.overrides.push(Override {
            from: local(31, 0),
            to: local(31, 23),
            person: email("c@x.io"),
        });
        assert_eq!(g.pick(&people, local(31, 12), 0).0.as_deref(), Some("c@x.io"));
        assert_eq!(g.pick(&people, local(30, 12), 0).0.as_deref(), Some("b@x.io"));
    }

    #[test]
    fn bad_groups_name_their_field() {
        let mut g = group(Strategy::FirstPresent);
        g.members.push(email("a@x.io"));
        assert_eq!(g.validate().unwrap_err().field, "members[3]");
        let mut g = group(Strategy::FirstPresent);
        g.time_zone = "Mars/Base".into();
        assert_eq!(g.validate().unwrap_err().field, "time_zone");
        assert_eq!(validate_key("Finance").unwrap_err().field, "key");
    }

    proptest! {
        /// Whoever is away: a group never picks someone away, and picks someone whenever
        /// any member is present.
        #[test]
        fn a_group_never_picks_someone_away(away in prop::collection::vec(any::<bool>(), 3), seed in 0u64..100, day in 1u32..28) {
            let mut people = People::default();
            for (i, m) in ["a@x.io", "b@x.io", "c@x.io"].iter().enumerate() {
                if away[i] {
                    people.away.insert(m.to_string(), t(28, 0));
                }
            }
            for strategy in [
                Strategy::FirstPresent,
                Strategy::RoundRobin,
                Strategy::Rotation { period: Period::Day, starts_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() },
            ] {
                let (to, _) = group(strategy).pick(&people, t(day, 12), seed);
                match to {
                    Some(p) => prop_assert!(!people.away.contains_key(&p)),
                    None => prop_assert!(away.iter().all(|a| *a)),
                }
            }
        }
    }
}
