//! Yardstick's calendar semantics as DataFusion scalar functions.
//!
//! - `ys_instant(col, 'name')`: any time value as an instant
//!   (`Timestamp(µs, UTC)`): strings with an offset as written, strings
//!   without one and naive timestamps in the project zone, dates at the start
//!   of their local day. A non-empty string that is not a time is an error
//!   naming the column: rows are never dropped silently.
//! - `ys_bucket_*(instant)`: the index of the period containing an instant,
//!   by binary search over period boundaries computed by
//!   [`yardstick_core::Calendar`] (NULL outside the evaluated range). This is
//!   where DST-correct calendars meet the engine, at a few comparisons a row.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Builder, TimestampMicrosecondBuilder};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use yardstick_core::time::{local_to_utc, parse_time};

/// The type of instants inside the engine.
pub fn instant_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// `ys_instant(value, 'column name')`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct InstantUdf {
    tz: Tz,
    signature: Signature,
}

impl InstantUdf {
    /// The zone naive times are read in.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn new(tz: Tz) -> Self {
        InstantUdf {
            tz,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl ScalarUDFImpl for InstantUdf {
    fn name(&self) -> &str {
        "ys_instant"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(instant_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let column = match args.args.get(1) {
            Some(ColumnarValue::Scalar(ScalarValue::Utf8(Some(s)))) => s.clone(),
            _ => "time".to_string(),
        };
        let input = match &args.args[0] {
            ColumnarValue::Array(a) => Arc::clone(a),
            ColumnarValue::Scalar(s) => s.to_array_of_size(args.number_rows)?,
        };
        let out = to_instants(&input, self.tz, &column)?;
        Ok(ColumnarValue::Array(out))
    }
}

/// Zones that are UTC under another name: no offset, ever.
fn is_utc(tz: Tz) -> bool {
    matches!(
        tz,
        Tz::UTC | Tz::Etc__UTC | Tz::Etc__GMT | Tz::GMT | Tz::Etc__Universal | Tz::Universal | Tz::Zulu
    )
}

/// Converts an array of time values to instants (µs, UTC).
pub fn to_instants(input: &ArrayRef, tz: Tz, column: &str) -> Result<ArrayRef> {
    let mut b = TimestampMicrosecondBuilder::with_capacity(input.len());
    match input.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let strings = datafusion::arrow::compute::cast(input, &DataType::Utf8)?;
            let strings = strings.as_string::<i32>();
            for i in 0..strings.len() {
                if strings.is_null(i) || strings.value(i).trim().is_empty() {
                    b.append_null();
                    continue;
                }
                match parse_time(strings.value(i), tz) {
                    Some(t) => b.append_value(micros(t)),
                    None => {
                        return Err(DataFusionError::Execution(format!(
                            "`{}` in column `{column}` is not a time (run `yardstick check` to find the row)",
                            strings.value(i)
                        )));
                    }
                }
            }
        }
        DataType::Timestamp(_, Some(_)) => {
            return Ok(datafusion::arrow::compute::cast(input, &instant_type())?);
        }
        DataType::Timestamp(_, None) => {
            // Wall-clock times: read in the project zone.
            let naive =
                datafusion::arrow::compute::cast(input, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let naive = naive.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
            if is_utc(tz) {
                // Wall-clock time in UTC is the instant itself.
                return Ok(Arc::new(naive.clone().with_timezone("UTC")));
            }
            for i in 0..naive.len() {
                if naive.is_null(i) {
                    b.append_null();
                } else if let Some(n) = DateTime::from_timestamp_micros(naive.value(i)) {
                    b.append_value(micros(local_to_utc(n.naive_utc(), tz)));
                } else {
                    b.append_null();
                }
            }
        }
        DataType::Date32 | DataType::Date64 => {
            let days = datafusion::arrow::compute::cast(input, &DataType::Date32)?;
            let days = days.as_primitive::<datafusion::arrow::datatypes::Date32Type>();
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            let cal = yardstick_core::Calendar::new(tz);
            for i in 0..days.len() {
                if days.is_null(i) {
                    b.append_null();
                    continue;
                }
                let d = epoch + chrono::Duration::days(i64::from(days.value(i)));
                b.append_value(micros(cal.start_of_day(d).with_timezone(&Utc)));
            }
        }
        DataType::Null => {
            for _ in 0..input.len() {
                b.append_null();
            }
        }
        other => return exec_err!("column `{column}` holds {other} values, not times"),
    }
    Ok(Arc::new(b.finish().with_timezone("UTC")))
}

/// `ys_bucket_<name>(instant)`: index `i` with `bounds[i] <= t < bounds[i+1]`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BucketUdf {
    name: String,
    /// Period boundaries in µs since the epoch, strictly increasing.
    bounds: Arc<[i64]>,
    signature: Signature,
}

impl BucketUdf {
    /// Period boundaries, µs.
    pub fn bounds(&self) -> &[i64] {
        &self.bounds
    }

