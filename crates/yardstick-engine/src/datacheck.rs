//! Checks that need the data: files exist and are readable, every column a
//! definition names exists, SQL fragments plan against the real schema, and
//! time columns hold times on every row.
//!
//! Sources are registered in a DataFusion [`SessionContext`] exactly as the
//! evaluator will read them, so `check` and `eval` agree on schemas.

use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::ExprSchemable;
use datafusion::prelude::*;
use yardstick_core::diag::{Diagnostic, Diagnostics, Located};
use yardstick_core::model::{FileFormat, Measure, MeasureDef, MeasureKind, Origin, Project, Shape, Source};
use yardstick_core::sql::SqlFragment;
use yardstick_core::time::TIME_FORMS;

use crate::sources::{Catalog, Table, df_message, read_files, register_sources, unknown_column};
use crate::typing::Conversion;

/// Runs the data checks of `check` on a statically valid project.
pub async fn check_data(project: &Project, root: &Path) -> Diagnostics {
    let mut d = Diagnostics::default();
    let catalog = register_sources(project, root, &mut d).await;
    for s in project.sources.values() {
        if let Some(t) = catalog.tables.get(&s.id.value) {
            check_time_columns(&catalog, project, s, t, &mut d).await;
            check_converted_columns(&catalog, project, s, t, &mut d).await;
        }
    }
    for m in project.measures() {
        check_measure_columns(&catalog, project, m, &mut d).await;
    }
    crate::reconcile::check_reconcile_columns(project, &catalog, &mut d);
    d
}

fn is_time_type(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(..) | DataType::Date32 | DataType::Date64)
}

