//! Report lines and logs captured in memory, and a Lambda event as the runtime hands it over.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rootsweep::engine::{Engine, RunOptions};
use rootsweep::event::RunRequest;
use rootsweep::ports::{Metrics, Organization, RootAccess};
use rootsweep::preflight::PreflightError;
use rootsweep::report::{JsonLines, Report};
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// What one run produced: its result, and every line its `JsonLines` sink wrote.
pub struct Run {
    pub result: Result<Report, PreflightError>,
    pub lines: Vec<Value>,
}

impl Run {
    /// The report, for a run that passed its preflight.
    pub fn report(&self) -> &Report {
        match &self.result {
            Ok(report) => report,
            Err(err) => panic!("the run stopped at its preflight: {err}"),
        }
    }
}

/// One run of `engine`, its report lines captured.
pub async fn run<O: Organization, R: RootAccess, M: Metrics>(
    engine: &Engine<O, R, M>,
    request: &RunRequest,
    options: RunOptions,
) -> Run {
    let sink = JsonLines::new(Vec::new());
    let result = engine.run(request, options, &sink).await;
    Run {
        result,
        lines: parse_lines(&sink.into_inner()),
    }
}

/// The function a test run says it is, for the follow-ups it schedules.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:999999999999:function:rootsweep";

/// Options for a test run without a deadline, as the Lambda would run it.
pub fn options() -> RunOptions {
    RunOptions {
        run_id: "test-run".into(),
        deadline: None,
        function_arn: Some(FUNCTION_ARN.into()),
    }
}

pub fn parse_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each report line is JSON"))
        .collect()
}

/// Everything written to it, shared with the test: a log destination.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A `LambdaEvent` as the Lambda runtime hands it over, `left` before the deadline.
pub fn lambda_event(payload: Value, left: Duration) -> lambda_runtime::LambdaEvent<Value> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "test-lambda-request".into();
    context.invoked_function_arn =
        "arn:aws:lambda:us-east-1:999999999999:function:rootsweep-test".into();
    let deadline = std::time::SystemTime::now() + left;
    context.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    lambda_runtime::LambdaEvent::new(payload, context)
}
