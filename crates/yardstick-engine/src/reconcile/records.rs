//! Record-level results over the joined rows: counts per period, the
//! records each bridge step touches, and the discrepant records with the
//! values on both sides.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use serde::Serialize;
use yardstick_core::time::Instant;

use super::join::{JOINED, Kind, Plan};
use crate::eval::{EvalError, quote};
use crate::sources::df_message;

/// Counts of one period.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counts {
    pub(crate) in_common: u64,
    pub(crate) matched: u64,
    pub(crate) only_left: u64,
    pub(crate) only_right: u64,
    pub(crate) duplicate_left: u64,
    pub(crate) duplicate_right: u64,
    /// Matched records out of tolerance, per compared column.
    pub(crate) mismatched: Vec<u64>,
    /// Matched records whose values differ at all, per compared column.
    pub(crate) changed: Vec<u64>,
    /// Matched records whose times fall in another period (out of or into
    /// this one).
    pub(crate) moved: u64,
}

impl Counts {
    pub(crate) fn unequal(&self) -> u64 {
        self.in_common - self.matched
    }
}

pub(crate) async fn collect(
    ctx: &SessionContext,
    sql: &str,
    what: &str,
) -> Result<Vec<RecordBatch>, EvalError> {
    let df = ctx
        .sql(sql)
        .await
        .map_err(|e| EvalError::Data(format!("{what}: {}", df_message(&e))))?;
    df.collect()
        .await
        .map_err(|e| EvalError::Data(format!("{what}: {}", df_message(&e))))
}

fn int(b: &RecordBatch, col: usize, row: usize) -> Option<i64> {
    let a = b.column(col);
    if a.is_null(row) {
        return None;
    }
    match a.data_type() {
        DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Some(i64::from(a.as_primitive::<Int32Type>().value(row))),
        _ => None,
    }
}

fn count(b: &RecordBatch, col: usize, row: usize) -> u64 {
    int(b, col, row).and_then(|v| u64::try_from(v).ok()).unwrap_or(0)
}

/// The counts of one join, and what they tell about its keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counted {
    pub(crate) periods: BTreeMap<usize, Counts>,
    /// Joined rows carrying a left record (any period, or none).
    left_rows: u64,
    right_rows: u64,
    /// Keys (all of their columns present) of discrepant records, by the
    /// period they count in and their kind (see [`KeyLists`]).
    pub(crate) keys: super::keys::Collected,
}

impl Counted {
    /// Whether a join that assumed unique keys met a key found more than
    /// once on a side. Every record is in exactly one joined row when the
    /// keys are unique; a key on `l` left and `r` right records with both
    /// present gives `l·r` rows, more than `l` left rows when `r > 1` and
    /// more than `r` right rows when `l > 1`; a key on one side only keeps
    /// its rows apart, and is found among the one-sided keys.
    pub(crate) fn duplicates(&self, rows: (u64, u64)) -> Result<bool, EvalError> {
        Ok(self.left_rows != rows.0 || self.right_rows != rows.1 || self.keys.one_sided_repeat()?)
    }
}

/// Which keys the counting pass collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyLists {
    None,
    /// Of records on one side only: to find a duplicate the row counts
    /// cannot show.
    OneSided,
    /// Of every discrepant record: to list the first of each period
    /// without joining everything again.
    Discrepant,
}

/// Records on each side, as the join reads them.
pub(crate) async fn rows(ctx: &SessionContext, plan: &Plan) -> Result<(u64, u64), EvalError> {
    let sql = format!(
        "SELECT (SELECT count(*) FROM {}) AS l, (SELECT count(*) FROM {}) AS r",
        quote(&plan.left),
        quote(&plan.right)
    );
    let b = collect(ctx, &sql, "counting records").await?;
    let b = b.iter().find(|b| b.num_rows() > 0);
    Ok(b.map_or((0, 0), |b| (count(b, 0, 0), count(b, 1, 0))))
}

