//! Evaluating KPIs: definitions → DataFusion plans → values per period and
//! entity → statuses (LANGUAGE.md §4–§7).
//!
//! - A *frame* is the list of periods of one cadence, from the period holding
//!   the first data instant to the one holding `--to` (or `--as-of`), with
//!   boundaries from [`Calendar`]; `ys_bucket_*` maps rows to frame indices.
//! - *Leaves* (aggregate, share, percentile) over the same source, cadence
//!   and entity columns share one aggregate query: each leaf is one or two
//!   aggregate expressions, its `filter` pushed into them as
//!   `FILTER (WHERE …)`. The empty-set value of each leaf comes from the same
//!   expressions over zero rows, so `count` gives 0 and `sum` no value,
//!   exactly as the engine defines them.
//! - Availability is interval arithmetic over the down/exclude rows.
//! - Ratio, formula, growth and cumulative combine other series.
//!
//! Rows after `--as-of` are not read; intervals still going last until it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::ScalarUDF;
use serde::Serialize;
use sqlparser::ast::{Expr as SqlExpr, visit_expressions_mut};
use yardstick_core::calendar::{Calendar, Grain, Period, PeriodKind};
use yardstick_core::intervals::{Span, down_and_scheduled};
use yardstick_core::model::{
    Baseline, Cadence, GrowthRef, Measure, MeasureDef, Project, Reset, Shape, Source,
};
use yardstick_core::sql::SqlFragment;
use yardstick_core::status::{Status, attainment, judge};

use crate::sources::{Catalog, df_message};
use crate::udf::BucketUdf;

// The modules below share this module's imports through `use super::*`.
mod availability;
pub(crate) use availability::spans;
mod derived;
mod frame;
pub mod incremental;
mod leaves;
mod rows;

use leaves::entity_value;
pub(crate) use rows::bracketed;
pub use rows::{EntityValue, Evaluation, Key, Row, entity_words};

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The evaluation instant: later rows are not read, a period not ended
    /// by then is incomplete.
    pub as_of: DateTime<Utc>,
    /// First instant whose period is reported (default: the first with data).
    pub from: Option<DateTime<Utc>>,
    /// Last instant whose period is reported (default: `as_of`).
    pub to: Option<DateTime<Utc>>,
    /// KPI ids to report (default: all KPIs with a period).
    pub kpis: Vec<String>,
    /// Break KPIs down by this declared dimension (LANGUAGE.md §5
    /// `dimensions`): one row per value, with no target or status (a KPI's
    /// target applies to the whole, not to each part).
    pub by: Option<String>,
    /// Attach a [`crate::projection::Projection`] to incomplete periods
    /// (a forecast per KPI × entity: skip it where nobody reads them).
    pub projections: bool,
}

/// Errors of an evaluation: the user's data, or our bug.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Data(String),
    #[error("internal error: {0}")]
    Internal(String),
}

fn data_err(context: &str, e: &DataFusionError) -> EvalError {
    EvalError::Data(format!("{context}: {}", df_message(e)))
}

/// The periods of one cadence, as evaluated.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub(crate) kind: PeriodKind,
    pub(crate) periods: Vec<Period>,
    /// `periods.len() + 1` boundaries in µs (clamped to `as_of`).
    pub(crate) bounds: Vec<i64>,
}

impl Frame {
    pub(crate) fn index_of(&self, p: &Period) -> Option<usize> {
        self.periods.binary_search_by(|x| x.first.cmp(&p.first)).ok()
    }
}

/// A computed value grid: one row of values per entity, one column per period.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) entities: Vec<Key>,
    pub(crate) values: Vec<Vec<Option<f64>>>,
    /// The value for an entity without rows (the empty-set value).
    pub(crate) empty: Option<f64>,
    /// What a value is a share of, same shape as `values` (empty when the
    /// form has none): rows judged for a share, scheduled minutes for
    /// availability. SLO budgets are counted in these units.
    pub(crate) basis: Vec<Vec<Option<f64>>>,
}

impl Series {
    pub(crate) fn get(&self, key: &Key, p: usize) -> Option<f64> {
        match self.entities.binary_search(key) {
            Ok(i) => self.values[i][p],
            Err(_) => self.empty,
        }
    }
}

/// Where a value comes from: a measure at a cadence and entity split.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NodeKey {
    pub(crate) id: String,
    pub(crate) cadence: CadenceKey,
    pub(crate) entity: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum CadenceKey {
    Every(Grain),
    Window(u32),
}

