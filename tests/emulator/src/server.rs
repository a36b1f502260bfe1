//! The HTTP front: `/_emulator/*` first, then every other request is an AWS call, routed by the
//! SigV4 credential scope and taken through authentication, faults, and the service.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use tokio::sync::watch;

use crate::admin;
use crate::error::ApiError;
use crate::faults::FaultKind;
use crate::model::time;
use crate::protocol::{self, Protocol, Reply};
use crate::services::Service;
use crate::session::Caller;
use crate::sigv4::Signer;
use crate::world::{CallRecord, CallerKind, World, request_id};

/// Far above any real request (PutMetricData allows 1 MB), far below trouble.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub(crate) struct Shared {
    world: Mutex<World>,
    /// Added to every AWS response (`--latency-ms`).
    latency_ms: u64,
    /// Flips to `true` once on shutdown.
    pub shutdown: watch::Sender<bool>,
}

impl Shared {
    pub fn new(world: World, latency_ms: u64) -> Self {
        Self {
            world: Mutex::new(world),
            latency_ms,
            shutdown: watch::Sender::new(false),
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
    let protocol = Protocol::detect(&parts.headers, parts.uri.path());
    let signer = Signer::from_headers(&parts.headers);
    let service = signer
        .as_ref()
        .and_then(|s| Service::from_signing_name(&s.service));
    let mut record = CallRecord {
        request_id: request_id.clone(),
        time: time::now(),
        service: signer.as_ref().map(|s| s.service.clone()),
        operation: String::new(),
        protocol,
        gzip: protocol::is_gzipped(&parts.headers),
        caller: CallerKind::Unauthenticated,
        session_account_id: None,
        task_policy: None,
        target_account_id: None,
        status: 0,
        error_code: None,
        fault: None,
    };

    let (result, hold_ms) = match (&signer, service) {
        (None, _) => (Err(ApiError::missing_authentication()), 0),
        (Some(signer), None) => (
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "UnknownService",
                format!("service {:?} is not emulated", signer.service),
            )),
            0,
        ),
        (Some(signer), Some(service)) => {
            let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
            match body {
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
                Err(e) => (
                    Err(ApiError::validation(format!("cannot read the body: {e}"))),
                    0,
                ),
            }
        }
    };

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
    shared.pause(hold_ms).await;
    protocol::render(protocol, service, &operation, &request_id, result)
}

/// Decodes, authenticates, applies a fault, and calls the service. Returns the result and how
/// long to hold the answer.
async fn serve(
    shared: &Shared,
    service: Service,
    signer: &Signer,
    protocol: Protocol,
    parts: &Parts,
    body: axum::body::Bytes,
    record: &mut CallRecord,
) -> (Result<Reply, ApiError>, u64) {
    let request = match protocol::decode(protocol, service, &parts.headers, parts.uri.path(), body)
    {
        Ok(request) => request,
        Err(e) => return (Err(e), 0),
    };
    record.operation = request.operation.clone();
    let token = parts
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());

    let admitted = {
        let mut world = shared.world();
        world
            .authenticate(&signer.access_key_id, token, time::now())
            .map(|caller| {
                let target = service.target_account(&request.operation, &request.input, &caller);
                let fault = world.faults.take(&request.operation, target.as_deref());
                (caller, target, fault)
            })
    };
    let (caller, target, fault) = match admitted {
        Ok(admitted) => admitted,
        Err(e) => return (Err(e), 0),
    };
    (record.caller, record.session_account_id, record.task_policy) = match &caller {
        Caller::Principal { .. } => (CallerKind::Principal, None, None),
        Caller::Root(session) => (
            CallerKind::RootSession,
            Some(session.account_id.clone()),
            Some(session.task_policy),
        ),
    };
    record.target_account_id = target;
    record.fault = fault.map(|kind| kind.name().to_owned());

    let mut hold_ms = 0;
    match fault {
        Some(FaultKind::Latency { ms }) => shared.pause(ms).await,
        Some(FaultKind::Slow { ms }) => hold_ms = ms,
        Some(kind) => {
            if let Some(error) = kind.error(service, &request.operation) {
                return (Err(error), 0);
            }
        }
        None => {}
    }
    let result = service.call(
        &mut shared.world(),
        &caller,
        &request.operation,
        &request.input,
        time::now(),
    );
    (result, hold_ms)
}