fn is_string_type(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

async fn check_time_columns(
    catalog: &Catalog,
    project: &Project,
    s: &Source,
    t: &Table,
    d: &mut Diagnostics,
) {
    let roles: Vec<(&Located<String>, bool)> = match &s.shape {
        Shape::Event { time } => vec![(time, true)],
        // An interval with no end is still going.
        Shape::Interval { start, end } => vec![(start, true), (end, false)],
        Shape::Reference => vec![],
    };
    for (col, required) in roles {
        let Ok(field) = t.schema.field_with_unqualified_name(&col.value) else {
            unknown_column(d, col, &s.id.value, &t.schema, "the time column is missing");
            continue;
        };
        let ty = t.raw_types.get(&col.value).unwrap_or(field.data_type()).clone();
        if !is_time_type(&ty) && !is_string_type(&ty) && ty != DataType::Null {
            d.push(
                Diagnostic::error(
                    "not-a-time",
                    format!(
                        "column `{}` of `{}` holds {ty} values, not times",
                        col.value, s.id.value
                    ),
                )
                .at(&col.loc)
                .hint(format!("write {TIME_FORMS}")),
            );
            continue;
        }
        if is_string_type(&ty) {
            // Text: every value must parse (and be present where required).
            find_bad_values(catalog, project, s, t, col, Conversion::Time, required, d).await;
            continue;
        }
        if !required {
            continue;
        }
        let nulls = async {
            // A database counts them itself.
            if let Some(db) = catalog.databases.get(&s.id.value) {
                return crate::database::missing_values(db, &s.id.value, &col.value).await;
            }
            let df = catalog.ctx.table(s.id.value.as_str()).await?;
            let batches = df
                .aggregate(
                    vec![],
                    vec![count(lit(1)).alias("n"), count(ident(&col.value)).alias("nn")],
                )?
                .collect()
                .await?;
            let first = |i: usize| {
                batches
                    .first()
                    .and_then(|b| {
                        b.column(i)
                            .as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>()
                    })
                    .filter(|a| !a.is_empty())
                    .map_or(0, |a| a.value(0))
            };
            Ok::<i64, DataFusionError>(first(0) - first(1))
        }
        .await;
        match nulls {
            Ok(0) => {}
            Ok(_) => find_bad_values(catalog, project, s, t, col, Conversion::Time, required, d).await,
            Err(e) => d.push(
                Diagnostic::error(
                    "unreadable-data",
                    format!("cannot read `{}`: {}", s.id.value, df_message(&e)),
                )
                .at(&col.loc),
            ),
        }
    }
}

/// Columns read as text and converted to the type they are used as (see
/// [`crate::typing`]), other than the time roles: every row must convert.
async fn check_converted_columns(
    catalog: &Catalog,
    project: &Project,
    s: &Source,
    t: &Table,
    d: &mut Diagnostics,
) {
    let roles = s.time_columns();
    for (col, conversion) in &t.conversions {
        if *conversion == Conversion::Text || roles.iter().any(|r| r.value == col.value) {
            continue;
        }
        if t.raw_types.get(&col.value).is_some_and(is_string_type) {
            find_bad_values(catalog, project, s, t, col, *conversion, false, d).await;
        }
    }
}

/// Reads a column file by file, in file order, and reports the first row
/// whose value does not convert (or is missing where one is required).
#[allow(clippy::too_many_arguments)]
async fn find_bad_values(
    catalog: &Catalog,
    project: &Project,
    s: &Source,
    t: &Table,
    col: &Located<String>,
    conversion: Conversion,
    required: bool,
    d: &mut Diagnostics,
) {
    let Some(Origin::Files { format, .. }) = &s.origin else {
        let (what, hint) = match &s.origin {
            Some(Origin::Database {
                connection,
                relation: yardstick_core::model::Relation::Table(table),
            }) => (
                format!("table `{}` of the database `{}`", table.value, connection.value),
                "every row needs a time: fill them in the database, or read a view that leaves those rows out"
                    .to_string(),
            ),
            _ => (format!("view `{}`", s.id.value), format!("write {TIME_FORMS}")),
        };
        d.push(
            Diagnostic::error(
                "not-a-time",
                format!("{what} has rows whose `{}` is not a time", col.value),
            )
            .at(&col.loc)
            .hint(hint),
        );
        return;
    };
    let ordered = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
    let tz = project.settings.timezone;
    let mut bad = 0usize;
    let mut first: Option<String> = None;
    for file in &t.files {
        let abs = catalog.root.join(file).to_string_lossy().into_owned();
        // Read the column as text, exactly as written.
        let batches = async {
            let inferred = read_files(&ordered, vec![abs.clone()], *format, None).await?;
            let fields: Vec<datafusion::arrow::datatypes::Field> = inferred
                .schema()
                .as_arrow()
                .fields()
                .iter()
                .map(|f| {
                    if f.name() == &col.value && *format != FileFormat::Parquet {
                        datafusion::arrow::datatypes::Field::new(f.name(), DataType::Utf8, true)
                    } else {
                        f.as_ref().clone()
                    }
                })
                .collect();
            let schema = datafusion::arrow::datatypes::Schema::new(fields);
            let schema = (*format != FileFormat::Parquet).then_some(&schema);
            read_files(&ordered, vec![abs], *format, schema)
                .await?
                .select(vec![cast(ident(&col.value), DataType::Utf8)])?
                .collect()
                .await
        }
        .await;
        let batches = match batches {
            Ok(b) => b,
            Err(e) => {
                d.push(
                    Diagnostic::error(
                        "unreadable-data",
                        format!("cannot read `{file}`: {}", df_message(&e)),
                    )
                    .at(&col.loc),
                );
                return;
            }
        };
        let mut row = 0usize;
        for b in &batches {
            let Some(values) = b.column(0).as_string_opt::<i32>() else {
                continue;
            };
            for i in 0..values.len() {
                row += 1;
                let problem = if values.is_null(i) || values.value(i).trim().is_empty() {
                    required.then(|| "has no value".to_string())
                } else if !conversion.accepts(values.value(i), tz) {
                    Some(format!("`{}` is not {}", values.value(i), conversion.noun()))
                } else {
                    None
                };
                if let Some(p) = problem {
                    bad += 1;
                    if first.is_none() {
                        let place = match format {
                            FileFormat::Csv => format!("{file}:{} (row {row})", row + 1),
                            _ => format!("{file} row {row}"),
                        };
                        first = Some(format!("{place}: `{}` {p}", col.value));
                    }
                }
            }
        }
    }
    if let Some(first) = first {
        let more = if bad > 1 {
            format!(" (and {} more rows)", bad - 1)
        } else {
            String::new()
        };
        let (code, hint) = match conversion {
            Conversion::Time => (
                "bad-time",
                format!("every row needs {TIME_FORMS}; rows are never dropped silently"),
            ),
            _ => (
                "bad-value",
                "every row needs one; rows are never dropped silently".into(),
            ),
        };
        let why = if s.columns.iter().any(|(c, _)| c.value == col.value) {
            format!("`{}` is declared {}", col.value, conversion.noun())
        } else if s.time_columns().iter().any(|c| c.value == col.value) {
            String::new()
        } else {
            format!(
                "`{}` is used as {} here, and most of its values are one",
                col.value,
                conversion.noun()
            )
        };
        let hint = if why.is_empty() {
            hint
        } else {
            format!("{why}: leave a cell empty for no value; {hint}")
        };
        d.push(
            Diagnostic::error(code, format!("source `{}`: {first}{more}", s.id.value))
                .at(&col.loc)
                .hint(hint),
        );
    }
}

/// Columns a measure reads, checked against its source's schema.
async fn check_measure_columns(catalog: &Catalog, project: &Project, m: &MeasureDef, d: &mut Diagnostics) {
    let Some(measure) = &m.measure else { return };
    let what = format!("{} `{}`", m.kind.table(), m.id.value);
    match &measure.value {
        Measure::Aggregate { source, .. }
        | Measure::Share { source, .. }
        | Measure::Percentile { source, .. } => {
            let Some(t) = catalog.tables.get(&source.value) else {
                return;
            };
            for c in m.for_each.iter().chain(&m.dimensions) {
                if t.schema.field_with_unqualified_name(&c.value).is_err() {
                    unknown_column(d, c, &source.value, &t.schema, &what);
                }
            }
            let mut all_known = true;
            for f in measure.value.fragments() {
                for c in &f.columns {
                    if t.schema.field_with_unqualified_name(&c.value).is_err() {
                        unknown_column(d, c, &source.value, &t.schema, &what);
                        all_known = false;
                    }
                }
            }
            if all_known {
                plan_fragments(catalog, &source.value, &t.schema, &measure.value, d).await;
            }
        }
        Measure::Availability {
            down,
            exclude,
            per,
            units,
        } => {
            if let (Some(per), Some(t)) = (per, catalog.tables.get(&down.value)) {
                if t.schema.field_with_unqualified_name(&per.value).is_err() {
                    unknown_column(d, per, &down.value, &t.schema, &what);
                }
                if let Some(u) = units
                    .as_ref()
                    .and_then(|u| catalog.tables.get(&u.value).map(|t| (u, t)))
                    && u.1.schema.field_with_unqualified_name(&per.value).is_err()
                {
                    unknown_column(
                        d,
                        per,
                        &u.0.value,
                        &u.1.schema,
                        &format!("{what} lists units by `{}`", per.value),
                    );
                }
            }
            if let Some(t) = catalog.tables.get(&down.value) {
                for c in &m.for_each {
                    if t.schema.field_with_unqualified_name(&c.value).is_err() {
                        unknown_column(d, c, &down.value, &t.schema, &what);
                    }
                }
            }
            let _ = exclude;
        }
        _ => {
            // Derived measures: metrics they inherit entities into must read
            // sources that have the entity and dimension columns.
            if m.kind == MeasureKind::Kpi {
                for (metric, source) in inherited_sources(project, m) {
                    let Some(t) = catalog.tables.get(&source) else {
                        continue;
                    };
                    for c in m.for_each.iter().chain(&m.dimensions) {
                        if t.schema.field_with_unqualified_name(&c.value).is_err() {
                            unknown_column(
                                d,
                                c,
                                &source,
                                &t.schema,
                                &format!(
                                    "{what} is split by `{}`, but its part metric `{metric}` reads `{source}`",
                                    c.value
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// (metric id, source id) of the metrics a derived KPI evaluates at its own
/// entity, found through ratio/formula/growth/cumulative inputs.
fn inherited_sources(project: &Project, kpi: &MeasureDef) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack: Vec<&MeasureDef> = vec![kpi];
    let mut seen = std::collections::HashSet::new();
    while let Some(m) = stack.pop() {
        let Some(measure) = &m.measure else { continue };
        for input in measure.value.inputs() {
            let Some(part) = project.metrics.get(&input.value) else {
                continue;
            };
            if part.for_each_set || !seen.insert(part.id.value.clone()) {
                continue;
            }
            match part.measure.as_ref().and_then(|x| x.value.source()) {
                Some(src) => out.push((part.id.value.clone(), src.value.clone())),
                None => stack.push(part),
            }
        }
    }
    out
}

/// Plans each fragment against the schema so type errors surface now.
async fn plan_fragments(
    catalog: &Catalog,
    source: &str,
    schema: &DFSchema,
    measure: &Measure,
    d: &mut Diagnostics,
) {
    let Ok(df) = catalog.ctx.table(source).await else {
        return;
    };
    let parse = |f: &SqlFragment| catalog.ctx.parse_sql_expr(&f.text, schema);
    let report = |d: &mut Diagnostics, f: &SqlFragment, e: DataFusionError, role: &str| {
        d.push(
            Diagnostic::error(
                "bad-sql",
                format!("this {role} does not work on `{source}`: {}", df_message(&e)),
            )
            .at(&f.loc),
        );
    };
    let filter_ok = |d: &mut Diagnostics, f: &SqlFragment, role: &str| -> Option<Expr> {
        // The optimized plan has been through type coercion, so a fragment
        // that cannot run on these column types fails here, not in `eval`.
        match parse(f).and_then(|e| {
            df.clone()
                .filter(e.clone())
                .and_then(|f| f.into_optimized_plan())
                .map(|_| e)
        }) {
            Ok(e) => Some(e),
            Err(e) => {
                report(d, f, e, role);
                None
            }
        }
    };
    let filter = match measure {
        Measure::Aggregate { filter, .. }
        | Measure::Share { filter, .. }
        | Measure::Percentile { filter, .. } => filter,
        _ => return,
    };
    if let Some(f) = filter {
        filter_ok(d, f, "filter");
    }
    match measure {
        Measure::Aggregate { measure: m, .. } => {
            if let Err(e) = parse(m).and_then(|e| {
                df.clone()
                    .aggregate(vec![], vec![e.alias("value")])
                    .and_then(|a| a.into_optimized_plan())
            }) {
                let msg = df_message(&e);
                let hint = msg.contains("must appear in the GROUP BY").then_some(
                    "a measure aggregates rows: wrap columns in sum(), count(), avg(), min() or max()",
                );
                d.push(
                    Diagnostic::error(
                        "bad-sql",
                        format!("this measure does not work on `{source}`: {msg}"),
                    )
                    .at(&m.loc)
                    .maybe_hint(hint.map(String::from)),
                );
            }
        }
        Measure::Share { condition, .. } => {
            filter_ok(d, condition, "share condition");
        }
        Measure::Percentile { of, .. } => match parse(of).and_then(|e| e.get_type(schema)) {
            Ok(t) if t.is_numeric() => {}
            Ok(t) => d.push(
                Diagnostic::error(
                    "bad-sql",
                    format!("a percentile needs numbers, but this expression gives {t}"),
                )
                .at(&of.loc)
                .hint(
                    "turn durations into numbers, e.g. date_part('epoch', resolved_at - created_at) / 3600",
                ),
            ),
            Err(e) => report(d, of, e, "percentile expression"),
        },
        _ => {}
    }
}
