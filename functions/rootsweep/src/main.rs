//! The Lambda function: configuration is read once at start; each invocation is one sweep.

use lambda_runtime::{Error, service_fn};
use rootsweep::{Config, app, aws, lambda, logging};

// One thread: a sweep waits on AWS, paced by its AssumeRoot rate, and at the default 256 MB
// Lambda gives about a seventh of a vCPU (a whole one at 1,769 MB). Two worker threads only
// add wake-ups between them, and more CPU per AWS call (`make bench`; the figures are in
// tests/bench/README.md, "Where the CPU went").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    logging::init_lambda();
    let config =
        Config::from_env().inspect_err(|err| tracing::error!(error = %err, "bad configuration"))?;
    let sdk = aws::load_sdk_config(None, None).await;
    let engine = app::sdk_engine(config, &sdk, true);
    lambda_runtime::run(service_fn(|event| lambda::handle(&engine, event))).await
}
