//! The segments of `why`: every combination of the values of 1 to `depth`
//! dimensions, with the sums the search needs, aggregated by DataFusion
//! over the leaves.
//!
//! A cube within [`budget`] (leaves × groupings) is one grouping-sets
//! query, pruned in its `HAVING`. A larger one — a case of 24M leaves of
//! six dimensions would expand to 1.5 billion rows in one query — is
//! computed one grouping at a time, each from the smallest grouping
//! already computed that contains it (the sums add up: the "smallest
//! parent" of data-cube computation), from the finest to the coarsest,
//! with two levels in memory at a time; each grouping's segments are
//! pruned as they arrive ([`Prune`]). Both paths give the same sums.

use std::cell::Cell;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Schema, SchemaRef, UInt32Type};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use yardstick_core::why::RatioParts;
use yardstick_core::why::search::{Elements, Fit, Noise};

use super::query::{Keys, Leaf, Leaves};
use crate::eval::EvalError;
use crate::sources::df_message;

/// A segment with its fit and its parts.
#[derive(Debug, Clone)]
pub(super) struct Segment {
    pub elements: Elements,
    pub fit: Fit,
    pub parts: RatioParts,
}

/// The sums per segment, in this order: `Σv, Σr, Σv², Σvr, Σr², Σn, Σd,
/// Σrn, Σrd, Σr⁴, Σ_{r=0} v², Σ_{r=0} v, Σr³`.
const SUMS: usize = 13;

/// A movement this far from normal (in significance, see
/// `core::why::search::Fit::significance`) can matter to `--roots
/// unusual` in a cube over budget: a root needs 100, widening 25.
const UNUSUAL: f64 = 9.0;

/// Segments of up to this many dimensions are kept by `--roots unusual`
/// however usual: a root judged beside a crossing root needs their
/// intersection (`region=EU ∧ partner=p1` beside `product=a` needs the
/// three), and the segments of three dimensions are few next to the
/// deeper ones (300K of 45M in a case of 24M leaves).
const ALWAYS: usize = 3;

thread_local! {
    /// The most rows (leaves × groupings) one grouping-sets query expands
    /// to, on this thread.
    static BUDGET: Cell<usize> = const { Cell::new(20_000_000) };
}

fn budget() -> usize {
    BUDGET.with(Cell::get)
}

/// Sets the most rows (leaves × groupings) one grouping-sets query may
/// expand to on this thread, beyond which the cube is computed grouping
/// by grouping: tests compute a small cube both ways.
pub fn set_budget(rows: usize) {
    BUDGET.with(|b| b.set(rows));
}

/// Which segments can matter. Segments of one dimension are always kept:
/// they partition the whole.
#[derive(Debug, Clone, Default)]
pub(super) struct Prune {
    /// Explanatory power, per normal factor tried: `(k, least)`, as the
    /// upper bound `(Σvr − kΣr²)²/Σr² + Σ_{r=0} v²` (all of `Σv²` where
    /// nothing was expected).
    pub gain: Vec<(f64, f64)>,
    /// Over budget only, per normal factor tried with the leaves' noise:
    /// segments of more than [`ALWAYS`] dimensions are kept when their
    /// movement is unusual, significance ≥ 9.
    pub unusual: Vec<(f64, Noise)>,
}

impl Prune {
    fn keeps(&self, fit: &Fit, dims: usize, over_budget: bool) -> bool {
        if dims <= 1 {
            return true;
        }
        if !self.gain.is_empty() {
            let most = |k: f64| {
                if fit.rr > 0.0 {
                    let d = fit.vr - k * fit.rr;
                    d * d / fit.rr + fit.nv
                } else {
                    fit.vv
                }
            };
            if !self.gain.iter().any(|(k, least)| most(*k) >= *least) {
                return false;
            }
        }
        if over_budget && !self.unusual.is_empty() && dims > ALWAYS {
            return self
                .unusual
                .iter()
                .any(|(k, noise)| fit.significance(*k, *noise) >= UNUSUAL);
        }
        true
    }
}

fn internal(e: impl std::fmt::Display) -> EvalError {
    EvalError::Internal(format!("grouping the leaves: {e}"))
}