/// Counts per period index over the joined rows, and the keys `lists`
/// asks for.
pub(crate) async fn counts(ctx: &SessionContext, plan: &Plan, lists: KeyLists) -> Result<Counted, EvalError> {
    let m = Kind::Matched.code();
    let n = plan.compared.len();
    let mut aggs = vec![
        format!("count(*) FILTER (WHERE \"__kind\" = {m})"),
        if n == 0 {
            format!("count(*) FILTER (WHERE \"__kind\" = {m})")
        } else {
            let any: Vec<String> = (0..n).map(|j| format!("\"__x{j}\"")).collect();
            format!(
                "count(*) FILTER (WHERE \"__kind\" = {m} AND NOT ({}))",
                any.join(" OR ")
            )
        },
    ];
    for k in [
        Kind::OnlyLeft,
        Kind::OnlyRight,
        Kind::DuplicateLeft,
        Kind::DuplicateRight,
    ] {
        aggs.push(format!("count(*) FILTER (WHERE \"__kind\" = {})", k.code()));
    }
    for j in 0..n {
        aggs.push(format!("count(*) FILTER (WHERE \"__kind\" = {m} AND \"__x{j}\")"));
    }
    for j in 0..n {
        aggs.push(format!(
            "count(*) FILTER (WHERE \"__kind\" = {m} AND \"__l{j}\" IS DISTINCT FROM \"__r{j}\")"
        ));
    }
    let keys_at = 10 + 2 * n;
    let kinds = super::keys::kinds(lists);
    for kind in &kinds {
        aggs.push(super::keys::list(plan, *kind));
    }
    // One pass: the period a row counts in, and for matched records whose
    // two times fall in different periods, both periods (they count as
    // moved in each).
    let moved = |side: &str| {
        format!("CASE WHEN \"__kind\" = {m} AND \"__lp\" IS DISTINCT FROM \"__rp\" THEN \"{side}\" END")
    };
    let sql = format!(
        "SELECT {p} AS p, {ml} AS ml, {mr} AS mr, count(*), {} FROM {JOINED} GROUP BY {p}, {ml}, {mr}",
        aggs.join(", "),
        p = Plan::period_expr(),
        ml = moved("__lp"),
        mr = moved("__rp"),
    );
    let empty = || Counts {
        mismatched: vec![0; n],
        changed: vec![0; n],
        ..Counts::default()
    };
    let mut out = Counted::default();
    let index = |b: &RecordBatch, col: usize, r: usize| int(b, col, r).and_then(|p| usize::try_from(p).ok());
    for b in collect(ctx, &sql, "counting records").await? {
        for r in 0..b.num_rows() {
            // Moved records are counted in both periods: ml and mr group
            // them, so the rows here never double the accounting below.
            out.left_rows += count(&b, 4, r) + count(&b, 6, r) + count(&b, 8, r);
            out.right_rows += count(&b, 4, r) + count(&b, 7, r) + count(&b, 9, r);
            for side in [1, 2] {
                if let Some(p) = index(&b, side, r) {
                    out.periods.entry(p).or_insert_with(empty).moved += count(&b, 3, r);
                }
            }
            let p = index(&b, 0, r);
            for (i, kind) in kinds.iter().enumerate() {
                out.keys.add(p, *kind, b.column(keys_at + i), r);
            }
            let Some(p) = p else {
                continue;
            };
            let c = out.periods.entry(p).or_insert_with(empty);
            c.in_common += count(&b, 4, r);
            c.matched += count(&b, 5, r);
            c.only_left += count(&b, 6, r);
            c.only_right += count(&b, 7, r);
            c.duplicate_left += count(&b, 8, r);
            c.duplicate_right += count(&b, 9, r);
            for j in 0..n {
                c.mismatched[j] += count(&b, 10 + j, r);
                c.changed[j] += count(&b, 10 + n + j, r);
            }
        }
    }
    Ok(out)
}

/// A value as read from a source, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Number(f64),
    Text(String),
    Time(Instant),
}

impl Value {
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            #[allow(clippy::cast_precision_loss)]
            Value::Integer(n) => Some(*n as f64),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str(""),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Integer(n) => write!(f, "{n}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::Text(s) => f.write_str(s),
            Value::Time(t) => write!(f, "{t}"),
        }
    }
}

