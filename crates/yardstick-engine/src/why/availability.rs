//! `why` for availability: the leaves of a fleet's availability split by
//! unit, or of its downtime split by incident.
//!
//! - **By unit** (the `per` column and the columns of the `units`
//!   source): availability is Σ uptime ÷ Σ scheduled time over the units,
//!   a ratio of parts that add up over units, so each unit is a leaf with
//!   its uptime as numerator and its scheduled time as denominator — the
//!   ratio's mix (a unit's share of scheduled time) and rate (its own
//!   availability) effects follow.
//! - **By incident** (columns of the `down` source): availability is
//!   1 − Σ downtime ÷ Σ scheduled time; each incident's own downtime
//!   (overlapping incidents of a unit: the time belongs to the one that
//!   started first, `core::intervals::attributed`) over the period's
//!   scheduled time is additive, so the leaves are the incidents' shares
//!   of unavailability, and the contributions add up to the gap exactly.
//!
//! The intervals are read as the evaluation reads them (an empty end lasts
//! until the evaluation instant; exclusions with an empty unit apply to
//! every unit; units are those the `units` source lists, else those with
//! downtime), so the whole equals `eval`'s value.

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use yardstick_core::intervals::{Span, attributed, down_and_scheduled};
use yardstick_core::model::{Project, Shape};

use super::query::{Keys, Leaves, Window};
use crate::eval::{EvalError, Evaluator, quote};
use crate::sources::Catalog;

/// An availability measure's sources and unit column.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub down: String,
    pub exclude: Option<String>,
    /// The unit column (`per`, or the `for_each` column of a per-unit KPI).
    pub unit: Option<String>,
    /// The source listing the units.
    pub units: Option<String>,
}

/// What availability is split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum By {
    Unit,
    Incident,
}

/// The leaves, what they are split by, and the scheduled time (µs) of the
/// period and the reference over the units looked at.
pub(super) struct Split {
    pub leaves: Leaves,
    pub keys: Keys,
    pub by: By,
    pub scheduled: (i64, i64),
}

/// What the leaves are split by, from the columns named: a unit's (its
/// column and the `units` source's) or an incident's (the `down`
/// source's), never both.
pub(super) fn by(catalog: &Catalog, spec: &Spec, columns: &[&str]) -> Result<By, EvalError> {
    let names = |source: Option<&str>| -> Vec<String> {
        source
            .and_then(|s| catalog.tables.get(s))
            .map(|t| t.schema.fields().iter().map(|f| f.name().clone()).collect())
            .unwrap_or_default()
    };
    let mut of_unit = names(spec.units.as_deref());
    of_unit.extend(spec.unit.clone());
    let of_incident = names(Some(&spec.down));
    if spec.unit.is_some() && columns.iter().all(|c| of_unit.iter().any(|u| u == c)) {
        return Ok(By::Unit);
    }
    if columns.iter().all(|c| of_incident.iter().any(|u| u == c)) {
        return Ok(By::Incident);
    }
    let stray: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| !of_unit.iter().chain(&of_incident).any(|u| u == c))
        .collect();
    let units = if spec.unit.is_some() {
        format!("by unit (columns {}) or ", of_unit.join(", "))
    } else {
        String::new()
    };
    Err(EvalError::Data(if stray.is_empty() {
        format!(
            "availability splits {units}by incident (columns of `{}`: {}), not by both at once",
            spec.down,
            of_incident.join(", ")
        )
    } else {
        format!(
            "{} {} not a column of availability's sources: it splits {units}by incident (columns of `{}`: {})",
            stray
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if stray.len() == 1 { "is" } else { "are" },
            spec.down,
            of_incident.join(", ")
        )
    }))
}

/// Interval rows of `source` overlapping `[lo, hi)` (`hi` the evaluation
/// instant at most), with `columns` as text.
async fn rows(
    ev: &Evaluator<'_>,
    project: &Project,
    source: &str,
    columns: &[&str],
    lo: i64,
    hi: i64,
) -> Result<Vec<(Span, Vec<Option<String>>)>, EvalError> {
    let s = project
        .sources
        .get(source)
        .ok_or_else(|| EvalError::Internal(format!("source `{source}` vanished")))?;
    let Shape::Interval { start, end } = &s.shape else {
        return Err(EvalError::Data(format!("`{source}` is not an interval source")));
    };
    let cols: String = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!(", CAST({} AS VARCHAR) AS \"__c{i}\"", quote(c)))
        .collect();
    let sql = format!(
        "SELECT {st}, {en}{cols} FROM {src} WHERE {st} IS NOT NULL AND {st} < {hi} AND ({en} IS NULL OR {en} > {lo})",
        st = quote(&start.value),
        en = quote(&end.value),
        src = quote(source),
        hi = super::query::instant(hi),
        lo = super::query::instant(lo),
    );
    let mut out = Vec::new();
    for b in ev
        .collect(&sql, &format!("reading intervals of `{source}`"))
        .await?
    {
        let texts = text_columns(&b, 2, columns.len())?;
        for (r, span) in crate::eval::spans(&b, source, hi)? {
            out.push((span, texts.iter().map(|t| text(t, r)).collect()));
        }
    }
    Ok(out)
}

