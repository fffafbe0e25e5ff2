//! Live SLA countdowns: one clock signal per page, started from the server's "now" so
//! the hydrated page matches the server's HTML, then ticking every second in the browser.

use chrono::{DateTime, Utc};
use escalator_domain::SlaStatus;
use leptos::prelude::*;

use crate::model::{human_duration, sla_class, sla_label, SlaClock};

/// The page's clock.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<DateTime<Utc>>);

/// Provides a clock starting at the server's `now` and ticking once a second after hydration.
pub fn provide_clock(now: DateTime<Utc>) -> Clock {
    let clock = Clock(RwSignal::new(now));
    provide_context(clock);
    Effect::new(move |_| {
        // Effects run in the browser only: the server renders `now` as it was.
        #[cfg(feature = "hydrate")]
        set_interval(
            move || {
                let ms = js_sys::Date::now() as i64;
                if let Some(at) = DateTime::from_timestamp_millis(ms) {
                    clock.0.set(at);
                }
            },
            std::time::Duration::from_secs(1),
        );
    });
    clock
}

/// A badge and countdown for one workflow.
#[component]
pub fn Countdown(clock: SlaClock, page_now: DateTime<Utc>) -> impl IntoView {
    let now = use_context::<Clock>()
        .unwrap_or_else(|| Clock(RwSignal::new(page_now)))
        .0;
    // Recomputed per use rather than memoised: two comparisons cost less than a memo per row.
    let status = move || clock.status_at(now.get());
    let text = move || {
        let left = clock.remaining_at(page_now, now.get());
        match status() {
            SlaStatus::Paused => format!("on hold, {} left", human_duration(left)),
            SlaStatus::Breached => format!("{} overdue", human_duration(left.min(0))),
            _ => format!("{} left", human_duration(left)),
        }
    };
    view! {
        <span class=move || format!("badge {}", sla_class(status()))>{move || sla_label(status())}</span>
        " "
        <span class="countdown" data-testid="countdown">{text}</span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WorkflowRow;
    use chrono::TimeDelta;

    fn row(sla: SlaStatus, remaining: i64, now: DateTime<Utc>) -> SlaClock {
        WorkflowRow {
            id: 1,
            external_id: "X".into(),
            title: "T".into(),
            workflow_type: "purchase".into(),
            department: "finance".into(),
            stage: "Approval".into(),
            assignee: "a@x.io".into(),
            assignee_name: "Ann".into(),
            status: "pending".into(),
            level: 0,
            sla,
            warn_at: now + TimeDelta::seconds(remaining - 60),
            due_at: now + TimeDelta::seconds(remaining),
            remaining_seconds: remaining,
        }
        .clock()
    }

    #[test]
    fn a_countdown_moves_through_warning_to_breached() {
        let t0 = Utc::now();
        let r = row(SlaStatus::Ok, 120, t0);
        assert_eq!(r.status_at(t0), SlaStatus::Ok);
        assert_eq!(r.status_at(t0 + TimeDelta::seconds(60)), SlaStatus::Warning);
        assert_eq!(r.status_at(t0 + TimeDelta::seconds(120)), SlaStatus::Breached);
        assert_eq!(r.remaining_at(t0, t0 + TimeDelta::seconds(30)), 90);
    }

    #[test]
    fn a_paused_countdown_stands_still() {
        let t0 = Utc::now();
        let r = row(SlaStatus::Paused, 120, t0);
        assert_eq!(r.status_at(t0 + TimeDelta::hours(5)), SlaStatus::Paused);
        assert_eq!(r.remaining_at(t0, t0 + TimeDelta::hours(5)), 120);
    }
}
