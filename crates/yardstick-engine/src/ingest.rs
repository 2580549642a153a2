//! Rows pushed into a stored source (`store = true`): validated against the
//! source's declared `columns`, all or nothing, and kept as Arrow IPC.
//!
//! A batch is a JSON array of objects, NDJSON (one object per line) or CSV
//! with a header row. Every bad row is reported (row number, column,
//! reason), not only the first: a rejected batch can be fixed in one go.
//! Time columns follow the same rules as file sources: a time without an
//! offset is read in the project zone.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
pub use datafusion::arrow::record_batch::RecordBatch;
use serde::Serialize;
use serde_json::Value;
use yardstick_core::diag::suggestion;
use yardstick_core::model::{ColumnType, Origin, Project, Shape, Source};
use yardstick_core::time::parse_time;

use crate::udf::instant_type;

/// The encodings a batch may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JSON array of objects (a single object is a batch of one).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// CSV with a header row; an empty field is NULL.
    Csv,
}

impl BodyFormat {
    /// From an HTTP `Content-Type` (parameters ignored); `None` if unsupported.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match mime.as_str() {
            "application/json" => Some(BodyFormat::Json),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Some(BodyFormat::Ndjson),
            "text/csv" | "application/csv" => Some(BodyFormat::Csv),
            _ => None,
        }
    }

    /// From a file name's extension.
    pub fn from_path(path: &str) -> Option<Self> {
        let ext = path.rsplit('.').next()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(BodyFormat::Json),
            "ndjson" | "jsonl" => Some(BodyFormat::Ndjson),
            "csv" => Some(BodyFormat::Csv),
            _ => None,
        }
    }
}

/// Why one row (or the whole body) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based data row (the CSV header is not counted); 0 for the body.
    pub row: usize,
    pub column: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.column, self.row) {
            (_, 0) => write!(f, "{}", self.reason),
            (Some(c), r) => write!(f, "row {r}, column `{c}`: {}", self.reason),
            (None, r) => write!(f, "row {r}: {}", self.reason),
        }
    }
}

/// Why a push was refused before any row was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("no source `{0}`")]
    UnknownSource(String),
    #[error("source `{0}` is not stored (set `store = true` to push rows into it)")]
    NotStored(String),
    #[error("{}", yardstick_core::format::count(.0.len(), "bad row", "bad rows"))]
    BadRows(Vec<RowError>),
}