fn text_columns(
    b: &datafusion::arrow::array::RecordBatch,
    from: usize,
    n: usize,
) -> Result<Vec<ArrayRef>, EvalError> {
    (from..from + n)
        .map(|i| cast(b.column(i), &DataType::Utf8).map_err(|e| EvalError::Internal(e.to_string())))
        .collect()
}

fn text(a: &ArrayRef, r: usize) -> Option<String> {
    let s = a.as_string::<i32>();
    (!s.is_null(r)).then(|| s.value(r).to_string())
}

/// `(column, value)` restrictions: does a row with these columns pass?
fn passes(columns: &[&str], values: &[Option<String>], only: &[(String, Option<String>)]) -> bool {
    only.iter().all(|(c, v)| {
        columns
            .iter()
            .position(|x| x == c)
            .is_none_or(|i| values[i] == *v)
    })
}

/// The leaves of an availability split over `dims`, for the units the
/// `entity` names (all, when empty) and the rows `within` keeps.
#[allow(clippy::too_many_arguments)]
pub(super) async fn leaves(
    project: &Project,
    catalog: &Catalog,
    spec: &Spec,
    dims: &[String],
    entity: &[(String, Option<String>)],
    within: &[(String, Option<String>)],
    now: Window,
    reference: Window,
    as_of_us: i64,
) -> Result<Split, EvalError> {
    let ev = Evaluator::new(project, catalog, chrono::Utc::now());
    let named: Vec<&str> = dims
        .iter()
        .map(String::as_str)
        .chain(within.iter().map(|(c, _)| c.as_str()))
        .collect();
    let by = by(catalog, spec, &named)?;
    let windows = [now, reference].map(|w| (w.start_us, w.end_us.min(as_of_us)));
    let lo = windows[0].0.min(windows[1].0);
    let hi = windows[0].1.max(windows[1].1);
    let unit = spec.unit.as_deref();

    // The units and, split by unit, their dimension values.
    let attrs: Vec<&str> = match by {
        By::Unit => named.iter().copied().filter(|c| Some(*c) != unit).collect(),
        By::Incident => Vec::new(),
    };
    let mut units: BTreeMap<Option<String>, Vec<Option<String>>> = BTreeMap::new();
    match (unit, &spec.units) {
        (Some(u), Some(src)) => {
            let cols: String = std::iter::once(u)
                .chain(attrs.iter().copied())
                .enumerate()
                .map(|(i, c)| format!("CAST({} AS VARCHAR) AS \"__c{i}\"", quote(c)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT DISTINCT {cols} FROM {}", quote(src));
            for b in ev.collect(&sql, &format!("reading units of `{src}`")).await? {
                let texts = text_columns(&b, 0, attrs.len() + 1)?;
                for r in 0..b.num_rows() {
                    let key = text(&texts[0], r);
                    let values: Vec<Option<String>> = texts[1..].iter().map(|t| text(t, r)).collect();
                    if let Some(before) = units.insert(key.clone(), values.clone())
                        && before != values
                    {
                        return Err(EvalError::Data(format!(
                            "unit `{}` is listed in `{src}` with different {}: {} and {}",
                            key.unwrap_or_default(),
                            attrs.join(", "),
                            show(&before),
                            show(&values)
                        )));
                    }
                }
            }
        }
        (Some(u), None) => {
            // As the evaluation: the units with downtime at any time.
            let sql = format!(
                "SELECT DISTINCT CAST({} AS VARCHAR) FROM {}",
                quote(u),
                quote(&spec.down)
            );
            for b in ev
                .collect(&sql, &format!("reading units of `{}`", spec.down))
                .await?
            {
                let texts = text_columns(&b, 0, 1)?;
                for r in 0..b.num_rows() {
                    units.insert(text(&texts[0], r), Vec::new());
                }
            }
        }
        (None, _) => {
            units.insert(None, Vec::new());
        }
    }
    // The entity and, split by unit, `within` narrow the units.
    units.retain(|key, values| {
        let unit_only = |only: &[(String, Option<String>)]| {
            only.iter()
                .filter(|(c, _)| Some(c.as_str()) == unit)
                .all(|(_, v)| v == key)
        };
        unit_only(entity) && (by == By::Incident || (unit_only(within) && passes(&attrs, values, within)))
    });

    // Down rows: the unit, then (split by incident) the dimensions.
    let row_cols: Vec<&str> = unit
        .into_iter()
        .chain(match by {
            By::Unit => Vec::new(),
            By::Incident => named.clone(),
        })
        .collect();
    let down = rows(&ev, project, &spec.down, &row_cols, lo, hi).await?;
    let excluded = match &spec.exclude {
        Some(x) => {
            let has_unit = unit.is_some_and(|u| {
                catalog
                    .tables
                    .get(x)
                    .is_some_and(|t| t.schema.field_with_unqualified_name(u).is_ok())
            });
            let cols: Vec<&str> = if has_unit {
                unit.into_iter().collect()
            } else {
                Vec::new()
            };
            rows(&ev, project, x, &cols, lo, hi)
                .await?
                .into_iter()
                .map(|(s, mut v)| (s, v.pop().flatten()))
                .collect()
        }
        None => Vec::new(),
    };
    let dims_at = |values: &[Option<String>]| -> Vec<Option<String>> {
        // Split by incident the row's columns follow the unit.
        let offset = usize::from(unit.is_some());
        dims.iter()
            .map(|d| {
                let i = row_cols[offset..].iter().position(|c| c == d).map(|i| i + offset);
                i.and_then(|i| values[i].clone())
            })
            .collect()
    };
    let mut by_unit: HashMap<Option<String>, Vec<usize>> = HashMap::new();
    for (i, (_, values)) in down.iter().enumerate() {
        let key = if unit.is_some() { values[0].clone() } else { None };
        by_unit.entry(key).or_default().push(i);
    }

    let mut leaves = ByKey {
        leaves: Leaves::new(dims.len()),
        keys: Keys::new(dims.len()),
        index: HashMap::new(),
    };
    let hours = |us: i64| us as f64 / 3.6e9;
    let mut scheduled = [0i64; 2];
    // Split by incident: each row's own downtime (µs) per window.
    let mut own: Vec<[i64; 2]> = vec![[0; 2]; down.len()];
    for (key, values) in &units {
        let mine: &[usize] = by_unit.get(key).map_or(&[], Vec::as_slice);
        let spans: Vec<Span> = mine.iter().map(|i| down[*i].0).collect();
        let xs: Vec<Span> = excluded
            .iter()
            .filter(|(_, u)| u.is_none() || u == key)
            .map(|(s, _)| *s)
            .collect();
        let at = match by {
            By::Unit => {
                // The unit column among the dimensions takes the unit;
                // the others are the unit's attributes, in their order.
                let mut attr = values.iter();
                let k = dims
                    .iter()
                    .map(|d| {
                        if Some(d.as_str()) == unit {
                            key.clone()
                        } else {
                            attr.next().cloned().flatten()
                        }
                    })
                    .collect();
                Some(leaves.at(k))
            }
            By::Incident => None,
        };
        for (w, (a, b)) in windows.iter().enumerate() {
            let (d, s) = down_and_scheduled(&spans, &xs, *a, *b);
            scheduled[w] += s;
            if let Some(at) = at {
                let l = &mut leaves.leaves[at];
                if w == 0 {
                    l.numerator += hours(s - d);
                    l.denominator += hours(s);
                } else {
                    l.reference_numerator += hours(s - d);
                    l.reference_denominator += hours(s);
                }
            } else {
                for (i, x) in mine.iter().zip(attributed(&spans, &xs, *a, *b)) {
                    own[*i][w] = x;
                }
            }
        }
    }
    if by == By::Incident {
        let within_cols: Vec<&str> = row_cols.clone();
        for (i, (_, values)) in down.iter().enumerate() {
            let key = if unit.is_some() { values[0].clone() } else { None };
            if own[i] == [0, 0] || !units.contains_key(&key) || !passes(&within_cols, values, within) {
                continue;
            }
            let at = leaves.at(dims_at(values));
            let share = |x: i64, s: i64| if s > 0 { x as f64 / s as f64 } else { 0.0 };
            let l = &mut leaves.leaves[at];
            l.numerator += share(own[i][0], scheduled[0]);
            l.reference_numerator += share(own[i][1], scheduled[1]);
        }
    }
    Ok(Split {
        leaves: leaves.leaves,
        keys: leaves.keys,
        by,
        scheduled: (scheduled[0], scheduled[1]),
    })
}

/// Leaves by key, in the order first met.
struct ByKey {
    leaves: Leaves,
    keys: Keys,
    index: HashMap<Box<[u32]>, usize>,
}

impl ByKey {
    fn at(&mut self, values: Vec<Option<String>>) -> usize {
        let key = self.keys.key(&values);
        if let Some(i) = self.index.get(&key) {
            return *i;
        }
        let at = self.leaves.push(&key);
        self.index.insert(key, at);
        at
    }
}

fn show(values: &[Option<String>]) -> String {
    values
        .iter()
        .map(|v| v.as_deref().unwrap_or("(empty)"))
        .collect::<Vec<_>>()
        .join(", ")
}
