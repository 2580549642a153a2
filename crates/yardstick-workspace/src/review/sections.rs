//! The parts of a review's sections written in words: partnerships with
//! their reconciliation, restated values, corrective actions with their
//! effect, the forecast ahead and a KPI's cadence.

use yardstick_core::Period;
use yardstick_core::format;
use yardstick_core::model::Project;
use yardstick_docs::review::{PartnershipReview, Restated};
use yardstick_engine::eval::Evaluation;

use super::gather::{partnerships_of, reconciles_partnership};
use super::{Inputs, Scope};

/// The partnerships of the review: partners, score per review period
/// inside the review's, and each related reconciliation's periods.
pub(super) fn partnership_reviews(i: &Inputs<'_>, scope: &Scope, p: &Period) -> Vec<PartnershipReview> {
    let project = i.project;
    let currency = project.settings.currency.as_deref();
    let cal = project.settings.calendar();
    let inside = |label: &str| {
        cal.parse_label(label)
            .is_some_and(|x| x.first >= p.first && x.end <= p.end)
    };
    partnerships_of(project, scope, i.visible)
        .into_iter()
        .filter_map(|id| {
            let report = yardstick_engine::consequences::partnership(project, i.evaluation, &id)?;
            let scores = report
                .scores
                .iter()
                .filter(|s| inside(&s.period))
                .map(|s| {
                    (
                        s.period.clone(),
                        format::value_or_dash(s.score, Some("%"), None),
                        s.score,
                    )
                })
                .collect();
            let mut reconciliation = Vec::new();
            for r in i
                .reconciliations
                .iter()
                .filter(|r| reconciles_partnership(project, &r.reconcile, &id))
            {
                for x in r.periods.iter().filter(|x| inside(&x.period)) {
                    let kpis: Vec<String> = x
                        .kpis
                        .iter()
                        .map(|k| {
                            let unit = k.unit.as_deref();
                            format!(
                                "{} {} against {}{}",
                                k.name.as_deref().unwrap_or(&k.kpi),
                                format::value_or_dash(k.left, unit, currency),
                                format::value_or_dash(k.right, unit, currency),
                                if k.within_tolerance {
                                    ", within tolerance"
                                } else {
                                    ", outside tolerance"
                                }
                            )
                        })
                        .collect();
                    reconciliation.push(format!(
                        "{} {}: {} — {} records agree, {} only in `{}`, {} only in `{}`, {} differ{}{}",
                        r.name.as_deref().unwrap_or(&r.reconcile),
                        x.period,
                        if x.agreed() { "agreed" } else { "disputed" },
                        x.matched,
                        x.only_left,
                        x.left.source,
                        x.only_right,
                        x.right.source,
                        x.unequal,
                        if kpis.is_empty() { "" } else { "; " },
                        kpis.join("; ")
                    ));
                }
            }
            Some(PartnershipReview {
                name: report.name.clone().unwrap_or_else(|| id.clone()),
                partners: report.partners.join(" and "),
                scores,
                reconciliation,
            })
        })
        .collect()
}