fn dim(i: usize) -> String {
    format!("__d{i}")
}

/// A leaf's terms in the leaf table, after its dimensions: its value and
/// expected value (`v`, `r`) and its parts (`n`, `d`, `rn`, `rd`). The
/// products [`SUMS`] adds are made as each batch is aggregated, not
/// stored: a case of 24M leaves holds 6 doubles a leaf, not 13.
const TERMS: [&str; 6] = ["v", "r", "n", "d", "rn", "rd"];

/// Sum `i` of [`SUMS`] as SQL: over the leaf table's [`TERMS`]
/// (`leaves`), the product `Fit::leaf` makes; over a computed grouping,
/// its sum `s{i}`.
fn sum_sql(i: usize, leaves: bool) -> String {
    if !leaves {
        return format!("sum(s{i})");
    }
    // `abs`: -0 is nothing expected too (as `r == 0.0` in Rust).
    let term = match i {
        0 => "v",
        1 => "r",
        2 => "v * v",
        3 => "v * r",
        4 => "r * r",
        5 => "n",
        6 => "d",
        7 => "rn",
        8 => "rd",
        9 => "(r * r) * (r * r)",
        10 => "CASE WHEN abs(r) = 0 THEN v * v ELSE 0 END",
        11 => "CASE WHEN abs(r) = 0 THEN v ELSE 0 END",
        _ => "(r * r) * r",
    };
    format!("sum({term})")
}

/// The [`SUMS`] as a select list, `s0…s12`.
fn sums_sql(leaves: bool) -> Vec<String> {
    (0..SUMS)
        .map(|i| format!("{} AS s{i}", sum_sql(i, leaves)))
        .collect()
}

/// The leaves as a table: each dimension's value number, then the
/// [`TERMS`], in batches of 64Ki rows.
fn leaf_table(
    leaves: &Leaves,
    model: &[(f64, f64)],
    ndims: usize,
) -> Result<(SchemaRef, Vec<RecordBatch>), EvalError> {
    let mut fields: Vec<Field> = (0..ndims)
        .map(|i| Field::new(dim(i), DataType::UInt32, false))
        .collect();
    for t in TERMS {
        fields.push(Field::new(t, DataType::Float64, false));
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    for (chunk, at) in leaves.chunks(1 << 16).zip((0..).step_by(1 << 16)) {
        let mut columns: Vec<ArrayRef> = (0..ndims)
            .map(|d| {
                let codes = (at..at + chunk.len()).map(|i| leaves.key(i).get(d).copied().unwrap_or(u32::MAX));
                Arc::new(codes.collect::<UInt32Array>()) as ArrayRef
            })
            .collect();
        let model = &model[at..at + chunk.len()];
        let term = |f: &dyn Fn(&Leaf, f64, f64) -> f64| -> ArrayRef {
            Arc::new(
                chunk
                    .iter()
                    .zip(model)
                    .map(|(l, (v, r))| f(l, *v, *r))
                    .collect::<Float64Array>(),
            )
        };
        columns.push(term(&|_, v, _| v));
        columns.push(term(&|_, _, r| r));
        columns.push(term(&|l, _, _| l.numerator));
        columns.push(term(&|l, _, _| l.denominator));
        columns.push(term(&|l, _, _| l.reference_numerator));
        columns.push(term(&|l, _, _| l.reference_denominator));
        batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(internal)?);
    }
    Ok((schema, batches))
}

/// A computed grouping's schema: each dimension's value number, then the
/// [`SUMS`] `s0…s12`.
fn sums_schema(ndims: usize) -> SchemaRef {
    let mut fields: Vec<Field> = (0..ndims)
        .map(|i| Field::new(dim(i), DataType::UInt32, false))
        .collect();
    for i in 0..SUMS {
        fields.push(Field::new(format!("s{i}"), DataType::Float64, false));
    }
    Arc::new(Schema::new(fields))
}

/// A segment from its elements and its sums in [`SUMS`]'s order.
fn segment(elements: Elements, x: &dyn Fn(usize) -> f64) -> Segment {
    Segment {
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
    }
}

