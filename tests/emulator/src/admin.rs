//! `/_emulator/*`: what tests and demos read and steer. Not AWS; never signed.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;

use crate::faults::Fault;
use crate::server::Shared;
use crate::throttle::Throttling;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/state", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().org.clone()) }))
        .route("/calls", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().calls.clone()) }))
        .route("/metrics", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().metrics.clone()) }))
        .route("/throttling", get(|State(shared): State<Arc<Shared>>| async move { Json(shared.world().throttle.stats()) }).post(set_throttling))
        .route("/stats", get(stats))
        .route(
            "/faults",
            axum::routing::post(set_faults).delete(|State(shared): State<Arc<Shared>>| async move {
                shared.world().faults.replace(Vec::new());
                StatusCode::NO_CONTENT
            }),
        )
}

/// What a benchmark reads: connections accepted, and calls and throttled calls by operation.
async fn stats(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let connections = shared
        .connections
        .load(std::sync::atomic::Ordering::Relaxed);
    let world = shared.world();
    let mut calls = std::collections::BTreeMap::<&str, u64>::new();
    for call in &world.calls {
        *calls.entry(call.operation.as_str()).or_default() += 1;
    }
    Json(serde_json::json!({
        "connections": connections,
        "calls": calls,
        "throttled": world.throttle.stats().throttled,
    }))
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
