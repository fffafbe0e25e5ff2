//! A small iCalendar (RFC 5545) reader for holiday files.
//!
//! Holiday feeds are all-day `VEVENT`s: `DTSTART;VALUE=DATE`, an optional exclusive
//! `DTEND;VALUE=DATE` for multi-day holidays, an optional `RRULE:FREQ=YEARLY` for fixed-date
//! holidays, and a `SUMMARY`. That is all this reads. Folded lines are unfolded, unknown
//! properties and components (`VTIMEZONE`, `VALARM`, `X-…`) are ignored, cancelled events are
//! skipped, and anything that would be misread as a holiday (a timed event, a "fourth
//! Thursday" rule) is an error naming its line rather than a silently wrong calendar.

use chrono::{Datelike, NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use super::calendar::Holiday;
use crate::ValidationError;

/// The most dates one recurring or multi-day event may expand to.
const MAX_EXPANSION: usize = 1000;

/// An iCalendar file that could not be read; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("line {line}: {message}")]
pub struct IcsError {
    /// The first physical line of the offending content line.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl From<IcsError> for ValidationError {
    fn from(e: IcsError) -> Self {
        ValidationError::new("ics", e.to_string())
    }
}

pub(crate) fn fail<T>(line: usize, message: impl Into<String>) -> Result<T, IcsError> {
    Err(IcsError {
        line,
        message: message.into(),
    })
}

/// One content line after unfolding: `NAME;PARAM=V;…:VALUE`, with its first physical line.
pub(crate) struct Property {
    pub(crate) line: usize,
    pub(crate) name: String,
    params: Vec<(String, String)>,
    pub(crate) value: String,
}

impl Property {
    pub(crate) fn parse(line: usize, text: &str) -> Result<Self, IcsError> {
        // The value starts at the first ':' outside a quoted parameter value.
        let mut quoted = false;
        let colon = text.char_indices().find_map(|(i, c)| match c {
            '"' => {
                quoted = !quoted;
                None
            }
            ':' if !quoted => Some(i),
            _ => None,
        });
        let Some(colon) = colon else {
            return fail(line, format!("expected NAME:VALUE, found {:?}", truncate(text)));
        };
        let (head, value) = (&text[..colon], &text[colon + 1..]);
        let mut parts = head.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
        if name.is_empty() {
            return fail(line, "property without a name");
        }
        let params = parts
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"').to_string())
            })
            .collect();
        Ok(Self {
            line,
            name,
            params,
            value: value.trim().to_string(),
        })
    }

    pub(crate) fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Physical lines joined where a line starts with a space or tab (RFC 5545 §3.1),
/// each with the number of its first physical line.
pub(crate) fn unfold(text: &str) -> Result<Vec<(usize, String)>, IcsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix([' ', '\t']) {
            match lines.last_mut() {
                Some((_, last)) => last.push_str(rest),
                None => return fail(i + 1, "a continuation line needs a line to continue"),
            }
        } else {
            lines.push((i + 1, raw.to_string()));
        }
    }
    Ok(lines)
}

/// A `VEVENT` being read.
struct Event {
    begin_line: usize,
    start: Option<(usize, NaiveDate)>,
    end: Option<(usize, NaiveDate)>,
    yearly: Option<Recurrence>,
    summary: Option<String>,
    cancelled: bool,
}

/// What a yearly `RRULE` allows: every year, or up to a count or a last date.
struct Recurrence {
    line: usize,
    count: Option<usize>,
    until: Option<NaiveDate>,
}

impl Event {
    fn new(begin_line: usize) -> Self {
        Self {
            begin_line,
            start: None,
            end: None,
            yearly: None,
            summary: None,
            cancelled: false,
        }
    }

