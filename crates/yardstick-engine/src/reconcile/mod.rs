//! Reconciliation on DataFusion: two sources matched on their keys
//! (`[reconcile.ID]`, README: Reconciliation), per period of the KPIs' grain.
//!
//! - `join`: both sides projected, one full outer join pairing each
//!   record with the one record of its key on the other side, each row's
//!   kind, mismatch flags and periods. Keys are assumed unique first; if
//!   the counts show they were not, the keys found more than once on either
//!   side (hash aggregates) are marked and the join runs again: such a key
//!   pairs with nothing and is reported as a duplicate — never a
//!   many-to-many join. For a KPI bridge the joined rows are computed once
//!   and kept in memory.
//! - `records`: counts per period, the discrepant records with both
//!   sides' values.
//! - `keys`: the keys of discrepant records collected while counting: a
//!   duplicate the counts cannot show, and the records to list, read
//!   again by their keys rather than joined again in full.
//! - `bridge`: each KPI on both sides and its difference split into
//!   causes that add up to it.
//!
//! A record counts in the period of its left time; a record only on the
//! right in the period of its right time. Records after `as_of` are not
//! read.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use datafusion::logical_expr::ScalarUDF;
use serde::Serialize;
use yardstick_core::calendar::Period;
use yardstick_core::model::{MeasureDef, Project};
use yardstick_core::reconcile::{Cause, KpiTolerance, Reconcile};
use yardstick_core::time::Instant;

use crate::eval::{CadenceKey, EvalError, Evaluator, Frame};
use crate::sources::{Catalog, session};
use crate::udf::BucketUdf;
use records::KeyLists;

mod bridge;
mod check;
mod join;
mod keys;
mod records;

pub use check::check_reconcile_columns;
pub use join::Kind;
pub use records::{Cell, Example, Value};

/// What to reconcile.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    pub as_of: DateTime<Utc>,
    /// Only this period (its label, e.g. `2026-10`).
    pub period: Option<String>,
    /// Discrepant records listed per period (`None`: all of them).
    pub limit: Option<usize>,
}

/// One side of a reconciliation.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub source: String,
    /// Who fixes this side's data.
    pub owner: Option<String>,
}

/// Records whose key is not unique on a side.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Duplicates {
    pub left: u64,
    pub right: u64,
}

/// One cause of a KPI difference.
#[derive(Debug, Clone, Serialize)]
pub struct BridgeStep {
    pub cause: Cause,
    /// The compared column, for value differences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Records of this period the step touches.
    pub records: u64,
    /// What the step contributes to `left − right`.
    pub amount: f64,
}

/// A KPI on both sides in one period.
#[derive(Debug, Clone, Serialize)]
pub struct KpiReconciliation {
    pub kpi: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub unit: Option<String>,
    pub left: Option<f64>,
    pub right: Option<f64>,
    /// `left − right`.
    pub difference: Option<f64>,
    /// `difference / |right|`.
    pub relative: Option<f64>,
    pub within_tolerance: bool,
    pub bridge: Vec<BridgeStep>,
}

/// One period of a reconciliation.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodReconciliation {
    pub reconcile: String,
    /// The period's label (`all` when the sources have no time).
    pub period: String,
    /// Both sides and who fixes them, named on every discrepancy.
    pub left: Side,
    pub right: Side,
    #[serde(skip)]
    pub range: Option<Period>,
    pub start: Option<Instant>,
    pub end: Option<Instant>,
    /// Whether the period had ended at `as_of`.
    pub complete: bool,
    /// Records matched on their key whose compared columns all agree.
    pub matched: u64,
    /// Records matched on their key (agreeing or not).
    pub in_common: u64,
    pub only_left: u64,
    pub only_right: u64,
    /// Matched records with at least one compared column out of tolerance.
    pub unequal: u64,
    /// Matched records out of tolerance, per compared column.
    pub mismatched: BTreeMap<String, u64>,
    pub duplicate_keys: Duplicates,
    pub kpis: Vec<KpiReconciliation>,
    pub examples: Vec<Example>,
}

impl PeriodReconciliation {
    /// Every KPI within tolerance.
    pub fn agreed(&self) -> bool {
        self.kpis.iter().all(|k| k.within_tolerance)
    }
}

/// A reconciliation's result.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    pub reconcile: String,
    pub name: Option<String>,
    pub left: Side,
    pub right: Side,
    /// Key columns, as named on the left.
    pub keys: Vec<String>,
    pub parties: Vec<String>,
    pub periods: Vec<PeriodReconciliation>,
}

