//! The two queries of `why`: the leaves (one row per combination of the
//! dimensions' values, the period and the reference aggregated side by
//! side in one scan of each source), and the segments (one grouping-sets
//! query over the leaves for every combination of up to `depth`
//! dimensions, pruned in its `HAVING` to the segments that can matter).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use yardstick_core::model::{Project, Shape};
use yardstick_core::sql::SqlFragment;
use yardstick_core::why::RatioParts;
use yardstick_core::why::search::{Elements, Fit};

use crate::eval::{EvalError, Evaluator, quote};
use crate::sources::{Catalog, df_message};

/// Instants `[start_us, end_us)`, µs since the epoch.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub start_us: i64,
    pub end_us: i64,
}

/// A measure that adds up over rows, on one source.
#[derive(Debug, Clone)]
pub(super) struct Part {
    pub source: String,
    pub measure: SqlFragment,
    pub filter: Option<SqlFragment>,
}

/// One combination of every dimension's value (`None`: NULL), with the
/// parts in the period and the reference (for an additive measure, the
/// numerators alone).
#[derive(Debug, Clone, Default)]
pub(super) struct Leaf {
    pub key: Vec<Option<String>>,
    pub numerator: f64,
    pub denominator: f64,
    pub reference_numerator: f64,
    pub reference_denominator: f64,
}

impl Leaf {
    pub(super) fn parts(&self) -> RatioParts {
        RatioParts {
            numerator: self.numerator,
            denominator: self.denominator,
            reference_numerator: self.reference_numerator,
            reference_denominator: self.reference_denominator,
        }
    }
}

/// A segment from the grouping-sets query.
#[derive(Debug, Clone)]
pub(super) struct Segment {
    pub elements: Elements,
    pub fit: Fit,
    pub parts: RatioParts,
}

pub(super) fn instant(us: i64) -> String {
    let t = crate::udf::from_micros(us).unwrap_or_default();
    format!(
        "CAST('{}' AS TIMESTAMP)",
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    )
}

fn dim(i: usize) -> String {
    format!("\"__d{i}\"")
}

