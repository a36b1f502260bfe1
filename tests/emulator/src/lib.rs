//! An AWS emulator for testing rootsweep without an AWS account: STS `AssumeRoot`, the IAM calls
//! on a member account's root user, Organizations' account listing, CloudWatch `PutMetricData`,
//! EventBridge Scheduler's one-time schedules, Security Hub findings, S3 objects and Lambda
//! functions' configuration, spoken in
//! the real wire protocols so the unmodified AWS SDK for Rust and boto3 work against it through
//! `AWS_ENDPOINT_URL`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use rootsweep_emulator::{Emulator, Fault, FaultKind, Org};
//! let emulator = Emulator::start(Org::generate(30, 1)).await?;
//! emulator.set_faults(vec![Fault::new("ListAccounts", FaultKind::Throttle).times(1)]);
//! // point the SDK at emulator.url() ...
//! assert!(emulator.calls().is_empty());
//! emulator.shutdown().await
//! # }
//! ```

mod admin;
mod error;
mod faults;
mod model;
mod paging;
mod policy;
mod propagation;
mod protocol;
mod server;
mod services;
mod session;
mod sigv4;
mod throttle;
mod world;

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::serve::ListenerExt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultKind};
pub use model::{EXEMPT_TAG, OrgError};
pub use policy::{PolicyError, STACK_UUID, TemplatePolicy};
pub use protocol::Protocol;
pub use services::{
    AccessKey, AccessKeyLastUsed, Account, AccountState, CredentialStatus, Dimension,
    FiredSchedule, JoinedMethod, LoginProfile, MetricDatum, MfaDevice, MfaKind, Org,
    OrganizationalUnit, PreflightFailure, RootUser, S3Object, Schedule, SigningCertificate,
    StatisticSet,
};
pub use session::{
    CallerCredentials, DEFAULT_CALLER_ACCESS_KEY_ID, DEFAULT_CALLER_SECRET_ACCESS_KEY, RootSession,
    TaskPolicy, client_environment,
};
pub use throttle::{OrganizationsLimits, ThrottleLimit, Throttling, ThrottlingStats, TokenBucket};
pub use world::{CallRecord, CallerKind};

use propagation::Propagation;
use server::Shared;
use world::World;

/// The attempts an emulator holds the answer of (a `slow` fault), each known by the headers the
/// AWS SDKs send with every attempt of a call: `amz-sdk-invocation-id` (one per call) and
/// `amz-sdk-request` (`attempt=N; max=M`). A test's client can give up on exactly those, as a
/// client timing out would, and on no other, however slow the machine.
#[derive(Debug, Clone)]
pub struct HeldCalls(tokio::sync::watch::Receiver<std::collections::BTreeSet<String>>);

impl HeldCalls {
    /// The key of the attempt `headers` belong to, when they carry the SDK's headers.
    pub fn attempt(headers: &axum::http::HeaderMap) -> Option<String> {
        let header = |name| headers.get(name)?.to_str().ok();
        Some(format!(
            "{} {}",
            header("amz-sdk-invocation-id")?,
            header("amz-sdk-request")?
        ))
    }

    /// Returns once the emulator holds the attempt whose SDK headers are `invocation_id` and
    /// `request` (never, for an attempt it answers).
    pub async fn until_held(&mut self, invocation_id: &str, request: &str) {
        let attempt = format!("{invocation_id} {request}");
        // An error: the emulator is gone, and holds nothing any more.
        if self
            .0
            .wait_for(|held| held.contains(&attempt))
            .await
            .is_err()
        {
            std::future::pending::<()>().await;
        }
    }
}

/// How to start an emulator; [`Emulator::start`] covers the common case.
#[derive(Debug, Clone)]
pub struct Emulator {
    org: Org,
    latency_ms: u64,
    faults: Vec<Fault>,
    throttling: Throttling,
    iam_propagation_delay: Duration,
    organizations_short_pages: Option<u64>,
    caller_credentials: CallerCredentials,
    caller_policy: Option<TemplatePolicy>,
    /// Lambda functions by name, with their environment variables.
    functions: BTreeMap<String, BTreeMap<String, String>>,
}

impl Emulator {
    pub fn new(org: Org) -> Self {
        Self {
            org,
            latency_ms: 0,
            faults: Vec::new(),
            throttling: Throttling::default(),
            iam_propagation_delay: Duration::ZERO,
            organizations_short_pages: None,
            caller_credentials: CallerCredentials::default(),
            caller_policy: None,
            functions: BTreeMap::new(),
        }
    }

