//! The HTTP front: `/_emulator/*` first, then every other request is an AWS call, routed by the
//! SigV4 credential scope and taken through authentication, faults, and the service.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use chrono::Utc;
use tokio::sync::watch;

use crate::admin;
use crate::error::ApiError;
use crate::faults::FaultKind;
use crate::model::time;
use crate::policy::Request as PolicyRequest;
use crate::protocol::{self, Protocol, Reply};
use crate::services::{Permissions, Service};
use crate::session::Caller;
use crate::sigv4::{self, AuthError, Signer};
use crate::throttle::OrganizationsSlot;
use crate::world::{CallRecord, CallerKind, World, request_id};

/// Far above any real request (PutMetricData allows 1 MB), far below trouble.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub(crate) struct Shared {
    world: Mutex<World>,
    /// Added to every AWS response (`--latency-ms`).
    latency_ms: u64,
    /// Flips to `true` once on shutdown.
    pub shutdown: watch::Sender<bool>,
    /// TCP connections accepted so far.
    pub connections: AtomicU64,
    /// The attempts a `slow` fault holds the answer of, by their SDK headers (see
    /// [`crate::HeldCalls`]).
    pub held: watch::Sender<BTreeSet<String>>,
}

impl Shared {
    pub fn new(world: World, latency_ms: u64) -> Self {
        Self {
            world: Mutex::new(world),
            latency_ms,
            shutdown: watch::Sender::new(false),
            connections: AtomicU64::new(0),
            held: watch::Sender::new(BTreeSet::new()),
        }
    }

    /// The world, even after a panic elsewhere: tests should see what happened, not a poison error.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps `ms`, cut short by shutdown so that a slow fault never holds up a graceful stop.
    async fn pause(&self, ms: u64) {
        if ms == 0 {
            return;
        }
        let mut stopping = self.shutdown.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
            _ = stopping.wait_for(|stopped| *stopped) => {}
        }
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/_emulator", admin::routes())
        .fallback(aws)
        .with_state(shared)
}

async fn aws(State(shared): State<Arc<Shared>>, request: Request) -> Response<Body> {
    let request_id = request_id();
    shared.pause(shared.latency_ms).await;
    let (parts, body) = request.into_parts();
    let signer = Signer::from_headers(&parts.headers);
    let service = signer
        .as_ref()
        .and_then(|s| Service::from_signing_name(&s.service));
    let protocol = Protocol::detect(service, &parts.headers, parts.uri.path());
    let mut record = CallRecord {
        request_id: request_id.clone(),
        time: time::now(),
        service: signer.as_ref().map(|s| s.service.clone()),
        operation: String::new(),
        protocol,
        gzip: protocol::is_gzipped(protocol, &parts.headers),
        caller: CallerKind::Unauthenticated,
        session_account_id: None,
        task_policy: None,
        target_account_id: None,
        status: 0,
        error_code: None,
        fault: None,
        throttled: None,
    };

    let outcome = match (&signer, service) {
        (None, _) => Outcome::error(AuthError::Missing.api_error(protocol)),
        (Some(signer), None) => Outcome::error(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownService",
            format!("service {:?} is not emulated", signer.service),
        )),
        (Some(signer), Some(service)) => match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(body) => {
                serve(
                    &shared,
                    service,
                    signer,
                    protocol,
                    &parts,
                    body,
                    &mut record,
                )
                .await
            }
            Err(e) => Outcome::error(ApiError::validation(format!("cannot read the body: {e}"))),
        },
    };
    let Outcome {
        result,
        hold_ms,
        slot,
    } = outcome;

    record.status = result.as_ref().map_or_else(|e| e.status.as_u16(), |_| 200);
    record.error_code = result.as_ref().err().map(|e| e.code.clone());
    tracing::debug!(
        service = record.service.as_deref().unwrap_or("-"),
        operation = %record.operation,
        status = record.status,
        fault = record.fault.as_deref().unwrap_or("-"),
        "aws call"
    );
    let operation = record.operation.clone();
    shared.world().calls.push(record);
    // A slow fault: the work is done and recorded, only the answer is late.
    if hold_ms > 0
        && let Some(attempt) = crate::HeldCalls::attempt(&parts.headers)
    {
        shared.held.send_modify(|held| {
            held.insert(attempt);
        });
    }
    shared.pause(hold_ms).await;
    let response = protocol::render(protocol, service, &operation, &request_id, result);
    // An Organizations call counts as in flight until its answer is on its way.
    drop(slot);
    response
}

/// What serving a call came to: the result, how long to hold the answer, and the Organizations
/// concurrency slot held meanwhile.
struct Outcome {
    result: Result<Reply, ApiError>,
    hold_ms: u64,
    slot: Option<OrganizationsSlot>,
}

impl Outcome {
    fn error(error: ApiError) -> Self {
        Self {
            result: Err(error),
            hold_ms: 0,
            slot: None,
        }
    }
}