impl CadenceKey {
    pub(crate) fn of(c: Cadence) -> Self {
        match c {
            Cadence::Every(g) => CadenceKey::Every(g),
            Cadence::Window { days } => CadenceKey::Window(days),
        }
    }
}

pub(crate) struct Evaluator<'a> {
    pub(crate) project: &'a Project,
    pub(crate) catalog: &'a Catalog,
    pub(crate) cal: Calendar,
    pub(crate) as_of: DateTime<Utc>,
    pub(crate) as_of_us: i64,
    pub(crate) frames: HashMap<CadenceKey, Frame>,
    pub(crate) series: HashMap<NodeKey, Arc<Series>>,
    /// Numbers the functions registered for this evaluation.
    pub(crate) next_fn: std::sync::atomic::AtomicUsize,
    /// The last evaluation's partials, when evaluating incrementally.
    pub(crate) inc: Option<incremental::Incremental>,
}

/// What an evaluation has computed before rows are written: every needed
/// series, and when each source's data starts.
pub(crate) struct Prepared<'a> {
    pub(crate) ev: Evaluator<'a>,
    pub(crate) kpis: Vec<&'a MeasureDef>,
    pub(crate) first_data: HashMap<String, Option<i64>>,
    pub(crate) data_start: Option<i64>,
}

/// Plans and runs the queries for the KPIs of `opts`.
pub(crate) async fn prepare<'a>(
    project: &'a Project,
    catalog: &'a Catalog,
    opts: &EvalOptions,
) -> Result<Prepared<'a>, EvalError> {
    prepare_from(project, catalog, opts, None).await
}

