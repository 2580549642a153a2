//! Sources as DataFusion tables.
//!
//! File sources are read with inferred schemas (or pinned `columns` types);
//! every time column becomes an instant (`Timestamp(µs, UTC)`) through
//! `ys_instant`, so a timestamp without an offset is read in the project
//! zone. Views are planned by DataFusion over the registered sources, in
//! dependency order. `check` and `eval` register sources the same way.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::*;
use futures::StreamExt;
use yardstick_core::diag::{Diagnostic, Diagnostics, Located, suggestion};
use yardstick_core::model::{ColumnType, FileFormat, Origin, Project, Relation, Source};

use crate::fs::glob_files;
use crate::typing::{BoolUdf, Conversion, NumberUdf, Sniff, aggregated_columns, used_columns};
use crate::udf::{ExactDatePart, InstantUdf, instant_type};

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
    // A type mismatch: keep DataFusion's one useful sentence and the
    // signatures it accepts, not its internal-error framing.
    if let Some(i) = m.find("No function matches the given name and argument types") {
        let rest = &m[i..];
        let (head, candidates) = rest.split_once("Candidate functions:").unwrap_or((rest, ""));
        let head = head
            .trim()
            .trim_end_matches("You might need to add explicit type casts.")
            .trim()
            .trim_end_matches('.');
        let accepted: Vec<&str> = candidates.split_whitespace().collect();
        return if accepted.is_empty() {
            head.to_string()
        } else {
            format!("{head}; accepted: {}", accepted.join(", "))
        };
    }
    if let Some(i) = m.find("This issue was likely caused by a bug in DataFusion") {
        m.truncate(i);
    }
    m.trim().to_string()
}

/// A source registered for reading.
#[derive(Debug, Clone)]
pub struct Table {
    /// Columns as queries see them: time columns are instants (µs, UTC).
    pub schema: Arc<DFSchema>,
    /// Column types as read from the files, before time columns were
    /// normalised (a string time column can hold text that is no time).
    pub raw_types: HashMap<String, DataType>,
    /// Files read (relative paths), empty for views.
    pub files: Vec<String>,
    /// Columns read as text and converted, with the place that says why
    /// (see [`crate::typing`]); `check` validates them row by row.
    pub conversions: Vec<(Located<String>, Conversion)>,
    /// What the rows are made of, to tell appended rows from changed ones
    /// (see [`crate::eval::incremental`]).
    pub parts: Parts,
    /// The files' schema as read, before conversions (file sources).
    pub(crate) raw: Option<Arc<Schema>>,
    /// Rows held in memory (stored sources), in the order they were stored.
    pub(crate) memory: Vec<RecordBatch>,
}

/// What a source's rows are made of. Two registrations of a source whose
/// parts are equal read the same rows; a later one whose parts extend an
/// earlier one's read those rows and more.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Parts {
    /// Files, in the order read.
    Files(Vec<FilePart>),
    /// Stored rows: compacted Parquet files, then the batches held in
    /// memory, appended in order.
    Stored { compacted: Vec<String>, batches: usize },
    /// Rows whose changes cannot be told apart (a database table, a view).
    #[default]
    Opaque,
}

/// One file of a source as it was when registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// Relative to the project folder.
    pub path: String,
    pub len: u64,
    pub modified: Option<std::time::SystemTime>,
    /// A hash of the first and last 64 KiB: a file rewritten within the
    /// same clock tick at the same length still differs.
    pub sample: u64,
}

impl FilePart {
    fn read(root: &Path, path: &str) -> std::io::Result<FilePart> {
        use std::hash::{Hash, Hasher};
        use std::io::{Read, Seek, SeekFrom};
        const SAMPLE: u64 = 64 * 1024;
        let mut f = std::fs::File::open(root.join(path))?;
        let meta = f.metadata()?;
        let len = meta.len();
        let mut h = std::hash::DefaultHasher::new();
        let mut buf = Vec::new();
        (&mut f).take(SAMPLE).read_to_end(&mut buf)?;
        if len > SAMPLE {
            f.seek(SeekFrom::Start(len.saturating_sub(SAMPLE).max(SAMPLE)))?;
            f.take(SAMPLE).read_to_end(&mut buf)?;
        }
        buf.hash(&mut h);
        Ok(FilePart {
            path: path.to_string(),
            len,
            modified: meta.modified().ok(),
            sample: h.finish(),
        })
    }
}

