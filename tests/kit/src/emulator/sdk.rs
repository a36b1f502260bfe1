//! The SDK configuration of a harness: pointed at the emulator as production points it at AWS
//! (`AWS_ENDPOINT_URL`, a region, static credentials), with rootsweep's retry policy and the test's
//! timeouts, and the HTTP client that gives up on the calls the emulator holds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use rootsweep_emulator::HeldCalls;

/// The caller's own static keys: not a root session, so the emulator treats them as the org's
/// caller (the delegated administrator of the generated org).
/// The emulator checks signatures: these are the caller credentials it knows by default.
pub const CALLER_ACCESS_KEY_ID: &str = rootsweep_emulator::DEFAULT_CALLER_ACCESS_KEY_ID;
pub const CALLER_SECRET_ACCESS_KEY: &str = rootsweep_emulator::DEFAULT_CALLER_SECRET_ACCESS_KEY;

/// The timeouts of a test SDK configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeouts {
    /// rootsweep's own timeouts and retry backoff (`rootsweep::aws`), unchanged: for runs where
    /// AWS throttles as it does and the retries must ride it out as in production.
    Production,
    /// 60 s per attempt, 120 s per call: no loopback call comes near either, however loaded the
    /// machine. The call timeout stays long because the SDK's adaptive rate limiter, once
    /// throttled, paces every call of its retry partition down to one every two seconds (its own
    /// constants, which no configuration scales): that pacing must slow a run down, not time its
    /// calls out, as with production's 45 s. And a run on a paused clock that is moved by the
    /// 51 s to a deadline must not see its calls time out on the way.
    Patient,
    /// Patient, but a call the emulator holds the answer of (a `slow` fault: AWS answering too
    /// late) fails as timed out as soon as it is held, as it would once a client's timeout ran
    /// out: only held calls time out, and each at once, however loaded the machine (see
    /// [`GiveUpOnHeldCalls`]). For runs that test timeouts.
    GiveUpOnHeldCalls,
}

impl Timeouts {
    /// rootsweep's retry policy (mode and attempts); but for production, a backoff in
    /// milliseconds instead of seconds, so that exhausting the retries stays quick.
    fn retries(self) -> RetryConfig {
        match self {
            Timeouts::Production => rootsweep::aws::retry_config(),
            Timeouts::Patient | Timeouts::GiveUpOnHeldCalls => rootsweep::aws::retry_config()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(20)),
        }
    }

    fn config(self) -> TimeoutConfig {
        let (attempt, operation) = match self {
            Timeouts::Production => return rootsweep::aws::timeout_config(),
            Timeouts::Patient | Timeouts::GiveUpOnHeldCalls => {
                (Duration::from_secs(60), Duration::from_secs(120))
            }
        };
        TimeoutConfig::builder()
            .operation_attempt_timeout(attempt)
            .operation_timeout(operation)
            .build()
    }
}

/// The HTTP client of a [`Timeouts::GiveUpOnHeldCalls`] configuration: each attempt the emulator
/// holds (known by the SDK's `amz-sdk-invocation-id` and `amz-sdk-request` headers) fails with the
/// timeout error a client's own timeout gives, the moment the emulator holds it; every other
/// attempt goes through untouched. The test's stopwatch: AWS (the emulator) decides which call
/// hangs, the wall clock decides nothing.
#[derive(Debug)]
struct GiveUpOnHeldCalls {
    inner: SharedHttpClient,
    held: HeldCalls,
}

impl HttpClient for GiveUpOnHeldCalls {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(GiveUpOnHeld {
            inner: self.inner.http_connector(settings, components),
            held: self.held.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_base_client_config(components, cfg)
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

#[derive(Debug)]
struct GiveUpOnHeld {
    inner: SharedHttpConnector,
    held: HeldCalls,
}

impl HttpConnector for GiveUpOnHeld {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let header = |name| request.headers().get(name).map(str::to_owned);
        let attempt = header("amz-sdk-invocation-id").zip(header("amz-sdk-request"));
        let answer = self.inner.call(request);
        let mut held = self.held.clone();
        HttpConnectorFuture::new(async move {
            let Some((invocation, request)) = attempt else {
                return answer.await;
            };
            tokio::select! {
                answer = answer => answer,
                () = held.until_held(&invocation, &request) => Err(ConnectorError::timeout(
                    "the emulator holds this call's answer: timed out".into(),
                )),
            }
        })
    }
}

/// A `slow` fault holds its answer this long: beyond any attempt timeout, so the client gives up
/// (with [`Timeouts::GiveUpOnHeldCalls`], as soon as it is held).
pub const SLOWER_THAN_ANY_TIMEOUT_MS: u64 = 10_000;

/// A region of its own for each harness, shaped like a region of the aws partition
/// (us-...-N), which the emulator requires.
///
/// The SDK keeps retry quotas and adaptive rate limiters per retry partition, process-wide, and
/// names the default partitions after the service and the region. Each configuration gets a
/// region of its own, so that throttling injected in one test never slows or starves the retries
/// of another test running in parallel. (Root sessions use a partition per member account: the
/// tests use different seeds, hence different account ids, where that matters.)
pub(super) fn next_region() -> String {
    static NEXT_REGION: AtomicUsize = AtomicUsize::new(0);
    format!("us-test-{}", NEXT_REGION.fetch_add(1, Ordering::Relaxed))
}

/// An SDK configuration for the emulator at `endpoint` in `region`, as production builds it
/// from the environment (`AWS_ENDPOINT_URL`, region, static credentials), with rootsweep's retry
/// policy and the test `timeouts` (see [`Timeouts`]).
pub(super) async fn sdk_config(
    endpoint: &str,
    timeouts: Timeouts,
    region: String,
    held: HeldCalls,
) -> SdkConfig {
    let http = match timeouts {
        Timeouts::GiveUpOnHeldCalls => SharedHttpClient::new(GiveUpOnHeldCalls {
            inner: rootsweep::aws::shared_http_client(),
            held,
        }),
        Timeouts::Production | Timeouts::Patient => rootsweep::aws::shared_http_client(),
    };
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(endpoint)
        .region(Region::new(region))
        .credentials_provider(Credentials::new(
            CALLER_ACCESS_KEY_ID,
            CALLER_SECRET_ACCESS_KEY,
            None,
            None,
            "test-static",
        ))
        .retry_config(timeouts.retries())
        .timeout_config(timeouts.config())
        .load()
        .await
}
