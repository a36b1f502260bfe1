//! The Lambda entry: event -> run -> summary.

use std::time::{Duration, SystemTime};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tokio::time::Instant;

use crate::budget::Budget;
use crate::engine::{Engine, RunOptions};
use crate::event::{EventError, Invocation, parse_event};
use crate::ports::{Metrics, Organization, RootAccess};
use crate::preflight::PreflightError;
use crate::report::{JsonLines, RecoveryReport, RunSummary};

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

/// The invocation's answer: the run summary, or the follow-up a recovery event scheduled.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Response {
    Run(Box<RunSummary>),
    Recovery(RecoveryReport),
}

impl Response {
    /// The run summary, when the invocation was a run.
    pub fn summary(&self) -> Option<&RunSummary> {
        match self {
            Response::Run(summary) => Some(summary),
            Response::Recovery(_) => None,
        }
    }
}

/// Handles one invocation. The report goes to stdout as JSON lines; the summary is the response.
/// A sweep whose account listing broke off is an invocation error, so that the function's
/// error alarm sees it, after its partial report has been written.
pub async fn handle<O: Organization, R: RootAccess, M: Metrics>(
    engine: &Engine<O, R, M>,
    event: LambdaEvent<Value>,
) -> Result<Response, HandlerError> {
    let invocation = parse_event(event.payload, engine.config().mode)?;
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
        function_arn: Some(event.context.invoked_function_arn.clone()),
    };
    let sink = JsonLines::new(std::io::stdout());
    let request = match invocation {
        Invocation::Recovery(recovery) => {
            let report = engine.follow_recovery(&recovery, options, &sink).await;
            return Ok(Response::Recovery(report));
        }
        Invocation::Run(request) => request,
    };
    // Boxed: the run's future is deep, and the runtime's service would otherwise nest it whole.
    let report = Box::pin(engine.run(&request, options, &sink)).await?;
    match report.summary.listing_error {
        Some(error) => Err(HandlerError::IncompleteListing(error)),
        None => Ok(Response::Run(Box::new(report.summary))),
    }
}
