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

/// One value of an entity column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum EntityValue {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
}

impl std::fmt::Display for EntityValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntityValue::Null => f.write_str("∅"),
            EntityValue::Bool(b) => write!(f, "{b}"),
            EntityValue::Int(i) => write!(f, "{i}"),
            EntityValue::Str(s) => f.write_str(s),
        }
    }
}

/// An entity for people: `col=value col=value` (empty for none).
pub fn entity_words(entity: Option<&BTreeMap<String, EntityValue>>) -> String {
    entity
        .map(|e| {
            e.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Values of the entity columns, in the order of `for_each`.
pub type Key = Vec<EntityValue>;

/// An instant as the language page writes it: RFC 3339 with the offset.
fn rfc3339<S: serde::Serializer>(t: &DateTime<chrono_tz::Tz>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

/// One row of `yardstick eval` (LANGUAGE.md §7).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub kpi: String,
    pub period: String,
    /// The period's first instant, in the project's zone (serialised as
    /// RFC 3339 with the zone's offset then, e.g. `+01:00`).
    #[serde(serialize_with = "rfc3339")]
    pub start: DateTime<chrono_tz::Tz>,
    /// The instant the period ends (exclusive).
    #[serde(serialize_with = "rfc3339")]
    pub end: DateTime<chrono_tz::Tz>,
    pub entity: Option<BTreeMap<String, EntityValue>>,
    pub value: Option<f64>,
    /// The target in force, as written.
    pub target: Option<String>,
    /// The same target, typed (for display: [`yardstick_core::format::target`]).
    #[serde(skip)]
    pub threshold: Option<yardstick_core::Target>,
    pub status: Option<Status>,
    pub attainment: Option<f64>,
    pub complete: bool,
    pub previous: Option<f64>,
    pub baseline: Option<f64>,
    pub benchmark: Option<f64>,
    pub warning: Option<String>,
    pub unit: Option<String>,
    /// What the value is a share of: rows judged (share) or scheduled
    /// minutes (availability); absent for other forms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<f64>,
    /// Where an incomplete period is heading ([`crate::projection`]);
    /// absent for complete periods and breakdowns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<crate::projection::Projection>,
}

impl Row {
    /// The entity as compact JSON (`""` for a KPI without entities): a
    /// stable key for CSV cells, history rows and metric series.
    pub fn entity_json(&self) -> String {
        self.entity
            .as_ref()
            .map(|e| serde_json::to_string(e).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub as_of: String,
    pub evaluations: Vec<Row>,
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
    };
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
        first_data.insert(s.clone(), ev.first_instant(s).await?);
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
    let Prepared {
        mut ev,
        kpis,
        first_data,
        data_start,
    } = prepare(project, catalog, opts).await?;
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
    Ok(Evaluation {
        as_of: opts.as_of.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        evaluations: rows,
    })
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

    fn collect_leaves(
        &self,
        node: &NodeKey,
        out: &mut BTreeSet<NodeKey>,
        depth: usize,
    ) -> Result<(), EvalError> {
        if depth > MAX_DEPTH {
            return Err(EvalError::Internal(format!(
                "inputs of `{}` nest too deep",
                node.id
            )));
        }
        let m = self.measure(&node.id)?;
        let Some(measure) = &m.measure else {
            return Err(EvalError::Data(format!(
                "`{}` has no valid measure; run `yardstick check`",
                node.id
            )));
        };
        match &measure.value {
            Measure::Aggregate { .. }
            | Measure::Share { .. }
            | Measure::Percentile { .. }
            | Measure::Availability { .. } => {
                out.insert(node.clone());
            }
            other => {
                for input in other.inputs() {
                    let child = NodeKey {
                        id: input.value.clone(),
                        ..node.clone()
                    };
                    self.collect_leaves(&child, out, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn collect(&self, sql: &str, context: &str) -> Result<Vec<RecordBatch>, EvalError> {
        let df = self
            .catalog
            .ctx
            .sql(sql)
            .await
            .map_err(|e| data_err(context, &e))?;
        df.collect().await.map_err(|e| data_err(context, &e))
    }

    /// The earliest instant of a source (its time, or its intervals' start).
    async fn first_instant(&self, source: &str) -> Result<Option<i64>, EvalError> {
        let Some(s) = self.project.sources.get(source) else {
            return Ok(None);
        };
        let col = match &s.shape {
            Shape::Event { time } => &time.value,
            Shape::Interval { start, .. } => &start.value,
            Shape::Reference => return Ok(None),
        };
        let sql = format!("SELECT min({}) FROM {}", quote(col), quote(source));
        let batches = self.collect(&sql, &format!("reading source `{source}`")).await?;
        Ok(batches
            .first()
            .and_then(|b| {
                b.column(0)
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .map(|a| (a.is_valid(0), a))
            })
            .and_then(|(valid, a)| valid.then(|| a.value(0))))
    }

    fn frame(&self, key: CadenceKey, data_start: Option<i64>, report_end: DateTime<Utc>) -> Frame {
        let kind = match key {
            CadenceKey::Every(g) => PeriodKind::Calendar(g),
            CadenceKey::Window(days) => PeriodKind::Rolling { days },
        };
        let start = data_start
            .and_then(crate::udf::from_micros)
            .unwrap_or(report_end)
            .min(report_end);
        // Rolling windows are indexed by their last day: a daily frame.
        let periods = match kind {
            PeriodKind::Rolling { days } => {
                let first = self
                    .cal
                    .window_ending(days, start.with_timezone(&self.cal.tz).date_naive());
                let last = self.cal.period_containing(kind, &report_end);
                let mut v = Vec::new();
                let mut p = first;
                while p.end <= last.end {
                    v.push(p);
                    p = self.cal.next(&p);
                }
                v
            }
            PeriodKind::Calendar(_) => {
                let first = self.cal.period_containing(kind, &start);
                let last = self.cal.period_containing(kind, &report_end);
                let mut v = Vec::new();
                let mut p = first;
                while p.first <= last.first {
                    v.push(p);
                    p = self.cal.next(&p);
                }
                v
            }
        };
        let limit = self.as_of_us.saturating_add(1);
        let bounds = match kind {
            // Day boundaries of the rows, for windows.
            PeriodKind::Rolling { .. } => {
                let mut b: Vec<i64> = periods
                    .iter()
                    .map(|p| self.cal.start_of_day(p.last()).timestamp_micros())
                    .collect();
                if let Some(p) = periods.last() {
                    b.push(self.cal.end(p).timestamp_micros());
                }
                b
            }
            PeriodKind::Calendar(_) => {
                let mut b: Vec<i64> = periods
                    .iter()
                    .map(|p| self.cal.start(p).timestamp_micros())
                    .collect();
                if let Some(p) = periods.last() {
                    b.push(self.cal.end(p).timestamp_micros());
                }
                b
            }
        };
        Frame {
            kind,
            periods,
            bounds: bounds.into_iter().map(|x| x.min(limit)).collect(),
        }
    }

    /// Runs the fused aggregate queries and the availability computations.
    async fn run_leaves(&mut self, leaves: &BTreeSet<NodeKey>) -> Result<(), EvalError> {
        // Group source-based leaves by (source, cadence, entity columns).
        let mut groups: BTreeMap<(String, CadenceKey, Vec<String>), Vec<NodeKey>> = BTreeMap::new();
        for leaf in leaves {
            let m = self.measure(&leaf.id)?;
            match m.measure.as_ref().map(|x| &x.value) {
                Some(Measure::Availability { .. }) => {
                    let s = self.availability(leaf).await?;
                    self.series.insert(leaf.clone(), Arc::new(s));
                }
                Some(x) => {
                    let source = x.source().map(|s| s.value.clone()).unwrap_or_default();
                    groups
                        .entry((source, leaf.cadence, leaf.entity.clone()))
                        .or_default()
                        .push(leaf.clone());
                }
                None => {}
            }
        }
        for ((source, cadence, entity), members) in groups {
            self.run_group(&source, cadence, &entity, &members).await?;
        }
        Ok(())
    }

    async fn run_group(
        &mut self,
        source: &str,
        cadence: CadenceKey,
        entity: &[String],
        members: &[NodeKey],
    ) -> Result<(), EvalError> {
        let src = self
            .project
            .sources
            .get(source)
            .ok_or_else(|| EvalError::Internal(format!("source `{source}` vanished")))?;
        let time = match &src.shape {
            Shape::Event { time } => time.value.clone(),
            Shape::Interval { start, .. } => start.value.clone(),
            Shape::Reference => {
                return Err(EvalError::Data(format!("source `{source}` has no time column")));
            }
        };
        let frame = self
            .frames
            .get(&cadence)
            .cloned()
            .ok_or_else(|| EvalError::Internal("no frame".into()))?;
        // The aggregate expressions of every member.
        let mut aggs: Vec<String> = Vec::new();
        let mut shapes: Vec<LeafShape> = Vec::new();
        for (i, leaf) in members.iter().enumerate() {
            let m = self.measure(&leaf.id)?;
            let Some(measure) = m.measure.as_ref().map(|x| &x.value) else {
                continue;
            };
            let (exprs, shape) = self.leaf_exprs(measure, i)?;
            aggs.extend(exprs);
            shapes.push(shape);
        }
        let udf_name = format!("ys_bucket_{}", self.fresh());
        let bucket_bounds = frame.bounds.clone();
        self.catalog
            .ctx
            .register_udf(ScalarUDF::from(BucketUdf::new(&udf_name, bucket_bounds)));
        let ents: Vec<String> = entity
            .iter()
            .enumerate()
            .map(|(i, e)| format!("{} AS \"__e{i}\"", quote(e)))
            .collect();
        let ent_refs: Vec<String> = entity.iter().map(|e| quote(e)).collect();
        let n = frame.periods.len();
        let select_tail = |p: &str| {
            let mut cols = vec![format!("{p} AS \"__p\"")];
            cols.extend(ents.iter().cloned());
            cols.extend(aggs.iter().cloned());
            cols.join(", ")
        };
        let sql = match frame.kind {
            PeriodKind::Calendar(_) => {
                let p = format!("{udf_name}({})", quote(&time));
                let mut group = vec![p.clone()];
                group.extend(ent_refs.iter().cloned());
                format!(
                    "SELECT {} FROM {} WHERE {p} IS NOT NULL GROUP BY {}",
                    select_tail(&p),
                    quote(source),
                    group.join(", ")
                )
            }
            PeriodKind::Rolling { days } => {
                let offsets: Vec<String> = (0..days).map(|k| format!("({k})")).collect();
                let p = "(\"__d\" + \"__k\")".to_string();
                let mut group = vec![p.clone()];
                group.extend(ent_refs.iter().cloned());
                format!(
                    "SELECT {} FROM (SELECT {udf_name}({}) AS \"__d\", * FROM {}) AS s CROSS JOIN (VALUES {}) AS o(\"__k\") \
                     WHERE \"__d\" IS NOT NULL AND \"__d\" + \"__k\" < {n} GROUP BY {}",
                    select_tail(&p),
                    quote(&time),
                    quote(source),
                    offsets.join(", "),
                    group.join(", ")
                )
            }
        };
        let context = format!("evaluating KPIs over source `{source}`");
        let batches = self.collect(&sql, &context).await?;
        // The same aggregates over zero rows give each leaf's empty value.
        let empty_sql = format!("SELECT {} FROM {} WHERE false", aggs.join(", "), quote(source));
        let empty_batches = self.collect(&empty_sql, &context).await?;
        let empty_row = read_row(&empty_batches, 0);
        // `fill` replaces the empty-set value of a KPI's empty periods.
        let fills: Vec<Option<f64>> = members
            .iter()
            .map(|leaf| self.project.measure(&leaf.id).and_then(|m| m.fill))
            .collect();
        // Dense grids per member.
        let mut grids: Vec<BTreeMap<Key, Vec<Option<f64>>>> = vec![BTreeMap::new(); shapes.len()];
        let mut bases: Vec<BTreeMap<Key, Vec<Option<f64>>>> = vec![BTreeMap::new(); shapes.len()];
        let n_ent = entity.len();
        for b in &batches {
            let p_col = b.column(0);
            for r in 0..b.num_rows() {
                let Some(p) = index_value(p_col.as_ref(), r) else {
                    continue;
                };
                if p >= n {
                    continue;
                }
                let key: Key = (0..n_ent)
                    .map(|i| entity_value(b.column(1 + i).as_ref(), r))
                    .collect();
                let mut col = 1 + n_ent;
                for (i, shape) in shapes.iter().enumerate() {
                    let raw: Vec<Option<f64>> = (0..shape.width())
                        .map(|j| float_value(b.column(col + j).as_ref(), r))
                        .collect();
                    col += shape.width();
                    let empty = fills[i].or_else(|| shape.value(&empty_row_slice(&empty_row, &shapes, i)));
                    let grid = grids[i].entry(key.clone()).or_insert_with(|| vec![empty; n]);
                    grid[p] = shape.value(&raw);
                    if let LeafShape::Share = shape {
                        let basis = bases[i].entry(key.clone()).or_insert_with(|| vec![Some(0.0); n]);
                        basis[p] = raw.first().copied().flatten();
                    }
                }
            }
        }
        for (i, leaf) in members.iter().enumerate() {
            let empty = fills[i].or_else(|| {
                shapes
                    .get(i)
                    .and_then(|s| s.value(&empty_row_slice(&empty_row, &shapes, i)))
            });
            let grid = std::mem::take(&mut grids[i]);
            let is_share = matches!(shapes.get(i), Some(LeafShape::Share));
            let mut basis_grid = std::mem::take(&mut bases[i]);
            let basis: Vec<Vec<Option<f64>>> = if is_share {
                grid.keys()
                    .map(|k| basis_grid.remove(k).unwrap_or_else(|| vec![Some(0.0); n]))
                    .collect()
            } else {
                Vec::new()
            };
            let mut series = Series {
                entities: grid.keys().cloned().collect(),
                values: grid.into_values().collect(),
                empty,
                basis,
            };
            if entity.is_empty() && series.entities.is_empty() {
                series.entities.push(Vec::new());
                series.values.push(vec![empty; n]);
                if is_share {
                    series.basis.push(vec![Some(0.0); n]);
                }
            }
            self.series.insert(leaf.clone(), Arc::new(series));
        }
        Ok(())
    }

    /// SQL aggregate expressions of one leaf (named by index `i`).
    pub(crate) fn leaf_exprs(&self, m: &Measure, i: usize) -> Result<(Vec<String>, LeafShape), EvalError> {
        let filter_text = |f: &Option<SqlFragment>| f.as_ref().map(|f| format!("({})", f.text));
        match m {
            Measure::Aggregate { measure, filter, .. } => {
                let expr = self.with_filter(measure, filter.as_ref())?;
                Ok((
                    vec![format!("CAST(({expr}) AS DOUBLE) AS \"__m{i}\"")],
                    LeafShape::Value,
                ))
            }
            Measure::Share {
                condition, filter, ..
            } => {
                let (n, k) = match filter_text(filter) {
                    Some(f) => (
                        format!("count(*) FILTER (WHERE {f})"),
                        format!("count(*) FILTER (WHERE {f} AND ({}))", condition.text),
                    ),
                    None => (
                        "count(*)".to_string(),
                        format!("count(*) FILTER (WHERE ({}))", condition.text),
                    ),
                };
                Ok((
                    vec![
                        format!("CAST({n} AS DOUBLE) AS \"__n{i}\""),
                        format!("CAST({k} AS DOUBLE) AS \"__k{i}\""),
                    ],
                    LeafShape::Share,
                ))
            }
            Measure::Percentile { of, p, filter, .. } => {
                // Exact percentile_cont (see `udf::exact_percentile`), one
                // function per leaf so that `p` is fixed.
                let name = format!("ys_percentile_{}", self.fresh());
                self.catalog
                    .ctx
                    .register_udaf(crate::udf::exact_percentile(&name, p / 100.0));
                let mut e = format!("{name}(CAST(({}) AS DOUBLE))", of.text);
                if let Some(f) = filter_text(filter) {
                    let _ = write!(e, " FILTER (WHERE {f})");
                }
                Ok((
                    vec![format!("CAST({e} AS DOUBLE) AS \"__m{i}\"")],
                    LeafShape::Value,
                ))
            }
            _ => Err(EvalError::Internal("not a source-based measure".into())),
        }
    }

    /// The measure with `filter` added to every aggregate call in it.
    fn with_filter(&self, measure: &SqlFragment, filter: Option<&SqlFragment>) -> Result<String, EvalError> {
        let Some(filter) = filter else {
            return Ok(measure.text.clone());
        };
        let state = self.catalog.ctx.state();
        let aggregates = state.aggregate_functions();
        let mut expr = measure.expr.clone();
        let _ = visit_expressions_mut(&mut expr, |e: &mut SqlExpr| {
            if let SqlExpr::Function(f) = e {
                let name = f.name.to_string().to_ascii_lowercase();
                if aggregates.contains_key(&name) {
                    let extra = Box::new(SqlExpr::Nested(Box::new(filter.expr.clone())));
                    f.filter = Some(match f.filter.take() {
                        Some(old) => Box::new(SqlExpr::BinaryOp {
                            left: Box::new(SqlExpr::Nested(old)),
                            op: sqlparser::ast::BinaryOperator::And,
                            right: extra,
                        }),
                        None => extra,
                    });
                }
            }
            ControlFlow::<()>::Continue(())
        });
        Ok(expr.to_string())
    }

    /// Availability per period (and unit), from interval rows.
    async fn availability(&self, leaf: &NodeKey) -> Result<Series, EvalError> {
        let m = self.measure(&leaf.id)?;
        let Some(Measure::Availability {
            down,
            exclude,
            per,
            units,
        }) = m.measure.as_ref().map(|x| &x.value)
        else {
            return Err(EvalError::Internal("not an availability measure".into()));
        };
        let frame = self
            .frames
            .get(&leaf.cadence)
            .cloned()
            .ok_or_else(|| EvalError::Internal("no frame".into()))?;
        let unit_col = per
            .as_ref()
            .map(|p| p.value.clone())
            .or_else(|| leaf.entity.first().cloned());
        let down_rows = self.intervals(&down.value, unit_col.as_deref()).await?;
        let excl_rows = match exclude {
            Some(x) => {
                let has_col = unit_col.as_ref().is_some_and(|c| {
                    self.catalog
                        .tables
                        .get(&x.value)
                        .is_some_and(|t| t.schema.field_with_unqualified_name(c).is_ok())
                });
                self.intervals(&x.value, if has_col { unit_col.as_deref() } else { None })
                    .await?
            }
            None => Vec::new(),
        };
        // Units: listed by the `units` source, else those with downtime.
        let mut unit_keys: BTreeSet<EntityValue> = BTreeSet::new();
        if let (Some(u), Some(col)) = (units, &unit_col) {
            let sql = format!("SELECT DISTINCT {} FROM {}", quote(col), quote(&u.value));
            for b in self
                .collect(&sql, &format!("reading units of `{}`", u.value))
                .await?
            {
                for r in 0..b.num_rows() {
                    unit_keys.insert(entity_value(b.column(0).as_ref(), r));
                }
            }
        }
        if unit_col.is_some() && units.is_none() {
            unit_keys.extend(down_rows.iter().map(|(_, u)| u.clone()));
        }
        let per_unit = |unit: Option<&EntityValue>| -> (Vec<Span>, Vec<Span>) {
            let d = down_rows
                .iter()
                .filter(|(_, u)| unit.is_none_or(|x| u == x))
                .map(|(s, _)| *s)
                .collect();
            let x = excl_rows
                .iter()
                .filter(|(_, u)| unit.is_none_or(|x| *u == EntityValue::Null || u == x))
                .map(|(s, _)| *s)
                .collect();
            (d, x)
        };
        let n = frame.periods.len();
        let span_of = |p: usize| {
            let lo = self.cal.start(&frame.periods[p]).timestamp_micros();
            let hi = self
                .cal
                .end(&frame.periods[p])
                .timestamp_micros()
                .min(self.as_of_us);
            (lo, hi)
        };
        let value = |down: i64, scheduled: i64| (scheduled > 0).then(|| 1.0 - down as f64 / scheduled as f64);
        let minutes = |scheduled: i64| Some(scheduled as f64 / 60e6);
        let by_unit = !leaf.entity.is_empty();
        if by_unit {
            let mut entities = Vec::new();
            let mut values = Vec::new();
            let mut basis = Vec::new();
            for unit in &unit_keys {
                let (d, x) = per_unit(Some(unit));
                let (row, b): (Vec<_>, Vec<_>) = (0..n)
                    .map(|p| {
                        let (lo, hi) = span_of(p);
                        let (down, sched) = down_and_scheduled(&d, &x, lo, hi);
                        (value(down, sched), minutes(sched))
                    })
                    .unzip();
                entities.push(vec![unit.clone()]);
                values.push(row);
                basis.push(b);
            }
            return Ok(Series {
                entities,
                values,
                empty: None,
                basis,
            });
        }
        let units_list: Vec<Option<&EntityValue>> = if unit_col.is_some() {
            unit_keys.iter().map(Some).collect()
        } else {
            vec![None]
        };
        let prepared: Vec<(Vec<Span>, Vec<Span>)> = units_list.iter().map(|u| per_unit(*u)).collect();
        let (row, b): (Vec<_>, Vec<_>) = (0..n)
            .map(|p| {
                let (lo, hi) = span_of(p);
                let (mut down, mut sched) = (0i64, 0i64);
                for (d, x) in &prepared {
                    let (a, b) = down_and_scheduled(d, x, lo, hi);
                    down += a;
                    sched += b;
                }
                (value(down, sched), minutes(sched))
            })
            .unzip();
        Ok(Series {
            entities: vec![Vec::new()],
            values: vec![row],
            empty: None,
            basis: vec![b],
        })
    }

    /// Interval rows of a source: (span, unit); an empty end lasts until `as_of`.
    pub(crate) async fn intervals(
        &self,
        source: &str,
        unit: Option<&str>,
    ) -> Result<Vec<(Span, EntityValue)>, EvalError> {
        let s: &Source = self
            .project
            .sources
            .get(source)
            .ok_or_else(|| EvalError::Internal(format!("source `{source}` vanished")))?;
        let Shape::Interval { start, end } = &s.shape else {
            return Err(EvalError::Data(format!("`{source}` is not an interval source")));
        };
        let unit_sql = unit.map_or_else(|| "NULL".to_string(), quote);
        let sql = format!(
            "SELECT {}, {}, {unit_sql} FROM {} WHERE {} IS NOT NULL",
            quote(&start.value),
            quote(&end.value),
            quote(source),
            quote(&start.value)
        );
        let mut out = Vec::new();
        for b in self
            .collect(&sql, &format!("reading intervals of `{source}`"))
            .await?
        {
            let (Some(st), Some(en)) = (
                b.column(0).as_primitive_opt::<TimestampMicrosecondType>(),
                b.column(1).as_primitive_opt::<TimestampMicrosecondType>(),
            ) else {
                return Err(EvalError::Internal(format!("`{source}` times are not instants")));
            };
            for r in 0..b.num_rows() {
                let s = st.value(r);
                let e = if en.is_valid(r) {
                    en.value(r)
                } else {
                    self.as_of_us
                };
                let e = e.min(self.as_of_us);
                if e > s {
                    out.push(((s, e), entity_value(b.column(2).as_ref(), r)));
                }
            }
        }
        Ok(out)
    }

    /// The series of a node, computing derived measures from their inputs.
    pub(crate) async fn compute(&mut self, node: &NodeKey, depth: usize) -> Result<Arc<Series>, EvalError> {
        if let Some(s) = self.series.get(node) {
            return Ok(Arc::clone(s));
        }
        if depth > MAX_DEPTH {
            return Err(EvalError::Internal(format!(
                "inputs of `{}` nest too deep",
                node.id
            )));
        }
        let m = self.measure(&node.id)?.clone();
        let Some(measure) = m.measure.as_ref().map(|x| x.value.clone()) else {
            return Err(EvalError::Data(format!("`{}` has no valid measure", node.id)));
        };
        let frame = self
            .frames
            .get(&node.cadence)
            .cloned()
            .ok_or_else(|| EvalError::Internal("no frame".into()))?;
        let n = frame.periods.len();
        let mut inputs: HashMap<String, Arc<Series>> = HashMap::new();
        for input in measure.inputs() {
            let child = NodeKey {
                id: input.value.clone(),
                ..node.clone()
            };
            let s = Box::pin(self.compute(&child, depth + 1)).await?;
            inputs.insert(input.value.clone(), s);
        }
        let mut entities: BTreeSet<Key> = inputs.values().flat_map(|s| s.entities.iter().cloned()).collect();
        if node.entity.is_empty() {
            entities = BTreeSet::from([Vec::new()]);
        }
        let entities: Vec<Key> = entities.into_iter().collect();
        let get = |id: &str, key: &Key, p: usize| inputs.get(id).and_then(|s| s.get(key, p));
        let mut values = Vec::with_capacity(entities.len());
        for key in &entities {
            let row: Vec<Option<f64>> = match &measure {
                Measure::Ratio {
                    numerator,
                    denominator,
                } => (0..n)
                    .map(|p| {
                        let (a, b) = (get(&numerator.value, key, p)?, get(&denominator.value, key, p)?);
                        (b != 0.0).then(|| a / b)
                    })
                    .collect(),
                Measure::Formula(f) => (0..n)
                    .map(|p| f.expr.eval(&|id| get(id, key, p)).filter(|v| v.is_finite()))
                    .collect(),
                Measure::Growth { of, vs } => (0..n)
                    .map(|p| {
                        let x = get(&of.value, key, p)?;
                        let r = match vs {
                            GrowthRef::Previous => p.checked_sub(1)?,
                            GrowthRef::YearAgo => frame.index_of(&self.cal.year_ago(&frame.periods[p]))?,
                        };
                        let x_ref = get(&of.value, key, r)?;
                        (x_ref != 0.0).then(|| (x - x_ref) / x_ref)
                    })
                    .collect(),
                Measure::Cumulative { of, reset } => {
                    let mut out = Vec::with_capacity(n);
                    let mut total: Option<f64> = None;
                    let mut bucket: Option<NaiveDate> = None;
                    for p in 0..n {
                        let b = self.reset_bucket(&frame.periods[p], *reset);
                        if bucket != Some(b) {
                            total = None;
                            bucket = Some(b);
                        }
                        if let Some(v) = get(&of.value, key, p) {
                            total = Some(total.unwrap_or(0.0) + v);
                        }
                        out.push(total);
                    }
                    out
                }
                _ => {
                    return Err(EvalError::Internal(format!(
                        "`{}` should have been a leaf",
                        node.id
                    )));
                }
            };
            values.push(row);
        }
        let s = Arc::new(Series {
            entities,
            values,
            empty: None,
            basis: Vec::new(),
        });
        self.series.insert(node.clone(), Arc::clone(&s));
        Ok(s)
    }

    /// The first day of the reset bucket a period belongs to.
    fn reset_bucket(&self, p: &Period, reset: Reset) -> NaiveDate {
        let grain = match reset {
            Reset::Quarter => Grain::Quarter,
            Reset::Year => Grain::Year,
            Reset::FiscalYear => Grain::FiscalYear,
            Reset::Never => return NaiveDate::MIN,
        };
        self.cal.period_of_day(grain, p.first).first
    }

    #[allow(clippy::too_many_arguments)]
    fn rows_for(
        &self,
        k: &MeasureDef,
        node: &NodeKey,
        series: &Series,
        kpi_start: Option<i64>,
        own_start: Option<i64>,
        opts: &EvalOptions,
        out: &mut Vec<Row>,
    ) {
        let Some(frame) = self.frames.get(&node.cadence) else {
            return;
        };
        let start_at = opts
            .from
            .or_else(|| kpi_start.and_then(crate::udf::from_micros))
            .unwrap_or(self.as_of);
        let first = self.cal.period_containing(frame.kind, &start_at);
        let benchmark = k.benchmark.as_ref().map(|b| b.value);
        let growth = match frame.kind {
            PeriodKind::Calendar(_) if opts.by.is_none() && opts.projections => {
                crate::projection::growth_of(k)
            }
            _ => None,
        };
        // Projections learn from the KPI's own periods only (not from the
        // empty periods before its first data, nor cut by --from).
        let own_first = own_start
            .and_then(crate::udf::from_micros)
            .map_or(self.as_of, |t| t.min(self.as_of));
        let own_first = self.cal.period_containing(frame.kind, &own_first);
        let history_from = frame
            .periods
            .iter()
            .position(|q| q.first >= own_first.first)
            .unwrap_or(frame.periods.len());
        for (p, period) in frame.periods.iter().enumerate() {
            if period.first < first.first {
                continue;
            }
            let start = self.cal.start(period);
            let end = self.cal.end(period);
            let complete = end.with_timezone(&Utc) <= self.as_of;
            let (target, warning) = k.thresholds_at(period.first);
            for (e, key) in series.entities.iter().enumerate() {
                let value = series.values[e][p];
                let (target, warning) = if opts.by.is_some() {
                    (None, None)
                } else {
                    (target, warning)
                };
                let status = judge(value, target.map(|t| t.target), warning.map(|w| w.target));
                let projection = match growth {
                    Some(g) if !complete && start.with_timezone(&Utc) <= self.as_of => {
                        let span = (end - start).num_milliseconds().max(1) as f64;
                        let elapsed =
                            (self.as_of - start.with_timezone(&Utc)).num_milliseconds() as f64 / span;
                        let history = &series.values[e][history_from.min(p)..p];
                        crate::projection::project(
                            g,
                            crate::projection::value_domain(k, history.iter().flatten().copied()),
                            history,
                            value,
                            elapsed,
                            season_of(frame.kind),
                            target.map(|t| t.target),
                        )
                    }
                    _ => None,
                };
                let entity = (!node.entity.is_empty()).then(|| {
                    node.entity
                        .iter()
                        .cloned()
                        .zip(key.iter().cloned())
                        .collect::<BTreeMap<_, _>>()
                });
                out.push(Row {
                    kpi: k.id.value.clone(),
                    period: self.cal.label(period),
                    start,
                    end,
                    entity,
                    value,
                    target: target.map(|t| t.text.clone()),
                    threshold: target.map(|t| t.target),
                    status,
                    attainment: attainment(value, target.map(|t| t.target)),
                    complete,
                    previous: p
                        .checked_sub(1)
                        .filter(|q| *q >= history_from)
                        .and_then(|q| series.values[e][q]),
                    baseline: self.baseline(k, frame, &series.values[e]),
                    benchmark,
                    warning: warning.map(|w| w.text.clone()),
                    unit: k.display_unit().map(str::to_string),
                    basis: series.basis.get(e).and_then(|b| b[p]),
                    projection,
                });
            }
        }
    }

    /// A number, or the mean of the values of the periods inside a label's range.
    fn baseline(&self, k: &MeasureDef, frame: &Frame, values: &[Option<f64>]) -> Option<f64> {
        match k.baseline.as_ref()? {
            Baseline::Value(v) => Some(*v),
            Baseline::Period(label) => {
                let range = self.cal.parse_label(&label.value)?;
                let inside: Vec<f64> = frame
                    .periods
                    .iter()
                    .zip(values)
                    .filter(|(p, _)| p.first >= range.first && p.end <= range.end)
                    .filter_map(|(_, v)| *v)
                    .collect();
                (!inside.is_empty()).then(|| inside.iter().sum::<f64>() / inside.len() as f64)
            }
        }
    }
}

/// How a leaf's aggregate columns become its value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeafShape {
    /// One column: the value.
    Value,
    /// Two columns: rows, rows meeting the condition.
    Share,
}

impl LeafShape {
    fn width(self) -> usize {
        match self {
            LeafShape::Value => 1,
            LeafShape::Share => 2,
        }
    }

    fn value(self, cols: &[Option<f64>]) -> Option<f64> {
        match self {
            LeafShape::Value => cols.first().copied().flatten().filter(|v| v.is_finite()),
            LeafShape::Share => {
                let (n, k) = (cols.first().copied().flatten()?, cols.get(1).copied().flatten()?);
                (n > 0.0).then(|| k / n)
            }
        }
    }
}

fn empty_row_slice(row: &[Option<f64>], shapes: &[LeafShape], i: usize) -> Vec<Option<f64>> {
    let start: usize = shapes[..i].iter().map(|s| s.width()).sum();
    row.get(start..start + shapes[i].width())
        .map(<[_]>::to_vec)
        .unwrap_or_default()
}

/// The first row of a result as floats.
fn read_row(batches: &[RecordBatch], from_col: usize) -> Vec<Option<f64>> {
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Vec::new();
    };
    (from_col..b.num_columns())
        .map(|c| float_value(b.column(c).as_ref(), 0))
        .collect()
}

fn float_value(a: &dyn Array, r: usize) -> Option<f64> {
    if a.is_null(r) {
        return None;
    }
    match a.data_type() {
        DataType::Float64 => Some(a.as_primitive::<Float64Type>().value(r)),
        DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(r) as f64),
        _ => ScalarValue::try_from_array(a, r)
            .ok()
            .and_then(|s| s.cast_to(&DataType::Float64).ok())
            .and_then(|s| match s {
                ScalarValue::Float64(v) => v,
                _ => None,
            }),
    }
}

fn index_value(a: &dyn Array, r: usize) -> Option<usize> {
    if a.is_null(r) {
        return None;
    }
    match a.data_type() {
        DataType::Int32 => usize::try_from(a.as_primitive::<Int32Type>().value(r)).ok(),
        DataType::Int64 => usize::try_from(a.as_primitive::<Int64Type>().value(r)).ok(),
        _ => None,
    }
}

fn entity_value(a: &dyn Array, r: usize) -> EntityValue {
    if a.is_null(r) {
        return EntityValue::Null;
    }
    match ScalarValue::try_from_array(a, r) {
        Ok(ScalarValue::Boolean(Some(b))) => EntityValue::Bool(b),
        Ok(
            v @ (ScalarValue::Int8(_)
            | ScalarValue::Int16(_)
            | ScalarValue::Int32(_)
            | ScalarValue::Int64(_)
            | ScalarValue::UInt8(_)
            | ScalarValue::UInt16(_)
            | ScalarValue::UInt32(_)),
        ) => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(i))) => EntityValue::Int(i),
            _ => EntityValue::Str(v.to_string()),
        },
        Ok(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s))) => {
            EntityValue::Str(s)
        }
        Ok(v) => EntityValue::Str(v.to_string()),
        Err(_) => EntityValue::Null,
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
                as_of: opts.as_of.to_rfc3339(),
                evaluations: Vec::new(),
            },
            d,
        ));
    }
    let ev = evaluate(project, &catalog, opts).await?;
    Ok((ev, d))
}
