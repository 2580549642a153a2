//! A period review (board pack) built from one evaluation: the KPIs of a
//! scope (the project, a scorecard, a partnership, a contract or an
//! owner's), each judged in the review period with its change and history,
//! the scorecards' scores, contracts' clauses and credits, the data's
//! freshness and the agreements' standing — every number from the same
//! rows `eval`, `sla` and `score` print (`yardstick-docs::review` renders it).

use std::collections::BTreeMap;

use yardstick_core::appendix::definition;
use yardstick_core::format;
use yardstick_core::model::Project;
use yardstick_core::{Calendar, Period};
use yardstick_docs::chart::ChartSpec;
use yardstick_docs::review::{ContractReview, KpiReview, Review, ScoreLine, Summary};
use yardstick_engine::consequences::{ScoreReport, SlaReport};
use yardstick_engine::eval::{Evaluation, Row};
use yardstick_engine::freshness::Stale;

use crate::agreements::Agreement;
pub use yardstick_core::model::review::Scope;

mod gather;
mod sections;

pub use gather::{Gathered, gather};
use sections::{actions_on, cadence_words, forecast_after, partnership_reviews, restated};

/// What a review is built from: one evaluation and what was derived from it.
#[derive(Debug)]
pub struct Inputs<'a> {
    pub project: &'a Project,
    pub evaluation: &'a Evaluation,
    pub sla: &'a SlaReport,
    pub scores: &'a ScoreReport,
    pub stale: &'a [Stale],
    pub agreements: &'a [Agreement],
    /// Corrective actions recorded (`workspace::actions`), with their effect.
    pub actions: &'a [crate::actions::Listed],
    /// For a party-facing pack: what that party may see (the KPIs,
    /// contracts and scorecards outside it are left out).
    pub visible: Option<&'a yardstick_core::visibility::Visible>,
    /// For a scheduled pack: values restated since the schedule's previous
    /// pack, and when that was issued (`None`: the first pack, or one
    /// written on demand).
    pub restated: &'a [yardstick_store::Restatement],
    pub restated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Per KPI, the top causes of its miss in words (`Gathered::causes`).
    pub causes: &'a BTreeMap<String, Vec<String>>,
    /// The partnerships' reconciliations (`Gathered::reconciliations`).
    pub reconciliations: &'a [yardstick_engine::reconcile::Reconciliation],
}

/// The review period named by `label` (`2026-Q3`, `2026-09`, `2026`).
pub fn period(cal: &Calendar, label: &str) -> Result<Period, String> {
    cal.parse_label(label).ok_or_else(|| {
        format!("`{label}` is not a period: write 2026-Q3, 2026-09, 2026-H2, 2026 or 2026-W40")
    })
}

fn status_of(r: &Row) -> String {
    match (r.status, &r.target) {
        (Some(s), _) => s.as_str().to_string(),
        (None, None) if r.value.is_some() => "none".into(),
        (None, _) => "no_data".into(),
    }
}

fn change(now: Option<f64>, then: Option<f64>, unit: Option<&str>, currency: Option<&str>) -> Option<String> {
    let (n, t) = (now?, then?);
    let diff = n - t;
    let sign = if diff >= 0.0 { "+" } else { "−" };
    if unit == Some("%") {
        // A share moves by percentage points.
        return Some(format!(
            "{sign}{} pts (from {})",
            format::trimmed(diff.abs() * 100.0, 2),
            format::value(t, unit, currency)
        ));
    }
    let rel = (t != 0.0).then(|| format!(" ({sign}{})", format::percent((diff / t).abs())));
    Some(format!(
        "{sign}{}{} (from {})",
        format::value(diff.abs(), unit, currency),
        if unit == Some("%") {
            String::new()
        } else {
            rel.unwrap_or_default()
        },
        format::value(t, unit, currency)
    ))
}

/// The KPI's period a review of `p` shows, from the KPI's rows: its own
/// last period that falls inside `p` (its grain may be finer), or the one
/// that contains `p` (coarser).
fn reviewed_period<'r>(rows: &[&'r Row], p: &Period) -> Option<&'r Row> {
    let (first, end) = (p.first, p.end);
    let latest = |it: &mut dyn Iterator<Item = &'r Row>| it.max_by_key(|r| r.start);
    latest(
        &mut rows
            .iter()
            .copied()
            .filter(|r| r.start.date_naive() >= first && r.end.date_naive() <= end),
    )
    .or_else(|| {
        latest(
            &mut rows
                .iter()
                .copied()
                .filter(|r| r.start.date_naive() < end && r.end.date_naive() > first),
        )
    })
}

