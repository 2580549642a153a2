//! What KPI values lead to: contract clauses (`yardstick sla`), incentive
//! payouts (`yardstick payouts`), scorecard scores (`yardstick score`) and
//! partnership reviews (`yardstick partnership`).
//!
//! Everything here is computed from the rows of one [`Evaluation`], so the
//! numbers always agree with `yardstick eval`. Only periods that have ended
//! are judged or paid.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;
use yardstick_core::calendar::{Calendar, PeriodKind};
use yardstick_core::contract::{ClauseInput, Wording, judge};
use yardstick_core::model::{Cadence, Contract, MeasureDef, Project};
use yardstick_core::status::payout;

use crate::eval::{EntityValue, Evaluation, Row};

type Entity = Option<BTreeMap<String, EntityValue>>;

/// One clause × period (× entity) of `yardstick sla`.
#[derive(Debug, Clone, Serialize)]
pub struct ClauseRow {
    pub contract: String,
    pub clause: String,
    pub period: String,
    pub entity: Entity,
    pub value: Option<f64>,
    /// The clause's target (or the KPI's in force), as written.
    pub target: Option<String>,
    /// The same target, typed (for display).
    #[serde(skip)]
    pub threshold: Option<yardstick_core::Target>,
    pub breached: bool,
    pub triggered: bool,
    pub credit_share: f64,
    pub credit_amount: f64,
    pub actions: Vec<String>,
    pub explanation: String,
    pub budget_remaining: Option<f64>,
    /// For a breached period: the root cause `why` finds (also named at
    /// the end of `explanation`); see `why::clauses`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_cause: Option<TopCause>,
}