    pub fn new(name: impl Into<String>, bounds: Vec<i64>) -> Self {
        BucketUdf {
            name: name.into(),
            bounds: bounds.into(),
            signature: Signature::exact(vec![instant_type()], Volatility::Immutable),
        }
    }

    fn bucket(&self, t: i64) -> Option<i32> {
        let b = &self.bounds;
        if b.len() < 2 || t < b[0] || t >= b[b.len() - 1] {
            return None;
        }
        let i = b.partition_point(|x| *x <= t) - 1;
        i32::try_from(i).ok()
    }
}

impl ScalarUDFImpl for BucketUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = match &args.args[0] {
            ColumnarValue::Array(a) => Arc::clone(a),
            ColumnarValue::Scalar(s) => s.to_array_of_size(args.number_rows)?,
        };
        let ts = input.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
        let mut out = Int32Builder::with_capacity(ts.len());
        if ts.null_count() == 0 {
            for &t in ts.values().iter() {
                out.append_option(self.bucket(t));
            }
        } else {
            for t in ts.iter() {
                out.append_option(t.and_then(|t| self.bucket(t)));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `date_part`, exact for durations: DataFusion's `date_part('epoch', d)`
/// truncates a `Duration` (the difference of two timestamps) to whole
/// seconds, so `date_part('epoch', resolved_at - created_at) / 3600` would
/// lose up to a second per row. This wrapper computes the epoch of a
/// duration to the microsecond and delegates every other case to the
/// built-in function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ExactDatePart {
    inner: Arc<datafusion::logical_expr::ScalarUDF>,
}

impl ExactDatePart {
    pub fn new() -> Self {
        ExactDatePart {
            inner: datafusion::functions::datetime::date_part(),
        }
    }
}

impl Default for ExactDatePart {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for ExactDatePart {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let is_epoch = matches!(
            args.args.first(),
            Some(ColumnarValue::Scalar(ScalarValue::Utf8(Some(p)))) if p.eq_ignore_ascii_case("epoch")
        );
        let unit = match args.args.get(1).map(ColumnarValue::data_type) {
            Some(DataType::Duration(u)) if is_epoch => u,
            _ => return self.inner.invoke_with_args(args),
        };
        let per_second = match unit {
            TimeUnit::Second => 1.0,
            TimeUnit::Millisecond => 1e3,
            TimeUnit::Microsecond => 1e6,
            TimeUnit::Nanosecond => 1e9,
        };
        let input = match &args.args[1] {
            ColumnarValue::Array(a) => Arc::clone(a),
            ColumnarValue::Scalar(s) => s.to_array_of_size(args.number_rows)?,
        };
        let as_i64 = datafusion::arrow::compute::cast(&input, &DataType::Int64)?;
        let values = as_i64.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        let out: datafusion::arrow::array::Float64Array = values.unary(|v| v as f64 / per_second);
        Ok(ColumnarValue::Array(Arc::new(out)))
    }

    fn documentation(&self) -> Option<&datafusion::logical_expr::Documentation> {
        self.inner.documentation()
    }
}

/// Instant of a UTC timestamp in µs.
pub fn from_micros(us: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_micros(us).single()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    #[test]
    fn strings_are_read_in_the_project_zone_unless_they_carry_an_offset() {
        let input: ArrayRef = Arc::new(StringArray::from(vec![
            Some("2026-06-01T00:30:00"),
            Some("2026-06-01T00:30:00Z"),
            None,
            Some(""),
        ]));
        let out = to_instants(&input, chrono_tz::Europe::Berlin, "t").unwrap();
        let out = out.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros();
        assert_eq!(out.value(0), utc("2026-05-31T22:30:00Z"));
        assert_eq!(out.value(1), utc("2026-06-01T00:30:00Z"));
        assert!(out.is_null(2) && out.is_null(3));
    }

    #[test]
    fn naive_times_in_utc_take_the_shortcut_to_the_same_instants() {
        use datafusion::arrow::array::TimestampMicrosecondArray;
        use datafusion::arrow::datatypes::TimestampMicrosecondType as Us;
        let values = vec![Some(0), None, Some(1_774_659_600_123_456), Some(-86_400_000_001)];
        let input: ArrayRef = Arc::new(TimestampMicrosecondArray::from(values.clone()));
        let out = to_instants(&input, Tz::UTC, "t").unwrap();
        assert_eq!(out.data_type(), &instant_type());
        // The general path, one value at a time.
        let expected: Vec<Option<i64>> = values
            .iter()
            .map(|v| {
                v.map(|us| {
                    let n = DateTime::from_timestamp_micros(us).unwrap().naive_utc();
                    local_to_utc(n, Tz::UTC).timestamp_micros()
                })
            })
            .collect();
        assert_eq!(out.as_primitive::<Us>().iter().collect::<Vec<_>>(), expected);
        // Another zone does not take it.
        let berlin = to_instants(&input, chrono_tz::Europe::Berlin, "t").unwrap();
        assert_eq!(berlin.as_primitive::<Us>().value(0), -3_600_000_000);
    }

    #[test]
    fn a_value_that_is_not_a_time_is_an_error_naming_the_column() {
        let input: ArrayRef = Arc::new(StringArray::from(vec!["2026-06-01", "soon"]));
        let err = to_instants(&input, Tz::UTC, "closed_at").unwrap_err().to_string();
        assert!(err.contains("`soon` in column `closed_at`"), "{err}");
    }

    #[tokio::test]
    async fn epoch_of_a_duration_keeps_its_microseconds() {
        let ctx = datafusion::prelude::SessionContext::new();
        ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(ExactDatePart::new()));
        let sql = "SELECT date_part('epoch', TIMESTAMP '2024-01-01 01:00:01.250001' - TIMESTAMP '2024-01-01 00:00:00') AS e, \
                   date_part('hour', TIMESTAMP '2024-01-01 05:06:07') AS h";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let e = batches[0]
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
            .value(0);
        assert_eq!(e, 3601.250001);
        let h = batches[0]
            .column(1)
            .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
            .value(0);
        assert_eq!(h, 5);
    }

    #[test]
    fn buckets_are_half_open_and_null_outside() {
        let b = BucketUdf::new("ys_bucket_t", vec![10, 20, 30]);
        assert_eq!(
            [9, 10, 19, 20, 29, 30].map(|t| b.bucket(t)),
            [None, Some(0), Some(0), Some(1), Some(1), None]
        );
    }
}

/// The name of the `i`th percentile aggregate of an evaluation, `p` in
/// it (`ys_percentile_3_3feccccccccccccd`): a cluster's executors rebuild
/// the function from its name (see `yardstick-cluster`).
pub fn percentile_name(i: usize, p: f64) -> String {
    format!("ys_percentile_{i}_{:016x}", p.to_bits())
}

/// `p` of a percentile aggregate named by [`percentile_name`].
pub fn percentile_of(name: &str) -> Option<f64> {
    let rest = name.strip_prefix("ys_percentile_")?;
    let (_, bits) = rest.rsplit_once('_')?;
    u64::from_str_radix(bits, 16).ok().map(f64::from_bits)
}

/// An aggregate `ys_percentile_<i>(value)`: the exact continuous percentile
/// `p` of the non-NULL values ([`yardstick_core::stats::percentile_cont`]).
/// DataFusion's own `percentile_cont` quantises the interpolation weight,
/// which moves results in the seventh significant digit.
pub fn exact_percentile(name: &str, p: f64) -> datafusion::logical_expr::AggregateUDF {
    use datafusion::arrow::datatypes::Field;
    let list = DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)));
    datafusion::logical_expr::create_udaf(
        name,
        vec![DataType::Float64],
        Arc::new(DataType::Float64),
        Volatility::Immutable,
        Arc::new(move |_| {
            Ok(Box::new(PercentileAccumulator {
                p,
                values: Vec::new(),
            }))
        }),
        Arc::new(vec![list]),
    )
}

#[derive(Debug)]
struct PercentileAccumulator {
    p: f64,
    values: Vec<f64>,
}

impl datafusion::logical_expr::Accumulator for PercentileAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let v = datafusion::arrow::compute::cast(&values[0], &DataType::Float64)?;
        self.values.extend(
            v.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .iter()
                .flatten(),
        );
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        for i in 0..lists.len() {
            if lists.is_valid(i) {
                let inner = lists.value(i);
                self.values.extend(
                    inner
                        .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                        .iter()
                        .flatten(),
                );
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = datafusion::arrow::array::ListArray::from_iter_primitive::<
            datafusion::arrow::datatypes::Float64Type,
            _,
            _,
        >(std::iter::once(Some(self.values.iter().map(|v| Some(*v)))));
        Ok(vec![ScalarValue::List(Arc::new(list))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(yardstick_core::stats::percentile_cont(
            &mut self.values,
            self.p,
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.capacity() * std::mem::size_of::<f64>()
    }
}
