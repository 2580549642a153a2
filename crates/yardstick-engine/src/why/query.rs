//! The leaves of `why`: one row per combination of the dimensions' values,
//! the period and the reference aggregated side by side in one scan of
//! each source. The segments over them are `cube`'s.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use yardstick_core::model::{Project, Shape};
use yardstick_core::sql::SqlFragment;
use yardstick_core::why::RatioParts;
use yardstick_core::why::search::{Elements, Fit, LeafKeys};

use crate::eval::{EvalError, Evaluator, quote};
use crate::sources::Catalog;

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

/// Each dimension's values met, numbered from 0 in the order met: a
/// leaf's key is its values' numbers (a leaf of six dimensions holds six
/// numbers, not six strings: a case of 24M leaves fits in memory).
#[derive(Debug, Clone, Default)]
pub(super) struct Keys {
    /// Per dimension, each number's value (`None`: NULL, a value of its own).
    values: Vec<Vec<Option<Arc<str>>>>,
    /// Per dimension, each value's number (the same `Arc` as in `values`).
    index: Vec<foldhash::HashMap<Arc<str>, u32>>,
    null: Vec<Option<u32>>,
}

impl Keys {
    pub(super) fn new(ndims: usize) -> Keys {
        Keys {
            values: vec![Vec::new(); ndims],
            index: vec![foldhash::HashMap::default(); ndims],
            null: vec![None; ndims],
        }
    }

    /// The number of dimension `d`'s value `v`, numbering it when new.
    pub(super) fn code(&mut self, d: usize, v: Option<&str>) -> u32 {
        let next = self.values[d].len() as u32;
        let value = match v {
            Some(s) => match self.index[d].get(s) {
                Some(c) => return *c,
                None => {
                    let shared: Arc<str> = Arc::from(s);
                    self.index[d].insert(shared.clone(), next);
                    Some(shared)
                }
            },
            None => match self.null[d] {
                Some(c) => return c,
                None => {
                    self.null[d] = Some(next);
                    None
                }
            },
        };
        self.values[d].push(value);
        next
    }

    /// The numbers of a column of dimension `d`'s values, row by row. A
    /// value repeating the row before's is not looked up again (a grouped
    /// result holds runs of the same value).
    fn code_column(&mut self, d: usize, column: &ArrayRef) -> Result<Vec<u32>, EvalError> {
        fn run<'a>(keys: &mut Keys, d: usize, n: usize, get: impl Fn(usize) -> Option<&'a str>) -> Vec<u32> {
            let mut out = Vec::with_capacity(n);
            let mut last: Option<(Option<&'a str>, u32)> = None;
            for row in 0..n {
                let v = get(row);
                let code = match last {
                    Some((l, c)) if l == v => c,
                    _ => keys.code(d, v),
                };
                last = Some((v, code));
                out.push(code);
            }
            out
        }
        let n = column.len();
        Ok(match column.data_type() {
            DataType::Utf8View => {
                let a = column.as_string_view();
                run(self, d, n, |i| (!a.is_null(i)).then(|| a.value(i)))
            }
            DataType::Utf8 => {
                let a = column.as_string::<i32>();
                run(self, d, n, |i| (!a.is_null(i)).then(|| a.value(i)))
            }
            _ => {
                let cast = cast(column, &DataType::Utf8).map_err(|e| EvalError::Internal(e.to_string()))?;
                let a = cast.as_string::<i32>();
                run(self, d, n, |i| (!a.is_null(i)).then(|| a.value(i)))
            }
        })
    }

    /// The key of a leaf with these values, one per dimension.
    pub(super) fn key(&mut self, values: &[Option<String>]) -> Box<[u32]> {
        values
            .iter()
            .enumerate()
            .map(|(d, v)| self.code(d, v.as_deref()))
            .collect()
    }

    /// Per dimension, each number's rank among the dimension's values in
    /// their order (NULL first, then by bytes): numbers that sort as the
    /// values do.
    pub(super) fn ranks(&self) -> Vec<Vec<u32>> {
        self.values
            .iter()
            .map(|values| {
                let mut order: Vec<u32> = (0..values.len() as u32).collect();
                order.sort_unstable_by(|a, b| values[*a as usize].cmp(&values[*b as usize]));
                let mut rank = vec![0u32; values.len()];
                for (r, code) in order.into_iter().enumerate() {
                    rank[code as usize] = r as u32;
                }
                rank
            })
            .collect()
    }

    /// The number of dimension `d`'s value `v`, if met.
    pub(super) fn find(&self, d: usize, v: Option<&str>) -> Option<u32> {
        match v {
            Some(s) => self.index.get(d)?.get(s).copied(),
            None => *self.null.get(d)?,
        }
    }

    /// Dimension `d`'s value numbered `code`, shared.
    pub(super) fn shared(&self, d: usize, code: u32) -> Option<Arc<str>> {
        self.values[d].get(code as usize).cloned().flatten()
    }
}

