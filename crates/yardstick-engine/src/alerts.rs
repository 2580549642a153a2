//! Alert rules (`[alert.ID]`): which are firing at an instant, and what
//! changed since the last look (a new firing, a resolution).
//!
//! An alert fires per *instance*: one per entity of a `for_each` KPI, one
//! per source. Notices go out only on change — firing once, resolved once —
//! so whoever keeps the firing set (the store, when the server runs) makes
//! delivery deduplicated.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use yardstick_core::Project;
use yardstick_core::model::{Alert, AlertWhen, Measure, MeasureDef};

use crate::eval::{EvalError, Evaluation, Row};
use crate::freshness::Stale;

/// An alert instance that is firing now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Firing {
    pub alert: String,
    /// The entity (compact JSON), source id, or `""` for a KPI without entities.
    pub instance: String,
    /// `kpi uptime`, `source orders`, `contract acme clause uptime`.
    pub subject: String,
    /// One line a person can act on.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A firing alert as remembered from an earlier look.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remembered {
    pub alert: String,
    pub instance: String,
    pub subject: String,
    pub summary: String,
    /// When it started firing (RFC 3339).
    pub since: String,
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Firing,
    Resolved,
}

/// A change to announce.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub alert: String,
    pub instance: String,
    pub subject: String,
    pub summary: String,
    /// When it started firing.
    pub since: String,
    /// When this notice was decided.
    pub at: String,
}

/// Firings that are new and remembered ones that stopped, in a stable order.
pub fn transitions(remembered: &[Remembered], now: &[Firing], at: DateTime<Utc>) -> Vec<Notice> {
    let at_s = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let was: BTreeSet<(&str, &str)> = remembered
        .iter()
        .map(|r| (r.alert.as_str(), r.instance.as_str()))
        .collect();
    let is: BTreeSet<(&str, &str)> = now
        .iter()
        .map(|f| (f.alert.as_str(), f.instance.as_str()))
        .collect();
    let mut out = Vec::new();
    for f in now {
        if !was.contains(&(f.alert.as_str(), f.instance.as_str())) {
            out.push(Notice {
                kind: NoticeKind::Firing,
                alert: f.alert.clone(),
                instance: f.instance.clone(),
                subject: f.subject.clone(),
                summary: f.summary.clone(),
                since: at_s.clone(),
                at: at_s.clone(),
            });
        }
    }
    for r in remembered {
        if !is.contains(&(r.alert.as_str(), r.instance.as_str())) {
            out.push(Notice {
                kind: NoticeKind::Resolved,
                alert: r.alert.clone(),
                instance: r.instance.clone(),
                subject: r.subject.clone(),
                summary: format!("resolved: {}", r.summary),
                since: r.since.clone(),
                at: at_s.clone(),
            });
        }
    }
    out
}

/// The alert instances firing in `evaluation` (which must hold every KPI
/// the alerts name, up to the same instant) given the stale sources at
/// that instant and, for anomaly alerts, the anomalies on each KPI's latest
/// complete day.
pub fn firing(
    project: &Project,
    evaluation: &Evaluation,
    stale: &[Stale],
    anomalies: &[crate::watch::Warning],
) -> Vec<Firing> {
    let mut out = Vec::new();
    for a in project.alerts.values() {
        let (kpi_id, subject) = subject_of(project, a);
        let kpi = kpi_id.as_deref().and_then(|k| project.kpis.get(k));
        let base = |instance: String, summary: String| Firing {
            alert: a.id.value.clone(),
            instance,
            subject: subject.clone(),
            summary,
            owner: a.owner.clone().or_else(|| kpi.and_then(|k| k.owner.clone())),
        };
        match a.when.value {
            AlertWhen::Stale => {
                let sources: Vec<String> = match (&a.source, kpi) {
                    (Some(s), _) => vec![s.value.clone()],
                    (None, Some(k)) => leaf_sources(project, k),
                    _ => vec![],
                };
                for s in stale.iter().filter(|s| sources.contains(&s.source)) {
                    out.push(base(s.source.clone(), s.message.clone()));
                }
            }
            AlertWhen::Status => {
                let Some(k) = kpi else { continue };
                let wanted = wanted(a, &["missed"]);
                let today = evaluation
                    .as_of
                    .utc()
                    .with_timezone(&project.settings.timezone)
                    .date_naive();
                let clause_target = clause_target(project, a, today);
                for r in latest(evaluation, &k.id.value, true) {
                    // A clause judges by its own target (no warning band).
                    let status = match &clause_target {
                        Some(t) => yardstick_core::status::judge(r.value, Some(t.target), None),
                        None => r.status,
                    }
                    .map_or("no_data", yardstick_core::status::Status::as_str);
                    if wanted.contains(&status) {
                        let target = clause_target
                            .as_ref()
                            .map(|t| t.text.clone())
                            .or_else(|| r.target.clone())
                            .unwrap_or_else(|| "no target".into());
                        out.push(base(
                            r.entity_json(),
                            format!(
                                "{}{} {}: {} ({} target {target})",
                                k.id.value,
                                entity_words(r),
                                r.period,
                                status.replace('_', " "),
                                value_words(r.value),
                            ),
                        ));
                    }
                }
            }
            AlertWhen::Projection => {
                let Some(k) = kpi else { continue };
                let wanted = wanted(a, &["at_risk", "off_track"]);
                for r in latest(evaluation, &k.id.value, false) {
                    let Some(p) = &r.projection else { continue };
                    let Some(status) = p.status.map(|h| h.as_str()) else {
                        continue;
                    };
                    if wanted.contains(&status) {
                        out.push(base(
                            r.entity_json(),
                            format!(
                                "{}{} {}: {} — projected {} against target {}{}",
                                k.id.value,
                                entity_words(r),
                                r.period,
                                status.replace('_', " "),
                                value_words(Some(p.value)),
                                r.target.as_deref().unwrap_or("none"),
                                p.probability
                                    .map(|x| format!(", {:.0}% likely to meet it", x * 100.0))
                                    .unwrap_or_default()
                            ),
                        ));
                    }
                }
            }
            AlertWhen::Anomaly => {
                let Some(k) = kpi else { continue };
                for w in anomalies.iter().filter(|w| w.kpi == k.id.value) {
                    out.push(base(w.entity_json(), w.sentence()));
                }
            }
            AlertWhen::BurnRate | AlertWhen::Discrepancy => {
                // Judged by `evaluate_firing`: they run queries of their own.
            }
        }
    }
    out
}

