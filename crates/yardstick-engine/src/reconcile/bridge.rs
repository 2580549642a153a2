//! KPIs on both sides and the bridge between them.
//!
//! The bridge walks from the left side's records to the right side's in
//! steps, one cause at a time: records whose key is duplicated leave (left)
//! and join (right), records only on the left leave, records only on the
//! right join, the matched records take the right side's value of each
//! compared column the KPI reads (in `compare` order), and finally their
//! right side's time (moving some across a period edge). After the last
//! step the records are exactly the right side's, so the KPI computed after
//! each step — by the same evaluator as `eval`, on a view of the joined
//! rows — goes from the left value to the right value, and the amounts
//! (value before a step minus value after) add up to the whole difference.
//! For sums and counts each amount is what those records contribute,
//! whatever the order; for ratios, averages and percentiles it depends on
//! the order, which is the one above.

use std::collections::HashMap;

use yardstick_core::calendar::Grain;
use yardstick_core::diag::Located;
use yardstick_core::model::{Measure, MeasureDef, Origin, Project, Shape, Source};
use yardstick_core::reconcile::Cause;

use super::join::{JOINED, Kind, Plan};
use crate::eval::{CadenceKey, EvalError, EvalOptions, Frame, NodeKey, prepare, quote};
use crate::sources::Catalog;

/// One step of the walk.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    pub(crate) cause: Cause,
    /// The compared column (index into the plan) a value step switches.
    pub(crate) column: Option<usize>,
}

/// The steps after the left side itself (step 0).
pub(crate) fn steps(plan: &Plan, read: &[usize]) -> Vec<Step> {
    let mut v = vec![
        Step {
            cause: Cause::DuplicateKeys,
            column: None,
        },
        Step {
            cause: Cause::OnlyLeft,
            column: None,
        },
        Step {
            cause: Cause::OnlyRight,
            column: None,
        },
    ];
    for j in 0..plan.compared.len() {
        if read.contains(&j) {
            v.push(Step {
                cause: Cause::Value,
                column: Some(j),
            });
        }
    }
    if plan.timed() {
        v.push(Step {
            cause: Cause::Period,
            column: None,
        });
    }
    v
}

/// The columns of the left source a KPI reads (other than time).
pub(crate) fn columns_read(kpi: &MeasureDef) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(m) = &kpi.measure {
        for f in m.value.fragments() {
            for c in &f.columns {
                if !out.contains(&c.value) {
                    out.push(c.value.clone());
                }
            }
        }
    }
    out
}

/// The view of the joined rows after `done` steps of `all`.
fn step_view(plan: &Plan, all: &[Step], done: usize, read: &[String]) -> String {
    let past = |cause: Cause, column: Option<usize>| {
        all[..done]
            .iter()
            .any(|s| s.cause == cause && (column.is_none() || s.column == column))
    };
    let (dl, dr) = (Kind::DuplicateLeft.code(), Kind::DuplicateRight.code());
    let (ol, or) = (Kind::OnlyLeft.code(), Kind::OnlyRight.code());
    let mut kinds = vec![Kind::Matched.code()];
    if past(Cause::DuplicateKeys, None) {
        kinds.push(dr);
    } else {
        kinds.push(dl);
    }
    if !past(Cause::OnlyLeft, None) {
        kinds.push(ol);
    }
    if past(Cause::OnlyRight, None) {
        kinds.push(or);
    }
    // The right side's value once its step is past; rows that are on one
    // side only always have that side's.
    let pick = |l: &str, r: &str, switched: bool| {
        if switched {
            format!("CASE WHEN \"__kind\" IN ({ol}, {dl}) THEN {l} ELSE {r} END")
        } else {
            format!("CASE WHEN \"__kind\" IN ({or}, {dr}) THEN {r} ELSE {l} END")
        }
    };
    let mut cols: Vec<String> = Vec::new();
    for name in read {
        if let Some(i) = plan.keys.iter().position(|(l, _)| l == name) {
            cols.push(format!("\"__k{i}\" AS {}", quote(name)));
        } else if let Some(j) = plan.compared.iter().position(|c| &c.left == name) {
            let e = pick(
                &format!("\"__l{j}\""),
                &format!("\"__r{j}\""),
                past(Cause::Value, Some(j)),
            );
            cols.push(format!("{e} AS {}", quote(name)));
        }
    }
    if let Some(t) = &plan.left_time {
        let e = pick("\"__lt\"", "\"__rt\"", past(Cause::Period, None));
        cols.push(format!("{e} AS {}", quote(t)));
    }
    let kinds: Vec<String> = kinds.iter().map(i32::to_string).collect();
    format!(
        "SELECT {} FROM {JOINED} WHERE \"__kind\" IN ({})",
        cols.join(", "),
        kinds.join(", ")
    )
}

