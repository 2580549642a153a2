//! How our functions travel to a cluster: the client encodes each of them
//! into the plan (a zone, period boundaries, a percentile), the scheduler
//! and the executors rebuild them. Everything else is Ballista's own codec.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use serde::{Deserialize, Serialize};
use yardstick_engine::typing::{BoolUdf, NumberUdf};
use yardstick_engine::udf::{BucketUdf, ExactDatePart, InstantUdf, exact_percentile, percentile_of};

/// One of our functions as it travels.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "yardstick")]
enum Function {
    Instant { tz: String },
    Bucket { name: String, bounds: Vec<i64> },
    DatePart,
    Number,
    Integer,
    Bool,
}

fn encode_scalar(node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<bool> {
    let any = node.inner().as_ref();
    let f = if let Some(i) = any.downcast_ref::<InstantUdf>() {
        Function::Instant {
            tz: i.tz().name().to_string(),
        }
    } else if let Some(b) = any.downcast_ref::<BucketUdf>() {
        Function::Bucket {
            name: node.name().to_string(),
            bounds: b.bounds().to_vec(),
        }
    } else if any.is::<ExactDatePart>() {
        Function::DatePart
    } else if any.is::<NumberUdf>() {
        if node.name() == "ys_integer" {
            Function::Integer
        } else {
            Function::Number
        }
    } else if any.is::<BoolUdf>() {
        Function::Bool
    } else {
        return Ok(false);
    };
    serde_json::to_writer(buf, &f).map_err(|e| DataFusionError::Internal(e.to_string()))?;
    Ok(true)
}

fn decode_scalar(buf: &[u8]) -> Option<Result<Arc<ScalarUDF>>> {
    let f: Function = serde_json::from_slice(buf).ok()?;
    Some(Ok(Arc::new(match f {
        Function::Instant { tz } => match tz.parse::<chrono_tz::Tz>() {
            Ok(tz) => ScalarUDF::from(InstantUdf::new(tz)),
            Err(e) => return Some(Err(DataFusionError::Internal(format!("zone `{tz}`: {e}")))),
        },
        Function::Bucket { name, bounds } => ScalarUDF::from(BucketUdf::new(name, bounds)),
        Function::DatePart => ScalarUDF::from(ExactDatePart::new()),
        Function::Number => ScalarUDF::from(NumberUdf::new(false)),
        Function::Integer => ScalarUDF::from(NumberUdf::new(true)),
        Function::Bool => ScalarUDF::from(BoolUdf::new()),
    })))
}

/// The percentile aggregate carries `p` in its name; nothing to encode.
fn decode_aggregate(name: &str) -> Option<Arc<AggregateUDF>> {
    percentile_of(name).map(|p| Arc::new(exact_percentile(name, p)))
}

/// The logical codec: the client encodes with it, the scheduler decodes.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner.try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_scalar(buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if encode_scalar(node, buf)? {
            return Ok(());
        }
        self.inner.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_aggregate(name).map_or_else(|| self.inner.try_decode_udaf(name, buf), Ok)
    }
}

/// The physical codec: the scheduler encodes stages with it, executors
/// decode them.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_scalar(buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if encode_scalar(node, buf)? {
            return Ok(());
        }
        self.inner.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_aggregate(name).map_or_else(|| self.inner.try_decode_udaf(name, buf), Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_of_ours_comes_back_as_it_left() {
        let functions = [
            ScalarUDF::from(InstantUdf::new(chrono_tz::Europe::Berlin)),
            ScalarUDF::from(BucketUdf::new("ys_bucket_7", vec![0, 10, 25])),
            ScalarUDF::from(ExactDatePart::new()),
            ScalarUDF::from(NumberUdf::new(false)),
            ScalarUDF::from(NumberUdf::new(true)),
            ScalarUDF::from(BoolUdf::new()),
        ];
        for f in functions {
            let mut buf = Vec::new();
            LogicalCodec::default()
                .try_encode_udf(&f, &mut buf)
                .expect("encodes");
            assert!(!buf.is_empty(), "{} is ours", f.name());
            let back = PhysicalCodec::default()
                .try_decode_udf(f.name(), &buf)
                .expect("decodes");
            assert_eq!(back.as_ref(), &f, "{}", f.name());
        }
        let name = yardstick_engine::udf::percentile_name(3, 0.9);
        let back = LogicalCodec::default()
            .try_decode_udaf(&name, &[])
            .expect("decodes");
        assert_eq!(back.name(), name);
        assert_eq!(percentile_of(&name), Some(0.9));
    }
}
