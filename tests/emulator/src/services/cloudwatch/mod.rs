//! CloudWatch `PutMetricData`, over rpc-v2-cbor (the Rust SDK's, rootsweep's) or JSON 1.0
//! (botocore's); every datum is stored for tests.
//!
//! # Behaviour
//!
//! **PutMetricData** stores every datum (namespace, name, dimensions, timestamp, value, values,
//! counts, statistic set, unit, storage resolution); a request with a bad datum stores nothing.
//! Limits (CloudWatch API reference): at most 1,000 metric data per call, 30 dimensions and 150
//! `Values` per datum (`InvalidParameterValue` "The collection MetricData.member.1.Dimensions must
//! not have a size greater than 30."); numbers (`Value`, `Values`, `Counts`, statistic set) must be
//! 0 or within 2^-360..2^360 in magnitude, never NaN or infinite (`InvalidParameterValue` "The
//! value NaN for parameter MetricData.member.1.Value is invalid."); `Counts` as many as `Values`
//! (`InvalidParameterCombination`). Parameters are named the query way in every protocol. Errors:
//! JSON 1.0 and CBOR carry the modeled shape in `__type`
//! (`com.amazonaws.cloudwatch#InvalidParameterValueException`) and the query code in
//! `x-amzn-query-error: InvalidParameterValue;Sender` (Smithy's `awsQueryCompatible`), which is
//! where the SDKs read the code from.
//!
//! # Not emulated
//!
//! Other CloudWatch operations, any metric aggregation, and the query protocol
//! (`Action=PutMetricData` forms), which no client here sends: rootsweep's SDK speaks CBOR
//! (`functions/rootsweep/src/aws/metrics.rs`), boto3 JSON 1.0 (`test_put_metric_data_over_json`).

mod errors;
mod handlers;
mod state;

use super::Service;
use crate::error::ApiError;
use crate::protocol::{Input, Reply};
use crate::session::Caller;
use crate::world::World;

pub use state::{Dimension, MetricDatum, StatisticSet};

/// Routes the one operation served to its handler; root sessions may not call CloudWatch.
pub fn call(
    world: &mut World,
    caller: &Caller,
    operation: &str,
    input: &Input,
) -> Result<Reply, ApiError> {
    if let Caller::Root(_) = caller {
        return Err(Service::CloudWatch.access_denied(format!(
            "User: {} is not authorized to perform: cloudwatch:{operation}",
            caller.arn()
        )));
    }
    match operation {
        "PutMetricData" => handlers::put_metric_data(world, input),
        _ => Err(Service::CloudWatch.unknown_operation(operation)),
    }
}