/// Decodes, authenticates, throttles, applies a fault, and calls the service.
async fn serve(
    shared: &Shared,
    service: Service,
    signer: &Signer,
    protocol: Protocol,
    parts: &Parts,
    body: axum::body::Bytes,
    record: &mut CallRecord,
) -> Outcome {
    let decoded = protocol::decode(protocol, service, parts, body.clone());
    if let Ok(request) = &decoded {
        record.operation = request.operation.clone();
    }
    // Authentication comes first: a malformed request that is not signed right is refused for
    // its signature, as AWS does.
    let authenticated = authenticate(&shared.world(), signer, parts, &body);
    let admission = authenticated
        .map_err(|e| e.api_error(protocol))
        .and_then(|caller| {
            let request = decoded?;
            let endpoint = Endpoint {
                region: &signer.region,
                global_sts: sigv4::is_global_sts(&parts.headers),
            };
            let (fault, slot) = admit(
                &mut shared.world(),
                service,
                &endpoint,
                &caller,
                &request,
                record,
            )?;
            Ok((caller, request, fault, slot))
        });
    let (caller, request, fault, slot) = match admission {
        Ok(admitted) => admitted,
        Err(e) => return Outcome::error(e),
    };
    let hold_ms = match fault {
        Some(FaultKind::Latency { ms }) => {
            shared.pause(ms).await;
            0
        }
        Some(FaultKind::Slow { ms }) => ms,
        Some(kind) => match kind.error(service, &request.operation) {
            Some(error) => {
                return Outcome {
                    result: Err(error),
                    hold_ms: 0,
                    slot,
                };
            }
            None => 0,
        },
        None => 0,
    };
    let mut world = shared.world();
    // The region is all a permission check needs of the endpoint.
    let endpoint = Endpoint {
        region: &signer.region,
        global_sts: false,
    };
    let may_list_bucket = service == Service::S3
        && caller_may(
            &world,
            &endpoint,
            &caller,
            crate::services::s3::list_bucket_request(&request.input),
        );
    let result = service.call(
        &mut world,
        &caller,
        &signer.region,
        &request.operation,
        &request.input,
        Permissions { may_list_bucket },
        time::now(),
    );
    drop(world);
    Outcome {
        result,
        hold_ms,
        slot,
    }
}

/// The caller whose credentials signed the request, once its signature checks out.
fn authenticate(
    world: &World,
    signer: &Signer,
    parts: &Parts,
    body: &[u8],
) -> Result<Caller, AuthError> {
    let token = parts
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    let (caller, secret) = world.authenticate(&signer.access_key_id, token, time::now())?;
    sigv4::verify(parts, body, &secret, Utc::now())?;
    Ok(caller)
}

/// Where a request was sent: the region it was signed for, and whether to STS's global endpoint.
struct Endpoint<'a> {
    region: &'a str,
    global_sts: bool,
}

/// Lets an authenticated call past the throttling limits and the caller's policy, and takes the
/// fault that applies to it, noting each step in the call's record.
fn admit(
    world: &mut World,
    service: Service,
    endpoint: &Endpoint,
    caller: &Caller,
    request: &protocol::Request,
    record: &mut CallRecord,
) -> Result<(Option<FaultKind>, Option<OrganizationsSlot>), ApiError> {
    (record.caller, record.session_account_id, record.task_policy) = match caller {
        Caller::Principal { .. } => (CallerKind::Principal, None, None),
        Caller::Root(session) => (
            CallerKind::RootSession,
            Some(session.account_id.clone()),
            Some(session.task_policy),
        ),
    };
    let target = service.target_account(&request.operation, &request.input, caller);
    record.target_account_id = target.clone();
    // "The STS global endpoint is not supported for AssumeRoot" (STS API reference,
    // AssumeRoot); the global endpoint answers it as an action it does not know (seen with
    // boto3 on the legacy global endpoint, boto/boto3#4461).
    if service == Service::Sts && request.operation == "AssumeRoot" && endpoint.global_sts {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "Unknown Operation",
        ));
    }
    // Throttling comes before anything the call could do, as AWS's front ends apply it.
    let slot = world
        .throttle
        .admit(
            service,
            &request.operation,
            caller.account_id(),
            Instant::now(),
        )
        .map_err(|limit| {
            record.throttled = Some(limit);
            limit.error()
        })?;
    authorize(world, service, endpoint, caller, request)?;
    let fault = world.faults.take(&request.operation, target.as_deref());
    record.fault = fault.map(|kind| kind.name().to_owned());
    Ok((fault, slot))
}

/// Evaluates a call of the caller principal against its policy, when the run has one.
fn authorize(
    world: &World,
    service: Service,
    endpoint: &Endpoint,
    caller: &Caller,
    request: &protocol::Request,
) -> Result<(), ApiError> {
    let (Some(policy), Caller::Principal { account_id }) = (&world.caller_policy, caller) else {
        return Ok(());
    };
    let wanted = service.authorization(
        &request.operation,
        &request.input,
        &world.org,
        endpoint.region,
    );
    // A call acting on several resources needs every one allowed.
    for wanted in wanted.into_iter().flatten() {
        policy
            .check(
                &caller.arn(),
                &with_global_keys(wanted, account_id, caller, endpoint),
            )
            .map_err(|message| service.access_denied(message))?;
    }
    Ok(())
}

/// The global condition keys of every request ("AWS global condition context keys").
fn with_global_keys(
    mut request: PolicyRequest,
    account_id: &str,
    caller: &Caller,
    endpoint: &Endpoint,
) -> PolicyRequest {
    request.context.extend(
        [
            ("aws:PrincipalAccount", account_id.to_owned()),
            ("aws:PrincipalArn", caller.role_arn()),
            ("aws:PrincipalType", "AssumedRole".to_owned()),
            ("aws:RequestedRegion", endpoint.region.to_owned()),
            // AWS is only reached over HTTPS; the loopback HTTP stands in for it.
            ("aws:SecureTransport", "true".to_owned()),
        ]
        .map(|(key, value)| (key.to_owned(), value)),
    );
    request
}

/// Whether the caller's policy (when the run has one) allows `request`, as [`authorize`] checks
/// a call: for the answers that depend on a permission the call itself does not need.
fn caller_may(world: &World, endpoint: &Endpoint, caller: &Caller, request: PolicyRequest) -> bool {
    match (&world.caller_policy, caller) {
        (Some(policy), Caller::Principal { account_id }) => policy
            .check(
                &caller.arn(),
                &with_global_keys(request, account_id, caller, endpoint),
            )
            .is_ok(),
        _ => true,
    }
}
