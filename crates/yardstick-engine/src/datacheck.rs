//! Checks that need the data: files exist and are readable, every column a
//! definition names exists, SQL fragments plan against the real schema, and
//! time columns hold times on every row.
//!
//! Sources are registered in a DataFusion [`SessionContext`] exactly as the
//! evaluator will read them, so `check` and `eval` agree on schemas.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::ExprSchemable;
use datafusion::prelude::*;
use yardstick_core::diag::{Diagnostic, Diagnostics, Located, suggestion};
use yardstick_core::model::{
    ColumnType, FileFormat, Measure, MeasureDef, MeasureKind, Origin, Project, Shape, Source,
};
use yardstick_core::sql::SqlFragment;
use yardstick_core::time::{TIME_FORMS, parse_time};

use crate::fs::glob_files;

/// A DataFusion message without its backtrace and error-kind prefixes.
pub fn df_message(e: &DataFusionError) -> String {
    let mut m = e.strip_backtrace();
    for prefix in [
        "Error during planning: ",
        "Schema error: ",
        "Arrow error: ",
        "Execution error: ",
        "External error: ",
        "Parser error: ",
        "Optimizer rule 'type_coercion' failed\ncaused by\n",
    ] {
        while let Some(rest) = m.strip_prefix(prefix) {
            m = rest.to_string();
        }
    }
    m.trim().to_string()
}

/// A source registered for reading.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: Arc<DFSchema>,
    /// Files read (relative paths), empty for views.
    pub files: Vec<String>,
}