/// The Arrow schema of a stored source's rows: declared columns in order,
/// time columns (timestamp and date) as UTC instants.
pub fn stored_schema(s: &Source) -> SchemaRef {
    let fields: Vec<Field> = s
        .columns
        .iter()
        .map(|(name, t)| {
            let dt = match t {
                ColumnType::String => datafusion::arrow::datatypes::DataType::Utf8,
                ColumnType::Int => datafusion::arrow::datatypes::DataType::Int64,
                ColumnType::Double => datafusion::arrow::datatypes::DataType::Float64,
                ColumnType::Bool => datafusion::arrow::datatypes::DataType::Boolean,
                ColumnType::Timestamp | ColumnType::Date => instant_type(),
            };
            Field::new(name.value.as_str(), dt, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The stored source `id` of `project`.
pub fn stored_source<'p>(project: &'p Project, id: &str) -> Result<&'p Source, PushError> {
    let s = project
        .sources
        .get(id)
        .ok_or_else(|| PushError::UnknownSource(id.to_string()))?;
    match s.origin {
        Some(Origin::Store) => Ok(s),
        _ => Err(PushError::NotStored(id.to_string())),
    }
}

/// One parsed field before typing: JSON keeps its type, CSV is text.
enum Raw<'a> {
    Json(&'a Value),
    Text(&'a str),
}

/// Parses and validates a batch for stored source `s`.
pub fn parse_batch(
    project: &Project,
    s: &Source,
    body: &[u8],
    format: BodyFormat,
) -> Result<RecordBatch, PushError> {
    let tz = project.settings.timezone;
    let schema = stored_schema(s);
    let names: Vec<&str> = s.columns.iter().map(|(n, _)| n.value.as_str()).collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let required: Vec<&str> = match &s.shape {
        Shape::Event { time } => vec![time.value.as_str()],
        Shape::Interval { start, .. } => vec![start.value.as_str()],
        Shape::Reference => vec![],
    };
    let mut cols: Vec<ColBuilder> = s.columns.iter().map(|(_, t)| ColBuilder::new(*t)).collect();
    let mut errors = Vec::new();
    let mut unknown_reported = std::collections::HashSet::new();
    let mut rows = 0usize;

    let mut push_row =
        |row: usize, fields: &mut dyn Iterator<Item = (&str, Raw<'_>)>, errors: &mut Vec<RowError>| {
            let mut values: Vec<Option<Typed>> = (0..cols.len()).map(|_| None).collect();
            for (key, raw) in fields {
                let Some(&i) = index.get(key) else {
                    if unknown_reported.insert(key.to_string()) {
                        let hint = suggestion(key, names.iter().copied())
                            .map(|h| format!(" ({h})"))
                            .unwrap_or_else(|| format!(" (declared: {})", names.join(", ")));
                        errors.push(RowError {
                            row,
                            column: Some(key.to_string()),
                            reason: format!("not a declared column of `{}`{hint}", s.id.value),
                        });
                    }
                    continue;
                };
                match typed(&raw, s.columns[i].1, tz) {
                    Ok(v) => values[i] = v,
                    Err(reason) => errors.push(RowError {
                        row,
                        column: Some(key.to_string()),
                        reason,
                    }),
                }
            }
            for r in &required {
                if let Some(&i) = index.get(r)
                    && values[i].is_none()
                    && !errors
                        .iter()
                        .any(|e| e.row == row && e.column.as_deref() == Some(*r))
                {
                    errors.push(RowError {
                        row,
                        column: Some(r.to_string()),
                        reason: "the time column is required".into(),
                    });
                }
            }
            for (c, v) in cols.iter_mut().zip(values) {
                c.push(v);
            }
        };

    match format {
        BodyFormat::Json | BodyFormat::Ndjson => {
            let docs: Vec<(usize, Result<Value, String>)> = if format == BodyFormat::Json {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Array(items)) => items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (i + 1, Ok(v)))
                        .collect(),
                    Ok(v @ Value::Object(_)) => vec![(1, Ok(v))],
                    Ok(_) => {
                        return Err(PushError::BadRows(vec![RowError {
                            row: 0,
                            column: None,
                            reason: "the body must be a JSON array of objects".into(),
                        }]));
                    }
                    Err(e) => {
                        return Err(PushError::BadRows(vec![RowError {
                            row: 0,
                            column: None,
                            reason: format!("not valid JSON: {e}"),
                        }]));
                    }
                }
            } else {
                let text = match std::str::from_utf8(body) {
                    Ok(t) => t,
                    Err(e) => {
                        return Err(PushError::BadRows(vec![RowError {
                            row: 0,
                            column: None,
                            reason: format!("not UTF-8: {e}"),
                        }]));
                    }
                };
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .enumerate()
                    .map(|(i, l)| {
                        (
                            i + 1,
                            serde_json::from_str::<Value>(l).map_err(|e| format!("not valid JSON: {e}")),
                        )
                    })
                    .collect()
            };
            for (row, doc) in docs {
                rows += 1;
                match doc {
                    Ok(Value::Object(map)) => {
                        let mut it = map.iter().map(|(k, v)| (k.as_str(), Raw::Json(v)));
                        push_row(row, &mut it, &mut errors);
                    }
                    Ok(_) => {
                        errors.push(RowError {
                            row,
                            column: None,
                            reason: "a row must be a JSON object".into(),
                        });
                    }
                    Err(reason) => {
                        errors.push(RowError {
                            row,
                            column: None,
                            reason,
                        });
                    }
                }
            }
        }
        BodyFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(body);
            let header: Vec<String> = match reader.headers() {
                Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
                Err(e) => {
                    return Err(PushError::BadRows(vec![RowError {
                        row: 0,
                        column: None,
                        reason: format!("cannot read the CSV header: {e}"),
                    }]));
                }
            };
            for (i, rec) in reader.records().enumerate() {
                let row = i + 1;
                rows += 1;
                match rec {
                    Ok(rec) => {
                        let mut it = header
                            .iter()
                            .zip(rec.iter())
                            .map(|(k, v)| (k.as_str(), Raw::Text(v)));
                        push_row(row, &mut it, &mut errors);
                    }
                    Err(e) => {
                        errors.push(RowError {
                            row,
                            column: None,
                            reason: format!("bad CSV: {e}"),
                        });
                    }
                }
            }
        }
    }
    if rows == 0 {
        errors.push(RowError {
            row: 0,
            column: None,
            reason: "the batch has no rows".into(),
        });
    }
    if !errors.is_empty() {
        // By row, then in the order the columns are declared (unknown last).
        errors.sort_by_key(|e| {
            let col = e
                .column
                .as_deref()
                .and_then(|c| index.get(c).copied())
                .unwrap_or(usize::MAX);
            (e.row, col)
        });
        return Err(PushError::BadRows(errors));
    }
    let arrays: Vec<ArrayRef> = cols.into_iter().map(ColBuilder::finish).collect();
    RecordBatch::try_new(schema, arrays).map_err(|e| {
        PushError::BadRows(vec![RowError {
            row: 0,
            column: None,
            reason: format!("internal error building the batch: {e}"),
        }])
    })
}

/// A validated value.
enum Typed {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Micros(i64),
}

