//! The effect of a corrective action: the KPI (and the cause's segment)
//! in the period the action answers and in the periods it is judged in,
//! and whether it recovered.
//!
//! The KPI recovered when every judged period that is complete meets the
//! target. The segment recovered when, in every complete judged period,
//! it is back to at least 90% of what it was in the period before the
//! miss (at most 110% for a KPI whose target is an upper bound). With no
//! complete judged period yet, the verdict is `pending`.

use serde::Serialize;
use yardstick_core::model::{Project, Target};
use yardstick_core::status::Status;

use super::query::{self, Window};
use super::{Split, split_of, split_parts};
use crate::eval::{EvalError, EvalOptions};
use crate::explain::resolve_period;
use crate::sources::Catalog;

/// Whether a KPI or segment came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Recovered,
    NotRecovered,
    Pending,
}

/// One period of an action's story.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    pub period: String,
    pub value: Option<f64>,
    pub status: Option<Status>,
    pub complete: bool,
    /// The KPI over the cause's segment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<f64>,
}

/// Before and after.
#[derive(Debug, Clone, Serialize)]
pub struct Effect {
    /// The period before the miss: what "recovered" is measured against.
    pub before_miss: Judged,
    /// The period the action answers.
    pub miss: Judged,
    /// The periods its effect is judged in.
    pub after: Vec<Judged>,
    pub kpi: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<Verdict>,
}

/// What an action is about.
#[derive(Debug, Clone)]
pub struct ActionScope<'a> {
    pub kpi: &'a str,
    pub entity: &'a [(String, String)],
    pub period: &'a str,
    /// The cause's segment (`None` values: empty cells).
    pub cause: &'a [(String, Option<String>)],
    pub judge_from: &'a str,
    pub judge_to: &'a str,
}

/// The most periods an action is judged over.
const MAX_JUDGED: usize = 36;

/// The effect of an action, judged at `as_of`.
pub async fn effect(
    project: &Project,
    catalog: &Catalog,
    a: &ActionScope<'_>,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<Effect, EvalError> {
    let (kpi, _, miss) = resolve_period(project, a.kpi, a.period)?;
    let (_, _, first) = resolve_period(project, a.kpi, a.judge_from)?;
    let (_, _, last) = resolve_period(project, a.kpi, a.judge_to)?;
    if last.first < first.first {
        return Err(EvalError::Data(format!(
            "the judged periods end ({}) before they start ({})",
            a.judge_to, a.judge_from
        )));
    }
    let cal = project.settings.calendar();
    let mut judged = vec![first];
    while judged.last().is_some_and(|p| p.first < last.first) && judged.len() < MAX_JUDGED {
        let next = cal.next(judged.last().unwrap_or(&first));
        judged.push(next);
    }
    let before = cal.prev(&miss);
    let opts = EvalOptions {
        as_of,
        from: None,
        to: None,
        kpis: vec![a.kpi.to_string()],
        by: None,
        projections: false,
    };
    let ev = crate::evaluate(project, catalog, &opts).await?;
    let split = if a.cause.is_empty() {
        None
    } else {
        Some(split_of(project, kpi)?)
    };
    let row = |p: &yardstick_core::calendar::Period| {
        let label = cal.label(p);
        ev.evaluations.iter().find(|r| {
            r.period == label
                && a.entity.iter().all(|(c, v)| {
                    r.entity
                        .as_ref()
                        .and_then(|e| e.get(c))
                        .is_some_and(|x| x.to_string() == *v)
                })
        })
    };
    let mut story = Vec::new();
    for p in std::iter::once(&before)
        .chain(std::iter::once(&miss))
        .chain(&judged)
    {
        let r = row(p);
        let segment = match &split {
            Some(s) => segment_value(project, catalog, s, a, p, as_of).await?,
            None => None,
        };
        story.push(Judged {
            period: cal.label(p),
            value: r.and_then(|r| r.value),
            status: r.and_then(|r| r.status),
            complete: r.is_some_and(|r| r.complete) || cal.end(p).with_timezone(&chrono::Utc) <= as_of,
            segment,
        });
    }
    let after = story.split_off(2);
    let miss = story.pop().ok_or_else(|| EvalError::Internal("no miss".into()))?;
    let before_miss = story
        .pop()
        .ok_or_else(|| EvalError::Internal("no period before".into()))?;
    let nothing = |j: &Judged| j.segment.is_none_or(|v| v == 0.0);
    if split.is_some() && nothing(&before_miss) && nothing(&miss) {
        let words: Vec<String> = a
            .cause
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(empty)")))
            .collect();
        return Err(EvalError::Data(format!(
            "the cause {} has no rows of `{}` in {} or {}: it cannot have moved it",
            words.join(" ∧ "),
            a.kpi,
            before_miss.period,
            miss.period
        )));
    }
    let done: Vec<&Judged> = after.iter().filter(|j| j.complete).collect();
    let verdict = |ok: &dyn Fn(&Judged) -> bool| {
        if done.is_empty() {
            Verdict::Pending
        } else if done.iter().all(|j| ok(j)) {
            Verdict::Recovered
        } else {
            Verdict::NotRecovered
        }
    };
    let kpi_verdict = verdict(&|j| j.status == Some(Status::Met));
    let upper = matches!(
        kpi.thresholds_at(miss_first(project, a.kpi, a.period)?)
            .0
            .map(|t| t.target),
        Some(Target::AtMost(_) | Target::Below(_))
    );
    let segment = split.as_ref().map(|_| {
        let was = before_miss.segment;
        verdict(&|j| match (j.segment, was) {
            (Some(now), Some(was)) if upper => now <= was * 1.1,
            (Some(now), Some(was)) => now >= was * 0.9,
            _ => false,
        })
    });
    Ok(Effect {
        before_miss,
        miss,
        after,
        kpi: kpi_verdict,
        segment,
    })
}