/// Sources of a project registered in one DataFusion session.
pub struct Catalog {
    pub ctx: SessionContext,
    /// The project folder that file paths are relative to.
    pub root: std::path::PathBuf,
    pub tables: HashMap<String, Table>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("root", &self.root)
            .field("tables", &self.tables.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A session configured for Yardstick (two threads' worth of partitions by
/// default, as on our machines; DataFusion picks the core count).
pub fn session() -> SessionContext {
    let config = SessionConfig::new().with_information_schema(false);
    SessionContext::new_with_config(config)
}

fn extension(path: &str) -> String {
    Path::new(path)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default()
}

/// Reads files into a DataFrame with the given format (schema inferred).
async fn read_files(
    ctx: &SessionContext,
    paths: Vec<String>,
    format: FileFormat,
) -> datafusion::error::Result<DataFrame> {
    let ext = paths.first().map(|p| extension(p)).unwrap_or_default();
    match format {
        FileFormat::Csv => {
            ctx.read_csv(paths, CsvReadOptions::new().has_header(true).file_extension(&ext))
                .await
        }
        FileFormat::Parquet => {
            ctx.read_parquet(paths, ParquetReadOptions::default().file_extension(&ext))
                .await
        }
        FileFormat::Json => {
            ctx.read_json(paths, JsonReadOptions::default().file_extension(&ext))
                .await
        }
    }
}

fn arrow_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::String => DataType::Utf8,
        ColumnType::Int => DataType::Int64,
        ColumnType::Double => DataType::Float64,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Timestamp => DataType::Timestamp(
            datafusion::arrow::datatypes::TimeUnit::Microsecond,
            Some("UTC".into()),
        ),
        ColumnType::Date => DataType::Date32,
    }
}

fn column_names(schema: &DFSchema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

fn unknown_column(
    d: &mut Diagnostics,
    col: &Located<String>,
    source: &str,
    schema: &DFSchema,
    context: &str,
) {
    let names = column_names(schema);
    let hint = suggestion(&col.value, names.iter().map(String::as_str))
        .unwrap_or_else(|| format!("columns of `{source}`: {}", names.join(", ")));
    d.push(
        Diagnostic::error(
            "unknown-column",
            format!("{context}: source `{source}` has no column `{}`", col.value),
        )
        .at(&col.loc)
        .hint(hint),
    );
}

/// Registers a file source, or reports why it cannot be read.
async fn register_files(
    ctx: &SessionContext,
    root: &Path,
    s: &Source,
    path: &Located<String>,
    format: FileFormat,
    d: &mut Diagnostics,
) -> Option<Table> {
    let files = match glob_files(root, &path.value) {
        Ok(f) => f,
        Err(e) => {
            d.push(Diagnostic::error("bad-path", format!("bad path pattern: {e}")).at(&path.loc));
            return None;
        }
    };
    if files.is_empty() {
        d.push(
            Diagnostic::error("missing-data", format!("no file matches `{}`", path.value))
                .at(&path.loc)
                .hint(format!(
                    "paths are relative to the project folder {}",
                    root.display()
                )),
        );
        return None;
    }
    for f in &files {
        if let Err(e) = std::fs::File::open(root.join(f)) {
            d.push(Diagnostic::error("unreadable-data", format!("cannot read `{f}`: {e}")).at(&path.loc));
            return None;
        }
    }
    let abs: Vec<String> = files
        .iter()
        .map(|f| root.join(f).to_string_lossy().into_owned())
        .collect();
    let df = match read_files(ctx, abs, format).await {
        Ok(df) => df,
        Err(e) => {
            d.push(
                Diagnostic::error(
                    "unreadable-data",
                    format!("cannot read `{}`: {}", path.value, df_message(&e)),
                )
                .at(&path.loc),
            );
            return None;
        }
    };
    let df = if s.columns.is_empty() {
        df
    } else {
        let schema = df.schema().clone();
        let mut exprs = Vec::new();
        for field in schema.fields() {
            let name = field.name();
            match s.columns.iter().find(|(c, _)| &c.value == name) {
                Some((_, t)) => exprs.push(cast(ident(name), arrow_type(*t)).alias(name)),
                None => exprs.push(ident(name)),
            }
        }
        for (c, _) in &s.columns {
            if schema.field_with_unqualified_name(&c.value).is_err() {
                unknown_column(
                    d,
                    c,
                    &s.id.value,
                    &schema,
                    "`columns` names a column the files do not have",
                );
            }
        }
        match df.select(exprs) {
            Ok(df) => df,
            Err(e) => {
                d.push(Diagnostic::error("bad-column-type", df_message(&e)).at(&path.loc));
                return None;
            }
        }
    };
    let schema = register(ctx, s, df, d).await?;
    Some(Table { schema, files })
}

/// Registers `df` as the table named by the source's id and returns the
/// schema as queries see it (columns qualified by the source id).
async fn register(
    ctx: &SessionContext,
    s: &Source,
    df: DataFrame,
    d: &mut Diagnostics,
) -> Option<Arc<DFSchema>> {
    let registered = async {
        ctx.register_table(s.id.value.as_str(), df.into_view())?;
        ctx.table(s.id.value.as_str()).await
    }
    .await;
    match registered {
        Ok(t) => Some(Arc::new(t.schema().clone())),
        Err(e) => {
            d.push(
                Diagnostic::error(
                    "internal",
                    format!("cannot register source `{}`: {}", s.id.value, df_message(&e)),
                )
                .at(&s.id.loc),
            );
            None
        }
    }
}

/// Registers every source of `project` (files, then views in dependency
/// order) and reports what cannot be read.
pub async fn register_sources(project: &Project, root: &Path, d: &mut Diagnostics) -> Catalog {
    let ctx = session();
    let mut tables = HashMap::new();
    for s in project.sources.values() {
        if let Some(Origin::Files { path, format }) = &s.origin
            && let Some(t) = register_files(&ctx, root, s, path, *format, d).await
        {
            tables.insert(s.id.value.clone(), t);
        }
    }
    // Views whose inputs are all registered, until no more can be.
    let mut pending: Vec<&Source> = project
        .sources
        .values()
        .filter(|s| matches!(s.origin, Some(Origin::View { .. })))
        .collect();
    loop {
        let before = pending.len();
        let mut still = Vec::new();
        for s in pending {
            let Some(Origin::View { sql, reads }) = &s.origin else {
                continue;
            };
            if !reads.iter().all(|r| tables.contains_key(&r.value)) {
                still.push(s);
                continue;
            }
            let df = match ctx.sql(&sql.value).await {
                Ok(df) => df,
                Err(e) => {
                    d.push(
                        Diagnostic::error(
                            "bad-view",
                            format!("view `{}` does not plan: {}", s.id.value, df_message(&e)),
                        )
                        .at(&sql.loc),
                    );
                    continue;
                }
            };
            if let Some(schema) = register(&ctx, s, df, d).await {
                tables.insert(
                    s.id.value.clone(),
                    Table {
                        schema,
                        files: Vec::new(),
                    },
                );
            }
        }
        if still.len() == before || still.is_empty() {
            break;
        }
        pending = still;
    }
    Catalog {
        ctx,
        root: root.to_path_buf(),
        tables,
    }
}

/// Runs the data checks of `check` on a statically valid project.
pub async fn check_data(project: &Project, root: &Path) -> Diagnostics {
    let mut d = Diagnostics::default();
    let catalog = register_sources(project, root, &mut d).await;
    for s in project.sources.values() {
        if let Some(t) = catalog.tables.get(&s.id.value) {
            check_time_columns(&catalog, project, s, t, &mut d).await;
        }
    }
    for m in project.measures() {
        check_measure_columns(&catalog, project, m, &mut d).await;
    }
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
        let ty = field.data_type().clone();
        if !is_time_type(&ty) && !is_string_type(&ty) {
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
        // Read the whole column once: this also surfaces rows the reader
        // cannot parse beyond the ones its schema inference looked at.
        let counts = async {
            let df = catalog.ctx.table(s.id.value.as_str()).await?;
            df.aggregate(
                vec![],
                vec![count(lit(1)).alias("n"), count(ident(&col.value)).alias("nn")],
            )?
            .collect()
            .await
        }
        .await;
        let (n, nn) = match counts {
            Ok(batches) => batches
                .first()
                .filter(|b| b.num_rows() == 1)
                .and_then(|b| {
                    let n = b
                        .column(0)
                        .as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>()?
                        .value(0);
                    let nn = b
                        .column(1)
                        .as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>()?
                        .value(0);
                    Some((n, nn))
                })
                .unwrap_or((0, 0)),
            Err(e) => {
                d.push(
                    Diagnostic::error(
                        "unreadable-data",
                        format!("cannot read `{}`: {}", s.id.value, df_message(&e)),
                    )
                    .at(&col.loc),
                );
                continue;
            }
        };
        let nulls = n - nn;
        if is_string_type(&ty) || (required && nulls > 0) {
            find_bad_times(catalog, project, s, t, col, required, d).await;
        }
    }
}

/// Reads a time column file by file, in file order, and reports the first
/// row whose value is not a time (or is missing where one is required).
async fn find_bad_times(
    catalog: &Catalog,
    project: &Project,
    s: &Source,
    t: &Table,
    col: &Located<String>,
    required: bool,
    d: &mut Diagnostics,
) {
    let Some(Origin::Files { format, .. }) = &s.origin else {
        d.push(
            Diagnostic::error(
                "not-a-time",
                format!(
                    "view `{}` has rows whose `{}` is not a time",
                    s.id.value, col.value
                ),
            )
            .at(&col.loc)
            .hint(format!("write {TIME_FORMS}")),
        );
        return;
    };
    let ordered = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
    let tz = project.settings.timezone;
    let mut bad = 0usize;
    let mut first: Option<String> = None;
    for file in &t.files {
        let abs = catalog.root.join(file).to_string_lossy().into_owned();
        let batches = match read_files(&ordered, vec![abs], *format).await {
            Ok(df) => match df.select(vec![cast(ident(&col.value), DataType::Utf8)]) {
                Ok(df) => df.collect().await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
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
                } else if parse_time(values.value(i), tz).is_none() {
                    Some(format!("`{}` is not a time", values.value(i)))
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
        d.push(
            Diagnostic::error("bad-time", format!("source `{}`: {first}{more}", s.id.value))
                .at(&col.loc)
                .hint(format!(
                    "every row needs {TIME_FORMS}; rows are never dropped silently"
                )),
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
        match parse(f).and_then(|e| df.clone().filter(e.clone()).map(|_| e)) {
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
            if let Err(e) = parse(m).and_then(|e| df.clone().aggregate(vec![], vec![e.alias("value")])) {
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