/// The root cause a breached period names (filled in by
/// `why::clauses::name_top_causes`).
#[derive(Debug, Clone, Serialize)]
pub struct TopCause {
    pub elements: BTreeMap<String, Option<String>>,
    pub value: Option<f64>,
    pub reference: Option<f64>,
    pub contribution: f64,
    /// The period compared with.
    pub against: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlaReport {
    pub as_of: yardstick_core::time::Instant,
    pub clauses: Vec<ClauseRow>,
}

/// One incentive × period × entity of `yardstick payouts`.
#[derive(Debug, Clone, Serialize)]
pub struct PayoutRow {
    pub incentive: String,
    pub period: String,
    pub entity: Entity,
    pub attainment: Option<f64>,
    pub payout: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PayoutReport {
    pub as_of: yardstick_core::time::Instant,
    pub payouts: Vec<PayoutRow>,
}

/// One part of a score.
#[derive(Debug, Clone, Serialize)]
pub struct ScorePart {
    pub id: String,
    pub weight: f64,
    /// Attainment capped at 1.2 (for a KPI) or the sub-scorecard's score.
    pub score: Option<f64>,
}

/// One scorecard × period of `yardstick score`.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreRow {
    pub scorecard: String,
    pub period: String,
    pub score: Option<f64>,
    pub complete: bool,
    pub parts: Vec<ScorePart>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreReport {
    pub as_of: yardstick_core::time::Instant,
    pub scores: Vec<ScoreRow>,
}

/// Attainment above this counts as this in scores (LANGUAGE.md §10).
pub const ATTAINMENT_CAP: f64 = 1.2;

fn calendar(p: &Project) -> Calendar {
    Calendar {
        tz: p.settings.timezone,
        week_start: p.settings.week_start,
        fiscal_year_start: p.settings.fiscal_year_start,
    }
}

pub(crate) fn period_word(k: &MeasureDef) -> String {
    match k.cadence.as_ref().map(|c| c.value) {
        Some(Cadence::Every(g)) => g.name().replace('_', " "),
        Some(Cadence::Window { .. }) => "day".into(),
        None => "period".into(),
    }
}

fn entity_key(e: &Entity) -> String {
    e.as_ref()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// The rows of one KPI that have ended, grouped by entity, oldest first.
fn complete_rows<'a>(ev: &'a Evaluation, kpi: &str) -> BTreeMap<String, Vec<&'a Row>> {
    let mut by_entity: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in ev.evaluations.iter().filter(|r| r.kpi == kpi && r.complete) {
        by_entity.entry(entity_key(&r.entity)).or_default().push(r);
    }
    by_entity
}

/// First and end day (exclusive) of a period label of a KPI.
fn period_days(cal: &Calendar, k: &MeasureDef, label: &str) -> Option<(NaiveDate, NaiveDate)> {
    let p = cal.parse_label(label)?;
    match k.cadence.as_ref().map(|c| c.value) {
        Some(Cadence::Window { days }) => {
            let w = cal.window_ending(days, p.first);
            Some((w.first, w.end))
        }
        _ => Some((p.first, p.end)),
    }
}

/// Fraction of the days of `[first, end)` inside the contract's term
/// (`start` inclusive, `end` inclusive).
fn coverage(c: &Contract, first: NaiveDate, end: NaiveDate) -> f64 {
    let lo = c.start.map_or(first, |s| s.max(first));
    let hi = c.end.and_then(|e| e.succ_opt()).map_or(end, |e| e.min(end));
    let total = (end - first).num_days();
    if total <= 0 || hi <= lo {
        return 0.0;
    }
    (hi - lo).num_days() as f64 / total as f64
}

/// `yardstick sla`: every clause of every contract, per ended period.
pub fn sla(project: &Project, ev: &Evaluation) -> SlaReport {
    let cal = calendar(project);
    let mut out = Vec::new();
    for c in project.contracts.values() {
        for clause in &c.clauses {
            let Some(kpi) = clause.kpi.as_ref().and_then(|k| project.kpis.get(&k.value)) else {
                continue;
            };
            let rows = complete_rows(ev, &kpi.id.value);
            // Entities judged per period share that period's fee.
            let mut per_period: HashMap<&str, usize> = HashMap::new();
            for rs in rows.values() {
                for r in rs {
                    *per_period.entry(r.period.as_str()).or_default() += 1;
                }
            }
            let period_word = period_word(kpi);
            let wording = Wording {
                name: kpi.display_name(),
                period_word: &period_word,
                unit: kpi.display_unit(),
                currency: project.settings.currency.as_deref(),
            };
            for rs in rows.values() {
                let mut inputs = Vec::new();
                let mut kept: Vec<&Row> = Vec::new();
                for r in rs {
                    let Some((first, end)) = period_days(&cal, kpi, &r.period) else {
                        continue;
                    };
                    let share_of_term = coverage(c, first, end);
                    if share_of_term <= 0.0 {
                        continue;
                    }
                    let target = match clause.target_at(first) {
                        Some(t) => Some((t.target, t.text.clone())),
                        None if clause.has_target() => None,
                        None => kpi.thresholds_at(first).0.map(|t| (t.target, t.text.clone())),
                    };
                    let fee = c.fee.as_ref().map(|f| {
                        let fee_period = cal.period_of_day(f.value.every, first);
                        let ratio = (end - first).num_days() as f64
                            / (fee_period.end - fee_period.first).num_days() as f64;
                        let entities = per_period.get(r.period.as_str()).copied().unwrap_or(1).max(1) as f64;
                        f.value.amount * ratio * share_of_term / entities
                    });
                    inputs.push(ClauseInput {
                        period: r.period.clone(),
                        value: r.value,
                        target,
                        fee,
                    });
                    kept.push(r);
                }
                for ((r, input), o) in kept.iter().zip(&inputs).zip(judge(clause, &inputs, &wording)) {
                    out.push(ClauseRow {
                        contract: c.id.value.clone(),
                        clause: clause.id.value.clone(),
                        period: r.period.clone(),
                        entity: r.entity.clone(),
                        value: r.value,
                        target: input.target.as_ref().map(|(_, t)| t.clone()),
                        threshold: input.target.as_ref().map(|(t, _)| *t),
                        breached: o.breached,
                        triggered: o.triggered,
                        credit_share: o.credit_share,
                        credit_amount: o.credit_amount,
                        actions: o.actions,
                        explanation: o.explanation,
                        budget_remaining: o.budget_remaining,
                        top_cause: None,
                    });
                }
            }
        }
    }
    SlaReport {
        as_of: ev.as_of,
        clauses: out,
    }
}

/// `yardstick payouts`: every incentive per ended period and entity.
pub fn payouts(project: &Project, ev: &Evaluation) -> PayoutReport {
    let mut out = Vec::new();
    for i in project.incentives.values() {
        let Some(kpi) = &i.kpi else { continue };
        let mut rows: Vec<&Row> = ev
            .evaluations
            .iter()
            .filter(|r| r.kpi == kpi.value && r.complete)
            .collect();
        rows.sort_by(|a, b| {
            a.period
                .cmp(&b.period)
                .then(entity_key(&a.entity).cmp(&entity_key(&b.entity)))
        });
        for r in rows {
            out.push(PayoutRow {
                incentive: i.id.value.clone(),
                period: r.period.clone(),
                entity: r.entity.clone(),
                attainment: r.attainment,
                payout: r.attainment.map_or(0.0, |a| payout(a, &i.payout)),
            });
        }
    }
    PayoutReport {
        as_of: ev.as_of,
        payouts: out,
    }
}

/// Per period label: a score (if any) and whether the period has ended.
type PeriodScores = BTreeMap<String, (Option<f64>, bool)>;

/// Per period label: the mean capped attainment of a KPI over its entities.
fn kpi_scores(ev: &Evaluation, kpi: &str) -> PeriodScores {
    let mut acc: BTreeMap<String, (f64, usize, bool)> = BTreeMap::new();
    for r in ev.evaluations.iter().filter(|r| r.kpi == kpi) {
        let e = acc.entry(r.period.clone()).or_insert((0.0, 0, r.complete));
        if let Some(a) = r.attainment {
            e.0 += a.min(ATTAINMENT_CAP);
            e.1 += 1;
        }
    }
    acc.into_iter()
        .map(|(p, (sum, n, complete))| (p, ((n > 0).then(|| sum / n as f64), complete)))
        .collect()
}

/// Scores of one scorecard per period label (a weighted mean over the parts
/// with a value in that period).
fn scorecard_scores(
    project: &Project,
    ev: &Evaluation,
    weights: &[(String, f64)],
    depth: usize,
) -> BTreeMap<String, (Option<f64>, bool, Vec<ScorePart>)> {
    let mut parts: Vec<(String, f64, PeriodScores)> = Vec::new();
    for (id, w) in weights {
        let scores = if project.kpis.contains_key(id) {
            kpi_scores(ev, id)
        } else if let Some(sc) = project.scorecards.get(id).filter(|_| depth < 16) {
            let sub: Vec<(String, f64)> = sc.weights.iter().map(|(k, w)| (k.value.clone(), *w)).collect();
            scorecard_scores(project, ev, &sub, depth + 1)
                .into_iter()
                .map(|(p, (s, c, _))| (p, (s, c)))
                .collect()
        } else {
            BTreeMap::new()
        };
        parts.push((id.clone(), *w, scores));
    }
    let mut labels: Vec<String> = parts.iter().flat_map(|(_, _, s)| s.keys().cloned()).collect();
    labels.sort();
    labels.dedup();
    labels
        .into_iter()
        .map(|label| {
            let mut num = 0.0;
            let mut den = 0.0;
            let mut complete = true;
            let mut shown = Vec::new();
            for (id, w, scores) in &parts {
                let s = scores.get(&label);
                if let Some((Some(v), c)) = s {
                    num += w * v;
                    den += w;
                    complete &= *c;
                }
                if s.is_some() {
                    shown.push(ScorePart {
                        id: id.clone(),
                        weight: *w,
                        score: s.and_then(|(v, _)| *v),
                    });
                }
            }
            let score = (den > 0.0).then(|| num / den);
            (label, (score, complete, shown))
        })
        .collect()
}

/// `yardstick score`: every scorecard per period.
pub fn scores(project: &Project, ev: &Evaluation) -> ScoreReport {
    let mut out = Vec::new();
    for sc in project.scorecards.values() {
        let weights: Vec<(String, f64)> = sc.weights.iter().map(|(k, w)| (k.value.clone(), *w)).collect();
        for (period, (score, complete, parts)) in scorecard_scores(project, ev, &weights, 0) {
            out.push(ScoreRow {
                scorecard: sc.id.value.clone(),
                period,
                score,
                complete,
                parts,
            });
        }
    }
    ScoreReport {
        as_of: ev.as_of,
        scores: out,
    }
}

/// `yardstick partnership ID`.
#[derive(Debug, Clone, Serialize)]
pub struct PartnershipReport {
    pub as_of: yardstick_core::time::Instant,
    pub partnership: String,
    pub name: Option<String>,
    pub kind: &'static str,
    pub partners: Vec<String>,
    pub review_every: Option<String>,
    /// The latest ended period of each KPI (every entity).
    pub kpis: Vec<Row>,
    /// The equally weighted score of its KPIs per review period.
    pub scores: Vec<ScoreRow>,
}

/// The partnership review: partners, latest KPI values, scores per review period.
pub fn partnership(project: &Project, ev: &Evaluation, id: &str) -> Option<PartnershipReport> {
    let p = project.partnerships.get(id)?;
    let cal = calendar(project);
    let mut kpis = Vec::new();
    for k in &p.kpis {
        let rows: Vec<&Row> = ev
            .evaluations
            .iter()
            .filter(|r| r.kpi == k.value && r.complete)
            .collect();
        if let Some(last) = rows.iter().map(|r| r.period.clone()).max() {
            kpis.extend(rows.into_iter().filter(|r| r.period == last).cloned());
        }
    }
    let weights: Vec<(String, f64)> = p.kpis.iter().map(|k| (k.value.clone(), 1.0)).collect();
    let scores = scorecard_scores(project, ev, &weights, 0)
        .into_iter()
        .filter(|(label, _)| match p.review_every {
            Some(g) => cal
                .parse_label(label)
                .is_some_and(|x| x.kind == PeriodKind::Calendar(g)),
            None => true,
        })
        .map(|(period, (score, complete, parts))| ScoreRow {
            scorecard: id.to_string(),
            period,
            score,
            complete,
            parts,
        })
        .collect();
    Some(PartnershipReport {
        as_of: ev.as_of,
        partnership: id.to_string(),
        name: p.name.clone(),
        kind: p.kind.name(),
        partners: p.partners.clone(),
        review_every: p.review_every.map(|g| g.name().to_string()),
        kpis,
        scores,
    })
}

/// One SLO period of a share or availability KPI (`yardstick slo`).
#[derive(Debug, Clone, Serialize)]
pub struct SloRow {
    pub kpi: String,
    pub period: String,
    pub entity: Entity,
    pub complete: bool,
    pub value: Option<f64>,
    pub target: String,
    /// 1 − target: the share of events (or time) allowed to fail.
    pub error_budget: f64,
    /// `minutes` (availability) or `events` (share).
    pub unit: &'static str,
    /// The budget in `unit`s: (1 − target) × scheduled minutes or rows.
    pub budget: Option<f64>,
    pub consumed: Option<f64>,
    pub remaining: Option<f64>,
    /// Share of the budget left (negative once overspent).
    pub remaining_share: Option<f64>,
    /// (1 − value) ÷ (1 − target): 1 spends the budget exactly by the end of
    /// the period; above 1 spends it early.
    pub burn_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SloReport {
    pub as_of: yardstick_core::time::Instant,
    pub slos: Vec<SloRow>,
}

/// `yardstick slo`: error budgets of share and availability KPIs with a
/// `>=` (or `>`) target below 100%, per period including the current one.
pub fn slo(project: &Project, ev: &Evaluation) -> SloReport {
    let slos = ev
        .evaluations
        .iter()
        .filter_map(|r| {
            let k = project.kpis.get(&r.kpi)?;
            let cal = calendar(project);
            let (first, _) = period_days(&cal, k, &r.period)?;
            slo_row(k, r, k.thresholds_at(first).0, ev.as_of)
        })
        .collect();
    SloReport {
        as_of: ev.as_of,
        slos,
    }
}

/// The error budgets of one contract clause's KPI judged by the clause's
/// target (the KPI's own where the clause sets none).
pub fn clause_slo(project: &Project, ev: &Evaluation, contract: &str, clause: &str) -> Option<SloReport> {
    let c = project.contracts.get(contract)?;
    let cl = c.clauses.iter().find(|cl| cl.id.value == clause)?;
    let kpi = cl.kpi.as_ref()?;
    let k = project.kpis.get(&kpi.value)?;
    let cal = calendar(project);
    let slos = ev
        .evaluations
        .iter()
        .filter(|r| r.kpi == kpi.value)
        .filter_map(|r| {
            let (first, _) = period_days(&cal, k, &r.period)?;
            let target = match cl.target_at(first) {
                Some(t) => Some(t),
                None if cl.has_target() => None,
                None => k.thresholds_at(first).0,
            };
            slo_row(k, r, target, ev.as_of)
        })
        .collect();
    Some(SloReport {
        as_of: ev.as_of,
        slos,
    })
}

/// One row's budget against `target`. Availability budgets are for the
/// whole period (a period in progress has the budget of its full length,
/// of which the downtime so far is consumed); share budgets count the
/// events seen so far.
fn slo_row(
    k: &yardstick_core::model::MeasureDef,
    r: &crate::eval::Row,
    target: Option<&yardstick_core::model::Threshold>,
    as_of: yardstick_core::time::Instant,
) -> Option<SloRow> {
    use yardstick_core::model::{Measure, Target};
    let unit = match k.measure.as_ref().map(|m| &m.value) {
        Some(Measure::Share { .. }) => "events",
        Some(Measure::Availability { .. }) => "minutes",
        _ => return None,
    };
    let t = target?;
    let (Target::AtLeast(level) | Target::Above(level)) = t.target else {
        return None;
    };
    if level >= 1.0 {
        return None;
    }
    let error_budget = 1.0 - level;
    let failing = r.value.map(|v| 1.0 - v);
    // The basis of a period in progress covers its elapsed part.
    let elapsed = if r.complete || unit != "minutes" {
        1.0
    } else {
        elapsed_share(r.start, r.end, as_of).unwrap_or(1.0)
    };
    let budget = r.basis.map(|b| b / elapsed * error_budget);
    let consumed = r.basis.zip(failing).map(|(b, f)| b * f);
    let remaining = budget.zip(consumed).map(|(b, c)| b - c);
    Some(SloRow {
        kpi: r.kpi.clone(),
        period: r.period.clone(),
        entity: r.entity.clone(),
        complete: r.complete,
        value: r.value,
        target: t.text.clone(),
        error_budget,
        unit,
        budget,
        consumed,
        remaining,
        remaining_share: remaining
            .zip(budget)
            .filter(|(_, b)| *b > 0.0)
            .map(|(rem, b)| rem / b)
            .or_else(|| failing.map(|f| 1.0 - f / error_budget)),
        burn_rate: failing.map(|f| f / error_budget),
    })
}

/// The share of `[start, end)` that lies before `as_of`.
fn elapsed_share(
    start: chrono::DateTime<chrono_tz::Tz>,
    end: chrono::DateTime<chrono_tz::Tz>,
    as_of: yardstick_core::time::Instant,
) -> Option<f64> {
    let now = as_of.utc().with_timezone(&start.timezone());
    let span = (end - start).num_milliseconds() as f64;
    let done = (now - start).num_milliseconds() as f64;
    (span > 0.0 && done > 0.0).then(|| (done / span).min(1.0))
}