/// The KPIs of `scope` that a pack (for `visible`) shows.
fn shown_kpis(
    project: &Project,
    scope: &Scope,
    visible: Option<&yardstick_core::visibility::Visible>,
) -> Vec<String> {
    scope
        .kpis(project)
        .into_iter()
        .filter(|k| visible.is_none_or(|v| v.kpis.contains(k)))
        .collect()
}

/// The review of `scope` in `p`.
pub fn build(i: &Inputs<'_>, scope: &Scope, p: &Period, label: &str) -> Review {
    let project = i.project;
    let currency = project.settings.currency.as_deref();
    let tz = project.settings.timezone;
    let (first, end) = (p.first, p.end);
    let mut kpis = Vec::new();
    let sees =
        |set: Option<&std::collections::BTreeSet<String>>, id: &str| set.is_none_or(|s| s.contains(id));
    let shown = shown_kpis(project, scope, i.visible);
    for id in shown.iter().cloned() {
        let Some(k) = project.kpis.get(&id) else { continue };
        let unit = k.display_unit();
        let shown = |v: Option<f64>| format::value_or_dash(v, unit, currency);
        let rows: Vec<&Row> = i.evaluation.evaluations.iter().filter(|r| r.kpi == id).collect();
        let chosen_period = reviewed_period(&rows, p).map(|r| (r.start, r.period.clone()));
        let Some((start, period)) = chosen_period else {
            kpis.push(KpiReview {
                id: id.clone(),
                name: k.display_name().to_string(),
                period: label.to_string(),
                value: "—".into(),
                raw: None,
                unit: unit.map(str::to_string),
                raw_change: None,
                target: k
                    .target
                    .as_ref()
                    .map(|t| format::target(&t.value.target, unit, currency))
                    .unwrap_or_default(),
                status: "no_data".into(),
                complete: false,
                change_previous: None,
                change_year: None,
                projection: None,
                entities: Vec::new(),
                history: Vec::new(),
                trend: String::new(),
                target_line: None,
                chart_spec: ChartSpec::default(),
                chart_comment: String::new(),
                forecast: None,
                causes: Vec::new(),
                actions: Vec::new(),
                definition: k
                    .measure
                    .as_ref()
                    .map_or_else(String::new, |m| definition(&m.value)),
                owner: k.owner.clone(),
                cadence: cadence_words(k),
                chart: String::new(),
            });
            continue;
        };
        let at: Vec<&Row> = rows.iter().copied().filter(|r| r.period == period).collect();
        let total = at.iter().find(|r| r.entity.is_none()).copied();
        let entities: Vec<(String, String, String)> = at
            .iter()
            .filter(|r| r.entity.is_some())
            .map(|r| {
                let e = r
                    .entity
                    .as_ref()
                    .map(|e| e.values().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                (e, shown(r.value), status_of(r))
            })
            .collect();
        // A `for_each` KPI has no total: its entities say how it went.
        let main = total;
        let (summary_value, summary_status) = if total.is_none() && !entities.is_empty() {
            let met = entities.iter().filter(|e| e.2 == "met").count();
            let worst = ["missed", "warning", "no_data", "met", "none"]
                .into_iter()
                .find(|s| entities.iter().any(|e| e.2 == *s))
                .unwrap_or("none");
            (
                Some(format!("{met} of {} met", entities.len())),
                Some(worst.to_string()),
            )
        } else {
            (None, None)
        };
        let series: BTreeMap<_, Option<f64>> = rows
            .iter()
            .filter(|r| r.entity.is_none() && r.start <= start)
            .map(|r| ((r.start, r.period.clone()), r.value))
            .collect();
        let history: Vec<(String, Option<f64>)> = series
            .into_iter()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(|((_, l), v)| (l, v))
            .collect();
        let year_ago = total.and_then(|t| {
            let then = t.start.date_naive().checked_sub_months(chrono::Months::new(12))?;
            rows.iter()
                .find(|r| r.entity.is_none() && r.start.date_naive() == then)
                .and_then(|r| r.value)
        });
        let bound = |t: &yardstick_core::model::Threshold| match t.target {
            yardstick_core::Target::AtLeast(x)
            | yardstick_core::Target::Above(x)
            | yardstick_core::Target::AtMost(x)
            | yardstick_core::Target::Below(x) => Some(x),
            yardstick_core::Target::Between(..) => None,
        };
        let (target_at, warning_at) = k.thresholds_at(start.date_naive());
        let target_line = target_at.and_then(bound);
        // The band and the projection drawn only when the chart ends with
        // the period shown (a coarser KPI's history may end elsewhere).
        let ends_here = history.last().is_some_and(|(l, _)| *l == period);
        // After a complete period that is the latest one, the next three
        // forecast (what a pack issued at the period's close looks ahead to).
        let forecast = if ends_here && main.is_some_and(|r| r.complete) {
            forecast_after(project, i.evaluation, &id, &period)
        } else {
            Vec::new()
        };
        let chart_spec = ChartSpec {
            values: history.iter().map(|h| h.1).collect(),
            target: target_line,
            warning: target_line.and(warning_at.and_then(bound)),
            ahead: main
                .and_then(|r| r.projection.as_ref())
                .filter(|_| ends_here)
                .map(|p| (p.value, p.low, p.high)),
            forecast: forecast.iter().map(|(_, v, l, h)| (*v, *l, *h)).collect(),
        };
        let forecast_words = (!forecast.is_empty()).then(|| {
            forecast
                .iter()
                .map(|(label, v, l, h)| {
                    format!(
                        "{label} {} (80%: {} to {})",
                        format::value(*v, unit, currency),
                        format::value(*l, unit, currency),
                        format::value(*h, unit, currency)
                    )
                })
                .collect::<Vec<_>>()
                .join(" · ")
        });
        let trend = history
            .iter()
            .map(|(l, v)| format!("{l} {}", shown(*v)))
            .collect::<Vec<_>>()
            .join(" · ");
        let causes = i
            .sla
            .clauses
            .iter()
            .filter(|c| c.period == period && c.breached)
            .filter(|c| {
                project
                    .contracts
                    .get(&c.contract)
                    .and_then(|x| x.clauses.iter().find(|cl| cl.id.value == c.clause))
                    .and_then(|cl| cl.kpi.as_ref())
                    .is_some_and(|kk| kk.value == id)
            })
            .map(|c| c.explanation.clone())
            .chain(i.causes.get(&id).into_iter().flatten().cloned())
            .collect();
        kpis.push(KpiReview {
            id: id.clone(),
            name: k.display_name().to_string(),
            period: period.clone(),
            value: summary_value.unwrap_or_else(|| shown(main.and_then(|r| r.value))),
            raw: main.and_then(|r| r.value),
            unit: unit.map(str::to_string),
            raw_change: total.and_then(|t| Some(t.value? - t.previous?)),
            target: main
                .or_else(|| at.first().copied())
                .and_then(|r| r.threshold.as_ref())
                .map(|t| format::target(t, unit, currency))
                .unwrap_or_default(),
            status: summary_status.unwrap_or_else(|| main.map_or("no_data".into(), status_of)),
            complete: main.or_else(|| at.first().copied()).is_some_and(|r| r.complete),
            change_previous: total.and_then(|t| change(t.value, t.previous, unit, currency)),
            change_year: total.and_then(|t| change(t.value, year_ago, unit, currency)),
            projection: main.and_then(|r| r.projection.as_ref()).map(|pr| {
                format!(
                    "{} (likely between {} and {}){}",
                    format::value(pr.value, unit, currency),
                    format::value(pr.low, unit, currency),
                    format::value(pr.high, unit, currency),
                    pr.probability
                        .map(|x| format!(", a {} chance of meeting the target", format::percent(x)))
                        .unwrap_or_default()
                )
            }),
            chart: chart_spec.svg(
                history.first().map_or("", |h| h.0.as_str()),
                // The right edge: the last period forecast, or the history's last.
                forecast
                    .last()
                    .map(|f| f.0.as_str())
                    .or(history.last().map(|h| h.0.as_str()))
                    .unwrap_or(""),
            ),
            chart_comment: chart_spec.comment(),
            chart_spec,
            forecast: forecast_words,
            entities,
            history,
            trend,
            target_line,
            causes,
            actions: actions_on(i.actions, &id, first, end, project),
            definition: k
                .measure
                .as_ref()
                .map_or_else(String::new, |m| definition(&m.value)),
            owner: k.owner.clone(),
            cadence: cadence_words(k),
        });
    }
    let count = |s: &str| kpis.iter().filter(|k| k.status == s).count();
    let attained = |k: &KpiReview| {
        i.evaluation
            .evaluations
            .iter()
            .find(|r| r.kpi == k.id && r.period == k.period && r.entity.is_none())
            .and_then(|r| r.attainment)
    };
    let mut judged: Vec<(&KpiReview, f64)> =
        kpis.iter().filter_map(|k| attained(k).map(|a| (k, a))).collect();
    judged.sort_by(|a, b| b.1.total_cmp(&a.1));
    let line = |(k, a): &(&KpiReview, f64)| {
        format!(
            "{}: {} against {} ({} of target) in {}",
            k.name,
            k.value,
            k.target,
            format::attainment(*a),
            k.period
        )
    };
    let wins = judged
        .iter()
        .filter(|(k, _)| k.status == "met")
        .take(3)
        .map(line)
        .collect();
    let misses = judged
        .iter()
        .rev()
        .filter(|(k, _)| k.status == "missed")
        .take(3)
        .map(line)
        .collect();
    let scorecards: Vec<String> = match scope {
        Scope::Project => project.scorecards.keys().cloned().collect(),
        Scope::Scorecard(id) => vec![id.clone()],
        _ => Vec::new(),
    };
    let mut scores = Vec::new();
    for sc in scorecards
        .into_iter()
        .filter(|s| sees(i.visible.map(|v| &v.scorecards), s))
    {
        let rows: Vec<_> = i.scores.scores.iter().filter(|s| s.scorecard == sc).collect();
        let cal = project.settings.calendar();
        let within = |l: &str| {
            cal.parse_label(l)
                .is_some_and(|x| x.first >= first && x.end <= end)
        };
        let Some(pos) = rows.iter().rposition(|s| within(&s.period) && s.score.is_some()) else {
            continue;
        };
        let now = rows[pos];
        let before = rows[..pos].iter().rev().find(|s| s.score.is_some());
        scores.push(ScoreLine {
            name: project.scorecards[&sc].name.clone().unwrap_or_else(|| sc.clone()),
            period: now.period.clone(),
            score: format::value_or_dash(now.score, Some("%"), None),
            raw: now.score,
            change: before.and_then(|b| change(now.score, b.score, Some("%"), None)),
        });
    }
    let contracts = scope
        .contracts(project)
        .iter()
        .filter(|id| sees(i.visible.map(|v| &v.contracts), id))
        .filter_map(|id| project.contracts.get(id))
        .map(|c| {
            let cal = project.settings.calendar();
            let rows: Vec<_> = i
                .sla
                .clauses
                .iter()
                .filter(|r| r.contract == c.id.value)
                .filter(|r| {
                    cal.parse_label(&r.period)
                        .is_some_and(|x| x.first >= first && x.end <= end)
                })
                .collect();
            let credits: f64 = rows.iter().map(|r| r.credit_amount).sum();
            ContractReview {
                name: c.name.clone().unwrap_or_else(|| c.id.value.clone()),
                raw_credits: rows.iter().map(|r| r.credit_amount).collect(),
                rows: rows
                    .iter()
                    .map(|r| {
                        let outcome = match (r.breached, r.triggered) {
                            (_, true) => "triggered",
                            (true, false) => "breached",
                            (false, _) if r.value.is_none() => "no data",
                            _ => "met",
                        };
                        (
                            r.clause.clone(),
                            r.period.clone(),
                            outcome.to_string(),
                            if r.credit_amount > 0.0 {
                                format::value(r.credit_amount, currency, currency)
                            } else {
                                String::new()
                            },
                            r.explanation.clone(),
                        )
                    })
                    .collect(),
                credits: format::value(credits, currency.or(Some("")), currency),
            }
        })
        .collect();
    let freshness = i
        .stale
        .iter()
        .map(|s| {
            format!(
                "`{}` is stale (newest row {}, freshness {})",
                s.source,
                s.newest.as_deref().unwrap_or("none"),
                s.freshness
            )
        })
        .collect();
    let title = match scope {
        Scope::Project => format!("{}: review of {label}", project.settings.name),
        other => format!("{}: review of {label}, {}", project.settings.name, other.words()),
    };
    Review {
        title,
        scope: scope.words(),
        period: label.to_string(),
        period_days: format!("{first} to {}", end.pred_opt().unwrap_or(end)),
        currency: currency.map(str::to_string),
        as_of: i
            .evaluation
            .as_of
            .utc()
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string(),
        freshness,
        terms: i.agreements.iter().map(|a| a.words()).collect(),
        summary: Summary {
            met: count("met"),
            warning: count("warning"),
            missed: count("missed"),
            no_data: count("no_data"),
            scores,
            wins,
            misses,
        },
        restated: restated(i, &shown),
        restated_since: i.restated_since.map(|t| {
            format!(
                "the last pack was issued ({})",
                t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
            )
        }),
        partnerships: partnership_reviews(i, scope, p),
        kpis,
        contracts,
    }
}
