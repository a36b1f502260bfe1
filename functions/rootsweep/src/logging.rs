//! Logging for both binaries. rootsweep's own logs follow the level the operator asks for; the
//! AWS SDK's, the HTTP stack's and the Lambda runtime's never go below INFO, whatever is asked:
//! at DEBUG the SDK logs the identity each request is signed with (a root session's access key
//! id), and at TRACE the signing details and headers (the session token); at TRACE
//! `lambda_runtime` logs each raw event, and the CloudTrail record of a password recovery holds
//! that session's key id and token. Credentials must never reach a log.

use std::io::IsTerminal;

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// Crates whose verbose logs carry request identities, signatures, headers or raw events
/// (`lambda_runtime` and `lambda_runtime_api_client`).
const SDK_TARGETS: [&str; 6] = ["aws_", "hyper", "h2", "rustls", "tower", "lambda_runtime"];

fn below_info_from_the_sdk(meta: &Metadata<'_>) -> bool {
    *meta.level() > Level::INFO
        && SDK_TARGETS
            .iter()
            .any(|prefix| meta.target().starts_with(prefix))
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, for CloudWatch Logs (Lambda's JSON log format).
    Json,
    /// Plain text, no colour codes: for CloudWatch, files and pipes.
    Text,
    /// Text with colour, for a terminal.
    Terminal,
}

/// A subscriber writing to `writer` at the level `directives` asks for (`RUST_LOG` syntax;
/// `default` when absent), with the SDK capped at INFO.
pub fn subscriber<W>(
    writer: W,
    directives: Option<&str>,
    default: LevelFilter,
    format: Format,
) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let requested = EnvFilter::builder()
        .with_default_directive(default.into())
        .parse_lossy(directives.unwrap_or_default());
    let filter = requested.and(filter_fn(|meta| !below_info_from_the_sdk(meta)));
    let lines = tracing_subscriber::fmt::layer().with_writer(writer);
    let layer = match format {
        // Lambda stamps every line itself.
        Format::Json => lines.json().without_time().with_target(false).boxed(),
        Format::Text => lines.with_ansi(false).boxed(),
        Format::Terminal => lines.with_ansi(true).boxed(),
    };
    Registry::default().with(layer.with_filter(filter))
}

/// The Lambda function: stdout, with Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`,
/// else `RUST_LOG`, default INFO; `AWS_LAMBDA_LOG_FORMAT=JSON`) read as `lambda_runtime` does.
pub fn init_lambda() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let format = match std::env::var("AWS_LAMBDA_LOG_FORMAT") {
        Ok(f) if f.eq_ignore_ascii_case("json") => Format::Json,
        _ => Format::Text,
    };
    subscriber(std::io::stdout, level.as_deref(), LevelFilter::INFO, format).init();
}

/// The operator CLI: stderr (stdout is for results), `RUST_LOG`, default WARN; `verbose` adds
/// rootsweep's DEBUG lines (the AWS SDK's own account of a failure among them), unless
/// `RUST_LOG` says otherwise.
pub fn init_cli(verbose: bool) {
    let directives = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| verbose.then(|| "warn,rootsweep=debug".to_owned()));
    let format = if std::io::stderr().is_terminal() {
        Format::Terminal
    } else {
        Format::Text
    };
    subscriber(
        std::io::stderr,
        directives.as_deref(),
        LevelFilter::WARN,
        format,
    )
    .init();
}