/// Every value of a column, typed for reports.
pub(crate) fn values(a: &ArrayRef) -> Vec<Value> {
    let n = a.len();
    let as_text = |a: &ArrayRef| -> Vec<Value> {
        match cast(a, &DataType::Utf8) {
            Ok(s) => {
                let s = s.as_string::<i32>();
                (0..n)
                    .map(|i| {
                        if s.is_null(i) {
                            Value::Null
                        } else {
                            Value::Text(s.value(i).to_string())
                        }
                    })
                    .collect()
            }
            Err(_) => vec![Value::Null; n],
        }
    };
    match a.data_type() {
        DataType::Null => vec![Value::Null; n],
        DataType::Boolean => {
            let b = a.as_boolean();
            (0..n)
                .map(|i| {
                    if b.is_null(i) {
                        Value::Null
                    } else {
                        Value::Bool(b.value(i))
                    }
                })
                .collect()
        }
        DataType::Timestamp(TimeUnit::Microsecond, None) => {
            let t = a.as_primitive::<TimestampMicrosecondType>();
            (0..n)
                .map(|i| {
                    if t.is_null(i) {
                        Value::Null
                    } else {
                        crate::udf::from_micros(t.value(i)).map_or(Value::Null, |d| Value::Time(d.into()))
                    }
                })
                .collect()
        }
        t if t.is_integer() => match cast(a, &DataType::Int64) {
            Ok(i) => {
                let i = i.as_primitive::<Int64Type>();
                (0..n)
                    .map(|r| {
                        if i.is_null(r) {
                            Value::Null
                        } else {
                            Value::Integer(i.value(r))
                        }
                    })
                    .collect()
            }
            Err(_) => as_text(a),
        },
        t if t.is_numeric() => match cast(a, &DataType::Float64) {
            Ok(f) => {
                let f = f.as_primitive::<Float64Type>();
                (0..n)
                    .map(|i| {
                        if f.is_null(i) {
                            Value::Null
                        } else {
                            Value::Number(f.value(i))
                        }
                    })
                    .collect()
            }
            Err(_) => as_text(a),
        },
        _ => as_text(a),
    }
}

/// One compared column of a discrepant record.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub column: String,
    pub left: Value,
    pub right: Value,
    /// Out of tolerance (for the time column: in another period).
    pub differs: bool,
    /// left − right, for numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<f64>,
}

/// A discrepant record: its key, what is wrong, and both sides' values.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub kind: Kind,
    pub key: BTreeMap<String, Value>,
    #[serde(skip)]
    pub(crate) period_index: Option<usize>,
    /// The periods of the record's time on each side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right_period: Option<String>,
    pub columns: Vec<Cell>,
}

