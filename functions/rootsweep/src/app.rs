//! Wiring: the engine built on the AWS SDK, the one way both binaries and the tests build it.

use aws_config::SdkConfig;

use crate::aws::metrics::CloudWatchMetrics;
use crate::aws::organization::SdkOrganization;
use crate::aws::root_session::SdkRootAccess;
use crate::config::Config;
use crate::engine::Engine;

/// The engine on the AWS SDK; metrics go to CloudWatch when there is a client for them.
pub type SdkEngine = Engine<SdkOrganization, SdkRootAccess, Option<CloudWatchMetrics>>;

/// Builds every client once from one SDK configuration; they are cloned, never rebuilt.
pub fn sdk_engine(config: Config, sdk: &SdkConfig, publish_metrics: bool) -> SdkEngine {
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
    Engine::new(config, org, root, metrics)
}
