//! Incremental re-evaluation: a front end that lives on (the server's
//! workspace) keeps [`Partials`] from one evaluation to the next, so a
//! refresh costs what the new rows cost, not what the history costs.
//!
//! - A leaf group's query result is kept as *cells*: its aggregate
//!   columns by period (first day) and entity.
//! - Each source's [`Parts`] tell what changed since: nothing (the cells
//!   are used as they are, no query runs), rows appended (new files in a
//!   glob, new stored batches, or a row-wise view over such a source), or
//!   anything else (the group runs over all rows).
//! - Appended rows are aggregated alone, in a session where the appended
//!   source holds only them (the *delta* session), and merged into the
//!   kept cells: sums and counts add, minima and maxima compare. A cell
//!   that had rows and gets more under an aggregate that does not merge
//!   (a distinct count, a percentile, an expression of aggregates) has
//!   its period recomputed over all rows.
//! - Kept cells hold every row up to the evaluation instant they were
//!   made at; when the instant moves on, they stay valid only if the
//!   source had no row after that instant (rows not read then).
//!
//! Values equal a full evaluation's, up to the order in which
//! floating-point sums are added.

use super::*;
use crate::sources::Parts;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{JoinType, LogicalPlan};
use datafusion::prelude::SessionContext;
use sqlparser::ast::{DuplicateTreatment, FunctionArguments};
use yardstick_core::model::Origin;
use yardstick_forecast::{Forecast, ForecastError};

/// One leaf group's aggregate columns, by period (its first day) and entity.
pub(crate) type Cells = BTreeMap<(NaiveDate, Key), Vec<Option<f64>>>;

/// A leaf group's identity: source, cadence, entity columns and the
/// aggregate expressions (with per-evaluation function names made stable).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct GroupKey {
    source: String,
    cadence: CadenceKey,
    entity: Vec<String>,
    aggs: Vec<String>,
}

impl GroupKey {
    pub(crate) fn new(source: &str, cadence: CadenceKey, entity: &[String], aggs: &[String]) -> GroupKey {
        GroupKey {
            source: source.to_string(),
            cadence,
            entity: entity.to_vec(),
            aggs: aggs.iter().map(|a| stable_names(a)).collect(),
        }
    }
}

/// `ys_percentile_12(…)` → `ys_percentile_#(…)`: the number differs between
/// evaluations, the function does not.
fn stable_names(agg: &str) -> String {
    const NAME: &str = "ys_percentile_";
    let mut out = String::with_capacity(agg.len());
    let mut rest = agg;
    while let Some(i) = rest.find(NAME) {
        out.push_str(&rest[..i + NAME.len()]);
        out.push('#');
        rest = rest[i + NAME.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Clone)]
struct GroupPartial {
    cells: Cells,
    /// The frame's last bound when computed: rows before it were read.
    covered_to: i64,
}

/// What an evaluation leaves for the next one to start from.
#[derive(Debug, Default)]
pub struct Partials {
    /// The definitions the partials were made with (sources and settings).
    definitions: u64,
    /// The evaluation instant, µs.
    as_of: i64,
    parts: HashMap<String, Parts>,
    /// A digest of each source's columns and types as read: a new file
    /// that changes how a column is typed changes every value.
    schemas: HashMap<String, u64>,
    /// First and last instant of each leaf source.
    extremes: HashMap<String, (Option<i64>, Option<i64>)>,
    groups: HashMap<GroupKey, GroupPartial>,
    /// One-period-ahead forecasts of projections, by series and season:
    /// the history of complete periods rarely changes between refreshes.
    forecasts: HashMap<ForecastKey, Result<Forecast, ForecastError>>,
    outcome: Outcome,
}

/// A series (its values' bits, gaps as NaN) and its season.
type ForecastKey = (Vec<u64>, usize);

impl Partials {
    /// How the evaluation that made these partials used the ones before.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// How an evaluation used the partials of the one before.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Leaf groups whose source did not change: no query ran.
    pub reused: usize,
    /// Leaf groups whose source only gained rows: those were aggregated
    /// and merged.
    pub merged: usize,
    /// Periods recomputed over all rows within merged groups.
    pub recomputed_periods: usize,
    /// Leaf groups evaluated over all rows.
    pub full: usize,
}

/// How a source changed since the partials were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Same,
    /// Rows were appended; the delta session holds them alone.
    Appended,
    /// Anything else: read it whole.
    Replaced,
}

