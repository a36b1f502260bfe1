//! CloudWatch metrics for a run.

use std::future::Future;
use std::time::SystemTime;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

use super::AwsError;
use crate::report::{MetricPoint, MetricUnit};

pub trait Metrics: Send + Sync {
    fn publish(
        &self,
        namespace: &str,
        points: &[MetricPoint],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// No metrics at all: `None` publishes nothing (the operator CLI, unless asked to).
impl<M: Metrics> Metrics for Option<M> {
    async fn publish(&self, namespace: &str, points: &[MetricPoint]) -> Result<(), AwsError> {
        match self {
            Some(metrics) => metrics.publish(namespace, points).await,
            None => Ok(()),
        }
    }
}

#[derive(Clone)]
pub struct CloudWatchMetrics {
    client: aws_sdk_cloudwatch::Client,
}

impl CloudWatchMetrics {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        Self { client }
    }
}

/// PutMetricData takes at most 1,000 data points per call.
const MAX_POINTS_PER_CALL: usize = 1000;

impl Metrics for CloudWatchMetrics {
    async fn publish(&self, namespace: &str, points: &[MetricPoint]) -> Result<(), AwsError> {
        let timestamp = aws_smithy_types::DateTime::from(SystemTime::now());
        for batch in points.chunks(MAX_POINTS_PER_CALL) {
            let data = batch
                .iter()
                .map(|p| {
                    MetricDatum::builder()
                        .metric_name(p.name)
                        .value(p.value)
                        .unit(match p.unit {
                            MetricUnit::Count => StandardUnit::Count,
                            MetricUnit::Seconds => StandardUnit::Seconds,
                        })
                        .timestamp(timestamp)
                        .set_dimensions(p.dimension.map(|(name, value)| {
                            vec![Dimension::builder().name(name).value(value).build()]
                        }))
                        .build()
                })
                .collect();
            self.client
                .put_metric_data()
                .namespace(namespace)
                .set_metric_data(Some(data))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("cloudwatch:PutMetricData", err))?;
        }
        Ok(())
    }
}