/// The leaves of every part, merged by key: the first part is the
/// numerator, the second (a ratio's) the denominator.
pub(super) async fn leaves(
    project: &Project,
    catalog: &Catalog,
    parts: &[&Part],
    dims: &[String],
    entity: &[(String, Option<String>)],
    now: Window,
    reference: Window,
) -> Result<Vec<Leaf>, EvalError> {
    // One part: the query's keys are unique already. Two: merged by key.
    let mut out: Vec<Leaf> = Vec::new();
    let mut index: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    let merge = parts.len() > 1;
    let ev = Evaluator::new(project, catalog, chrono::Utc::now());
    for (which, part) in parts.iter().enumerate() {
        let src = project
            .sources
            .get(&part.source)
            .ok_or_else(|| EvalError::Internal(format!("source `{}` vanished", part.source)))?;
        let time = match &src.shape {
            Shape::Event { time } => time.value.clone(),
            Shape::Interval { start, .. } => start.value.clone(),
            Shape::Reference => {
                return Err(EvalError::Data(format!(
                    "source `{}` has no time column",
                    part.source
                )));
            }
        };
        let within = |w: Window| {
            format!(
                "({t} >= {} AND {t} < {})",
                instant(w.start_us),
                instant(w.end_us),
                t = quote(&time)
            )
        };
        let flag = |name: &str| -> Result<SqlFragment, EvalError> {
            let text = match &part.filter {
                Some(f) => format!("{name} AND ({})", f.text),
                None => name.to_string(),
            };
            super::split::fragment(&text)
        };
        let value = ev.with_filter(&part.measure, Some(&flag("__now")?))?;
        let before = ev.with_filter(&part.measure, Some(&flag("__ref")?))?;
        let mut conds = vec![format!("({} OR {})", within(now), within(reference))];
        for (c, v) in entity {
            conds.push(match v {
                Some(v) => format!("CAST({} AS VARCHAR) = '{}'", quote(c), v.replace('\'', "''")),
                None => format!("{} IS NULL", quote(c)),
            });
        }
        let dcols: Vec<String> = dims
            .iter()
            .enumerate()
            .map(|(i, d)| format!("CAST({} AS VARCHAR) AS {}", quote(d), dim(i)))
            .collect();
        let names: Vec<String> = (0..dims.len()).map(dim).collect();
        let sql = format!(
            "SELECT {names}, CAST(({value}) AS DOUBLE) AS \"__v\", CAST(({before}) AS DOUBLE) AS \"__r\"\n\
             FROM (SELECT *, {dcols}, {now} AS \"__now\", {refw} AS \"__ref\" FROM {src} WHERE {conds}) AS \"__rows\"\n\
             GROUP BY {names}",
            names = names.join(", "),
            dcols = dcols.join(", "),
            now = within(now),
            refw = within(reference),
            src = quote(&part.source),
            conds = conds.join(" AND "),
        );
        let batches = ev
            .collect(
                &sql,
                &format!("splitting `{}` by {}", part.source, dims.join(", ")),
            )
            .await?;
        for b in &batches {
            let cols: Vec<ArrayRef> = (0..dims.len())
                .map(|i| cast(b.column(i), &DataType::Utf8))
                .collect::<Result<_, _>>()
                .map_err(|e| EvalError::Internal(e.to_string()))?;
            let strings: Vec<&StringArray> = cols.iter().map(|c| c.as_string::<i32>()).collect();
            let num = |i: usize| b.column(i).as_primitive_opt::<Float64Type>();
            let (Some(v), Some(r)) = (num(dims.len()), num(dims.len() + 1)) else {
                return Err(EvalError::Internal("leaf values are not doubles".into()));
            };
            for row in 0..b.num_rows() {
                let key: Vec<Option<String>> = strings
                    .iter()
                    .map(|s| (!s.is_null(row)).then(|| s.value(row).to_string()))
                    .collect();
                let get = |a: &Float64Array| if a.is_null(row) { 0.0 } else { a.value(row) };
                let at = match index.get(&key) {
                    Some(i) if merge => *i,
                    _ => {
                        if merge {
                            index.insert(key.clone(), out.len());
                        }
                        out.push(Leaf {
                            key,
                            ..Leaf::default()
                        });
                        out.len() - 1
                    }
                };
                let leaf = &mut out[at];
                if which == 0 {
                    leaf.numerator += get(v);
                    leaf.reference_numerator += get(r);
                } else {
                    leaf.denominator += get(v);
                    leaf.reference_denominator += get(r);
                }
            }
        }
    }
    Ok(out)
}