/// Every segment of 1 to `depth` dimensions with its fit over the leaves
/// (`model`: each leaf's value and expected value) and its parts, the
/// ones [`Prune`] keeps, sorted by elements. `grouped(done, total)` is
/// told how many of the groupings are computed, from none to all.
pub(super) async fn segments(
    leaves: &Leaves,
    keys: &Keys,
    model: &[(f64, f64)],
    ndims: usize,
    depth: usize,
    prune: &Prune,
    grouped: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<Segment>, EvalError> {
    let masks: Vec<u32> = (1u32..(1u32 << ndims))
        .filter(|m| m.count_ones() as usize <= depth)
        .collect();
    let total = masks.len();
    grouped(0, total);
    let (schema, batches) = leaf_table(leaves, model, ndims)?;
    let mut order = Order::new(keys, depth);
    let out = if leaves.len().saturating_mul(total) <= budget() {
        let out = one_query(schema, batches, keys, ndims, &masks, prune, &mut order).await?;
        grouped(total, total);
        out
    } else {
        let done = |n: usize| grouped(n, total);
        set_by_set(schema, batches, keys, ndims, depth, prune, &mut order, &done).await?
    };
    Ok(order.sorted(out))
}

/// The segments' order by their elements (dimension, then value), kept
/// as numbers while they are found: each element a number that sorts as
/// `(dimension, value)` does, a segment `depth` of them (0 after its
/// last), so that millions of segments sort without comparing strings.
struct Order {
    ranks: Vec<Vec<u32>>,
    depth: usize,
    keys: Vec<u64>,
}

impl Order {
    fn new(keys: &Keys, depth: usize) -> Order {
        Order {
            ranks: keys.ranks(),
            depth,
            keys: Vec::new(),
        }
    }

    /// The next segment's elements: dimensions ascending, each with its
    /// value's number.
    fn push(&mut self, elements: impl Iterator<Item = (usize, u32)>) {
        let at = self.keys.len();
        for (d, code) in elements {
            let rank = self.ranks[d].get(code as usize).copied().unwrap_or(u32::MAX);
            self.keys.push(((d as u64 + 1) << 32) | u64::from(rank));
        }
        self.keys.resize(at + self.depth, 0);
    }

    /// The segments, pushed in this order, sorted by their elements (in
    /// place: a case of H keeps tens of millions).
    fn sorted(self, mut segments: Vec<Segment>) -> Vec<Segment> {
        let key = |i: usize| &self.keys[i * self.depth..(i + 1) * self.depth];
        // `by[j]`: the segment that belongs at `j`. No two segments have
        // the same elements.
        let mut by: Vec<usize> = (0..segments.len()).collect();
        by.sort_unstable_by(|a, b| key(*a).cmp(key(*b)));
        // Each cycle of the permutation by swaps: the segment first at
        // `start` travels along it to the place it belongs.
        let mut placed = vec![false; segments.len()];
        for start in 0..segments.len() {
            let mut j = start;
            while !placed[j] {
                placed[j] = true;
                let from = by[j];
                if from == start {
                    break;
                }
                segments.swap(j, from);
                j = from;
            }
        }
        segments
    }
}

fn table(schema: SchemaRef, batches: Vec<RecordBatch>, partitions: usize) -> Result<MemTable, EvalError> {
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions.max(1)];
    let n = parts.len();
    for (i, b) in batches.into_iter().enumerate() {
        parts[i % n].push(b);
    }
    MemTable::try_new(schema, parts).map_err(internal)
}

