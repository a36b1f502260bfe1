//! Wiring: the engine built on the AWS SDK, the one way both binaries and the tests build it.

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::aws::archive::S3Archive;
use crate::aws::findings::SecurityHubFindings;
use crate::aws::metrics::CloudWatchMetrics;
use crate::aws::organization::SdkOrganization;
use crate::aws::root_session::SdkRootAccess;
use crate::aws::scheduler::SdkScheduler;
use crate::aws::state::S3State;
use crate::config::Config;
use crate::deliver::Features;
use crate::engine::Engine;
use crate::ports::{Archive, Findings, Scheduler, StateStore};

/// The engine on the AWS SDK; metrics go to CloudWatch when there is a client for them.
pub type SdkEngine = Engine<SdkOrganization, SdkRootAccess, Option<CloudWatchMetrics>>;

/// Builds every client once from one SDK configuration; they are cloned, never rebuilt.
pub fn sdk_engine(config: Config, sdk: &SdkConfig, publish_metrics: bool) -> SdkEngine {
    let org = SdkOrganization::from_config(sdk);
    let root = SdkRootAccess::new(
        aws_sdk_sts::Client::new(sdk),
        aws_sdk_iam::Config::new(sdk),
        config.root_session_duration,
    );
    let metrics =
        publish_metrics.then(|| CloudWatchMetrics::new(aws_sdk_cloudwatch::Client::new(sdk)));
    let features = sdk_features(&config, sdk);
    let state = config.state.as_ref().map(|at| {
        let client = aws_sdk_s3::Client::new(sdk);
        Arc::new(S3State::new(client, at.clone())) as Arc<dyn StateStore>
    });
    Engine::new(config, org, root, metrics)
        .with_features(features)
        .with_state(state)
}

/// The optional features' adapters, for the features `config` turns on.
pub fn sdk_features(config: &Config, sdk: &SdkConfig) -> Features {
    Features {
        scheduler: config.follow_ups.as_ref().map(|settings| {
            let client = aws_sdk_scheduler::Client::new(sdk);
            let scheduler = SdkScheduler::new(
                client,
                settings.group.clone(),
                settings.dead_letter_arn.clone(),
            );
            Arc::new(scheduler) as Arc<dyn Scheduler>
        }),
        archive: config
            .archive
            .as_ref()
            .map(|location| archive(sdk, &location.bucket)),
        findings: config.security_hub.then(|| {
            let region = sdk.region().map(ToString::to_string).unwrap_or_default();
            let client = aws_sdk_securityhub::Client::new(sdk);
            Arc::new(SecurityHubFindings::new(client, region)) as Arc<dyn Findings>
        }),
    }
}

/// The run archive in `bucket`.
pub fn archive(sdk: &SdkConfig, bucket: &str) -> Arc<dyn Archive> {
    Arc::new(S3Archive::new(
        aws_sdk_s3::Client::new(sdk),
        bucket.to_owned(),
    ))
}
