//! CloudWatch metrics for a run.

use std::time::SystemTime;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

use super::aws_error;
use crate::ports::{AwsError, MetricPoint, MetricUnit, Metrics};

#[derive(Clone)]
pub struct CloudWatchMetrics {
    client: aws_sdk_cloudwatch::Client,
}

impl CloudWatchMetrics {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        Self { client }
    }
}

/// PutMetricData takes at most 1,000 metric data items per call (CloudWatch API reference).
const MAX_POINTS_PER_CALL: usize = 1000;

fn datum(point: &MetricPoint, timestamp: aws_smithy_types::DateTime) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(&point.name)
        .value(point.value)
        .unit(match point.unit {
            MetricUnit::Count => StandardUnit::Count,
            MetricUnit::Seconds => StandardUnit::Seconds,
        })
        .timestamp(timestamp)
        .set_dimensions(Some(
            point
                .dimensions
                .iter()
                .map(|(name, value)| Dimension::builder().name(*name).value(value).build())
                .collect(),
        ))
        .build()
}

impl Metrics for CloudWatchMetrics {
    async fn publish(&self, namespace: &str, points: &[MetricPoint]) -> Result<(), AwsError> {
        let timestamp = aws_smithy_types::DateTime::from(SystemTime::now());
        for batch in points.chunks(MAX_POINTS_PER_CALL) {
            self.client
                .put_metric_data()
                .namespace(namespace)
                .set_metric_data(Some(batch.iter().map(|p| datum(p, timestamp)).collect()))
                .send()
                .await
                .map_err(|err| aws_error("cloudwatch:PutMetricData", err))?;
        }
        Ok(())
    }
}