/// How two values of one aggregate column merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merge {
    Add,
    Min,
    Max,
}

impl Merge {
    fn apply(self, a: Option<f64>, b: Option<f64>) -> Option<f64> {
        match (a, b) {
            (None, x) | (x, None) => x,
            (Some(a), Some(b)) => Some(match self {
                Merge::Add => a + b,
                Merge::Min => a.min(b),
                Merge::Max => a.max(b),
            }),
        }
    }

    /// The merge of an aggregate expression whose value over two sets of
    /// rows follows from its values over each: one `sum`, `count`, `min`
    /// or `max` call, not distinct, not a window.
    pub(crate) fn of(expr: &SqlExpr) -> Option<Merge> {
        match expr {
            SqlExpr::Nested(e) => Merge::of(e),
            SqlExpr::Function(f) => {
                if f.over.is_some() || !f.within_group.is_empty() {
                    return None;
                }
                if let FunctionArguments::List(l) = &f.args
                    && (l.duplicate_treatment == Some(DuplicateTreatment::Distinct) || !l.clauses.is_empty())
                {
                    return None;
                }
                match f.name.to_string().to_ascii_lowercase().as_str() {
                    "sum" | "count" => Some(Merge::Add),
                    "min" => Some(Merge::Min),
                    "max" => Some(Merge::Max),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// The partials of an evaluation in progress: the last ones, read; the
/// next ones, written.
pub(crate) struct Incremental {
    old: Partials,
    new: Partials,
    /// Forecasts made or reused by this evaluation (rows are written
    /// through a shared borrow).
    forecasts: std::sync::Mutex<HashMap<ForecastKey, Result<Forecast, ForecastError>>>,
    changes: HashMap<String, Change>,
    delta: Option<SessionContext>,
}

fn schema_digest(t: &crate::sources::Table) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    format!(
        "{:?}\n{:?}",
        t.schema.fields(),
        t.raw.as_ref().map(|r| r.fields())
    )
    .hash(&mut h);
    h.finish()
}

fn definitions_digest(project: &Project) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    format!("{:?}\n{:?}", project.settings, project.sources).hash(&mut h);
    h.finish()
}

impl Incremental {
    /// Compares what each source is made of now with `old`'s.
    pub(crate) async fn start(
        project: &Project,
        catalog: &Catalog,
        old: Partials,
        as_of: i64,
    ) -> Incremental {
        let definitions = definitions_digest(project);
        let old = if old.definitions == definitions && old.as_of <= as_of {
            old
        } else {
            Partials::default()
        };
        let mut changes: HashMap<String, Change> = HashMap::new();
        // Files and stored rows first, then views once their inputs are known.
        for s in project.sources.values() {
            let id = &s.id.value;
            let change = match (&s.origin, catalog.tables.get(id)) {
                (Some(Origin::View { .. }), _) => continue,
                (_, Some(t)) if old.schemas.get(id) == Some(&schema_digest(t)) => {
                    parts_change(old.parts.get(id), &t.parts)
                }
                _ => Change::Replaced,
            };
            changes.insert(s.id.value.clone(), change);
        }
        loop {
            let mut progressed = false;
            for s in project.sources.values() {
                let Some(Origin::View { sql, reads }) = &s.origin else {
                    continue;
                };
                if changes.contains_key(&s.id.value) {
                    continue;
                }
                let inputs: Option<Vec<Change>> =
                    reads.iter().map(|r| changes.get(&r.value).copied()).collect();
                let Some(inputs) = inputs else { continue };
                let appended: Vec<&str> = reads
                    .iter()
                    .zip(&inputs)
                    .filter(|(_, c)| **c == Change::Appended)
                    .map(|(r, _)| r.value.as_str())
                    .collect();
                let change = if inputs.contains(&Change::Replaced) {
                    Change::Replaced
                } else if appended.is_empty() {
                    Change::Same
                } else if let [one] = appended[..]
                    && let Ok(df) = catalog.ctx.sql(&sql.value).await
                    && let Some(read) = registered_plan(catalog, one).await
                    && distributes(
                        df.logical_plan(),
                        &Read {
                            name: one,
                            plan: &read,
                        },
                    )
                {
                    Change::Appended
                } else {
                    Change::Replaced
                };
                changes.insert(s.id.value.clone(), change);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        let new = Partials {
            definitions,
            as_of,
            parts: catalog
                .tables
                .iter()
                .map(|(id, t)| (id.clone(), t.parts.clone()))
                .collect(),
            schemas: catalog
                .tables
                .iter()
                .map(|(id, t)| (id.clone(), schema_digest(t)))
                .collect(),
            ..Partials::default()
        };
        Incremental {
            old,
            new,
            forecasts: std::sync::Mutex::default(),
            changes,
            delta: None,
        }
    }

    /// How `source` changed, counting rows the last evaluation did not
    /// read because they came after its instant.
    pub(crate) fn change(&self, source: &str) -> Change {
        let change = self.changes.get(source).copied().unwrap_or(Change::Replaced);
        if change == Change::Replaced || self.old.as_of == self.new.as_of {
            return change;
        }
        match self.old.extremes.get(source) {
            Some((_, last)) if last.is_none_or(|l| l <= self.old.as_of) => change,
            _ => Change::Replaced,
        }
    }

    pub(crate) fn finish(mut self) -> Partials {
        self.new.forecasts = self.forecasts.into_inner().unwrap_or_default();
        self.new
    }

    /// `forecast(y, season, 1)`, from the last evaluation's when `y` is the same.
    fn one_ahead(&self, y: &[f64], season: usize) -> Result<Forecast, ForecastError> {
        let key: ForecastKey = (
            y.iter()
                .map(|v| {
                    if v.is_nan() {
                        f64::NAN.to_bits()
                    } else {
                        v.to_bits()
                    }
                })
                .collect(),
            season,
        );
        let made = self.old.forecasts.get(&key).cloned();
        let f = made.unwrap_or_else(|| yardstick_forecast::forecast(y, season, 1));
        if let Ok(mut memo) = self.forecasts.lock() {
            memo.insert(key, f.clone());
        }
        f
    }

    /// Counts a group evaluated over all rows.
    pub(crate) fn read_whole(&mut self) {
        self.new.outcome.full += 1;
    }
}

/// How a view's plan reads the appended source: the source's own plan
/// inlined under its name.
struct Read<'a> {
    name: &'a str,
    plan: &'a LogicalPlan,
}

impl Read<'_> {
    fn is(&self, node: &LogicalPlan) -> bool {
        match node {
            LogicalPlan::SubqueryAlias(a) => a.alias.table() == self.name && a.input.as_ref() == self.plan,
            _ => false,
        }
    }

    /// How often `plan` reads the source, subqueries included.
    fn count(&self, plan: &LogicalPlan) -> usize {
        use datafusion::common::tree_node::TreeNodeRecursion;
        let mut n = 0;
        let _ = plan.apply_with_subqueries(|node| {
            Ok(if self.is(node) {
                n += 1;
                TreeNodeRecursion::Jump
            } else {
                TreeNodeRecursion::Continue
            })
        });
        n
    }
}

/// The plan a source is registered with (a view of its files or rows).
async fn registered_plan(catalog: &Catalog, id: &str) -> Option<LogicalPlan> {
    let provider = catalog.ctx.table_provider(id).await.ok()?;
    provider.get_logical_plan().map(std::borrow::Cow::into_owned)
}

/// Whether a view's plan gives, over the appended source's old rows plus
/// new ones, its old rows plus its rows over the new ones alone: the
/// source is read once, not inside a subquery, under projections, filters,
/// aliases, sorts and joins that keep its rows (not the null-supplying side
/// of an outer join). Whatever does not read it may be anything.
fn distributes(plan: &LogicalPlan, read: &Read<'_>) -> bool {
    if read.count(plan) != 1 {
        return false;
    }
    if read.is(plan) {
        return true;
    }
    let inputs = plan.inputs();
    let counts: Vec<usize> = inputs.iter().map(|p| read.count(p)).collect();
    // Read inside an expression's subquery (`IN (SELECT …)`).
    if counts.iter().sum::<usize>() != 1 {
        return false;
    }
    let Some(i) = counts.iter().position(|&c| c == 1) else {
        return false;
    };
    let kept = match plan {
        LogicalPlan::Projection(_) | LogicalPlan::Filter(_) | LogicalPlan::SubqueryAlias(_) => true,
        LogicalPlan::Sort(s) => s.fetch.is_none(),
        LogicalPlan::Join(j) => match j.join_type {
            JoinType::Inner => true,
            JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti => i == 0,
            JoinType::Right | JoinType::RightSemi | JoinType::RightAnti => i == 1,
            _ => false,
        },
        _ => false,
    };
    kept && distributes(inputs[i], read)
}

/// A session where each appended source holds only its new rows, each
/// unchanged source is the catalog's own, and views over an appended
/// source are planned again over it.
async fn delta_session(
    project: &Project,
    catalog: &Catalog,
    before: &HashMap<String, Parts>,
    changes: &HashMap<String, Change>,
) -> Result<SessionContext, DataFusionError> {
    let tz = project.settings.timezone;
    let ctx = crate::sources::session(tz);
    let internal = |id: &str| DataFusionError::Internal(format!("source `{id}` cannot be read in parts"));
    let mut views = Vec::new();
    for s in project.sources.values() {
        let id = s.id.value.as_str();
        let change = changes.get(id).copied().unwrap_or(Change::Replaced);
        if let Some(Origin::View { .. }) = s.origin {
            views.push(s);
            continue;
        }
        match change {
            Change::Same => {
                ctx.register_table(id, catalog.ctx.table_provider(id).await?)?;
            }
            Change::Appended => {
                let t = catalog.tables.get(id).ok_or_else(|| internal(id))?;
                let df = match (&s.origin, &t.parts, before.get(id)) {
                    (Some(Origin::Files { format, .. }), Parts::Files(now), Some(Parts::Files(then))) => {
                        let added: Vec<String> = now
                            .iter()
                            .filter(|f| !then.contains(f))
                            .map(|f| catalog.root.join(&f.path).to_string_lossy().into_owned())
                            .collect();
                        let raw = t.raw.as_ref().ok_or_else(|| internal(id))?;
                        crate::sources::read_files(&ctx, added, *format, Some(raw))
                            .await?
                            .select(crate::sources::converting(s, raw, &t.conversions, tz))?
                    }
                    (Some(Origin::Store), Parts::Stored { .. }, Some(Parts::Stored { batches, .. })) => {
                        let added = t.memory.get(*batches..).ok_or_else(|| internal(id))?.to_vec();
                        let table = MemTable::try_new(crate::ingest::stored_schema(s), vec![added])?;
                        ctx.read_table(Arc::new(table))?
                    }
                    _ => return Err(internal(id)),
                };
                ctx.register_table(id, df.into_view())?;
            }
            Change::Replaced => {}
        }
    }
    // Views once what they read is registered.
    loop {
        let before = views.len();
        let mut still = Vec::new();
        for s in views {
            let Some(Origin::View { sql, reads }) = &s.origin else {
                continue;
            };
            let id = s.id.value.as_str();
            match changes.get(id).copied().unwrap_or(Change::Replaced) {
                Change::Same => {
                    ctx.register_table(id, catalog.ctx.table_provider(id).await?)?;
                }
                Change::Appended
                    if reads
                        .iter()
                        .all(|r| ctx.table_exist(r.value.as_str()).unwrap_or(false)) =>
                {
                    let df = ctx.sql(&sql.value).await?;
                    ctx.register_table(id, df.into_view())?;
                }
                Change::Appended => still.push(s),
                Change::Replaced => {}
            }
        }
        if still.is_empty() || still.len() == before {
            break;
        }
        views = still;
    }
    Ok(ctx)
}

fn parts_change(old: Option<&Parts>, now: &Parts) -> Change {
    match (old, now) {
        (Some(o), n) if o == n && *n != Parts::Opaque => Change::Same,
        (Some(Parts::Files(o)), Parts::Files(n)) => {
            if n.len() > o.len() && o.iter().all(|f| n.contains(f)) {
                Change::Appended
            } else {
                Change::Replaced
            }
        }
        (
            Some(Parts::Stored {
                compacted: c0,
                batches: b0,
            }),
            Parts::Stored {
                compacted: c1,
                batches: b1,
            },
        ) if c0 == c1 && b1 > b0 => Change::Appended,
        _ => Change::Replaced,
    }
}

impl Evaluator<'_> {
    /// A one-period-ahead forecast for a projection (kept between
    /// incremental evaluations).
    pub(crate) fn forecast_one_ahead(&self, y: &[f64], season: usize) -> Result<Forecast, ForecastError> {
        match &self.inc {
            Some(inc) => inc.one_ahead(y, season),
            None => yardstick_forecast::forecast(y, season, 1),
        }
    }

    /// The first and last instant of `source`, from the kept ones where
    /// its rows did not change or were only appended.
    pub(crate) async fn incremental_extremes(&mut self, source: &str) -> Result<Option<i64>, EvalError> {
        let Some(mut inc) = self.inc.take() else {
            return self.first_instant(source).await;
        };
        let result = self.extremes_with(&mut inc, source).await;
        if let Ok(x) = &result {
            inc.new.extremes.insert(source.to_string(), *x);
        }
        self.inc = Some(inc);
        result.map(|(first, _)| first)
    }

    async fn extremes_with(
        &self,
        inc: &mut Incremental,
        source: &str,
    ) -> Result<(Option<i64>, Option<i64>), EvalError> {
        let old = inc.old.extremes.get(source).copied();
        match (inc.change(source), old) {
            (Change::Same, Some(x)) => return Ok(x),
            (Change::Appended, Some((first, last))) => {
                if let Some(ctx) = self.delta_session(inc).await
                    && let Ok((f, l)) = self.extremes_in(ctx, source).await
                {
                    return Ok((min_some(first, f), max_some(last, l)));
                }
            }
            _ => {}
        }
        if self.catalog.databases.contains_key(source) {
            return Ok((self.first_instant(source).await?, None));
        }
        self.extremes_in(&self.catalog.ctx, source).await
    }

    /// `min` and `max` of a source's time column in `ctx`.
    async fn extremes_in(
        &self,
        ctx: &SessionContext,
        source: &str,
    ) -> Result<(Option<i64>, Option<i64>), EvalError> {
        let Some(s) = self.project.sources.get(source) else {
            return Ok((None, None));
        };
        let col = match &s.shape {
            Shape::Event { time } => &time.value,
            Shape::Interval { start, .. } => &start.value,
            Shape::Reference => return Ok((None, None)),
        };
        let sql = format!("SELECT min({c}), max({c}) FROM {}", quote(source), c = quote(col));
        let context = format!("reading source `{source}`");
        let batches = ctx
            .sql(&sql)
            .await
            .map_err(|e| data_err(&context, &e))?
            .collect()
            .await
            .map_err(|e| data_err(&context, &e))?;
        let at = |c: usize| {
            batches.iter().find(|b| b.num_rows() > 0).and_then(|b| {
                b.column(c)
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .and_then(|a| a.is_valid(0).then(|| a.value(0)))
            })
        };
        Ok((at(0), at(1)))
    }

    /// The session where appended sources hold only their new rows and
    /// every other source is the catalog's own; `None` if it cannot be
    /// built (then every group reads all rows).
    async fn delta_session<'s>(&self, inc: &'s mut Incremental) -> Option<&'s SessionContext> {
        if inc.delta.is_none() {
            match delta_session(self.project, self.catalog, &inc.old.parts, &inc.changes).await {
                Ok(ctx) => inc.delta = Some(ctx),
                Err(e) => {
                    tracing::warn!(error = %df_message(&e), "appended rows cannot be read alone; evaluating all rows");
                    for c in inc.changes.values_mut() {
                        if *c == Change::Appended {
                            *c = Change::Replaced;
                        }
                    }
                    return None;
                }
            }
        }
        inc.delta.as_ref()
    }

