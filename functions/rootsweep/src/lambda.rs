//! The Lambda entry: event -> run -> summary.

use std::time::{Duration, SystemTime};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tokio::time::Instant;

use crate::budget::Budget;
use crate::engine::{Engine, RunOptions};
use crate::event::{EventError, parse_event};
use crate::ports::{Metrics, Organization, RootAccess};
use crate::preflight::PreflightError;
use crate::report::{JsonLines, RunSummary};

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("rejected event, nothing done: {0}")]
    Event(#[from] EventError),
    #[error(
        "nothing done: the invocation had {}s left at its start, not more than the {}s before its deadline at which a run stops starting accounts. Set the function's Timeout to at least {}s (900s is recommended)",
        .0.as_secs(), Budget::STOP_STARTING_BEFORE_DEADLINE.as_secs(), 2 * Budget::STOP_STARTING_BEFORE_DEADLINE.as_secs()
    )]
    TimeoutTooShort(Duration),
    #[error("preflight failed, nothing done: {0}")]
    Preflight(#[from] PreflightError),
    #[error("incomplete sweep: {0}")]
    IncompleteListing(String),
}

impl From<HandlerError> for Diagnostic {
    fn from(err: HandlerError) -> Self {
        let error_type = match err {
            HandlerError::Event(_) => "RootsweepEventError",
            HandlerError::TimeoutTooShort(_) => "RootsweepTimeoutTooShort",
            HandlerError::Preflight(_) => "RootsweepPreflightError",
            HandlerError::IncompleteListing(_) => "RootsweepIncompleteSweep",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: err.to_string(),
        }
    }
}

/// Handles one invocation. The report goes to stdout as JSON lines; the summary is the response.
/// A sweep whose account listing broke off is an invocation error, so that the function's
/// error alarm sees it, after its partial report has been written.
pub async fn handle<O: Organization, R: RootAccess, M: Metrics>(
    engine: &Engine<O, R, M>,
    event: LambdaEvent<Value>,
) -> Result<RunSummary, HandlerError> {
    let request = parse_event(event.payload, engine.config().mode)?;
    let remaining = event
        .context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let deadline = Instant::now() + remaining;
    if !Budget::new(Some(deadline)).leaves_room_to_start() {
        return Err(HandlerError::TimeoutTooShort(remaining));
    }
    let options = RunOptions {
        run_id: event.context.request_id.clone(),
        deadline: Some(deadline),
    };
    // Boxed: the run's future is deep, and the runtime's service would otherwise nest it whole.
    let report =
        Box::pin(engine.run(&request, options, &JsonLines::new(std::io::stdout()))).await?;
    match report.summary.listing_error {
        Some(error) => Err(HandlerError::IncompleteListing(error)),
        None => Ok(report.summary),
    }
}
