//! How a KPI's form splits into parts that add up over rows (an additive
//! measure, a ratio's numerator and denominator, availability's
//! intervals), or why it cannot.

use yardstick_core::model::{Measure, MeasureDef, Project};
use yardstick_core::sql::{FormulaExpr, SqlFragment};

use super::availability;
use super::query::Part;
use crate::eval::EvalError;

/// A form split into parts that add up over rows (one per request, so
/// its size does not matter).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub(super) enum Split {
    Additive(Part),
    Ratio { numerator: Part, denominator: Part },
    Availability(availability::Spec),
}

/// How the leaves are judged and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// Values add up over leaves.
    Additive,
    /// Numerators over denominators (mix and rate).
    Ratio,
    /// Availability split by incident: leaves are shares of scheduled
    /// time lost, and the KPI is one minus their sum.
    Downtime,
}

pub(super) fn split_parts(s: &Split) -> Vec<&Part> {
    match s {
        Split::Additive(p) => vec![p],
        Split::Ratio {
            numerator,
            denominator,
        } => vec![numerator, denominator],
        Split::Availability(_) => Vec::new(),
    }
}

fn cannot(kpi: &MeasureDef, why: &str) -> EvalError {
    EvalError::Data(format!("`{}` cannot be split into causes: {why}", kpi.id.value))
}

pub(super) fn fragment(text: &str) -> Result<SqlFragment, EvalError> {
    let loc = yardstick_core::diag::Loc::new(0, 0..text.len() + 2);
    SqlFragment::parse(text, &loc, &format!("\"{text}\""))
        .map_err(|e| EvalError::Internal(format!("rewriting `{text}`: {e:?}")))
}

/// The additive part of a source-based measure, when it has one.
fn additive(m: &MeasureDef) -> Result<Part, EvalError> {
    match m.measure.as_ref().map(|x| &x.value) {
        Some(Measure::Aggregate {
            source,
            measure,
            filter,
        }) if additive_call(&measure.text) => Ok(Part {
            source: source.value.clone(),
            measure: measure.clone(),
            filter: filter.clone(),
        }),
        Some(Measure::Aggregate { measure, .. }) => Err(cannot(
            m,
            &format!(
                "`{}` does not add up over rows (only sum(…) and count(…) do, and avg(…) as their ratio)",
                measure.text
            ),
        )),
        Some(
            Measure::Ratio { .. } | Measure::Formula(_) | Measure::Growth { .. } | Measure::Cumulative { .. },
        ) => Err(cannot(m, "it is computed from other measures")),
        _ => Err(cannot(
            m,
            &format!(
                "its {} form does not add up over rows",
                m.measure.as_ref().map_or("missing", |x| x.value.form())
            ),
        )),
    }
}

fn additive_call(text: &str) -> bool {
    yardstick_core::sql::is_single_call(text, &["sum", "count"])
        && !text.to_ascii_lowercase().contains("distinct")
}

/// How a KPI's form splits, or why it cannot.
pub(super) fn split_of(project: &Project, kpi: &MeasureDef) -> Result<Split, EvalError> {
    let input = |id: &str| {
        project
            .measure(id)
            .ok_or_else(|| EvalError::Internal(format!("`{id}` vanished after checking")))
    };
    match kpi.measure.as_ref().map(|m| &m.value) {
        Some(Measure::Aggregate {
            source,
            measure,
            filter,
        }) => {
            let lower = measure.text.trim().to_ascii_lowercase();
            if additive_call(&measure.text) {
                Ok(Split::Additive(additive(kpi)?))
            } else if yardstick_core::sql::is_single_call(&measure.text, &["avg"])
                && !lower.contains("distinct")
            {
                // `avg(x)` is one call: the argument is between the first
                // parenthesis and the last character.
                let text = measure.text.trim();
                let arg = text
                    .find('(')
                    .and_then(|open| text.get(open + 1..text.len().saturating_sub(1)))
                    .ok_or_else(|| EvalError::Internal(format!("`{text}` is not one call")))?;
                let part = |agg: &str| -> Result<Part, EvalError> {
                    Ok(Part {
                        source: source.value.clone(),
                        measure: fragment(&format!("{agg}({arg})"))?,
                        filter: filter.clone(),
                    })
                };
                Ok(Split::Ratio {
                    numerator: part("sum")?,
                    denominator: part("count")?,
                })
            } else {
                Err(cannot(
                    kpi,
                    &format!(
                        "`{}` does not add up over rows (sum(…), count(…) and avg(…) do; a distinct count, a minimum or a maximum do not)",
                        measure.text
                    ),
                ))
            }
        }
        Some(Measure::Share {
            source,
            condition,
            filter,
        }) => Ok(Split::Ratio {
            numerator: Part {
                source: source.value.clone(),
                measure: fragment(&format!("count(*) FILTER (WHERE {})", condition.text))?,
                filter: filter.clone(),
            },
            denominator: Part {
                source: source.value.clone(),
                measure: fragment("count(*)")?,
                filter: filter.clone(),
            },
        }),
        Some(Measure::Ratio {
            numerator,
            denominator,
        }) => Ok(Split::Ratio {
            numerator: additive(input(&numerator.value)?)?,
            denominator: additive(input(&denominator.value)?)?,
        }),
        Some(Measure::Formula(f)) => match &f.expr {
            FormulaExpr::Binary(a, yardstick_core::sql::ArithOp::Div, b) => match (a.as_ref(), b.as_ref()) {
                (FormulaExpr::Ref(a), FormulaExpr::Ref(b)) => Ok(Split::Ratio {
                    numerator: additive(input(&a.value)?)?,
                    denominator: additive(input(&b.value)?)?,
                }),
                _ => Err(formula_cannot(kpi, f)),
            },
            FormulaExpr::Ref(a) => Ok(Split::Additive(additive(input(&a.value)?)?)),
            _ => Err(formula_cannot(kpi, f)),
        },
        Some(Measure::Percentile { .. }) => Err(cannot(
            kpi,
            "a percentile is not a sum of its segments' parts; ask about the share of rows past a threshold instead",
        )),
        Some(Measure::Cumulative { of, .. }) => Err(cannot(
            kpi,
            &format!(
                "it accumulates `{}` over periods: ask `why {}` for a period",
                of.value, of.value
            ),
        )),
        Some(Measure::Availability {
            down,
            exclude,
            per,
            units,
        }) => Ok(Split::Availability(availability::Spec {
            down: down.value.clone(),
            exclude: exclude.as_ref().map(|x| x.value.clone()),
            unit: per.as_ref().or(kpi.for_each.first()).map(|u| u.value.clone()),
            units: units.as_ref().map(|u| u.value.clone()),
        })),
        Some(Measure::Growth { .. }) => Err(EvalError::Internal(
            "growth is explained through its input".into(),
        )),
        None => Err(cannot(kpi, "it has no measure")),
    }
}

fn formula_cannot(kpi: &MeasureDef, f: &yardstick_core::sql::Formula) -> EvalError {
    let refs: Vec<&str> = f.refs().iter().map(|r| r.value.as_str()).collect();
    cannot(
        kpi,
        &format!(
            "the formula `{}` is not a single ratio; ask `yardstick why` about its inputs ({})",
            f.text,
            refs.join(", ")
        ),
    )
}