fn typed(raw: &Raw<'_>, t: ColumnType, tz: chrono_tz::Tz) -> Result<Option<Typed>, String> {
    let text: Option<std::borrow::Cow<'_, str>> = match raw {
        Raw::Json(Value::Null) => return Ok(None),
        Raw::Text("") => return Ok(None),
        Raw::Json(Value::String(s)) => Some(s.as_str().into()),
        Raw::Text(s) => Some((*s).into()),
        _ => None,
    };
    let expected = |what: &str| match raw {
        Raw::Json(v) => format!("expected {what}, found {}", json_kind(v)),
        Raw::Text(s) => format!("expected {what}, found `{s}`"),
    };
    Ok(Some(match t {
        ColumnType::String => match (raw, &text) {
            (_, Some(s)) => Typed::Str(s.to_string()),
            (Raw::Json(v @ (Value::Number(_) | Value::Bool(_))), _) => Typed::Str(v.to_string()),
            _ => return Err(expected("a string")),
        },
        ColumnType::Int => match (raw, &text) {
            (Raw::Json(Value::Number(n)), _) => match n.as_i64() {
                Some(i) => Typed::Int(i),
                None => return Err(expected("a whole number")),
            },
            (_, Some(s)) => match s.trim().parse::<i64>() {
                Ok(i) => Typed::Int(i),
                Err(_) => return Err(expected("a whole number")),
            },
            _ => return Err(expected("a whole number")),
        },
        ColumnType::Double => match (raw, &text) {
            (Raw::Json(Value::Number(n)), _) => match n.as_f64() {
                Some(f) => Typed::Float(f),
                None => return Err(expected("a number")),
            },
            (_, Some(s)) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Typed::Float(f),
                _ => return Err(expected("a number")),
            },
            _ => return Err(expected("a number")),
        },
        ColumnType::Bool => match (raw, &text) {
            (Raw::Json(Value::Bool(b)), _) => Typed::Bool(*b),
            (_, Some(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" => Typed::Bool(true),
                "false" | "f" | "0" | "no" => Typed::Bool(false),
                _ => return Err(expected("true or false")),
            },
            _ => return Err(expected("true or false")),
        },
        ColumnType::Timestamp | ColumnType::Date => match &text {
            Some(s) => match parse_time(s, tz) {
                Some(t) => Typed::Micros(t.timestamp_micros()),
                None => {
                    return Err(format!(
                        "`{s}` is not a time (e.g. 2026-07-01T12:00:00Z, 2026-07-01 12:00 or 2026-07-01)"
                    ));
                }
            },
            None => return Err(expected("a time as a string")),
        },
    }))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

enum ColBuilder {
    Str(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
}

impl ColBuilder {
    fn new(t: ColumnType) -> Self {
        match t {
            ColumnType::String => ColBuilder::Str(StringBuilder::new()),
            ColumnType::Int => ColBuilder::Int(Int64Builder::new()),
            ColumnType::Double => ColBuilder::Float(Float64Builder::new()),
            ColumnType::Bool => ColBuilder::Bool(BooleanBuilder::new()),
            ColumnType::Timestamp | ColumnType::Date => ColBuilder::Time(TimestampMicrosecondBuilder::new()),
        }
    }

    fn push(&mut self, v: Option<Typed>) {
        match (self, v) {
            (ColBuilder::Str(b), Some(Typed::Str(s))) => b.append_value(s),
            (ColBuilder::Int(b), Some(Typed::Int(i))) => b.append_value(i),
            (ColBuilder::Float(b), Some(Typed::Float(f))) => b.append_value(f),
            (ColBuilder::Bool(b), Some(Typed::Bool(x))) => b.append_value(x),
            (ColBuilder::Time(b), Some(Typed::Micros(m))) => b.append_value(m),
            (ColBuilder::Str(b), _) => b.append_null(),
            (ColBuilder::Int(b), _) => b.append_null(),
            (ColBuilder::Float(b), _) => b.append_null(),
            (ColBuilder::Bool(b), _) => b.append_null(),
            (ColBuilder::Time(b), _) => b.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            ColBuilder::Str(mut b) => Arc::new(b.finish()),
            ColBuilder::Int(mut b) => Arc::new(b.finish()),
            ColBuilder::Float(mut b) => Arc::new(b.finish()),
            ColBuilder::Bool(mut b) => Arc::new(b.finish()),
            ColBuilder::Time(mut b) => Arc::new(b.finish().with_timezone("UTC")),
        }
    }
}

/// A batch as bytes for the store (Arrow IPC stream).
pub fn encode(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, &batch.schema()).map_err(|e| e.to_string())?;
    w.write(batch).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())?;
    drop(w);
    Ok(out)
}

/// Batches back from the store, cast to the source's current schema: a
/// column declared since is NULL in older batches; a column no longer
/// declared is dropped; a column whose type changed is cast (or is an error).
pub fn decode(bytes: &[u8], schema: &SchemaRef) -> Result<Vec<RecordBatch>, String> {
    let reader = StreamReader::try_new(std::io::Cursor::new(bytes), None).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for b in reader {
        let b = b.map_err(|e| e.to_string())?;
        let mut arrays = Vec::with_capacity(schema.fields().len());
        for f in schema.fields() {
            let a = match b.column_by_name(f.name()) {
                Some(a) if a.data_type() == f.data_type() => a.clone(),
                Some(a) => datafusion::arrow::compute::cast(a, f.data_type()).map_err(|e| {
                    format!("column `{}` no longer reads as {}: {e}", f.name(), f.data_type())
                })?,
                None => datafusion::arrow::array::new_null_array(f.data_type(), b.num_rows()),
            };
            arrays.push(a);
        }
        out.push(RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?);
    }
    Ok(out)
}
