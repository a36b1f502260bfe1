//! The only code that knows the AWS SDK: narrow adapters behind traits, so that the sweep can
//! run against the SDK, `aws-smithy-mocks` or the emulator alike.

pub mod metrics;
pub mod organization;
pub mod root_session;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::Serialize;

use crate::config::Config;
use crate::sweep::Sweeper;
use metrics::CloudWatchMetrics;
use organization::SdkOrganization;
use root_session::SdkRootAccess;

/// Attempts per call, the first included. Adaptive mode also slows the client down when AWS
/// throttles, so a large organization degrades to a slower sweep rather than a failed one.
const MAX_ATTEMPTS: u32 = 6;
/// Bounds on one attempt and on one call with all its retries: a stuck connection must not eat
/// the Lambda's whole budget.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Waiting for the adaptive rate limiter counts against this: when AWS throttles one caller-wide
/// limit (AssumeRoot, Organizations), every account's call is paced, so it stays well above
/// what the concurrency bound times a paced call can take.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(45);

/// Loads the standard AWS configuration (credential chain, region, `AWS_ENDPOINT_URL`, profile)
/// with rootsweep's retry and timeout policy. `profile` and `region` override the environment.
pub async fn load_sdk_config(profile: Option<&str>, region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}

/// The sweeper wired to the AWS SDK; metrics go to CloudWatch when there is a client for them.
pub type SdkSweeper = Sweeper<SdkOrganization, SdkRootAccess, Option<CloudWatchMetrics>>;

impl SdkSweeper {
    /// Builds every client once from one SDK configuration; they are cloned, never rebuilt.
    pub fn from_sdk_config(config: Config, sdk: &SdkConfig, publish_metrics: bool) -> Self {
        let sts = aws_sdk_sts::Client::new(sdk);
        let org = SdkOrganization::new(
            sts.clone(),
            aws_sdk_iam::Client::new(sdk),
            aws_sdk_organizations::Client::new(sdk),
        );
        let root = SdkRootAccess::new(
            sts,
            aws_sdk_iam::Config::new(sdk),
            config.root_session_duration,
        );
        let metrics =
            publish_metrics.then(|| CloudWatchMetrics::new(aws_sdk_cloudwatch::Client::new(sdk)));
        Sweeper::new(config, org, root, metrics)
    }
}

/// What kind of failure an AWS call had, as far as the operator is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwsErrorKind {
    AccessDenied,
    Throttled,
    Timeout,
    NotFound,
    ServiceUnavailable,
    Other,
}

/// A failed AWS call: which one, how it failed, and AWS's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed ({kind_text}): {message}", kind_text = self.kind_text())]
pub struct AwsError {
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    fn kind_text(&self) -> String {
        match self.kind {
            AwsErrorKind::Throttled => "throttled even after the SDK's retries".into(),
            AwsErrorKind::Timeout => "timed out".into(),
            AwsErrorKind::ServiceUnavailable => "AWS service error after retries".into(),
            _ => self.code.clone().unwrap_or_else(|| "error".into()),
        }
    }

    /// Classifies an SDK error. The message is AWS's, never a request or credential dump.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_owned);
        let status = err.raw_response().map(|r| r.status().as_u16());
        let kind = match (&err, code.as_deref(), status) {
            (SdkError::TimeoutError(_), _, _) => AwsErrorKind::Timeout,
            (SdkError::DispatchFailure(f), _, _) if f.is_timeout() => AwsErrorKind::Timeout,
            (_, Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"), _) => {
                AwsErrorKind::AccessDenied
            }
            (
                _,
                Some(
                    "Throttling"
                    | "ThrottlingException"
                    | "TooManyRequestsException"
                    | "RequestLimitExceeded",
                ),
                _,
            ) => AwsErrorKind::Throttled,
            (_, Some("NoSuchEntity"), _) => AwsErrorKind::NotFound,
            (_, _, Some(500..=599)) => AwsErrorKind::ServiceUnavailable,
            _ => AwsErrorKind::Other,
        };
        let message = match err.message() {
            Some(message) => message.to_owned(),
            None => DisplayErrorContext(&err).to_string(),
        };
        Self {
            operation,
            kind,
            code,
            message,
        }
    }
}
