//! `/_emulator/*`: what tests and demos read and steer. Not AWS; never signed.
//!
//! # Requests
//!
//! | Request | Answer |
//! | --- | --- |
//! | `GET /_emulator/state` | the org as it is now, in the org file format (absolute times) |
//! | `GET /_emulator/calls` | every call: `request_id`, `time`, `service`, `operation`, `protocol` (`query`, `awsJson1_0`, `awsJson1_1`, `rpcv2Cbor`, `restJson1`, `restXml`), `gzip` (not for REST services), `caller` (`principal`, `root_session`, `unauthenticated`), `session_account_id`, `task_policy`, `target_account_id`, `status`, `error_code`, `fault`, `throttled`. No credentials. |
//! | `GET /_emulator/metrics` | every stored datum: `namespace`, `metric_name`, `dimensions` [{`name`,`value`}], `timestamp`, `value`, `values`, `counts`, `statistic_values` {`sample_count`,`sum`,`minimum`,`maximum`}, `unit`, `storage_resolution` |
//! | `GET /_emulator/objects` | every S3 object without its bytes: `bucket`, `key`, `size`, `etag`, `content_type`, `content_encoding`, `metadata`, `checksum_algorithm`, `checksum`, `last_modified` |
//! | `GET /_emulator/objects/BUCKET/KEY` | the object's bytes as stored, with its content type; 404 when there is none |
//! | `PUT /_emulator/objects/BUCKET/KEY` | replaces an existing object's bytes with the body (a new ETag, as a put would; what a bench does to let days pass): 204, or 404 |
//! | `GET /_emulator/findings` | every Security Hub finding, as GetFindings answers it, in import order |
//! | `GET /_emulator/schedules` | every Scheduler schedule (`Schedule`'s fields, snake_case, times RFC 3339) |
//! | `GET /_emulator/schedules/due?now=T` | the schedules due at `T` (RFC 3339; now when absent), earliest first |
//! | `POST /_emulator/schedules/fire?now=T` | fires the schedules due at `T` (see EventBridge Scheduler): the fired ones (`FiredSchedule`'s fields) |
//! | `GET /_emulator/schedules/fired` | every schedule fired so far |
//! | `POST /_emulator/faults` | replaces the fault list with the JSON array in the body: 204, or 400 with the reason |
//! | `DELETE /_emulator/faults` | clears the faults: 204 |
//! | `GET /_emulator/throttling` | `config` (the limits), `throttled` {operation: count}, `organizations_in_flight` |
//! | `POST /_emulator/throttling` | replaces the limits with the JSON object in the body (`{}`: none): 204, or 400 with the reason |

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::faults::Fault;
use crate::model::time;
use crate::server::Shared;
use crate::throttle::Throttling;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/state", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().org.clone()) }))
        .route("/calls", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().calls.clone()) }))
        .route("/metrics", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().metrics.clone()) }))
        .route("/throttling", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().throttle.stats()) }).post(set_throttling))
        .route("/stats", get(stats))
        .route("/objects", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().objects.values().cloned().collect::<Vec<_>>()) }))
        .route("/objects/{bucket}/{*key}", get(object).put(rewrite_object))
        .route("/findings", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().findings.all().to_vec()) }))
        .route("/schedules", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().schedules.all()) }))
        .route("/schedules/fired", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().schedules.fired().to_vec()) }))
        .route("/schedules/due", get(|State(shared): State<Arc<Shared>>, Query(at): Query<At>| async move {
            at.time().map(|now| Json(shared.world().schedules.due(now)))
        }))
        .route("/schedules/fire", post(|State(shared): State<Arc<Shared>>, Query(at): Query<At>| async move {
            at.time().map(|now| Json(shared.world().schedules.fire(now)))
        }))
        .route(
            "/faults",
            axum::routing::post(set_faults).delete(|State(shared): State<Arc<Shared>>| async move {
                shared.world().faults.replace(Vec::new());
                StatusCode::NO_CONTENT
            }),
        )
}

/// What a benchmark reads: connections accepted, calls and throttled calls by operation, and
/// the root sessions issued, by member account.
async fn stats(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let connections = shared
        .connections
        .load(std::sync::atomic::Ordering::Relaxed);
    let world = shared.world();
    let mut calls = std::collections::BTreeMap::<&str, u64>::new();
    for call in &world.calls {
        *calls.entry(call.operation.as_str()).or_default() += 1;
    }
    let mut root_sessions = std::collections::BTreeMap::<&str, u64>::new();
    for session in world.sessions() {
        *root_sessions
            .entry(session.account_id.as_str())
            .or_default() += 1;
    }
    Json(serde_json::json!({
        "connections": connections,
        "calls": calls,
        "throttled": world.throttle.stats().throttled,
        "root_sessions": root_sessions,
    }))
}

/// `?now=<RFC 3339 time>`: the time to take schedules as due at; now when absent.
#[derive(Debug, Deserialize)]
struct At {
    now: Option<String>,
}

impl At {
    fn time(&self) -> Result<DateTime<Utc>, (StatusCode, String)> {
        let Some(text) = &self.now else {
            return Ok(time::now());
        };
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("invalid now {text:?}: {e}\n"),
                )
            })
    }
}

/// An S3 object's bytes as stored (a gzipped object stays gzipped), with its content type.
async fn object(
    State(shared): State<Arc<Shared>>,
    Path((bucket, key)): Path<(String, String)>,
) -> Response {
    match shared.world().objects.get(&(bucket, key)) {
        Some(object) => (
            [(header::CONTENT_TYPE, object.content_type.clone())],
            object.body.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such object\n").into_response(),
    }
}

async fn rewrite_object(
    State(shared): State<Arc<Shared>>,
    Path((bucket, key)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    match shared.world().objects.get_mut(&(bucket, key)) {
        Some(object) => {
            object.rewrite(body.to_vec(), Utc::now());
            StatusCode::NO_CONTENT.into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such object\n").into_response(),
    }
}

/// Replaces the fault list with the JSON array in the body.
async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Vec<Fault>>(&body) {
        Ok(faults) => {
            shared.world().faults.replace(faults);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("invalid fault list: {e}\n"),
        )
            .into_response(),
    }
}

/// Replaces the throttling limits with the JSON object in the body.
async fn set_throttling(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<Throttling>(&body)
        .map_err(|e| e.to_string())
        .and_then(|throttling| throttling.validate().map(|()| throttling));
    match parsed {
        Ok(throttling) => {
            shared.world().throttle.configure(throttling);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("invalid throttling: {e}\n"),
        )
            .into_response(),
    }
}
