//! The Lambda Runtime API, enough to run the real function binary (`rootsweep-lambda`, built on
//! the `lambda_runtime` crate) in a test: it polls `GET /2018-06-01/runtime/invocation/next` and
//! posts its answer to `.../invocation/{id}/response` or `/error`, as on AWS Lambda
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>). [`RuntimeApi::invoke`]
//! hands it one event and waits for that answer.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};

use crate::capture::FUNCTION_ARN;

/// What the function answered to one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Posted to `/response`: the handler's result.
    Response(Value),
    /// Posted to `/error`: `errorType` and `errorMessage`.
    Error(Value),
}

#[derive(Default)]
struct Invocations {
    waiting: Mutex<VecDeque<(String, Value)>>,
    arrived: Notify,
    answers: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A Runtime API on 127.0.0.1, serving until its runtime stops.
pub struct RuntimeApi {
    address: String,
    invocations: Arc<Invocations>,
    invoked: AtomicU64,
}

/// Each invocation's deadline: the template's function timeout.
const TIMEOUT: Duration = Duration::from_secs(900);

impl RuntimeApi {
    pub async fn start() -> Self {
        let invocations = Arc::new(Invocations::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/{outcome}",
                post(answer),
            )
            .with_state(invocations.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("bound").to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            address,
            invocations,
            invoked: AtomicU64::new(0),
        }
    }

    /// `host:port`, for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Hands `event` to the function and waits for its answer: at most [`TIMEOUT`], Lambda's
    /// own limit, so that a function that never answers fails the test instead of hanging it.
    pub async fn invoke(&self, event: Value) -> Answer {
        let id = format!(
            "invocation-{}",
            self.invoked.fetch_add(1, Ordering::Relaxed) + 1
        );
        let (answered, answer) = oneshot::channel();
        lock(&self.invocations.answers).insert(id.clone(), answered);
        lock(&self.invocations.waiting).push_back((id, event));
        self.invocations.arrived.notify_one();
        tokio::time::timeout(TIMEOUT, answer)
            .await
            .expect("the function answers within its timeout")
            .expect("the function answers")
    }

    /// The function binary, as Lambda starts it: the Runtime API's address, the function's
    /// settings, and `environment` (its configuration and AWS access), nothing else. Its
    /// stdout (the function's logs and report lines) is piped.
    pub fn start_function<K, V>(
        &self,
        binary: &Path,
        environment: impl IntoIterator<Item = (K, V)>,
    ) -> Child
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        Command::new(binary)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &self.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "rootsweep-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .envs(environment)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the function binary starts")
    }
}

async fn next(State(invocations): State<Arc<Invocations>>) -> (HeaderMap, String) {
    let (id, event) = loop {
        let arrived = invocations.arrived.notified();
        if let Some(waiting) = lock(&invocations.waiting).pop_front() {
            break waiting;
        }
        arrived.await;
    };
    let deadline = SystemTime::now() + TIMEOUT;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id),
        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            FUNCTION_ARN.to_owned(),
        ),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).expect("a header value"));
    }
    (headers, event.to_string())
}

async fn answer(
    State(invocations): State<Arc<Invocations>>,
    UrlPath((id, outcome)): UrlPath<(String, String)>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = match outcome.as_str() {
        "response" => Answer::Response(value),
        "error" => Answer::Error(value),
        _ => return StatusCode::NOT_FOUND,
    };
    match lock(&invocations.answers).remove(&id) {
        Some(waiting) => {
            let _ = waiting.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}
