//! How the columns of text files (CSV, JSON) get their types.
//!
//! The rule `check` and `eval` share: a column is read as the type it is
//! used as, and every row is checked against that type.
//!
//! - A column declared in `columns` is read as text and converted to the
//!   declared type by our own functions (the reader never guesses first).
//! - Time columns (`time`, `start`, `end`, and any column whose values the
//!   reader takes for times) become instants through `ys_instant`.
//! - A text column that an SQL fragment reads (a measure, filter, share
//!   condition, percentile or view) and whose values are mostly times or
//!   mostly numbers is a time or number column with some bad values: it is
//!   converted, and the values that are not of its type are errors that
//!   `check` reports at file, row and column. Without this, `n/a` in a
//!   timestamp column turns the column into text and a fragment comparing
//!   it fails at evaluation, or `TBD` in an amount makes `amount > 100` a
//!   string comparison.
//! - Undeclared columns are typed by the reader from the whole file, never
//!   from a sample that a later row contradicts.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Builder, Int64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use yardstick_core::diag::Located;
use yardstick_core::model::{ColumnType, Measure, Origin, Project, Source};
use yardstick_core::time::parse_time;

/// What a text column is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Instants through `ys_instant`.
    Time,
    /// `Float64` through `ys_number`.
    Number,
    /// `Int64` through `ys_integer`.
    Integer,
    /// `Boolean`: true/false, t/f, yes/no, y/n, on/off, 1/0 (any case).
    Bool,
    /// Kept as text (a declared `string` column).
    Text,
}

impl Conversion {
    /// The conversion of a declared column type.
    pub fn declared(t: ColumnType) -> Conversion {
        match t {
            ColumnType::Timestamp | ColumnType::Date => Conversion::Time,
            ColumnType::Double => Conversion::Number,
            ColumnType::Int => Conversion::Integer,
            ColumnType::Bool => Conversion::Bool,
            ColumnType::String => Conversion::Text,
        }
    }

    /// What a value of this conversion is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Conversion::Time => "a time",
            Conversion::Number => "a number",
            Conversion::Integer => "a whole number",
            Conversion::Bool => "true or false",
            Conversion::Text => "text",
        }
    }

    /// Whether a present (non-blank) value converts.
    pub fn accepts(self, value: &str, tz: chrono_tz::Tz) -> bool {
        let v = value.trim();
        match self {
            Conversion::Time => parse_time(v, tz).is_some(),
            Conversion::Number => parse_number(v).is_some(),
            Conversion::Integer => v.parse::<i64>().is_ok(),
            Conversion::Bool => parse_bool(v).is_some(),
            Conversion::Text => true,
        }
    }
}

/// A finite decimal number (`1`, `-2.5`, `1e3`); `NaN` and infinities are not.
pub fn parse_number(v: &str) -> Option<f64> {
    v.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// Whether a value counts as missing: absent, or only white space.
pub fn is_blank(v: Option<&str>) -> bool {
    v.is_none_or(|s| s.trim().is_empty())
}

/// The type the values of a text column mostly have: `Time` or `Number`
/// when more than half of the present values are of it, else `None`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sniff {
    present: u64,
    times: u64,
    numbers: u64,
}

impl Sniff {
    pub fn add(&mut self, value: Option<&str>, tz: chrono_tz::Tz) {
        let Some(v) = value.filter(|v| !v.trim().is_empty()) else {
            return;
        };
        self.present += 1;
        if parse_number(v).is_some() {
            self.numbers += 1;
        } else if parse_time(v, tz).is_some() {
            self.times += 1;
        }
    }

    pub fn verdict(&self) -> Option<Conversion> {
        if self.times * 2 > self.present {
            Some(Conversion::Time)
        } else if self.numbers * 2 > self.present {
            Some(Conversion::Number)
        } else {
            None
        }
    }
}

/// Columns of `source` that SQL fragments read, each with the place of its
/// first use: measures, filters, share conditions and percentiles of the
/// definitions reading `source`, and the columns named in views over it.
pub fn used_columns(project: &Project, source: &Source) -> HashMap<String, Located<String>> {
    let mut used: HashMap<String, Located<String>> = HashMap::new();
    for m in project.measures() {
        let Some(measure) = &m.measure else { continue };
        if measure.value.source().is_none_or(|s| s.value != source.id.value) {
            continue;
        }
        for f in measure.value.fragments() {
            for c in &f.columns {
                used.entry(c.value.clone()).or_insert_with(|| c.clone());
            }
        }
    }
    for v in project.sources.values() {
        let Some(Origin::View { sql, reads }) = &v.origin else {
            continue;
        };
        if !reads.iter().any(|r| r.value == source.id.value) {
            continue;
        }
        for word in sql
            .value
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
        {
            used.entry(word.to_string()).or_insert_with(|| Located {
                value: word.to_string(),
                loc: sql.loc.clone(),
            });
        }
    }
    used
}

/// Columns of `source` that an aggregate measure or a percentile reads
/// (`sum(amount)`, `of = "latency"`): with no value at all (a file with a
/// header only), these are numbers, so `sum` of nothing is no value, not
/// a type error.
pub fn aggregated_columns(project: &Project, source: &Source) -> Vec<String> {
    let mut out = Vec::new();
    for m in project.measures() {
        let Some(measure) = &m.measure else { continue };
        let fragment = match &measure.value {
            Measure::Aggregate {
                source: s, measure, ..
            } if s.value == source.id.value => measure,
            Measure::Percentile { source: s, of, .. } if s.value == source.id.value => of,
            _ => continue,
        };
        out.extend(fragment.columns.iter().map(|c| c.value.clone()));
    }
    out
}