/// [`prepare`], starting from the partials of an earlier evaluation.
async fn prepare_from<'a>(
    project: &'a Project,
    catalog: &'a Catalog,
    opts: &EvalOptions,
    partials: Option<incremental::Partials>,
) -> Result<Prepared<'a>, EvalError> {
    let cal = project.settings.calendar();
    let kpis: Vec<&MeasureDef> = if opts.kpis.is_empty() {
        project
            .kpis
            .values()
            .filter(|k| k.cadence.is_some() && k.measure.is_some())
            .collect()
    } else {
        opts.kpis
            .iter()
            .map(|id| {
                project.kpis.get(id).ok_or_else(|| {
                    let known: Vec<&str> = project.kpis.keys().map(String::as_str).collect();
                    EvalError::Data(format!("unknown KPI `{id}`; known: {}", known.join(", ")))
                })
            })
            .collect::<Result<_, _>>()?
    };
    if let Some(by) = &opts.by {
        let declared: Vec<&&MeasureDef> = kpis
            .iter()
            .filter(|k| k.dimensions.iter().chain(&k.for_each).any(|d| &d.value == by))
            .collect();
        if declared.is_empty() {
            return Err(EvalError::Data(format!(
                "no selected KPI declares the dimension `{by}`; add it to a KPI's `dimensions`"
            )));
        }
        if !opts.kpis.is_empty()
            && let Some(k) = kpis
                .iter()
                .find(|k| !k.dimensions.iter().chain(&k.for_each).any(|d| &d.value == by))
        {
            let known: Vec<&str> = k.dimensions.iter().map(|d| d.as_str()).collect();
            return Err(EvalError::Data(format!(
                "KPI `{}` has no dimension `{by}`; its dimensions: {}",
                k.id.value,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    let kpis: Vec<&MeasureDef> = match &opts.by {
        Some(by) => kpis
            .into_iter()
            .filter(|k| k.dimensions.iter().chain(&k.for_each).any(|d| &d.value == by))
            .collect(),
        None => kpis,
    };
    let mut ev = Evaluator {
        project,
        catalog,
        cal,
        as_of: opts.as_of,
        as_of_us: opts.as_of.timestamp_micros(),
        frames: HashMap::new(),
        series: HashMap::new(),
        next_fn: std::sync::atomic::AtomicUsize::new(0),
        inc: None,
    };
    if let Some(old) = partials {
        ev.inc = Some(incremental::Incremental::start(project, catalog, old, ev.as_of_us).await);
    }
    // Which leaves each KPI needs, and from when data exists.
    let mut leaves: BTreeSet<NodeKey> = BTreeSet::new();
    for k in &kpis {
        let Some(c) = k.cadence.as_ref().map(|c| c.value) else {
            continue;
        };
        let node = NodeKey {
            id: k.id.value.clone(),
            cadence: CadenceKey::of(c),
            entity: entity_columns(k, opts.by.as_deref()),
        };
        ev.collect_leaves(&node, &mut leaves, 0)?;
    }
    let sources: BTreeSet<String> = leaves
        .iter()
        .filter_map(|l| project.measure(&l.id))
        .flat_map(leaf_sources)
        .collect();
    let mut first_data: HashMap<String, Option<i64>> = HashMap::new();
    for s in &sources {
        let first = if ev.inc.is_some() {
            ev.incremental_extremes(s).await?
        } else {
            ev.first_instant(s).await?
        };
        first_data.insert(s.clone(), first);
    }
    let data_start = first_data.values().flatten().min().copied();
    let report_end = opts.to.unwrap_or(opts.as_of);
    for k in &kpis {
        let Some(c) = k.cadence.as_ref().map(|c| c.value) else {
            continue;
        };
        let key = CadenceKey::of(c);
        if !ev.frames.contains_key(&key) {
            let frame = ev.frame(key, data_start, report_end);
            ev.frames.insert(key, frame);
        }
    }
    ev.run_leaves(&leaves).await?;
    Ok(Prepared {
        ev,
        kpis,
        first_data,
        data_start,
    })
}

/// Evaluates the KPIs of `project` whose sources are registered in `catalog`.
pub async fn evaluate(
    project: &Project,
    catalog: &Catalog,
    opts: &EvalOptions,
) -> Result<Evaluation, EvalError> {
    evaluate_from(project, catalog, opts, None)
        .await
        .map(|(ev, _)| ev)
}

/// [`evaluate`], starting from the partials of the last evaluation made
/// this way (see [`incremental`]) and leaving the next ones in `partials`.
/// The result equals [`evaluate`]'s; on an error the partials are dropped.
pub async fn evaluate_incremental(
    project: &Project,
    catalog: &Catalog,
    opts: &EvalOptions,
    partials: &mut incremental::Partials,
) -> Result<Evaluation, EvalError> {
    let old = std::mem::take(partials);
    let (ev, next) = evaluate_from(project, catalog, opts, Some(old)).await?;
    *partials = next.unwrap_or_default();
    Ok(ev)
}

async fn evaluate_from(
    project: &Project,
    catalog: &Catalog,
    opts: &EvalOptions,
    partials: Option<incremental::Partials>,
) -> Result<(Evaluation, Option<incremental::Partials>), EvalError> {
    let Prepared {
        mut ev,
        kpis,
        first_data,
        data_start,
    } = prepare_from(project, catalog, opts, partials).await?;
    let mut rows = Vec::new();
    for k in &kpis {
        let Some(c) = k.cadence.as_ref().map(|c| c.value) else {
            continue;
        };
        let node = NodeKey {
            id: k.id.value.clone(),
            cadence: CadenceKey::of(c),
            entity: entity_columns(k, opts.by.as_deref()),
        };
        let series = ev.compute(&node, 0).await?;
        // The KPI's own first data (rows start there; without data, where
        // the evaluated data starts); projections learn from its own data only.
        let own_start = sources_read(project, k)
            .iter()
            .filter_map(|s| first_data.get(s).copied().flatten())
            .min();
        ev.rows_for(
            k,
            &node,
            &series,
            own_start.or(data_start),
            own_start,
            opts,
            &mut rows,
        );
    }
    let partials = ev.inc.take().map(incremental::Incremental::finish);
    Ok((
        Evaluation {
            as_of: opts.as_of.into(),
            evaluations: rows,
        },
        partials,
    ))
}

/// The entity columns a KPI is evaluated by: `for_each`, plus the
/// breakdown dimension when one is asked for.
fn entity_columns(k: &MeasureDef, by: Option<&str>) -> Vec<String> {
    let mut cols: Vec<String> = k.for_each.iter().map(|e| e.value.clone()).collect();
    if let Some(by) = by
        && !cols.iter().any(|c| c == by)
    {
        cols.push(by.to_string());
    }
    cols
}

/// Sources a measure reads, directly or through its inputs' leaves.
fn leaf_sources(m: &MeasureDef) -> Vec<String> {
    match m.measure.as_ref().map(|x| &x.value) {
        Some(Measure::Availability { down, .. }) => vec![down.value.clone()],
        Some(x) => x.source().map(|s| vec![s.value.clone()]).unwrap_or_default(),
        None => vec![],
    }
}

/// Every source a definition reads, through its inputs (ratios, formulas,
/// growth, cumulative) down to their leaves.
fn sources_read(project: &Project, m: &MeasureDef) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![m];
    while let Some(m) = stack.pop() {
        if !seen.insert(m.id.value.clone()) {
            continue;
        }
        out.extend(leaf_sources(m));
        if let Some(measure) = &m.measure {
            stack.extend(
                measure
                    .value
                    .inputs()
                    .iter()
                    .filter_map(|i| project.measure(&i.value)),
            );
        }
    }
    out
}

const MAX_DEPTH: usize = 64;

/// Periods per seasonal cycle of a period kind, for forecasts: a year of
/// months, quarters or halves, a week of days; none for years and rolling
/// windows.
pub(crate) fn season_of(kind: PeriodKind) -> usize {
    use yardstick_core::Grain;
    match kind {
        PeriodKind::Calendar(Grain::Day) => 7,
        PeriodKind::Calendar(Grain::Week) => 52,
        PeriodKind::Calendar(Grain::Month) => 12,
        PeriodKind::Calendar(Grain::Quarter | Grain::FiscalQuarter) => 4,
        PeriodKind::Calendar(Grain::Half) => 2,
        PeriodKind::Calendar(Grain::Year | Grain::FiscalYear) | PeriodKind::Rolling { .. } => 1,
    }
}

pub(crate) fn quote(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "\"\""))
}

impl<'a> Evaluator<'a> {
    /// An evaluator with no periods planned, for queries outside the
    /// calendar (burn-rate windows).
    pub(crate) fn new(project: &'a Project, catalog: &'a Catalog, as_of: DateTime<Utc>) -> Self {
        Evaluator {
            project,
            catalog,
            cal: project.settings.calendar(),
            as_of,
            as_of_us: as_of.timestamp_micros(),
            frames: HashMap::new(),
            series: HashMap::new(),
            next_fn: std::sync::atomic::AtomicUsize::new(0),
            inc: None,
        }
    }
}

impl Evaluator<'_> {
    /// A number not used before in this evaluation, for function names.
    fn fresh(&self) -> usize {
        self.next_fn.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn measure(&self, id: &str) -> Result<&MeasureDef, EvalError> {
        self.project
            .measure(id)
            .ok_or_else(|| EvalError::Internal(format!("measure `{id}` vanished after checking")))
    }

    /// The query planned, its errors in `context`.
    async fn plan(&self, sql: &str, context: &str) -> Result<datafusion::dataframe::DataFrame, EvalError> {
        self.catalog.ctx.sql(sql).await.map_err(|e| data_err(context, &e))
    }

    pub(crate) async fn collect(&self, sql: &str, context: &str) -> Result<Vec<RecordBatch>, EvalError> {
        let df = self.plan(sql, context).await?;
        df.collect().await.map_err(|e| data_err(context, &e))
    }

    /// [`Evaluator::collect`] a batch at a time: each is handed to `each`
    /// and dropped, for a result too large to hold whole beside what is
    /// made of it (`why`'s leaves).
    pub(crate) async fn for_each_batch(
        &self,
        sql: &str,
        context: &str,
        mut each: impl FnMut(&RecordBatch) -> Result<(), EvalError>,
    ) -> Result<(), EvalError> {
        use futures::StreamExt;
        let df = self.plan(sql, context).await?;
        let mut stream = df.execute_stream().await.map_err(|e| data_err(context, &e))?;
        while let Some(batch) = stream.next().await {
            each(&batch.map_err(|e| data_err(context, &e))?)?;
        }
        Ok(())
    }

    /// The type of column `column` of table `table`, if both exist.
    pub(crate) async fn column_type(&self, table: &str, column: &str) -> Option<DataType> {
        let provider = self.catalog.ctx.table_provider(table).await.ok()?;
        let schema = provider.schema();
        schema.field_with_name(column).ok().map(|f| f.data_type().clone())
    }
}

/// Shared with the CLI: evaluation on a fresh catalog for a project folder.
pub async fn evaluate_dir(
    project: &Project,
    root: &std::path::Path,
    opts: &EvalOptions,
) -> Result<(Evaluation, yardstick_core::Diagnostics), EvalError> {
    evaluate_dir_with(project, root, &crate::sources::StoredRows::new(), opts).await
}

/// [`evaluate_dir`] with the rows of stored sources.
pub async fn evaluate_dir_with(
    project: &Project,
    root: &std::path::Path,
    stored: &crate::sources::StoredRows,
    opts: &EvalOptions,
) -> Result<(Evaluation, yardstick_core::Diagnostics), EvalError> {
    let mut d = yardstick_core::Diagnostics::default();
    let catalog = crate::sources::register_sources_with(project, root, stored, &mut d).await;
    if d.has_errors() {
        return Ok((
            Evaluation {
                as_of: opts.as_of.into(),
                evaluations: Vec::new(),
            },
            d,
        ));
    }
    let ev = evaluate(project, &catalog, opts).await?;
    Ok((ev, d))
}