/// The KPI an alert watches (directly or through a contract clause) and
/// how to name what it watches.
pub fn subject_of(project: &Project, a: &Alert) -> (Option<String>, String) {
    if let Some(s) = &a.source {
        return (None, format!("source {}", s.value));
    }
    if let Some(r) = &a.reconcile {
        return (None, format!("reconcile {}", r.value));
    }
    if let (Some(c), Some(cl)) = (&a.contract, &a.clause) {
        let kpi = project
            .contracts
            .get(&c.value)
            .and_then(|c| c.clauses.iter().find(|x| x.id.value == cl.value))
            .and_then(|x| x.kpi.as_ref())
            .map(|k| k.value.clone());
        return (kpi, format!("contract {} clause {}", c.value, cl.value));
    }
    let k = a.kpi.as_ref().map(|k| k.value.clone());
    let subject = format!("kpi {}", k.as_deref().unwrap_or("?"));
    (k, subject)
}

/// The KPIs alerts need evaluated.
pub fn kpis_watched(project: &Project) -> Vec<String> {
    let mut out: Vec<String> = project
        .alerts
        .values()
        .filter_map(|a| subject_of(project, a).0)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The target a clause judges by on local day `day`: its own in force
/// then, else its KPI's.
fn clause_target(
    project: &Project,
    a: &Alert,
    day: chrono::NaiveDate,
) -> Option<yardstick_core::model::Threshold> {
    let (c, cl) = (a.contract.as_ref()?, a.clause.as_ref()?);
    let clause = project
        .contracts
        .get(&c.value)?
        .clauses
        .iter()
        .find(|x| x.id.value == cl.value)?;
    if clause.has_target() {
        return clause.target_at(day).cloned();
    }
    clause.kpi.as_ref().and_then(|k| {
        let k = project.kpis.get(&k.value)?;
        k.thresholds_at(day).0.cloned()
    })
}

fn wanted<'a>(a: &'a Alert, default: &[&'a str]) -> Vec<&'a str> {
    if a.statuses.is_empty() {
        default.to_vec()
    } else {
        a.statuses.iter().map(|s| s.value.as_str()).collect()
    }
}

/// Per entity, the row of the latest complete (or, with `complete` false,
/// incomplete) period of `kpi`.
fn latest<'e>(ev: &'e Evaluation, kpi: &str, complete: bool) -> Vec<&'e Row> {
    let mut by_entity: BTreeMap<String, &Row> = BTreeMap::new();
    for r in ev
        .evaluations
        .iter()
        .filter(|r| r.kpi == kpi && r.complete == complete)
    {
        // Rows come period by period: a later one replaces an earlier one.
        by_entity.insert(r.entity_json(), r);
    }
    by_entity.into_values().collect()
}

fn entity_words(r: &Row) -> String {
    crate::eval::bracketed(r.entity.as_ref())
}

fn value_words(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("value {}", yardstick_core::format::grouped(v, 4)),
        None => "no value".into(),
    }
}