    /// Adds `ms` of latency to every AWS response.
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }

    /// The faults armed from the start.
    pub fn faults(mut self, faults: Vec<Fault>) -> Self {
        self.faults = faults;
        self
    }

    /// Throttling limits, as AWS applies them; off unless set (see [`Throttling`]).
    pub fn throttling(mut self, throttling: Throttling) -> Self {
        self.throttling = throttling;
        self
    }

    /// IAM's eventual consistency: for `ms` after a deletion or deactivation, IAM's reads of that
    /// root user still see it as before (the write happened: [`EmulatorHandle::state`] shows it).
    /// 0, the default, makes every write visible at once.
    pub fn iam_propagation_delay_ms(mut self, ms: u64) -> Self {
        self.iam_propagation_delay = Duration::from_millis(ms);
        self
    }

    /// Organizations lists answer short and empty pages (with a `NextToken`, as AWS may), in a
    /// pattern that starts at a place set by `seed`; the last page of a listing is empty.
    /// Clients must page until `NextToken` is absent. Off by default: pages are full.
    pub fn organizations_short_pages(mut self, seed: u64) -> Self {
        self.organizations_short_pages = Some(seed);
        self
    }

    /// The long-term credentials the caller principal signs with; without this,
    /// [`DEFAULT_CALLER_ACCESS_KEY_ID`] and [`DEFAULT_CALLER_SECRET_ACCESS_KEY`]. Every request
    /// must be signed with these or with a root session's credentials.
    pub fn caller_credentials(mut self, credentials: CallerCredentials) -> Self {
        self.caller_credentials = credentials;
        self
    }

    /// Evaluates every request of the caller principal (not root sessions) against the policies
    /// of the Lambda function's role in a SAM/CloudFormation template, as IAM would: calls
    /// they do not allow answer `AccessDenied`. Off by default (the caller may do anything).
    pub fn caller_policy(mut self, template: TemplatePolicy) -> Self {
        self.caller_policy = Some(template);
        self
    }

    /// Declares an EventBridge Scheduler group besides `default` (the org's `schedule_groups`).
    pub fn schedule_group(mut self, name: impl Into<String>) -> Self {
        self.org.schedule_groups.push(name.into());
        self
    }

    /// Whether Security Hub is enabled for the caller (the org's `security_hub_enabled`, on by
    /// default); when not, its calls answer `InvalidAccessException`.
    pub fn security_hub_enabled(mut self, enabled: bool) -> Self {
        self.org.security_hub_enabled = enabled;
        self
    }

    /// Declares an S3 bucket of the caller's (the org's `buckets`).
    pub fn bucket(mut self, name: impl Into<String>) -> Self {
        self.org.buckets.push(name.into());
        self
    }

    /// Deploys a Lambda function of this name in the caller's account, in every region, with
    /// these environment variables: what `GetFunctionConfiguration` answers for it (another
    /// declaration of the name replaces this one). Names and variables are checked as Lambda
    /// checks them when the emulator starts.
    pub fn function<K, V>(
        mut self,
        name: impl Into<String>,
        variables: impl IntoIterator<Item = (K, V)>,
    ) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let variables = variables
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect();
        self.functions.insert(name.into(), variables);
        self
    }

    /// Starts on 127.0.0.1 with a free port.
    pub async fn start(org: Org) -> io::Result<EmulatorHandle> {
        Self::new(org).spawn().await
    }

    /// Starts on `addr`, which must be a loopback address (port 0 picks a free port).
    pub async fn start_on(addr: SocketAddr, org: Org) -> io::Result<EmulatorHandle> {
        Self::new(org).listen(addr).await
    }

    /// Starts this configuration on 127.0.0.1 with a free port.
    pub async fn spawn(self) -> io::Result<EmulatorHandle> {
        self.listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
    }

    /// Starts serving on `addr` (loopback only) until [`EmulatorHandle::shutdown`].
    pub async fn listen(self, addr: SocketAddr) -> io::Result<EmulatorHandle> {
        // The emulator trusts every caller; it must never be reachable from another machine.
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("refusing to listen on {addr}: only loopback addresses are allowed"),
            ));
        }
        self.org
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.throttling
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let caller_policy = self
            .caller_policy
            .map(|template| template.resolve(self.org.caller_account_id()))
            .transpose()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut world = World::new(self.org);
        world
            .functions
            .deploy(self.functions)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        world.faults.replace(self.faults);
        world.throttle.configure(self.throttling);
        world.propagation = Propagation::new(self.iam_propagation_delay);
        world.organizations_short_pages = self.organizations_short_pages;
        world.caller_credentials = self.caller_credentials;
        world.caller_policy = caller_policy;
        let shared = Arc::new(Shared::new(world, self.latency_ms));
        let mut stopping = shared.shutdown.subscribe();
        let app = server::router(shared.clone());
        // Every TCP connection a client opens is counted: how well it reuses its pool.
        let counted = shared.clone();
        let listener = listener.tap_io(move |_| {
            counted.connections.fetch_add(1, Ordering::Relaxed);
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopping.wait_for(|stopped| *stopped).await;
                })
                .await
        });
        Ok(EmulatorHandle { addr, shared, task })
    }
}

