//! The only code that knows the AWS SDK: the engine's ports implemented with it, and the SDK
//! configuration (retry, timeouts) every client is built from.

pub mod archive;
pub mod deployment;
pub mod findings;
mod gate;
pub mod metrics;
pub mod organization;
pub mod root_session;
pub mod scheduler;
pub mod state;

use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{ConnectorBuilder, tls};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
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
    let inner =
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
        });
    run_http_client(inner)
}

fn run_http_client(inner: SharedHttpClient) -> SharedHttpClient {
    SharedHttpClient::new(RunHttpClient {
        inner,
        warmed: AtomicBool::new(false),
    })
}

/// The shared client as SDK clients see it: warmed up once, and each connector [`IdleFirst`].
/// Each time an SDK client is built on it, the SDK asks it to warm up, and the hyper client
/// does so by building a throwaway TLS connector (every root certificate parsed again): once
/// per root session, two per remediated account, that was a tenth of a sweep's CPU.
/// Connectors are still built and cached by the inner client.
#[derive(Debug)]
struct RunHttpClient {
    inner: SharedHttpClient,
    warmed: AtomicBool,
}

impl HttpClient for RunHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(IdleFirst(self.inner.http_connector(settings, components)))
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        if !self.warmed.load(Ordering::Relaxed) {
            self.inner.validate_base_client_config(components, cfg)?;
            self.warmed.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// Sends each request after the tasks already woken have run. A call that follows another
/// (the next read of a root session) would otherwise reach the pool before hyper has handed
/// the previous call's connection back, which takes it two task hops (the connection's task,
/// then the task that returns it to the pool): hyper then opens a new connection, and keeps
/// it even when the handed-back one wins the race (`hyper_util::client::legacy`,
/// `Client::connection_for`). Two turns at the back of the run queue open the fewest
/// connections at no cost in wall time; one `tokio::task::yield_now` (which also waits for the
/// next I/O poll) opens more, none opens the most (`make bench`; the figures are in
/// tests/bench/README.md, "Where the CPU went").
#[derive(Debug)]
struct IdleFirst(SharedHttpConnector);

impl HttpConnector for IdleFirst {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.0.clone();
        HttpConnectorFuture::new(async move {
            to_the_back_of_the_queue().await;
            to_the_back_of_the_queue().await;
            inner.call(request).await
        })
    }
}

/// Wakes the task and returns `Pending` once: the runtime runs the tasks queued before it
/// first, without waiting for I/O.
async fn to_the_back_of_the_queue() {
    let mut queued = false;
    std::future::poll_fn(|cx| {
        if queued {
            Poll::Ready(())
        } else {
            queued = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
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
        _ if no_credentials(&err) => AwsErrorKind::NoCredentials,
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

/// Whether the call failed for want of credentials: the credential provider (the default chain,
/// a profile, SSO) could not give any, so nothing was sent.
fn no_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |e| e.source()).any(|e| e.is::<CredentialsError>())
}

fn to_chrono(date: &aws_smithy_types::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(date.secs(), date.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use aws_sdk_iam::config::{BehaviorVersion, Region};

    use super::*;

    /// An HTTP client that only counts its warm-ups (no request is sent).
    #[derive(Debug)]
    struct CountsWarmUps(Arc<AtomicUsize>);

    impl HttpClient for CountsWarmUps {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            unreachable!("no request is sent")
        }

        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }

    /// Stands for hyper's pool: tells whether the connection was handed back before the call.
    #[derive(Debug)]
    struct Pool {
        handed_back: Arc<AtomicBool>,
        seen_by_the_call: Arc<AtomicBool>,
    }

    impl HttpConnector for Pool {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            let handed_back = self.handed_back.load(Ordering::SeqCst);
            self.seen_by_the_call.store(handed_back, Ordering::SeqCst);
            HttpConnectorFuture::ready(Err(
                aws_smithy_runtime_api::client::result::ConnectorError::other(
                    "no request is sent".into(),
                    None,
                ),
            ))
        }
    }

    #[tokio::test]
    async fn a_request_waits_for_a_connection_handed_back_in_two_task_hops() {
        let handed_back = Arc::new(AtomicBool::new(false));
        let seen_by_the_call = Arc::new(AtomicBool::new(false));
        let connector = IdleFirst(SharedHttpConnector::new(Pool {
            handed_back: handed_back.clone(),
            seen_by_the_call: seen_by_the_call.clone(),
        }));
        // A session's task (a task, as every account's is: the runtime polls the test's own
        // future apart) has read a response to its end, which woke the connection's task; that
        // one will wake the task that returns the connection to the pool.
        tokio::spawn(async move {
            tokio::spawn(async move {
                tokio::spawn(async move { handed_back.store(true, Ordering::SeqCst) });
            });
            let _ = connector.call(HttpRequest::empty()).await;
        })
        .await
        .expect("the session's task");

        assert!(seen_by_the_call.load(Ordering::SeqCst));
    }

    type GetUserError = SdkError<aws_sdk_iam::operation::get_user::GetUserError, HttpResponse>;

    #[test]
    fn a_call_or_a_connection_that_times_out_is_a_timeout_and_no_credentials_say_so() {
        use aws_smithy_runtime_api::client::result::ConnectorError;
        let kind = |err: GetUserError| aws_error("iam:GetUser", err).kind;
        // The SDK's own attempt or operation timeout (what a hung call meets in production),
        // and a connection that timed out (what the test kit gives a call the emulator holds).
        let timed_out = SdkError::timeout_error("operation timeout occurred after 45s");
        assert_eq!(kind(timed_out), AwsErrorKind::Timeout);
        let connection = SdkError::dispatch_failure(ConnectorError::timeout("held".into()));
        assert_eq!(kind(connection), AwsErrorKind::Timeout);
        // The credential chain found nothing: no call was sent.
        let none = CredentialsError::not_loaded("no credentials found in chain");
        let nothing = SdkError::dispatch_failure(ConnectorError::other(none.into(), None));
        assert_eq!(kind(nothing), AwsErrorKind::NoCredentials);
    }

    #[test]
    fn a_client_built_per_root_session_does_not_warm_the_shared_http_client_up_again() {
        let warm_ups = Arc::new(AtomicUsize::new(0));
        let http = run_http_client(SharedHttpClient::new(CountsWarmUps(warm_ups.clone())));
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .http_client(http)
            .build();
        for _ in 0..3 {
            let _session = aws_sdk_iam::Client::from_conf(config.to_builder().build());
        }
        assert_eq!(warm_ups.load(Ordering::Relaxed), 1);
    }
}