/// Sources a KPI reads, through its inputs.
pub fn leaf_sources(project: &Project, k: &MeasureDef) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![k];
    let mut seen = BTreeSet::new();
    while let Some(m) = todo.pop() {
        if !seen.insert(m.id.value.clone()) {
            continue;
        }
        match m.measure.as_ref().map(|x| &x.value) {
            Some(Measure::Availability { down, exclude, .. }) => {
                out.push(down.value.clone());
                out.extend(exclude.iter().map(|e| e.value.clone()));
            }
            Some(x) => {
                if let Some(s) = x.source() {
                    out.push(s.value.clone());
                }
                for input in x.inputs() {
                    if let Some(d) = project.measure(&input.value) {
                        todo.push(d);
                    }
                }
            }
            None => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// [`firing`] with what it needs looked up: stale sources and the latest
/// day's anomalies, each only when an alert asks for them.
pub async fn evaluate_firing(
    project: &Project,
    catalog: &crate::sources::Catalog,
    evaluation: &Evaluation,
    as_of: DateTime<Utc>,
) -> Result<Vec<Firing>, EvalError> {
    let wants = |w: AlertWhen| project.alerts.values().any(|a| a.when.value == w);
    let stale = if wants(AlertWhen::Stale) {
        crate::freshness::stale_sources(project, catalog, as_of).await?
    } else {
        Vec::new()
    };
    let anomalies = if wants(AlertWhen::Anomaly) {
        let kpis: Vec<String> = project
            .alerts
            .values()
            .filter(|a| a.when.value == AlertWhen::Anomaly)
            .filter_map(|a| subject_of(project, a).0)
            .collect();
        crate::watch::watch(project, catalog, as_of, 63, &kpis)
            .await?
            .into_iter()
            .filter(|w| w.latest && w.kind == crate::watch::WarningKind::Anomaly)
            .collect()
    } else {
        Vec::new()
    };
    let mut out = firing(project, evaluation, &stale, &anomalies);
    for a in project
        .alerts
        .values()
        .filter(|a| a.when.value == AlertWhen::BurnRate)
    {
        let (Some(kpi), subject) = subject_of(project, a) else {
            continue;
        };
        let Some(k) = project.kpis.get(&kpi) else { continue };
        let today = as_of.with_timezone(&project.settings.timezone).date_naive();
        let target = clause_target(project, a, today)
            .map(|t| t.target)
            .or_else(|| k.thresholds_at(today).0.map(|t| t.target));
        let Some(objective) = target.and_then(crate::burn::objective_of) else {
            continue;
        };
        let b = crate::burn::burn(project, catalog, &kpi, objective, as_of).await?;
        if b.firing.is_some() {
            out.push(Firing {
                alert: a.id.value.clone(),
                instance: String::new(),
                subject,
                summary: b.sentence(),
                owner: a.owner.clone().or_else(|| k.owner.clone()),
            });
        }
    }
    for a in project
        .alerts
        .values()
        .filter(|a| a.when.value == AlertWhen::Discrepancy)
    {
        let Some(id) = a.reconcile.as_ref().map(|r| r.value.clone()) else {
            continue;
        };
        if let Some(f) = discrepancy(project, catalog, a, &id, as_of).await? {
            out.push(f);
        }
    }
    Ok(out)
}

/// A `discrepancy` alert: fires when the reconciliation's latest complete
/// period has a KPI outside its tolerance (one instance per period, so a
/// new month's discrepancy is a new notice).
async fn discrepancy(
    project: &Project,
    catalog: &crate::sources::Catalog,
    a: &Alert,
    id: &str,
    as_of: DateTime<Utc>,
) -> Result<Option<Firing>, EvalError> {
    let opts = crate::reconcile::ReconcileOptions {
        as_of,
        period: None,
        limit: Some(0),
    };
    let r = crate::reconcile::reconcile(project, catalog, id, &opts).await?;
    let Some(p) = r.periods.iter().rev().find(|p| p.complete) else {
        return Ok(None);
    };
    let outside: Vec<String> = p
        .kpis
        .iter()
        .filter(|k| !k.within_tolerance)
        .map(|k| {
            let unit = project.kpis.get(&k.kpi).and_then(|m| m.unit.as_deref());
            let currency = project.settings.currency.as_deref();
            let diff = k.difference.map_or_else(
                || "has no value on one side".to_string(),
                |d| format!("differs by {}", yardstick_core::format::value(d, unit, currency)),
            );
            format!("{} {diff}", k.kpi)
        })
        .collect();
    if outside.is_empty() {
        return Ok(None);
    }
    Ok(Some(Firing {
        alert: a.id.value.clone(),
        instance: p.period.clone(),
        subject: format!("reconcile {id}"),
        summary: format!(
            "{} against {} in {}: {}, outside the tolerance ({} only in {}, {} only in {}, {} differing)",
            r.left.source,
            r.right.source,
            p.period,
            outside.join("; "),
            p.only_left,
            r.left.source,
            p.only_right,
            r.right.source,
            p.unequal
        ),
        owner: a.owner.clone().or_else(|| r.right.owner.clone()),
    }))
}
