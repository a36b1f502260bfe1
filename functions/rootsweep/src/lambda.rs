//! The Lambda entry: event -> run -> summary.

use std::time::SystemTime;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tokio::time::Instant;

use crate::aws::metrics::Metrics;
use crate::aws::organization::Organization;
use crate::aws::root_session::RootAccess;
use crate::event::{EventError, parse_event};
use crate::preflight::PreflightError;
use crate::report::{JsonLines, RunSummary};
use crate::sweep::{RunOptions, Sweeper};

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("rejected event, nothing done: {0}")]
    Event(#[from] EventError),
    #[error("preflight failed, nothing done: {0}")]
    Preflight(#[from] PreflightError),
    #[error("incomplete sweep: {0}")]
    IncompleteListing(String),
}

impl From<HandlerError> for Diagnostic {
    fn from(err: HandlerError) -> Self {
        let error_type = match err {
            HandlerError::Event(_) => "RootsweepEventError",
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
    sweeper: &Sweeper<O, R, M>,
    event: LambdaEvent<Value>,
) -> Result<RunSummary, HandlerError> {
    let request = parse_event(event.payload, sweeper.config().mode)?;
    let remaining = event
        .context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let options = RunOptions {
        run_id: event.context.request_id.clone(),
        deadline: Some(Instant::now() + remaining),
    };
    let report = sweeper
        .run(&request, options, &JsonLines::new(std::io::stdout()))
        .await?;
    match report.summary.listing_error {
        Some(error) => Err(HandlerError::IncompleteListing(error)),
        None => Ok(report.summary),
    }
}