    fn apply(&mut self, p: &Property) -> Result<(), IcsError> {
        match p.name.as_str() {
            "DTSTART" => once(&mut self.start, p, all_day_date(p)?),
            "DTEND" => once(&mut self.end, p, all_day_date(p)?),
            "RRULE" if self.yearly.is_some() => fail(p.line, "only one RRULE per holiday is supported"),
            "RRULE" => {
                self.yearly = Some(yearly_rule(p)?);
                Ok(())
            }
            "SUMMARY" => {
                self.summary = Some(unescape(&p.value)).filter(|s| !s.is_empty());
                Ok(())
            }
            "STATUS" => {
                self.cancelled = p.value.eq_ignore_ascii_case("CANCELLED");
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn finish(self, out: &mut Vec<Holiday>) -> Result<(), IcsError> {
        let Some((_, start)) = self.start else {
            return fail(self.begin_line, "VEVENT without DTSTART");
        };
        if self.cancelled {
            return Ok(());
        }
        // DTEND is exclusive; without it an all-day event is one day long.
        let days = match self.end {
            None => 1,
            Some((line, end)) if end <= start => return fail(line, "DTEND must be after DTSTART"),
            Some((line, end)) => match usize::try_from((end - start).num_days()) {
                Ok(days) if days <= 366 => days,
                _ => return fail(line, "a holiday may span at most 366 days"),
            },
        };
        let dates = (0..days).map(|d| start + TimeDelta::days(d as i64));
        let name = self.summary.as_deref();
        match self.yearly {
            None => out.extend(dates.map(|d| Holiday::on(d, name))),
            Some(Recurrence {
                count: None,
                until: None,
                ..
            }) => out.extend(dates.map(|d| Holiday::yearly_from(d, name))),
            Some(rule) => {
                // A bounded yearly rule is a finite list of dates: expand it.
                let mut occurrences = 0;
                let mut year = start.year();
                while rule.count.is_none_or(|c| occurrences < c) {
                    let Some(first) = start.with_year(year) else {
                        // 29 February in a common year: no occurrence (RFC 5545 §3.3.10).
                        year += 1;
                        continue;
                    };
                    if rule.until.is_some_and(|u| first > u) {
                        break;
                    }
                    if occurrences >= MAX_EXPANSION {
                        return fail(rule.line, format!("expands to more than {MAX_EXPANSION} holidays"));
                    }
                    out.extend((0..days).map(|d| Holiday::on(first + TimeDelta::days(d as i64), name)));
                    occurrences += 1;
                    year += 1;
                }
            }
        }
        Ok(())
    }
}

fn once(slot: &mut Option<(usize, NaiveDate)>, p: &Property, date: NaiveDate) -> Result<(), IcsError> {
    if slot.is_some() {
        return fail(p.line, format!("{} given twice in one VEVENT", p.name));
    }
    *slot = Some((p.line, date));
    Ok(())
}

/// An all-day date value, `YYYYMMDD`; a timed value is refused (a holiday is a whole day).
fn all_day_date(p: &Property) -> Result<NaiveDate, IcsError> {
    let timed = p.value.contains('T') || p.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE-TIME"));
    if timed {
        return fail(
            p.line,
            format!("{} must be an all-day date ({};VALUE=DATE:YYYYMMDD)", p.name, p.name),
        );
    }
    parse_date(&p.value).ok_or_else(|| IcsError {
        line: p.line,
        message: format!("{} {:?} is not a date (YYYYMMDD)", p.name, truncate(&p.value)),
    })
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    let digits = value.get(..8).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

/// Accepts `FREQ=YEARLY` on the date of `DTSTART` only: that is a fixed-date holiday.
fn yearly_rule(p: &Property) -> Result<Recurrence, IcsError> {
    let mut rule = Recurrence {
        line: p.line,
        count: None,
        until: None,
    };
    let mut yearly = false;
    for part in p.value.split(';').filter(|s| !s.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        match key.trim().to_ascii_uppercase().as_str() {
            "FREQ" if value.eq_ignore_ascii_case("YEARLY") => yearly = true,
            "FREQ" => return fail(p.line, format!("only yearly holidays are supported, not FREQ={value}")),
            "INTERVAL" if value.trim() == "1" => {}
            "COUNT" => {
                let count = value.trim().parse().ok().filter(|c| (1..=MAX_EXPANSION).contains(c));
                let Some(count) = count else {
                    return fail(p.line, format!("COUNT must be between 1 and {MAX_EXPANSION}"));
                };
                rule.count = Some(count);
            }
            "UNTIL" => {
                let Some(until) = parse_date(value.trim()) else {
                    return fail(p.line, format!("UNTIL {value:?} is not a date"));
                };
                rule.until = Some(until);
            }
            "WKST" => {} // irrelevant without weekly rules
            other => {
                return fail(
                    p.line,
                    format!(
                        "unsupported RRULE part {other}: only fixed-date yearly holidays (FREQ=YEARLY) are supported"
                    ),
                )
            }
        }
    }
    if !yearly {
        return fail(p.line, "RRULE without FREQ=YEARLY");
    }
    Ok(rule)
}

/// Undoes TEXT escaping (`\,` `\;` `\\` `\n`); a line break in a name becomes a space.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push(' '),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out.trim().to_string()
}

/// Reads the holidays of an iCalendar file (see the module documentation).
pub(crate) fn parse(text: &str) -> Result<Vec<Holiday>, IcsError> {
    let mut holidays = Vec::new();
    // Open components, outermost first; only VEVENTs directly in the VCALENDAR are read.
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut event: Option<Event> = None;
    let mut seen_calendar = false;
    let mut last_line = 1;
    for (line, text) in unfold(text)? {
        last_line = line;
        if text.trim().is_empty() {
            continue;
        }
        let p = Property::parse(line, &text)?;
        match p.name.as_str() {
            "BEGIN" => {
                let component = p.value.to_ascii_uppercase();
                if open.is_empty() {
                    if component != "VCALENDAR" || seen_calendar {
                        return fail(line, format!("expected BEGIN:VCALENDAR, found BEGIN:{}", p.value));
                    }
                    seen_calendar = true;
                }
                if component == "VEVENT" && open.len() == 1 {
                    event = Some(Event::new(line));
                }
                open.push((line, component));
            }
            "END" => {
                let component = p.value.to_ascii_uppercase();
                match open.pop() {
                    Some((_, begun)) if begun == component => {}
                    Some((_, begun)) => return fail(line, format!("END:{} does not close BEGIN:{begun}", p.value)),
                    None => return fail(line, format!("END:{} without BEGIN", p.value)),
                }
                if component == "VEVENT" && open.len() == 1 {
                    if let Some(e) = event.take() {
                        e.finish(&mut holidays)?;
                    }
                }
            }
            _ if open.is_empty() => {
                let found = if seen_calendar {
                    "content after END:VCALENDAR"
                } else {
                    "expected BEGIN:VCALENDAR"
                };
                return fail(line, found);
            }
            _ => {
                if let (Some(e), 2) = (event.as_mut(), open.len()) {
                    e.apply(&p)?;
                }
            }
        }
    }
    if let Some((line, component)) = open.last() {
        return fail(
            *line,
            format!("BEGIN:{component} is never closed (file ends at line {last_line})"),
        );
    }
    if !seen_calendar {
        return fail(1, "not an iCalendar file: no BEGIN:VCALENDAR");
    }
    Ok(holidays)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn line_of(text: &str) -> usize {
        parse(text).unwrap_err().line
    }

    const FEED: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//Example//Holidays//EN\r\n\
X-WR-CALNAME:Feiertage\r\n\
BEGIN:VTIMEZONE\r\n\
TZID:Europe/Berlin\r\n\
BEGIN:STANDARD\r\n\
DTSTART:19701025T030000\r\n\
END:STANDARD\r\n\
END:VTIMEZONE\r\n\
BEGIN:VEVENT\r\n\
UID:1@example\r\n\
DTSTART;VALUE=DATE:20261225\r\n\
RRULE:FREQ=YEARLY\r\n\
SUMMARY:Christmas\\, first\r\n\
\x20 day\r\n\
BEGIN:VALARM\r\n\
TRIGGER:-PT15M\r\n\
DTSTART:20000101T000000\r\n\
END:VALARM\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
DTSTART;VALUE=DATE:20260403\r\n\
DTEND;VALUE=DATE:20260404\r\n\
SUMMARY:Good Friday\r\n\
X-MICROSOFT-CDO-BUSYSTATUS:FREE\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
DTSTART;VALUE=DATE:20261231\r\n\
DTEND;VALUE=DATE:20270102\r\n\
SUMMARY:Year end\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
DTSTART;VALUE=DATE:20260101\r\n\
STATUS:CANCELLED\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn reads_a_holiday_feed() {
        let hs = parse(FEED).unwrap();
        assert_eq!(
            hs,
            vec![
                Holiday::yearly_from(date(2026, 12, 25), Some("Christmas, first day")),
                Holiday::on(date(2026, 4, 3), Some("Good Friday")),
                Holiday::on(date(2026, 12, 31), Some("Year end")),
                Holiday::on(date(2027, 1, 1), Some("Year end")),
            ]
        );
    }

    #[test]
    fn bounded_yearly_rules_expand_and_skip_missing_leap_days() {
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20240229\nRRULE:FREQ=YEARLY;COUNT=2\nEND:VEVENT\n\
BEGIN:VEVENT\nDTSTART:20250501\nRRULE:FREQ=YEARLY;UNTIL=20270501T000000Z\nSUMMARY:May Day\nEND:VEVENT\nEND:VCALENDAR";
        assert_eq!(
            parse(ics).unwrap(),
            vec![
                Holiday::on(date(2024, 2, 29), None),
                Holiday::on(date(2028, 2, 29), None),
                Holiday::on(date(2025, 5, 1), Some("May Day")),
                Holiday::on(date(2026, 5, 1), Some("May Day")),
                Holiday::on(date(2027, 5, 1), Some("May Day")),
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(line_of("hello"), 1);
        assert_eq!(line_of("BEGIN:VEVENT\nEND:VEVENT"), 1);
        let ev =
            |body: &str| format!("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\n{body}\nEND:VEVENT\nEND:VCALENDAR\n");
        assert_eq!(line_of(&ev("SUMMARY:x")), 3, "no DTSTART: the BEGIN:VEVENT line");
        assert_eq!(line_of(&ev("DTSTART:20260101T090000Z")), 4, "timed");
        assert_eq!(line_of(&ev("DTSTART;VALUE=DATE:2026-01-01")), 4);
        assert_eq!(
            line_of(&ev(
                "DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH"
            )),
            5
        );
        assert_eq!(line_of(&ev("DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=WEEKLY")), 5);
        assert_eq!(
            line_of(&ev("DTSTART;VALUE=DATE:20260101\nDTEND;VALUE=DATE:20260101")),
            5
        );
        assert_eq!(
            line_of(&ev("DTSTART;VALUE=DATE:20260101\nDTSTART;VALUE=DATE:20260102")),
            5
        );
        assert_eq!(line_of(&ev("DTSTART;VALUE=DATE:20260101\nno colon here")), 5);
        assert_eq!(
            line_of("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nEND:VCALENDAR"),
            4
        );
        assert_eq!(
            line_of("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\n"),
            2,
            "never closed"
        );
        let folded = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2026\n 0101T1000\nEND:VEVENT\nEND:VCALENDAR";
        assert_eq!(line_of(folded), 3, "an unfolded line reports its first physical line");
        let e = parse(&ev("DTSTART:20260101T090000Z")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 4: DTSTART must be an all-day date (DTSTART;VALUE=DATE:YYYYMMDD)"
        );
        assert_eq!(ValidationError::from(e).field, "ics");
    }

    #[test]
    fn quoted_parameters_may_contain_colons() {
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;X-NOTE=\"a:b\";VALUE=DATE:20260704\nSUMMARY;LANGUAGE=en:Independence Day\nEND:VEVENT\nEND:VCALENDAR";
        assert_eq!(
            parse(ics).unwrap(),
            vec![Holiday::on(date(2026, 7, 4), Some("Independence Day"))]
        );
    }

    /// RFC 5545's own examples (sections 3.6.1 and 3.3.10), as a holiday feed reads them.
    mod rfc5545 {
        use super::*;

        fn event(lines: &str) -> Vec<Holiday> {
            parse(&format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
            ))
            .unwrap()
        }

        fn days(holidays: &[Holiday], from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
            from.iter_days()
                .take_while(|d| *d <= to)
                .filter(|d| holidays.iter().any(|h| h.falls_on(*d)))
                .collect()
        }

        /// §3.6.1: "Our Blissful Anniversary", an all-day event every year from its DTSTART.
        const ANNIVERSARY: &str = "UID:19970901T130000Z-123403@example.com\r\nDTSTAMP:19970901T130000Z\r\n\
DTSTART;VALUE=DATE:19971102\r\nSUMMARY:Our Blissful Anniversary\r\nTRANSP:TRANSPARENT\r\n\
CLASS:CONFIDENTIAL\r\nCATEGORIES:ANNIVERSARY,PERSONAL,SPECIAL OCCASION\r\nRRULE:FREQ=YEARLY\r\n";

        #[test]
        fn a_yearly_rule_starts_at_its_dtstart() {
            let hs = event(ANNIVERSARY);
            assert_eq!(
                hs,
                vec![Holiday::yearly_from(
                    date(1997, 11, 2),
                    Some("Our Blissful Anniversary")
                )]
            );
            // No occurrence before DTSTART; every year from it on.
            assert!(!hs[0].falls_on(date(1996, 11, 2)));
            assert!(hs[0].falls_on(date(1997, 11, 2)));
            assert!(hs[0].falls_on(date(2031, 11, 2)));
            let calendar =
                crate::sla::Calendar::new("UTC", crate::sla::Week::every_day(&[crate::sla::Window::all_day()]), hs)
                    .unwrap();
            assert!(calendar.holiday_on(date(1990, 11, 2)).is_none());
            assert!(calendar.holiday_on(date(2026, 11, 2)).is_some());
        }

        #[test]
        fn a_multi_day_event_ends_the_day_before_its_dtend() {
            // §3.6.1: "a multi-day event scheduled from June 28th, 2007 to July 8th, 2007
            // inclusively": DTEND is exclusive.
            let hs = event(
                "UID:20070423T123432Z-541111@example.com\r\nDTSTAMP:20070423T123432Z\r\n\
DTSTART;VALUE=DATE:20070628\r\nDTEND;VALUE=DATE:20070709\r\n\
SUMMARY:Festival International de Jazz de Montreal\r\nTRANSP:TRANSPARENT\r\n",
            );
            let got = days(&hs, date(2007, 6, 1), date(2007, 7, 31));
            assert_eq!(got.len(), 11);
            assert_eq!((got[0], got[10]), (date(2007, 6, 28), date(2007, 7, 8)));
        }

        #[test]
        fn count_includes_dtstart_and_bounds_the_rule() {
            // §3.3.10: "The "DTSTART" property value always counts as the first occurrence."
            let hs = event("DTSTART;VALUE=DATE:19971102\r\nRRULE:FREQ=YEARLY;COUNT=3\r\n");
            let got = days(&hs, date(1990, 1, 1), date(2010, 12, 31));
            assert_eq!(got, vec![date(1997, 11, 2), date(1998, 11, 2), date(1999, 11, 2)]);
        }

        #[test]
        fn until_is_the_last_occurrence_when_it_falls_on_one() {
            // §3.3.10: an UNTIL synchronised with the rule "becomes the last instance"; one
            // between occurrences ends the rule at the occurrence before it.
            let on = event("DTSTART;VALUE=DATE:19971102\r\nRRULE:FREQ=YEARLY;UNTIL=19991102\r\n");
            assert_eq!(
                days(&on, date(1990, 1, 1), date(2010, 12, 31)),
                vec![date(1997, 11, 2), date(1998, 11, 2), date(1999, 11, 2)]
            );
            let between = event("DTSTART;VALUE=DATE:19971102\r\nRRULE:FREQ=YEARLY;UNTIL=19991101\r\n");
            assert_eq!(
                days(&between, date(1990, 1, 1), date(2010, 12, 31)),
                vec![date(1997, 11, 2), date(1998, 11, 2)]
            );
            let before = event("DTSTART;VALUE=DATE:19971102\r\nRRULE:FREQ=YEARLY;UNTIL=19970101\r\n");
            assert!(days(&before, date(1990, 1, 1), date(2010, 12, 31)).is_empty());
        }

        #[test]
        fn invalid_dates_are_skipped_and_not_counted() {
            // §3.3.10: instances with an invalid date (29 February in a common year) "MUST be
            // ignored and MUST NOT be counted as part of the recurrence set".
            let hs = event("DTSTART;VALUE=DATE:20240229\r\nRRULE:FREQ=YEARLY;COUNT=3\r\n");
            assert_eq!(
                days(&hs, date(2020, 1, 1), date(2040, 12, 31)),
                vec![date(2024, 2, 29), date(2028, 2, 29), date(2032, 2, 29)]
            );
            // Unbounded: every leap year from 2024 on, none before.
            let open = event("DTSTART;VALUE=DATE:20240229\r\nRRULE:FREQ=YEARLY\r\n");
            assert_eq!(
                days(&open, date(2019, 1, 1), date(2033, 12, 31)),
                vec![date(2024, 2, 29), date(2028, 2, 29), date(2032, 2, 29)]
            );
        }

        #[test]
        fn rules_a_fixed_date_calendar_cannot_follow_are_refused() {
            // §3.8.5.3's "yearly in June and July for 10 occurrences" (BYMONTH) and "every
            // other year" (INTERVAL=2) describe other dates than DTSTART's: refused with the
            // line, not approximated.
            for rule in [
                "FREQ=YEARLY;COUNT=10;BYMONTH=6,7",
                "FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3",
            ] {
                let text = format!(
                    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:19970610\nRRULE:{rule}\nEND:VEVENT\nEND:VCALENDAR"
                );
                assert_eq!(line_of(&text), 4, "{rule}");
            }
        }
    }
}