/// A running emulator. Dropping it leaves the server running until the runtime stops.
pub struct EmulatorHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<io::Result<()>>,
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` or an SDK's `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The org as it is now (what `/_emulator/state` shows): deletions applied.
    pub fn state(&self) -> Org {
        self.shared.world().org.clone()
    }

    /// Changes the org while the emulator runs, for example a person signing in as root between
    /// a sweeper's audit and its deletion.
    pub fn edit_org(&self, edit: impl FnOnce(&mut Org)) {
        edit(&mut self.shared.world().org);
    }

    /// The credentials the caller principal signs with.
    pub fn caller_credentials(&self) -> CallerCredentials {
        self.shared.world().caller_credentials.clone()
    }

    /// Every AWS call received so far, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared.world().calls.clone()
    }

    /// The TCP connections clients have opened so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Every metric datum stored so far, in order.
    pub fn metrics(&self) -> Vec<MetricDatum> {
        self.shared.world().metrics.clone()
    }

    /// Replaces the armed faults (an empty list clears them).
    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.shared.world().faults.replace(faults);
    }

    /// Replaces the throttling limits (full buckets; the counts of throttled calls stay).
    pub fn set_throttling(&self, throttling: Throttling) {
        self.shared.world().throttle.configure(throttling);
    }

    /// The limits in force, throttled calls per operation, Organizations calls in flight.
    pub fn throttling_stats(&self) -> ThrottlingStats {
        self.shared.world().throttle.stats()
    }

    /// Every EventBridge Scheduler schedule, by region, group and name (fired ones that were
    /// kept after completion included, with `fired_at`).
    pub fn schedules(&self) -> Vec<Schedule> {
        self.shared.world().schedules.all()
    }

    /// The enabled schedules due at `now` (their `at` is not later) that have not fired yet,
    /// earliest first. Nothing changes.
    pub fn due_schedules(&self, now: DateTime<Utc>) -> Vec<Schedule> {
        self.shared.world().schedules.due(now)
    }

    /// Fires every schedule due at `now`, as Scheduler would by then: each is recorded, then
    /// deleted if its `ActionAfterCompletion` is `DELETE`, else kept as completed (it does not
    /// fire again). Nothing is invoked: the caller acts on what fired, for example invokes
    /// rootsweep with each [`FiredSchedule::input`].
    pub fn fire_due_schedules(&self, now: DateTime<Utc>) -> Vec<FiredSchedule> {
        self.shared.world().schedules.fire(now)
    }

    /// Every schedule fired so far, in order.
    pub fn fired_schedules(&self) -> Vec<FiredSchedule> {
        self.shared.world().schedules.fired().to_vec()
    }

    /// Every Security Hub finding imported, as GetFindings answers it (the ASFF document with
    /// what Security Hub fills in: `Region`, `ProcessedAt`, `RecordState`, `Workflow`, ...), in
    /// import order; an update replaces its finding in place.
    pub fn findings(&self) -> Vec<serde_json::Value> {
        self.shared.world().findings.all().to_vec()
    }

    /// Every S3 object, by bucket and key (UTF-8 binary order), with its bytes.
    pub fn objects(&self) -> Vec<S3Object> {
        self.shared.world().objects.values().cloned().collect()
    }

    /// One S3 object, with its bytes.
    pub fn object(&self, bucket: &str, key: &str) -> Option<S3Object> {
        let place = (bucket.to_owned(), key.to_owned());
        self.shared.world().objects.get(&place).cloned()
    }

    /// The calls this emulator holds the answer of (a `slow` fault), for a client to give up on.
    pub fn held_calls(&self) -> HeldCalls {
        HeldCalls(self.shared.held.subscribe())
    }

    /// Every set of credentials AssumeRoot handed out, so a test can check none leaked.
    pub fn issued_credentials(&self) -> Vec<RootSession> {
        self.shared.world().sessions().to_vec()
    }

    /// Stops accepting, cuts pending fault delays short, and waits for open requests to finish.
    pub async fn shutdown(self) -> io::Result<()> {
        self.shared.shutdown.send_replace(true);
        self.task.await.map_err(io::Error::other)?
    }
}