/// The cube in one grouping-sets query, pruned in its `HAVING` by
/// explanatory power.
async fn one_query(
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    keys: &Keys,
    ndims: usize,
    masks: &[u32],
    prune: &Prune,
    order: &mut Order,
) -> Result<Vec<Segment>, EvalError> {
    let ctx = SessionContext::new();
    let partitions = ctx.copied_config().target_partitions();
    ctx.register_table("leaves", Arc::new(table(schema, batches, partitions)?))
        .map_err(internal)?;
    let q = |i: usize| format!("\"{}\"", dim(i));
    let sets: Vec<String> = masks
        .iter()
        .map(|mask| {
            let cols: Vec<String> = (0..ndims).filter(|d| mask & (1 << d) != 0).map(q).collect();
            format!("({})", cols.join(", "))
        })
        .collect();
    let names: Vec<String> = (0..ndims).map(q).collect();
    let flags: Vec<String> = (0..ndims)
        .map(|i| format!("CAST(grouping({}) AS INT) AS \"__g{i}\"", q(i)))
        .collect();
    let sums = sums_sql(true);
    // A segment's explanatory power, at most, against any of the normal
    // factors tried (as `Prune::keeps`).
    let gain = prune
        .gain
        .iter()
        .map(|(k, least)| {
            let s = |i| sum_sql(i, true);
            let (vv, vr, rr, nv) = (s(2), s(3), s(4), s(10));
            format!("(CASE WHEN {rr} > 0 THEN ({vr} - {k:e} * {rr}) * ({vr} - {k:e} * {rr}) / {rr} + {nv} ELSE {vv} END) >= {least:e}")
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    // Single values are few and always kept: they partition the whole.
    let single = (0..ndims)
        .map(|i| format!("grouping({})", q(i)))
        .collect::<Vec<_>>()
        .join(" + ");
    let having = if prune.gain.is_empty() {
        String::new()
    } else {
        format!("\nHAVING {gain} OR {single} = {}", ndims - 1)
    };
    let sql = format!(
        "SELECT {names}, {flags}, {sums}\nFROM leaves GROUP BY GROUPING SETS ({sets}){having}",
        names = names.join(", "),
        flags = flags.join(", "),
        sums = sums.join(", "),
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
        let codes: Vec<ArrayRef> = (0..ndims)
            .map(|i| cast(b.column(i), &DataType::UInt32))
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        let flags: Vec<ArrayRef> = (0..ndims)
            .map(|i| cast(b.column(ndims + i), &DataType::Int32))
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        let nums = floats(b, 2 * ndims)?;
        for row in 0..b.num_rows() {
            let fixed: Vec<(usize, u32)> = (0..ndims)
                .filter(|d| flags[*d].as_primitive::<Int32Type>().value(row) == 0)
                .map(|d| (d, codes[d].as_primitive::<UInt32Type>().value(row)))
                .collect();
            let elements: Elements = fixed.iter().map(|&(d, c)| (d, keys.shared(d, c))).collect();
            order.push(fixed.into_iter());
            out.push(segment(elements, &|i| value(&nums[i], row)));
        }
    }
    Ok(out)
}

/// The [`SUMS`] columns of a batch from column `from`, as doubles.
fn floats(b: &RecordBatch, from: usize) -> Result<Vec<Float64Array>, EvalError> {
    (0..SUMS)
        .map(|i| {
            cast(b.column(from + i), &DataType::Float64)
                .map(|a| a.as_primitive::<Float64Type>().clone())
                .map_err(internal)
        })
        .collect()
}

fn value(a: &Float64Array, row: usize) -> f64 {
    if a.is_null(row) { 0.0 } else { a.value(row) }
}

/// A computed grouping (or the leaves): its dimensions (a bit per
/// dimension), its rows (each dimension's value number, then the sums,
/// or for the leaves their [`TERMS`]) and how many.
struct Grouping {
    mask: u32,
    leaves: bool,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    rows: usize,
}

/// The cube one grouping at a time, each from its smallest parent, the
/// finest first; each grouping's segments pruned as they arrive. `done`
/// is told how many groupings are computed after each.
#[allow(clippy::too_many_arguments)]
async fn set_by_set(
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    keys: &Keys,
    ndims: usize,
    depth: usize,
    prune: &Prune,
    order: &mut Order,
    done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Segment>, EvalError> {
    let ctx = SessionContext::new();
    let partitions = ctx.copied_config().target_partitions();
    let all = (1u32 << ndims) - 1;
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let leaves = Grouping {
        mask: all,
        leaves: true,
        schema,
        batches,
        rows,
    };
    let sums = sums_schema(ndims);
    let mut out = Vec::new();
    let mut computed = 0;
    if depth >= ndims {
        keep(&leaves, keys, ndims, prune, &mut out, order)?;
        computed += 1;
        done(computed);
    }
    // The level above the one being computed (at first, the leaves: a
    // grouping of `depth` dimensions is computed from them directly).
    let mut parents = vec![leaves];
    for size in (1..depth.min(ndims.saturating_sub(1)) + 1).rev() {
        let mut level = Vec::new();
        for mask in (1u32..=all).filter(|m| m.count_ones() as usize == size) {
            let Some(parent) = parents
                .iter()
                .filter(|p| p.mask & mask == mask)
                .min_by_key(|p| p.rows)
            else {
                return Err(internal(format!("no parent for grouping {mask:b}")));
            };
            let source = table(parent.schema.clone(), parent.batches.clone(), partitions)?;
            ctx.register_table("parent", Arc::new(source)).map_err(internal)?;
            let groups: Vec<String> = (0..ndims)
                .filter(|d| mask & (1 << d) != 0)
                .map(|d| format!("\"{}\"", dim(d)))
                .collect();
            let sql = format!(
                "SELECT {groups}, {sums} FROM parent GROUP BY {groups}",
                groups = groups.join(", "),
                sums = sums_sql(parent.leaves).join(", "),
            );
            let got = match ctx.sql(&sql).await {
                Ok(df) => df.collect().await,
                Err(e) => Err(e),
            };
            ctx.deregister_table("parent").map_err(internal)?;
            let got = got.map_err(|e| internal(df_message(&e)))?;
            let g = as_parent(got, &sums, mask, ndims)?;
            keep(&g, keys, ndims, prune, &mut out, order)?;
            level.push(g);
            computed += 1;
            done(computed);
        }
        parents = level;
    }
    Ok(out)
}

/// A grouping's batches in the sums' schema (a dimension it does not
/// group by is 0, never read), so that it can be the parent of the next.
fn as_parent(
    got: Vec<RecordBatch>,
    schema: &SchemaRef,
    mask: u32,
    ndims: usize,
) -> Result<Grouping, EvalError> {
    let mut batches = Vec::new();
    let mut rows = 0;
    for b in got {
        let n = b.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::new();
        let mut at = 0;
        for d in 0..ndims {
            if mask & (1 << d) != 0 {
                columns.push(cast(b.column(at), &DataType::UInt32).map_err(internal)?);
                at += 1;
            } else {
                columns.push(Arc::new(UInt32Array::from(vec![0u32; n])));
            }
        }
        for f in floats(&b, at)? {
            columns.push(Arc::new(f));
        }
        batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(internal)?);
        rows += n;
    }
    Ok(Grouping {
        mask,
        leaves: false,
        schema: schema.clone(),
        batches,
        rows,
    })
}

/// Adds the grouping's segments that [`Prune`] keeps (over budget).
fn keep(
    g: &Grouping,
    keys: &Keys,
    ndims: usize,
    prune: &Prune,
    out: &mut Vec<Segment>,
    order: &mut Order,
) -> Result<(), EvalError> {
    let dims: Vec<usize> = (0..ndims).filter(|d| g.mask & (1 << d) != 0).collect();
    for b in &g.batches {
        let codes: Vec<&UInt32Array> = (0..ndims)
            .map(|d| b.column(d).as_primitive_opt::<UInt32Type>())
            .collect::<Option<_>>()
            .ok_or_else(|| internal("a value number is not u32"))?;
        let nums: Vec<&Float64Array> = (ndims..b.num_columns())
            .map(|i| b.column(i).as_primitive_opt::<Float64Type>())
            .collect::<Option<_>>()
            .ok_or_else(|| internal("a sum is not a double"))?;
        for row in 0..b.num_rows() {
            let x = |i: usize| value(nums[i], row);
            let s = if g.leaves {
                leaf_segment(&x)
            } else {
                segment(Vec::new(), &x)
            };
            if !prune.keeps(&s.fit, dims.len(), true) {
                continue;
            }
            let elements = dims
                .iter()
                .map(|&d| {
                    let c = codes[d].value(row);
                    (d, keys.shared(d, c))
                })
                .collect();
            order.push(dims.iter().map(|&d| (d, codes[d].value(row))));
            out.push(Segment { elements, ..s });
        }
    }
    Ok(())
}

/// A leaf as a segment, from its [`TERMS`] in their order.
fn leaf_segment(x: &dyn Fn(usize) -> f64) -> Segment {
    Segment {
        elements: Vec::new(),
        fit: Fit::leaf(x(0), x(1)),
        parts: RatioParts {
            numerator: x(2),
            denominator: x(3),
            reference_numerator: x(4),
            reference_denominator: x(5),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four leaves of 100 that each moved by `factor`.
    fn four(factor: f64) -> Fit {
        let mut fit = Fit::default();
        for _ in 0..4 {
            fit.add(&Fit::leaf(100.0 * factor, 100.0));
        }
        fit
    }

    #[test]
    fn over_budget_unusual_keeps_the_shallow_and_the_unusual_segments() {
        // Noise of 10%: four leaves 5% up weigh ln(1.05)²·4/0.01 ≈ 0.95,
        // four halved ln(0.5)²·4/0.01 ≈ 192.
        let prune = Prune {
            gain: Vec::new(),
            unusual: vec![(1.0, Noise::level(0.1))],
        };
        let (usual, halved) = (four(1.05), four(0.5));
        assert!(prune.keeps(&usual, ALWAYS, true));
        assert!(!prune.keeps(&usual, ALWAYS + 1, true));
        assert!(
            prune.keeps(&usual, ALWAYS + 1, false),
            "within budget every segment is kept"
        );
        assert!(prune.keeps(&halved, ALWAYS + 1, true));
    }

    #[test]
    fn segments_are_ordered_by_their_elements_without_comparing_strings() {
        // Values numbered in the order met, not the order they sort in;
        // NULL sorts first, as `Option` does.
        let mut keys = Keys::new(3);
        let vals: [&[Option<&str>]; 3] = [
            &[Some("US"), Some("EU"), None, Some("APAC")],
            &[Some("p2"), Some("p10"), Some("p1")],
            &[Some("z"), None, Some("a")],
        ];
        for (d, vs) in vals.iter().enumerate() {
            for v in *vs {
                keys.code(d, *v);
            }
        }
        let mut order = Order::new(&keys, 2);
        let mut segments = Vec::new();
        // Every segment of one or two dimensions.
        let mut all: Vec<Vec<(usize, u32)>> = Vec::new();
        for (a, va) in vals.iter().enumerate() {
            for ca in 0..va.len() as u32 {
                all.push(vec![(a, ca)]);
                for (b, vb) in vals.iter().enumerate().skip(a + 1) {
                    for cb in 0..vb.len() as u32 {
                        all.push(vec![(a, ca), (b, cb)]);
                    }
                }
            }
        }
        // Pushed in a scrambled order (37 is prime to their number, 43):
        // the permutation that sorts them has cycles of many lengths.
        assert_eq!(all.len(), 43);
        for fixed in (0..all.len()).map(|i| &all[(i * 37) % all.len()]) {
            order.push(fixed.iter().copied());
            let elements = fixed.iter().map(|&(d, c)| (d, keys.shared(d, c))).collect();
            segments.push(segment(elements, &|_| 0.0));
        }
        let sorted: Vec<Elements> = order.sorted(segments).into_iter().map(|s| s.elements).collect();
        let mut expected = sorted.clone();
        expected.sort();
        assert_eq!(sorted.len(), all.len());
        assert_eq!(sorted, expected);
        assert_eq!(sorted[0], vec![(0, None)]);
        assert_eq!(sorted[1], vec![(0, None), (1, Some("p1".into()))]);
    }

    #[test]
    fn explanatory_power_prunes_at_any_size_but_single_values() {
        // Four leaves of 100 halved explain at most
        // (Σvr − kΣr²)²/Σr² = (20000 − 40000)²/40000 = 10000.
        let halved = four(0.5);
        let prune = |least: f64| Prune {
            gain: vec![(1.0, least)],
            unusual: Vec::new(),
        };
        assert!(prune(10_000.0).keeps(&halved, 2, false));
        assert!(!prune(10_000.1).keeps(&halved, 2, false));
        assert!(
            prune(1e12).keeps(&halved, 1, false),
            "single values partition the whole"
        );
    }
}
