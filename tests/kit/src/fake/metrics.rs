//! CloudWatch metrics ([`Metrics`]): each run's published set, kept as published.

use rootsweep::ports::{AwsError, MetricPoint, Metrics};

use super::FakeAws;
use super::calls::Call;

impl Metrics for FakeAws {
    async fn publish(&self, _namespace: &str, points: &[MetricPoint]) -> Result<(), AwsError> {
        let points = points.to_vec();
        self.answer(Call::plain("cloudwatch:PutMetricData"), move |w| {
            w.published.push(points);
            Ok(())
        })
        .await
    }
}

/// The value of metric `name` without dimensions in one run's published set.
fn undimensioned(run: &[MetricPoint], name: &str) -> Option<f64> {
    run.iter()
        .find(|p| p.name == name && p.dimensions.is_empty())
        .map(|p| p.value)
}

impl FakeAws {
    /// The value of the metric `name` (without dimensions) in the first run's published set.
    pub fn metric(&self, name: &str) -> Option<f64> {
        undimensioned(self.world().published.first()?, name)
    }

    /// The value of metric `name` without dimensions, run by run.
    pub fn metric_by_run(&self, name: &str) -> Vec<f64> {
        self.world()
            .published
            .iter()
            .filter_map(|run| undimensioned(run, name))
            .collect()
    }
}
