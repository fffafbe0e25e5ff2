//! SLA reports (admins: every department; heads: their own): compliance over time,
//! breaches by department, policy, type, stage and assignee, time to decision, the
//! backlog by age and the most overdue work. Charts are SVG drawn on the server (readable
//! without JavaScript, printable), each with its numbers as a table and a CSV download;
//! after hydration, pointing at a bar tells its numbers.

use escalator_domain::readable;
use escalator_domain::report::{Breakdown, PeriodPoint, Table};
use escalator_domain::{OutcomeCounts, SlaReport};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::{when_in, ErrorNote};
use crate::server_fns::reports::{load_report, ReportFilters, ReportPage};

/// Each breakdown's heading.
const DIMENSIONS: [(&str, &str); 5] = [
    ("department", "By department"),
    ("policy", "By SLA policy"),
    ("workflow_type", "By workflow type"),
    ("stage", "By stage"),
    ("assignee", "By assignee (who held the stage when it ended)"),
];

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_string(), |s| format!("{:.1} %", s * 100.0))
}

fn seconds(s: Option<i64>) -> String {
    s.map_or_else(|| "—".to_string(), readable::length)
}

/// The reports page.
#[component]
pub fn ReportsPage() -> impl IntoView {
    let query_map = use_query_map();
    let filters = move || {
        let q = query_map.get();
        ReportFilters {
            from: q.get("from"),
            to: q.get("to"),
            department: q.get("department"),
            policy_id: q.get("policy_id"),
            workflow_type: q.get("workflow_type"),
            period: q.get("period"),
        }
    };
    let data = Resource::new(filters, load_report);
    view! {
        <h1>"SLA reports"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Report page filters=filters()/> }.into_any(),
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Report(page: ReportPage, filters: ReportFilters) -> impl IntoView {
    let ReportPage {
        report,
        departments,
        policies,
        all_departments,
        zone,
    } = page;
    let query = filters.query();
    let csv = move |table: &str| {
        let sep = if query.is_empty() { "" } else { "&" };
        format!("/ui/export/report.csv?table={table}{sep}{query}")
    };
    let r = &report;
    let breakdowns: Vec<Breakdown> = DIMENSIONS
        .iter()
        .filter_map(|(by, _)| r.breakdowns.iter().find(|b| b.by == *by).cloned())
        .collect();
    view! {
        <Filters report=r.clone() departments policies all_departments/>
        <ul class="counts report-summary" aria-label="Totals">
            <li><strong data-testid="report-compliance">{percent(r.compliance)}</strong> " kept their SLA"</li>
            <li><strong data-testid="report-decided">{r.totals.decided()}</strong> " decided"</li>
            <li class="sla-breached"><strong data-testid="report-breached">{r.totals.breached}</strong> " late"</li>
            <li><strong>{r.totals.escalations}</strong> " escalations"</li>
            <li><strong>{r.totals.cancelled}</strong> " cancelled"</li>
            <li><strong data-testid="report-median">{seconds(r.median_decision_seconds)}</strong> " median to decision"</li>
            <li><strong>{seconds(r.p90_decision_seconds)}</strong> " p90 to decision"</li>
        </ul>
        <section class="card report" aria-labelledby="compliance-h" data-testid="report-compliance-section">
            <h2 id="compliance-h">"Compliance by " {r.period.as_str()}</h2>
            <ComplianceChart points=r.series.clone()/>
            <NumbersTable table=r.table("compliance") csv=csv("compliance") name="compliance".to_string()/>
        </section>
        {breakdowns.into_iter().map(|b| {
            let heading = DIMENSIONS.iter().find(|(by, _)| *by == b.by).map_or("", |(_, h)| *h);
            let table = r.table(&b.by);
            let link = csv(&b.by);
            let by = b.by.clone();
            let testid = format!("report-{by}");
            view! {
                <section class="card report" aria-label=heading data-testid=testid>
                    <h2>{heading}</h2>
                    {if b.groups.is_empty() {
                        view! { <p class="empty">"No stage ended in this range."</p> }.into_any()
                    } else {
                        view! {
                            <StackedBars rows=b.groups.iter().map(|g| (g.label.clone(), outcome_segments(&g.counts))).collect()/>
                            <NumbersTable table csv=link name=by/>
                        }.into_any()
                    }}
                </section>
            }
        }).collect_view()}
        <section class="card report" aria-labelledby="backlog-h" data-testid="report-backlog">
            <h2 id="backlog-h">"Open now, by age of the stage"</h2>
            <StackedBars rows=r.backlog.iter().map(|b| (b.age.clone(), vec![
                ("on time", b.ok, "seg-ok"),
                ("warned", b.warning, "seg-warn"),
                ("late", b.breached, "seg-bad"),
                ("on hold", b.paused, "seg-paused"),
            ])).collect()/>
            <NumbersTable table=r.table("backlog") csv=csv("backlog") name="backlog".to_string()/>
        </section>
        <section class="card report" aria-labelledby="overdue-h" data-testid="report-overdue">
            <h2 id="overdue-h">"Most overdue"</h2>
            {if r.overdue.is_empty() {
                view! { <p class="empty">"Nothing is past its deadline."</p> }.into_any()
            } else {
                let rows = r.overdue.clone();
                let zone = zone.clone();
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"Workflow"</th><th scope="col">"Department"</th>
                                <th scope="col">"Assignee"</th><th scope="col">"Deadline"</th><th scope="col">"Late by"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|o| view! {
                                    <tr data-testid="overdue-row">
                                        <td><a href=format!("/workflows/{}", o.workflow_id)>{o.title}</a></td>
                                        <td>{o.department}</td>
                                        <td><span class="person" title=o.assignee>{o.assignee_name}</span></td>
                                        <td>{when_in(o.due_at, &zone)}</td>
                                        <td>{readable::length(o.overdue_seconds)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <p><a href=csv("overdue") download="overdue.csv">"Download CSV"</a></p>
                }.into_any()
            }}
        </section>
    }
}

/// One piece of a bar: what it counts, how many, its CSS class.
type Segment = (&'static str, i64, &'static str);

fn outcome_segments(c: &OutcomeCounts) -> Vec<Segment> {
    vec![
        ("on time", c.met, "seg-ok"),
        ("late", c.breached, "seg-bad"),
        ("cancelled", c.cancelled, "seg-paused"),
    ]
}

/// The filter form: a GET form, so the URL holds the report and it works without JavaScript.
#[component]
fn Filters(
    report: SlaReport,
    departments: Vec<(String, String)>,
    policies: Vec<(i64, String)>,
    all_departments: bool,
) -> impl IntoView {
    let department = report.department.clone().unwrap_or_default();
    let policy = report.policy_id.map(|p| p.to_string()).unwrap_or_default();
    let period = report.period.as_str();
    view! {
        <Form method="GET" action="/reports" attr:class="filters" attr:aria-label="Report filters">
            <div class="field">
                <label for="r-from">"From"</label>
                <input id="r-from" name="from" type="date" value=report.from.to_string() data-testid="report-from"/>
            </div>
            <div class="field">
                <label for="r-to">"To (included)"</label>
                <input id="r-to" name="to" type="date" value=report.to.to_string() data-testid="report-to"/>
            </div>
            <div class="field">
                <label for="r-department">"Department"</label>
                <select id="r-department" name="department" data-testid="report-department">
                    {all_departments.then(|| view! { <option value="" selected=department.is_empty()>"All"</option> })}
                    {departments.into_iter().map(|(key, name)| {
                        let selected = key == department;
                        view! { <option value=key selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="r-policy">"SLA policy"</label>
                <select id="r-policy" name="policy_id">
                    <option value="" selected=policy.is_empty()>"All"</option>
                    {policies.into_iter().map(|(id, name)| {
                        let selected = id.to_string() == policy;
                        view! { <option value=id.to_string() selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="r-type">"Workflow type"</label>
                <input id="r-type" name="workflow_type" value=report.workflow_type.clone().unwrap_or_default()/>
            </div>
            <div class="field">
                <label for="r-period">"Group by"</label>
                <select id="r-period" name="period" data-testid="report-period">
                    {[("day", "Day"), ("week", "Week"), ("month", "Month")].into_iter().map(|(value, label)| view! {
                        <option value=value selected=value == period>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" data-testid="report-apply">"Show"</button>
        </Form>
    }
}

/// A chart's numbers: the table and its CSV.
#[component]
fn NumbersTable(table: Option<Table>, csv: String, name: String) -> impl IntoView {
    table.map(|t| {
        view! {
            <details class="numbers">
                <summary>"Numbers"</summary>
                <div class="table-wrap">
                    <table data-testid=format!("table-{name}")>
                        <thead><tr>{t.columns.iter().map(|c| view! { <th scope="col">{*c}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {t.rows.into_iter().map(|row| view! {
                                <tr>{row.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </details>
            <p><a href=csv download=format!("{name}.csv") data-testid=format!("csv-{name}")>"Download CSV"</a></p>
        }
    })
}

const W: f64 = 600.0;
const LEFT: f64 = 40.0;
const TOP: f64 = 8.0;
const PLOT_H: f64 = 160.0;

/// Compliance per period as bars from 0 to 100 %; periods without decisions as a stub.
#[component]
fn ComplianceChart(points: Vec<PeriodPoint>) -> impl IntoView {
    let detail = RwSignal::new(None::<String>);
    let n = points.len().max(1) as f64;
    let step = (W - LEFT) / n;
    let first = points.first().map(|p| p.start.to_string()).unwrap_or_default();
    let last = points.last().map(|p| p.start.to_string()).unwrap_or_default();
    let decided: i64 = points.iter().map(|p| p.counts.decided()).sum();
    let label = format!(
        "Compliance per period from {first} to {last}: {decided} decisions; the numbers are in the table below."
    );
    let bars = points
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let (height, class) = match p.compliance {
                Some(c) if c >= 0.95 => (c * PLOT_H, "seg-ok"),
                Some(c) if c >= 0.8 => (c * PLOT_H, "seg-warn"),
                Some(c) => ((c * PLOT_H).max(2.0), "seg-bad"),
                None => (2.0, "seg-none"),
            };
            let text = format!(
                "{}: {} ({} on time, {} late)",
                p.start,
                percent(p.compliance),
                p.counts.met,
                p.counts.breached
            );
            let hover = text.clone();
            view! {
                <rect class=class x=format!("{:.1}", LEFT + i as f64 * step + step * 0.1) y=format!("{:.1}", TOP + PLOT_H - height)
                    width=format!("{:.1}", (step * 0.8).max(1.0)) height=format!("{:.1}", height)
                    on:mouseenter=move |_| detail.set(Some(hover.clone()))>
                    <title>{text}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {}", TOP + PLOT_H + 24.0) role="img" aria-label=label data-testid="compliance-chart">
            {[0.0, 0.5, 1.0].into_iter().map(|share| {
                let y = format!("{:.1}", TOP + PLOT_H - share * PLOT_H);
                view! {
                    <line class="grid" x1=LEFT x2=W y1=y.clone() y2=y.clone()/>
                    <text class="axis" x=LEFT - 4.0 y=y text-anchor="end" dominant-baseline="middle">{format!("{:.0}%", share * 100.0)}</text>
                }
            }).collect_view()}
            {bars}
            <text class="axis" x=LEFT y=TOP + PLOT_H + 18.0>{first}</text>
            <text class="axis" x=W y=TOP + PLOT_H + 18.0 text-anchor="end">{last}</text>
        </svg>
        <p class="chart-detail muted small" aria-live="polite" data-testid="chart-detail">
            {move || detail.get().unwrap_or_else(|| "Point at a bar for its numbers.".into())}
        </p>
    }
}

/// Horizontal bars, one per row, split into labelled segments (name, count, class).
#[component]
fn StackedBars(rows: Vec<(String, Vec<Segment>)>) -> impl IntoView {
    let detail = RwSignal::new(None::<String>);
    let label_w = 200.0;
    let row_h = 24.0;
    let max: i64 = rows
        .iter()
        .map(|(_, segs)| segs.iter().map(|s| s.1).sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = (W - label_w - 40.0) / max as f64;
    let height = rows.len() as f64 * row_h + 4.0;
    let summary = rows
        .iter()
        .map(|(label, segs)| {
            let parts: Vec<String> = segs
                .iter()
                .filter(|s| s.1 > 0)
                .map(|s| format!("{} {}", s.1, s.0))
                .collect();
            format!(
                "{label}: {}",
                if parts.is_empty() {
                    "none".to_string()
                } else {
                    parts.join(", ")
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, segs))| {
            let y = i as f64 * row_h + 2.0;
            let mut x = label_w;
            let total: i64 = segs.iter().map(|s| s.1).sum();
            let short: String = if label.chars().count() > 28 {
                format!("{}…", label.chars().take(27).collect::<String>())
            } else {
                label.clone()
            };
            let pieces = segs
                .into_iter()
                .filter(|s| s.1 > 0)
                .map(|(name, count, class)| {
                    let w = count as f64 * scale;
                    let at = x;
                    x += w;
                    let text = format!("{label}: {count} {name}");
                    let hover = text.clone();
                    view! {
                        <rect class=class x=format!("{at:.1}") y=format!("{y:.1}") width=format!("{:.1}", w.max(1.0)) height=row_h - 6.0
                            on:mouseenter=move |_| detail.set(Some(hover.clone()))>
                            <title>{text}</title>
                        </rect>
                    }
                })
                .collect_view();
            view! {
                <text class="axis" x=label_w - 6.0 y=y + (row_h - 6.0) / 2.0 text-anchor="end" dominant-baseline="middle">{short}</text>
                {pieces}
                <text class="axis" x=x + 4.0 y=y + (row_h - 6.0) / 2.0 dominant-baseline="middle">{total}</text>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {height:.0}") role="img" aria-label=summary>
            {bars}
        </svg>
        <p class="chart-detail muted small" aria-live="polite">
            {move || detail.get().unwrap_or_else(|| "Point at a bar for its numbers.".into())}
        </p>
    }
}