pub(super) fn restated(i: &Inputs<'_>, kpis: &[String]) -> Vec<Restated> {
    let project = i.project;
    let currency = project.settings.currency.as_deref();
    let tz = project.settings.timezone;
    i.restated
        .iter()
        .filter(|r| kpis.contains(&r.kpi))
        .filter_map(|r| {
            let k = project.kpis.get(&r.kpi)?;
            let unit = k.display_unit();
            let entity = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&r.entity)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let words = |s: &Option<String>| s.as_deref().unwrap_or("no status").replace('_', " ");
            Some(Restated {
                kpi: k.display_name().to_string(),
                period: r.period.clone(),
                entity,
                before: format::value_or_dash(r.before, unit, currency),
                after: format::value_or_dash(r.after, unit, currency),
                raw_before: r.before,
                raw_after: r.after,
                unit: unit.map(str::to_string),
                status_change: (r.before_status != r.after_status)
                    .then(|| format!("{} → {}", words(&r.before_status), words(&r.after_status))),
                restated_at: chrono::DateTime::from_timestamp_micros(r.restated_at)
                    .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// An action's measured effect in words: the KPI (and the cause's segment)
/// in the period it answers and in the periods judged since, and the
/// verdict.
pub(super) fn effect_words(
    e: &yardstick_engine::why::effect::Effect,
    unit: Option<&str>,
    currency: Option<&str>,
) -> String {
    use yardstick_engine::why::effect::Verdict;
    let verdict = |v: Verdict| match v {
        Verdict::Recovered => "recovered",
        Verdict::NotRecovered => "not recovered",
        Verdict::Pending => "not judged yet",
    };
    let after: Vec<String> = e
        .after
        .iter()
        .map(|j| {
            format!(
                "{} {}{}",
                j.period,
                format::value_or_dash(j.value, unit, currency),
                if j.complete { "" } else { " so far" }
            )
        })
        .collect();
    let segment = e
        .segment
        .map(|v| {
            let now = e.after.iter().rev().find_map(|j| j.segment);
            format!(
                "; its segment {} in {}{}: {}",
                format::value_or_dash(e.miss.segment, unit, currency),
                e.miss.period,
                now.map(|x| format!(", {} since", format::value_or_dash(Some(x), unit, currency)))
                    .unwrap_or_default(),
                verdict(v)
            )
        })
        .unwrap_or_default();
    format!(
        ". Effect: {} in {}{}{} — {}{segment}",
        format::value_or_dash(e.miss.value, unit, currency),
        e.miss.period,
        if after.is_empty() { "" } else { ", then " },
        after.join(", "),
        verdict(e.kpi)
    )
}

/// The actions on KPI `kpi` a review shows: those still open, and those
/// closed whose effect is judged from a period inside the review's.
pub(super) fn actions_on(
    actions: &[crate::actions::Listed],
    kpi: &str,
    first: chrono::NaiveDate,
    end: chrono::NaiveDate,
    project: &Project,
) -> Vec<String> {
    let cal = project.settings.calendar();
    let unit = project.kpis.get(kpi).and_then(|k| k.display_unit());
    let currency = project.settings.currency.as_deref();
    actions
        .iter()
        .filter(|a| a.kpi == kpi)
        .filter(|a| {
            a.closed_at.is_none()
                || cal
                    .parse_label(&a.judge_from)
                    .is_some_and(|p| p.first >= first && p.first < end)
        })
        .map(|a| {
            let state = match (&a.closed_at, &a.outcome) {
                (None, _) => format!("open, owner {}, due {}", a.owner, a.due),
                (Some(_), Some(o)) => format!("closed: {o}"),
                (Some(_), None) => "closed".to_string(),
            };
            let cause = crate::actions::cause_text(
                &a.cause
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>(),
            )
            .map(|c| format!(" (cause {c})"))
            .unwrap_or_default();
            let effect = a
                .effect
                .as_ref()
                .map(|e| effect_words(e, unit, currency))
                .unwrap_or_default();
            format!(
                "#{} {}{cause} — {state}; answers {}{effect}",
                a.id, a.title, a.period
            )
        })
        .collect()
}

/// The next three periods of KPI `kpi` forecast from `evaluation` (label,
/// value, low and high of the 80% range), when they follow `period` — the
/// last complete one; empty otherwise (the KPI has entities or no calendar
/// period, too little history, or later periods are complete already).
pub(super) fn forecast_after(
    project: &Project,
    evaluation: &Evaluation,
    kpi: &str,
    period: &str,
) -> Vec<(String, f64, f64, f64)> {
    use yardstick_engine::forecasts::{ForecastRequest, forecast};
    let cal = project.settings.calendar();
    let Some(next) = cal.parse_label(period).map(|p| cal.label(&cal.next(&p))) else {
        return Vec::new();
    };
    let req = ForecastRequest {
        kpi: kpi.to_string(),
        horizon: 3,
        entity: Vec::new(),
    };
    let Ok(report) = forecast(project, evaluation, &req, &|_, _| {}) else {
        return Vec::new();
    };
    let Some(series) = report.forecasts.into_iter().find(|f| f.entity.is_none()) else {
        return Vec::new();
    };
    if series.points.first().is_none_or(|p| p.period != next) {
        return Vec::new();
    }
    series
        .points
        .into_iter()
        .filter_map(|p| Some((p.period, p.point.value, p.point.low80?, p.point.high80?)))
        .collect()
}

/// How often a KPI is measured, in words (`every month`, `over the last
/// 28 days`).
pub(super) fn cadence_words(k: &yardstick_core::model::MeasureDef) -> Option<String> {
    use yardstick_core::model::Cadence;
    k.cadence.as_ref().map(|c| match c.value {
        Cadence::Every(g) => format!("every {}", g.name().replace('_', " ")),
        Cadence::Window { days } => format!("over the last {days} days"),
    })
}
