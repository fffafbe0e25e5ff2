//! Results: samples per scenario and backend, summarised as median / min / max next to
//! the goal, printed as a Markdown table.

use std::fmt::Write as _;

/// What a number measures, for formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    PerSecond,
    Ratio,
    Megabytes,
    Seconds,
}

impl Unit {
    fn format(self, value: f64) -> String {
        match self {
            Unit::Millis if value < 10.0 => format!("{value:.2} ms"),
            Unit::Millis => format!("{value:.0} ms"),
            Unit::PerSecond => format!("{}/s", thousands(value)),
            Unit::Ratio => format!("{value:.2}×"),
            Unit::Megabytes => format!("{value:.0} MB"),
            Unit::Seconds if value < 10.0 => format!("{value:.2} s"),
            Unit::Seconds => format!("{value:.1} s"),
        }
    }
}

/// A goal: lower or higher is better, or none (informational).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
    None,
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Line {
    pub scenario: String,
    pub backend: &'static str,
    pub unit: Unit,
    pub samples: Vec<f64>,
    pub goal: Goal,
    pub note: String,
}

impl Line {
    pub fn new(scenario: impl Into<String>, backend: &'static str, unit: Unit, samples: Vec<f64>, goal: Goal) -> Self {
        Self {
            scenario: scenario.into(),
            backend,
            unit,
            samples,
            goal,
            note: String::new(),
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// (median, min, max); `None` without samples.
    pub fn stats(&self) -> Option<(f64, f64, f64)> {
        let mut v: Vec<f64> = self.samples.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let median = if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        };
        Some((median, v[0], v[v.len() - 1]))
    }

    /// How many times better than the goal the median is (≥ 1 = met).
    pub fn headroom(&self) -> Option<f64> {
        let (median, _, _) = self.stats()?;
        match self.goal {
            Goal::AtMost(goal) => Some(goal / median.max(f64::MIN_POSITIVE)),
            Goal::AtLeast(goal) => Some(median / goal),
            Goal::None => None,
        }
    }

    fn goal_text(&self) -> String {
        match self.goal {
            Goal::AtMost(g) => format!("≤ {}", self.unit.format(g)),
            Goal::AtLeast(g) => format!("≥ {}", self.unit.format(g)),
            Goal::None => "—".into(),
        }
    }
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn backend_name(backend: &str) -> &str {
    match backend {
        "sqlite" => "SQLite",
        "postgres" => "PostgreSQL",
        other => other,
    }
}

/// The Markdown table of every line.
pub fn table(lines: &[Line]) -> String {
    let mut out = String::new();
    out.push_str("| scenario | backend | median | min | max | goal | × goal | met | note |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for line in lines {
        let (median, min, max) = match line.stats() {
            Some((median, min, max)) => (line.unit.format(median), line.unit.format(min), line.unit.format(max)),
            None => ("n/a".into(), "n/a".into(), "n/a".into()),
        };
        let (headroom, met) = match line.headroom() {
            Some(h) => (format!("{h:.2}×"), if h >= 1.0 { "yes" } else { "**no**" }),
            None => ("—".into(), "—"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {median} | {min} | {max} | {} | {headroom} | {met} | {} |",
            line.scenario,
            backend_name(line.backend),
            line.goal_text(),
            line.note
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_goals_and_formatting() {
        let line = Line::new(
            "x",
            "sqlite",
            Unit::Millis,
            vec![3.0, 1.0, 2.0, 10.0],
            Goal::AtMost(5.0),
        );
        assert_eq!(line.stats(), Some((2.5, 1.0, 10.0)));
        assert_eq!(line.headroom(), Some(2.0));
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        let text = table(&[line, Line::new("y", "postgres", Unit::PerSecond, vec![], Goal::None)]);
        assert!(text.contains("| x | SQLite | 2.50 ms | 1.00 ms | 10 ms | ≤ 5.00 ms | 2.00× | yes |"));
        assert!(text.contains("| y | PostgreSQL | n/a |"));
    }
}