    /// A leaf group's cells from the kept ones: as they were when its
    /// source did not change; merged with the appended rows' cells when
    /// rows were only appended. `None` when the group must read all rows.
    ///
    /// `query(None)` is the group's query over every row, `query(Some(list))`
    /// over the rows of those periods.
    pub(crate) async fn kept_cells(
        &mut self,
        key: &GroupKey,
        frame: &Frame,
        query: &(dyn Fn(Option<&[usize]>) -> String + Sync),
        merges: &[Option<Merge>],
        n_ent: usize,
    ) -> Result<Option<Cells>, EvalError> {
        if !matches!(frame.kind, PeriodKind::Calendar(_)) {
            return Ok(None);
        }
        let Some(mut inc) = self.inc.take() else {
            return Ok(None);
        };
        let result = self.kept_with(&mut inc, key, frame, query, merges, n_ent).await;
        self.inc = Some(inc);
        result
    }

    async fn kept_with(
        &self,
        inc: &mut Incremental,
        key: &GroupKey,
        frame: &Frame,
        query: &(dyn Fn(Option<&[usize]>) -> String + Sync),
        merges: &[Option<Merge>],
        n_ent: usize,
    ) -> Result<Option<Cells>, EvalError> {
        let Some(old) = inc.old.groups.remove(key) else {
            return Ok(None);
        };
        if old.covered_to != inc.old.as_of.saturating_add(1) {
            return Ok(None);
        }
        match inc.change(&key.source) {
            Change::Replaced => Ok(None),
            Change::Same => {
                inc.new.outcome.reused += 1;
                Ok(Some(old.cells))
            }
            Change::Appended => {
                let Some(ctx) = self.delta_session(inc).await else {
                    return Ok(None);
                };
                copy_functions(&self.catalog.ctx, ctx);
                let added = match ctx.sql(&query(None)).await {
                    Ok(df) => match df.collect().await {
                        Ok(b) => b,
                        Err(e) => return Ok(give_up(&key.source, &e)),
                    },
                    Err(e) => return Ok(give_up(&key.source, &e)),
                };
                let mut cells = old.cells;
                let mut recompute: BTreeSet<usize> = BTreeSet::new();
                let mergeable = merges.iter().all(Option::is_some);
                for ((first, entity), cols) in cells_of(&added, n_ent, frame) {
                    match cells.get_mut(&(first, entity.clone())) {
                        None => {
                            cells.insert((first, entity), cols);
                        }
                        Some(kept) if mergeable => {
                            for (j, (k, a)) in kept.iter_mut().zip(cols).enumerate() {
                                if let Some(Some(m)) = merges.get(j) {
                                    *k = m.apply(*k, a);
                                }
                            }
                        }
                        Some(_) => {
                            if let Some(p) = frame.periods.iter().position(|x| x.first == first) {
                                recompute.insert(p);
                            }
                        }
                    }
                }
                if !recompute.is_empty() {
                    let list: Vec<usize> = recompute.iter().copied().collect();
                    let sql = query(Some(&list));
                    let context = format!("evaluating KPIs over source `{}`", key.source);
                    let batches = self.collect(&sql, &context).await?;
                    let firsts: BTreeSet<NaiveDate> =
                        recompute.iter().map(|&p| frame.periods[p].first).collect();
                    cells.retain(|(first, _), _| !firsts.contains(first));
                    cells.extend(cells_of(&batches, n_ent, frame));
                    inc.new.outcome.recomputed_periods += recompute.len();
                }
                inc.new.outcome.merged += 1;
                Ok(Some(cells))
            }
        }
    }

