//! Prometheus metrics. Names follow the seed (`workflow_tasks_*_total`, …); labels stay
//! low-cardinality (no workflow ids, no e-mails). Gauges that need counting rows are
//! refreshed per tick ([`Escalator::refresh_gauges`]), never per scrape.

use chrono::Utc;
pub use prometheus::Error as PrometheusError;
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::tick::TickSummary;
use crate::{EngineResult, Escalator};

/// All of Escalator's metrics, in one registry.
pub struct Metrics {
    registry: Registry,
    checked: IntCounter,
    escalated: IntCounter,
    reminded: IntCounter,
    over_sla: IntCounter,
    failures: IntCounter,
    ticks: IntCounterVec,
    tick_duration: Histogram,
    lateness: HistogramVec,
    last_success: Gauge,
    tick_interval: Gauge,
    open: IntGaugeVec,
    oldest_breach_age: Gauge,
    needs_attention: Gauge,
    outbox_pending: IntGaugeVec,
    outbox_dead: IntGaugeVec,
    outbox_oldest_pending_age: Gauge,
    notifications_sent: IntCounterVec,
    notification_failures: IntCounterVec,
    sla_outcomes: IntCounterVec,
    /// The (department, policy) pairs `sla_outcomes` has series for: at most
    /// [`MAX_OUTCOME_PAIRS`], later ones are counted under `other`.
    outcome_pairs: std::sync::Mutex<std::collections::HashSet<(String, String)>>,
    /// HTTP requests by method, matched route and status; recorded by the server.
    pub http_requests: IntCounterVec,
    /// HTTP latency by method and matched route; recorded by the server.
    pub http_duration: HistogramVec,
}

const TICK_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// From "at once" to "the safety-net tick's 15 minutes": lateness is seconds at most while
/// the deadline watcher runs, minutes when only the cron tick does.
const LATENESS_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];
/// The most (department, policy) label pairs of `workflow_sla_outcomes_total` in one
/// process: 2 outcomes × 200 pairs = 400 series at most. Pairs seen after the cap are
/// counted as `department="other", policy="other"`, so totals stay right.
pub const MAX_OUTCOME_PAIRS: usize = 200;

const HTTP_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