/// Reconciles `id` on the sources registered in `catalog`.
pub async fn reconcile(
    project: &Project,
    catalog: &Catalog,
    id: &str,
    opts: &ReconcileOptions,
) -> Result<Reconciliation, EvalError> {
    let rc: &Reconcile = project.reconciles.get(id).ok_or_else(|| {
        let known: Vec<&str> = project.reconciles.keys().map(String::as_str).collect();
        EvalError::Data(format!(
            "unknown reconciliation `{id}`; known: {}",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        ))
    })?;
    let plan = join::Plan::new(project, rc).ok_or_else(|| {
        EvalError::Data(format!(
            "reconciliation `{id}` is not valid; run `yardstick check`"
        ))
    })?;
    // A session of its own: the joined rows and the bridge's views are
    // registered beside the two sides, never in the shared catalog.
    let ctx = session(project.settings.timezone);
    for source in [&plan.left, &plan.right] {
        let provider = catalog
            .ctx
            .table_provider(source.as_str())
            .await
            .map_err(|e| EvalError::Data(format!("source `{source}` could not be read: {e}")))?;
        // The same source on both sides is registered once.
        if !ctx.table_exist(source.as_str()).unwrap_or(false) {
            ctx.register_table(source.as_str(), provider)
                .map_err(|e| EvalError::Internal(format!("registering `{source}`: {e}")))?;
        }
    }
    let local = Catalog {
        ctx,
        root: catalog.root.clone(),
        tables: Default::default(),
        databases: Default::default(),
    };
    let kpis: Vec<&MeasureDef> = rc
        .kpis
        .iter()
        .filter_map(|k| project.kpis.get(&k.value))
        .collect();
    let grain = rc.grain(project);
    // The periods: the KPIs' frame, from the first record of either side.
    let frame: Option<Frame> = match (grain, &plan.left_time, &plan.right_time) {
        (Some(g), Some(_), Some(_)) => {
            let ev = Evaluator::new(project, &local, opts.as_of);
            let a = ev.first_instant(&plan.left).await?;
            let b = ev.first_instant(&plan.right).await?;
            let start = a.into_iter().chain(b).min();
            Some(ev.frame(CadenceKey::Every(g), start, opts.as_of))
        }
        _ => None,
    };
    if plan.timed() {
        let bounds = frame.as_ref().map(|f| f.bounds.clone()).unwrap_or_default();
        local
            .ctx
            .register_udf(ScalarUDF::from(BucketUdf::new(join::BUCKET, bounds)));
    }
    let bridge = grain.is_some() && !kpis.is_empty();
    // Keys assumed unique: one join. Only when its counts say otherwise
    // are duplicate keys found and the join run again marking them.
    // The records to list are found by their keys, collected while
    // counting, unless the joined rows are kept anyway or all are listed.
    let listed = match opts.limit {
        Some(n) if n > 0 && !bridge => Some(n),
        _ => None,
    };
    let lists = |otherwise| {
        if listed.is_some() {
            KeyLists::Discrepant
        } else {
            otherwise
        }
    };
    records::register_joined(&local.ctx, &plan, false, bridge).await?;
    let mut counted = records::counts(&local.ctx, &plan, lists(KeyLists::OneSided)).await?;
    let dups = counted.duplicates(records::rows(&local.ctx, &plan).await?)?;
    if dups {
        join::register_duplicates(&local.ctx, &plan).await?;
        records::register_joined(&local.ctx, &plan, true, bridge).await?;
        counted = records::counts(&local.ctx, &plan, lists(KeyLists::None)).await?;
    }
    let wanted = match listed {
        Some(n) => Some(counted.keys.first(n)?),
        None => None,
    };
    let counts = counted.periods;
    let (walks, walk_frame) = match grain {
        Some(g) if !kpis.is_empty() => bridge::walks(project, &local, &plan, &kpis, g, opts.as_of).await?,
        _ => (Default::default(), None),
    };
    if let (Some(a), Some(b)) = (&frame, &walk_frame)
        && a.periods != b.periods
    {
        return Err(EvalError::Internal(format!(
            "the bridge of `{id}` was computed over other periods than its records"
        )));
    }
    let cal = project.settings.calendar();
    let label = |p: Option<i64>| -> Option<String> {
        let f = frame.as_ref()?;
        let p = usize::try_from(p?).ok()?;
        f.periods.get(p).map(|x| cal.label(x))
    };
    let mut examples = match wanted {
        _ if opts.limit == Some(0) => Vec::new(),
        Some(wanted) => {
            keys::register_listed(&local.ctx, &plan, dups, wanted).await?;
            records::examples(&local.ctx, &plan, keys::LISTED, opts.limit, &label).await?
        }
        None => records::examples(&local.ctx, &plan, join::JOINED, opts.limit, &label).await?,
    };
    // Who fixes a side: as declared, else the source's owner, else the
    // party that submits it.
    let owner = |explicit: &Option<String>, source: &str| {
        let s = project.sources.get(source);
        explicit
            .clone()
            .or_else(|| s.and_then(|s| s.owner.clone()))
            .or_else(|| s.and_then(|s| s.submitted_by.clone()))
    };
    let left_side = Side {
        owner: owner(&rc.owner_left, &plan.left),
        source: plan.left.clone(),
    };
    let right_side = Side {
        owner: owner(&rc.owner_right, &plan.right),
        source: plan.right.clone(),
    };
    let n_periods = frame.as_ref().map_or(1, |f| f.periods.len());
    let mut periods = Vec::new();
    for p in 0..n_periods {
        let range = frame.as_ref().and_then(|f| f.periods.get(p)).copied();
        let label = range.map_or_else(|| "all".to_string(), |r| cal.label(&r));
        if opts.period.as_ref().is_some_and(|want| want != &label) {
            continue;
        }
        let c = counts.get(&p).cloned().unwrap_or_else(|| records::Counts {
            mismatched: vec![0; plan.compared.len()],
            changed: vec![0; plan.compared.len()],
            ..Default::default()
        });
        let mut kpi_rows = Vec::new();
        for k in &kpis {
            let Some(w) = walks.get(&k.id.value) else {
                continue;
            };
            let at = |s: usize| w.values.get(s).and_then(|v| v.get(p)).copied().flatten();
            let left = at(0);
            let right = at(w.steps.len());
            let mut bridge = Vec::new();
            for (s, step) in w.steps.iter().enumerate() {
                let amount = at(s).unwrap_or(0.0) - at(s + 1).unwrap_or(0.0);
                let records = match step.cause {
                    Cause::DuplicateKeys => c.duplicate_left + c.duplicate_right,
                    Cause::OnlyLeft => c.only_left,
                    Cause::OnlyRight => c.only_right,
                    Cause::Value => step.column.and_then(|j| c.changed.get(j)).copied().unwrap_or(0),
                    Cause::Period => c.moved,
                };
                if records == 0 && amount == 0.0 {
                    continue;
                }
                bridge.push(BridgeStep {
                    cause: step.cause,
                    column: step.column.map(|j| plan.compared[j].left.clone()),
                    records,
                    amount,
                });
            }
            let difference = match (left, right) {
                (Some(l), Some(r)) => Some(l - r),
                _ => None,
            };
            kpi_rows.push(KpiReconciliation {
                kpi: k.id.value.clone(),
                name: k.name.clone(),
                unit: k.unit.clone(),
                left,
                right,
                difference,
                relative: difference.and_then(|d| right.filter(|r| *r != 0.0).map(|r| d / r.abs())),
                within_tolerance: rc
                    .tolerance
                    .as_ref()
                    .map_or(KpiTolerance { abs: 0.0, rel: 0.0 }, |t| t.value)
                    .agrees(left, right),
                bridge,
            });
        }
        let period_examples: Vec<Example> = {
            let (mine, rest): (Vec<Example>, Vec<Example>) = std::mem::take(&mut examples)
                .into_iter()
                .partition(|e| e.period_index == Some(p));
            examples = rest;
            mine
        };
        periods.push(PeriodReconciliation {
            reconcile: rc.id.value.clone(),
            period: label,
            left: left_side.clone(),
            right: right_side.clone(),
            range,
            start: range.map(|r| cal.start(&r).with_timezone(&Utc).into()),
            end: range.map(|r| cal.end(&r).with_timezone(&Utc).into()),
            complete: range.is_none_or(|r| cal.end(&r).with_timezone(&Utc) <= opts.as_of),
            matched: c.matched,
            in_common: c.in_common,
            only_left: c.only_left,
            only_right: c.only_right,
            unequal: c.unequal(),
            mismatched: plan
                .compared
                .iter()
                .zip(&c.mismatched)
                .map(|(col, n)| (col.left.clone(), *n))
                .collect(),
            duplicate_keys: Duplicates {
                left: c.duplicate_left,
                right: c.duplicate_right,
            },
            kpis: kpi_rows,
            examples: period_examples,
        });
    }
    if let Some(want) = &opts.period
        && periods.is_empty()
    {
        return Err(EvalError::Data(format!(
            "reconciliation `{id}` has no period `{want}` (periods run from the first record to --as-of)"
        )));
    }
    Ok(Reconciliation {
        reconcile: rc.id.value.clone(),
        name: rc.name.clone(),
        left: left_side,
        right: right_side,
        keys: plan.keys.iter().map(|(l, _)| l.clone()).collect(),
        parties: rc.parties.clone(),
        periods,
    })
}