/// A KPI's value after each step, per period index: `values[s][p]`
/// (step 0 is the left side, the last the right side).
pub(crate) struct Walk {
    pub(crate) steps: Vec<Step>,
    pub(crate) values: Vec<Vec<Option<f64>>>,
}

/// Computes every listed KPI after each step of its walk, on `catalog`
/// (whose session holds the joined rows). Returns the walks by KPI id and
/// the frame they were evaluated on.
pub(crate) async fn walks(
    project: &Project,
    catalog: &Catalog,
    plan: &Plan,
    kpis: &[&MeasureDef],
    grain: Grain,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<(HashMap<String, Walk>, Option<Frame>), EvalError> {
    let Some(time) = plan.left_time.clone() else {
        return Ok((HashMap::new(), None));
    };
    let mut derived = project.clone();
    derived.kpis.clear();
    let mut plans: Vec<(String, Vec<Step>, Vec<String>)> = Vec::new();
    for (k, kpi) in kpis.iter().enumerate() {
        let read = columns_read(kpi);
        let idx: Vec<usize> = plan
            .compared
            .iter()
            .enumerate()
            .filter(|(_, c)| read.contains(&c.left))
            .map(|(j, _)| j)
            .collect();
        let all = steps(plan, &idx);
        let mut ids = Vec::new();
        for done in 0..=all.len() {
            let view = format!("__rc_k{k}_s{done}");
            let sql = format!(
                "CREATE VIEW {} AS {}",
                quote(&view),
                step_view(plan, &all, done, &read)
            );
            catalog.ctx.sql(&sql).await.map_err(|e| {
                EvalError::Internal(format!("planning the bridge of `{}`: {e}", kpi.id.value))
            })?;
            let loc = kpi.id.loc.clone();
            derived.sources.insert(
                view.clone(),
                Source {
                    id: Located::new(view.clone(), loc.clone()),
                    origin: Some(Origin::View {
                        sql: Located::new(String::new(), loc.clone()),
                        reads: Vec::new(),
                    }),
                    shape: Shape::Event {
                        time: Located::new(time.clone(), loc.clone()),
                    },
                    owner: None,
                    submitted_by: None,
                    freshness: None,
                    columns: Vec::new(),
                    description: None,
                },
            );
            let mut m: MeasureDef = (*kpi).clone();
            let id = format!("__rc_k{k}_s{done}");
            m.id = Located::new(id.clone(), loc);
            m.for_each.clear();
            m.dimensions.clear();
            if let Some(measure) = m.measure.as_mut() {
                match &mut measure.value {
                    Measure::Aggregate { source, .. }
                    | Measure::Share { source, .. }
                    | Measure::Percentile { source, .. } => source.value = view.clone(),
                    _ => {
                        return Err(EvalError::Data(format!(
                            "KPI `{}` is not computed from a source; run `yardstick check`",
                            kpi.id.value
                        )));
                    }
                }
            }
            derived.kpis.insert(id.clone(), m);
            ids.push(id);
        }
        plans.push((kpi.id.value.clone(), all, ids));
    }
    let opts = EvalOptions {
        as_of,
        from: None,
        to: None,
        kpis: plans.iter().flat_map(|(_, _, ids)| ids.clone()).collect(),
        by: None,
        projections: false,
    };
    let prepared = prepare(&derived, catalog, &opts).await?;
    let cadence = CadenceKey::Every(grain);
    let frame = prepared.ev.frames.get(&cadence).cloned();
    let n = frame.as_ref().map_or(0, |f| f.periods.len());
    let mut out = HashMap::new();
    for (kpi, steps, ids) in plans {
        let mut values = Vec::new();
        for id in &ids {
            let node = NodeKey {
                id: id.clone(),
                cadence,
                entity: Vec::new(),
            };
            let series = prepared
                .ev
                .series
                .get(&node)
                .ok_or_else(|| EvalError::Internal(format!("no values for the bridge of `{kpi}`")))?;
            values.push((0..n).map(|p| series.get(&Vec::new(), p)).collect());
        }
        out.insert(kpi, Walk { steps, values });
    }
    Ok((out, frame))
}