impl Metrics {
    /// Creates and registers every metric.
    pub fn new(tick_interval_seconds: f64) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| -> Result<IntCounter, prometheus::Error> {
            let c = IntCounter::new(name, help)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let counter_vec = |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let gauge = |name: &str, help: &str| -> Result<Gauge, prometheus::Error> {
            let g = Gauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| -> Result<IntGaugeVec, prometheus::Error> {
            let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let tick_duration = Histogram::with_opts(
            HistogramOpts::new("workflow_escalation_duration_seconds", "Duration of escalation ticks.")
                .buckets(TICK_BUCKETS.to_vec()),
        )?;
        registry.register(Box::new(tick_duration.clone()))?;
        let lateness = HistogramVec::new(
            HistogramOpts::new(
                "workflow_action_lateness_seconds",
                "Time from a workflow's threshold (warning time, deadline) to its reminder or escalation being made.",
            )
            .buckets(LATENESS_BUCKETS.to_vec()),
            &["action"],
        )?;
        registry.register(Box::new(lateness.clone()))?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by matched route.",
            )
            .buckets(HTTP_BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        registry.register(Box::new(http_duration.clone()))?;
        let build_info = IntGauge::with_opts(
            Opts::new("escalator_build_info", "Escalator build information.")
                .const_label("version", env!("CARGO_PKG_VERSION"))
                // The zone rules in use when the process started.
                .const_label(
                    "tz_rules",
                    crate::versions::zone_rules().in_use.unwrap_or_else(|| "unknown".into()),
                ),
        )?;
        build_info.set(1);
        registry.register(Box::new(build_info))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;

        let metrics = Self {
            checked: counter("workflow_tasks_checked_total", "Due workflows checked by ticks.")?,
            escalated: counter("workflow_tasks_escalated_total", "Workflows escalated.")?,
            reminded: counter("workflow_tasks_reminded_total", "Reminders created.")?,
            over_sla: counter("workflow_tasks_over_sla_total", "Workflows found breached by ticks.")?,
            failures: counter(
                "workflow_escalation_failures_total",
                "Workflows that failed within a tick.",
            )?,
            ticks: counter_vec(
                "workflow_ticks_total",
                "Ticks by outcome (ok, error, skipped).",
                &["outcome"],
            )?,
            tick_duration,
            lateness,
            last_success: gauge(
                "workflow_last_successful_tick_timestamp_seconds",
                "Unix time of the last successful tick.",
            )?,
            tick_interval: gauge(
                "workflow_tick_interval_seconds",
                "Configured period of the safety-net tick.",
            )?,
            open: gauge_vec(
                "workflow_open",
                "Open workflows by SLA status, as of the last tick.",
                &["sla_status"],
            )?,
            oldest_breach_age: gauge(
                "workflow_oldest_breach_age_seconds",
                "Age of the oldest unresolved breach, as of the last tick.",
            )?,
            needs_attention: gauge(
                "workflow_needs_attention",
                "Open workflows overdue at the top of their escalation chain (exhausted), as of the last tick.",
            )?,
            outbox_pending: gauge_vec(
                "workflow_outbox_pending",
                "Outbox rows waiting for delivery.",
                &["kind"],
            )?,
            outbox_dead: gauge_vec("workflow_outbox_dead", "Dead-lettered outbox rows.", &["kind"])?,
            outbox_oldest_pending_age: gauge(
                "workflow_outbox_oldest_pending_age_seconds",
                "Age of the oldest pending outbox row.",
            )?,
            notifications_sent: counter_vec(
                "workflow_notifications_sent_total",
                "Outbox messages delivered, by channel.",
                &["channel"],
            )?,
            notification_failures: counter_vec(
                "workflow_notification_failures_total",
                "Failed delivery attempts, by channel.",
                &["channel"],
            )?,
            sla_outcomes: counter_vec(
                "workflow_sla_outcomes_total",
                "Stages decided (completed or advanced) by SLA outcome (met, breached), department and policy id.",
                &["outcome", "department", "policy"],
            )?,
            outcome_pairs: std::sync::Mutex::new(std::collections::HashSet::new()),
            http_requests: counter_vec(
                "http_requests_total",
                "HTTP requests by method, matched route and status.",
                &["method", "route", "status"],
            )?,
            http_duration,
            registry,
        };
        metrics.tick_interval.set(tick_interval_seconds);
        for status in ["ok", "warning", "breached", "paused"] {
            metrics.open.with_label_values(&[status]).set(0);
        }
        for kind in ["notification", "event"] {
            metrics.outbox_pending.with_label_values(&[kind]).set(0);
            metrics.outbox_dead.with_label_values(&[kind]).set(0);
        }
        // Zero series for every channel, so rates and alerts work before the first message.
        for channel in ["log", "email", "in_app", "webhook", "sms"] {
            metrics.notifications_sent.with_label_values(&[channel]);
            metrics.notification_failures.with_label_values(&[channel]);
        }
        // Zero series, so the breach-rate alert and panels have data before the first decision.
        for outcome in ["met", "breached"] {
            metrics.sla_outcomes.with_label_values(&[outcome, "other", "other"]);
        }
        for outcome in ["ok", "error", "skipped"] {
            metrics.ticks.with_label_values(&[outcome]);
        }
        for action in ["remind", "escalate"] {
            metrics.lateness.with_label_values(&[action]);
        }
        Ok(metrics)
    }

    /// Counts one decided stage's SLA outcome under its department and policy (or `other`
    /// once [`MAX_OUTCOME_PAIRS`] pairs have series).
    pub fn record_outcome(&self, outcome: &str, department: &str, policy_id: i64) {
        let pair = (department.to_string(), policy_id.to_string());
        let known = match self.outcome_pairs.lock() {
            Ok(mut pairs) => pairs.contains(&pair) || (pairs.len() < MAX_OUTCOME_PAIRS && pairs.insert(pair.clone())),
            Err(_) => false,
        };
        let (department, policy) = if known {
            (pair.0.as_str(), pair.1.as_str())
        } else {
            ("other", "other")
        };
        self.sla_outcomes
            .with_label_values(&[outcome, department, policy])
            .inc();
    }

    /// The registry, for extra collectors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%err, "could not encode metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }

    pub(crate) fn record_tick(&self, s: &TickSummary) {
        self.checked.inc_by(s.checked);
        self.escalated.inc_by(s.escalated);
        self.reminded.inc_by(s.reminded);
        self.over_sla.inc_by(s.escalated + s.exhausted);
        self.failures.inc_by(s.failed);
        self.ticks.with_label_values(&["ok"]).inc();
        self.tick_duration.observe(s.duration_seconds);
        self.last_success.set(Utc::now().timestamp() as f64);
    }

    pub(crate) fn record_failed_tick(&self, seconds: f64) {
        self.ticks.with_label_values(&["error"]).inc();
        self.tick_duration.observe(seconds);
    }

    /// How late after its threshold a reminder (`remind`) or escalation (`escalate`) was made.
    pub(crate) fn record_lateness(&self, action: &str, seconds: f64) {
        self.lateness.with_label_values(&[action]).observe(seconds);
    }

    pub(crate) fn record_skipped_tick(&self) {
        self.ticks.with_label_values(&["skipped"]).inc();
    }

    pub(crate) fn record_delivered(&self, channel: &str, n: usize) {
        self.notifications_sent.with_label_values(&[channel]).inc_by(n as u64);
    }

    pub(crate) fn record_delivery_failure(&self, channel: &str) {
        self.notification_failures.with_label_values(&[channel]).inc();
    }
}

impl Escalator {
    /// Recounts the gauges that need the database (open workflows, outbox backlog).
    pub async fn refresh_gauges(&self) -> EngineResult<()> {
        let now = self.now();
        let stats = self.store.stats(now).await?;
        let m = &self.metrics;
        for status in ["ok", "warning", "breached", "paused"] {
            let n = stats
                .open_by_sla_status
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            m.open.with_label_values(&[status]).set(n);
        }
        let age = |at: Option<chrono::DateTime<Utc>>| {
            at.map_or(0.0, |at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
        };
        m.oldest_breach_age.set(age(stats.oldest_breach_due_at));
        m.needs_attention.set(stats.needs_attention as f64);
        m.outbox_oldest_pending_age.set(age(stats.oldest_pending_outbox_at));
        for kind in ["notification", "event"] {
            let find = |status: &str| {
                stats
                    .outbox
                    .iter()
                    .find(|(k, s, _)| k == kind && s == status)
                    .map_or(0, |(_, _, n)| *n)
            };
            m.outbox_pending.with_label_values(&[kind]).set(find("pending"));
            m.outbox_dead.with_label_values(&[kind]).set(find("dead"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_series_are_capped_and_totals_kept() {
        let m = Metrics::new(900.0).unwrap();
        for i in 0..MAX_OUTCOME_PAIRS + 5 {
            m.record_outcome("met", &format!("d{i}"), 1);
        }
        m.record_outcome("breached", "d0", 1);
        m.record_outcome("breached", "late-comer", 2);
        let text = m.render();
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("workflow_sla_outcomes_total{"))
            .collect();
        assert_eq!(series.len(), MAX_OUTCOME_PAIRS + 3, "{series:?}");
        assert!(
            text.contains(r#"workflow_sla_outcomes_total{department="d0",outcome="met",policy="1"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"workflow_sla_outcomes_total{department="other",outcome="met",policy="other"} 5"#));
        assert!(text.contains(r#"workflow_sla_outcomes_total{department="other",outcome="breached",policy="other"} 1"#));
    }
}