/// `ys_number(text, 'column')` (`Float64`) and `ys_integer(text, 'column')`
/// (`Int64`): blank is no value, anything else that is not a number is an
/// error naming the value and the column (rows are never dropped).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NumberUdf {
    integer: bool,
    signature: Signature,
}

impl NumberUdf {
    pub fn new(integer: bool) -> Self {
        NumberUdf {
            integer,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for NumberUdf {
    fn name(&self) -> &str {
        if self.integer { "ys_integer" } else { "ys_number" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(if self.integer {
            DataType::Int64
        } else {
            DataType::Float64
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (input, column) = text_and_column(&args)?;
        let out = to_numbers(&input, self.integer, &column)?;
        Ok(ColumnarValue::Array(out))
    }
}

/// A conversion UDF's arguments: the values as an array, and the column's
/// name for messages (`"value"` when not given).
fn text_and_column(args: &ScalarFunctionArgs) -> Result<(ArrayRef, String)> {
    let column = match args.args.get(1) {
        Some(ColumnarValue::Scalar(ScalarValue::Utf8(Some(s)))) => s.clone(),
        _ => "value".to_string(),
    };
    let input = match args.args.first() {
        Some(ColumnarValue::Array(a)) => Arc::clone(a),
        Some(ColumnarValue::Scalar(s)) => s.to_array_of_size(args.number_rows)?,
        None => return Err(DataFusionError::Internal("a conversion needs its value".into())),
    };
    Ok((input, column))
}

fn not_a(what: &str, value: &str, column: &str) -> DataFusionError {
    DataFusionError::Execution(format!(
        "`{value}` in column `{column}` is not {what} (run `yardstick check` to find the row)"
    ))
}

/// Converts text (or numbers already typed) to numbers.
pub fn to_numbers(input: &ArrayRef, integer: bool, column: &str) -> Result<ArrayRef> {
    let target = if integer {
        DataType::Int64
    } else {
        DataType::Float64
    };
    if !matches!(
        input.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        return Ok(datafusion::arrow::compute::cast(input, &target)?);
    }
    let strings = datafusion::arrow::compute::cast(input, &DataType::Utf8)?;
    let strings = strings.as_string::<i32>();
    if integer {
        let mut b = Int64Builder::with_capacity(strings.len());
        for v in strings.iter() {
            match v {
                v if is_blank(v) => b.append_null(),
                Some(v) => b.append_value(
                    v.trim()
                        .parse::<i64>()
                        .map_err(|_| not_a("a whole number", v, column))?,
                ),
                None => b.append_null(),
            }
        }
        Ok(Arc::new(b.finish()))
    } else {
        let mut b = Float64Builder::with_capacity(strings.len());
        for v in strings.iter() {
            match v {
                v if is_blank(v) => b.append_null(),
                Some(v) => b.append_value(parse_number(v).ok_or_else(|| not_a("a number", v, column))?),
                None => b.append_null(),
            }
        }
        Ok(Arc::new(b.finish()))
    }
}

/// `ys_bool(text, 'column')`: the words of [`Conversion::Bool`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BoolUdf {
    signature: Signature,
}

impl BoolUdf {
    pub fn new() -> Self {
        BoolUdf {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for BoolUdf {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for BoolUdf {
    fn name(&self) -> &str {
        "ys_bool"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (input, column) = text_and_column(&args)?;
        if !matches!(
            input.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return Ok(ColumnarValue::Array(datafusion::arrow::compute::cast(
                &input,
                &DataType::Boolean,
            )?));
        }
        let strings = datafusion::arrow::compute::cast(&input, &DataType::Utf8)?;
        let strings = strings.as_string::<i32>();
        let mut b = datafusion::arrow::array::BooleanBuilder::with_capacity(strings.len());
        for v in strings.iter() {
            match v {
                v if is_blank(v) => b.append_null(),
                Some(v) => b.append_value(parse_bool(v).ok_or_else(|| not_a("true or false", v, &column))?),
                None => b.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(b.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_what_most_of_its_values_are() {
        let tz = chrono_tz::UTC;
        let mut s = Sniff::default();
        for v in [
            "2026-01-01T10:00:00Z",
            "n/a",
            "2026-01-02",
            "",
            "TBD",
            "2026-01-03 10:00",
        ] {
            s.add(Some(v), tz);
        }
        assert_eq!(s.verdict(), Some(Conversion::Time));
        let mut s = Sniff::default();
        for v in ["1", "2.5", "TBD", "-3e2"] {
            s.add(Some(v), tz);
        }
        assert_eq!(s.verdict(), Some(Conversion::Number));
        let mut s = Sniff::default();
        for v in ["EU", "US", "1"] {
            s.add(Some(v), tz);
        }
        assert_eq!(s.verdict(), None);
        assert_eq!(Sniff::default().verdict(), None);
    }

    #[test]
    fn conversions_accept_their_values_only() {
        let tz = chrono_tz::UTC;
        assert!(Conversion::Number.accepts(" 513.5 ", tz));
        assert!(!Conversion::Number.accepts("NaN", tz));
        assert!(!Conversion::Integer.accepts("513.5", tz));
        assert!(Conversion::Bool.accepts("Yes", tz));
        assert!(!Conversion::Bool.accepts("maybe", tz));
        assert!(!Conversion::Time.accepts("n/a", tz));
    }
}
