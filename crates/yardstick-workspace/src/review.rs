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
use yardstick_docs::review::{
    ContractReview, KpiReview, PartnershipReview, Restated, Review, ScoreLine, Summary,
};
use yardstick_engine::consequences::{ScoreReport, SlaReport};
use yardstick_engine::eval::{Evaluation, Row};
use yardstick_engine::freshness::Stale;

use crate::agreements::Agreement;
pub use yardstick_core::model::review::Scope;

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

/// The partnerships of the review: partners, score per review period
/// inside the review's, and each related reconciliation's periods.
fn partnership_reviews(i: &Inputs<'_>, scope: &Scope, p: &Period) -> Vec<PartnershipReview> {
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

/// What a review reads besides the evaluation: the agreements in its scope
/// with their signatures, and the corrective actions with their effect.
#[derive(Debug, Default)]
pub struct Gathered {
    pub agreements: Vec<Agreement>,
    pub actions: Vec<crate::actions::Listed>,
    /// Per missed KPI, its top causes in words.
    pub causes: BTreeMap<String, Vec<String>>,
    /// The reconciliations of the partnerships in scope (`reconciled`).
    pub reconciliations: Vec<yardstick_engine::reconcile::Reconciliation>,
}

/// The partnerships a review of `scope` shows (a party's pack: those it
/// is a partner of).
fn partnerships_of(
    project: &Project,
    scope: &Scope,
    visible: Option<&yardstick_core::visibility::Visible>,
) -> Vec<String> {
    let ids: Vec<String> = match scope {
        Scope::Project => project.partnerships.keys().cloned().collect(),
        Scope::Partnership(id) => vec![id.clone()],
        _ => Vec::new(),
    };
    ids.into_iter()
        .filter(|id| visible.is_none_or(|v| v.partnerships.contains(id)))
        .collect()
}

/// Whether reconciliation `rc` compares the records of partnership `id`:
/// one of its parties is a partner.
fn reconciles_partnership(project: &Project, rc: &str, id: &str) -> bool {
    let (Some(r), Some(p)) = (project.reconciles.get(rc), project.partnerships.get(id)) else {
        return false;
    };
    r.parties
        .iter()
        .any(|x| p.partners.iter().any(|y| x.trim().eq_ignore_ascii_case(y.trim())))
}

/// Reads what the review of `scope` in `p` needs besides the evaluation:
/// from `store` the agreements and actions (without a store, nobody signed
/// and no action was recorded), and the top causes of each miss. A
/// party's pack reads only the agreements it may see.
pub async fn gather(
    project: &Project,
    catalog: &yardstick_engine::Catalog,
    evaluation: &Evaluation,
    store: Option<&yardstick_store::Store>,
    scope: &Scope,
    p: &Period,
    visible: Option<&yardstick_core::visibility::Visible>,
) -> Result<Gathered, yardstick_store::StoreError> {
    let as_of = evaluation.as_of.utc();
    let ids: Vec<String> = match scope {
        Scope::Contract(id) | Scope::Partnership(id) => vec![id.clone()],
        Scope::Project => yardstick_core::terms::agreements(project)
            .into_iter()
            .map(|(_, id)| id)
            .collect(),
        _ => Vec::new(),
    };
    let ids = ids
        .into_iter()
        .filter(|id| visible.is_none_or(|v| v.contracts.contains(id) || v.partnerships.contains(id)));
    let mut out = Gathered::default();
    for id in ids {
        let Some(t) = yardstick_core::terms::terms(project, &id) else {
            continue;
        };
        out.agreements.push(match store {
            Some(store) => crate::agreements::complete(t, store).await?,
            None => crate::agreements::with_signatures(t, Vec::new()),
        });
    }
    if let Some(store) = store {
        let stored = store.actions().await?;
        out.actions = crate::actions::judged(project, catalog, stored, as_of).await;
    }
    let kpis = shown_kpis(project, scope, visible);
    out.causes = miss_causes(project, catalog, evaluation, &kpis, p, visible.is_some()).await;
    let partnerships = partnerships_of(project, scope, visible);
    for rc in project.reconciles.keys() {
        let related = partnerships
            .iter()
            .any(|id| reconciles_partnership(project, rc, id));
        if !related || visible.is_some_and(|v| !v.reconciles.contains(rc)) {
            continue;
        }
        let opts = yardstick_engine::reconcile::ReconcileOptions {
            as_of,
            period: None,
            limit: Some(0),
        };
        match yardstick_engine::reconcile::reconcile(project, catalog, rc, &opts).await {
            Ok(r) => out.reconciliations.push(r),
            Err(e) => {
                tracing::warn!(reconcile = %rc, error = %e, "the review shows no reconciliation status")
            }
        }
    }
    Ok(out)
}

fn restated(i: &Inputs<'_>, kpis: &[String]) -> Vec<Restated> {
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

/// An action's measured effect in words: the KPI (and the cause's segment)
/// in the period it answers and in the periods judged since, and the
/// verdict.
fn effect_words(
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
fn actions_on(
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

/// The next three periods of KPI `kpi` forecast from `evaluation` (label,
/// value, low and high of the 80% range), when they follow `period` — the
/// last complete one; empty otherwise (the KPI has entities or no calendar
/// period, too little history, or later periods are complete already).
fn forecast_after(
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
fn cadence_words(k: &yardstick_core::model::MeasureDef) -> Option<String> {
    use yardstick_core::model::Cadence;
    k.cadence.as_ref().map(|c| match c.value {
        Cadence::Every(g) => format!("every {}", g.name().replace('_', " ")),
        Cadence::Window { days } => format!("over the last {days} days"),
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

/// The top causes of each missed (or warning) KPI of the review, from
/// `why` against the period before: KPIs that split (declared dimensions,
/// `for_each`, a fleet's units — for a party's pack its declared
/// dimensions only, as over the API), the KPI's total in the period the
/// review shows: its first three roots (as `yardstick why` ranks them)
/// that moved the way the KPI did, in words.
async fn miss_causes(
    project: &Project,
    catalog: &yardstick_engine::Catalog,
    evaluation: &Evaluation,
    kpis: &[String],
    p: &Period,
    party: bool,
) -> BTreeMap<String, Vec<String>> {
    use yardstick_engine::why::{Vs, WhyOptions, default_dimensions, why};
    let currency = project.settings.currency.as_deref();
    let mut out = BTreeMap::new();
    for id in kpis {
        let Some(k) = project.kpis.get(id) else { continue };
        let dimensions: Vec<String> = if party {
            k.dimensions.iter().map(|d| d.value.clone()).collect()
        } else {
            default_dimensions(k)
        };
        if dimensions.is_empty() {
            continue;
        }
        let rows: Vec<&Row> = evaluation
            .evaluations
            .iter()
            .filter(|r| &r.kpi == id && r.entity.is_none())
            .collect();
        let Some(period) = reviewed_period(&rows, p).map(|r| r.period.clone()) else {
            continue;
        };
        let missed = rows.iter().any(|r| {
            r.period == period
                && matches!(
                    r.status,
                    Some(yardstick_core::status::Status::Missed | yardstick_core::status::Status::Warning)
                )
        });
        if !missed {
            continue;
        }
        let o = WhyOptions {
            kpi: id.clone(),
            period,
            vs: Vs::Previous,
            entity: Vec::new(),
            within: Vec::new(),
            dimensions: Some(dimensions),
            // As `yardstick why` by default, so the pack and `why` agree.
            depth: 3,
            top: 10,
            roots: yardstick_core::why::search::Roots::Explain,
            as_of: evaluation.as_of.utc(),
        };
        let Ok(w) = why(project, catalog, &o).await else {
            continue;
        };
        let unit = k.display_unit();
        let words: Vec<String> = w
            .causes
            .iter()
            // Roots that moved with the miss (a segment that moved the
            // other way explains no part of it).
            .filter(|c| c.root && c.share.is_some_and(|s| s > 0.0))
            .take(3)
            .map(|c| {
                let seg: Vec<String> = c
                    .elements
                    .iter()
                    .map(|(k, v)| format!("`{k}={}`", v.as_deref().unwrap_or("(empty)")))
                    .collect();
                let share = c
                    .share
                    .map(|s| format!(", {} of the change", format::percent(s.abs())))
                    .unwrap_or_default();
                format!(
                    "{}: {} against {} in {}{share}",
                    seg.join(" ∧ "),
                    format::value_or_dash(c.value, unit, currency),
                    format::value_or_dash(c.reference, unit, currency),
                    w.reference_is
                )
            })
            .collect();
        if !words.is_empty() {
            out.insert(id.clone(), words);
        }
    }
    out
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
