//! Logging for both binaries: the AWS SDK, the HTTP stack and the Lambda runtime never log below
//! INFO, whatever the operator asks for, because their DEBUG and TRACE lines name the signing
//! identity or hold the raw event.

use rootsweep::logging::{Format, subscriber};
use rootsweep_testkit::capture::Captured;
use tracing_subscriber::filter::LevelFilter;

fn logged_at(directives: &str) -> String {
    let captured = Captured::default();
    let subscriber = subscriber(
        captured.clone(),
        Some(directives),
        LevelFilter::INFO,
        Format::Text,
    );
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(target: "aws_smithy_runtime::client::orchestrator::auth", "identity ASIASESSIONKEY");
        tracing::trace!(target: "aws_sigv4::http_request::sign", "x-amz-security-token:SESSIONTOKEN");
        tracing::trace!(target: "lambda_runtime::layers::api_response", body = r#"{"sessionToken":"RECOVERYTOKEN"}"#, "raw JSON event received from Lambda");
        tracing::info!(target: "aws_config", "profile loaded");
        tracing::debug!(target: "rootsweep::engine", "own debug line");
    });
    captured.text()
}

#[test]
fn the_sdk_never_logs_below_info_whatever_the_operator_asks() {
    for directives in [
        "trace",
        "debug",
        "aws_smithy_runtime=trace,aws_sigv4=trace",
        "rootsweep=debug,aws_config=trace",
        "lambda_runtime=trace",
    ] {
        let text = logged_at(directives);
        assert!(!text.contains("ASIASESSIONKEY"), "{directives}: {text}");
        assert!(!text.contains("SESSIONTOKEN"), "{directives}: {text}");
        assert!(!text.contains("RECOVERYTOKEN"), "{directives}: {text}");
    }
    // The SDK's INFO and rootsweep's own DEBUG lines still come through when asked for.
    let debug = logged_at("debug");
    assert!(
        debug.contains("profile loaded") && debug.contains("own debug line"),
        "{debug}"
    );
    assert!(!logged_at("info").contains("own debug line"));
}
