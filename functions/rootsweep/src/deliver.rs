//! What a finished run sends out besides its report lines: follow-up schedules, the archive
//! object, Security Hub findings and CloudWatch metrics. Each is bounded by the time left and
//! none can change an account's outcome: a failure is reported, never raised.

use std::sync::Arc;

use crate::account::Caller;
use crate::archive;
use crate::budget::Budget;
use crate::config::Config;
use crate::findings::{self, Published};
use crate::followup::{FollowUp, Scheduling, Wanted};
use crate::outcome::AccountReport;
use crate::ports::{Archive, AwsErrorKind, Findings, MetricPoint, Metrics, Scheduler};
use crate::report::{Archived, RunSummary};

/// The optional features' adapters: each present when its feature is configured.
#[derive(Clone, Default)]
pub struct Features {
    pub scheduler: Option<Arc<dyn Scheduler>>,
    pub archive: Option<Arc<dyn Archive>>,
    pub findings: Option<Arc<dyn Findings>>,
}

pub struct Delivery<'a, M> {
    pub config: &'a Config,
    pub metrics: &'a M,
    pub features: &'a Features,
    pub budget: Budget,
}

impl<M: Metrics> Delivery<'_, M> {
    /// Schedules `wanted`, when follow-ups are on and the run knows the function to invoke (a
    /// Lambda invocation does; the CLI does not).
    pub async fn follow_ups(
        &self,
        wanted: Vec<Wanted>,
        function_arn: Option<&str>,
    ) -> Vec<FollowUp> {
        let (Some(settings), Some(scheduler), Some(target_arn)) = (
            &self.config.follow_ups,
            &self.features.scheduler,
            function_arn,
        ) else {
            return Vec::new();
        };
        let scheduling = Scheduling {
            scheduler: scheduler.as_ref(),
            target_arn,
            role_arn: &settings.role_arn,
        };
        let done = scheduling.apply(wanted, self.budget).await;
        for failed in done.iter().filter(|f| f.detail.is_some()) {
            tracing::warn!(account = %failed.account_id, action = %failed.action, detail = failed.detail.as_deref().unwrap_or(""), "follow-up not scheduled");
        }
        done
    }

    /// Archives the run, as configured: its account lines and `summary` as they are logged,
    /// the summary already naming the object it is in (a write that fails leaves no object to
    /// contradict). Only the metrics' result, which comes after, is not in the archived summary.
    pub async fn archive(
        &self,
        accounts: &[AccountReport],
        summary: &RunSummary,
    ) -> Option<Archived> {
        let (Some(location), Some(archive)) = (&self.config.archive, &self.features.archive) else {
            return None;
        };
        let key = archive::key(location, summary.started_at, &summary.run_id);
        let archived_summary = RunSummary {
            archive: Some(Archived {
                key: key.clone(),
                error: None,
            }),
            ..summary.clone()
        };
        let written = archive::write(
            archive.as_ref(),
            location,
            &key,
            accounts,
            &archived_summary,
        );
        let error = match self.budget.publish(written).await {
            Some(written) => written.err(),
            None => Some("the run's deadline came before the archive was written".into()),
        };
        if let Some(error) = &error {
            tracing::warn!(error = %error, "run not archived");
        }
        Some(Archived { key, error })
    }

    /// Publishes the run's findings, as configured.
    pub async fn findings(
        &self,
        caller: &Caller,
        accounts: &[AccountReport],
        summary: &RunSummary,
    ) -> Option<Published> {
        let (true, Some(port)) = (self.config.security_hub, &self.features.findings) else {
            return None;
        };
        let whole_view = summary.whole_organization && summary.complete;
        let published =
            findings::publish(port.as_ref(), caller, accounts, whole_view, self.budget).await;
        if !published.failed.is_empty() || published.error.is_some() {
            tracing::warn!(
                failed = published.failed.len(),
                error = published.error.as_deref().unwrap_or(""),
                "findings not all imported"
            );
        }
        Some(published)
    }

    /// Publishes `points` within the time left; what went wrong, for the summary.
    pub async fn metrics(&self, points: &[MetricPoint]) -> Option<String> {
        let namespace = self.config.metrics_namespace.as_str();
        let error = match self.budget.publish(self.metrics.publish(namespace, points)).await {
            Some(Ok(())) => return None,
            None => "the run's deadline came before the metrics were published: the missed-sweep alarm may fire".to_owned(),
            Some(Err(err)) => {
                let hint = match err.kind {
                    AwsErrorKind::AccessDenied => format!(
                        ". Check that the role allows cloudwatch:PutMetricData for namespace {namespace}"
                    ),
                    // A timed-out call may still have been stored: the missed-sweep alarm may not fire.
                    _ => ". The next run publishes again".into(),
                };
                format!("{err}{hint}")
            }
        };
        tracing::warn!(error = %error, "run metrics were not published");
        Some(error)
    }
}
