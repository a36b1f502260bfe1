//! The only code that knows the AWS SDK: the engine's ports implemented with it, and the SDK
//! configuration (retry, timeouts) every client is built from.

pub mod archive;
pub mod findings;
pub mod metrics;
pub mod organization;
pub mod root_session;
pub mod scheduler;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{ConnectorBuilder, tls};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::config::CallPolicy;
use crate::ports::{AwsError, AwsErrorKind};

/// rootsweep's retry and timeout policy, for every client.
pub fn retry_config() -> RetryConfig {
    RetryConfig::adaptive().with_max_attempts(CallPolicy::MAX_ATTEMPTS)
}

pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_attempt_timeout(CallPolicy::ATTEMPT_TIMEOUT)
        .operation_timeout(CallPolicy::OPERATION_TIMEOUT)
        .build()
}

/// The HTTPS client every SDK client of a run shares, so that they share one connection pool.
/// Left to themselves, clients built from one `SdkConfig` each get a default client of their
/// own: a root session's IAM client would open new connections (TLS handshakes) for each
/// account. Built as the SDK builds its default (rustls with aws-lc, proxy from the
/// environment).
pub fn shared_http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// Loads the standard AWS configuration (credential chain, region, `AWS_ENDPOINT_URL`, profile)
/// with rootsweep's retry and timeout policy and the shared HTTP client. `profile` and `region`
/// override the environment.
pub async fn load_sdk_config(profile: Option<&str>, region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(shared_http_client())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}

/// Classifies an SDK error. The message is AWS's, never a request or credential dump.
pub fn aws_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
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
    AwsError {
        operation,
        kind,
        code,
        message,
    }
}

fn to_chrono(date: &aws_smithy_types::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(date.secs(), date.subsec_nanos())
}