/// Every segment of 1 to `depth` dimensions with its fit over the leaves
/// (`model`: each leaf's value and expected value) and its parts, keeping
/// those whose own explanatory power against one of the normal factors
/// reaches its threshold (`prune`: factor, threshold; none: every
/// segment is kept).
pub(super) async fn segments(
    leaves: &[Leaf],
    model: &[(f64, f64)],
    ndims: usize,
    depth: usize,
    prune: &[(f64, f64)],
) -> Result<Vec<Segment>, EvalError> {
    let internal = |e: String| EvalError::Internal(format!("grouping the leaves: {e}"));
    let mut fields: Vec<Field> = (0..ndims)
        .map(|i| Field::new(format!("__d{i}"), DataType::Utf8, true))
        .collect();
    for n in ["v", "r", "n", "d", "rn", "rd"] {
        fields.push(Field::new(n, DataType::Float64, false));
    }
    let mut columns: Vec<ArrayRef> = (0..ndims)
        .map(|i| {
            Arc::new(
                leaves
                    .iter()
                    .map(|l| l.key[i].as_deref())
                    .collect::<StringArray>(),
            ) as ArrayRef
        })
        .collect();
    let f64s = |f: &dyn Fn(usize) -> f64| -> ArrayRef {
        Arc::new((0..leaves.len()).map(f).collect::<Float64Array>())
    };
    columns.push(f64s(&|i| model[i].0));
    columns.push(f64s(&|i| model[i].1));
    columns.push(f64s(&|i| leaves[i].numerator));
    columns.push(f64s(&|i| leaves[i].denominator));
    columns.push(f64s(&|i| leaves[i].reference_numerator));
    columns.push(f64s(&|i| leaves[i].reference_denominator));
    let batch =
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| internal(e.to_string()))?;
    let ctx = SessionContext::new();
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(|e| internal(e.to_string()))?;
    ctx.register_table("leaves", Arc::new(table))
        .map_err(|e| internal(e.to_string()))?;
    // Every combination of 1..=depth dimensions, as grouping sets.
    let mut sets: Vec<String> = Vec::new();
    for mask in 1u32..(1u32 << ndims) {
        if mask.count_ones() as usize <= depth {
            let cols: Vec<String> = (0..ndims).filter(|d| mask & (1 << d) != 0).map(dim).collect();
            sets.push(format!("({})", cols.join(", ")));
        }
    }
    let names: Vec<String> = (0..ndims).map(dim).collect();
    let flags: Vec<String> = (0..ndims)
        .map(|i| format!("CAST(grouping({}) AS INT) AS \"__g{i}\"", dim(i)))
        .collect();
    // A segment's explanatory power, as `Fit::gain` computes it, against
    // any of the normal factors tried.
    let gain = prune
        .iter()
        .map(|(k, threshold)| {
            format!(
                "(CASE WHEN sum(r * r) > 0 THEN (sum(v * r) - {k:e} * sum(r * r)) * (sum(v * r) - {k:e} * sum(r * r)) / sum(r * r) + sum(CASE WHEN r = 0 THEN v * v ELSE 0 END) ELSE sum(v * v) END) >= {threshold:e}"
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    // Single values are few and always kept: they partition the whole.
    let single = (0..ndims)
        .map(|i| format!("grouping({})", dim(i)))
        .collect::<Vec<_>>()
        .join(" + ");
    let having = if prune.is_empty() {
        String::new()
    } else {
        format!("\nHAVING {gain} OR {single} = {}", ndims - 1)
    };
    let sql = format!(
        "SELECT {names}, {flags}, sum(v), sum(r), sum(v * v), sum(v * r), sum(r * r), sum(n), sum(d), sum(rn), sum(rd), \
         sum((r * r) * (r * r)), sum(CASE WHEN r = 0 THEN v * v ELSE 0 END), sum(CASE WHEN r = 0 THEN v ELSE 0 END), \
         sum((r * r) * r)\n\
         FROM leaves GROUP BY GROUPING SETS ({sets}){having}",
        names = names.join(", "),
        flags = flags.join(", "),
        sets = sets.join(", "),
    );
    let batches = ctx
        .sql(&sql)
        .await
        .map_err(|e| internal(df_message(&e)))?
        .collect()
        .await
        .map_err(|e| internal(df_message(&e)))?;
    let mut out = Vec::new();
    for b in &batches {
        let strings: Vec<ArrayRef> = (0..ndims)
            .map(|i| cast(b.column(i), &DataType::Utf8))
            .collect::<Result<_, _>>()
            .map_err(|e| internal(e.to_string()))?;
        let flags: Vec<ArrayRef> = (0..ndims)
            .map(|i| cast(b.column(ndims + i), &DataType::Int32))
            .collect::<Result<_, _>>()
            .map_err(|e| internal(e.to_string()))?;
        let nums: Vec<ArrayRef> = (0..13)
            .map(|i| cast(b.column(2 * ndims + i), &DataType::Float64))
            .collect::<Result<_, _>>()
            .map_err(|e| internal(e.to_string()))?;
        let nums: Vec<&Float64Array> = nums.iter().map(|a| a.as_primitive::<Float64Type>()).collect();
        for row in 0..b.num_rows() {
            let mut elements: Elements = Vec::new();
            for d in 0..ndims {
                let g = flags[d].as_primitive::<Int32Type>();
                if g.value(row) == 0 {
                    let s = strings[d].as_string::<i32>();
                    elements.push((d, (!s.is_null(row)).then(|| s.value(row).to_string())));
                }
            }
            let x = |i: usize| {
                if nums[i].is_null(row) {
                    0.0
                } else {
                    nums[i].value(row)
                }
            };
            out.push(Segment {
                elements,
                fit: Fit {
                    v: x(0),
                    r: x(1),
                    vv: x(2),
                    vr: x(3),
                    rr: x(4),
                    r3: x(12),
                    r4: x(9),
                    nv: x(10),
                    vn: x(11),
                },
                parts: RatioParts {
                    numerator: x(5),
                    denominator: x(6),
                    reference_numerator: x(7),
                    reference_denominator: x(8),
                },
            });
        }
    }
    out.sort_by(|a, b| a.elements.cmp(&b.elements));
    Ok(out)
}