fn miss_first(project: &Project, kpi: &str, period: &str) -> Result<chrono::NaiveDate, EvalError> {
    resolve_period(project, kpi, period).map(|(_, _, p)| p.first)
}

/// The KPI over the segment's rows in one period.
async fn segment_value(
    project: &Project,
    catalog: &Catalog,
    split: &Split,
    a: &ActionScope<'_>,
    p: &yardstick_core::calendar::Period,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<Option<f64>, EvalError> {
    let cal = project.settings.calendar();
    let start_us = cal.start(p).timestamp_micros();
    if start_us > as_of.timestamp_micros() {
        return Ok(None);
    }
    let w = Window {
        start_us,
        end_us: cal
            .end(p)
            .timestamp_micros()
            .min(as_of.timestamp_micros().saturating_add(1)),
    };
    let conds: Vec<(String, Option<String>)> = a
        .entity
        .iter()
        .map(|(c, v)| (c.clone(), Some(v.clone())))
        .chain(a.cause.iter().cloned())
        .collect();
    let dims = vec![a.cause[0].0.clone()];
    let ratio = |leaves: &[query::Leaf]| {
        let n: f64 = leaves.iter().map(|l| l.numerator).sum();
        let d: f64 = leaves.iter().map(|l| l.denominator).sum();
        (d != 0.0).then(|| n / d)
    };
    Ok(match split {
        Split::Availability(spec) => {
            let entity: Vec<_> = conds[..a.entity.len()].to_vec();
            let within: Vec<_> = a.cause.to_vec();
            let x = super::availability::leaves(
                project,
                catalog,
                spec,
                &dims,
                &entity,
                &within,
                w,
                w,
                as_of.timestamp_micros(),
            )
            .await?;
            match x.by {
                super::availability::By::Unit => ratio(&x.leaves),
                super::availability::By::Incident => {
                    (x.scheduled.0 > 0).then(|| 1.0 - x.leaves.iter().map(|l| l.numerator).sum::<f64>())
                }
            }
        }
        Split::Additive(_) => Some(
            query::leaves(project, catalog, &split_parts(split), &dims, &conds, w, w)
                .await?
                .0
                .iter()
                .map(|l| l.numerator)
                .sum(),
        ),
        Split::Ratio { .. } => ratio(
            &query::leaves(project, catalog, &split_parts(split), &dims, &conds, w, w)
                .await?
                .0,
        ),
    })
}