    /// Keeps a group's cells for the next evaluation.
    pub(crate) fn keep_cells(&mut self, key: GroupKey, frame: &Frame, cells: &Cells) {
        if let Some(inc) = &mut self.inc
            && matches!(frame.kind, PeriodKind::Calendar(_))
            && let Some(&covered_to) = frame.bounds.last()
        {
            inc.new.groups.insert(
                key,
                GroupPartial {
                    cells: cells.clone(),
                    covered_to,
                },
            );
        }
    }
}

fn give_up(source: &str, e: &DataFusionError) -> Option<Cells> {
    tracing::warn!(source, error = %df_message(e), "appended rows not aggregated alone; evaluating all rows");
    None
}

/// Our functions registered for this evaluation (period buckets,
/// percentiles), made known to the delta session too.
pub(crate) fn copy_functions(from: &SessionContext, to: &SessionContext) {
    let state = from.state();
    for (name, f) in state.scalar_functions() {
        if name.starts_with("ys_") {
            to.register_udf(f.as_ref().clone());
        }
    }
    for (name, f) in state.aggregate_functions() {
        if name.starts_with("ys_") {
            to.register_udaf(f.as_ref().clone());
        }
    }
}

/// A group query's rows as cells: period index (first column), entity
/// columns, then the aggregate columns.
pub(crate) fn cells_of(batches: &[RecordBatch], n_ent: usize, frame: &Frame) -> Cells {
    let mut out = Cells::new();
    let n = frame.periods.len();
    for b in batches {
        let p_col = b.column(0);
        for r in 0..b.num_rows() {
            let Some(p) = leaves::index_value(p_col.as_ref(), r) else {
                continue;
            };
            if p >= n {
                continue;
            }
            let key: Key = (0..n_ent)
                .map(|i| entity_value(b.column(1 + i).as_ref(), r))
                .collect();
            let cols = (1 + n_ent..b.num_columns())
                .map(|c| leaves::float_value(b.column(c).as_ref(), r))
                .collect();
            out.insert((frame.periods[p].first, key), cols);
        }
    }
    out
}