/// One combination of every dimension's value: the parts in the period
/// and the reference (for an additive measure, the numerators alone). Its
/// key is kept by [`Leaves`].
#[derive(Debug, Clone, Default)]
pub(super) struct Leaf {
    pub numerator: f64,
    pub denominator: f64,
    pub reference_numerator: f64,
    pub reference_denominator: f64,
}

/// The leaves in order, each with its key — its values' numbers in
/// [`Keys`] — kept in one array beside them: a case of 24M leaves of six
/// dimensions holds its keys in 576 MB rather than 24M allocations. The
/// leaves themselves are read as a slice.
#[derive(Debug, Clone, Default)]
pub(super) struct Leaves {
    ndims: usize,
    list: Vec<Leaf>,
    codes: Vec<u32>,
}

impl Leaves {
    pub(super) fn new(ndims: usize) -> Leaves {
        Leaves {
            ndims,
            ..Leaves::default()
        }
    }

    /// Leaf `i`'s key: one number per dimension.
    pub(super) fn key(&self, i: usize) -> &[u32] {
        self.codes
            .get(i * self.ndims..(i + 1) * self.ndims)
            .unwrap_or(&[])
    }

    /// Adds a leaf of this key (one number per dimension) with nothing in
    /// its parts yet: its place.
    pub(super) fn push(&mut self, key: &[u32]) -> usize {
        debug_assert_eq!(key.len(), self.ndims);
        self.codes.extend_from_slice(key);
        self.list.push(Leaf::default());
        self.list.len() - 1
    }
}

impl std::ops::Deref for Leaves {
    type Target = [Leaf];
    fn deref(&self) -> &[Leaf] {
        &self.list
    }
}

impl std::ops::DerefMut for Leaves {
    fn deref_mut(&mut self) -> &mut [Leaf] {
        &mut self.list
    }
}

/// The leaves, numbered in order, by their keys: which lie inside a
/// segment, for the search's judging of one leaf among the others, and
/// the sums (of `model`, each leaf's value and expected value) of
/// segments a pruned cube lacks.
pub(super) struct LeafIndex<'a> {
    pub leaves: &'a Leaves,
    pub keys: &'a Keys,
    pub model: &'a [(f64, f64)],
}

/// The most leaf-and-grouping pairs [`LeafIndex::sums`] looks up beside
/// one root: a root of millions of leaves crossed in many groupings is
/// not summed (about a second at most).
const MOST_LOOKUPS: usize = 20_000_000;

/// Segments of one grouping by their values (in its dimensions' order):
/// each one's place.
type Segments = foldhash::HashMap<Box<[u32]>, usize>;

impl LeafIndex<'_> {
    /// A segment's values as numbers: `None` when one was never met.
    fn codes(&self, elements: &Elements) -> Option<Vec<(usize, u32)>> {
        elements
            .iter()
            .map(|(d, v)| self.keys.find(*d, v.as_deref()).map(|c| (*d, c)))
            .collect()
    }
}