/// Discrepant records of the joined rows registered as `from`, ordered by
/// period, kind and key: the first `limit` of each period, or all of them.
pub(crate) async fn examples(
    ctx: &SessionContext,
    plan: &Plan,
    from: &str,
    limit: Option<usize>,
    label: &(dyn Fn(Option<i64>) -> Option<String> + Sync),
) -> Result<Vec<Example>, EvalError> {
    let nk = plan.keys.len();
    let nc = plan.compared.len();
    let mut cols: Vec<String> = vec![format!("{} AS \"__p\"", Plan::period_expr()), "\"__kind\"".into()];
    cols.extend((0..nk).map(|i| format!("\"__k{i}\"")));
    for j in 0..nc {
        cols.push(format!("\"__l{j}\""));
        cols.push(format!("\"__r{j}\""));
        cols.push(format!("\"__x{j}\""));
    }
    cols.extend(["\"__lt\"", "\"__rt\"", "\"__lp\"", "\"__rp\""].map(String::from));
    // Only-left first, then only-right, mismatched, duplicates.
    let order_kind = format!(
        "CASE \"__kind\" WHEN {} THEN 0 WHEN {} THEN 1 WHEN {} THEN 2 ELSE \"__kind\" END",
        Kind::OnlyLeft.code(),
        Kind::OnlyRight.code(),
        Kind::Matched.code()
    );
    let keys: Vec<String> = (0..nk).map(|i| format!("\"__k{i}\"")).collect();
    // Records of one key (a duplicate, or a missing key) in the order of
    // their times and values: the listing never depends on the plan.
    let mut keys = keys;
    keys.extend(["\"__lt\"", "\"__rt\""].map(String::from));
    keys.extend((0..nc).flat_map(|j| [format!("\"__l{j}\""), format!("\"__r{j}\"")]));
    let order = format!("\"__p\", {order_kind}, {}", keys.join(", "));
    let inner = format!(
        "SELECT {} FROM {from} WHERE {}",
        cols.join(", "),
        plan.discrepant_expr()
    );
    let sql = match limit {
        Some(n) => format!(
            "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY \"__p\" ORDER BY {order_kind}, {}) AS \"__n\" FROM ({inner})) \
             WHERE \"__n\" <= {n} ORDER BY {order}",
            keys.join(", ")
        ),
        None => format!("{inner} ORDER BY {order}"),
    };
    let mut out = Vec::new();
    let time_col = plan.left_time.as_deref().filter(|_| plan.timed());
    let time_compared = time_col.is_some_and(|t| plan.compared.iter().any(|c| c.left == t));
    for b in collect(ctx, &sql, "listing discrepant records").await? {
        let col = |name: &str| -> Option<Vec<Value>> {
            b.schema().index_of(name).ok().map(|i| values(b.column(i)))
        };
        let ps = b.schema().index_of("__p").ok();
        let kinds = b.schema().index_of("__kind").ok();
        let key_vals: Vec<Vec<Value>> = (0..nk).filter_map(|i| col(&format!("__k{i}"))).collect();
        let lefts: Vec<Vec<Value>> = (0..nc).filter_map(|j| col(&format!("__l{j}"))).collect();
        let rights: Vec<Vec<Value>> = (0..nc).filter_map(|j| col(&format!("__r{j}"))).collect();
        let xs: Vec<Vec<Value>> = (0..nc).filter_map(|j| col(&format!("__x{j}"))).collect();
        let (lt, rt) = (col("__lt"), col("__rt"));
        let lp = b.schema().index_of("__lp").ok();
        let rp = b.schema().index_of("__rp").ok();
        for r in 0..b.num_rows() {
            let Some(kind) = kinds
                .and_then(|i| int(&b, i, r))
                .and_then(|c| i32::try_from(c).ok())
                .and_then(Kind::from_code)
            else {
                continue;
            };
            let key = plan
                .keys
                .iter()
                .zip(&key_vals)
                .map(|((l, _), v)| (l.clone(), v[r].clone()))
                .collect();
            let mut cells: Vec<Cell> = Vec::new();
            for (j, c) in plan.compared.iter().enumerate() {
                let (left, right) = (lefts[j][r].clone(), rights[j][r].clone());
                let difference = match (left.as_number(), right.as_number()) {
                    (Some(a), Some(b)) => Some(a - b),
                    _ => None,
                };
                cells.push(Cell {
                    column: c.left.clone(),
                    differs: kind == Kind::Matched && xs[j][r] == Value::Bool(true),
                    left,
                    right,
                    difference,
                });
            }
            let (lpi, rpi) = (lp.and_then(|i| int(&b, i, r)), rp.and_then(|i| int(&b, i, r)));
            let moved = kind == Kind::Matched && lpi != rpi;
            match (time_col, &lt, &rt) {
                (Some(t), Some(lt), Some(rt)) if !time_compared => cells.push(Cell {
                    column: t.to_string(),
                    left: lt[r].clone(),
                    right: rt[r].clone(),
                    differs: moved,
                    difference: None,
                }),
                // A compared time column also differs when it moves the
                // record to another period.
                (Some(t), _, _) if moved => {
                    if let Some(c) = cells.iter_mut().find(|c| c.column == t) {
                        c.differs = true;
                    }
                }
                _ => {}
            }
            let present = |v: Option<i64>, side_right: bool| {
                let on_side = match kind {
                    Kind::Matched => true,
                    k => k.is_right() == side_right,
                };
                if on_side && plan.timed() { label(v) } else { None }
            };
            out.push(Example {
                kind,
                key,
                period_index: ps
                    .and_then(|i| int(&b, i, r))
                    .and_then(|p| usize::try_from(p).ok()),
                left_period: present(lpi, false),
                right_period: present(rpi, true),
                columns: cells,
            });
        }
    }
    Ok(out)
}

/// Registers the joined rows (see [`Plan::joined_sql`]): computed once and
/// kept in memory when `cache` (the bridge reads them once per step), else
/// a view that each query runs. Replaces rows registered before.
pub(crate) async fn register_joined(
    ctx: &SessionContext,
    plan: &Plan,
    dups: bool,
    cache: bool,
) -> Result<(), EvalError> {
    let what = format!("joining `{}` and `{}` on their keys", plan.left, plan.right);
    register_sql(ctx, JOINED, &plan.joined_sql(dups), &what, cache).await
}

/// Registers what `sql` gives as `name`, replacing what was there: a view
/// that each query runs, or — when `cache` — computed now and kept in
/// memory. `what` says what the query does, for errors.
pub(crate) async fn register_sql(
    ctx: &SessionContext,
    name: &str,
    sql: &str,
    what: &str,
    cache: bool,
) -> Result<(), EvalError> {
    let data = |e: datafusion::error::DataFusionError| EvalError::Data(format!("{what}: {}", df_message(&e)));
    let df = ctx.sql(sql).await.map_err(data)?;
    let df = if cache {
        df.cache().await.map_err(data)?
    } else {
        df
    };
    let internal = |e: datafusion::error::DataFusionError| EvalError::Internal(format!("{what}: {e}"));
    ctx.deregister_table(name).map_err(internal)?;
    ctx.register_table(name, df.into_view()).map_err(internal)?;
    Ok(())
}