fn min_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (x, None) | (None, x) => x,
    }
}

fn max_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.max(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_names_are_stable_and_nothing_else_changes() {
        assert_eq!(
            stable_names("CAST(ys_percentile_12(x) AS DOUBLE), ys_percentile_3(y)"),
            "CAST(ys_percentile_#(x) AS DOUBLE), ys_percentile_#(y)"
        );
        assert_eq!(stable_names("sum(amount)"), "sum(amount)");
    }

    #[test]
    fn only_plain_sums_counts_minima_and_maxima_merge() {
        let parse = |s: &str| {
            let dialect = sqlparser::dialect::GenericDialect {};
            sqlparser::parser::Parser::new(&dialect)
                .try_with_sql(s)
                .and_then(|mut p| p.parse_expr())
                .expect("parses")
        };
        assert_eq!(Merge::of(&parse("sum(amount - cost)")), Some(Merge::Add));
        assert_eq!(Merge::of(&parse("(count(*))")), Some(Merge::Add));
        assert_eq!(Merge::of(&parse("min(x)")), Some(Merge::Min));
        assert_eq!(Merge::of(&parse("MAX(x)")), Some(Merge::Max));
        assert_eq!(Merge::of(&parse("count(DISTINCT customer_id)")), None);
        assert_eq!(Merge::of(&parse("avg(x)")), None);
        assert_eq!(Merge::of(&parse("sum(a) / count(*)")), None);
        assert_eq!(Merge::of(&parse("sum(a) OVER ()")), None);
        assert_eq!(Merge::Add.apply(None, Some(2.0)), Some(2.0));
        assert_eq!(Merge::Min.apply(Some(1.0), Some(-2.0)), Some(-2.0));
        assert_eq!(Merge::Max.apply(None, None), None);
    }

    #[test]
    fn only_files_added_beside_unchanged_ones_are_an_append() {
        let f = |p: &str, len| crate::sources::FilePart {
            path: p.into(),
            len,
            modified: None,
            sample: 0,
        };
        let old = Parts::Files(vec![f("a", 1)]);
        assert_eq!(parts_change(Some(&old), &old), Change::Same);
        assert_eq!(
            parts_change(Some(&old), &Parts::Files(vec![f("a", 1), f("b", 2)])),
            Change::Appended
        );
        assert_eq!(
            parts_change(Some(&old), &Parts::Files(vec![f("a", 2), f("b", 2)])),
            Change::Replaced
        );
        assert_eq!(parts_change(None, &old), Change::Replaced);
        assert_eq!(
            parts_change(Some(&Parts::Opaque), &Parts::Opaque),
            Change::Replaced
        );
        let s = |c: &[&str], b| Parts::Stored {
            compacted: c.iter().map(|x| x.to_string()).collect(),
            batches: b,
        };
        assert_eq!(parts_change(Some(&s(&[], 2)), &s(&[], 3)), Change::Appended);
        assert_eq!(parts_change(Some(&s(&[], 2)), &s(&["x"], 1)), Change::Replaced);
    }
}