impl Table {
    /// A view or stored source: its columns are what queries see.
    fn without_files(schema: Arc<DFSchema>) -> Table {
        let raw_types = schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        Table {
            schema,
            raw_types,
            files: Vec::new(),
            conversions: Vec::new(),
            parts: Parts::Opaque,
            raw: None,
            memory: Vec::new(),
        }
    }
}

/// Sources of a project registered in one DataFusion session.
pub struct Catalog {
    pub ctx: SessionContext,
    /// The project folder that file paths are relative to.
    pub root: std::path::PathBuf,
    pub tables: HashMap<String, Table>,
    /// Database sources as their connection's federated session sees
    /// them, by source id (see [`crate::database`]).
    pub databases: HashMap<String, crate::database::DbTable>,
}

/// A catalog with no source registered yet.
pub fn empty_catalog(project: &Project, root: &Path) -> Catalog {
    Catalog {
        ctx: session(project.settings.timezone),
        root: root.to_path_buf(),
        tables: HashMap::new(),
        databases: HashMap::new(),
    }
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("root", &self.root)
            .field("tables", &self.tables.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A DataFusion session for a project: its zone in the config (read by
/// `ys_instant`), `ys_instant` registered for views that need it.
/// DataFusion settings can be tuned through `DATAFUSION_*` environment
/// variables (e.g. `DATAFUSION_EXECUTION_TARGET_PARTITIONS=4`).
pub fn session(tz: chrono_tz::Tz) -> SessionContext {
    let ctx = SessionContext::new_with_config(session_config(tz));
    with_functions(&ctx, tz);
    ctx
}

/// The configuration of a project's sessions (see [`session`]).
pub fn session_config(tz: chrono_tz::Tz) -> SessionConfig {
    let mut config = SessionConfig::from_env()
        .unwrap_or_else(|_| SessionConfig::new())
        .with_information_schema(false);
    config.options_mut().execution.time_zone = Some(tz.name().to_string());
    config
}

/// Registers the functions every project session has (`ys_instant`, exact
/// `date_part`) in `ctx`, a session made elsewhere (a cluster's).
pub fn with_functions(ctx: &SessionContext, tz: chrono_tz::Tz) {
    ctx.register_udf(ScalarUDF::from(InstantUdf::new(tz)));
    ctx.register_udf(ScalarUDF::from(ExactDatePart::new()));
}

fn extension(path: &str) -> String {
    Path::new(path)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default()
}

/// Reads files into a DataFrame with the given format (schema inferred).
pub(crate) async fn read_files(
    ctx: &SessionContext,
    paths: Vec<String>,
    format: FileFormat,
    schema: Option<&Schema>,
) -> datafusion::error::Result<DataFrame> {
    let ext = paths.first().map(|p| extension(p)).unwrap_or_default();
    match format {
        FileFormat::Csv => {
            // Types come from the whole file, never from a sample.
            let mut o = CsvReadOptions::new()
                .has_header(true)
                .file_extension(&ext)
                .schema_infer_max_records(usize::MAX);
            if let Some(schema) = schema {
                o = o.schema(schema);
            }
            ctx.read_csv(paths, o).await
        }
        FileFormat::Parquet => {
            let mut o = ParquetReadOptions::default().file_extension(&ext);
            if let Some(schema) = schema {
                o = o.schema(schema);
            }
            ctx.read_parquet(paths, o).await
        }
        FileFormat::Json => {
            let mut o = JsonReadOptions::default()
                .file_extension(&ext)
                .schema_infer_max_records(usize::MAX);
            if let Some(schema) = schema {
                o = o.schema(schema);
            }
            ctx.read_json(paths, o).await
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

pub(crate) fn column_names(schema: &DFSchema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

pub(crate) fn unknown_column(
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

/// Reports each declared `columns` entry that `raw` (what was read) lacks.
fn declared_columns_exist(d: &mut Diagnostics, s: &Source, raw: &Schema, schema: &DFSchema, lacking: &str) {
    for (c, _) in &s.columns {
        if raw.field_with_name(&c.value).is_err() {
            let context = format!("`columns` names a column {lacking}");
            unknown_column(d, c, &s.id.value, schema, &context);
        }
    }
}

/// Registers a file source, or reports why it cannot be read.
///
/// Time columns (the declared `time`/`start`/`end` and every column the
/// reader would take for a timestamp or date) are read as text and turned
/// into instants by `ys_instant`, so naive times follow the project zone.
async fn register_files(
    ctx: &SessionContext,
    project: &Project,
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
    let mut parts = Vec::with_capacity(files.len());
    for f in &files {
        match FilePart::read(root, f) {
            Ok(part) => parts.push(part),
            Err(e) => {
                d.push(Diagnostic::error("unreadable-data", format!("cannot read `{f}`: {e}")).at(&path.loc));
                return None;
            }
        }
    }
    let abs: Vec<String> = files
        .iter()
        .map(|f| root.join(f).to_string_lossy().into_owned())
        .collect();
    let cant_read = |d: &mut Diagnostics, e: DataFusionError| {
        d.push(
            Diagnostic::error(
                "unreadable-data",
                format!("cannot read `{}`: {}", path.value, df_message(&e)),
            )
            .at(&path.loc),
        );
    };
    let df = match read_files(ctx, abs.clone(), format, None).await {
        Ok(df) => df,
        Err(e) => {
            cant_read(d, e);
            return None;
        }
    };
    let inferred = df.schema().as_arrow().clone();
    if inferred.fields().is_empty() {
        d.push(
            Diagnostic::error(
                "empty-data",
                format!("`{}` is empty: it has no header row naming its columns", path.value),
            )
            .at(&path.loc)
            .hint("a CSV file starts with a header row, e.g. `ordered_at,amount`; a file without rows needs the header alone"),
        );
        return None;
    }
    let tz = s_tz(ctx);
    let conversions = match plan_conversions(project, s, &df, format, tz).await {
        Ok(c) => c,
        Err(e) => {
            cant_read(d, e);
            return None;
        }
    };
    // Converted columns are read as text (CSV always; JSON where the reader
    // found text), so no reader guesses a type that a later row contradicts.
    let text_read: Vec<&str> = conversions
        .iter()
        .filter(|(c, _)| {
            format == FileFormat::Csv
                || inferred
                    .field_with_name(&c.value)
                    .is_ok_and(|f| is_string(f.data_type()) || matches!(f.data_type(), DataType::Null))
        })
        .map(|(c, _)| c.value.as_str())
        .collect();
    let df = if format != FileFormat::Parquet && !text_read.is_empty() {
        let fields: Vec<Field> = inferred
            .fields()
            .iter()
            .map(|f| {
                if text_read.contains(&f.name().as_str()) {
                    Field::new(f.name(), DataType::Utf8, true)
                } else {
                    f.as_ref().clone()
                }
            })
            .collect();
        match read_files(ctx, abs, format, Some(&Schema::new(fields))).await {
            Ok(df) => df,
            Err(e) => {
                cant_read(d, e);
                return None;
            }
        }
    } else {
        df
    };
    let raw = df.schema().as_arrow().clone();
    let raw_types: HashMap<String, DataType> = raw
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let exprs = converting(s, &raw, &conversions, tz);
    declared_columns_exist(d, s, &raw, df.schema(), "the files do not have");
    let df = match df.select(exprs) {
        Ok(df) => df,
        Err(e) => {
            d.push(Diagnostic::error("bad-column-type", df_message(&e)).at(&path.loc));
            return None;
        }
    };
    let schema = register(ctx, s, df, d).await?;
    Some(Table {
        schema,
        raw_types,
        files,
        conversions,
        parts: Parts::Files(parts),
        raw: Some(Arc::new(raw)),
        memory: Vec::new(),
    })
}

/// The columns of a file source as queries see them: each read column
/// converted as planned (time columns become instants).
pub(crate) fn converting(
    s: &Source,
    raw: &Schema,
    conversions: &[(Located<String>, Conversion)],
    tz: chrono_tz::Tz,
) -> Vec<Expr> {
    let instant = ScalarUDF::from(InstantUdf::new(tz));
    let number = ScalarUDF::from(NumberUdf::new(false));
    let integer = ScalarUDF::from(NumberUdf::new(true));
    let boolean = ScalarUDF::from(BoolUdf::new());
    let mut exprs = Vec::new();
    for field in raw.fields() {
        let name = field.name();
        let conversion = conversions
            .iter()
            .find(|(c, _)| &c.value == name)
            .map(|(_, k)| *k);
        let args = || vec![ident(name), lit(name.as_str())];
        let e = match conversion {
            Some(Conversion::Time) => instant.call(args()),
            Some(Conversion::Number) => number.call(args()),
            Some(Conversion::Integer) => integer.call(args()),
            Some(Conversion::Bool) => boolean.call(args()),
            Some(Conversion::Text) => cast(ident(name), DataType::Utf8),
            None => match s.columns.iter().find(|(c, _)| &c.value == name) {
                Some((_, t)) => cast(ident(name), arrow_type(*t)),
                None if matches!(field.data_type(), DataType::Timestamp(_, Some(_))) => {
                    cast(ident(name), instant_type())
                }
                None => ident(name),
            },
        };
        exprs.push(e.alias(name));
    }
    exprs
}

/// The columns of a file source that are converted, each with the place
/// that says why (the `columns` entry, the time role, the first fragment
/// reading it): see [`crate::typing`].
async fn plan_conversions(
    project: &Project,
    s: &Source,
    df: &DataFrame,
    format: FileFormat,
    tz: chrono_tz::Tz,
) -> datafusion::error::Result<Vec<(Located<String>, Conversion)>> {
    let inferred = df.schema().as_arrow().clone();
    let roles = s.time_columns();
    let used = used_columns(project, s);
    let aggregated = aggregated_columns(project, s);
    let text_format = format != FileFormat::Parquet;
    let mut out = Vec::new();
    let mut sniff: Vec<(String, Located<String>)> = Vec::new();
    for f in inferred.fields() {
        let name = f.name();
        let t = f.data_type();
        if let Some((c, ct)) = s.columns.iter().find(|(c, _)| &c.value == name) {
            // Parquet is typed: a declared type there is a cast (below).
            if text_format || matches!(ct, ColumnType::Timestamp | ColumnType::Date) {
                out.push((c.clone(), Conversion::declared(*ct)));
            }
            continue;
        }
        let role = roles.iter().find(|r| &r.value == name);
        let timeish = match t {
            DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64 => true,
            DataType::Timestamp(_, Some(_)) => text_format,
            t => role.is_some() && (is_string(t) || matches!(t, DataType::Null)),
        };
        if timeish {
            let at = role.map(|r| (*r).clone()).unwrap_or_else(|| Located {
                value: name.clone(),
                loc: s.id.loc.clone(),
            });
            out.push((at, Conversion::Time));
        } else if text_format && is_string(t) {
            if let Some(at) = used.get(name) {
                sniff.push((name.clone(), at.clone()));
            }
        } else if matches!(t, DataType::Null) && aggregated.contains(name) {
            // No value in the whole file: a number to aggregate.
            if let Some(at) = used.get(name) {
                out.push((at.clone(), Conversion::Number));
            }
        }
    }
    if sniff.is_empty() {
        return Ok(out);
    }
    // Text columns that fragments read: what are most of their values?
    let cols: Vec<Expr> = sniff
        .iter()
        .map(|(n, _)| cast(ident(n), DataType::Utf8))
        .collect();
    let mut counts = vec![Sniff::default(); sniff.len()];
    let mut stream = df.clone().select(cols)?.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        for (i, count) in counts.iter_mut().enumerate() {
            if let Some(values) = batch.column(i).as_string_opt::<i32>() {
                for v in values.iter() {
                    count.add(v, tz);
                }
            }
        }
    }
    for ((_, at), count) in sniff.into_iter().zip(counts) {
        if let Some(k) = count.verdict() {
            out.push((at, k));
        }
    }
    Ok(out)
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The project zone, kept in the session's config extension.
fn s_tz(ctx: &SessionContext) -> chrono_tz::Tz {
    ctx.state()
        .config()
        .options()
        .execution
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::Tz::UTC)
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

/// Rows of stored sources (`store = true`), by source id, as read from the
/// state store (see [`crate::ingest`]).
pub type StoredRows = HashMap<String, Vec<RecordBatch>>;

/// Registers every source of `project` (files, then views in dependency
/// order) and reports what cannot be read. Stored sources are empty.
pub async fn register_sources(project: &Project, root: &Path, d: &mut Diagnostics) -> Catalog {
    register_sources_with(project, root, &StoredRows::new(), d).await
}

/// [`register_sources`] with the rows of stored sources.
pub async fn register_sources_with(
    project: &Project,
    root: &Path,
    stored: &StoredRows,
    d: &mut Diagnostics,
) -> Catalog {
    let mut connections = crate::database::Connections::default();
    register_sources_compacted(project, root, stored, &CompactedFiles::new(), &mut connections, d).await
}

/// Parquet files holding the older rows of stored sources, by source id
/// (see [`crate::compaction`]).
pub type CompactedFiles = std::collections::BTreeMap<String, Vec<std::path::PathBuf>>;

/// [`register_sources_with`] where the older rows of stored sources are in
/// compacted Parquet files: a stored source reads its files, then the rows
/// held in memory.
///
/// `connections` keeps database connections open between registrations.
pub async fn register_sources_compacted(
    project: &Project,
    root: &Path,
    stored: &StoredRows,
    compacted: &CompactedFiles,
    connections: &mut crate::database::Connections,
    d: &mut Diagnostics,
) -> Catalog {
    let ctx = session(project.settings.timezone);
    register_sources_on(ctx, project, root, stored, compacted, connections, d).await
}

/// [`register_sources_compacted`] in a session made by the caller (one
/// whose queries run on a cluster: see `yardstick-cluster`).
pub async fn register_sources_on(
    ctx: SessionContext,
    project: &Project,
    root: &Path,
    stored: &StoredRows,
    compacted: &CompactedFiles,
    connections: &mut crate::database::Connections,
    d: &mut Diagnostics,
) -> Catalog {
    let mut tables = HashMap::new();
    let mut databases = HashMap::new();
    let mut failed = std::collections::HashSet::new();
    for s in project.sources.values() {
        match &s.origin {
            Some(Origin::Database {
                connection,
                relation: Relation::Table(table),
            }) => {
                let Some((provider, db)) = crate::database::open_table(
                    project,
                    connections,
                    &mut failed,
                    &s.id.value,
                    connection,
                    table,
                    d,
                )
                .await
                else {
                    continue;
                };
                if let Some(t) = register_database(&ctx, project, s, provider, d).await {
                    tables.insert(s.id.value.clone(), t);
                    databases.insert(s.id.value.clone(), db);
                }
            }
            Some(Origin::Files { path, format }) => {
                if let Some(t) = register_files(&ctx, project, root, s, path, *format, d).await {
                    tables.insert(s.id.value.clone(), t);
                }
            }
            Some(Origin::Store) => {
                let schema = crate::ingest::stored_schema(s);
                let batches = stored.get(&s.id.value).cloned().unwrap_or_default();
                let files: Vec<String> = compacted
                    .get(&s.id.value)
                    .map(|fs| fs.iter().map(|f| f.to_string_lossy().into_owned()).collect())
                    .unwrap_or_default();
                let memory = MemTable::try_new(schema.clone(), vec![batches.clone()])
                    .and_then(|t| ctx.read_table(Arc::new(t)));
                let df = if files.is_empty() {
                    memory
                } else {
                    match read_files(&ctx, files.clone(), FileFormat::Parquet, Some(&schema)).await {
                        Ok(older) => memory.and_then(|m| older.union(m)),
                        Err(e) => Err(e),
                    }
                };
                let df = match df {
                    Ok(df) => df,
                    Err(e) => {
                        d.push(
                            Diagnostic::error(
                                "internal",
                                format!("cannot read stored rows of `{}`: {}", s.id.value, df_message(&e)),
                            )
                            .at(&s.id.loc),
                        );
                        continue;
                    }
                };
                if let Some(schema) = register(&ctx, s, df, d).await {
                    let mut t = Table::without_files(schema);
                    t.parts = Parts::Stored {
                        compacted: files,
                        batches: batches.len(),
                    };
                    t.memory = batches;
                    tables.insert(s.id.value.clone(), t);
                }
            }
            _ => {}
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
                tables.insert(s.id.value.clone(), Table::without_files(schema));
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
        databases,
    }
}

/// Registers a database table in the project's session: time columns
/// become instants (a `timestamp` without zone and a `date` are read in the
/// project zone), declared `columns` are cast.
async fn register_database(
    ctx: &SessionContext,
    project: &Project,
    s: &Source,
    provider: Arc<dyn datafusion::datasource::TableProvider>,
    d: &mut Diagnostics,
) -> Option<Table> {
    let raw = provider.schema();
    let df = match ctx.read_table(provider) {
        Ok(df) => df,
        Err(e) => {
            d.push(Diagnostic::error("internal", df_message(&e)).at(&s.id.loc));
            return None;
        }
    };
    let tz = project.settings.timezone;
    let instant = ScalarUDF::from(InstantUdf::new(tz));
    let roles = s.time_columns();
    declared_columns_exist(d, s, &raw, df.schema(), "the table does not have");
    let exprs: Vec<Expr> = raw
        .fields()
        .iter()
        .map(|field| {
            let name = field.name();
            let declared = s.columns.iter().find(|(c, _)| &c.value == name).map(|(_, t)| *t);
            let is_role = roles.iter().any(|r| &r.value == name);
            let e = match (declared, field.data_type()) {
                (Some(ColumnType::Timestamp | ColumnType::Date), _) => {
                    instant.call(vec![ident(name), lit(name.as_str())])
                }
                (Some(t), _) => cast(ident(name), arrow_type(t)),
                (None, DataType::Timestamp(_, Some(_))) => cast(ident(name), instant_type()),
                (None, DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64) => {
                    instant.call(vec![ident(name), lit(name.as_str())])
                }
                (None, t) if is_role && is_string(t) => instant.call(vec![ident(name), lit(name.as_str())]),
                // Exact decimals are read as numbers to aggregate.
                (None, DataType::Decimal128(..) | DataType::Decimal256(..)) => {
                    cast(ident(name), DataType::Float64)
                }
                (None, _) => ident(name),
            };
            e.alias(name)
        })
        .collect();
    let df = match df.select(exprs) {
        Ok(df) => df,
        Err(e) => {
            d.push(Diagnostic::error("bad-column-type", df_message(&e)).at(&s.id.loc));
            return None;
        }
    };
    let schema = register(ctx, s, df, d).await?;
    let raw_types = raw
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    Some(Table {
        schema,
        raw_types,
        files: Vec::new(),
        conversions: Vec::new(),
        parts: Parts::Opaque,
        raw: None,
        memory: Vec::new(),
    })
}