impl LeafKeys for LeafIndex<'_> {
    fn within<'s>(&'s self, elements: &Elements) -> Box<dyn Fn(u32) -> bool + 's> {
        match self.codes(elements) {
            Some(codes) => Box::new(move |i| {
                let key = self.leaves.key(i as usize);
                (i as usize) < self.leaves.len() && codes.iter().all(|(d, c)| key.get(*d) == Some(c))
            }),
            // A value never met: no leaf holds it.
            None => Box::new(|_| false),
        }
    }

    fn sums(&self, root: &Elements, wanted: &[Elements]) -> Option<Vec<Fit>> {
        let mut out = vec![Fit::default(); wanted.len()];
        let Some(root) = self.codes(root) else {
            return Some(out);
        };
        // The wanted segments by the dimensions they fix: per grouping,
        // each segment's values (in its dimensions' order) to its place.
        let mut groupings: Vec<(Vec<usize>, Segments)> = Vec::new();
        for (at, w) in wanted.iter().enumerate() {
            // A value never met: no leaf holds it, its sums are nothing.
            let Some(codes) = self.codes(w) else {
                continue;
            };
            let dims: Vec<usize> = codes.iter().map(|c| c.0).collect();
            let values: Box<[u32]> = codes.iter().map(|c| c.1).collect();
            match groupings.iter_mut().find(|g| g.0 == dims) {
                Some(g) => {
                    g.1.insert(values, at);
                }
                None => groupings.push((dims, std::iter::once((values, at)).collect())),
            }
        }
        let inside: Vec<u32> = (0u32..)
            .take(self.leaves.len())
            .filter(|i| {
                let key = self.leaves.key(*i as usize);
                root.iter().all(|(d, c)| key.get(*d) == Some(c))
            })
            .collect();
        if inside.len().saturating_mul(groupings.len()) > MOST_LOOKUPS {
            return None;
        }
        let mut key: Vec<u32> = Vec::new();
        for i in inside {
            let (leaf, (v, r)) = (self.leaves.key(i as usize), self.model.get(i as usize)?);
            for (dims, segments) in &groupings {
                key.clear();
                key.extend(dims.iter().map(|d| leaf.get(*d).copied().unwrap_or(u32::MAX)));
                if let Some(at) = segments.get(key.as_slice()) {
                    out[*at].add(&Fit::leaf(*v, *r));
                }
            }
        }
        Some(out)
    }
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
) -> Result<(Leaves, Keys), EvalError> {
    // One part: the query's keys are unique already. Two: merged by key.
    let mut out = Leaves::new(dims.len());
    let mut keys = Keys::new(dims.len());
    let mut key: Vec<u32> = Vec::with_capacity(dims.len());
    let mut index: foldhash::HashMap<Box<[u32]>, usize> = foldhash::HashMap::default();
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
        // A column of text is grouped as it is (Parquet's strings are
        // views: a cast would copy every one); any other is grouped as its
        // text, as the segments name it.
        let mut dcols: Vec<String> = Vec::new();
        for (i, d) in dims.iter().enumerate() {
            let text = matches!(
                ev.column_type(&part.source, d).await,
                Some(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
            );
            dcols.push(if text {
                format!("{} AS {}", quote(d), dim(i))
            } else {
                format!("CAST({} AS VARCHAR) AS {}", quote(d), dim(i))
            });
        }
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
        // Batch by batch: the leaves of a large case (24M) are not held
        // twice, as query results and as leaves.
        let context = format!("splitting `{}` by {}", part.source, dims.join(", "));
        ev.for_each_batch(&sql, &context, |b| {
            let codes: Vec<Vec<u32>> = (0..dims.len())
                .map(|d| keys.code_column(d, b.column(d)))
                .collect::<Result<_, _>>()?;
            let num = |i: usize| b.column(i).as_primitive_opt::<Float64Type>();
            let (Some(v), Some(r)) = (num(dims.len()), num(dims.len() + 1)) else {
                return Err(EvalError::Internal("leaf values are not doubles".into()));
            };
            for row in 0..b.num_rows() {
                key.clear();
                key.extend(codes.iter().map(|c| c[row]));
                let get = |a: &Float64Array| if a.is_null(row) { 0.0 } else { a.value(row) };
                let at = match index.get(key.as_slice()) {
                    Some(i) if merge => *i,
                    _ => {
                        let at = out.push(&key);
                        if merge {
                            index.insert(key.as_slice().into(), at);
                        }
                        at
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
            Ok(())
        })
        .await?;
    }
    Ok((out, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_the_cube_lacks_is_summed_from_the_leaves_inside_the_root() {
        // Every leaf of regions × partners × channels, each valued apart.
        let mut keys = Keys::new(3);
        let mut leaves = Leaves::new(3);
        let mut model = Vec::new();
        let names = [["EU", "US", "APAC"], ["p1", "p2", "p3"], ["web", "shop", "app"]];
        for (i, (a, b, c)) in (0..27).map(|n| (n / 9, (n / 3) % 3, n % 3)).enumerate() {
            let values = [a, b, c].map(|x| x as usize);
            let key = keys.key(&[0, 1, 2].map(|d| Some(names[d][values[d]].to_string())));
            leaves.push(&key);
            model.push((i as f64 + 1.0, 2.0 * i as f64));
        }
        let index = LeafIndex {
            leaves: &leaves,
            keys: &keys,
            model: &model,
        };
        let el = |pairs: &[(usize, &str)]| -> Elements {
            pairs.iter().map(|(d, v)| (*d, Some((*v).into()))).collect()
        };
        let naive = |root: &Elements, w: &Elements| {
            let (in_root, in_w) = (index.within(root), index.within(w));
            let mut fit = Fit::default();
            for (i, (v, r)) in (0u32..).zip(&model) {
                if in_root(i) && in_w(i) {
                    fit.add(&Fit::leaf(*v, *r));
                }
            }
            fit
        };
        let root = el(&[(0, "EU")]);
        let wanted = vec![
            el(&[(0, "EU"), (1, "p2")]),
            el(&[(0, "EU"), (1, "p3"), (2, "app")]),
            el(&[(0, "EU"), (2, "web")]),
            el(&[(0, "EU"), (1, "p9")]),
        ];
        let sums = index.sums(&root, &wanted).expect("few enough to sum");
        assert_eq!(sums.len(), wanted.len());
        for (w, got) in wanted.iter().zip(&sums) {
            assert_eq!(*got, naive(&root, w), "{w:?}");
        }
        assert!(sums[0].v > 0.0 && sums[1].v > 0.0);
        assert_eq!(sums[3], Fit::default(), "a value never met holds nothing");
        // A root of a value never met holds no leaf.
        let none = index.sums(&el(&[(0, "LATAM")]), &wanted).expect("nothing to sum");
        assert!(none.iter().all(|f| *f == Fit::default()));
    }
}
